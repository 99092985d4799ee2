import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeOnBackends, GROUP, seedCases, startHarness, uid, USERS, type Harness, toBot, until } from '../support/harness.ts';
import { findButton } from '../support/lark/cards.ts';
import type { MessageSpec } from '../support/lark/events.ts';
import { DataDirLockedError } from '../../src/storage/lock-file.ts';

// Banli is restarted with answers still waiting for Lark, and runs as two instances on one PostgreSQL: neither may
// lose an answer, send one twice, or apply an event twice.

type Db = Harness['service']['database']['db'];

async function botKnown(h: Harness): Promise<void> {
  await h.lark.waitFor((l) => l.requests.filter((r) => r.path === '/open-apis/bot/v3/info' && r.status === 200).length > 0);
  await new Promise((r) => setTimeout(r, 200));
}

async function caseRow(db: Db, caseNo: string) {
  return db.selectFrom('cases').selectAll().where('case_no', '=', caseNo).executeTakeFirstOrThrow();
}

async function claimsOf(db: Db, caseNo: string) {
  const { id } = await caseRow(db, caseNo);
  return db.selectFrom('case_events').selectAll().where('case_id', '=', id).where('type', '=', 'claimed').execute();
}

describeOnBackends('transport: a restart with answers still in the outbox', (backend) => {
  let first: Harness | undefined;
  let second: Harness | undefined;
  let drop: () => Promise<void>;
  let database: { url?: string; dataDir: string };
  beforeAll(async () => {
    const created = await createTestDatabase(backend);
    drop = created.drop;
    database = created;
    first = await startHarness({ database, today: '2024-03-21' });
    await seedCases(first, [{ caseNo: '20240590' }, { caseNo: '20240591' }, { caseNo: '20240592' }, { caseNo: '20240593' }]);
    await botKnown(first);
  });
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    await (second ?? first)?.lark.close();
    await drop?.();
  });

  it('Lark is down, Banli is restarted, Lark comes back: every answer arrives exactly once and nothing is applied twice', async () => {
    const h1 = first!;
    const lark = h1.lark;
    // One answer that went out just before the restart, whose "sent" mark is then lost (a crash between Lark's OK
    // and our commit): after the restart it is sent again with the same uuid, and Lark keeps the one message.
    const early = toBot(h1, USERS.wang.openId, '认领 20240593');
    await h1.events.message(early);
    const earlyMsg = await lark.waitFor((l) => l.sent.find((s) => s.replyTo === early.messageId));
    const earlyRow = await until('the early answer recorded', async () => {
      const r = await h1.service.database.db.selectFrom('outbox').selectAll().where('reply_to', '=', early.messageId!).executeTakeFirst();
      return r?.status === 'sent' ? r : undefined;
    });

    lark.failFor(120_000, { status: 503 });
    const specs = [
      toBot(h1, USERS.zhang.openId, '认领 20240590'),
      toBot(h1, USERS.li.openId, '认领 20240591'),
      toBot(h1, USERS.wang.openId, '20240592', { chatId: 'oc_group_cards' }),
      toBot(h1, USERS.zhang.openId, '帮助', { chatId: 'oc_group_help' }),
    ];
    for (const spec of specs) await h1.events.message(spec);
    const db1 = h1.service.database.db;
    await until('every answer queued and tried', async () => {
      const rows = await db1.selectFrom('outbox').selectAll().where('reply_to', 'in', specs.map((s) => s.messageId!)).execute();
      return rows.length === specs.length && rows.filter((r) => r.attempts >= 1).length >= 3;
    });
    const pendingBefore = await db1.selectFrom('outbox').selectAll().where('reply_to', 'in', specs.map((s) => s.messageId!)).orderBy('id').execute();
    expect(pendingBefore.map((r) => r.status)).toEqual(['pending', 'pending', 'pending', 'pending']);
    for (const row of pendingBefore) expect(lark.sent.filter((s) => s.uuid === row.uuid)).toEqual([]);

    await h1.stop();
    first = undefined;
    // The crash between send and record, played back on the stopped database through the next instance's handle.
    second = await startHarness({ database, lark, today: '2024-03-21' });
    const h2 = second;
    const db2 = h2.service.database.db;
    await db2.updateTable('outbox').set({ status: 'pending', sent_at: null, message_id: null }).where('id', '=', earlyRow.id).execute();

    // Lark resends one of the events to the new instance (it never got our 200, say): it was already applied.
    await h2.events.message(specs[0]!);
    lark.reset();

    const rows = await until('every answer sent after the restart', async () => {
      const rs = await db2.selectFrom('outbox').selectAll().where('reply_to', 'in', [early.messageId!, ...specs.map((s) => s.messageId!)]).orderBy('id').execute();
      return rs.every((r) => r.status === 'sent') ? rs : undefined;
    }, 20_000);
    expect(rows).toHaveLength(5);
    for (const row of rows) expect(lark.sent.filter((s) => s.uuid === row.uuid), `answer to ${row.reply_to}`).toHaveLength(1);
    for (const spec of [early, ...specs]) expect(lark.sent.filter((s) => s.replyTo === spec.messageId)).toHaveLength(1);
    for (const spec of specs) {
      const accepted = lark.requests.filter((r) => r.method === 'POST' && r.path === `/open-apis/im/v1/messages/${spec.messageId}/reply` && r.status === 200);
      expect(accepted, `posts of the answer to ${spec.messageId}`).toHaveLength(1);
    }
    // The re-sent early answer is recognised as the message Lark already had.
    expect((await db2.selectFrom('outbox').select('message_id').where('id', '=', earlyRow.id).executeTakeFirstOrThrow()).message_id).toBe(earlyMsg.messageId);

    expect(await claimsOf(db2, '20240590')).toHaveLength(1);
    expect((await caseRow(db2, '20240590')).handler_open_id).toBe(USERS.zhang.openId);
    expect((await caseRow(db2, '20240591')).handler_open_id).toBe(USERS.li.openId);
    const texts = lark.textsIn(GROUP).join('\n');
    expect(texts).toContain('已认领案件 20240590');
    expect(texts).toContain('已认领案件 20240591');
    // The card rendered by the new instance is remembered, so the next change patches it.
    const card = lark.sent.find((s) => s.replyTo === specs[2]!.messageId)!;
    expect(card.msgType).toBe('interactive');
    await until('the card remembered', () => db2.selectFrom('case_cards').selectAll().where('message_id', '=', card.messageId).executeTakeFirst());
  });

  if (backend === 'pglite') {
    it('a second instance on the same PGlite folder is refused while the first runs', async () => {
      const h = second!;
      await expect(startHarness({ database, lark: h.lark, today: '2024-03-21' })).rejects.toBeInstanceOf(DataDirLockedError);
      // …and the first one is unharmed.
      const spec = toBot(h, USERS.li.openId, '我的');
      await h.events.message(spec);
      await h.lark.waitFor((l) => l.sent.find((s) => s.replyTo === spec.messageId));
    });
  }
});

// PostgreSQL only: PGlite is one process by design, and a second instance on its folder is refused (the test above).
describeOnBackends('transport: two instances on one database', (backend) => {
  let a: Harness;
  let b: Harness;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const database = await createTestDatabase(backend);
    drop = database.drop;
    a = await startHarness({ database, today: '2024-03-21' });
    b = await startHarness({ database, lark: a.lark, today: '2024-03-21' });
    await seedCases(a, Array.from({ length: 8 }, (_, i) => ({ caseNo: `2024060${i}` })));
    await botKnown(a);
    await new Promise((r) => setTimeout(r, 200));
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await a?.lark.close();
    await drop?.();
  });

  it('Lark delivers every event to both instances at once: each is applied once and answered once', async () => {
    const db = a.service.database.db;
    const people = [USERS.zhang, USERS.li, USERS.wang];
    const specs = Array.from({ length: 6 }, (_, i) => toBot(a, people[i % 3]!.openId, `认领 2024060${i}`, { chatId: i < 3 ? GROUP : 'oc_group_second' }));
    const responses = await Promise.all(specs.flatMap((s) => [a.events.message(s), b.events.message(s)]));
    expect(responses.map((r) => r.status)).toEqual(Array(12).fill(200));

    const rows = await until('every answer sent', async () => {
      const rs = await db.selectFrom('outbox').selectAll().where('reply_to', 'in', specs.map((s) => s.messageId!)).execute();
      return rs.length >= specs.length && rs.every((r) => r.status === 'sent') ? rs : undefined;
    }, 20_000);
    expect(rows).toHaveLength(6);
    for (const row of rows) {
      expect(a.lark.sent.filter((s) => s.uuid === row.uuid)).toHaveLength(1);
      // Both senders drain the same outbox; only one of them may post each answer (Lark's uuid check is not the guard).
      const posts = a.lark.requests.filter((r) => r.method === 'POST' && r.path === `/open-apis/im/v1/messages/${row.reply_to}/reply`);
      expect(posts.map((r) => r.status)).toEqual([200]);
    }
    for (const [i, spec] of specs.entries()) {
      expect(a.lark.sent.filter((s) => s.replyTo === spec.messageId)).toHaveLength(1);
      expect(await db.selectFrom('inbox').selectAll().where('event_id', '=', spec.eventId!).where('handled_at', 'is not', null).execute()).toHaveLength(1);
      expect(await claimsOf(db, `2024060${i}`)).toHaveLength(1);
      expect((await caseRow(db, `2024060${i}`)).handler_open_id).toBe(people[i % 3]!.openId);
    }
  });

  it('张三 (via one instance) and 李四 (via the other) claim 20240606 at the same moment: one wins, the other is told who', async () => {
    const db = a.service.database.db;
    const zhang = toBot(a, USERS.zhang.openId, '认领 20240606');
    const li = toBot(b, USERS.li.openId, '认领 20240606');
    await Promise.all([a.events.message(zhang), b.events.message(li), a.events.message(li), b.events.message(zhang)]);
    const answers = await a.lark.waitFor((l) => {
      const z = l.sent.find((s) => s.replyTo === zhang.messageId);
      const w = l.sent.find((s) => s.replyTo === li.messageId);
      return z && w ? [z, w] : null;
    }, 10_000);
    const texts = answers.map((m) => (m.content as { text?: string }).text ?? '');
    const row = await caseRow(db, '20240606');
    const winner = row.handler_open_id === USERS.zhang.openId ? 0 : 1;
    expect([USERS.zhang.openId, USERS.li.openId]).toContain(row.handler_open_id);
    expect(texts[winner]).toContain('已认领案件 20240606');
    expect(texts[1 - winner]).toContain(`该案件已由${winner === 0 ? '张三' : '李四'}认领`);
    expect(await claimsOf(db, '20240606')).toHaveLength(1);
  });

  it("one chat's messages alternate between the two instances (认领, then 19 进展): applied in the order they came, each once", async () => {
    const db = a.service.database.db;
    await seedCases(a, [{ caseNo: '20240610' }]);
    const chatId = 'oc_group_alternating';
    const specs = [toBot(a, USERS.zhang.openId, '认领 20240610', { chatId })];
    for (let k = 1; k <= 19; k++) specs.push(toBot(a, USERS.zhang.openId, `进展 20240610 第${k}次交替进展`, { chatId }));
    for (const [i, spec] of specs.entries()) expect((await (i % 2 === 0 ? a : b).events.message(spec)).status).toBe(200);

    const rows = await until('every message handled', async () => {
      const rs = await db.selectFrom('inbox').select(['event_id', 'handled_at', 'last_error']).where('event_id', 'in', specs.map((s) => s.eventId!)).execute();
      return rs.length === specs.length && rs.every((r) => r.handled_at !== null) ? rs : undefined;
    }, 30_000);
    expect(rows.every((r) => r.last_error === null)).toBe(true);
    const caseId = (await caseRow(db, '20240610')).id;
    const timeline = await db.selectFrom('case_events').selectAll().where('case_id', '=', caseId).orderBy('id').execute();
    expect(timeline.filter((e) => e.type === 'claimed')).toHaveLength(1);
    const progress = timeline.filter((e) => e.type === 'progress').map((e) => JSON.stringify(e));
    expect(progress).toHaveLength(19);
    progress.forEach((entry, i) => expect(entry).toContain(`第${i + 1}次交替进展`));
    // One answer each, queued in the order the messages came, whichever instance handled them.
    const replies = await db.selectFrom('outbox').select('reply_to').where('reply_to', 'in', specs.map((s) => s.messageId!)).orderBy('id').execute();
    expect(replies.map((r) => r.reply_to)).toEqual(specs.map((s) => s.messageId));
  });

  it('a card click delivered to both instances at once is applied once, and both answer with the same toast and card', async () => {
    const db = a.service.database.db;
    const show = toBot(a, USERS.wang.openId, '20240607');
    await a.events.message(show);
    const cardMsg = await a.lark.waitFor((l) => l.sent.find((s) => s.replyTo === show.messageId && s.msgType === 'interactive'));
    const button = findButton(a.lark.latestCard(cardMsg.messageId), '认领');
    const click = { operatorOpenId: USERS.wang.openId, openMessageId: cardMsg.messageId, openChatId: GROUP, value: button.value, eventId: uid('ev_click') };
    const [ra, rb] = await Promise.all([a.events.cardAction(click), b.events.cardAction(click)]);
    expect([ra.status, rb.status]).toEqual([200, 200]);
    const [ba, bb] = (await Promise.all([ra.json(), rb.json()])) as Array<{ toast?: { type: string; content: string }; card?: { type: string } }>;
    expect(ba!.toast?.type).toBe('success');
    expect(ba!.toast?.content).toContain('已认领案件 20240607');
    expect(ba!.card?.type).toBe('raw');
    expect(bb).toEqual(ba);
    expect(await claimsOf(db, '20240607')).toHaveLength(1);
    expect(await db.selectFrom('inbox').selectAll().where('event_id', '=', click.eventId).where('handled_at', 'is not', null).execute()).toHaveLength(1);
  });
}, ['postgres']);
