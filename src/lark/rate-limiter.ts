import { performance } from 'node:perf_hooks';

// Lark limits sends per chat (5 a second, shared by every bot in a group) and per app (50 a second). Going over
// costs a 230020 / 99991400 answer and a backoff of seconds, so the sender waits here for a free slot instead.
// A sliding window (at most N sends in any window) is stricter than Lark's per-second counting, which is the safe side;
// a send's window starts when its answer is back, because network delay can bunch requests up on Lark's side.

export interface RateLimiterOptions {
  /** Sends per key (a chat) per window. */
  perKeyPerWindow: number;
  /** Sends across all keys per window. */
  overallPerWindow: number;
  windowMs?: number;
  /**
   * Also spread sends over the window: at most one start per windowMs / overallPerWindow. Without it a full window's
   * worth leaves at once, and the window after it waits for the slowest answer of that burst; spread out, each
   * send's answer comes back before the next needs its slot, and the limit is kept up with almost nothing lost.
   */
  paceOverall?: boolean;
  /** Milliseconds on a clock that never steps back; defaults to performance.now(). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const SWEEP_ABOVE_KEYS = 256;

/** One send: it holds its slot while under way, then for a window from when it finished. */
interface Slot {
  at: number;
  open: boolean;
}

interface Waiter {
  key: string;
  priority: number;
  seq: number;
  resolve: (done: (() => void) | null) => void;
  abandoned?: () => boolean;
}

/** A slot taken, or how long to wait before asking again. */
export type Take = { ok: true; done: () => void } | { ok: false; waitMs: number };

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/** A per-key and overall sliding-window limiter; callers wait for a slot rather than fail. */
export class RateLimiter {
  readonly #perKey: number;
  readonly #overall: number;
  readonly #windowMs: number;
  readonly #recheckMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #byKey = new Map<string, Slot[]>();
  #all: Slot[] = [];
  readonly #keyPausedUntil = new Map<string, number>();
  #allPausedUntil = -Infinity;
  /** Least time between two starts, when pacing; 0 otherwise. */
  readonly #gapMs: number;
  /** When pacing, the earliest the next send may start: one gap after the last one's planned start, so a timer that
   *  fired late does not push every later send back. */
  #nextStart = -Infinity;
  /** Waiters of acquire(), by priority then arrival. */
  #queue: Waiter[] = [];
  #seq = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(opts: RateLimiterOptions) {
    this.#perKey = positiveInteger('perKeyPerWindow', opts.perKeyPerWindow);
    this.#overall = positiveInteger('overallPerWindow', opts.overallPerWindow);
    const windowMs = opts.windowMs ?? 1000;
    if (!Number.isFinite(windowMs) || windowMs <= 0) throw new RangeError(`windowMs must be a positive number, got ${windowMs}`);
    this.#windowMs = windowMs;
    this.#recheckMs = Math.max(1, windowMs / 20);
    this.#gapMs = opts.paceOverall ? windowMs / this.#overall : 0;
    this.#now = opts.now ?? (() => performance.now());
    this.#sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * Takes a slot for `key` if one is free. Call done() when the send has finished: Lark counts a request when it
   * arrives, which is some time after it left, so the window of a send starts when its answer is back.
   */
  tryTake(key: string): Take {
    return this.#tryTake(key, this.#now()).take;
  }

  /** tryTake, also saying whether the app as a whole is full (then no key can go). */
  #tryTake(key: string, now: number): { take: Take; appFull: boolean } {
    const live = (s: Slot) => s.open || s.at > now - this.#windowMs;
    const mine = (this.#byKey.get(key) ?? []).filter(live);
    this.#all = this.#all.filter(live);

    const appWait = Math.max(0, this.#allPausedUntil - now, this.#waitFor(this.#all, this.#overall, now), this.#nextStart - now);
    const waitMs = Math.max(appWait, (this.#keyPausedUntil.get(key) ?? -Infinity) - now, this.#waitFor(mine, this.#perKey, now));
    if (waitMs > 0) {
      if (mine.length > 0) this.#byKey.set(key, mine);
      else this.#byKey.delete(key);
      return { take: { ok: false, waitMs }, appFull: appWait > 0 };
    }
    this.#keyPausedUntil.delete(key);
    if (this.#gapMs > 0) this.#nextStart = Math.max(this.#nextStart, now - this.#gapMs) + this.#gapMs;
    const slot: Slot = { at: now, open: true };
    mine.push(slot);
    this.#byKey.set(key, mine);
    this.#all.push(slot);
    if (this.#byKey.size > SWEEP_ABOVE_KEYS) this.#sweep(now);
    return {
      take: {
        ok: true,
        done: () => {
          if (!slot.open) return;
          slot.open = false;
          slot.at = this.#now();
          // A slot's window is known now: a waiter may be able to go sooner than the recheck.
          if (this.#queue.length > 0) this.#schedule(0);
        },
      },
      appFull: false,
    };
  }

  /**
   * Waits in line for a slot for `key`: waiters are served by priority (higher first), then in order of arrival, and
   * one whose key is full does not hold back those behind it. Resolves with done(), or with null once `abandoned`
   * says the wait is no longer wanted (checked whenever the line moves, and on wake()). Runs on real timers.
   */
  acquire(key: string, opts: { priority?: number; abandoned?: () => boolean } = {}): Promise<(() => void) | null> {
    return new Promise((resolve) => {
      const waiter: Waiter = { key, priority: opts.priority ?? 0, seq: this.#seq++, resolve, ...(opts.abandoned ? { abandoned: opts.abandoned } : {}) };
      // Keep the line sorted: after every waiter of the same or a higher priority.
      let i = this.#queue.length;
      while (i > 0 && this.#queue[i - 1]!.priority < waiter.priority) i--;
      this.#queue.splice(i, 0, waiter);
      this.#serve();
    });
  }

  /** Lets the line look again now (e.g. its waiters' `abandoned` may have changed). */
  wake(): void {
    if (this.#queue.length > 0) this.#schedule(0);
  }

  /** How many wait in line (for tests and metrics). */
  get waiting(): number {
    return this.#queue.length;
  }

  #serve(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    const now = this.#now();
    let soonest = Infinity;
    for (let i = 0; i < this.#queue.length; ) {
      const w = this.#queue[i]!;
      if (w.abandoned?.()) {
        this.#queue.splice(i, 1);
        w.resolve(null);
        continue;
      }
      const { take, appFull } = this.#tryTake(w.key, now);
      if (take.ok) {
        this.#queue.splice(i, 1);
        w.resolve(take.done);
        continue;
      }
      soonest = Math.min(soonest, take.waitMs);
      // The app is full: nobody behind can go either.
      if (appFull) break;
      i++;
    }
    if (this.#queue.length > 0) this.#schedule(Number.isFinite(soonest) ? soonest : this.#recheckMs);
  }

  #schedule(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#serve();
    }, Math.max(0, Math.ceil(ms)));
  }

  /**
   * Resolves with the done() of a slot for `key` once one is taken, waiting as long as it needs to; with `abandoned`,
   * resolves with null instead once that says the wait is no longer wanted (checked whenever it wakes).
   */
  take(key: string): Promise<() => void>;
  take(key: string, abandoned: () => boolean): Promise<(() => void) | null>;
  async take(key: string, abandoned?: () => boolean): Promise<(() => void) | null> {
    for (;;) {
      if (abandoned?.()) return null;
      const t = this.tryTake(key);
      if (t.ok) return t.done;
      await this.#sleep(t.waitMs);
    }
  }

  /** Holds back sends for `key` (every key when null) for `ms`, e.g. because Lark said we were too fast. */
  pause(key: string | null, ms: number): void {
    if (!Number.isFinite(ms) || ms <= 0) return;
    const until = this.#now() + ms;
    if (key === null) this.#allPausedUntil = Math.max(this.#allPausedUntil, until);
    else this.#keyPausedUntil.set(key, Math.max(this.#keyPausedUntil.get(key) ?? -Infinity, until));
  }

  /** How many keys hold state (for tests: idle chats must not pile up). */
  get trackedKeys(): number {
    return this.#byKey.size;
  }

  /** Milliseconds until `slots` hold fewer than `limit`; a slot still under way frees at an unknown time, so recheck. */
  #waitFor(slots: Slot[], limit: number, now: number): number {
    if (slots.length < limit) return 0;
    const mustLeave = slots.length - limit + 1;
    const leaving = slots
      .filter((s) => !s.open)
      .map((s) => s.at + this.#windowMs - now)
      .sort((a, b) => a - b);
    return leaving.length >= mustLeave ? leaving[mustLeave - 1]! : this.#recheckMs;
  }

  // One chat per case card and per user means many keys that go quiet; forget them so memory stays bounded.
  #sweep(now: number): void {
    for (const [key, slots] of this.#byKey) {
      if (slots.every((s) => !s.open && s.at <= now - this.#windowMs)) this.#byKey.delete(key);
    }
    for (const [key, until] of this.#keyPausedUntil) {
      if (until <= now) this.#keyPausedUntil.delete(key);
    }
  }
}
