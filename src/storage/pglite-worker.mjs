// The embedded database runs here, on its own thread: PGlite executes queries synchronously on the thread that calls
// it, and on the service's main thread a busy database would hold up every HTTP answer (a click's 3 s included).
// The main thread talks to it through PGliteWorkerClient (pglite-thread.ts), one message per query; the messages'
// shapes are declared there. Plain JavaScript on purpose: a worker does not inherit the TypeScript loader, and
// starting one inside the worker would cost seconds at every start.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, types } from '@electric-sql/pglite';
import { preparedQueries } from './pglite-prepared.mjs';

const port = parentPort;
if (!port) throw new Error('pglite-worker.mjs runs only as a worker thread');

// Error fields a caller may look at (SQLSTATE and its details), carried across the thread boundary.
const ERROR_FIELDS = ['code', 'severity', 'detail', 'hint', 'constraint', 'table', 'column', 'schema', 'position', 'where'];

function describe(err) {
  const fields = {};
  for (const f of ERROR_FIELDS) if (err && err[f] !== undefined) fields[f] = err[f];
  return { message: err && err.message ? err.message : String(err), name: err && err.name ? err.name : 'Error', fields };
}

try {
  const db = await PGlite.create({
    ...(workerData.dataDir ? { dataDir: workerData.dataDir } : {}),
    // `date` stays a YYYY-MM-DD string (no timezone shift); counts (bigint) become numbers — as on PostgreSQL.
    // json and jsonb cross to the main thread as their text, which is parsed there (see PGliteWorkerClient): copying a
    // string between threads costs next to nothing, copying the objects parsed from it costs more than parsing it.
    parsers: { [types.DATE]: (v) => v, [types.INT8]: (v) => Number(v), [types.JSON]: (v) => v, [types.JSONB]: (v) => v },
  });
  const JSON_TYPES = new Set([types.JSON, types.JSONB]);
  /** The names of a result's json and jsonb columns, or undefined when it has none. */
  const jsonColumns = (fields) => {
    const names = (fields ?? []).filter((f) => JSON_TYPES.has(f.dataTypeID)).map((f) => f.name);
    return names.length > 0 ? names : undefined;
  };
  const query = preparedQueries(db);
  port.on('message', (req) => {
    const work =
      req.op === 'close'
        ? db.close().then(() => ({ rows: [], affectedRows: undefined }))
        : req.begin
          ? db.query('begin').then(() => query(req.sql, req.params))
          : query(req.sql, req.params);
    work.then(
      (res) => port.postMessage({ id: req.id, ok: true, rows: res.rows, affectedRows: res.affectedRows, json: jsonColumns(res.fields) }),
      (err) => port.postMessage({ id: req.id, ok: false, error: describe(err) }),
    );
  });
  port.postMessage({ id: 0, ok: true, ready: true });
} catch (err) {
  port.postMessage({ id: 0, ok: false, fatal: err instanceof Error ? err.message : String(err) });
}
