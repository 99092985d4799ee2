import type { Db } from '../storage/database.ts';
import { storeEvents, type NewInboxEvent, type StoredEvent } from './inbox.repository.ts';

// Storing every event before Lark's answer must not make the answer slow. Requests that arrive together share one
// INSERT (one commit, one round trip): the first one waits for the next turn of the event loop, and whatever queued
// up by then — or while the previous batch was being written — goes in the same statement. Batches are written one
// after the other, so the arrival order (the rows' ids) is the order in which this instance received the events.

const MAX_BATCH = 200;

interface Waiting {
  event: NewInboxEvent;
  resolve(stored: StoredEvent): void;
  reject(err: unknown): void;
}

/** Batches concurrent inbox inserts into one statement per turn. */
export class GroupCommit {
  #queue: Waiting[] = [];
  #writing = false;
  #scheduled = false;

  constructor(
    private readonly db: Db,
    private readonly leaseMs: number,
    /** A click with the same click key as one this recent is a double click (see storeEvents). */
    private readonly doubleClickMs = 0,
  ) {}

  /** Resolves once the event is stored (or was already): the caller may then acknowledge it. */
  store(event: NewInboxEvent): Promise<StoredEvent> {
    return new Promise<StoredEvent>((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      this.#schedule();
    });
  }

  /** How many events wait for the current or next batch (for tests and metrics). */
  get waiting(): number {
    return this.#queue.length;
  }

  #schedule(): void {
    if (this.#writing || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        // The same event delivered twice at once is one row; both deliveries get its outcome.
        const distinct = new Map<string, NewInboxEvent>();
        for (const w of batch) if (!distinct.has(w.event.eventId)) distinct.set(w.event.eventId, w.event);
        try {
          const stored = await storeEvents(this.db, [...distinct.values()], this.leaseMs, this.doubleClickMs);
          const claimed = new Set<string>();
          for (const w of batch) {
            const s = stored.get(w.event.eventId);
            if (!s) {
              w.reject(new Error(`inbox: event ${w.event.eventId} was neither stored nor found`));
              continue;
            }
            // Only the first delivery in the batch owns a fresh row; its twins in the batch are duplicates.
            const first = !claimed.has(s.eventId);
            claimed.add(s.eventId);
            w.resolve(first ? s : { ...s, fresh: false });
          }
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.#writing = false;
    }
  }
}
