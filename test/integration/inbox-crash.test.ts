import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config.ts';
import { applyImportPlan, planImport } from '../../src/import/apply.ts';
import type { ImportedCase } from '../../src/import/validate.ts';
import { clocksFor, openMigrated } from '../../src/runtime.ts';
import type { Database } from '../../src/storage/database.ts';
import { createTestDatabase, describeOnBackends, GROUP, uid, USERS } from '../support/harness.ts';
import { startLarkEmulator, type LarkEmulator } from '../support/lark/emulator.ts';
import { createEventSender, type EventSender, type MessageSpec } from '../support/lark/events.ts';
import { startBanliProcess, type BanliProcess } from '../support/process.ts';

// Nothing Lark got a 200 for is lost: the service process is killed with SIGKILL (as an OOM kill or a power cut
// would) right after the last acknowledgement, started again, and every acknowledged message and answered click is
// applied exactly once, messages in the order they came.

const ENCRYPT_KEY = 'banli-crash-test-key';

describeOnBackends('inbox: a SIGKILL right after the acknowledgement loses nothing', (backend) => {
  let lark: LarkEmulator;
  let database: { url?: string; dataDir: string; drop(): Promise<void> };
  let env: Record<string, string>;
  let running: BanliProcess | undefined;
  let caseIds: Map<string, number>;
  const messages: MessageSpec[] = [];
  let cardMessageId = '';
  const clickAnswers: Array<{ eventId: string; note: string; body: string }> = [];

  const withDb = async <T>(fn: (d: Database) => Promise<T>): Promise<T> => {
    const d = await openMigrated(loadConfig(env));
    try {
      return await fn(d);
    } finally {
      await d.close();
    }
  };
  const start = async (): Promise<EventSender> => {
    await kill();
    running = startBanliProcess(env);
    // A fresh embedded database takes a while to create on a busy machine.
    const url = `http://127.0.0.1:${await running.port(90_000)}`;
    return createEventSender({ url: `${url}/lark/webhook`, appId: lark.appId, verificationToken: 'crash-token', encryptKey: ENCRYPT_KEY, emulator: lark });
  };
  const kill = async () => {
    running?.child.kill('SIGKILL');
    await running?.exited;
    running = undefined;
  };
  const stop = async () => {
    running?.child.kill('SIGTERM');
    expect(await running?.exited).toBe(0);
    running = undefined;
  };
  /** Until nothing is left unfinished in the inbox; on PGlite (one process per folder) `fallback` decides instead. */
  const untilInboxEmpty = async (fallback: () => Promise<unknown>) => {
    if (!database.url) return fallback();
    const deadline = Date.now() + 60_000;
    for (;;) {
      const left = await withDb(async (d) => (await d.db.selectFrom('inbox').select('id').where('handled_at', 'is', null).execute()).length);
      if (left === 0) return;
      if (Date.now() > deadline) throw new Error(`${left} inbox rows still unfinished after 60 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const toBot = (text: string, extra: Partial<MessageSpec> = {}): MessageSpec => ({
    chatId: GROUP,
    chatType: 'group',
    senderOpenId: USERS.zhang.openId,
    text: `@_user_1 ${text}`,
    mentions: [{ key: '@_user_1', openId: lark.botOpenId, name: '办理助手' }],
    messageId: uid('om'),
    eventId: uid('ev'),
    ...extra,
  });

  beforeAll(async () => {
    lark = await startLarkEmulator({ users: Object.values(USERS), perChatQps: 1000, perAppQps: 10_000 });
    database = await createTestDatabase(backend);
    env = {
      LOG_LEVEL: 'info',
      LARK_APP_ID: lark.appId,
      LARK_APP_SECRET: lark.appSecret,
      LARK_DOMAIN: lark.url,
      LARK_VERIFICATION_TOKEN: 'crash-token',
      LARK_ENCRYPT_KEY: ENCRYPT_KEY,
      BANLI_ADMIN_OPEN_IDS: USERS.admin.openId,
      // A killed instance's leases run out quickly (on PostgreSQL nothing else tells that it died).
      BANLI_INBOX_LEASE_SECONDS: '2',
      ...(database.url ? { DATABASE_URL: database.url } : { BANLI_DATA_DIR: database.dataDir }),
    };
    caseIds = await withDb(async (d) => {
      const cases: ImportedCase[] = ['20240562', '20240563'].map((caseNo, i) => ({
        row: i + 2,
        caseNo,
        kind: '建议',
        year: 2024,
        session: '市七届人大五次会议',
        title: `关于第${caseNo}号事项的建议`,
        proposer: '黄振辉',
        roleLabel: '主办',
        role: 'lead',
        leadUnit: '市民政局',
        assistingUnits: [],
        unit: null,
        assignedDate: '2026-11-20',
        fixedDueDate: null,
        disclosure: '主动公开',
      }));
      const clocks = clocksFor(loadConfig(env));
      await d.db.transaction().execute(async (trx) => applyImportPlan(trx, await planImport(trx, cases, clocks), null, 'test'));
      const rows = await d.db.selectFrom('cases').select(['id', 'case_no']).execute();
      return new Map(rows.map((r) => [r.case_no, r.id]));
    });
  }, 60_000);

  afterAll(async () => {
    await kill();
    await lark?.close();
    await database?.drop();
  });

  it('张三 sends 认领 and 39 进展 messages; each gets a 200, the process is SIGKILLed right after the last; after a restart all 40 are applied once, in order', async () => {
    const events = await start();
    messages.push(toBot('认领 20240562'));
    for (let k = 1; k <= 39; k++) messages.push(toBot(`进展 20240562 第${k}次进展：已与代表电话沟通`));
    for (const m of messages) expect((await events.message(m)).status).toBe(200);
    await kill();

    // At the moment of the kill most of them were still waiting: acknowledged, stored, not yet applied.
    const waiting = await withDb(async (d) => {
      const r = await d.db.selectFrom('inbox').select((eb) => eb.fn.countAll<number>().as('n')).where('handled_at', 'is', null).executeTakeFirstOrThrow();
      return Number(r.n);
    });
    expect(waiting).toBeGreaterThan(0);

    await start();
    const ids = new Set(messages.map((m) => m.messageId));
    // (The answers themselves may wait for the outbox lock of the killed sender; what matters here is the inbox.)
    await untilInboxEmpty(() => lark.waitFor((l) => l.sent.filter((s) => s.replyTo && ids.has(s.replyTo)).length >= 40, 60_000));
    await stop();

    await withDb(async (d) => {
      const caseId = caseIds.get('20240562')!;
      const timeline = await d.db.selectFrom('case_events').selectAll().where('case_id', '=', caseId).orderBy('id').execute();
      expect(timeline.filter((e) => e.type === 'claimed')).toHaveLength(1);
      const progress = timeline.filter((e) => e.type === 'progress').map((e) => JSON.stringify(e));
      expect(progress).toHaveLength(39);
      // In the order they were sent: the claim first (or every 进展 would have been refused), then 第1…第39.
      progress.forEach((entry, i) => expect(entry).toContain(`第${i + 1}次进展`));
      // One answer each, in the order of the messages.
      const replies = await d.db.selectFrom('outbox').select(['reply_to', 'content']).where('op', '=', 'reply').orderBy('id').execute();
      const ours = replies.filter((r) => ids.has(r.reply_to ?? ''));
      expect(ours.map((r) => r.reply_to)).toEqual(messages.map((m) => m.messageId));
      expect(ours.map((r) => JSON.stringify(r.content)).join('\n')).not.toMatch(/出错|未认领|不是承办人/);
      const inbox = await d.db.selectFrom('inbox').select(['event_id', 'handled_at', 'last_error']).where('event_id', 'in', messages.map((m) => m.eventId!)).execute();
      expect(inbox).toHaveLength(40);
      expect(inbox.every((r) => r.handled_at !== null && r.last_error === null)).toBe(true);
    });
  }, 240_000);

  it('40 progress forms submitted at once on the card of 20240563 are all answered; SIGKILL right after the last answer; after a restart each is applied once', async () => {
    const events = await start();
    // Another chat than the first test's: its answers may still wait for the outbox lock of the killed sender.
    const chatId = 'oc_group_cards';
    const claim = toBot('认领 20240563', { chatId });
    const show = toBot('查询 20240563', { chatId });
    await events.message(claim);
    await lark.waitFor((l) => l.sent.find((s) => s.replyTo === claim.messageId), 30_000);
    await events.message(show);
    cardMessageId = (await lark.waitFor((l) => l.sent.find((s) => s.replyTo === show.messageId && s.msgType === 'interactive'), 30_000)).messageId;

    const caseId = caseIds.get('20240563')!;
    const clicks = Array.from({ length: 40 }, (_, k) => ({ eventId: uid('ev_click'), note: `表单进展第${k + 1}号` }));
    const answers = await Promise.all(
      clicks.map(async (c) => {
        const res = await events.cardAction({
          operatorOpenId: USERS.zhang.openId,
          openMessageId: cardMessageId,
          openChatId: chatId,
          value: { action: 'progress', caseId },
          formValue: { progress_note: c.note },
          eventId: c.eventId,
        });
        return { status: res.status, body: await res.text() };
      }),
    );
    await kill();

    for (const [i, a] of answers.entries()) {
      expect(a.status).toBe(200);
      const toast = (JSON.parse(a.body) as { toast?: { type: string; content: string } }).toast;
      // Answered: done ("success"), or accepted and to be finished ("正在处理").
      expect(toast?.type === 'success' || toast?.content.includes('正在处理')).toBe(true);
      clickAnswers.push({ eventId: clicks[i]!.eventId, note: clicks[i]!.note, body: a.body });
    }

    await start();
    // On PGlite the restarted process takes the rows at once (and its graceful stop finishes what is due).
    await untilInboxEmpty(() => new Promise((r) => setTimeout(r, 1000)));
    await stop();

    await withDb(async (d) => {
      const progress = (await d.db.selectFrom('case_events').selectAll().where('case_id', '=', caseId).where('type', '=', 'progress').execute()).map((e) =>
        JSON.stringify(e),
      );
      expect(progress).toHaveLength(40);
      for (const c of clicks) expect(progress.filter((p) => p.includes(`${c.note}"`) || p.includes(`${c.note}\\`))).toHaveLength(1);
      const unfinished = await d.db.selectFrom('inbox').select('id').where('handled_at', 'is', null).execute();
      expect(unfinished).toEqual([]);
    });
  }, 240_000);

  it('a message and a click delivered again minutes later, after another restart, do nothing and get the same answer', async () => {
    // Their rows are from "minutes ago" (nothing is forgotten before the retention, whatever the clock says).
    await withDb(async (d) => {
      await sql`update inbox set received_at = received_at - interval '10 minutes', handled_at = handled_at - interval '10 minutes'`.execute(d.db);
    });
    const firstClick = clickAnswers.find((c) => (JSON.parse(c.body) as { toast?: { type: string } }).toast?.type === 'success') ?? clickAnswers[0]!;
    const before = await withDb(async (d) => ({
      events: (await d.db.selectFrom('case_events').select('id').execute()).length,
      outbox: (await d.db.selectFrom('outbox').select('id').execute()).length,
      inbox: (await d.db.selectFrom('inbox').select('id').execute()).length,
      answer: (await d.db.selectFrom('inbox').select('answer').where('event_id', '=', firstClick.eventId).executeTakeFirstOrThrow()).answer,
    }));
    const events = await start();
    const sentBefore = lark.sent.length;
    const message = messages[5]!;
    const res = await events.message(message);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    const click = await events.cardAction({
      operatorOpenId: USERS.zhang.openId,
      openMessageId: cardMessageId,
      openChatId: 'oc_group_cards',
      value: { action: 'progress', caseId: caseIds.get('20240563')! },
      formValue: { progress_note: firstClick.note },
      eventId: firstClick.eventId,
    });
    expect(click.status).toBe(200);
    const body = await click.text();
    // The very answer stored with the click the first time (its toast and card).
    expect(JSON.parse(body)).toEqual(before.answer);
    if ((JSON.parse(firstClick.body) as { toast?: { type: string } }).toast?.type === 'success') expect(JSON.parse(body)).toEqual(JSON.parse(firstClick.body));
    // A fresh message afterwards in the same chat is handled: anything the redelivery had set off would be done by then.
    const sentinel = toBot('帮助');
    await events.message(sentinel);
    await untilInboxEmpty(() => lark.waitFor((l) => l.sent.find((s) => s.replyTo === sentinel.messageId), 30_000));
    await stop();
    expect(lark.sent.slice(sentBefore).filter((s) => s.replyTo === message.messageId)).toEqual([]);
    await withDb(async (d) => {
      expect((await d.db.selectFrom('case_events').select('id').execute()).length).toBe(before.events);
      expect((await d.db.selectFrom('outbox').select('id').execute()).length).toBe(before.outbox + 1);
      expect((await d.db.selectFrom('inbox').select('id').execute()).length).toBe(before.inbox + 1);
    });
  }, 240_000);
});
