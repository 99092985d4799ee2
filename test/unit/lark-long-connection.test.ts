// The emulator's long connection proven against the SDK's own WSClient: the endpoint it asks first, the protobuf
// frames, ping/pong, events pushed down the socket, and the ack that carries the handler's answer back.

import * as lark from '@larksuiteoapi/node-sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startLarkEmulator, type LarkEmulator } from '../support/lark/emulator.ts';
import { createEventSender } from '../support/lark/events.ts';
import { decodeFrame, encodeFrame, FRAME_METHOD, headerOf } from '../../src/sandbox/lark/long-connection.ts';

const silent = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };
const ZHANG = 'ou_zhangsan0000000000000000000001';
const CHAT = 'oc_minzhengju00000000000000000001';

describe('the emulator as Lark\'s long-connection gateway', () => {
  let em: LarkEmulator;
  let client: lark.WSClient | undefined;
  const seen: Array<{ type: string; data: unknown }> = [];
  let answer: (type: string, data: unknown) => unknown = () => ({});

  beforeEach(async () => {
    // A reconnect after a cut happens at once here (Lark waits up to two minutes).
    em = await startLarkEmulator({ longConnection: { ReconnectInterval: 0, ReconnectNonce: 0 } });
    seen.length = 0;
    answer = () => ({});
  });

  afterEach(async () => {
    client?.close({ force: true });
    client = undefined;
    await em.close();
  });

  function connect(appId = em.appId, appSecret = em.appSecret): lark.WSClient {
    const dispatcher = new lark.EventDispatcher({ loggerLevel: lark.LoggerLevel.error, logger: silent }).register({
      'im.message.receive_v1': async (data: unknown) => {
        seen.push({ type: 'message', data });
        return answer('message', data);
      },
      'card.action.trigger': async (data: unknown) => {
        seen.push({ type: 'card', data });
        return answer('card', data);
      },
    } as Record<string, (data: unknown) => Promise<unknown>>);
    client = new lark.WSClient({ appId, appSecret, domain: em.url, loggerLevel: lark.LoggerLevel.error, logger: silent });
    void client.start({ eventDispatcher: dispatcher });
    return client;
  }

  it('hands out a one-time ws:// URL whose first parameter the SDK may lose, and the client settings', async () => {
    const res = await fetch(`${em.url}/callback/ws/endpoint`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ AppID: em.appId, AppSecret: em.appSecret }),
    });
    const body = (await res.json()) as { code: number; data: { URL: string; ClientConfig: Record<string, number> } };
    expect(body.code).toBe(0);
    expect(body.data.URL).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/callback\/ws\/stream\?fpid=1&device_id=\w+&service_id=1&ticket=\w+$/);
    expect(Object.keys(body.data.ClientConfig).sort()).toEqual(['PingInterval', 'ReconnectCount', 'ReconnectInterval', 'ReconnectNonce']);

    // The ticket is good for one connection: a second socket on the same URL is refused.
    const first = new WebSocket(body.data.URL);
    await new Promise((resolve, reject) => {
      first.once('open', resolve);
      first.once('error', reject);
    });
    const second = new WebSocket(body.data.URL);
    const refused = await new Promise<number>((resolve) => second.once('unexpected-response', (_req, r) => resolve(r.statusCode ?? 0)));
    expect(refused).toBe(403);
    first.terminate();
  });

  it('refuses a wrong app secret with 514, which the SDK does not retry', async () => {
    const res = await fetch(`${em.url}/callback/ws/endpoint`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ AppID: em.appId, AppSecret: 'wrong' }),
    });
    expect(((await res.json()) as { code: number }).code).toBe(514);
    connect(em.appId, 'wrong');
    await new Promise((r) => setTimeout(r, 300));
    expect(em.longConnections).toBe(0);
  });

  it('answers a raw ping with a pong that carries the client settings', async () => {
    const { data } = (await (
      await fetch(`${em.url}/callback/ws/endpoint`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ AppID: em.appId, AppSecret: em.appSecret }),
      })
    ).json()) as { data: { URL: string } };
    const ws = new WebSocket(data.URL);
    await new Promise((resolve) => ws.once('open', resolve));
    const pong = new Promise<Buffer>((resolve) => ws.once('message', (m: Buffer) => resolve(m)));
    ws.send(encodeFrame({ SeqID: 0, LogID: 0, service: 1, method: FRAME_METHOD.control, headers: [{ key: 'type', value: 'ping' }] }));
    const frame = decodeFrame(await pong);
    expect(frame.method).toBe(FRAME_METHOD.control);
    expect(headerOf(frame, 'type')).toBe('pong');
    expect(JSON.parse(new TextDecoder().decode(frame.payload))).toMatchObject({ ReconnectInterval: 0, ReconnectNonce: 0 });
    ws.terminate();
  });

  it('the real WSClient connects, pings, gets a message event and acks it', async () => {
    connect();
    await em.waitForLongConnection();
    await em.waitFor(() => (em.requests.some((r) => r.path === '/callback/ws/endpoint' && r.code === 0) ? true : null));
    const sender = createEventSender({ url: 'http://unused.invalid', appId: em.appId, longConnection: em });
    const res = await sender.message({ chatId: CHAT, chatType: 'p2p', senderOpenId: ZHANG, text: '认领 562', eventId: 'ev_ws_1' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    expect(seen).toHaveLength(1);
    const event = seen[0]?.data as { event_id: string; message: { content: string; chat_id: string } };
    expect(event.event_id).toBe('ev_ws_1');
    expect(event.message.chat_id).toBe(CHAT);
    expect(JSON.parse(event.message.content)).toEqual({ text: '认领 562' });
    // The client pinged when the socket opened.
    expect((em as unknown as { longConnection: { pings: number } }).longConnection.pings).toBeGreaterThanOrEqual(1);
  });

  it('a card click over the socket brings the handler\'s toast and card back in the ack', async () => {
    answer = (type) => (type === 'card' ? { toast: { type: 'success', content: '已认领' }, card: { type: 'raw', data: { schema: '2.0' } } } : {});
    connect();
    await em.waitForLongConnection();
    const ack = await em.pushEvent({
      schema: '2.0',
      header: { event_id: 'ev_click', event_type: 'card.action.trigger', create_time: `${Date.now()}000`, app_id: em.appId, tenant_key: 't', token: '' },
      event: { operator: { open_id: ZHANG }, action: { tag: 'button', value: { action: 'claim', caseId: 1 } }, context: { open_message_id: 'om_1', open_chat_id: CHAT } },
    });
    expect(ack.code).toBe(200);
    expect(ack.answer).toEqual({ toast: { type: 'success', content: '已认领' }, card: { type: 'raw', data: { schema: '2.0' } } });
    expect(ack.headers.biz_rt).toBeDefined();
    expect((seen[0]?.data as { action: { value: unknown } }).action.value).toEqual({ action: 'claim', caseId: 1 });
  });

  it('a handler that throws acks with code 500', async () => {
    answer = () => {
      throw new Error('boom');
    };
    connect();
    await em.waitForLongConnection();
    const sender = createEventSender({ url: 'http://unused.invalid', appId: em.appId, longConnection: em });
    const res = await sender.message({ chatId: CHAT, chatType: 'p2p', senderOpenId: ZHANG, text: '帮助' });
    expect(res.status).toBe(500);
  });

  it('after a cut the client fetches a new ticket and reconnects; with nobody connected a push fails loudly', async () => {
    await expect(em.pushEvent({ schema: '2.0' }, 200)).rejects.toThrow(/no long-connection client/);
    connect();
    await em.waitForLongConnection();
    em.dropLongConnections();
    await em.waitFor(() => (em.longConnections === 0 ? true : null));
    await em.waitForLongConnection(1, 5000);
    expect(em.requests.filter((r) => r.path === '/callback/ws/endpoint')).toHaveLength(2);
    const ack = await em.pushEvent({
      schema: '2.0',
      header: { event_id: 'ev_after', event_type: 'im.message.receive_v1', create_time: String(Date.now()), app_id: em.appId, tenant_key: 't', token: '' },
      event: { sender: { sender_id: { open_id: ZHANG } }, message: { message_id: 'om_x', chat_id: CHAT, chat_type: 'p2p', message_type: 'text', content: '{"text":"hi"}' } },
    });
    expect(ack.code).toBe(200);
    expect(seen.map((s) => (s.data as { event_id: string }).event_id)).toEqual(['ev_after']);
  });
});
