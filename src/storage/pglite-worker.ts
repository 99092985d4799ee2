import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, types } from '@electric-sql/pglite';

// The embedded database runs here, on its own thread: PGlite executes queries synchronously on the thread that calls
// it, and on the service's main thread a busy database would hold up every HTTP answer (a click's 3 s included).
// The main thread talks to it through PGliteWorkerClient (pglite-thread.ts), one message per query.

export interface WorkerInit {
  /** Absolute data folder, or undefined for an in-memory database. */
  dataDir: string | undefined;
}

export type WorkerRequest = { id: number; op: 'query'; sql: string; params: unknown[] } | { id: number; op: 'close' };

export type WorkerResponse =
  | { id: number; ok: true; rows: unknown[]; affectedRows: number | undefined }
  | { id: number; ok: false; error: { message: string; name: string; fields: Record<string, unknown> } }
  | { id: 0; ok: true; ready: true }
  | { id: 0; ok: false; fatal: string };

const port = parentPort;
if (!port) throw new Error('pglite-worker.ts runs only as a worker thread');
const init = workerData as WorkerInit;

// Error fields a caller may look at (SQLSTATE and its details), carried across the thread boundary.
const ERROR_FIELDS = ['code', 'severity', 'detail', 'hint', 'constraint', 'table', 'column', 'schema', 'position', 'where'];

try {
  const db = await PGlite.create({
    ...(init.dataDir ? { dataDir: init.dataDir } : {}),
    // `date` stays a YYYY-MM-DD string (no timezone shift); counts (bigint) become numbers — as on PostgreSQL.
    parsers: { [types.DATE]: (v: string) => v, [types.INT8]: (v: string) => Number(v) },
  });
  port.on('message', (req: WorkerRequest) => {
    if (req.op === 'close') {
      db.close().then(
        () => port.postMessage({ id: req.id, ok: true, rows: [], affectedRows: undefined } satisfies WorkerResponse),
        (err: unknown) => port.postMessage({ id: req.id, ok: false, error: { message: String(err), name: 'Error', fields: {} } } satisfies WorkerResponse),
      );
      return;
    }
    db.query(req.sql, req.params).then(
      (res) => port.postMessage({ id: req.id, ok: true, rows: res.rows, affectedRows: res.affectedRows } satisfies WorkerResponse),
      (err: unknown) => {
        const e = err as Record<string, unknown> & Error;
        const fields: Record<string, unknown> = {};
        for (const f of ERROR_FIELDS) if (e?.[f] !== undefined) fields[f] = e[f];
        port.postMessage({ id: req.id, ok: false, error: { message: e?.message ?? String(err), name: e?.name ?? 'Error', fields } } satisfies WorkerResponse);
      },
    );
  });
  port.postMessage({ id: 0, ok: true, ready: true } satisfies WorkerResponse);
} catch (err) {
  port.postMessage({ id: 0, ok: false, fatal: err instanceof Error ? err.message : String(err) } satisfies WorkerResponse);
}
