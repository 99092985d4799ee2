import type * as lark from '@larksuiteoapi/node-sdk';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db, DbOrTrx } from '../storage/database.ts';
import type { OutboxRow } from '../storage/schema.ts';
import { releaseOutboxClaims, type LiveCard, type OutboxContent } from './outbox.ts';
import { RateLimiter } from './rate-limiter.ts';
import { TOKEN_CODES } from './client.ts';

// The one path by which Banli's messages reach Lark. Rows are claimed from the outbox with row locks that skip rows
// another instance holds, so several instances can drain one database. Only the oldest pending row of each chat is
// ever claimed: a chat's messages go out strictly in id order (a reply never overtakes what it follows, and a row
// waiting out a backoff holds its chat back), while different chats go out in parallel. No transaction is held
// while Lark is called (PGlite is one connection); a row re-sent after a crash carries the same uuid, so Lark
// delivers it once. Claiming is a pipeline, not batch by batch: new rows are claimed (and their live cards drawn,
// together) as soon as earlier ones settle, so rows are always waiting at the rate limiter and a slow row or a busy
// chat holds back nobody else.

export interface OutboxSenderOptions {
  db: Db;
  client: lark.Client;
  logger: Logger;
  /** A live card drawn fresh from the database, or null when what it shows no longer exists. */
  renderCard(card: LiveCard): Promise<object | null>;
  /**
   * Several live cards drawn at once (answers in the same order), for the rows of one claim: a few queries for the
   * lot instead of a few per card. Without it each card is drawn by renderCard.
   */
  renderCards?(cards: readonly LiveCard[]): Promise<(object | null)[]>;
  /** called after a live card was created or replied, in the transaction recording it, so later changes can patch it */
  onCardSent?(trx: DbOrTrx, messageId: string, card: LiveCard, chatId: string | null): Promise<void>;
  /** called once a new message (create/reply) is recorded as sent, outside any transaction (e.g. to buzz it) */
  onDelivered?(row: OutboxRow, messageId: string, content: OutboxContent): Promise<void>;
  /** default 30 min: then mark failed and log at error level */
  giveUpAfterMs?: number;
  /** The same for a file (a report): default 24 h, so a long Lark outage delays it rather than losing it. */
  fileGiveUpAfterMs?: number;
  /** default 5 */
  perChatPerSecond?: number;
  /** default 50 */
  perAppPerSecond?: number;
  /** default 500 */
  pollIntervalMs?: number;
  /** called on 99991663 / 99991661 / 99991668 (invalid tenant token) before retrying */
  clearTokenCache?: () => void | Promise<void>;
  /** Wall clock in ms, for a row's age; default Date.now. */
  now?: () => number;
  /** First retry delay (doubling per attempt); default 1 s. */
  retryBaseMs?: number;
  /** Longest retry delay; default 60 s. */
  retryMaxMs?: number;
  /** Rows claimed at a time (at most one per chat); default 50. */
  batchSize?: number;
  /**
   * Rows claimed and not yet settled, at most (default twice batchSize). The sender claims and draws the next rows
   * while earlier ones wait for the rate limiter, so the limits, not the database, set the pace; the cap bounds how
   * long a drawn card may wait before it goes out.
   */
  maxInFlight?: number;
  /** How long a claim keeps other instances off a row; default 60 s. */
  lockMs?: number;
  /** Only this process can use the database (the embedded one, behind its lock file): a claim left by a process that
   *  died is released at start instead of waiting out its lock, so replies after a crash are not held back. */
  soleUser?: boolean;
  /** A Lark call that takes longer counts as a network error; default 20 s. */
  sendTimeoutMs?: number;
  /** Told of every failed send and what is done about it (for /metrics). */
  onSendFailure?: (verdict: SendVerdict['kind']) => void;
  /** In [0, 1); default Math.random. */
  random?: () => number;
}

/** What to do about a failed send. */
export type SendVerdict =
  | { kind: 'retry'; reason: string; status?: number; code?: number; waitMs?: number; limited?: 'chat' | 'app' }
  | { kind: 'token'; reason: string; status?: number; code?: number }
  | { kind: 'permanent'; reason: string; status?: number; code?: number };

const CHAT_LIMIT_CODE = 230020;
const APP_LIMIT_CODE = 99991400;
const RESET_HEADER = 'x-ogw-ratelimit-reset';
/** Lark's "internal error, try again later" codes (server-docs generic error codes: 1500, 2200). */
const SYSTEM_BUSY_CODES: ReadonlySet<number> = new Set([1500, 2200]);
// Lark answers a busy platform (the top of the hour, when everyone's jobs run) with HTTP 200 and a code whose number
// differs between APIs, but whose message says so.
const SYSTEM_BUSY_MESSAGE = /system busy|系统繁忙|server busy|internal error|try again later|稍后重试/i;
/** A reset header beyond this is not believed. */
const MAX_HEADER_WAIT_MS = 10 * 60_000;
const MIN_RESET_WAIT_MS = 200;
const MAX_ERROR_CHARS = 1000;
const RECEIVE_ID_TYPES = new Set(['open_id', 'user_id', 'union_id', 'email', 'chat_id'] as const);
type ReceiveIdType = typeof RECEIVE_ID_TYPES extends Set<infer T> ? T : never;

/** Lark answered HTTP 200 with a non-zero code. */
export class LarkApiError extends Error {
  override name = 'LarkApiError';
  constructor(
    readonly code: number,
    msg: string,
  ) {
    super(`code ${code}: ${msg}`);
  }
}

/** The row itself cannot be sent (bad content or target); retrying will not help. */
class MalformedRowError extends Error {
  override name = 'MalformedRowError';
}

class SendTimeoutError extends Error {
  override name = 'SendTimeoutError';
}

interface HttpErrorShape {
  message?: unknown;
  code?: unknown;
  config?: { url?: unknown };
  response?: { status?: unknown; data?: unknown; headers?: unknown };
}

function header(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const h = headers as { get?: (n: string) => unknown } & Record<string, unknown>;
  const value = typeof h.get === 'function' ? h.get(name) : (h[name] ?? h[name.toLowerCase()]);
  return value === undefined || value === null ? undefined : String(value);
}

/** Sorts a failed Lark call (axios error, LarkApiError, anything else) into retry later, renew the token now, or give up. */
export function classifyLarkError(err: unknown): SendVerdict {
  if (err instanceof MalformedRowError) return { kind: 'permanent', reason: err.message };
  if (err instanceof LarkApiError) return byCode(err.code, undefined, err.message, undefined);
  if (err instanceof SendTimeoutError) return { kind: 'retry', reason: err.message };

  const e = (err && typeof err === 'object' ? err : {}) as HttpErrorShape;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const res = e.response;
  if (res && typeof res.status === 'number') {
    const status = res.status;
    const data = res.data && typeof res.data === 'object' ? (res.data as { code?: unknown; msg?: unknown }) : undefined;
    const code = typeof data?.code === 'number' ? data.code : undefined;
    const msg = typeof data?.msg === 'string' ? data.msg : typeof res.data === 'string' ? res.data.slice(0, 200) : message;
    const reason = `HTTP ${status}${code !== undefined ? ` code ${code}` : ''}: ${msg}`;
    const resetS = Number(header(res.headers, RESET_HEADER));
    const headerWaitMs = Number.isFinite(resetS) && resetS >= 0 ? Math.min(resetS * 1000, MAX_HEADER_WAIT_MS) : undefined;
    if (code !== undefined && (TOKEN_CODES.has(code) || code === CHAT_LIMIT_CODE || code === APP_LIMIT_CODE || isSystemBusy(code, msg))) {
      return byCode(code, status, reason, headerWaitMs);
    }
    if (status === 429) return { kind: 'retry', reason, status, ...(code !== undefined && { code }), ...(headerWaitMs !== undefined && { waitMs: headerWaitMs }), limited: 'app' };
    if (status >= 500) return { kind: 'retry', reason, status, ...(code !== undefined && { code }) };
    // Failing to get a token is the app's trouble, not this message's.
    const url = typeof e.config?.url === 'string' ? e.config.url : '';
    if (url.includes('/open-apis/auth/')) return { kind: 'retry', reason: `token request failed: ${reason}`, status, ...(code !== undefined && { code }) };
    if (status >= 400) return { kind: 'permanent', reason, status, ...(code !== undefined && { code }) };
    return { kind: 'retry', reason, status, ...(code !== undefined && { code }) };
  }
  // No HTTP answer: a network error (ECONNRESET, ECONNREFUSED, ETIMEDOUT, …), a failed token fetch, or a database
  // error after the send. All may pass; the give-up deadline bounds them.
  const sysCode = typeof e.code === 'string' ? e.code : undefined;
  return { kind: 'retry', reason: sysCode && !message.includes(sysCode) ? `${sysCode}: ${message}` : message };
}

function byCode(code: number, status: number | undefined, reason: string, headerWaitMs: number | undefined): SendVerdict {
  const base = { reason, code, ...(status !== undefined && { status }) };
  if (TOKEN_CODES.has(code)) return { kind: 'token', ...base };
  if (code === CHAT_LIMIT_CODE) return { kind: 'retry', ...base, limited: 'chat', ...(headerWaitMs !== undefined && { waitMs: headerWaitMs }) };
  if (code === APP_LIMIT_CODE) return { kind: 'retry', ...base, limited: 'app', ...(headerWaitMs !== undefined && { waitMs: headerWaitMs }) };
  // A busy platform is waited out like a rate limit: the whole app backs off, not just this row.
  if (isSystemBusy(code, reason)) return { kind: 'retry', ...base, limited: 'app', ...(headerWaitMs !== undefined && { waitMs: headerWaitMs }) };
  return { kind: 'permanent', ...base };
}

function isSystemBusy(code: number, message: string): boolean {
  return SYSTEM_BUSY_CODES.has(code) || SYSTEM_BUSY_MESSAGE.test(message);
}

/** The delay before retry number `attempt` (1-based): base·2^(attempt−1), capped, scaled by a jitter in [0.75, 1]. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(exp * (0.75 + 0.25 * random()));
}

function parseContent(raw: unknown): OutboxContent {
  let value = raw;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw new MalformedRowError('content is not JSON');
    }
  }
  const c = value as Partial<Record<string, unknown>> | null;
  if (c && typeof c === 'object') {
    if (c.kind === 'text' && typeof c.text === 'string') return { kind: 'text', text: c.text };
    if (c.kind === 'file') return { kind: 'file' };
    if (c.kind === 'card' && c.card && typeof c.card === 'object') return { kind: 'card', card: c.card };
    if (c.kind === 'request_card' && (c.requestKind === 'extension' || c.requestKind === 'adjustment') && Number.isInteger(c.requestId)) {
      return { kind: 'request_card', requestKind: c.requestKind, requestId: c.requestId as number };
    }
    if (c.kind === 'reminder_card' && Number.isInteger(c.cardId)) {
      return typeof c.urgent === 'boolean' ? { kind: 'reminder_card', cardId: c.cardId as number, urgent: c.urgent } : { kind: 'reminder_card', cardId: c.cardId as number };
    }
    if (c.kind === 'case_card' && Number.isInteger(c.caseId)) {
      return typeof c.notice === 'string'
        ? { kind: 'case_card', caseId: c.caseId as number, notice: c.notice }
        : { kind: 'case_card', caseId: c.caseId as number };
    }
  }
  throw new MalformedRowError('content is not an OutboxContent');
}

// Axios errors carry the request config, Authorization header included; logs get the reason and, for our own bugs,
// the stack.
function describeError(err: unknown, reason: string): { error: string; stack?: string } {
  const known = err instanceof LarkApiError || err instanceof MalformedRowError || err instanceof SendTimeoutError;
  const isHttp = !!err && typeof err === 'object' && ('config' in err || 'response' in err);
  return err instanceof Error && !known && !isHttp && err.stack ? { error: reason, stack: err.stack } : { error: reason };
}

function truncate(text: string): string {
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text;
}

interface Sent {
  messageId: string | null;
  chatId: string | null;
}

/** A claimed row made ready to send: body null means a live card whose subject is gone; undefined, a file (uploaded at send). */
interface Prepared {
  superseded: Pick<OutboxRow, 'id' | 'content' | 'msg_type'>[];
  content: OutboxContent;
  msgType: string;
  body: string | null | undefined;
}

/** A claimed row that could not be made ready (its failure is recorded like a failed send), with the patches it stands for. */
interface PrepareFailed {
  error: unknown;
  superseded: Prepared['superseded'];
}

interface LarkAnswer {
  code?: number;
  msg?: string;
  data?: { message_id?: string; chat_id?: string };
}

/** Delivers the outbox to Lark: claims due rows, keeps to Lark's rate limits, retries what may pass, records the outcome. */
export class OutboxSender {
  readonly #db: Db;
  readonly #client: lark.Client;
  readonly #log: Logger;
  readonly #renderCard: OutboxSenderOptions['renderCard'];
  readonly #renderCards: OutboxSenderOptions['renderCards'];
  readonly #onCardSent: OutboxSenderOptions['onCardSent'];
  readonly #onDelivered: OutboxSenderOptions['onDelivered'];
  readonly #clearTokenCache: OutboxSenderOptions['clearTokenCache'];
  readonly #giveUpAfterMs: number;
  readonly #fileGiveUpAfterMs: number;
  readonly #pollIntervalMs: number;
  readonly #retryBaseMs: number;
  readonly #retryMaxMs: number;
  readonly #batchSize: number;
  readonly #maxInFlight: number;
  readonly #lockMs: number;
  readonly #soleUser: boolean;
  readonly #sendTimeoutMs: number;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #limiter: RateLimiter;
  readonly #onSendFailure: (verdict: SendVerdict['kind']) => void;

  #running = false;
  #stopping = false;
  #loop: Promise<void> | null = null;
  #kicked = false;
  /** Rows claimed by this sender and not yet settled (sent, failed or put back). */
  #claimedRows = 0;
  /** How many rows of its chat were waiting when a row was claimed (itself included): its place at the rate limiter. */
  readonly #queued = new WeakMap<OutboxRow, number>();
  #wake: (() => void) | null = null;
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(opts: OutboxSenderOptions) {
    this.#db = opts.db;
    this.#client = opts.client;
    this.#log = opts.logger;
    this.#renderCard = opts.renderCard;
    this.#renderCards = opts.renderCards;
    this.#onCardSent = opts.onCardSent;
    this.#onDelivered = opts.onDelivered;
    this.#clearTokenCache = opts.clearTokenCache;
    this.#giveUpAfterMs = opts.giveUpAfterMs ?? 30 * 60_000;
    this.#fileGiveUpAfterMs = opts.fileGiveUpAfterMs ?? 24 * 60 * 60_000;
    this.#pollIntervalMs = opts.pollIntervalMs ?? 500;
    this.#retryBaseMs = opts.retryBaseMs ?? 1000;
    this.#retryMaxMs = opts.retryMaxMs ?? 60_000;
    this.#batchSize = opts.batchSize ?? 50;
    this.#maxInFlight = opts.maxInFlight ?? 2 * this.#batchSize;
    this.#lockMs = opts.lockMs ?? 60_000;
    this.#soleUser = opts.soleUser ?? false;
    this.#sendTimeoutMs = opts.sendTimeoutMs ?? 20_000;
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? Math.random;
    this.#onSendFailure = opts.onSendFailure ?? (() => {});
    this.#limiter = new RateLimiter({
      perKeyPerWindow: opts.perChatPerSecond ?? 5,
      overallPerWindow: opts.perAppPerSecond ?? 50,
      paceOverall: true,
    });
    if (!Number.isInteger(this.#batchSize) || this.#batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${this.#batchSize}`);
    if (!Number.isInteger(this.#maxInFlight) || this.#maxInFlight < 1) throw new RangeError(`maxInFlight must be a positive integer, got ${this.#maxInFlight}`);
  }

  /** Starts draining in the background: now, then every pollIntervalMs or sooner after kick(). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopping = false;
    this.#loop = this.#run();
  }

  /** Whether the loop is draining the outbox (started and not stopped). */
  get running(): boolean {
    return this.#running;
  }

  /** Says new rows were committed, so the loop drains without waiting out its poll interval. */
  kick(): void {
    this.#kicked = true;
    this.#wake?.();
  }

  /** Stops the loop and resolves once every send under way has been recorded. */
  async stop(): Promise<void> {
    this.#running = false;
    // Rows still waiting for the rate limiter are put back rather than sent; sends under way are finished.
    this.#stopping = true;
    this.#limiter.wake();
    this.#wake?.();
    await this.#loop;
    this.#loop = null;
    await Promise.allSettled([...this.#inFlight]);
  }

  /**
   * Claims the due rows (the oldest pending row of each chat), sends them, and returns how many rows became sent.
   * Failed sends are recorded, not thrown; only a failing claim query (database down) rejects.
   */
  async drainOnce(): Promise<number> {
    return this.#track(
      (async () => {
        const rows = await this.#claim(this.#batchSize);
        const sent = await this.#dispatch(rows);
        return sent;
      })(),
    );
  }

  async #track<T>(p: Promise<T>): Promise<T> {
    this.#inFlight.add(p);
    try {
      return await p;
    } finally {
      this.#inFlight.delete(p);
    }
  }

  async #run(): Promise<void> {
    let failures = 0;
    if (this.#soleUser) {
      await this.#track(releaseOutboxClaims(this.#db)).catch((err: unknown) => this.#log.warn({ err }, 'outbox: could not release the claims of an earlier run'));
    }
    // Claimed as many as asked last time: more rows are waiting, so claim again as soon as there is room for a fair
    // batch of them. Otherwise the outbox was drained: claim again when a row settles (its chat's next row may now be
    // due), when new rows are committed (kick), or after the poll interval (retries coming due).
    let backlog = false;
    const lowWater = Math.max(1, Math.min(this.#batchSize, Math.ceil(this.#maxInFlight / 4)));
    while (this.#running) {
      this.#kicked = false;
      const room = this.#maxInFlight - this.#claimedRows;
      if (room > 0 && (!backlog || room >= lowWater || this.#claimedRows === 0)) {
        // From idle, a small first claim: its cards are drawn sooner, so sending starts sooner.
        const want = Math.min(room, this.#claimedRows === 0 ? Math.ceil(this.#batchSize / 5) : this.#batchSize);
        try {
          const rows = await this.#track(this.#claim(want));
          failures = 0;
          backlog = rows.length === want;
          if (rows.length > 0) {
            this.#track(this.#dispatch(rows)).catch((err: unknown) => this.#log.error({ err }, 'outbox: sending claimed rows failed'));
          }
        } catch (err) {
          failures += 1;
          this.#log.error({ err, failures }, 'outbox: drain failed');
        }
        if (!this.#running) break;
        if (failures > 0) {
          await this.#sleep(Math.min(this.#pollIntervalMs * 2 ** failures, 30_000));
          continue;
        }
        if (backlog && this.#maxInFlight - this.#claimedRows >= lowWater) continue;
      }
      if (this.#kicked) continue;
      // Woken by a settled row, a kick, stop(), or the poll interval.
      await this.#sleep(this.#pollIntervalMs);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  /** Draws the claimed rows' live cards together, then sends each; resolves with how many rows became sent. */
  async #dispatch(rows: OutboxRow[]): Promise<number> {
    this.#claimedRows += rows.length;
    let prepared: Map<OutboxRow['id'], Prepared | PrepareFailed>;
    try {
      prepared = await this.#prepare(rows);
    } catch (err) {
      prepared = new Map(rows.map((r) => [r.id, { error: err, superseded: [] }]));
    }
    // One row per chat, so sending them side by side never reorders a chat.
    const sent = await Promise.all(
      rows.map(async (row) => {
        try {
          return await this.#deliver(row, prepared.get(row.id) ?? { error: new Error('row not prepared'), superseded: [] });
        } finally {
          this.#claimedRows -= 1;
          // Room for another row, and this chat's next row may be due now.
          this.kick();
        }
      }),
    );
    return sent.reduce((a, b) => a + b, 0);
  }

  /**
   * What each claimed row will send: its newest content (a patch stands for the newer patches of its message) and,
   * for all but files, the body; live cards are drawn in one go. A row whose preparation failed carries the error.
   */
  async #prepare(rows: readonly OutboxRow[]): Promise<Map<OutboxRow['id'], Prepared | PrepareFailed>> {
    const out = new Map<OutboxRow['id'], Prepared | PrepareFailed>();
    const live: { row: OutboxRow; card: LiveCard; superseded: Prepared['superseded'] }[] = [];
    for (const row of rows) {
      let superseded: Prepared['superseded'] = [];
      try {
        superseded = row.op === 'patch' ? await this.#newerPatches(row) : [];
        const newest = superseded.at(-1) ?? row;
        const content = parseContent(newest.content);
        const base = { superseded, content, msgType: newest.msg_type };
        if (content.kind === 'file') out.set(row.id, { ...base, body: undefined });
        else if (content.kind === 'case_card' || content.kind === 'request_card' || content.kind === 'reminder_card') live.push({ row, card: content, superseded });
        else out.set(row.id, { ...base, body: this.#staticBody(content) });
      } catch (err) {
        out.set(row.id, { error: err, superseded });
      }
    }
    if (live.length > 0) {
      const cards = live.map((l) => l.card);
      let drawn: ({ card: object | null } | { error: unknown })[];
      try {
        if (!this.#renderCards) throw new Error('no batch drawing');
        const all = await this.#renderCards(cards);
        if (all.length !== cards.length) throw new Error(`renderCards answered ${all.length} cards for ${cards.length}`);
        drawn = all.map((card) => ({ card }));
      } catch {
        // One card that cannot be drawn must not hold back the others: draw them one by one.
        drawn = await Promise.all(cards.map((c) => this.#renderCard(c).then((card) => ({ card }), (error: unknown) => ({ error }))));
      }
      live.forEach((l, i) => {
        const d = drawn[i]!;
        if ('error' in d) {
          out.set(l.row.id, { error: d.error, superseded: l.superseded });
          return;
        }
        const newest = l.superseded.at(-1) ?? l.row;
        out.set(l.row.id, { superseded: l.superseded, content: l.card, msgType: newest.msg_type, body: d.card === null ? null : JSON.stringify(d.card) });
      });
    }
    return out;
  }

  async #claim(limit: number): Promise<OutboxRow[]> {
    // A row is claimable when it is due, unlocked and no older row of its chat is still pending (it is its chat's
    // head). SKIP LOCKED lets instances claim side by side; the head-of-chat rule keeps a second instance off a chat
    // whose head is taken, because in its snapshot the taken row is still pending and older.
    //
    // Two steps, each linear whatever the planner believes: the heads are found in one pass over the pending rows,
    // then the first of them are locked by id. (As one query with a per-row "no older pending row" test, the planner
    // chose a nested loop when its statistics were stale, e.g. right after a morning's job queued a thousand rows,
    // and each claim took most of a second.) A head taken by another instance between the two steps is skipped by
    // the lock or by the second step's own test, read again on the row as it is then.
    const heads = await sql<{ id: OutboxRow['id']; queued: number | string }>`
      select id, queued from (
        select distinct on (chat_key) id, next_attempt_at, locked_until, count(*) over (partition by chat_key) as queued from outbox
        where status = 'pending'
        order by chat_key, id
      ) head
      where next_attempt_at <= now()
        and (locked_until is null or locked_until < now())
      order by id
      limit ${2 * limit}`.execute(this.#db);
    if (heads.rows.length === 0) return [];
    const { rows } = await sql<OutboxRow>`
      with picked as (
        select o.id from outbox o
        where o.id in (${sql.join(heads.rows.map((h) => h.id))})
          and o.status = 'pending'
          and o.next_attempt_at <= now()
          and (o.locked_until is null or o.locked_until < now())
        order by o.id
        limit ${limit}
        for update of o skip locked
      )
      update outbox
      set locked_until = now() + ${this.#lockMs}::double precision * interval '1 millisecond',
          attempts = outbox.attempts + 1
      from picked
      where outbox.id = picked.id
      returning outbox.*`.execute(this.#db);
    const queued = new Map(heads.rows.map((h) => [String(h.id), Number(h.queued)]));
    for (const row of rows) this.#queued.set(row, queued.get(String(row.id)) ?? 1);
    return [...rows].sort((a, b) => Number(a.id) - Number(b.id));
  }

  /** Sends one claimed row (and the patches it supersedes); returns how many rows it marked sent. */
  async #deliver(row: OutboxRow, prepared: Prepared | PrepareFailed): Promise<number> {
    const ctx = { outboxId: String(row.id), op: row.op, chatKey: row.chat_key, attempt: row.attempts };
    const { superseded } = prepared;
    let sent: Sent | null = null;
    try {
      if ('error' in prepared) throw prepared.error;
      const { content } = prepared;
      if (prepared.body === null) {
        await this.#markSent(row, superseded, { messageId: null, chatId: null }, content);
        this.#log.info({ ...ctx, card: content }, 'outbox: what the card showed is gone, card skipped');
        return 1 + superseded.length;
      }
      if (this.#stopping) {
        await this.#putBack(row);
        return 0;
      }
      const body = content.kind === 'file' ? await this.#fileBody(row, ctx) : prepared.body;
      if (body === undefined) throw new Error('no body prepared');
      const result = await this.#sendRenewingToken(row, prepared.msgType, body, ctx);
      if (result === null) {
        await this.#putBack(row);
        return 0;
      }
      sent = result;
      const firstRecord = await this.#markSent(row, superseded, sent, content);
      this.#log.debug({ ...ctx, messageId: sent.messageId, coalesced: superseded.length }, 'outbox: sent');
      if (firstRecord && row.op !== 'patch' && sent.messageId && this.#onDelivered) {
        // The message is delivered and recorded; what follows it (a buzz) must not make it count as failed.
        await this.#onDelivered(row, sent.messageId, content).catch((err: unknown) => this.#log.warn({ ...ctx, err: String(err) }, 'outbox: follow-up after delivery failed'));
      }
      return 1 + superseded.length;
    } catch (err) {
      await this.#fail(row, superseded, err, sent, ctx);
      return 0;
    }
  }

  /** A claimed row not sent because the sender is stopping: free for the next claim, the attempt not counted. */
  async #putBack(row: OutboxRow): Promise<void> {
    await this.#db
      .updateTable('outbox')
      .set({ locked_until: null, attempts: sql<number>`greatest(attempts - 1, 0)` })
      .where('id', '=', row.id)
      .where('status', '=', 'pending')
      .execute()
      .catch((err: unknown) => this.#log.warn({ outboxId: String(row.id), err: String(err) }, 'outbox: could not put a row back; its claim runs out'));
  }

  /** Newer pending patches of the same message: the card is rendered fresh, so one patch with the newest content does. */
  async #newerPatches(row: OutboxRow): Promise<Pick<OutboxRow, 'id' | 'content' | 'msg_type'>[]> {
    if (!row.patch_message_id) return [];
    return this.#db
      .selectFrom('outbox')
      .select(['id', 'content', 'msg_type'])
      .where('status', '=', 'pending')
      .where('op', '=', 'patch')
      .where('patch_message_id', '=', row.patch_message_id)
      .where('id', '>', row.id)
      .orderBy('id')
      .execute();
  }

  /**
   * The content of a file message: `{"file_key"}`. The file is uploaded on the first attempt only; its key is stored
   * with the row at once, so a retry after a failed send (or a crash) sends the same file without uploading again.
   */
  async #fileBody(row: OutboxRow, ctx: object): Promise<string> {
    if (row.file_key) return JSON.stringify({ file_key: row.file_key });
    if (!row.file_bytes || row.file_bytes.length === 0 || !row.file_name) throw new MalformedRowError('file row without bytes or name');
    const fileKey = await this.#withTokenRenewal(ctx, async () => {
      const done = await this.#limiter.take(row.chat_key);
      try {
        // im.file.create answers with the data alone ({ file_key }), without the code/msg envelope; a refusal with
        // HTTP 200 comes back as null.
        const answer = (await this.#withTimeout(
          this.#client.im.v1.file.create({
            data: { file_type: (row.file_type ?? 'stream') as 'stream', file_name: row.file_name as string, file: Buffer.from(row.file_bytes as Uint8Array) },
          }),
        )) as { file_key?: string } | null;
        if (!answer?.file_key) throw new Error('file upload answered without a file_key');
        return answer.file_key;
      } finally {
        done();
      }
    });
    await this.#db.updateTable('outbox').set({ file_key: fileKey }).where('id', '=', row.id).execute();
    row.file_key = fileKey;
    return JSON.stringify({ file_key: fileKey });
  }

  async #withTokenRenewal<T>(ctx: object, call: () => Promise<T>): Promise<T> {
    let renewed = false;
    for (;;) {
      try {
        return await call();
      } catch (err) {
        const verdict = classifyLarkError(err);
        if (verdict.kind !== 'token' || renewed || !this.#clearTokenCache) throw err;
        renewed = true;
        this.#log.warn({ ...ctx, code: verdict.code }, 'outbox: tenant token rejected, renewing it');
        await this.#clearTokenCache();
      }
    }
  }

  /** The `content` string Lark wants for a message that is not drawn from the database. */
  #staticBody(content: Extract<OutboxContent, { kind: 'text' } | { kind: 'card' }>): string {
    switch (content.kind) {
      case 'text':
        // Lark reads <at user_id="…"> in a text message as a mention (even @all); Banli never mentions anyone by
        // text, so any such tag (from echoed user input) is made inert.
        return JSON.stringify({ text: content.text.replace(/<(\/?at\b)/gi, '＜$1') });
      case 'card':
        return JSON.stringify(content.card);
    }
  }

  /** Sends under the rate limit, renewing the token once if Lark asks; null when the sender stopped while it waited. */
  async #sendRenewingToken(row: OutboxRow, msgType: string, body: string, ctx: object): Promise<Sent | null> {
    let renewed = false;
    for (;;) {
      try {
        // A chat with more rows behind this one goes first: its rows go one at a time, at most 5 a second, and would
        // otherwise be last to finish; a row whose chat is at its limit holds back nobody.
        const done = await this.#limiter.acquire(row.chat_key, { priority: this.#queued.get(row) ?? 1, abandoned: () => this.#stopping });
        if (done === null) return null;
        try {
          return await this.#send(row, msgType, body);
        } finally {
          done();
        }
      } catch (err) {
        const verdict = classifyLarkError(err);
        if (verdict.kind !== 'token' || renewed || !this.#clearTokenCache) throw err;
        renewed = true;
        this.#log.warn({ ...ctx, code: verdict.code }, 'outbox: tenant token rejected, renewing it');
        await this.#clearTokenCache();
      }
    }
  }

  async #send(row: OutboxRow, msgType: string, content: string): Promise<Sent> {
    const im = this.#client.im.v1.message;
    let call: Promise<LarkAnswer>;
    if (row.op === 'create') {
      const type = row.receive_id_type as ReceiveIdType;
      if (!row.receive_id || !RECEIVE_ID_TYPES.has(type)) throw new MalformedRowError('create row without a valid receive_id / receive_id_type');
      call = im.create({ params: { receive_id_type: type }, data: { receive_id: row.receive_id, msg_type: msgType, content, uuid: row.uuid } });
    } else if (row.op === 'reply') {
      if (!row.reply_to) throw new MalformedRowError('reply row without reply_to');
      call = im.reply({ path: { message_id: row.reply_to }, data: { msg_type: msgType, content, uuid: row.uuid } });
    } else if (row.op === 'patch') {
      if (!row.patch_message_id) throw new MalformedRowError('patch row without patch_message_id');
      call = im.patch({ path: { message_id: row.patch_message_id }, data: { content } });
    } else {
      throw new MalformedRowError(`unknown op ${String(row.op)}`);
    }
    const answer = await this.#withTimeout(call);
    if (answer && typeof answer.code === 'number' && answer.code !== 0) throw new LarkApiError(answer.code, answer.msg ?? '');
    if (row.op === 'patch') return { messageId: row.patch_message_id, chatId: null };
    const chatId = answer?.data?.chat_id ?? (row.op === 'create' && row.receive_id_type === 'chat_id' ? row.receive_id : null) ?? (row.chat_key.startsWith('user:') ? null : row.chat_key);
    return { messageId: answer?.data?.message_id ?? null, chatId };
  }

  async #withTimeout<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SendTimeoutError(`no answer from Lark within ${this.#sendTimeoutMs} ms`)), this.#sendTimeoutMs);
    });
    // The losing call may still settle later; its rejection must not go unhandled.
    p.catch(() => {});
    try {
      return await Promise.race([p, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #markSent(row: OutboxRow, superseded: Pick<OutboxRow, 'id'>[], sent: Sent, content: OutboxContent): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      const res = await trx
        .updateTable('outbox')
        .set({
          status: 'sent',
          sent_at: sql<Date>`now()`,
          message_id: row.op === 'patch' ? null : sent.messageId,
          last_error: null,
          locked_until: null,
          // Lark has the file now; the key stays for the record, the bytes go.
          ...(content.kind === 'file' ? { file_bytes: null } : {}),
        })
        .where('id', '=', row.id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (superseded.length > 0) {
        await trx
          .updateTable('outbox')
          .set({ status: 'sent', sent_at: sql<Date>`now()`, locked_until: null })
          .where('id', 'in', superseded.map((s) => s.id))
          .where('status', '=', 'pending')
          .execute();
      }
      // Another instance may have recorded this row already (our lock ran out); the card is remembered once.
      const firstRecord = Number(res.numUpdatedRows) === 1;
      if (firstRecord && (content.kind === 'case_card' || content.kind === 'request_card' || content.kind === 'reminder_card') && row.op !== 'patch' && sent.messageId && this.#onCardSent) {
        await this.#onCardSent(trx, sent.messageId, content, sent.chatId);
      }
      return firstRecord;
    });
  }

  async #fail(row: OutboxRow, superseded: Pick<OutboxRow, 'id'>[], err: unknown, sent: Sent | null, ctx: object): Promise<void> {
    const verdict = classifyLarkError(err);
    this.#onSendFailure(verdict.kind);
    // A send that went through but could not be recorded is retried: the same uuid makes Lark answer with the same
    // message instead of posting it again.
    const reason = truncate(sent ? `delivered (${sent.messageId ?? 'no id'}) but not recorded: ${verdict.reason}` : verdict.reason);
    const fields = { ...ctx, code: verdict.code, status: verdict.status, ...describeError(err, reason) };
    const ageMs = this.#now() - new Date(row.created_at).getTime();
    try {
      if (verdict.kind === 'permanent' && !sent) {
        await this.#markFailed([row.id, ...superseded.map((s) => s.id)], reason);
        this.#log.error({ ...fields, coalesced: superseded.length }, 'outbox: Lark refused the message, not retrying');
        return;
      }
      if (ageMs >= (row.msg_type === 'file' ? this.#fileGiveUpAfterMs : this.#giveUpAfterMs)) {
        await this.#markFailed([row.id], reason);
        this.#log.error({ ...fields, ageMs }, 'outbox: gave up on message after retrying');
        return;
      }
      // Lark's reset time is the earliest worth trying; a little jitter keeps the rows it held back from all
      // returning in the same instant.
      const resetMs = verdict.kind === 'retry' ? verdict.waitMs : undefined;
      const waitMs =
        resetMs !== undefined
          ? Math.max(resetMs, MIN_RESET_WAIT_MS) + Math.round(this.#random() * Math.min(1000, resetMs * 0.2))
          : retryDelayMs(row.attempts, this.#retryBaseMs, this.#retryMaxMs, this.#random);
      if (verdict.kind === 'retry' && verdict.limited) {
        this.#limiter.pause(verdict.limited === 'chat' ? row.chat_key : null, verdict.waitMs ?? this.#retryBaseMs);
      }
      await this.#db
        .updateTable('outbox')
        .set({
          next_attempt_at: sql<Date>`now() + ${waitMs}::double precision * interval '1 millisecond'`,
          locked_until: null,
          last_error: reason,
        })
        .where('id', '=', row.id)
        .where('status', '=', 'pending')
        .execute();
      this.#log.warn({ ...fields, retryInMs: waitMs }, 'outbox: send failed, will retry');
    } catch (dbErr) {
      // The lock runs out and the row is claimed again; nothing is lost.
      this.#log.error({ ...fields, dbError: String(dbErr) }, 'outbox: could not record a failed send');
    }
  }

  async #markFailed(ids: OutboxRow['id'][], reason: string): Promise<void> {
    await this.#db
      .updateTable('outbox')
      .set({ status: 'failed', last_error: reason, locked_until: null })
      .where('id', 'in', ids)
      .where('status', '=', 'pending')
      .execute();
  }
}
