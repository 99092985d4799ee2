// Posts events and card callbacks to Banli's webhook exactly as Lark's event push does: schema 2.0
// envelopes, AES-256-CBC encryption and the X-Lark-Signature headers when an Encrypt Key is configured,
// and at-least-once delivery (the same bytes more than once) on request.

import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from './emulator.ts';
import type { PushResult } from './long-connection.ts';

export interface SenderOptions {
  /** Banli's webhook, e.g. `http://127.0.0.1:PORT/lark/webhook`. */
  url: string;
  appId?: string;
  verificationToken?: string;
  encryptKey?: string;
  tenantKey?: string;
  /**
   * The emulator, told about every user message sent, so that the bot can reply to it
   * (Lark knows the messages in its chats; the emulator only knows what it is told).
   */
  emulator?: { recordIncoming(message: IncomingMessage): void };
  /**
   * Deliver over the long connection instead of posting to `url` (LARK_MODE=ws): events travel unencrypted inside
   * the socket, and the answer is the one the client's ack frame carries.
   */
  longConnection?: { pushEvent(event: object): Promise<PushResult> };
}

export interface MentionSpec {
  /** `@_user_N`; by default numbered in order. */
  key?: string;
  openId: string;
  name: string;
}

export interface MessageSpec {
  chatId: string;
  chatType: 'group' | 'p2p';
  senderOpenId: string;
  /** The text as Lark delivers it, with `@_user_N` placeholders; a mention whose key is absent is put in front. */
  text: string;
  mentions?: MentionSpec[];
  messageId?: string;
  eventId?: string;
  senderType?: 'user' | 'app';
  /** The message being replied to (Lark sets root_id and parent_id). */
  parentId?: string;
  /**
   * A file message instead of text (`message_type: "file"`, content `{file_key, file_name}`; no mentions, as Lark
   * sends it); register the bytes with the emulator's `userFile` first.
   */
  file?: { fileKey: string; fileName: string };
}

export interface CardActionSpec {
  operatorOpenId: string;
  openMessageId: string;
  openChatId: string;
  /** The clicked component's callback value. */
  value: unknown;
  formValue?: Record<string, unknown>;
  name?: string;
  /** The component tag; 'button' by default. */
  tag?: string;
  option?: string;
  options?: string[];
  inputValue?: string;
  checked?: boolean;
  eventId?: string;
}

export interface PostOptions {
  /** Re-post the identical bytes this many extra times (Lark's at-least-once delivery). */
  duplicates?: number;
  /** Seconds since the epoch, as Lark sends it; default now. */
  timestamp?: string;
  nonce?: string;
  /** Replaces the computed signature (to forge one). */
  signature?: string;
  /** Sent as-is instead of the serialised (and encrypted) body; still signed unless `signature` is given. */
  rawBody?: string;
  /** Leave out the three signature headers even when an Encrypt Key is set. */
  unsigned?: boolean;
  headers?: Record<string, string>;
}

export interface EventSender {
  /** The request-URL check; encrypted when an Encrypt Key is set, and (as Lark says) not signed. */
  urlVerification(challenge?: string): Promise<Response>;
  message(m: MessageSpec): Promise<Response>;
  cardAction(a: CardActionSpec): Promise<Response>;
  post(body: object, opts?: PostOptions): Promise<Response[]>;
  /**
   * The signed webhook request of a card callback, built but not sent: for a client that prepares its requests
   * before it starts the clock (bench/click-client.ts).
   */
  cardActionRequest(a: CardActionSpec): SignedRequest;
}

/** A webhook request as Lark would post it: its headers and its raw body. */
export interface SignedRequest {
  headers: Record<string, string>;
  body: string;
}

/** Lark's event encryption: base64(iv ‖ AES-256-CBC(key = sha256(encryptKey), PKCS#7(plaintext))). */
export function encryptForLark(encryptKey: string, plaintext: string): string {
  const key = createHash('sha256').update(encryptKey, 'utf8').digest();
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

/** X-Lark-Signature: hex sha256 over timestamp + nonce + encryptKey + the raw request body. */
export function signLark(timestamp: string, nonce: string, encryptKey: string, body: string): string {
  return createHash('sha256').update(timestamp + nonce + encryptKey + body, 'utf8').digest('hex');
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function userIdsOf(openId: string): { open_id: string; union_id: string; user_id: string } {
  const h = createHash('sha256').update(`user:${openId}`).digest('hex');
  return { open_id: openId, union_id: `on_${h.slice(0, 32)}`, user_id: h.slice(32, 40) };
}

class Sender implements EventSender {
  private readonly appId: string;
  private readonly token: string;
  private readonly tenantKey: string;

  constructor(private readonly opts: SenderOptions) {
    this.appId = opts.appId ?? 'cli_emulated_app';
    this.token = opts.verificationToken ?? '';
    this.tenantKey = opts.tenantKey ?? 'tenant_emulated';
  }

  async urlVerification(challenge: string = hex(16)): Promise<Response> {
    // Lark checks a request URL over HTTP whatever the delivery mode, so this one never takes the long connection.
    const [response] = await this.postHttp({ challenge, token: this.token, type: 'url_verification' }, { unsigned: true });
    return response as Response;
  }

  async message(m: MessageSpec): Promise<Response> {
    const messageId = m.messageId ?? `om_${hex(16)}`;
    const now = Date.now();
    const mentions = (m.mentions ?? []).map((mention, i) => ({
      key: mention.key ?? `@_user_${i + 1}`,
      id: userIdsOf(mention.openId),
      name: mention.name,
      tenant_key: this.tenantKey,
    }));
    const absent = mentions.filter((mention) => !m.text.includes(mention.key)).map((mention) => mention.key);
    const text = absent.length > 0 ? `${absent.join(' ')} ${m.text}` : m.text;
    const msgType = m.file ? 'file' : 'text';
    const content = m.file ? { file_key: m.file.fileKey, file_name: m.file.fileName } : { text };

    const message: Record<string, unknown> = {
      message_id: messageId,
      create_time: String(now),
      update_time: String(now),
      chat_id: m.chatId,
      chat_type: m.chatType,
      message_type: msgType,
      content: JSON.stringify(content),
    };
    if (m.parentId) {
      message.root_id = m.parentId;
      message.parent_id = m.parentId;
    }
    if (mentions.length > 0 && !m.file) message.mentions = mentions;

    this.opts.emulator?.recordIncoming({
      messageId,
      chatId: m.chatId,
      senderOpenId: m.senderOpenId,
      msgType,
      content,
    });
    const [response] = await this.post({
      schema: '2.0',
      header: this.header('im.message.receive_v1', m.eventId, String(now)),
      event: {
        sender: {
          sender_id: userIdsOf(m.senderOpenId),
          sender_type: m.senderType ?? 'user',
          tenant_key: this.tenantKey,
        },
        message,
      },
    });
    return response as Response;
  }

  async cardAction(a: CardActionSpec): Promise<Response> {
    const [response] = await this.post(this.cardActionBody(a));
    return response as Response;
  }

  cardActionRequest(a: CardActionSpec): SignedRequest {
    return this.httpRequest(this.cardActionBody(a), {});
  }

  private cardActionBody(a: CardActionSpec): object {
    const action: Record<string, unknown> = { value: a.value, tag: a.tag ?? 'button' };
    if (a.formValue !== undefined) action.form_value = a.formValue;
    if (a.name !== undefined) action.name = a.name;
    if (a.option !== undefined) action.option = a.option;
    if (a.options !== undefined) action.options = a.options;
    if (a.inputValue !== undefined) action.input_value = a.inputValue;
    if (a.checked !== undefined) action.checked = a.checked;
    // The card callback's create_time is in microseconds, unlike events' milliseconds.
    const micros = `${Date.now()}000`;
    return {
      schema: '2.0',
      header: this.header('card.action.trigger', a.eventId, micros),
      event: {
        operator: { tenant_key: this.tenantKey, ...userIdsOf(a.operatorOpenId) },
        token: `c-${hex(20)}`,
        action,
        host: 'im_message',
        context: { open_message_id: a.openMessageId, open_chat_id: a.openChatId },
      },
    };
  }

  async post(body: object, opts: PostOptions = {}): Promise<Response[]> {
    if (this.opts.longConnection) return this.push(this.opts.longConnection, body, opts);
    return this.postHttp(body, opts);
  }

  private async postHttp(body: object, opts: PostOptions): Promise<Response[]> {
    const { headers, body: raw } = this.httpRequest(body, opts);
    const responses: Response[] = [];
    // Lark redelivers after the previous attempt, so the copies go one after another.
    for (let i = 0; i <= (opts.duplicates ?? 0); i++) {
      responses.push(await fetch(this.opts.url, { method: 'POST', headers, body: raw }));
    }
    return responses;
  }

  private httpRequest(body: object, opts: PostOptions): SignedRequest {
    const key = this.opts.encryptKey;
    const plain = JSON.stringify(body);
    const raw = opts.rawBody ?? (key ? JSON.stringify({ encrypt: encryptForLark(key, plain) }) : plain);
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (key && !opts.unsigned) {
      const timestamp = opts.timestamp ?? String(Math.floor(Date.now() / 1000));
      const nonce = opts.nonce ?? hex(8);
      headers['x-lark-request-timestamp'] = timestamp;
      headers['x-lark-request-nonce'] = nonce;
      headers['x-lark-signature'] = opts.signature ?? signLark(timestamp, nonce, key, raw);
    } else if (opts.signature !== undefined || opts.timestamp !== undefined || opts.nonce !== undefined) {
      // Without an Encrypt Key a test may still want to send forged headers.
      if (opts.timestamp !== undefined) headers['x-lark-request-timestamp'] = opts.timestamp;
      if (opts.nonce !== undefined) headers['x-lark-request-nonce'] = opts.nonce;
      if (opts.signature !== undefined) headers['x-lark-signature'] = opts.signature;
    }
    Object.assign(headers, opts.headers ?? {});
    return { headers, body: raw };
  }

  /** The long connection's delivery, answered as the webhook would be: 200 with the handler's JSON, or 500. */
  private async push(lc: { pushEvent(event: object): Promise<PushResult> }, body: object, opts: PostOptions): Promise<Response[]> {
    if (opts.rawBody !== undefined || opts.signature !== undefined || opts.unsigned) {
      throw new Error('raw bodies and forged signatures exist only on the webhook, not on the long connection');
    }
    const responses: Response[] = [];
    for (let i = 0; i <= (opts.duplicates ?? 0); i++) {
      const ack = await lc.pushEvent(body);
      responses.push(
        new Response(JSON.stringify(ack.answer ?? {}), {
          status: ack.code === 200 ? 200 : 500,
          headers: { 'content-type': 'application/json; charset=utf-8' },
        }),
      );
    }
    return responses;
  }

  private header(eventType: string, eventId: string | undefined, createTime: string): Record<string, string> {
    return {
      event_id: eventId ?? hex(16),
      event_type: eventType,
      create_time: createTime,
      token: this.token,
      app_id: this.appId,
      tenant_key: this.tenantKey,
    };
  }
}

/** A client that posts to Banli's webhook the way Lark's event push does. */
export function createEventSender(opts: SenderOptions): EventSender {
  return new Sender(opts);
}
