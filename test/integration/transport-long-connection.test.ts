import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  ask,
  caseRow,
  click,
  createTestDatabase,
  describeOnBackends,
  openCaseCard,
  seedCases,
  startHarness,
  timelineOf,
  toBot,
  USERS,
  type Harness,
} from '../support/harness.ts';
import { cardTexts } from '../support/lark/cards.ts';
import { startLarkEmulator } from '../support/lark/emulator.ts';

// LARK_MODE=ws end to end: the service's real WSClient asks the emulator's /callback/ws/endpoint, opens the socket,
// and staff messages and card clicks arrive as protobuf frames. The message's effects land in the database and the
// chat; the click's toast and card travel back inside the client's ack frame, as Lark reads them.

describeOnBackends('transport: the long connection (LARK_MODE=ws)', (backend) => {
  let h: Harness;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await createTestDatabase(backend);
    drop = database.drop;
    // Lark's default ReconnectNonce lets a client wait up to 30 s before it reconnects; this suite's Lark says 0.
    const lark = await startLarkEmulator({ users: Object.values(USERS), longConnection: { ReconnectNonce: 0, ReconnectInterval: 1 } });
    h = await startHarness({ database, lark, today: '2024-03-22', env: { LARK_MODE: 'ws' } });
    await seedCases(h, [{ caseNo: '20240562', title: '关于加强社区养老服务设施建设的建议' }, { caseNo: '20240563' }]);
  });
  afterAll(async () => {
    await h?.stop();
    await h?.lark.close();
    await drop?.();
  });

  it('connects through the endpoint with the app credentials and serves no webhook', async () => {
    await h.lark.waitForLongConnection(1, 10_000);
    expect(h.lark.longConnections).toBe(1);
    const endpointCalls = h.lark.requests.filter((r) => r.path === '/callback/ws/endpoint');
    expect(endpointCalls.map((r) => r.code)).toEqual([0]);
    expect((await fetch(`${h.service.url}/lark/webhook`, { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('张三 types 认领 20240562 in the group: the frame is acked, the case is his, and the bot answers in the chat', async () => {
    const answer = await ask(h, USERS.zhang, '认领 20240562');
    expect(answer.text).toContain('已认领案件 20240562');
    const row = await caseRow(h, '20240562');
    expect(row.status).toBe('in_progress');
    expect(row.handler_open_id).toBe(USERS.zhang.openId);
    expect((await timelineOf(h, '20240562')).map((e) => e.type)).toEqual(['imported', 'claimed']);
  });

  it('李四 clicks 认领 on the card of 20240563: the ack carries the toast and the redrawn card, and the case is his', async () => {
    const card = await openCaseCard(h, USERS.li, '20240563');
    const answer = await click(h, USERS.li, card, '认领');
    expect(answer.status).toBe(200);
    expect(answer.toast?.type).toBe('success');
    expect(answer.toast?.content).toContain('20240563');
    expect(cardTexts(answer.card).join('\n')).toContain('李四');
    const row = await caseRow(h, '20240563');
    expect(row.status).toBe('in_progress');
    expect(row.handler_open_id).toBe(USERS.li.openId);
  });

  it('a refused click comes back through the ack too: 王五 clicks 登记面商 on 李四’s case and nothing changes', async () => {
    const card = await openCaseCard(h, USERS.wang, '20240563');
    const before = await caseRow(h, '20240563');
    const answer = await click(h, USERS.wang, card, '登记面商', {
      contact_method: '电话',
      contact_date: '2024-03-21 +0800',
      contact_who: '代表本人',
      contact_note: '电话沟通',
    });
    expect(answer.status).toBe(200);
    expect(answer.toast?.type).toBe('error');
    expect(answer.toast?.content).toContain('李四');
    const after = await caseRow(h, '20240563');
    expect(after.version).toBe(before.version);
    expect(after.status).toBe('in_progress');
  });

  it('the same event pushed twice (Lark resends what it thinks was lost) is applied once', async () => {
    const spec = toBot(h, USERS.zhang.openId, '进展 20240562 已与社会救助科对接');
    h.lark.recordIncoming({ messageId: spec.messageId ?? '', chatId: spec.chatId, senderOpenId: USERS.zhang.openId });
    const [first, second] = await h.events.post(
      {
        schema: '2.0',
        header: { event_id: spec.eventId, event_type: 'im.message.receive_v1', create_time: String(Date.now()), token: '', app_id: h.lark.appId, tenant_key: 't' },
        event: {
          sender: { sender_id: { open_id: USERS.zhang.openId }, sender_type: 'user', tenant_key: 't' },
          message: {
            message_id: spec.messageId,
            create_time: String(Date.now()),
            chat_id: spec.chatId,
            chat_type: 'group',
            message_type: 'text',
            content: JSON.stringify({ text: spec.text }),
            mentions: [{ key: '@_user_1', id: { open_id: h.lark.botOpenId }, name: '办理助手', tenant_key: 't' }],
          },
        },
      },
      { duplicates: 1 },
    );
    expect(first?.status).toBe(200);
    expect(second?.status).toBe(200);
    await h.lark.waitFor(() => h.lark.sent.find((m) => m.replyTo === spec.messageId), 8000);
    await new Promise((r) => setTimeout(r, 300));
    const progress = (await timelineOf(h, '20240562')).filter((e) => e.type === 'progress');
    expect(progress).toHaveLength(1);
  });

  it('after the connection is cut, the client reconnects with a fresh ticket and messages flow again', async () => {
    h.lark.dropLongConnections();
    await h.lark.waitFor(() => (h.lark.longConnections === 0 ? true : null));
    await h.lark.waitForLongConnection(1, 10_000);
    expect(h.lark.requests.filter((r) => r.path === '/callback/ws/endpoint').map((r) => r.code)).toEqual([0, 0]);
    const answer = await ask(h, USERS.zhang, '查询 20240562');
    expect(answer.text).toContain('20240562');
  });
});
