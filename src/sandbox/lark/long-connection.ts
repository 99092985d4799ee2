// Lark's long connection (事件与回调 → 使用长连接接收事件), as @larksuiteoapi/node-sdk's WSClient speaks it:
// `POST /callback/ws/endpoint` hands out a one-time ws:// URL and the client settings; over that socket travel
// protobuf `pbbp2.Frame`s. Control frames carry ping/pong; data frames carry one event each (type=event) and the
// client answers every data frame with the same frame plus a `biz_rt` header and `{"code":200,"data":base64(answer)}`.
// The schema is written here from the SDK's wire format (the SDK does not export it).

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import protobuf from 'protobufjs';
import { WebSocket, WebSocketServer } from 'ws';

const FRAME_SCHEMA = {
  nested: {
    pbbp2: {
      nested: {
        Header: {
          fields: {
            key: { rule: 'required', type: 'string', id: 1 },
            value: { rule: 'required', type: 'string', id: 2 },
          },
        },
        Frame: {
          fields: {
            SeqID: { rule: 'required', type: 'uint64', id: 1 },
            LogID: { rule: 'required', type: 'uint64', id: 2 },
            service: { rule: 'required', type: 'int32', id: 3 },
            method: { rule: 'required', type: 'int32', id: 4 },
            headers: { rule: 'repeated', type: 'Header', id: 5 },
            payloadEncoding: { type: 'string', id: 6 },
            payloadType: { type: 'string', id: 7 },
            payload: { type: 'bytes', id: 8 },
            LogIDNew: { type: 'string', id: 9 },
          },
        },
      },
    },
  },
};

const FrameType = protobuf.Root.fromJSON(FRAME_SCHEMA).lookupType('pbbp2.Frame');

/** Frame.method: control (ping/pong) or data (events). */
export const FRAME_METHOD = { control: 0, data: 1 } as const;

export interface FrameHeader {
  key: string;
  value: string;
}

export interface Frame {
  SeqID: number;
  LogID: number;
  service: number;
  method: number;
  headers: FrameHeader[];
  payloadEncoding?: string;
  payloadType?: string;
  payload?: Uint8Array;
  LogIDNew?: string;
}

export function encodeFrame(frame: Frame): Uint8Array {
  return FrameType.encode(FrameType.fromObject(frame)).finish();
}

export function decodeFrame(bytes: Uint8Array): Frame {
  const message = FrameType.decode(bytes);
  const o = FrameType.toObject(message, { longs: Number, bytes: Uint8Array as unknown as typeof String, defaults: false }) as Frame;
  o.headers ??= [];
  return o;
}

export function headerOf(frame: Frame, key: string): string | undefined {
  return frame.headers.find((h) => h.key === key)?.value;
}

/** The client settings Lark sends with the endpoint (and again in every pong), in seconds. */
export interface ClientConfig {
  PingInterval: number;
  ReconnectCount: number;
  ReconnectInterval: number;
  ReconnectNonce: number;
}

/** What the client answered to one pushed event. */
export interface PushResult {
  /** 200, or 500 when the client's handler threw. */
  code: number;
  /** The JSON the handler returned (for a card click: the toast and card), when there was one. */
  answer?: unknown;
  /** The ack frame's headers (message_id, trace_id, biz_rt, …). */
  headers: Record<string, string>;
  elapsedMs: number;
}

export interface LongConnectionOptions {
  appId: string;
  appSecret: string;
  serviceId?: number;
  clientConfig?: Partial<ClientConfig>;
}

interface Pending {
  resolve(result: PushResult): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  sentAt: number;
}

export const STREAM_PATH = '/callback/ws/stream';
/** A ticket from the endpoint is good for one connection, within this long. */
const TICKET_TTL_MS = 5 * 60_000;

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** The long-connection side of the emulator: the endpoint and the socket server. */
export class LongConnectionServer {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly tickets = new Map<string, number>();
  /**
   * Clients that have pinged. The SDK attaches its frame listener a tick after the socket opens, so a frame sent
   * at once can be lost; its first ping (sent on open) proves it is listening by the time the answer could arrive.
   */
  private readonly clients: WebSocket[] = [];
  private readonly pending = new Map<string, Pending>();
  private readonly serviceId: number;
  private readonly config: ClientConfig;
  private baseUrl = '';
  private next = 0;
  private seq = 0;
  /** Pings received, for tests of the keep-alive. */
  pings = 0;

  constructor(private readonly opts: LongConnectionOptions) {
    this.serviceId = opts.serviceId ?? 1;
    this.config = { PingInterval: 120, ReconnectCount: -1, ReconnectInterval: 120, ReconnectNonce: 30, ...opts.clientConfig };
  }

  /** Serves the socket on `server`'s upgrade requests to STREAM_PATH. */
  attach(server: Server, baseUrl: string): void {
    this.baseUrl = baseUrl.replace(/^http/, 'ws');
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  /** The answer to `POST /callback/ws/endpoint` for a request body. */
  endpoint(body: unknown): { code: number; msg: string; data: { URL?: string; ClientConfig?: ClientConfig } } {
    const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    if (b.AppID !== this.opts.appId || b.AppSecret !== this.opts.appSecret) {
      // 514 is what the SDK reads as an authentication failure (not retried).
      // The SDK destructures `data` before it looks at `code`: without it, a refusal would look retryable.
      return { code: 514, msg: 'auth failed: app id or app secret is wrong', data: {} };
    }
    const ticket = hex(16);
    this.tickets.set(ticket, Date.now() + TICKET_TTL_MS);
    const deviceId = hex(8);
    // The SDK reads the URL with querystring.parse over the whole string, so the first parameter comes out keyed
    // by "ws://host/path?fpid": it goes first and is thrown away.
    const url = `${this.baseUrl}${STREAM_PATH}?fpid=1&device_id=${deviceId}&service_id=${this.serviceId}&ticket=${ticket}`;
    return { code: 0, msg: 'ok', data: { URL: url, ClientConfig: { ...this.config } } };
  }

  /** How many clients are connected now. */
  get connections(): number {
    return this.clients.filter((c) => c.readyState === WebSocket.OPEN).length;
  }

  /**
   * Delivers one schema-2.0 event to a connected client (round robin, as Lark spreads events over an app's
   * connections) and resolves with its ack; rejects when no client connects or no ack comes within `timeoutMs`.
   */
  async push(event: object, timeoutMs = 10_000): Promise<PushResult> {
    // Lark keeps an event until a client of the app is connected; so does the emulator, for a while.
    await this.waitForConnection(1, timeoutMs).catch(() => {
      throw new Error('no long-connection client is connected');
    });
    const open = this.clients.filter((c) => c.readyState === WebSocket.OPEN);
    const client = open[this.next++ % open.length] as WebSocket;
    const messageId = `msg_${hex(12)}`;
    const frame: Frame = {
      SeqID: ++this.seq,
      LogID: this.seq,
      service: this.serviceId,
      method: FRAME_METHOD.data,
      headers: [
        { key: 'type', value: 'event' },
        { key: 'message_id', value: messageId },
        { key: 'sum', value: '1' },
        { key: 'seq', value: '0' },
        { key: 'trace_id', value: hex(8) },
      ],
      payload: new TextEncoder().encode(JSON.stringify(event)),
    };
    return new Promise<PushResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(messageId);
        reject(new Error(`no ack for long-connection event ${messageId} within ${timeoutMs}ms`));
      }, timeoutMs);
      this.pending.set(messageId, { resolve, reject, timer, sentAt: Date.now() });
      client.send(encodeFrame(frame), (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.pending.delete(messageId);
        reject(err);
      });
    });
  }

  /** Resolves once at least `count` clients are connected. */
  async waitForConnection(count = 1, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.connections < count) {
      if (Date.now() > deadline) throw new Error(`no long-connection client connected within ${timeoutMs}ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Drops every connection, as a network cut or a Lark restart would (clients reconnect by themselves). */
  dropConnections(): void {
    for (const c of this.wss.clients) c.terminate();
  }

  close(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('the emulator closed'));
    }
    this.pending.clear();
    this.dropConnections();
    this.wss.close();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://emulator');
    if (url.pathname !== STREAM_PATH) {
      // Other upgrade paths (the sandbox's own) are not ours.
      return;
    }
    const ticket = url.searchParams.get('ticket') ?? '';
    const expires = this.tickets.get(ticket);
    this.tickets.delete(ticket);
    if (expires === undefined || expires < Date.now()) {
      socket.end('HTTP/1.1 403 Forbidden\r\nhandshake-status: 403\r\nhandshake-msg: invalid ticket\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.serve(ws));
  }

  private serve(ws: WebSocket): void {
    ws.on('close', () => {
      const i = this.clients.indexOf(ws);
      if (i >= 0) this.clients.splice(i, 1);
    });
    ws.on('error', () => ws.terminate());
    ws.on('message', (data: Buffer) => {
      let frame: Frame;
      try {
        frame = decodeFrame(data);
      } catch {
        ws.close(1003, 'bad frame');
        return;
      }
      if (frame.method === FRAME_METHOD.control) {
        if (headerOf(frame, 'type') === 'ping') {
          this.pings += 1;
          if (!this.clients.includes(ws)) this.clients.push(ws);
          ws.send(
            encodeFrame({
              SeqID: 0,
              LogID: 0,
              service: this.serviceId,
              method: FRAME_METHOD.control,
              headers: [{ key: 'type', value: 'pong' }],
              payload: new TextEncoder().encode(JSON.stringify(this.config)),
            }),
          );
        }
        return;
      }
      this.ack(frame);
    });
  }

  private ack(frame: Frame): void {
    const messageId = headerOf(frame, 'message_id') ?? '';
    const pending = this.pending.get(messageId);
    if (!pending) return;
    this.pending.delete(messageId);
    clearTimeout(pending.timer);
    const headers = Object.fromEntries(frame.headers.map((h) => [h.key, h.value]));
    try {
      const body = JSON.parse(new TextDecoder().decode(frame.payload ?? new Uint8Array())) as { code?: unknown; data?: unknown };
      const result: PushResult = { code: typeof body.code === 'number' ? body.code : 0, headers, elapsedMs: Date.now() - pending.sentAt };
      if (typeof body.data === 'string' && body.data !== '') result.answer = JSON.parse(Buffer.from(body.data, 'base64').toString('utf8'));
      pending.resolve(result);
    } catch (err) {
      pending.reject(new Error(`the client's ack of ${messageId} is not {"code","data"} JSON: ${String(err)}`));
    }
  }
}
