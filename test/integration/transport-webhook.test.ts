import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeOnBackends, GROUP, seedCases, startHarness, uid, USERS, type Harness, toBot } from '../support/harness.ts';
import { findButton } from '../support/lark/cards.ts';
import { createEventSender, type MessageSpec } from '../support/lark/events.ts';

// The Lark door, driven over real HTTP: who gets in (signature, timestamp, token, encryption), what a redelivered
// event does (nothing more), which messages are commands at all, and what a user hears when something breaks.

const ENCRYPT_KEY = 'banli-test-encrypt-key';

type Db = Harness['service']['database']['db'];

async function caseRow(h: Harness, caseNo: string) {
  return h.service.database.db.selectFrom('cases').selectAll().where('case_no', '=', caseNo).executeTakeFirstOrThrow();
}

async function count(db: Db, table: 'inbox' | 'outbox' | 'case_events'): Promise<number> {
  const r = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Everything a request could have changed: rows written, cases touched, messages and patches sent. */
async function footprint(h: Harness) {
  const db = h.service.database.db;
  const cases = await db.selectFrom('cases').select(['case_no', 'status', 'handler_open_id', 'version']).orderBy('id').execute();
  return {
    inbox: await count(db, 'inbox'),
    outbox: await count(db, 'outbox'),
    caseEvents: await count(db, 'case_events'),
    cases: JSON.stringify(cases),
    sent: h.lark.sent.length,
    patches: h.lark.patches.length,
  };
}

/** Waits for the bot's reply to one message and returns its text. */
async function replyTo(h: Harness, messageId: string, timeoutMs = 8000): Promise<string> {
  const m = await h.lark.waitFor((l) => l.sent.find((s) => s.replyTo === messageId), timeoutMs);
  return h.lark.textsIn(m.chatId)[h.lark.messagesIn(m.chatId).indexOf(m)] ?? '';
}

/**
 * A valid message that must be answered: once its answer is out, anything a refused request had set off would have
 * happened too. It adds one inbox row, one outbox row and one message to the footprint.
 */
async function sentinel(h: Harness): Promise<void> {
  const spec = toBot(h, USERS.wang.openId, '啦啦啦');
  const res = await h.events.message(spec);
  expect(res.status).toBe(200);
  await replyTo(h, spec.messageId ?? '');
}

/** The bot learns its own open_id from bot/v3/info at start; filtering its own messages needs it. */
async function botKnown(h: Harness): Promise<void> {
  await h.lark.waitFor((l) => l.requests.some((r) => r.path === '/open-apis/bot/v3/info' && r.status === 200));
  await new Promise((r) => setTimeout(r, 200));
}

async function processed(db: Db, eventId: string) {
  return db.selectFrom('inbox').selectAll().where('event_id', '=', eventId).where('handled_at', 'is not', null).execute();
}

describeOnBackends('transport: the webhook door (encrypted and signed)', (backend) => {
  let h: Harness;
  let drop: () => Promise<void>;
  let caseIds: Map<string, number>;
  beforeAll(async () => {
    const db = await createTestDatabase(backend);
    drop = db.drop;
    h = await startHarness({ database: db, today: '2024-03-21', encryptKey: ENCRYPT_KEY });
    caseIds = await seedCases(h, [
      { caseNo: '20240562' },
      { caseNo: '20240563' },
      { caseNo: '20240564' },
      { caseNo: '20240565' },
      { caseNo: '20240566' },
      { caseNo: '20240567' },
      { caseNo: '20240568' },
    ]);
    await botKnown(h);
  });
  afterAll(async () => {
    await h?.stop();
    await h?.lark.close();
    await drop?.();
  });

  it('Lark checks the request URL with an encrypted url_verification and gets the challenge back within 1 s', async () => {
    const started = performance.now();
    const res = await h.events.urlVerification('challenge-enc-42');
    const elapsed = performance.now() - started;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: 'challenge-enc-42' });
    expect(elapsed).toBeLessThan(1000);
  });

  it('a url_verification encrypted with another key, or carrying another token, is refused with 401', async () => {
    const otherKey = createEventSender({ url: `${h.service.url}/lark/webhook`, verificationToken: h.config.lark.verificationToken, encryptKey: 'not-our-key' });
    expect((await otherKey.urlVerification('x')).status).toBe(401);
    const otherToken = createEventSender({ url: `${h.service.url}/lark/webhook`, verificationToken: 'someone-elses-token', encryptKey: ENCRYPT_KEY });
    const res = await otherToken.urlVerification('y');
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain('"challenge"');
  });

  it('a claim with a forged signature, a stale timestamp, a wrong token, no signature or in plaintext is refused with 401 and changes nothing', async () => {
    const before = await footprint(h);
    const claim = (eventId: string) => ({
      schema: '2.0',
      header: {
        event_id: eventId,
        event_type: 'im.message.receive_v1',
        create_time: String(Date.now()),
        token: h.config.lark.verificationToken,
        app_id: h.lark.appId,
        tenant_key: 'tenant_emulated',
      },
      event: {
        sender: { sender_id: { open_id: USERS.zhang.openId }, sender_type: 'user', tenant_key: 'tenant_emulated' },
        message: {
          message_id: uid('om'),
          create_time: String(Date.now()),
          chat_id: GROUP,
          chat_type: 'group',
          message_type: 'text',
          content: JSON.stringify({ text: '@_user_1 认领 20240562' }),
          mentions: [{ key: '@_user_1', id: { open_id: h.lark.botOpenId }, name: '办理助手', tenant_key: 'tenant_emulated' }],
        },
      },
    });
    const forgedIds = Array.from({ length: 6 }, () => uid('ev_forged'));
    const [forged, stale, future, wrongToken, unsigned, plaintext] = forgedIds.map(claim) as object[];

    const statuses: number[] = [];
    // 张三 is not who signed this: the signature is made up.
    statuses.push(...(await h.events.post(forged!, { signature: 'a'.repeat(64) })).map((r) => r.status));
    // A recording of a genuine request replayed ten minutes later (correctly signed for its old timestamp).
    statuses.push(...(await h.events.post(stale!, { timestamp: String(Math.floor(Date.now() / 1000) - 600) })).map((r) => r.status));
    statuses.push(...(await h.events.post(future!, { timestamp: String(Math.floor(Date.now() / 1000) + 600) })).map((r) => r.status));
    // Signed with our key, but the token inside is not ours.
    const wrong = createEventSender({ url: `${h.service.url}/lark/webhook`, verificationToken: 'wrong-token', encryptKey: ENCRYPT_KEY });
    statuses.push(...(await wrong.post({ ...wrongToken!, header: { ...(wrongToken as { header: object }).header, token: 'wrong-token' } })).map((r) => r.status));
    // Encrypted with our key but without the signature headers: only url_verification may come unsigned.
    statuses.push(...(await h.events.post(unsigned!, { unsigned: true })).map((r) => r.status));
    // Plaintext to a service that has an Encrypt Key, signed and unsigned.
    statuses.push(...(await h.events.post(plaintext!, { rawBody: JSON.stringify(plaintext) })).map((r) => r.status));
    statuses.push(...(await h.events.post(plaintext!, { rawBody: JSON.stringify(plaintext), unsigned: true })).map((r) => r.status));
    // Signature headers with one of them missing.
    statuses.push(...(await h.events.post(forged!, { headers: { 'x-lark-request-nonce': '' }, signature: '' })).map((r) => r.status));
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 401, 401]);

    await sentinel(h);
    const after = await footprint(h);
    // Exactly the sentinel's footprint: one processed event, one answer; no case changed, no card patched.
    expect(after).toEqual({ ...before, inbox: before.inbox + 1, outbox: before.outbox + 1, sent: before.sent + 1 });
    for (const id of forgedIds) expect(await processed(h.service.database.db, id)).toEqual([]);
    const row = await caseRow(h, '20240562');
    expect(row.status).toBe('unclaimed');
    expect(row.handler_open_id).toBeNull();
  });

  it('malformed requests (not JSON, a JSON array, an event missing fields, garbage ciphertext) get no 5xx and apply nothing', async () => {
    const before = await footprint(h);
    const url = `${h.service.url}/lark/webhook`;
    const raw = async (body: string) => (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status;
    const statuses: number[] = [];
    statuses.push(await raw('this is not json'));
    statuses.push(await raw('[1,2,3]'));
    statuses.push(await raw(''));
    // Correctly signed, but the content is not what it claims to be.
    statuses.push(...(await h.events.post({}, { rawBody: '{"encrypt":"bm90IGEgY2lwaGVydGV4dA=="}' })).map((r) => r.status));
    statuses.push(...(await h.events.post({}, { rawBody: '[{"encrypt":"x"}]' })).map((r) => r.status));
    for (const s of statuses) {
      expect(s).toBeGreaterThanOrEqual(400);
      expect(s).toBeLessThan(500);
    }

    // Properly encrypted and signed events whose content is incomplete: acknowledged (so Lark stops resending), ignored.
    const header = (eventType: string, eventId: string) => ({
      event_id: eventId,
      event_type: eventType,
      create_time: String(Date.now()),
      token: h.config.lark.verificationToken,
      app_id: h.lark.appId,
      tenant_key: 'tenant_emulated',
    });
    const incomplete = [
      // no chat_id
      { schema: '2.0', header: header('im.message.receive_v1', uid('ev_bad')), event: { sender: { sender_id: { open_id: USERS.zhang.openId }, sender_type: 'user' }, message: { message_id: uid('om'), chat_type: 'group', message_type: 'text', content: '{"text":"认领 20240562"}' } } },
      // no event at all
      { schema: '2.0', header: header('im.message.receive_v1', uid('ev_bad')) },
      // event is a string
      { schema: '2.0', header: header('im.message.receive_v1', uid('ev_bad')), event: 'hello' },
      // a card click without an operator
      { schema: '2.0', header: header('card.action.trigger', uid('ev_bad')), event: { action: { value: { action: 'claim', caseId: caseIds.get('20240562') } }, context: { open_message_id: 'om_x', open_chat_id: GROUP } } },
      // an event type nobody handles
      { schema: '2.0', header: header('im.chat.disbanded_v1', uid('ev_bad')), event: { chat_id: GROUP } },
      // no header and no type
      { token: h.config.lark.verificationToken, something: 'else' },
    ];
    const answers: unknown[] = [];
    for (const body of incomplete) {
      const [res] = await h.events.post(body);
      expect(res!.status).toBe(200);
      answers.push(await res!.json());
    }
    // The incomplete click is told so, in Chinese, rather than left spinning.
    expect(JSON.stringify(answers[3])).toMatch(/无法识别/);

    await sentinel(h);
    const after = await footprint(h);
    expect(after).toEqual({ ...before, inbox: before.inbox + 1, outbox: before.outbox + 1, sent: before.sent + 1 });

    // A one-to-one message (always a command) whose content is not the JSON Lark promises: no command is read into it.
    const p2pChat = h.lark.p2pChatId(USERS.zhang.openId);
    const notJson = { schema: '2.0', header: header('im.message.receive_v1', uid('ev_bad')), event: { sender: { sender_id: { open_id: USERS.zhang.openId }, sender_type: 'user' }, message: { message_id: uid('om'), chat_id: p2pChat, chat_type: 'p2p', message_type: 'text', content: '认领 20240562' } } };
    const [res] = await h.events.post(notJson);
    expect(res!.status).toBe(200);
    await sentinel(h);
    expect((await caseRow(h, '20240562')).status).toBe('unclaimed');
    expect(await footprint(h)).toMatchObject({ caseEvents: before.caseEvents, cases: before.cases, patches: before.patches });
  });

  it('张三 claims 20240563 and Lark delivers the event 5 times: one claim, one timeline entry, one answer', async () => {
    const spec = toBot(h, USERS.zhang.openId, '认领 20240563');
    for (let i = 0; i < 5; i++) expect((await h.events.message(spec)).status).toBe(200);
    const text = await replyTo(h, spec.messageId!);
    expect(text).toContain('已认领案件 20240563');
    // Give any late copy the time to do (wrongly) what the first did.
    await sentinel(h);
    const db = h.service.database.db;
    const caseId = caseIds.get('20240563')!;
    const claims = await db.selectFrom('case_events').selectAll().where('case_id', '=', caseId).where('type', '=', 'claimed').execute();
    expect(claims).toHaveLength(1);
    expect(claims[0]!.actor_open_id).toBe(USERS.zhang.openId);
    expect(h.lark.sent.filter((s) => s.replyTo === spec.messageId)).toHaveLength(1);
    expect(await db.selectFrom('outbox').selectAll().where('reply_to', '=', spec.messageId!).execute()).toHaveLength(1);
    expect(await processed(db, spec.eventId!)).toHaveLength(1);
    const row = await caseRow(h, '20240563');
    expect(row.handler_open_id).toBe(USERS.zhang.openId);
    expect(row.version).toBe(2);
  });

  it('the same claim delivered 5 times at once is still applied once', async () => {
    const spec = toBot(h, USERS.li.openId, '认领 20240567');
    const responses = await Promise.all(Array.from({ length: 5 }, () => h.events.message(spec)));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await replyTo(h, spec.messageId!)).toContain('已认领案件 20240567');
    await sentinel(h);
    const db = h.service.database.db;
    const claims = await db.selectFrom('case_events').select('id').where('case_id', '=', caseIds.get('20240567')!).where('type', '=', 'claimed').execute();
    expect(claims).toHaveLength(1);
    expect(h.lark.sent.filter((s) => s.replyTo === spec.messageId)).toHaveLength(1);
  });

  it('李四 clicks 认领 on the card of 20240564; the click, delivered 3 times, is applied once and answered the same each time within 3 s', async () => {
    const show = toBot(h, USERS.li.openId, '20240564');
    await h.events.message(show);
    const cardMsg = await h.lark.waitFor((l) => l.sent.find((s) => s.replyTo === show.messageId && s.msgType === 'interactive'));
    const card = h.lark.latestCard(cardMsg.messageId);
    const button = findButton(card, '认领');
    const eventId = uid('ev_click');
    const click = () => h.events.cardAction({ operatorOpenId: USERS.li.openId, openMessageId: cardMsg.messageId, openChatId: GROUP, value: button.value, eventId });

    const bodies: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const res = await click();
      const elapsed = performance.now() - started;
      expect(res.status).toBe(200);
      expect(elapsed).toBeLessThan(3000);
      bodies.push(await res.json());
    }
    const first = bodies[0] as { toast?: { type: string; content: string }; card?: { type: string; data: unknown } };
    expect(first.toast?.type).toBe('success');
    expect(first.toast?.content).toContain('已认领案件 20240564');
    expect(first.card?.type).toBe('raw');
    // The card in the answer shows 李四 as the handler and no longer offers 认领.
    expect(JSON.stringify(first.card?.data)).toContain('李四');
    expect(() => findButton(first.card?.data, '认领')).toThrow();
    expect(bodies[1]).toEqual(first);
    expect(bodies[2]).toEqual(first);

    const db = h.service.database.db;
    const claims = await db.selectFrom('case_events').select('id').where('case_id', '=', caseIds.get('20240564')!).where('type', '=', 'claimed').execute();
    expect(claims).toHaveLength(1);
    expect(await processed(db, eventId)).toHaveLength(1);
    expect((await caseRow(h, '20240564')).handler_open_id).toBe(USERS.li.openId);
  });

  it('when the database is slow, a click is still answered within 3 s, and the clicked card catches up once the claim is done', async () => {
    const db = h.service.database.db;
    const show = toBot(h, USERS.zhang.openId, '20240566');
    await h.events.message(show);
    const cardMsg = await h.lark.waitFor((l) => l.sent.find((s) => s.replyTo === show.messageId && s.msgType === 'interactive'));
    const button = findButton(h.lark.latestCard(cardMsg.messageId), '认领');

    // Someone else holds the case row for 4 s (on PGlite: the whole database).
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = db.transaction().execute(async (trx) => {
      await trx.selectFrom('cases').select('id').where('case_no', '=', '20240566').forUpdate().execute();
      locked();
      await held;
    });
    await isLocked;
    const timer = setTimeout(release, 4000);
    try {
      const started = performance.now();
      const res = await h.events.cardAction({ operatorOpenId: USERS.zhang.openId, openMessageId: cardMsg.messageId, openChatId: GROUP, value: button.value, eventId: uid('ev_click') });
      const elapsed = performance.now() - started;
      expect(res.status).toBe(200);
      expect(elapsed).toBeLessThan(3000);
      const body = (await res.json()) as { toast?: { content: string }; card?: unknown };
      // Not an error and not silence: the user is told the card will follow.
      expect(body.toast?.content).toContain('正在处理');
      expect(body.card).toBeUndefined();
    } finally {
      await holder;
      clearTimeout(timer);
    }
    // The click was not lost: it is applied once the row is free.
    for (let i = 0; i < 100 && (await caseRow(h, '20240566')).handler_open_id === null; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await caseRow(h, '20240566')).handler_open_id).toBe(USERS.zhang.openId);
    // The answer could not carry the new card, so the card in the chat must be updated afterwards.
    await h.lark.waitFor((l) => l.patches.find((p) => p.messageId === cardMsg.messageId), 8000);
    expect(() => findButton(h.lark.latestCard(cardMsg.messageId), '认领')).toThrow();
    expect(JSON.stringify(h.lark.latestCard(cardMsg.messageId))).toContain('张三');
  });

  it('a slow click that ends in a refusal is not lost with the "正在处理" toast: the clicker is told privately', async () => {
    const db = h.service.database.db;
    const show = toBot(h, USERS.wang.openId, '20240568');
    await h.events.message(show);
    const cardMsg = await h.lark.waitFor((l) => l.sent.find((s) => s.replyTo === show.messageId && s.msgType === 'interactive'));
    const button = findButton(h.lark.latestCard(cardMsg.messageId), '认领');
    // 李四 claims first; then the event table is held for 4 s while 王五 clicks 认领 on the old card.
    const claim = toBot(h, USERS.li.openId, '认领 20240568');
    await h.events.message(claim);
    await replyTo(h, claim.messageId!);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    // A refusal writes nothing, but every click reads its case: what is held is the cases table, reads included.
    const holder = db.transaction().execute(async (trx) => {
      await sql`lock table cases in access exclusive mode`.execute(trx);
      locked();
      await held;
    });
    await isLocked;
    const timer = setTimeout(release, 4000);
    try {
      const res = await h.events.cardAction({ operatorOpenId: USERS.wang.openId, openMessageId: cardMsg.messageId, openChatId: GROUP, value: button.value, eventId: uid('ev_click') });
      expect(((await res.json()) as { toast?: { content: string } }).toast?.content).toContain('正在处理');
    } finally {
      await holder;
      clearTimeout(timer);
    }
    const note = await h.lark.waitFor((l) => l.sent.find((m) => m.receiveId === USERS.wang.openId && JSON.stringify(m.content).includes('没有完成')), 8000);
    expect((note.content as { text: string }).text).toBe('您刚才的操作没有完成：该案件已由李四认领。');
    expect((await caseRow(h, '20240568')).handler_open_id).toBe(USERS.li.openId);
  });

  it('a handler that fails never answers 5xx: the sender is told in Chinese and nothing is half-done', async () => {
    const db = h.service.database.db;
    const show = toBot(h, USERS.wang.openId, '20240565');
    await h.events.message(show);
    const cardMsg = await h.lark.waitFor((l) => l.sent.find((s) => s.replyTo === show.messageId && s.msgType === 'interactive'));
    const claimButton = findButton(h.lark.latestCard(cardMsg.messageId), '认领');

    // The timeline table disappears for a moment: every change to a case fails while it is gone.
    await sql`alter table case_events rename to case_events_away`.execute(db);
    let messageStatus: number;
    let clickStatus: number;
    let clickBody: { toast?: { type: string; content: string } };
    const spec = toBot(h, USERS.wang.openId, '认领 20240565');
    try {
      messageStatus = (await h.events.message(spec)).status;
      const text = await replyTo(h, spec.messageId!);
      expect(text).toContain('出错');
      expect(text).toContain('没有做任何更改');
      const res = await h.events.cardAction({ operatorOpenId: USERS.wang.openId, openMessageId: cardMsg.messageId, openChatId: GROUP, value: claimButton.value, eventId: uid('ev_click') });
      clickStatus = res.status;
      clickBody = (await res.json()) as typeof clickBody;
    } finally {
      await sql`alter table case_events_away rename to case_events`.execute(db);
    }
    expect(messageStatus).toBe(200);
    expect(clickStatus).toBe(200);
    expect(clickBody.toast?.type).toBe('error');
    expect(clickBody.toast?.content).toMatch(/操作失败/);
    const row = await caseRow(h, '20240565');
    expect(row.status).toBe('unclaimed');
    expect(row.handler_open_id).toBeNull();
    // The failed message is marked handled, so a resend does not produce a second apology.
    expect(await processed(db, spec.eventId!)).toHaveLength(1);
    await h.events.message(spec);
    await sentinel(h);
    expect(h.lark.sent.filter((s) => s.replyTo === spec.messageId)).toHaveLength(1);
  });

  it("when Lark's contact API fails, a newcomer's claim still goes through (under a placeholder name) and is answered", async () => {
    h.lark.addUser({ openId: 'ou_zhouxin', name: '周新' });
    h.lark.failNext(1, { status: 500, paths: /^\/open-apis\/contact\// });
    const spec = toBot(h, 'ou_zhouxin', '认领 20240562');
    const res = await h.events.message(spec);
    expect(res.status).toBe(200);
    expect(await replyTo(h, spec.messageId!)).toContain('已认领案件 20240562');
    expect(h.lark.requests.some((r) => r.path === '/open-apis/contact/v3/users/ou_zhouxin' && r.status === 500)).toBe(true);
    expect((await caseRow(h, '20240562')).handler_open_id).toBe('ou_zhouxin');
  });

  it('an unknown case number and garbage text get a clear Chinese answer', async () => {
    const unknown = toBot(h, USERS.zhang.openId, '认领 20249999');
    await h.events.message(unknown);
    expect(await replyTo(h, unknown.messageId!)).toContain('找不到案号为“20249999”的案件');
    const garbage = toBot(h, USERS.zhang.openId, '今天天气怎么样');
    await h.events.message(garbage);
    expect(await replyTo(h, garbage.messageId!)).toMatch(/没有看懂|帮助/);
  });
});

describeOnBackends('transport: who the bot listens to (plaintext, token only)', (backend) => {
  let h: Harness;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const db = await createTestDatabase(backend);
    drop = db.drop;
    h = await startHarness({ database: db, today: '2024-03-21' });
    await seedCases(h, [{ caseNo: '20240562' }, { caseNo: '20240563' }, { caseNo: '20240564' }]);
    await botKnown(h);
  });
  afterAll(async () => {
    await h?.stop();
    await h?.lark.close();
    await drop?.();
  });

  it('a plaintext url_verification is answered with its challenge within 1 s', async () => {
    const started = performance.now();
    const res = await h.events.urlVerification('challenge-plain-7');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: 'challenge-plain-7' });
  });

  it('a wrong verification token, or an encrypted body the service has no key for, is refused with 401 and changes nothing', async () => {
    const before = await footprint(h);
    const wrong = createEventSender({ url: `${h.service.url}/lark/webhook`, verificationToken: 'stolen-or-guessed', emulator: h.lark });
    expect((await wrong.urlVerification('z')).status).toBe(401);
    const spec = toBot(h, USERS.zhang.openId, '认领 20240562');
    expect((await wrong.message(spec)).status).toBe(401);
    const noToken = createEventSender({ url: `${h.service.url}/lark/webhook`, emulator: h.lark });
    const spec2 = toBot(h, USERS.zhang.openId, '认领 20240562');
    expect((await noToken.message(spec2)).status).toBe(401);
    const encrypted = createEventSender({ url: `${h.service.url}/lark/webhook`, verificationToken: h.config.lark.verificationToken, encryptKey: 'k', emulator: h.lark });
    const spec3 = toBot(h, USERS.zhang.openId, '认领 20240562');
    expect((await encrypted.message(spec3)).status).toBe(401);

    await sentinel(h);
    expect(await footprint(h)).toEqual({ ...before, inbox: before.inbox + 1, outbox: before.outbox + 1, sent: before.sent + 1 });
    for (const s of [spec, spec2, spec3]) expect(await processed(h.service.database.db, s.eventId!)).toEqual([]);
    expect((await caseRow(h, '20240562')).status).toBe('unclaimed');
  });

  it("the bot's own messages are ignored, whether marked as sent by an app or sent from the bot's open_id", async () => {
    const before = await footprint(h);
    const fromApp = toBot(h, 'ou_some_other_app', '认领 20240562', { senderType: 'app' });
    const fromBot = { ...toBot(h, h.lark.botOpenId, '认领 20240562'), chatType: 'p2p' as const, chatId: h.lark.p2pChatId(USERS.zhang.openId), text: '认领 20240562', mentions: [] };
    const fromBotInGroup = toBot(h, h.lark.botOpenId, '认领 20240562');
    for (const spec of [fromApp, fromBot, fromBotInGroup]) expect((await h.events.message(spec)).status).toBe(200);
    await sentinel(h);
    // Each is stored like any event (and finished at once); none of them does anything.
    expect(await footprint(h)).toEqual({ ...before, inbox: before.inbox + 4, outbox: before.outbox + 1, sent: before.sent + 1 });
    for (const s of [fromApp, fromBot, fromBotInGroup]) {
      expect(h.lark.sent.filter((m) => m.replyTo === s.messageId)).toEqual([]);
      expect(await h.service.database.db.selectFrom('inbox').select('id').where('event_id', '=', s.eventId!).execute()).toHaveLength(1);
    }
  });

  it('in a group only messages that @mention the bot are commands; in a one-to-one chat every message is', async () => {
    const before = await footprint(h);
    const plain: MessageSpec = { chatId: GROUP, chatType: 'group', senderOpenId: USERS.zhang.openId, text: '认领 20240562', messageId: uid('om'), eventId: uid('ev') };
    const otherMention: MessageSpec = {
      chatId: GROUP,
      chatType: 'group',
      senderOpenId: USERS.zhang.openId,
      text: '@_user_1 认领 20240562',
      mentions: [{ key: '@_user_1', openId: USERS.li.openId, name: USERS.li.name }],
      messageId: uid('om'),
      eventId: uid('ev'),
    };
    for (const spec of [plain, otherMention]) expect((await h.events.message(spec)).status).toBe(200);
    await sentinel(h);
    expect(await footprint(h)).toEqual({ ...before, inbox: before.inbox + 3, outbox: before.outbox + 1, sent: before.sent + 1 });
    expect((await caseRow(h, '20240562')).status).toBe('unclaimed');

    // The same words to the bot in a one-to-one chat, no mention needed.
    const p2p: MessageSpec = { chatId: h.lark.p2pChatId(USERS.zhang.openId), chatType: 'p2p', senderOpenId: USERS.zhang.openId, text: '认领 20240562', messageId: uid('om'), eventId: uid('ev') };
    await h.events.message(p2p);
    expect(await replyTo(h, p2p.messageId!)).toContain('已认领案件 20240562');
    const row = await caseRow(h, '20240562');
    expect(row.handler_open_id).toBe(USERS.zhang.openId);
    expect(row.status).toBe('in_progress');

    // And with the bot mentioned in the group it is a command too.
    const mentioned = toBot(h, USERS.li.openId, '认领 20240563');
    await h.events.message(mentioned);
    expect(await replyTo(h, mentioned.messageId!)).toContain('已认领案件 20240563');
  });
});
