// A fake Lark OpenAPI server for integration tests and the browser sandbox. It speaks the wire
// format of Feishu's documentation and of @larksuiteoapi/node-sdk, written from those sources rather
// than from Banli's transport, so it is an independent check of it. Point the SDK at it with
// `new lark.Client({ appId, appSecret, domain: emulator.url })`.

import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import express from 'express';
import type { NextFunction, Request as ExpressRequest, Response as ExpressResponse } from 'express';
import { messageText } from './cards.ts';
import {
  CARD_V2_MAX_ELEMENTS,
  CARD_V2_REMOVED_TAGS,
  CONTENT_LIMITS,
  LARK_CODES,
  type LarkCode,
} from './codes.ts';
import { LongConnectionServer, type ClientConfig, type PushResult } from './long-connection.ts';
import { SlidingWindow } from './rate-limit.ts';

export interface EmulatorUser {
  openId: string;
  name: string;
}

export interface StartOptions {
  appId?: string;
  appSecret?: string;
  botOpenId?: string;
  /** The bot's name as `bot/v3/info` reports it. */
  botName?: string;
  tenantKey?: string;
  users?: EmulatorUser[];
  /** Sends (create/reply) into one chat, and patches of its messages, per second. Lark: 5. */
  perChatQps?: number;
  /** API calls per second for the app, above which the gateway answers HTTP 429. Lark: 50. */
  perAppQps?: number;
  /** 0 picks a free port. */
  port?: number;
  /** The long connection's client settings (seconds), e.g. a short PingInterval for a keep-alive test. */
  longConnection?: Partial<ClientConfig>;
}

/** How an injected failure answers. With none of status/code/networkError it only delays the request. */
export interface Fault {
  status?: number;
  code?: number;
  msg?: string;
  delayMs?: number;
  headers?: Record<string, string>;
  /** Which request paths it hits; by default every path except the token endpoints (/open-apis/auth/). */
  paths?: RegExp;
  /** Destroy the socket instead of answering (the client sees ECONNRESET / "socket hang up"). */
  networkError?: boolean;
}

export type ReceiveIdType = 'chat_id' | 'open_id' | 'union_id' | 'user_id' | 'email';

/** A message the bot created or replied, as recorded when Lark accepted it. */
export interface SentMessage {
  messageId: string;
  chatId: string;
  receiveId: string;
  receiveIdType: ReceiveIdType;
  msgType: string;
  /** The parsed JSON of the `content` string. */
  content: unknown;
  uuid?: string;
  /** The message this one replies to. */
  replyTo?: string;
  replyInThread?: boolean;
  at: number;
}

export interface PatchRecord {
  messageId: string;
  content: unknown;
  at: number;
}

/** A 加急 (buzz, `urgent_app`) the bot sent on one of its messages. */
export interface UrgentRecord {
  messageId: string;
  /** The open_ids buzzed (those Lark accepted). */
  userIds: string[];
  at: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  /** 0 when the socket was destroyed by a network-error fault. */
  status: number;
  /** The `code` of the JSON answer, when there was one. */
  code?: number;
  /** Answered by an injected fault rather than by the emulated API. */
  fault: boolean;
  at: number;
}

/** A message a user sent in a chat, made known to the emulator so the bot can reply to it. */
export interface IncomingMessage {
  messageId: string;
  chatId: string;
  senderOpenId: string;
  msgType?: string;
  content?: unknown;
}

export type Card = Record<string, unknown>;

/** A chat as Lark's client lists it (the sandbox's chat model; the API does not need it). */
export interface ChatInfo {
  chatId: string;
  name: string;
  chatType: 'group' | 'p2p';
  /** open_ids of the people in it (the bot is always in). */
  members: string[];
}

/** One message in a chat, from a person or from the bot, as the chat window shows it. */
export interface ChatEntry {
  messageId: string;
  chatId: string;
  /** The person who sent it; undefined for the bot. */
  senderOpenId?: string;
  msgType: string;
  content: unknown;
  createTime: number;
  updateTime: number;
  /** The message this one replies to. */
  replyTo?: string;
}

/** What changed in a chat: a new message, or a card redrawn (patched, or replaced by a click's answer). */
export interface ChatChange {
  type: 'message' | 'update';
  entry: ChatEntry;
}
export type { ClientConfig, PushResult } from './long-connection.ts';

/** A file uploaded by the bot with im.file.create. */
export interface UploadedFile {
  fileKey: string;
  fileName: string;
  fileType: string;
  bytes: Buffer;
  at: number;
}

export interface LarkEmulator {
  readonly url: string;
  readonly appId: string;
  readonly appSecret: string;
  readonly botOpenId: string;
  readonly tenantKey: string;
  readonly sent: readonly SentMessage[];
  readonly patches: readonly PatchRecord[];
  readonly urgents: readonly UrgentRecord[];
  readonly requests: readonly RequestRecord[];
  /** Invalidates every token issued so far; the next API call with one gets 99991663. */
  expireTokens(): void;
  failNext(n: number, fault: Fault): void;
  failFor(ms: number, fault: Fault): void;
  /** Adds latency to every request (0 removes it). */
  slow(ms: number): void;
  /** Clears faults, latency and the rate-limit windows; recorded messages stay. */
  reset(): void;
  /** Forgets recorded sends, patches and requests (messages still exist for replies and patches). */
  clearRecords(): void;
  messagesIn(chatId: string): SentMessage[];
  /** The cards the bot sent into a chat, each in its latest (patched) version, in send order. */
  cardsIn(chatId: string): Card[];
  latestCard(messageId: string): Card | undefined;
  /** One string per bot message in the chat: the text of text/post messages, the visible text of cards. */
  textsIn(chatId: string): string[];
  /** Polls until `predicate` returns something truthy and resolves with it; rejects after `timeoutMs`. */
  waitFor<T>(predicate: (emulator: LarkEmulator) => T, timeoutMs?: number): Promise<NonNullable<T>>;
  /** Files the bot uploaded (im.file.create), in upload order. */
  readonly uploads: readonly UploadedFile[];
  /** A file a user attaches to a message: its bytes become downloadable as a message resource; returns its file_key. */
  userFile(bytes: Buffer): string;
  /** The file a bot's file message carries (its upload), or undefined. */
  fileOf(messageId: string): UploadedFile | undefined;
  /** The chat id Lark gives the bot's one-to-one chat with a user (what an open_id send lands in). */
  p2pChatId(openId: string): string;
  recordIncoming(message: IncomingMessage): void;
  addUser(user: EmulatorUser): void;
  /**
   * Delivers a schema-2.0 event (a message or a card click) over the long connection to a connected WSClient and
   * resolves with its acknowledgement, which carries the handler's answer.
   */
  pushEvent(event: object, timeoutMs?: number): Promise<PushResult>;
  /** How many long-connection clients are connected. */
  readonly longConnections: number;
  /** Resolves once `count` long-connection clients are connected. */
  waitForLongConnection(count?: number, timeoutMs?: number): Promise<void>;
  /** Cuts every long connection (the clients reconnect by themselves). */
  dropLongConnections(): void;
  /** Adds or replaces a chat of the chat model. */
  defineChat(chat: ChatInfo): void;
  chats(): ChatInfo[];
  users(): EmulatorUser[];
  /** Every message of a chat, people's and the bot's, oldest first, each in its latest version. */
  chatLog(chatId: string): ChatEntry[];
  /** Calls `listener` for every new message and every card update until the returned function is called. */
  onChange(listener: (change: ChatChange) => void): () => void;
  /** Puts the card of a click's answer in place of the clicked card, as the Lark client does. */
  applyCardAnswer(messageId: string, card: Card): void;
  /** One message of any chat, in its latest version. */
  messageEntry(messageId: string): ChatEntry | undefined;
  /** Forgets every message and record (the chats and people stay): a fresh start for the sandbox. */
  clearChats(): void;
  close(): Promise<void>;
}

interface StoredMessage {
  messageId: string;
  chatId: string;
  msgType: string;
  content: unknown;
  rawContent: string;
  fromThisApp: boolean;
  senderOpenId?: string;
  createTime: number;
  updateTime: number;
  rootId?: string;
  parentId?: string;
  threadId?: string;
  patched: boolean;
}

interface ActiveFault {
  fault: Fault;
  remaining?: number;
  until?: number;
}

const TOKEN_TTL_S = 7200;
/** Lark hands out a new token once the current one has under 30 minutes left. */
const TOKEN_RENEW_BELOW_S = 1800;
const MSG_TYPES = new Set([
  'text', 'post', 'image', 'file', 'audio', 'media', 'sticker', 'interactive', 'share_chat', 'share_user', 'system',
]);
const FILE_TYPES = new Set(['opus', 'mp4', 'pdf', 'doc', 'xls', 'ppt', 'stream']);

/** The parts of a multipart/form-data body: each part's field name, file name (if any) and bytes. */
function parseMultipart(body: Buffer, boundary: string): { name: string; filename?: string; data: Buffer }[] {
  const parts: { name: string; filename?: string; data: Buffer }[] = [];
  const delimiter = Buffer.from(`--${boundary}`);
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const afterDelimiter = start + delimiter.length;
    if (body.subarray(afterDelimiter, afterDelimiter + 2).toString() === '--') break;
    const headerEnd = body.indexOf('\r\n\r\n', afterDelimiter);
    const next = body.indexOf(delimiter, afterDelimiter);
    if (headerEnd === -1 || next === -1) break;
    const headers = body.subarray(afterDelimiter + 2, headerEnd).toString('utf8');
    const name = /(?:^|[;\s])name="([^"]*)"/i.exec(headers)?.[1];
    const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
    // The part's data ends with the CRLF before the next delimiter.
    const data = body.subarray(headerEnd + 4, next - 2);
    if (name !== undefined) parts.push(filename !== undefined ? { name, filename, data: Buffer.from(data) } : { name, data: Buffer.from(data) });
    start = next;
  }
  return parts;
}

const RECEIVE_ID_TYPES = new Set<string>(['chat_id', 'open_id', 'union_id', 'user_id', 'email']);

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class HttpFailure {
  constructor(
    readonly code: LarkCode,
    readonly ext?: string,
  ) {}
}

/** Validates a message `content` string for its msg_type the way the IM service does; returns the parsed JSON. */
function parseContent(msgType: string, content: unknown): unknown {
  if (typeof content !== 'string' || content === '') throw new HttpFailure(LARK_CODES.fieldValidation, 'content is required');
  const isCard = msgType === 'interactive';
  const limit = msgType === 'text' ? CONTENT_LIMITS.text : CONTENT_LIMITS.card;
  if ((isCard || msgType === 'post' || msgType === 'text') && Buffer.byteLength(content, 'utf8') > limit) {
    throw new HttpFailure(LARK_CODES.contentTooLong);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    parsed = undefined;
  }
  if (!isObject(parsed)) {
    if (isCard) {
      throw new HttpFailure(
        LARK_CODES.cardContentFailed,
        'ErrCode: 200621; ErrMsg: parse card json err, please check whether the card json is correct',
      );
    }
    throw new HttpFailure(LARK_CODES.invalidParam, 'invalid content, content must be a JSON object string');
  }
  if (msgType === 'text' && typeof parsed.text !== 'string') {
    throw new HttpFailure(LARK_CODES.invalidParam, 'text content requires a "text" string');
  }
  if (isCard) checkCard(parsed);
  return parsed;
}

/** The Card JSON 2.0 rules a sender trips over most: body.elements, removed 1.0 tags, the component cap. */
function checkCard(card: Record<string, unknown>): void {
  if (card.schema !== '2.0') return;
  if (!isObject(card.body) || !Array.isArray(card.body.elements)) {
    throw new HttpFailure(
      LARK_CODES.cardContentFailed,
      'ErrCode: 200621; ErrMsg: parse card json err, please check whether the card json is correct; ErrorValue: body.elements',
    );
  }
  let components = 0;
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (!isObject(value)) return;
    // Text objects (plain_text / lark_md) are properties of a component, not components.
    if (typeof value.tag === 'string' && value.tag !== 'plain_text' && value.tag !== 'lark_md') {
      if (CARD_V2_REMOVED_TAGS.includes(value.tag)) {
        throw new HttpFailure(
          LARK_CODES.cardContentFailed,
          `ErrCode: 200861; ErrMsg: cards of schema V2 no longer support this capability; ErrorValue: unsupported tag ${value.tag}`,
        );
      }
      components += 1;
    }
    for (const [key, child] of Object.entries(value)) if (key !== 'behaviors' && key !== 'value') walk(child);
  };
  walk(card.body.elements);
  if (components > CARD_V2_MAX_ELEMENTS) {
    throw new HttpFailure(LARK_CODES.cardContentFailed, 'ErrCode: 11310; ErrMsg: element exceeds the limit');
  }
}

class Emulator implements LarkEmulator {
  url = '';
  readonly appId: string;
  readonly appSecret: string;
  readonly botOpenId: string;
  readonly botName: string;
  readonly tenantKey: string;
  readonly sent: SentMessage[] = [];
  readonly patches: PatchRecord[] = [];
  readonly urgents: UrgentRecord[] = [];
  readonly requests: RequestRecord[] = [];
  readonly uploads: UploadedFile[] = [];

  private readonly userFiles = new Map<string, Buffer>();
  private readonly perChatQps: number;
  private readonly perAppQps: number;
  private readonly users_ = new Map<string, EmulatorUser>();
  private readonly userScopeDeclared: boolean;
  private readonly tokens = new Map<string, number>();
  private readonly messages = new Map<string, StoredMessage>();
  private readonly uuids = new Map<string, { messageId: string; at: number }>();
  private readonly windows = new SlidingWindow();
  private faults: ActiveFault[] = [];
  private latencyMs = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly longConnection: LongConnectionServer;
  private readonly chatModel = new Map<string, ChatInfo>();
  private readonly changes = new EventEmitter();

  constructor(opts: StartOptions) {
    // A fresh app id per emulator by default: the SDK caches tokens process-wide by app id, so two
    // emulators sharing one would hand each other's tokens around.
    this.appId = opts.appId ?? `cli_${hex(8)}`;
    this.appSecret = opts.appSecret ?? hex(16);
    this.botOpenId = opts.botOpenId ?? `ou_${hex(16)}`;
    this.botName = opts.botName ?? '办理助手';
    this.tenantKey = opts.tenantKey ?? hex(8);
    this.perChatQps = opts.perChatQps ?? 5;
    this.perAppQps = opts.perAppQps ?? 50;
    for (const user of opts.users ?? []) this.users_.set(user.openId, user);
    this.userScopeDeclared = (opts.users ?? []).length > 0;
    this.longConnection = new LongConnectionServer({
      appId: this.appId,
      appSecret: this.appSecret,
      ...(opts.longConnection ? { clientConfig: opts.longConnection } : {}),
    });
  }

  async start(port: number): Promise<void> {
    const server = createServer(this.app());
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('emulator has no TCP address');
    this.server = server;
    this.url = `http://127.0.0.1:${address.port}`;
    this.longConnection.attach(server, this.url);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.longConnection.close();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ── test controls ─────────────────────────────────────────────────────────

  expireTokens(): void {
    this.tokens.clear();
  }

  failNext(n: number, fault: Fault): void {
    if (n > 0) this.faults.push({ fault, remaining: n });
  }

  failFor(ms: number, fault: Fault): void {
    this.faults.push({ fault, until: Date.now() + ms });
  }

  slow(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  reset(): void {
    this.faults = [];
    this.latencyMs = 0;
    this.windows.clear();
  }

  clearRecords(): void {
    this.sent.length = 0;
    this.patches.length = 0;
    this.urgents.length = 0;
    this.requests.length = 0;
  }

  addUser(user: EmulatorUser): void {
    this.users_.set(user.openId, user);
  }

  pushEvent(event: object, timeoutMs?: number): Promise<PushResult> {
    return this.longConnection.push(event, timeoutMs);
  }

  get longConnections(): number {
    return this.longConnection.connections;
  }

  waitForLongConnection(count?: number, timeoutMs?: number): Promise<void> {
    return this.longConnection.waitForConnection(count, timeoutMs);
  }

  dropLongConnections(): void {
    this.longConnection.dropConnections();
  }

  defineChat(chat: ChatInfo): void {
    this.chatModel.set(chat.chatId, { ...chat, members: [...chat.members] });
  }

  chats(): ChatInfo[] {
    return [...this.chatModel.values()].map((c) => ({ ...c, members: [...c.members] }));
  }

  users(): EmulatorUser[] {
    return [...this.users_.values()].map((u) => ({ ...u }));
  }

  chatLog(chatId: string): ChatEntry[] {
    return [...this.messages.values()].filter((m) => m.chatId === chatId).map((m) => this.entryOf(m));
  }

  onChange(listener: (change: ChatChange) => void): () => void {
    this.changes.on('change', listener);
    return () => this.changes.off('change', listener);
  }

  applyCardAnswer(messageId: string, card: Card): void {
    const stored = this.messages.get(messageId);
    if (!stored || stored.msgType !== 'interactive') return;
    stored.content = card;
    stored.rawContent = JSON.stringify(card);
    stored.updateTime = Date.now();
    this.emitChange('update', stored);
  }

  messageEntry(messageId: string): ChatEntry | undefined {
    const stored = this.messages.get(messageId);
    return stored ? this.entryOf(stored) : undefined;
  }

  clearChats(): void {
    this.messages.clear();
    this.uuids.clear();
    this.clearRecords();
  }

  private entryOf(m: StoredMessage): ChatEntry {
    const entry: ChatEntry = {
      messageId: m.messageId,
      chatId: m.chatId,
      msgType: m.msgType,
      content: m.content,
      createTime: m.createTime,
      updateTime: m.updateTime,
    };
    if (m.senderOpenId !== undefined) entry.senderOpenId = m.senderOpenId;
    if (m.parentId !== undefined) entry.replyTo = m.parentId;
    return entry;
  }

  private emitChange(type: ChatChange['type'], m: StoredMessage): void {
    this.changes.emit('change', { type, entry: this.entryOf(m) } satisfies ChatChange);
  }

  recordIncoming(message: IncomingMessage): void {
    const now = Date.now();
    const content = message.content ?? {};
    const stored: StoredMessage = {
      messageId: message.messageId,
      chatId: message.chatId,
      msgType: message.msgType ?? 'text',
      content,
      rawContent: JSON.stringify(content),
      fromThisApp: false,
      senderOpenId: message.senderOpenId,
      createTime: now,
      updateTime: now,
      patched: false,
    };
    this.messages.set(message.messageId, stored);
    this.emitChange('message', stored);
  }

  userFile(bytes: Buffer): string {
    const fileKey = `file_v3_${hex(12)}`;
    this.userFiles.set(fileKey, Buffer.from(bytes));
    return fileKey;
  }

  fileOf(messageId: string): UploadedFile | undefined {
    const stored = this.messages.get(messageId);
    if (!stored || stored.msgType !== 'file' || !isObject(stored.content)) return undefined;
    const key = stored.content.file_key;
    return this.uploads.find((u) => u.fileKey === key);
  }

  p2pChatId(openId: string): string {
    return `oc_${digest(`p2p:${this.appId}:${openId}`).slice(0, 32)}`;
  }

  // ── queries over what was recorded ────────────────────────────────────────

  messagesIn(chatId: string): SentMessage[] {
    return this.sent.filter((m) => m.chatId === chatId);
  }

  latestCard(messageId: string): Card | undefined {
    const stored = this.messages.get(messageId);
    if (!stored || stored.msgType !== 'interactive' || !isObject(stored.content)) return undefined;
    return stored.content;
  }

  cardsIn(chatId: string): Card[] {
    return this.messagesIn(chatId)
      .filter((m) => m.msgType === 'interactive')
      .map((m) => this.latestCard(m.messageId))
      .filter((card): card is Card => card !== undefined);
  }

  textsIn(chatId: string): string[] {
    return this.messagesIn(chatId).map((m) => {
      const current = this.messages.get(m.messageId);
      return messageText(m.msgType, current ? current.content : m.content);
    });
  }

  async waitFor<T>(predicate: (emulator: LarkEmulator) => T, timeoutMs = 5000): Promise<NonNullable<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = predicate(this);
      if (result) return result as NonNullable<T>;
      if (Date.now() >= deadline) {
        const seen = this.sent
          .map((m) => `  ${m.chatId} ${m.msgType}: ${messageText(m.msgType, this.messages.get(m.messageId)?.content ?? m.content).slice(0, 120)}`)
          .join('\n');
        throw new Error(`waitFor timed out after ${timeoutMs}ms; ${this.sent.length} message(s) sent:\n${seen || '  (none)'}`);
      }
      await sleep(20);
    }
  }

  // ── the HTTP surface ──────────────────────────────────────────────────────

  private app(): express.Express {
    const app = express();
    app.disable('x-powered-by');
    app.use((req, res, next) => this.record(req, res, next));
    app.use(express.json({ limit: '10mb' }));
    // im.file.create posts multipart/form-data (up to Lark's 30 MB, with room for the envelope).
    app.use(express.raw({ type: 'multipart/form-data', limit: '31mb' }));
    app.use((req, res, next) => {
      this.intercept(req, res, next).catch(next);
    });

    app.post('/open-apis/auth/v3/tenant_access_token/internal', (req, res) => this.issueToken(req, res, 'tenant'));
    app.post('/open-apis/auth/v3/app_access_token/internal', (req, res) => this.issueToken(req, res, 'app'));

    // The long connection's endpoint is authenticated by the app id and secret in its body, not by a token.
    app.post('/callback/ws/endpoint', (req, res) => this.answer(res, 200, this.longConnection.endpoint(req.body)));

    app.use('/open-apis', (req, res, next) => this.authorize(req, res, next));

    app.post('/open-apis/im/v1/messages', (req, res) => this.guard(res, () => this.createMessage(req, res)));
    app.post('/open-apis/im/v1/messages/:message_id/reply', (req, res) =>
      this.guard(res, () => this.replyMessage(req, res)),
    );
    app.patch('/open-apis/im/v1/messages/:message_id', (req, res) => this.guard(res, () => this.patchMessage(req, res)));
    app.post('/open-apis/im/v1/files', (req, res) => this.guard(res, () => this.uploadFile(req, res)));
    app.get('/open-apis/im/v1/messages/:message_id/resources/:file_key', (req, res) =>
      this.guard(res, () => this.messageResource(req, res)),
    );
    app.patch('/open-apis/im/v1/messages/:message_id/urgent_app', (req, res) => this.guard(res, () => this.urgentApp(req, res)));
    app.get('/open-apis/contact/v3/users/:user_id', (req, res) => this.guard(res, () => this.getUser(req, res)));
    app.get('/open-apis/bot/v3/info', (_req, res) => {
      this.answer(res, 200, {
        code: 0,
        msg: 'ok',
        bot: { activate_status: 2, app_name: this.botName, avatar_url: '', ip_white_list: [], open_id: this.botOpenId },
      });
    });

    app.use((_req: ExpressRequest, res: ExpressResponse) => {
      this.answer(res, 404, { code: 404, msg: '404 page not found' });
    });
    app.use((err: unknown, _req: ExpressRequest, res: ExpressResponse, _next: NextFunction) => {
      // Body that is not JSON, or anything the emulator did not expect: answer, never crash the test run.
      const status = isObject(err) && typeof err.status === 'number' ? err.status : 500;
      const code = status === 400 ? LARK_CODES.fieldValidation : LARK_CODES.internal;
      if (!res.headersSent) this.fail(res, { ...code, status }, err instanceof Error ? err.message : undefined);
    });
    return app;
  }

  private record(req: ExpressRequest, res: ExpressResponse, next: NextFunction): void {
    const url = new URL(req.originalUrl, 'http://emulator');
    const entry: RequestRecord = {
      method: req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      fault: false,
      at: Date.now(),
    };
    this.requests.push(entry);
    res.locals.record = entry;
    res.on('finish', () => {
      entry.status = res.statusCode;
      const code: unknown = res.locals.larkCode;
      if (typeof code === 'number') entry.code = code;
    });
    next();
  }

  /** Latency and injected faults, before the request reaches the emulated API. */
  private async intercept(req: ExpressRequest, res: ExpressResponse, next: NextFunction): Promise<void> {
    const path = req.path;
    const fault = this.takeFault(path);
    const delay = this.latencyMs + (fault?.delayMs ?? 0);
    if (delay > 0) await sleep(delay);
    if (res.destroyed || req.socket.destroyed) return;
    if (!fault || (fault.status === undefined && fault.code === undefined && !fault.networkError)) {
      next();
      return;
    }
    (res.locals.record as RequestRecord).fault = true;
    if (fault.networkError) {
      req.socket.destroy();
      return;
    }
    const status = fault.status ?? 400;
    const fallback = status === 429 ? LARK_CODES.appRateLimited : status >= 500 ? LARK_CODES.internal : LARK_CODES.invalidParam;
    const headers: Record<string, string> =
      status === 429 ? { 'x-ogw-ratelimit-limit': String(this.perAppQps), 'x-ogw-ratelimit-reset': '1' } : {};
    res.set({ ...headers, ...(fault.headers ?? {}) });
    this.fail(res, { code: fault.code ?? fallback.code, status, msg: fault.msg ?? fallback.msg });
  }

  private takeFault(path: string): Fault | undefined {
    const now = Date.now();
    this.faults = this.faults.filter((f) => (f.remaining === undefined || f.remaining > 0) && (f.until === undefined || f.until > now));
    const active = this.faults.find((f) => (f.fault.paths ? f.fault.paths.test(path) : !path.startsWith('/open-apis/auth/')));
    if (!active) return undefined;
    if (active.remaining !== undefined) active.remaining -= 1;
    return active.fault;
  }

  private authorize(req: ExpressRequest, res: ExpressResponse, next: NextFunction): void {
    const header = req.get('authorization');
    if (!header) return this.fail(res, LARK_CODES.missingToken);
    const match = /^Bearer (.+)$/.exec(header);
    const expiresAt = match?.[1] ? this.tokens.get(match[1]) : undefined;
    if (expiresAt === undefined || expiresAt <= Date.now()) return this.fail(res, LARK_CODES.invalidToken);
    const slot = this.windows.take('app', this.perAppQps, Date.now());
    if (!slot.ok) {
      res.set({
        'x-ogw-ratelimit-limit': String(this.perAppQps),
        'x-ogw-ratelimit-reset': String(Math.ceil(slot.retryAfterMs / 1000)),
      });
      return this.fail(res, LARK_CODES.appRateLimited);
    }
    next();
  }

  private issueToken(req: ExpressRequest, res: ExpressResponse, kind: 'tenant' | 'app'): void {
    const body: unknown = req.body;
    const appId = isObject(body) ? body.app_id : undefined;
    const appSecret = isObject(body) ? body.app_secret : undefined;
    if (typeof appId !== 'string' || typeof appSecret !== 'string' || appId !== this.appId) {
      return this.fail(res, LARK_CODES.authInvalidParam);
    }
    if (appSecret !== this.appSecret) return this.fail(res, LARK_CODES.authBadSecret);
    const now = Date.now();
    let token: string | undefined;
    let expiresAt = 0;
    for (const [t, exp] of this.tokens) {
      if (exp - now > TOKEN_RENEW_BELOW_S * 1000 && exp > expiresAt) {
        token = t;
        expiresAt = exp;
      }
    }
    if (token === undefined) {
      token = `t-${hex(20)}`;
      expiresAt = now + TOKEN_TTL_S * 1000;
      this.tokens.set(token, expiresAt);
    }
    const expire = Math.floor((expiresAt - now) / 1000);
    const payload: Record<string, unknown> = { code: 0, msg: 'ok', tenant_access_token: token, expire };
    if (kind === 'app') payload.app_access_token = token;
    this.answer(res, 200, payload);
  }

  private createMessage(req: ExpressRequest, res: ExpressResponse): void {
    const receiveIdType = typeof req.query.receive_id_type === 'string' ? req.query.receive_id_type : '';
    if (!RECEIVE_ID_TYPES.has(receiveIdType)) throw new HttpFailure(LARK_CODES.fieldValidation, 'receive_id_type is required');
    const body = isObject(req.body) ? req.body : {};
    const receiveId = body.receive_id;
    if (typeof receiveId !== 'string' || receiveId === '') throw new HttpFailure(LARK_CODES.fieldValidation, 'receive_id is required');
    const { msgType, content, rawContent, uuid } = this.readSendBody(body);
    const chatId = this.chatFor(receiveIdType as ReceiveIdType, receiveId);

    const duplicate = this.duplicateOf(uuid);
    if (duplicate) return this.answer(res, 200, { code: 0, msg: 'success', data: this.messageView(duplicate) });

    this.takeChatSlot(chatId);
    const stored = this.store({ chatId, msgType, content, rawContent });
    this.remember(uuid, stored);
    const record: SentMessage = {
      messageId: stored.messageId,
      chatId,
      receiveId,
      receiveIdType: receiveIdType as ReceiveIdType,
      msgType,
      content,
      at: stored.createTime,
    };
    if (uuid !== undefined) record.uuid = uuid;
    this.sent.push(record);
    this.answer(res, 200, { code: 0, msg: 'success', data: this.messageView(stored) });
  }

  private replyMessage(req: ExpressRequest, res: ExpressResponse): void {
    const parentId = String(req.params.message_id);
    const body = isObject(req.body) ? req.body : {};
    const { msgType, content, rawContent, uuid } = this.readSendBody(body);
    const parent = this.messages.get(parentId);
    if (!parent) throw new HttpFailure(LARK_CODES.invalidParam, `invalid message_id: ${parentId}`);
    const inThread = body.reply_in_thread === true;

    const duplicate = this.duplicateOf(uuid);
    if (duplicate) return this.answer(res, 200, { code: 0, msg: 'success', data: this.messageView(duplicate) });

    this.takeChatSlot(parent.chatId);
    const stored = this.store({
      chatId: parent.chatId,
      msgType,
      content,
      rawContent,
      rootId: parent.rootId ?? parent.messageId,
      parentId: parent.messageId,
      threadId: parent.threadId ?? (inThread ? `omt_${hex(8)}` : undefined),
    });
    if (inThread && !parent.threadId) parent.threadId = stored.threadId;
    this.remember(uuid, stored);
    const record: SentMessage = {
      messageId: stored.messageId,
      chatId: parent.chatId,
      receiveId: parent.chatId,
      receiveIdType: 'chat_id',
      msgType,
      content,
      replyTo: parent.messageId,
      replyInThread: inThread,
      at: stored.createTime,
    };
    if (uuid !== undefined) record.uuid = uuid;
    this.sent.push(record);
    this.answer(res, 200, { code: 0, msg: 'success', data: this.messageView(stored) });
  }

  private patchMessage(req: ExpressRequest, res: ExpressResponse): void {
    const messageId = String(req.params.message_id);
    const body = isObject(req.body) ? req.body : {};
    const stored = this.messages.get(messageId);
    if (!stored) throw new HttpFailure(LARK_CODES.invalidParam, `invalid message_id: ${messageId}`);
    // "调用该接口的身份需与发送卡片的身份一致" / "仅支持更新卡片（消息类型为 interactive）".
    if (!stored.fromThisApp) throw new HttpFailure(LARK_CODES.noPermission, 'the message was not sent by this app');
    if (stored.msgType !== 'interactive') {
      throw new HttpFailure(LARK_CODES.invalidParam, 'only interactive (card) messages can be updated');
    }
    const content = parseContent('interactive', body.content);
    this.takeChatSlot(stored.chatId);
    stored.content = content;
    stored.rawContent = body.content as string;
    stored.updateTime = Date.now();
    stored.patched = true;
    this.patches.push({ messageId, content, at: stored.updateTime });
    this.emitChange('update', stored);
    this.answer(res, 200, { code: 0, msg: 'ok', data: {} });
  }

  /** im.file.create: answers `{code, msg, data: {file_key}}` (the SDK hands its caller `data` alone). */
  private uploadFile(req: ExpressRequest, res: ExpressResponse): void {
    const type = req.get('content-type') ?? '';
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(type);
    if (!type.startsWith('multipart/form-data') || !boundary || !Buffer.isBuffer(req.body)) {
      throw new HttpFailure(LARK_CODES.fieldValidation, 'the upload must be multipart/form-data');
    }
    const parts = parseMultipart(req.body, boundary[1] ?? boundary[2] ?? '');
    const field = (name: string) => parts.find((p) => p.name === name);
    const fileType = field('file_type')?.data.toString('utf8');
    const fileName = field('file_name')?.data.toString('utf8');
    const file = field('file');
    if (!fileType || !FILE_TYPES.has(fileType)) throw new HttpFailure(LARK_CODES.fieldValidation, 'file_type must be one of opus, mp4, pdf, doc, xls, ppt, stream');
    if (!fileName) throw new HttpFailure(LARK_CODES.fieldValidation, 'file_name is required');
    if (!file) throw new HttpFailure(LARK_CODES.fieldValidation, 'file is required');
    if (file.data.length === 0 || file.data.length > 30 * 1024 * 1024) throw new HttpFailure(LARK_CODES.fileSizeInvalid);
    const upload: UploadedFile = { fileKey: `file_v3_${hex(12)}`, fileName, fileType, bytes: file.data, at: Date.now() };
    this.uploads.push(upload);
    this.answer(res, 200, { code: 0, msg: 'success', data: { file_key: upload.fileKey } });
  }

  /** im.messageResource.get: the bytes of a file in a user's message, as a download. */
  private messageResource(req: ExpressRequest, res: ExpressResponse): void {
    const type = typeof req.query.type === 'string' ? req.query.type : '';
    if (type !== 'file' && type !== 'image') throw new HttpFailure(LARK_CODES.fieldValidation, 'type must be image or file');
    const message = this.messages.get(String(req.params.message_id));
    const fileKey = String(req.params.file_key);
    const inMessage = message && isObject(message.content) && message.content.file_key === fileKey;
    const bytes = this.userFiles.get(fileKey);
    if (!inMessage || !bytes) throw new HttpFailure(LARK_CODES.resourceNotInMessage);
    if (bytes.length > 100 * 1024 * 1024) throw new HttpFailure(LARK_CODES.resourceTooLarge);
    const name = isObject(message.content) && typeof message.content.file_name === 'string' ? message.content.file_name : fileKey;
    res.status(200).set({
      'content-type': 'application/octet-stream',
      'content-length': String(bytes.length),
      'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
    });
    res.end(bytes);
  }

  /**
   * 加急 (buzz) on a message the bot sent (im/v1 message urgent_app): only the bot's own messages; user_id_type is
   * required; ids of people who are not in the message's chat come back in invalid_user_id_list and are not buzzed.
   */
  private urgentApp(req: ExpressRequest, res: ExpressResponse): void {
    const messageId = String(req.params.message_id);
    const body = isObject(req.body) ? req.body : {};
    if (req.query.user_id_type !== 'open_id') throw new HttpFailure(LARK_CODES.fieldValidation, 'user_id_type is required (this emulator knows open_id)');
    const ids = body.user_id_list;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string')) {
      throw new HttpFailure(LARK_CODES.fieldValidation, 'user_id_list is required');
    }
    const stored = this.messages.get(messageId);
    if (!stored) throw new HttpFailure(LARK_CODES.invalidParam, `invalid message_id: ${messageId}`);
    if (!stored.fromThisApp) throw new HttpFailure(LARK_CODES.noPermission, 'the message was not sent by this app');
    // A private chat holds the bot and one person. A group defined in the chat model has its members; any other group
    // counts every known user as a member.
    const defined = this.chatModel.get(stored.chatId);
    const isP2p = [...this.users_.keys()].some((openId) => this.p2pChatId(openId) === stored.chatId);
    const member = (id: string) =>
      isP2p ? this.p2pChatId(id) === stored.chatId : defined ? defined.members.includes(id) : this.users_.has(id);
    const accepted = (ids as string[]).filter(member);
    const invalid = (ids as string[]).filter((id) => !member(id));
    if (accepted.length > 0) this.urgents.push({ messageId, userIds: accepted, at: Date.now() });
    this.answer(res, 200, { code: 0, msg: 'success', data: { invalid_user_id_list: invalid } });
  }

  private getUser(req: ExpressRequest, res: ExpressResponse): void {
    const id = String(req.params.user_id);
    const idType = typeof req.query.user_id_type === 'string' ? req.query.user_id_type : 'open_id';
    const user = [...this.users_.values()].find((u) => {
      const ids = this.userIds(u.openId);
      return idType === 'union_id' ? ids.unionId === id : idType === 'user_id' ? ids.userId === id : u.openId === id;
    });
    if (!user) throw new HttpFailure(LARK_CODES.noUserAuthority);
    const ids = this.userIds(user.openId);
    this.answer(res, 200, {
      code: 0,
      msg: 'success',
      data: {
        user: {
          open_id: user.openId,
          union_id: ids.unionId,
          user_id: ids.userId,
          name: user.name,
          en_name: '',
          nickname: '',
          status: { is_activated: true, is_exited: false, is_frozen: false, is_resigned: false, is_unjoin: false },
          department_ids: [],
        },
      },
    });
  }

  // ── helpers ───────────────────────────────────────────────────────────────

  /** Runs a handler, turning an HttpFailure into Lark's error answer. */
  private guard(res: ExpressResponse, handler: () => void): void {
    try {
      handler();
    } catch (err) {
      if (err instanceof HttpFailure) return this.fail(res, err.code, err.ext);
      throw err;
    }
  }

  private readSendBody(body: Record<string, unknown>): { msgType: string; content: unknown; rawContent: string; uuid?: string } {
    const msgType = body.msg_type;
    if (typeof msgType !== 'string' || msgType === '') throw new HttpFailure(LARK_CODES.fieldValidation, 'msg_type is required');
    if (!MSG_TYPES.has(msgType)) throw new HttpFailure(LARK_CODES.invalidParam, `unsupported msg_type: ${msgType}`);
    const uuid = body.uuid;
    if (uuid !== undefined && (typeof uuid !== 'string' || uuid.length > 50)) {
      throw new HttpFailure(LARK_CODES.fieldValidation, 'uuid must be a string of at most 50 characters');
    }
    const content = parseContent(msgType, body.content);
    // A file message carries a file this app uploaded ("file_key 需通过上传文件接口获取").
    if (msgType === 'file') {
      const key = isObject(content) ? content.file_key : undefined;
      if (typeof key !== 'string' || !this.uploads.some((u) => u.fileKey === key)) throw new HttpFailure(LARK_CODES.fileKeyInvalid);
    }
    const result: { msgType: string; content: unknown; rawContent: string; uuid?: string } = {
      msgType,
      content,
      rawContent: body.content as string,
    };
    if (typeof uuid === 'string' && uuid !== '') result.uuid = uuid;
    return result;
  }

  private chatFor(type: ReceiveIdType, id: string): string {
    if (type === 'chat_id') {
      if (!id.startsWith('oc_')) throw new HttpFailure(LARK_CODES.invalidReceiveId);
      return id;
    }
    if (type === 'open_id') {
      if (!id.startsWith('ou_')) throw new HttpFailure(LARK_CODES.invalidReceiveId);
      if (this.userScopeDeclared && !this.users_.has(id)) throw new HttpFailure(LARK_CODES.userUnavailable);
    }
    return this.p2pChatId(id);
  }

  /** "持有相同 uuid 的请求，在 1 小时内至多成功发送一条消息": a repeat gets the first message back. */
  private duplicateOf(uuid: string | undefined): StoredMessage | undefined {
    if (uuid === undefined) return undefined;
    const seen = this.uuids.get(uuid);
    if (!seen || Date.now() - seen.at > 3600_000) return undefined;
    return this.messages.get(seen.messageId);
  }

  private remember(uuid: string | undefined, stored: StoredMessage): void {
    if (uuid !== undefined) this.uuids.set(uuid, { messageId: stored.messageId, at: stored.createTime });
  }

  private takeChatSlot(chatId: string): void {
    if (!this.windows.take(`chat:${chatId}`, this.perChatQps, Date.now()).ok) throw new HttpFailure(LARK_CODES.chatRateLimited);
  }

  private store(m: {
    chatId: string;
    msgType: string;
    content: unknown;
    rawContent: string;
    rootId?: string;
    parentId?: string;
    threadId?: string | undefined;
  }): StoredMessage {
    const now = Date.now();
    const stored: StoredMessage = {
      messageId: `om_${hex(16)}`,
      chatId: m.chatId,
      msgType: m.msgType,
      content: m.content,
      rawContent: m.rawContent,
      fromThisApp: true,
      createTime: now,
      updateTime: now,
      patched: false,
    };
    if (m.rootId !== undefined) stored.rootId = m.rootId;
    if (m.parentId !== undefined) stored.parentId = m.parentId;
    if (m.threadId !== undefined) stored.threadId = m.threadId;
    this.messages.set(stored.messageId, stored);
    this.emitChange('message', stored);
    return stored;
  }

  private messageView(m: StoredMessage): Record<string, unknown> {
    const view: Record<string, unknown> = {
      message_id: m.messageId,
      msg_type: m.msgType,
      create_time: String(m.createTime),
      update_time: String(m.updateTime),
      deleted: false,
      updated: m.patched,
      chat_id: m.chatId,
      sender: { id: this.appId, id_type: 'app_id', sender_type: 'app', tenant_key: this.tenantKey },
      body: { content: m.rawContent },
    };
    if (m.rootId) view.root_id = m.rootId;
    if (m.parentId) view.parent_id = m.parentId;
    if (m.threadId) view.thread_id = m.threadId;
    return view;
  }

  private userIds(openId: string): { unionId: string; userId: string } {
    const h = digest(`user:${openId}`);
    return { unionId: `on_${h.slice(0, 32)}`, userId: h.slice(32, 40) };
  }

  private answer(res: ExpressResponse, status: number, body: Record<string, unknown>): void {
    res.locals.larkCode = body.code;
    res.status(status).json(body);
  }

  private fail(res: ExpressResponse, code: LarkCode, ext?: string): void {
    const logId = `${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}${hex(8).toUpperCase()}`;
    res.set('x-tt-logid', logId);
    this.answer(res, code.status, {
      code: code.code,
      msg: ext ? `${code.msg}, ext=${ext}` : code.msg,
      error: { log_id: logId },
    });
  }
}

/** Starts a fake Lark OpenAPI server on 127.0.0.1; resolves once it is listening. */
export async function startLarkEmulator(opts: StartOptions = {}): Promise<LarkEmulator> {
  const emulator = new Emulator(opts);
  await emulator.start(opts.port ?? 0);
  return emulator;
}

