// The Lark emulator and event sender proven against the real @larksuiteoapi/node-sdk: if these pass,
// Banli's integration tests talk to something that behaves like Lark, not like Banli's own idea of it.

import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import * as lark from '@larksuiteoapi/node-sdk';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findButton, findButtons } from '../support/lark/cards.ts';
import { LARK_CODES } from '../support/lark/codes.ts';
import { startLarkEmulator, type LarkEmulator } from '../support/lark/emulator.ts';
import { createEventSender, encryptForLark, signLark } from '../support/lark/events.ts';

const ZHANG = { openId: 'ou_zhangsan0000000000000000000001', name: '张三' };
const LI = { openId: 'ou_lisi000000000000000000000000002', name: '李四' };
const CHAT = 'oc_minzhengju00000000000000000001';
const OTHER_CHAT = 'oc_bangongshi0000000000000000002';

const silent = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };

function sdkFor(em: LarkEmulator, overrides: { appSecret?: string } = {}): lark.Client {
  // A fresh token cache per client: the SDK's default cache is process-wide.
  return new lark.Client({
    appId: em.appId,
    appSecret: overrides.appSecret ?? em.appSecret,
    domain: em.url,
    loggerLevel: lark.LoggerLevel.error,
    logger: silent,
    cache: new lark.DefaultCache(),
  });
}

interface Rejection {
  status?: number;
  code?: number;
  errno?: string;
  headers?: Record<string, string>;
}

async function rejection(promise: Promise<unknown>): Promise<Rejection> {
  try {
    await promise;
  } catch (err) {
    const e = err as { code?: string; response?: { status: number; data?: { code?: number }; headers?: Record<string, string> } };
    const out: Rejection = {};
    if (e.response) {
      out.status = e.response.status;
      if (typeof e.response.data?.code === 'number') out.code = e.response.data.code;
      if (e.response.headers) out.headers = e.response.headers;
    }
    if (typeof e.code === 'string') out.errno = e.code;
    return out;
  }
  throw new Error('expected the call to be rejected');
}

function text(s: string): string {
  return JSON.stringify({ text: s });
}

function claimCard(caseNo: string, title: string): Record<string, unknown> {
  return {
    schema: '2.0',
    config: { update_multi: true },
    header: { title: { tag: 'plain_text', content: `待认领 ${caseNo}` }, template: 'blue' },
    body: {
      elements: [
        { tag: 'markdown', content: `**${title}**` },
        {
          tag: 'column_set',
          columns: [
            {
              tag: 'column',
              elements: [
                {
                  tag: 'button',
                  text: { tag: 'plain_text', content: '认领' },
                  behaviors: [{ type: 'callback', value: { action: 'claim', caseNo } }],
                },
              ],
            },
          ],
        },
        {
          tag: 'form',
          name: 'adjust_form',
          elements: [
            { tag: 'input', name: 'reason', placeholder: { tag: 'plain_text', content: '调整理由' } },
            {
              tag: 'button',
              name: 'submit_adjust',
              text: { tag: 'plain_text', content: '申请调整' },
              form_action_type: 'submit',
              behaviors: [{ type: 'callback', value: { action: 'adjust', caseNo } }],
            },
          ],
        },
        {
          tag: 'collapsible_panel',
          elements: [
            {
              tag: 'interactive_container',
              elements: [
                {
                  tag: 'button',
                  text: { tag: 'plain_text', content: '查看详情' },
                  behaviors: [{ type: 'open_url', default_url: 'https://example.invalid' }],
                },
              ],
            },
          ],
        },
      ],
    },
  };
}

describe('Lark emulator, driven by the real SDK', () => {
  let em: LarkEmulator;
  let client: lark.Client;

  beforeEach(async () => {
    em = await startLarkEmulator({ users: [ZHANG, LI] });
    client = sdkFor(em);
  });
  afterEach(async () => {
    await em.close();
  });

  const sendText = (chatId: string, body: string, uuid?: string) =>
    client.im.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: chatId, msg_type: 'text', content: text(body), ...(uuid ? { uuid } : {}) },
    });

  it('issues a tenant token once, then answers 99991663 after expireTokens until a new token is fetched', async () => {
    await sendText(CHAT, '第一条');
    await sendText(CHAT, '第二条');
    const tokenCalls = () => em.requests.filter((r) => r.path === '/open-apis/auth/v3/tenant_access_token/internal');
    expect(tokenCalls()).toHaveLength(1);
    expect(tokenCalls()[0]?.status).toBe(200);

    em.expireTokens();
    const stale = await rejection(sendText(CHAT, '第三条'));
    expect(stale).toMatchObject({ status: 400, code: LARK_CODES.invalidToken.code });
    expect(em.sent.map((m) => m.content)).toEqual([{ text: '第一条' }, { text: '第二条' }]);

    // A client without the cached token asks again and is served.
    const fresh = sdkFor(em);
    const res = await fresh.im.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: CHAT, msg_type: 'text', content: text('第三条') },
    });
    expect(res.code).toBe(0);
    expect(tokenCalls()).toHaveLength(2);
  });

  it('refuses a wrong app secret and a request without a token', async () => {
    const wrong = sdkFor(em, { appSecret: 'not-the-secret' });
    await expect(wrong.im.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: CHAT, msg_type: 'text', content: text('x') },
    })).rejects.toBeTruthy();
    expect(em.requests[0]).toMatchObject({ status: 400, code: LARK_CODES.authBadSecret.code });
    expect(em.sent).toHaveLength(0);

    const bare = await fetch(`${em.url}/open-apis/im/v1/messages?receive_id_type=chat_id`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ receive_id: CHAT, msg_type: 'text', content: text('x') }),
    });
    expect(bare.status).toBe(400);
    expect(((await bare.json()) as { code: number }).code).toBe(LARK_CODES.missingToken.code);
  });

  it('records a created text message and answers with Lark\'s message shape', async () => {
    const res = await sendText(CHAT, '20240562 已交办', 'uuid-create-1');
    expect(res.code).toBe(0);
    const data = res.data!;
    expect(data.message_id).toMatch(/^om_/);
    expect(data.chat_id).toBe(CHAT);
    expect(data.msg_type).toBe('text');
    expect(data.sender).toMatchObject({ id: em.appId, id_type: 'app_id', sender_type: 'app' });
    expect(JSON.parse(data.body!.content)).toEqual({ text: '20240562 已交办' });
    expect(em.sent).toEqual([
      {
        messageId: data.message_id,
        chatId: CHAT,
        receiveId: CHAT,
        receiveIdType: 'chat_id',
        msgType: 'text',
        content: { text: '20240562 已交办' },
        uuid: 'uuid-create-1',
        at: expect.any(Number),
      },
    ]);
    expect(em.textsIn(CHAT)).toEqual(['20240562 已交办']);
    expect(em.textsIn(OTHER_CHAT)).toEqual([]);
  });

  it('sends to a user by open_id into the bot\'s one-to-one chat, and refuses users outside its scope', async () => {
    const res = await client.im.message.create({
      params: { receive_id_type: 'open_id' },
      data: { receive_id: ZHANG.openId, msg_type: 'text', content: text('张三，您有一件待认领') },
    });
    expect(res.data?.chat_id).toBe(em.p2pChatId(ZHANG.openId));
    expect(em.messagesIn(em.p2pChatId(ZHANG.openId))).toHaveLength(1);
    expect(em.p2pChatId(ZHANG.openId)).not.toBe(em.p2pChatId(LI.openId));

    const stranger = await rejection(client.im.message.create({
      params: { receive_id_type: 'open_id' },
      data: { receive_id: 'ou_stranger', msg_type: 'text', content: text('x') },
    }));
    expect(stranger).toMatchObject({ status: 400, code: LARK_CODES.userUnavailable.code });
    const malformed = await rejection(sendText('not-a-chat', 'x'));
    expect(malformed).toMatchObject({ status: 400, code: LARK_CODES.invalidReceiveId.code });
  });

  it('replies to a user\'s message in its chat, in a thread when asked', async () => {
    em.recordIncoming({ messageId: 'om_user_question', chatId: CHAT, senderOpenId: ZHANG.openId });
    const res = await client.im.message.reply({
      path: { message_id: 'om_user_question' },
      data: { msg_type: 'text', content: text('已收到'), reply_in_thread: true, uuid: 'reply-1' },
    });
    expect(res.data).toMatchObject({ chat_id: CHAT, parent_id: 'om_user_question', root_id: 'om_user_question' });
    expect(res.data?.thread_id).toMatch(/^omt_/);
    expect(em.sent[0]).toMatchObject({
      chatId: CHAT,
      replyTo: 'om_user_question',
      replyInThread: true,
      uuid: 'reply-1',
      content: { text: '已收到' },
    });

    const unknown = await rejection(client.im.message.reply({
      path: { message_id: 'om_never_existed' },
      data: { msg_type: 'text', content: text('x') },
    }));
    expect(unknown).toMatchObject({ status: 400, code: LARK_CODES.invalidParam.code });
    expect(em.sent).toHaveLength(1);
  });

  it('patches a card the app sent; cardsIn and textsIn show the latest version', async () => {
    const created = await client.im.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: CHAT, msg_type: 'interactive', content: JSON.stringify(claimCard('20240562', '关于加强养老服务的建议')) },
    });
    const messageId = created.data!.message_id!;
    expect(findButton(em.cardsIn(CHAT)[0], '认领').value).toEqual({ action: 'claim', caseNo: '20240562' });

    const claimed = {
      schema: '2.0',
      config: { update_multi: true },
      header: { title: { tag: 'plain_text', content: '已认领 20240562' } },
      body: { elements: [{ tag: 'markdown', content: '张三 已认领' }] },
    };
    const patched = await client.im.message.patch({ path: { message_id: messageId }, data: { content: JSON.stringify(claimed) } });
    expect(patched.code).toBe(0);
    expect(em.patches).toEqual([{ messageId, content: claimed, at: expect.any(Number) }]);
    expect(em.latestCard(messageId)).toEqual(claimed);
    expect(em.cardsIn(CHAT)).toEqual([claimed]);
    expect(em.textsIn(CHAT)).toEqual(['已认领 20240562\n张三 已认领']);
    expect(findButtons(em.cardsIn(CHAT)[0])).toEqual([]);
    // The send record keeps what was sent first.
    expect(findButtons(em.sent[0]?.content).map((b) => b.text)).toEqual(['认领', '申请调整', '查看详情']);
  });

  it('only patches interactive messages this app sent', async () => {
    const sentText = await sendText(CHAT, '普通文本');
    const notCard = await rejection(client.im.message.patch({
      path: { message_id: sentText.data!.message_id! },
      data: { content: JSON.stringify(claimCard('1', 'x')) },
    }));
    expect(notCard).toMatchObject({ status: 400, code: LARK_CODES.invalidParam.code });

    em.recordIncoming({ messageId: 'om_from_zhang', chatId: CHAT, senderOpenId: ZHANG.openId, msgType: 'interactive' });
    const notOurs = await rejection(client.im.message.patch({
      path: { message_id: 'om_from_zhang' },
      data: { content: JSON.stringify(claimCard('1', 'x')) },
    }));
    expect(notOurs).toMatchObject({ status: 400, code: LARK_CODES.noPermission.code });
    expect(em.patches).toEqual([]);
  });

  it('sends a message once per uuid: the repeat returns the first message', async () => {
    const first = await sendText(CHAT, '督办通知', 'dup-uuid');
    const second = await sendText(CHAT, '督办通知', 'dup-uuid');
    expect(second.data?.message_id).toBe(first.data?.message_id);
    expect(em.sent).toHaveLength(1);
    const third = await sendText(CHAT, '督办通知', 'other-uuid');
    expect(third.data?.message_id).not.toBe(first.data?.message_id);
    expect(em.sent).toHaveLength(2);
  });

  it('answers 230020 to the sixth send into one chat within a second, and lets other chats through', async () => {
    for (let i = 1; i <= 5; i++) await sendText(CHAT, `第${i}条`);
    const sixth = await rejection(sendText(CHAT, '第6条'));
    expect(sixth).toMatchObject({ status: 400, code: LARK_CODES.chatRateLimited.code });
    expect((await sendText(OTHER_CHAT, '别的群')).code).toBe(0);
    expect(em.messagesIn(CHAT)).toHaveLength(5);

    await new Promise((r) => setTimeout(r, 1050));
    expect((await sendText(CHAT, '一秒之后')).code).toBe(0);
  });

  it('refuses a card over 30 KB, broken card JSON and JSON 1.0 tags in a 2.0 card', async () => {
    const card = (filler: number) => ({
      schema: '2.0',
      body: { elements: [{ tag: 'markdown', content: '办'.repeat(filler) }] },
    });
    const sendCard = (content: string) =>
      client.im.message.create({
        params: { receive_id_type: 'chat_id' },
        data: { receive_id: CHAT, msg_type: 'interactive', content },
      });
    // '办' is 3 bytes in UTF-8: 10,500 of them is ~31.5 KB, 9,500 is ~28.5 KB.
    expect(await rejection(sendCard(JSON.stringify(card(10_500))))).toMatchObject({
      status: 400,
      code: LARK_CODES.contentTooLong.code,
    });
    expect((await sendCard(JSON.stringify(card(9_500)))).code).toBe(0);
    expect(await rejection(sendCard('{"schema":"2.0",'))).toMatchObject({ code: LARK_CODES.cardContentFailed.code });
    expect(await rejection(sendCard(JSON.stringify({ schema: '2.0', body: { elements: [{ tag: 'action', actions: [] }] } }))))
      .toMatchObject({ code: LARK_CODES.cardContentFailed.code });
    expect(await rejection(client.im.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: CHAT, msg_type: 'text', content: 'not json' },
    }))).toMatchObject({ code: LARK_CODES.invalidParam.code });
    expect(em.sent).toHaveLength(1);

    const first = em.sent[0]!.messageId;
    expect(await rejection(client.im.message.patch({
      path: { message_id: first },
      data: { content: JSON.stringify(card(10_500)) },
    }))).toMatchObject({ code: LARK_CODES.contentTooLong.code });
  });

  it('fails the next request as told, then serves normally', async () => {
    em.failNext(1, { status: 500 });
    expect(await rejection(sendText(CHAT, '会失败'))).toMatchObject({ status: 500, code: LARK_CODES.internal.code });
    expect((await sendText(CHAT, '会成功')).code).toBe(0);
    expect(em.sent.map((m) => m.content)).toEqual([{ text: '会成功' }]);
    const sends = em.requests.filter((r) => r.path === '/open-apis/im/v1/messages');
    expect(sends.map((r) => [r.status, r.fault])).toEqual([[500, true], [200, false]]);
  });

  it('injects 429 with rate-limit headers, network errors, path-scoped faults and latency', async () => {
    em.failNext(1, { status: 429 });
    const limited = await rejection(sendText(CHAT, 'x'));
    expect(limited).toMatchObject({ status: 429, code: LARK_CODES.appRateLimited.code });
    expect(limited.headers?.['x-ogw-ratelimit-reset']).toBe('1');

    em.failNext(1, { networkError: true });
    const dropped = await rejection(sendText(CHAT, 'x'));
    expect(dropped.status).toBeUndefined();
    expect(dropped.errno).toBe('ECONNRESET');

    em.failNext(1, { code: 230002, msg: 'The bot can not be outside the group.', paths: /\/reply$/ });
    expect((await sendText(CHAT, '不受影响')).code).toBe(0);
    em.recordIncoming({ messageId: 'om_q', chatId: CHAT, senderOpenId: LI.openId });
    expect(await rejection(client.im.message.reply({ path: { message_id: 'om_q' }, data: { msg_type: 'text', content: text('x') } })))
      .toMatchObject({ status: 400, code: 230002 });

    em.failFor(400, { status: 503 });
    expect(await rejection(sendText(CHAT, 'x'))).toMatchObject({ status: 503 });
    await new Promise((r) => setTimeout(r, 450));
    expect((await sendText(CHAT, '恢复')).code).toBe(0);

    em.slow(120);
    const started = Date.now();
    await sendText(OTHER_CHAT, '慢');
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    em.reset();
    em.failNext(3, { status: 500 });
    em.reset();
    expect((await sendText(OTHER_CHAT, '重置后')).code).toBe(0);
  });

  it('answers HTTP 429 with x-ogw-ratelimit headers above the per-app limit', async () => {
    const tight = await startLarkEmulator({ perAppQps: 3 });
    try {
      const tokenRes = await fetch(`${tight.url}/open-apis/auth/v3/tenant_access_token/internal`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ app_id: tight.appId, app_secret: tight.appSecret }),
      });
      const token = ((await tokenRes.json()) as { tenant_access_token: string; expire: number }).tenant_access_token;
      expect(token).toMatch(/^t-/);
      const statuses: number[] = [];
      let last: globalThis.Response | undefined;
      for (let i = 0; i < 4; i++) {
        last = await fetch(`${tight.url}/open-apis/bot/v3/info`, { headers: { authorization: `Bearer ${token}` } });
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(last?.headers.get('x-ogw-ratelimit-limit')).toBe('3');
      expect(Number(last?.headers.get('x-ogw-ratelimit-reset'))).toBeGreaterThanOrEqual(1);
      expect(((await last!.json()) as { code: number }).code).toBe(99991400);
    } finally {
      await tight.close();
    }
  });

  it('reports the bot outside `data`, and looks users up by open_id', async () => {
    const info = (await client.request({ url: '/open-apis/bot/v3/info', method: 'GET' })) as {
      code: number;
      bot: { open_id: string; app_name: string; activate_status: number };
      data?: unknown;
    };
    expect(info.code).toBe(0);
    expect(info.bot).toMatchObject({ open_id: em.botOpenId, app_name: '办理助手' });
    expect(info.data).toBeUndefined();

    const user = await client.contact.user.get({ path: { user_id: LI.openId }, params: { user_id_type: 'open_id' } });
    expect(user.data?.user).toMatchObject({ open_id: LI.openId, name: '李四' });
    const missing = await rejection(client.contact.user.get({ path: { user_id: 'ou_nobody' }, params: { user_id_type: 'open_id' } }));
    expect(missing).toMatchObject({ status: 400, code: LARK_CODES.noUserAuthority.code });
  });

  it('waitFor resolves when the awaited message arrives and says what was sent when it times out', async () => {
    setTimeout(() => void sendText(CHAT, '张三 已认领 20240562'), 50);
    const found = await em.waitFor((e) => e.textsIn(CHAT).find((t) => t.includes('已认领')), 2000);
    expect(found).toBe('张三 已认领 20240562');
    await expect(em.waitFor((e) => e.textsIn(CHAT).find((t) => t.includes('已答复')), 100)).rejects.toThrow(
      /timed out after 100ms; 1 message\(s\) sent:[\s\S]*已认领/,
    );
  });
});

describe('findButtons', () => {
  it('finds buttons in columns, forms and panels with their callback values and form', () => {
    const buttons = findButtons(claimCard('20240562', '建议'));
    expect(buttons.map((b) => [b.text, b.value, b.isSubmit, b.formName ?? null])).toEqual([
      ['认领', { action: 'claim', caseNo: '20240562' }, false, null],
      ['申请调整', { action: 'adjust', caseNo: '20240562' }, true, 'adjust_form'],
      ['查看详情', undefined, false, null],
    ]);
    expect(buttons[1]?.name).toBe('submit_adjust');
    expect(() => findButton(claimCard('1', 'x'), '退回')).toThrow(/buttons: 认领, 申请调整, 查看详情/);
    expect(findButtons({ not: 'a card' })).toEqual([]);
  });
});

// ── the event sender ────────────────────────────────────────────────────────

interface Captured {
  raw: string;
  headers: Record<string, string | string[] | undefined>;
}

async function captureServer(): Promise<{ url: string; received: Captured[]; close(): Promise<void> }> {
  const received: Captured[] = [];
  const app = express();
  app.use(express.text({ type: '*/*' }));
  app.post('/lark/webhook', (req, res) => {
    received.push({ raw: req.body as string, headers: req.headers });
    res.json({});
  });
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}/lark/webhook`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What the SDK's adapters hand to a dispatcher: the parsed body with the headers on its prototype. */
function sdkRequest(c: Captured): Record<string, unknown> {
  return Object.assign(Object.create({ headers: c.headers }) as Record<string, unknown>, JSON.parse(c.raw) as object);
}

describe('event sender, checked by the SDK\'s own decryption and verification', () => {
  const encryptKey = 'banli-encrypt-key-测试';
  const verificationToken = 'v-token-123';
  let hook: Awaited<ReturnType<typeof captureServer>>;

  beforeEach(async () => {
    hook = await captureServer();
  });
  afterEach(async () => {
    await hook.close();
  });

  it('encrypts a message event that the SDK decrypts, verifies and dispatches', async () => {
    const sender = createEventSender({ url: hook.url, appId: 'cli_banli', verificationToken, encryptKey });
    const response = await sender.message({
      chatId: CHAT,
      chatType: 'group',
      senderOpenId: ZHANG.openId,
      text: '@_user_1 认领 20240562',
      mentions: [{ openId: 'ou_bot', name: '办理助手' }],
      messageId: 'om_msg_1',
      eventId: 'evt_1',
    });
    expect(response.status).toBe(200);
    const [got] = hook.received;
    const body = JSON.parse(got!.raw) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['encrypt']);

    const decrypted = JSON.parse(new lark.AESCipher(encryptKey).decrypt(body.encrypt)) as {
      schema: string;
      header: Record<string, string>;
      event: { sender: Record<string, unknown>; message: Record<string, unknown> };
    };
    expect(decrypted.schema).toBe('2.0');
    expect(decrypted.header).toMatchObject({
      event_id: 'evt_1',
      event_type: 'im.message.receive_v1',
      token: verificationToken,
      app_id: 'cli_banli',
    });
    expect(decrypted.header.create_time).toMatch(/^\d{13}$/);
    expect(decrypted.event.sender).toMatchObject({ sender_type: 'user', sender_id: { open_id: ZHANG.openId } });
    expect(decrypted.event.message).toMatchObject({
      message_id: 'om_msg_1',
      chat_id: CHAT,
      chat_type: 'group',
      message_type: 'text',
      content: JSON.stringify({ text: '@_user_1 认领 20240562' }),
      mentions: [{ key: '@_user_1', name: '办理助手', id: { open_id: 'ou_bot' } }],
    });

    const timestamp = got!.headers['x-lark-request-timestamp'] as string;
    const nonce = got!.headers['x-lark-request-nonce'] as string;
    expect(timestamp).toMatch(/^\d{10}$/);
    const byHand = createHash('sha256').update(timestamp + nonce + encryptKey + got!.raw).digest('hex');
    expect(got!.headers['x-lark-signature']).toBe(byHand);

    let dispatched: Record<string, unknown> | undefined;
    const dispatcher = new lark.EventDispatcher({ encryptKey, verificationToken, logger: silent }).register({
      'im.message.receive_v1': async (data: Record<string, unknown>) => {
        dispatched = data;
        return 'handled';
      },
    });
    expect(await dispatcher.invoke(sdkRequest(got!))).toBe('handled');
    expect((dispatched?.message as { message_id: string }).message_id).toBe('om_msg_1');
  });

  it('puts absent mention placeholders in front and tells the emulator about the message', async () => {
    const em = await startLarkEmulator();
    try {
      const sender = createEventSender({ url: hook.url, encryptKey, emulator: em });
      await sender.message({
        chatId: CHAT,
        chatType: 'group',
        senderOpenId: LI.openId,
        text: '我的案件',
        mentions: [{ openId: em.botOpenId, name: '办理助手' }],
        messageId: 'om_from_li',
      });
      const body = JSON.parse(hook.received[0]!.raw) as { encrypt: string };
      const event = JSON.parse(new lark.AESCipher(encryptKey).decrypt(body.encrypt)) as { event: { message: { content: string } } };
      expect(JSON.parse(event.event.message.content)).toEqual({ text: '@_user_1 我的案件' });

      const reply = await sdkFor(em).im.message.reply({
        path: { message_id: 'om_from_li' },
        data: { msg_type: 'text', content: text('您名下有 2 件') },
      });
      expect(reply.data?.chat_id).toBe(CHAT);
    } finally {
      await em.close();
    }
  });

  it('sends a card callback the SDK\'s CardActionHandler accepts, with form values and context', async () => {
    const sender = createEventSender({ url: hook.url, appId: 'cli_banli', verificationToken, encryptKey });
    await sender.cardAction({
      operatorOpenId: ZHANG.openId,
      openMessageId: 'om_card_1',
      openChatId: CHAT,
      value: { action: 'adjust', caseNo: '20240562' },
      formValue: { reason: '不属于本单位职责' },
      name: 'submit_adjust',
      eventId: 'evt_card_1',
    });
    const got = hook.received[0]!;
    const decrypted = JSON.parse(new lark.AESCipher(encryptKey).decrypt((JSON.parse(got.raw) as { encrypt: string }).encrypt)) as {
      header: Record<string, string>;
    };
    expect(decrypted.header).toMatchObject({ event_type: 'card.action.trigger', event_id: 'evt_card_1', token: verificationToken });
    expect(decrypted.header.create_time).toMatch(/^\d{16}$/);

    let seen: Record<string, unknown> | undefined;
    const handler = new lark.CardActionHandler({ encryptKey, verificationToken, logger: silent }, async (data: Record<string, unknown>) => {
      seen = data;
      return { toast: { type: 'success', content: '已提交' } };
    });
    expect(await handler.invoke(sdkRequest(got))).toEqual({ toast: { type: 'success', content: '已提交' } });
    expect(seen).toMatchObject({
      event_type: 'card.action.trigger',
      operator: { open_id: ZHANG.openId },
      action: {
        tag: 'button',
        name: 'submit_adjust',
        value: { action: 'adjust', caseNo: '20240562' },
        form_value: { reason: '不属于本单位职责' },
      },
      context: { open_message_id: 'om_card_1', open_chat_id: CHAT },
    });
  });

  it('a forged signature or a changed body fails the SDK\'s verification', async () => {
    const sender = createEventSender({ url: hook.url, verificationToken, encryptKey });
    await sender.post({ schema: '2.0', header: { event_type: 'im.message.receive_v1' }, event: {} }, { signature: 'f'.repeat(64) });
    const dispatcher = new lark.EventDispatcher({ encryptKey, verificationToken, logger: silent }).register({
      'im.message.receive_v1': async () => 'handled',
    });
    expect(await dispatcher.invoke(sdkRequest(hook.received[0]!))).toBeUndefined();

    await sender.post({ schema: '2.0', header: { event_type: 'im.message.receive_v1' }, event: {} }, {
      timestamp: '1600000000',
      nonce: 'stale',
    });
    const stale = hook.received[1]!;
    expect(stale.headers['x-lark-request-timestamp']).toBe('1600000000');
    expect(stale.headers['x-lark-signature']).toBe(signLark('1600000000', 'stale', encryptKey, stale.raw));
    expect(await dispatcher.invoke(sdkRequest(stale))).toBe('handled');
  });

  it('signs like a hand-computed vector and encrypts so the SDK reads Chinese back', () => {
    expect(signLark('1700000000', 'n0nce', 'test-encrypt-key', '{"encrypt":"abc"}')).toBe(
      'da18ff38d4cfd3743d7d23ee48dd347e61cd70a1b28cb19824bd7887ad8b4763',
    );
    const sealed = encryptForLark('k', '{"text":"第20240562号建议"}');
    expect(Buffer.from(sealed, 'base64').length % 16).toBe(0);
    expect(new lark.AESCipher('k').decrypt(sealed)).toBe('{"text":"第20240562号建议"}');
    // A fresh IV each time: the same plaintext never encrypts the same way twice.
    expect(encryptForLark('k', 'same')).not.toBe(encryptForLark('k', 'same'));
  });

  it('re-posts identical bytes for duplicates', async () => {
    const sender = createEventSender({ url: hook.url, encryptKey });
    const responses = await sender.post({ schema: '2.0', header: { event_id: 'evt_dup' }, event: {} }, { duplicates: 2 });
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(hook.received).toHaveLength(3);
    expect(new Set(hook.received.map((c) => c.raw)).size).toBe(1);
    expect(new Set(hook.received.map((c) => c.headers['x-lark-signature'])).size).toBe(1);
  });

  it('sends the URL check encrypted but unsigned, and plaintext events with the token when there is no key', async () => {
    const secured = createEventSender({ url: hook.url, verificationToken, encryptKey });
    await secured.urlVerification('challenge-abc');
    const check = hook.received[0]!;
    expect(check.headers['x-lark-signature']).toBeUndefined();
    const body = JSON.parse(check.raw) as { encrypt: string };
    expect(lark.generateChallenge(body, { encryptKey })).toEqual({ isChallenge: true, challenge: { challenge: 'challenge-abc' } });
    expect(JSON.parse(new lark.AESCipher(encryptKey).decrypt(body.encrypt))).toEqual({
      challenge: 'challenge-abc',
      token: verificationToken,
      type: 'url_verification',
    });

    const open = createEventSender({ url: hook.url, verificationToken });
    await open.message({ chatId: CHAT, chatType: 'p2p', senderOpenId: ZHANG.openId, text: '帮助' });
    const plain = hook.received[1]!;
    expect(plain.headers['x-lark-signature']).toBeUndefined();
    expect(JSON.parse(plain.raw)).toMatchObject({
      schema: '2.0',
      header: { token: verificationToken, event_type: 'im.message.receive_v1' },
      event: { message: { chat_type: 'p2p', content: JSON.stringify({ text: '帮助' }) } },
    });
  });
});
