import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createTestDatabase, describeOnBackends, GROUP, seedCases, startHarness, uid, USERS, type Harness, toBot, until } from '../support/harness.ts';
import { cardTexts, findButton, findButtons } from '../support/lark/cards.ts';
import type { MessageSpec } from '../support/lark/events.ts';
import { loadCaseCardView } from '../../src/cases/case.view.ts';

// The way out: every answer goes through the outbox, and Lark is not always willing. Rate limits, its own errors,
// dropped connections and expired tokens must all end with each message in the chat exactly once; a message Lark
// will never take ends as a failed row, not as an endless retry; a chat never gets more than Lark's 5 a second; and a
// case card already in a chat is updated in place when the case changes.

const SENDS = /^\/open-apis\/im\/v1\/messages/;

type Db = Harness['service']['database']['db'];

/** The outbox row of the bot's answer to one message (once the handler has written it). */
async function answerRow(db: Db, messageId: string) {
  return until(`the answer to ${messageId} in the outbox`, () =>
    db.selectFrom('outbox').selectAll().where('reply_to', '=', messageId).executeTakeFirst(),
  );
}

/**
 * Waits until the answers to these messages are all marked sent, then checks each reached the chat exactly once:
 * one emulator record per outbox uuid, carrying the message id the row recorded.
 */
async function deliveredOnce(h: Harness, messageIds: string[], timeoutMs = 15_000) {
  const db = h.service.database.db;
  const rows = await until(
    'every answer sent',
    async () => {
      const rs = await db.selectFrom('outbox').selectAll().where('reply_to', 'in', messageIds).orderBy('id').execute();
      return rs.length === messageIds.length && rs.every((r) => r.status === 'sent') ? rs : undefined;
    },
    timeoutMs,
  );
  for (const row of rows) {
    const arrived = h.lark.sent.filter((s) => s.uuid === row.uuid);
    expect(arrived, `answer to ${row.reply_to}`).toHaveLength(1);
    expect(arrived[0]!.messageId).toBe(row.message_id);
    expect(arrived[0]!.replyTo).toBe(row.reply_to);
    // Lark would drop a second post of the same uuid; the sender must not make one in the first place.
    expect(acceptedReplies(h, row.reply_to!), `posts of the answer to ${row.reply_to}`).toBe(1);
  }
  expect(h.lark.sent.filter((s) => messageIds.includes(s.replyTo ?? ''))).toHaveLength(messageIds.length);
  return rows;
}

/** How many times Lark accepted a reply to this message (a repeated uuid included). */
function acceptedReplies(h: Harness, messageId: string): number {
  return h.lark.requests.filter((r) => r.method === 'POST' && r.path === `/open-apis/im/v1/messages/${messageId}/reply` && r.status === 200).length;
}

function sendRequests(h: Harness, since: number) {
  return h.lark.requests.filter((r) => SENDS.test(r.path) && r.at >= since);
}

describeOnBackends('transport: the outbox against an unwilling Lark', (backend) => {
  let h: Harness;
  let drop: () => Promise<void>;
  let db: Db;
  beforeAll(async () => {
    const database = await createTestDatabase(backend);
    drop = database.drop;
    h = await startHarness({ database, today: '2024-03-21' });
    db = h.service.database.db;
    await seedCases(h, Array.from({ length: 13 }, (_, i) => ({ caseNo: `2024${String(570 + i).padStart(4, '0')}` })));
    // Names are looked up once and cached; faults below are then met by the sends alone.
    await h.lark.waitFor((l) => l.requests.some((r) => r.path === '/open-apis/bot/v3/info' && r.status === 200));
    for (const u of [USERS.zhang, USERS.li, USERS.wang]) {
      const spec = toBot(h, u.openId, '帮助');
      await h.events.message(spec);
      await h.lark.waitFor((l) => l.sent.find((s) => s.replyTo === spec.messageId));
    }
  });
  beforeEach(() => {
    h.lark.reset();
  });
  afterAll(async () => {
    await h?.stop();
    await h?.lark.close();
    await drop?.();
  });

  it('Lark answers 503 to every send for 2.5 s: afterwards each of the six answers is in its chat exactly once, in order', async () => {
    const since = Date.now();
    h.lark.failFor(2500, { status: 503, paths: SENDS });
    const specs = [
      toBot(h, USERS.zhang.openId, '认领 20240570'),
      toBot(h, USERS.li.openId, '认领 20240571'),
      toBot(h, USERS.wang.openId, '认领 20240570'),
      toBot(h, USERS.zhang.openId, '帮助', { chatId: 'oc_group_other' }),
      toBot(h, USERS.li.openId, '我的', { chatId: 'oc_group_other' }),
      toBot(h, USERS.wang.openId, '待办', { chatId: 'oc_group_third' }),
    ];
    for (const spec of specs) await h.events.message(spec);
    const rows = await deliveredOnce(h, specs.map((s) => s.messageId!), 20_000);

    expect(sendRequests(h, since).filter((r) => r.status === 503).length).toBeGreaterThan(0);
    expect(rows.some((r) => r.attempts > 1)).toBe(true);
    // A chat's answers arrive in the order their rows were written, retries or not.
    for (const chat of [GROUP, 'oc_group_other']) {
      const mine = rows.filter((r) => r.chat_key === chat).map((r) => r.uuid);
      const arrived = h.lark.messagesIn(chat).map((m) => m.uuid).filter((u) => mine.includes(u ?? ''));
      expect(arrived).toEqual(mine);
    }
    const texts = h.lark.textsIn(GROUP).join('\n');
    expect(texts).toContain('已认领案件 20240570');
    expect(texts).toContain('已认领案件 20240571');
    // 张三's and 王五's claims were acknowledged before either was handled, so either may have come first.
    const first = await h.service.database.db.selectFrom('cases').select('handler_open_id').where('case_no', '=', '20240570').executeTakeFirstOrThrow();
    expect([USERS.zhang.openId, USERS.wang.openId]).toContain(first.handler_open_id);
    expect(texts).toContain(`该案件已由${first.handler_open_id === USERS.zhang.openId ? '张三' : '王五'}认领`);
  });

  it('a 429 with x-ogw-ratelimit-reset is waited out, then the answer is sent once', async () => {
    const since = Date.now();
    h.lark.failNext(1, { status: 429, headers: { 'x-ogw-ratelimit-reset': '2' }, paths: SENDS });
    const spec = toBot(h, USERS.zhang.openId, '认领 20240572');
    await h.events.message(spec);
    const [row] = await deliveredOnce(h, [spec.messageId!]);
    const requests = sendRequests(h, since);
    const limited = requests.find((r) => r.status === 429);
    expect(limited).toBeDefined();
    const next = requests.find((r) => r.at > limited!.at && r.status === 200);
    // Lark said "come back in 2 s".
    expect(next!.at - limited!.at).toBeGreaterThanOrEqual(1900);
    expect(row!.attempts).toBe(2);
  });

  it('a 230020 (chat too busy) is retried and the answer sent once', async () => {
    const since = Date.now();
    h.lark.failNext(1, { status: 400, code: 230020, msg: 'This operation triggers the frequency limit.', paths: SENDS });
    const spec = toBot(h, USERS.li.openId, '认领 20240573');
    await h.events.message(spec);
    const [row] = await deliveredOnce(h, [spec.messageId!]);
    expect(sendRequests(h, since).filter((r) => r.code === 230020)).toHaveLength(1);
    expect(row!.attempts).toBe(2);
  });

  it('a 500 and a dropped connection are retried and the answer sent once', async () => {
    const since = Date.now();
    h.lark.failNext(1, { status: 500, paths: SENDS });
    h.lark.failNext(1, { networkError: true, paths: SENDS });
    const spec = toBot(h, USERS.wang.openId, '认领 20240574');
    await h.events.message(spec);
    const [row] = await deliveredOnce(h, [spec.messageId!], 20_000);
    const faults = sendRequests(h, since).filter((r) => r.fault);
    expect(faults.map((r) => r.status).sort()).toEqual([0, 500]);
    expect(row!.attempts).toBe(3);
    expect((await db.selectFrom('cases').select('handler_open_id').where('case_no', '=', '20240574').executeTakeFirstOrThrow()).handler_open_id).toBe(USERS.wang.openId);
  });

  it('after Lark invalidates the tenant token, the sender fetches a new one and the answer goes out on the same attempt', async () => {
    const since = Date.now();
    h.lark.expireTokens();
    const spec = toBot(h, USERS.zhang.openId, '认领 20240575');
    await h.events.message(spec);
    const [row] = await deliveredOnce(h, [spec.messageId!]);
    const requests = h.lark.requests.filter((r) => r.at >= since);
    const rejected = requests.findIndex((r) => SENDS.test(r.path) && r.code === 99991663);
    expect(rejected).toBeGreaterThanOrEqual(0);
    const renewed = requests.findIndex((r, i) => i > rejected && r.path === '/open-apis/auth/v3/tenant_access_token/internal' && r.status === 200);
    expect(renewed).toBeGreaterThan(rejected);
    expect(row!.attempts).toBe(1);
  });

  it('after Lark invalidates the tenant token, a newcomer who claims a case is still named in the timeline', async () => {
    h.lark.addUser({ openId: 'ou_sunxinren', name: '孙新人' });
    h.lark.expireTokens();
    const spec = toBot(h, 'ou_sunxinren', '认领 20240581');
    await h.events.message(spec);
    await deliveredOnce(h, [spec.messageId!]);
    const caseId = (await db.selectFrom('cases').select('id').where('case_no', '=', '20240581').executeTakeFirstOrThrow()).id;
    const claim = await db.selectFrom('case_events').selectAll().where('case_id', '=', caseId).where('type', '=', 'claimed').executeTakeFirstOrThrow();
    expect(claim.actor_open_id).toBe('ou_sunxinren');
    expect((await db.selectFrom('users').select('name').where('open_id', '=', 'ou_sunxinren').executeTakeFirstOrThrow()).name).toBe('孙新人');
    // The card's timeline shows the actor's name as stored, not a placeholder.
    const view = await loadCaseCardView(db, caseId, { today: '2024-03-21', clocks: h.service.clocks, timeZone: 'Asia/Shanghai', resultClasses: h.config.resultClasses, maxRehandlings: 1 });
    expect(view?.timeline.find((e) => e.text === '认领了案件')?.actorName).toBe('孙新人');
  });

  it('a send Lark refuses for good (230027, no permission) is marked failed at once and does not hold up the chat', async () => {
    h.lark.failNext(1, { status: 400, code: 230027, msg: 'Lack of necessary permissions.', paths: SENDS });
    const refused = toBot(h, USERS.li.openId, '认领 20240576', { chatId: 'oc_group_muted' });
    await h.events.message(refused);
    const row = await until('the refused row to fail', async () => {
      const r = await db.selectFrom('outbox').selectAll().where('reply_to', '=', refused.messageId!).executeTakeFirst();
      return r?.status === 'failed' ? r : undefined;
    });
    expect(row.last_error).toContain('230027');
    expect(row.attempts).toBe(1);
    expect(h.lark.sent.filter((s) => s.uuid === row.uuid)).toEqual([]);
    // The claim itself stands: only its answer was lost.
    expect((await db.selectFrom('cases').select('handler_open_id').where('case_no', '=', '20240576').executeTakeFirstOrThrow()).handler_open_id).toBe(USERS.li.openId);

    const next = toBot(h, USERS.li.openId, '我的', { chatId: 'oc_group_muted' });
    await h.events.message(next);
    await deliveredOnce(h, [next.messageId!]);
  });

  it('a message that still cannot be sent after BANLI_SEND_GIVE_UP_MINUTES is marked failed and never sent later', async () => {
    h.lark.failFor(60_000, { status: 503, paths: SENDS });
    const spec = toBot(h, USERS.wang.openId, '认领 20240577', { chatId: 'oc_group_unlucky' });
    await h.events.message(spec);
    const row = await answerRow(db, spec.messageId!);
    await until('a failed attempt', async () => {
      const r = await db.selectFrom('outbox').select(['attempts', 'last_error']).where('id', '=', row.id).executeTakeFirstOrThrow();
      return r.attempts >= 1 && r.last_error !== null;
    });
    // The row has been failing for longer than the configured 30 minutes.
    const giveUp = h.config.sendGiveUpMinutes;
    await db
      .updateTable('outbox')
      .set({ created_at: sql<Date>`now() - ${giveUp + 1}::double precision * interval '1 minute'` })
      .where('id', '=', row.id)
      .execute();
    const failed = await until('the row to be given up', async () => {
      const r = await db.selectFrom('outbox').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
      return r.status === 'failed' ? r : undefined;
    });
    expect(failed.last_error).toContain('503');
    h.lark.reset();
    // Lark is fine again, and a later message to that chat goes out; the given-up one stays given up.
    const later = toBot(h, USERS.wang.openId, '我的', { chatId: 'oc_group_unlucky' });
    await h.events.message(later);
    await deliveredOnce(h, [later.messageId!]);
    expect(h.lark.sent.filter((s) => s.uuid === row.uuid)).toEqual([]);
    expect((await db.selectFrom('outbox').select('status').where('id', '=', row.id).executeTakeFirstOrThrow()).status).toBe('failed');
  });

  it('twelve people ask in one busy chat at once: all twelve answers arrive, never more than 5 in any second', async () => {
    const chat = 'oc_group_busy';
    const since = Date.now();
    const people = [USERS.zhang, USERS.li, USERS.wang];
    const specs = Array.from({ length: 12 }, (_, i) => toBot(h, people[i % 3]!.openId, `第${i + 1}个问题是什么`, { chatId: chat }));
    await Promise.all(specs.map((s) => h.events.message(s)));
    const rows = await deliveredOnce(h, specs.map((s) => s.messageId!), 20_000);
    expect(rows).toHaveLength(12);

    const times = h.lark.messagesIn(chat).map((m) => m.at).sort((a, b) => a - b);
    expect(times).toHaveLength(12);
    const busiest = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
    expect(busiest).toBeLessThanOrEqual(5);
    // The sender kept to the limit itself: Lark never had to say 230020.
    expect(sendRequests(h, since).filter((r) => r.code === 230020)).toEqual([]);
    // And in the order the answers were written.
    expect(h.lark.messagesIn(chat).map((m) => m.uuid)).toEqual(rows.map((r) => r.uuid));
  });

  it('王五 asks for the card of 20240580, then 张三 claims it: the card already in the chat is updated in place for everyone', async () => {
    const show = toBot(h, USERS.wang.openId, '20240580');
    await h.events.message(show);
    const cardMsg = await h.lark.waitFor((l) => l.sent.find((s) => s.replyTo === show.messageId && s.msgType === 'interactive'));
    const caseId = (await db.selectFrom('cases').select('id').where('case_no', '=', '20240580').executeTakeFirstOrThrow()).id;
    await until('the card to be remembered', () => db.selectFrom('case_cards').selectAll().where('message_id', '=', cardMsg.messageId).executeTakeFirst());
    const original = h.lark.latestCard(cardMsg.messageId);
    expect(findButton(original, '认领')).toBeDefined();
    expect((original as { config?: { update_multi?: boolean } }).config?.update_multi).toBe(true);
    const sentBefore = h.lark.sent.length;

    const claim = toBot(h, USERS.zhang.openId, '认领 20240580');
    await h.events.message(claim);
    await h.lark.waitFor((l) => l.sent.find((s) => s.replyTo === claim.messageId));
    const patch = await h.lark.waitFor((l) => l.patches.find((p) => p.messageId === cardMsg.messageId));
    const updated = h.lark.latestCard(cardMsg.messageId);
    expect(updated).toEqual(patch.content);
    expect(cardTexts(updated).join('\n')).toContain('张三');
    expect(findButtons(updated).map((b) => b.text)).not.toContain('认领');
    expect(findButton(updated, '放弃认领')).toBeDefined();
    // Updated, not sent again: the only new message is the text answer to the claim.
    expect(h.lark.sent.length).toBe(sentBefore + 1);
    expect(h.lark.patches.filter((p) => p.messageId === cardMsg.messageId)).toHaveLength(1);
    const patchRows = await db.selectFrom('outbox').selectAll().where('op', '=', 'patch').where('patch_message_id', '=', cardMsg.messageId).execute();
    expect(patchRows.map((r) => r.status)).toEqual(['sent']);
    expect(patchRows[0]!.case_id).toBe(caseId);
  });
});
