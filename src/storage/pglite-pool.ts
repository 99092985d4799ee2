import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type { PGliteLike } from './pglite-thread.ts';

// PGlite is a single connection. Kysely's PostgresDialect wants a pool; this one hands out that connection to one
// borrower at a time, so a transaction never sees another caller's statements interleaved with its own.

const COMMANDS = new Set(['UPDATE', 'DELETE', 'INSERT', 'SELECT', 'MERGE']);

export class PGliteBusyError extends Error {
  override name = 'PGliteBusyError';
}

/** A pg-Pool-shaped wrapper around one PGlite instance (in a worker thread or on this one), for Kysely's PostgresDialect. */
export class PGlitePool implements PostgresPool {
  #queue: Array<() => void> = [];
  #busy = false;

  constructor(
    private readonly pglite: PGliteLike,
    private readonly acquireTimeoutMs = 30_000,
  ) {}

  async connect(): Promise<PostgresPoolClient> {
    await this.#acquire();
    let released = false;
    // A transaction's BEGIN goes to the database with its first statement: one trip to the database's thread fewer
    // for every transaction, which on this one connection every other caller waits for.
    let beginPending = false;
    const client = {
      query: async <R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> => {
        if (sql === 'begin' && !beginPending) {
          beginPending = true;
          return { command: 'SELECT' as PostgresQueryResult<R>['command'], rowCount: 0, rows: [] };
        }
        const begin = beginPending;
        beginPending = false;
        const res = await this.pglite.query<R>(sql, parameters as unknown[], { begin });
        const verb = sql.trimStart().split(/\s+/, 1)[0]?.toUpperCase() ?? '';
        // A `WITH … UPDATE` reports its outer verb as WITH; affectedRows is what Kysely needs for writes.
        const command = (COMMANDS.has(verb) ? verb : res.affectedRows !== undefined && res.rows.length === 0 ? 'UPDATE' : 'SELECT') as PostgresQueryResult<R>['command'];
        return { command, rowCount: res.affectedRows ?? res.rows.length, rows: res.rows };
      },
      release: () => {
        if (released) return;
        released = true;
        beginPending = false;
        this.#release();
      },
    };
    return client as PostgresPoolClient;
  }

  async end(): Promise<void> {
    // The owner closes PGlite itself (after Kysely is done with it).
  }

  #acquire(): Promise<void> {
    if (!this.#busy) {
      this.#busy = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        resolve();
      };
      // A borrower that never comes back is almost always a query on the outer handle inside a transaction.
      const timer = setTimeout(() => {
        const i = this.#queue.indexOf(grant);
        if (i >= 0) this.#queue.splice(i, 1);
        reject(new PGliteBusyError(`embedded database busy for ${this.acquireTimeoutMs} ms (is a query using the outer handle inside a transaction?)`));
      }, this.acquireTimeoutMs);
      this.#queue.push(grant);
    });
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next) next();
    else this.#busy = false;
  }
}
