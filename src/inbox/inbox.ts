import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import type { CardResponse } from '../chat/handler.ts';
import { normalizeCardAction, normalizeMessage, type IncomingCardAction, type IncomingMessage } from '../lark/normalize.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Db, Trx } from '../storage/database.ts';
import type { InboxRow } from '../storage/schema.ts';
import { GroupCommit } from './group-commit.ts';
import {
  AlreadyHandledError,
  CLICK_EVENT,
  MESSAGE_EVENT,
  findOutcome,
  freeAllLeases,
  hasDue,
  markHandled,
  pruneHandled,
  releaseForRetry,
  renewLeases,
  takeDue,
  type StoredEvent,
} from './inbox.repository.ts';

// Every verified event is stored here before Lark gets its answer, and handled from here:
// - a message is acknowledged once stored; handling takes the oldest unfinished message of each chat (across all
//   instances on the database), so a chat's messages are applied in the order they arrived, each once;
// - a card click is handled at once, by the instance that stored it, and answered inline within Lark's 3 s; one that
//   runs late is answered "正在处理" and finished all the same (its card is then patched);
// - rows whose instance died (its lease ran out) are taken over; a message that keeps failing is given up after a few
//   attempts, with a word to the sender, so it cannot block its chat forever.

/**
 * Finishes a message's inbox row inside the handler's transaction, so its effects and "done" commit together.
 * Throws AlreadyHandledError (roll back) when another run finished it first.
 */
export type SettleMessage = (trx: Trx) => Promise<void>;

/**
 * Finishes a click's inbox row with its answer inside the handler's transaction. Resolves to whether that answer
 * still reaches Lark inline; when it does not (the click ran late, or is finished after a restart), the clicked card
 * must be patched to show the outcome.
 */
export type SettleClick = (trx: Trx, answer: CardResponse) => Promise<{ answeredInline: boolean }>;

/** What the inbox needs from the chat side. */
export interface InboxHandlers {
  handleMessage(msg: IncomingMessage, settle: SettleMessage): Promise<void>;
  /** Tells the sender their message could not be handled, and settles it (in one transaction). */
  reportFailure(msg: IncomingMessage, settle: SettleMessage): Promise<void>;
  handleCardAction(action: IncomingCardAction, settle: SettleClick): Promise<CardResponse>;
  /** A private note to someone, e.g. the outcome of a click Lark stopped waiting for. */
  tellLater(openId: string, message: string): Promise<void>;
}

export interface InboxOptions {
  db: Db;
  /** The embedded database has one process by construction (its lock file): leases left at start are a dead run's. */
  soleUser: boolean;
  handlers: InboxHandlers;
  logger: Logger;
  /** How long a lease lasts without renewal: how soon another instance takes over a dead one's rows. */
  leaseMs: number;
  /** Attempts at a message before it is given up. */
  maxAttempts: number;
  /** A click's inline answer budget (Lark waits 3 s). */
  clickBudgetMs?: number;
  /** How often the inbox is looked at for rows of other instances, retries and expired leases. */
  pollMs?: number;
  /** Messages of different chats handled at once. */
  concurrency?: number;
  /** Work still running after its event was answered; shutdown waits for it. */
  track(work: Promise<unknown>): void;
  /** Counts new events in and handled events out, with the time from arrival (for /metrics). */
  metrics?: Pick<Metrics, 'eventReceived' | 'eventHandled'>;
}

export const LATE_ANSWER: CardResponse = { toast: { type: 'info', content: '正在处理，卡片稍后自动更新。' } };
const FAILED_CLICK: CardResponse = { toast: { type: 'error', content: '操作失败，请稍后重试；如仍失败请联系管理员。' } };
const MALFORMED_CLICK: CardResponse = { toast: { type: 'error', content: '无法识别这次点击，请重新获取卡片后再试。' } };
const ALREADY_DONE: CardResponse = { toast: { type: 'info', content: '该操作已处理。' } };
/** The same click on the same card again within this long is a double click: answered like the first, done once. */
const DOUBLE_CLICK_MS = 5000;
const ANSWER_POLL_MS = 40;

/** Only the id of an event goes to the logs: the rest carries the verification token and people's messages. */
function eventIdOf(data: unknown): unknown {
  return typeof data === 'object' && data !== null && 'event_id' in data ? data.event_id : undefined;
}

function stable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stable);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .sort(([x], [y]) => (x < y ? -1 : 1))
        .map(([k, x]) => [k, stable(x)]),
    );
  }
  return v;
}

function clickKeyOf(a: IncomingCardAction): string {
  return createHash('sha256').update(JSON.stringify(stable([a.operatorOpenId, a.messageId, a.value, a.formValue, a.option]))).digest('hex');
}

/** Whether a click's answer is still awaited by Lark (inline) or was given as "正在处理" (late). */
interface Answering {
  late: boolean;
  inline: boolean;
}

const errorText = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, 2000);

/** The durable inbox: store before answering, handle from the store. */
export class Inbox {
  readonly owner = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  readonly #writer: GroupCommit;
  readonly #budgetMs: number;
  readonly #pollMs: number;
  readonly #concurrency: number;
  /** Rows this instance works on (their leases are renewed), with the answer they will give. */
  readonly #holding = new Map<number, Promise<unknown>>();
  #active = 0;
  #pumping = false;
  #again = false;
  #stopping = false;
  #pollTimer: NodeJS.Timeout | undefined;
  #renewTimer: NodeJS.Timeout | undefined;
  #retryTimers = new Set<NodeJS.Timeout>();
  #idle: Array<() => void> = [];

  constructor(private readonly o: InboxOptions) {
    this.#writer = new GroupCommit(o.db, o.leaseMs, DOUBLE_CLICK_MS);
    this.#budgetMs = o.clickBudgetMs ?? 2500;
    this.#pollMs = o.pollMs ?? 1000;
    this.#concurrency = o.concurrency ?? 4;
  }

  /** Starts handling: first whatever a previous run left unfinished. */
  async start(): Promise<void> {
    if (this.o.soleUser) await freeAllLeases(this.o.db);
    this.#pollTimer = setInterval(() => this.kick(), this.#pollMs);
    this.#pollTimer.unref();
    this.#renewTimer = setInterval(() => {
      renewLeases(this.o.db, this.owner, [...this.#holding.keys()], this.o.leaseMs).catch((err: unknown) =>
        this.o.logger.warn({ err }, 'renewing inbox leases failed'),
      );
    }, Math.max(50, Math.floor(this.o.leaseMs / 3)));
    this.#renewTimer.unref();
    this.kick();
  }

  /**
   * Handles what is due now (for up to `drainMs`), then stops taking rows and waits for the ones in hand. Whatever is
   * left stays in the inbox for the next start (or another instance).
   */
  async stop(drainMs = 10_000): Promise<void> {
    clearInterval(this.#pollTimer);
    for (const t of this.#retryTimers) clearTimeout(t);
    const until = Date.now() + drainMs;
    while (!this.#stopping && Date.now() < until) {
      await this.#whenIdle();
      if (!(await hasDue(this.o.db).catch(() => false))) break;
      this.kick();
      await new Promise((r) => setTimeout(r, 10));
    }
    this.#stopping = true;
    await this.#whenIdle();
    clearInterval(this.#renewTimer);
  }

  async #whenIdle(): Promise<void> {
    while (this.#active > 0 || this.#pumping) await new Promise<void>((r) => this.#idle.push(r));
  }

  /** A message event from Lark: resolves once it is stored, when it may be acknowledged. */
  async receiveMessage(data: unknown): Promise<void> {
    const msg = normalizeMessage(data);
    if (!msg) {
      this.o.logger.warn({ eventId: eventIdOf(data) }, 'ignored a malformed message event');
      return;
    }
    const stored = await this.#writer.store({ eventId: msg.eventId, eventType: MESSAGE_EVENT, chatKey: msg.chatId, payload: data, clickKey: null, leaseOwner: null });
    if (stored.fresh) {
      this.o.metrics?.eventReceived('message');
      this.kick();
    }
  }

  /**
   * A card click from Lark: stored, handled here at once, and answered within the budget. When storing or handling
   * outlasts it, Lark is answered "正在处理" and the click is finished all the same (its card patched).
   */
  async receiveClick(data: unknown): Promise<CardResponse> {
    const action = normalizeCardAction(data);
    if (!action) {
      this.o.logger.warn({ eventId: eventIdOf(data) }, 'ignored a malformed card callback');
      return MALFORMED_CLICK;
    }
    const deadline = Date.now() + this.#budgetMs;
    const answering: Answering = { late: false, inline: false };
    const work = this.#processClick(action, data, deadline, answering);
    this.o.track(work);
    let timer: NodeJS.Timeout | undefined;
    const lateAnswer = new Promise<CardResponse>((resolve) => {
      timer = setTimeout(() => {
        // Once a handler has settled in time, its answer is promised inline: the timer no longer answers instead.
        if (answering.inline) return;
        answering.late = true;
        resolve(LATE_ANSWER);
      }, this.#budgetMs);
    });
    // Lark has already shown "正在处理" by the time a late click finishes: a refusal or failure would be lost with the
    // toast Lark no longer waits for, so the clicker is told in a private message instead.
    this.o.track(
      work.then(async (r) => {
        if (!answering.late || !r.handledHere || r.answer.toast?.type !== 'error') return;
        await this.o.handlers
          .tellLater(action.operatorOpenId, `您刚才的操作没有完成：${r.answer.toast.content}`)
          .catch((err: unknown) => this.o.logger.error({ err }, 'could not tell the user about a late refusal'));
      }),
    );
    try {
      return await Promise.race([work.then((r) => r.answer), lateAnswer]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #processClick(action: IncomingCardAction, data: unknown, deadline: number, answering: Answering): Promise<{ answer: CardResponse; handledHere: boolean }> {
    const clickKey = clickKeyOf(action);
    let stored: StoredEvent;
    try {
      stored = await this.#writer.store({
        eventId: action.eventId,
        eventType: CLICK_EVENT,
        chatKey: action.chatId ?? `user:${action.operatorOpenId}`,
        payload: data,
        clickKey,
        leaseOwner: this.owner,
      });
    } catch (err) {
      // Not stored, so not done: Lark never resends a click, and the toast tells the clicker to try again.
      this.o.logger.error({ err, eventId: action.eventId }, 'storing a card click failed');
      return { answer: FAILED_CLICK, handledHere: false };
    }
    // A redelivery gets the first answer again; one that comes while the first is still at work waits for it.
    if (!stored.fresh) {
      const answer = stored.handled ? ((stored.answer as CardResponse | null) ?? ALREADY_DONE) : await this.#awaitAnswer(stored.id, deadline);
      return { answer, handledHere: false };
    }
    this.o.metrics?.eventReceived('card_action');
    const arrived = deadline - this.#budgetMs;
    if (stored.twin !== undefined) {
      const answer = await this.#answerLikeTwin(stored, stored.twin, deadline);
      this.#handled('card_action', 'ok', arrived);
      return { answer, handledHere: false };
    }
    const answer = await this.#answerClick(stored.id, action, answering);
    this.#handled('card_action', answer === FAILED_CLICK ? 'failed' : 'ok', arrived);
    return { answer, handledHere: true };
  }

  /** Looks for work now (after a message was stored, a row finished, or a retry fell due). */
  kick(): void {
    if (this.#stopping) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    void this.#pump();
  }

  /** Forgets handled events older than `before`. */
  prune(before: Date): Promise<number> {
    return pruneHandled(this.o.db, before);
  }

  #handled(kind: 'message' | 'card_action', outcome: 'ok' | 'failed', arrivedMs: number): void {
    this.o.metrics?.eventHandled(kind, outcome, Math.max(0, Date.now() - arrivedMs) / 1000);
  }

  // ---- clicks ---------------------------------------------------------------------------------------------------

  async #answerClick(id: number, action: IncomingCardAction, answering: Answering): Promise<CardResponse> {
    let settled = false;
    const settle: SettleClick = async (trx, answer) => {
      await markHandled(trx, id, answer);
      settled = true;
      if (!answering.late) answering.inline = true;
      return { answeredInline: answering.inline };
    };
    return this.#hold(id, async (): Promise<CardResponse> => {
      try {
        const answer = await this.o.handlers.handleCardAction(action, settle);
        if (!settled) await this.#finish(id, answer);
        return answer;
      } catch (err) {
        if (err instanceof AlreadyHandledError) return this.#storedAnswer(id);
        this.o.logger.error({ err, eventId: action.eventId }, 'handling a card click failed');
        // Clicks are never resent, and the clicker is told to try again: the failed click is finished, not retried.
        await this.#finish(id, FAILED_CLICK, errorText(err));
        return FAILED_CLICK;
      }
    }, false);
  }

  /** A double click: the second gets the first one's answer, and does nothing itself. */
  async #answerLikeTwin(me: StoredEvent, twin: number, deadline: number): Promise<CardResponse> {
    const answer = await this.#awaitAnswer(twin, deadline);
    await this.#finish(me.id, answer === LATE_ANSWER ? null : answer, `double click of inbox row ${twin}`);
    return answer;
  }

  /** The answer of a row another delivery is working on, once it is there; "正在处理" when the budget runs out. */
  async #awaitAnswer(id: number, deadline: number): Promise<CardResponse> {
    const local = this.#holding.get(id);
    if (local) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<CardResponse>((r) => (timer = setTimeout(() => r(LATE_ANSWER), Math.max(0, deadline - Date.now()))));
      try {
        const done = local.then(
          () => this.#storedAnswer(id),
          () => this.#storedAnswer(id),
        );
        return await Promise.race([done, late]);
      } finally {
        clearTimeout(timer);
      }
    }
    for (;;) {
      const outcome = await findOutcome(this.o.db, id);
      if (outcome?.handled) return (outcome.answer as CardResponse | null) ?? ALREADY_DONE;
      if (Date.now() + ANSWER_POLL_MS > deadline) return LATE_ANSWER;
      await new Promise((r) => setTimeout(r, ANSWER_POLL_MS));
    }
  }

  async #storedAnswer(id: number): Promise<CardResponse> {
    const outcome = await findOutcome(this.o.db, id);
    return (outcome?.answer as CardResponse | null) ?? ALREADY_DONE;
  }

  /** Finishes a row outside any handler transaction (nothing else to commit with it). */
  async #finish(id: number, answer: unknown, error: string | null = null): Promise<void> {
    try {
      await markHandled(this.o.db, id, answer, error);
    } catch (err) {
      if (!(err instanceof AlreadyHandledError)) throw err;
    }
  }

  /**
   * Runs the work on a row while holding it (its lease is renewed). A finished message row may let its chat's next
   * message be taken, so the inbox is looked at again; a click answered inline holds back nothing (`kickAfter` false).
   */
  #hold<T>(id: number, fn: () => Promise<T>, kickAfter = true): Promise<T> {
    const p = fn().finally(() => {
      this.#holding.delete(id);
      if (kickAfter) this.kick();
    });
    this.#holding.set(id, p);
    return p;
  }

  // ---- handling from the store ----------------------------------------------------------------------------------

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        const room = this.#concurrency - this.#active;
        if (room <= 0 || this.#stopping) break;
        let rows: InboxRow[];
        try {
          rows = await takeDue(this.o.db, this.owner, this.o.leaseMs, room);
        } catch (err) {
          this.o.logger.warn({ err }, 'reading the inbox failed; will retry');
          break;
        }
        for (const row of rows) {
          this.#active += 1;
          const work = this.#hold(row.id, () => this.#handleRow(row)).finally(() => {
            this.#active -= 1;
            this.#settleIdle();
          });
          this.o.track(work);
        }
        if (rows.length === room) this.#again = true;
      } while (this.#again && !this.#stopping);
    } finally {
      this.#pumping = false;
      this.#settleIdle();
    }
  }

  #settleIdle(): void {
    if (this.#active > 0 || this.#pumping) return;
    for (const r of this.#idle.splice(0)) r();
  }

  async #handleRow(row: InboxRow): Promise<void> {
    try {
      if (row.event_type === MESSAGE_EVENT) await this.#handleMessageRow(row);
      else await this.#handleClickRow(row);
    } catch (err) {
      // The database itself failed: the row keeps its lease until it runs out, then it is taken again.
      this.o.logger.error({ err, inboxId: row.id }, 'handling an inbox row failed');
    }
  }

  async #handleMessageRow(row: InboxRow): Promise<void> {
    const msg = normalizeMessage(row.payload);
    if (!msg) {
      await this.#finish(row.id, null, 'malformed message event');
      return;
    }
    let settled = false;
    const settleWith =
      (error: string | null): SettleMessage =>
      async (trx) => {
        await markHandled(trx, row.id, null, error);
        settled = true;
      };
    const arrived = new Date(row.received_at).getTime();
    if (row.attempts > this.o.maxAttempts) {
      // It was taken that often and never finished (the process died each time): stop trying.
      await this.o.handlers.reportFailure(msg, settleWith(row.last_error ?? `gave up after ${row.attempts - 1} attempts`));
      this.#handled('message', 'failed', arrived);
      return;
    }
    try {
      await this.o.handlers.handleMessage(msg, settleWith(null));
      if (!settled) await this.#finish(row.id, null);
      this.#handled('message', 'ok', arrived);
    } catch (err) {
      if (err instanceof AlreadyHandledError) return;
      this.o.logger.error({ err, eventId: msg.eventId, attempt: row.attempts }, 'handling a message failed');
      if (row.attempts >= this.o.maxAttempts) {
        await this.o.handlers.reportFailure(msg, settleWith(errorText(err)));
        this.#handled('message', 'failed', arrived);
      } else {
        await this.#retryLater(row, err);
      }
    }
  }

  /** A click whose instance died, or that failed on an earlier attempt here: finish it, and patch its card. */
  async #handleClickRow(row: InboxRow): Promise<void> {
    const action = normalizeCardAction(row.payload);
    if (!action) {
      await this.#finish(row.id, MALFORMED_CLICK, 'malformed card callback');
      return;
    }
    let settled = false;
    const settle: SettleClick = async (trx, answer) => {
      await markHandled(trx, row.id, answer);
      settled = true;
      return { answeredInline: false };
    };
    try {
      const answer = await this.o.handlers.handleCardAction(action, settle);
      if (!settled) await this.#finish(row.id, answer);
      if (answer.toast?.type === 'error') await this.o.handlers.tellLater(action.operatorOpenId, `您刚才的操作没有完成：${answer.toast.content}`);
    } catch (err) {
      if (err instanceof AlreadyHandledError) return;
      this.o.logger.error({ err, eventId: action.eventId, attempt: row.attempts }, 'finishing a card click failed');
      if (row.attempts >= this.o.maxAttempts) {
        await this.#finish(row.id, FAILED_CLICK, errorText(err));
        await this.o.handlers.tellLater(action.operatorOpenId, `您刚才的操作没有完成：${FAILED_CLICK.toast?.content ?? ''}`);
      } else {
        await this.#retryLater(row, err);
      }
    }
  }

  async #retryLater(row: InboxRow, err: unknown): Promise<void> {
    const delay = Math.min(30_000, 500 * 2 ** Math.max(0, row.attempts - 1));
    await releaseForRetry(this.o.db, row.id, this.owner, delay, errorText(err));
    const t = setTimeout(() => {
      this.#retryTimers.delete(t);
      this.kick();
    }, delay + 20);
    t.unref();
    this.#retryTimers.add(t);
  }
}
