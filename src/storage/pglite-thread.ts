import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

// The main thread's handle on the embedded database running in a worker thread (see pglite-worker.mjs). It has the
// part of PGlite's interface the pool adapter uses: query and close.

/** What the worker is started with. */
interface WorkerInit {
  /** Absolute data folder, or undefined for an in-memory database. */
  dataDir: string | undefined;
}

/** A query; with `begin`, a BEGIN is run just before it (a transaction's first statement). */
type WorkerRequest = { id: number; op: 'query'; sql: string; params: unknown[]; begin?: boolean } | { id: number; op: 'close' };

/** What the worker answers: a query's rows, an error with its SQLSTATE fields, or (id 0) whether it opened. */
type WorkerResponse =
  | { id: number; ok: true; rows: unknown[]; affectedRows: number | undefined; json?: string[] | undefined }
  | { id: number; ok: false; error: { message: string; name: string; fields: Record<string, unknown> } }
  | { id: 0; ok: true; ready: true }
  | { id: 0; ok: false; fatal: string };

export interface PGliteLike {
  /** Runs a statement; with `begin`, opens a transaction first (in the same trip to the database). */
  query<R>(sql: string, params: unknown[], opts?: { begin?: boolean }): Promise<{ rows: R[]; affectedRows?: number | undefined }>;
  close(): Promise<void>;
}

/** A database error from the worker, with its SQLSTATE fields (code, constraint, …) as pg would give them. */
export class EmbeddedDatabaseError extends Error {
  [field: string]: unknown;
}

// tsc does not copy the plain-JavaScript worker into dist/: compiled, this file finds it in the sources.
const WORKER_BESIDE = new URL('./pglite-worker.mjs', import.meta.url);
const WORKER_SCRIPT = fs.existsSync(fileURLToPath(WORKER_BESIDE)) ? WORKER_BESIDE : new URL('../../../src/storage/pglite-worker.mjs', import.meta.url);

export class PGliteWorkerClient implements PGliteLike {
  #next = 1;
  #pending = new Map<number, { resolve(r: WorkerResponse): void; reject(e: unknown): void }>();
  #exited: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (res: WorkerResponse) => {
      const p = this.#pending.get(res.id);
      if (!p) return;
      this.#pending.delete(res.id);
      p.resolve(res);
    });
    const fail = (err: Error) => {
      this.#exited = err;
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the embedded database thread stopped (exit code ${code})`)));
  }

  /** Starts the worker and opens the database in it; rejects when it cannot be opened. */
  static async open(dataDir: string | undefined): Promise<PGliteWorkerClient> {
    const worker = new Worker(WORKER_SCRIPT, { workerData: { dataDir } satisfies WorkerInit });
    const ready = await new Promise<WorkerResponse>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the embedded database thread stopped while opening (exit code ${code})`)));
    });
    if (!ready.ok) {
      await worker.terminate();
      throw new Error(`could not open the embedded database: ${'fatal' in ready ? ready.fatal : 'unknown error'}`);
    }
    return new PGliteWorkerClient(worker);
  }

  async query<R>(sql: string, params: unknown[], opts: { begin?: boolean } = {}): Promise<{ rows: R[]; affectedRows?: number | undefined }> {
    const res = await this.#call({ op: 'query', sql, params, ...(opts.begin ? { begin: true } : {}) });
    if (!res.ok) {
      if (!('error' in res)) throw new Error('the embedded database thread failed');
      const err = new EmbeddedDatabaseError(res.error.message);
      err.name = res.error.name;
      Object.assign(err, res.error.fields);
      throw err;
    }
    if (!('rows' in res)) return { rows: [] };
    // json and jsonb columns come as text (cheaper to pass between threads) and are parsed here, as pg parses them.
    if (res.json) {
      for (const row of res.rows as Array<Record<string, unknown>>) {
        for (const name of res.json) {
          const v = row[name];
          if (typeof v === 'string') row[name] = JSON.parse(v);
        }
      }
    }
    return { rows: res.rows as R[], affectedRows: res.affectedRows };
  }

  async close(): Promise<void> {
    if (this.#exited) return;
    try {
      await this.#call({ op: 'close' });
    } finally {
      await this.worker.terminate();
    }
  }

  #call(req: { op: 'query'; sql: string; params: unknown[]; begin?: boolean } | { op: 'close' }): Promise<WorkerResponse> {
    if (this.#exited) return Promise.reject(this.#exited);
    const id = this.#next++;
    return new Promise<WorkerResponse>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id } as WorkerRequest);
    });
  }
}
