// Named prepared statements for the embedded database (used by pglite-worker.mjs). PGlite's own query() parses and
// plans every statement again, in WebAssembly, where planning the case snapshot behind every card costs more than
// running it. Here each of the application's statements is parsed once (a protocol-level Parse with a name) and then
// only bound and executed, so PostgreSQL can keep a cached plan for it, as pg-prepared.ts does on PostgreSQL.
//
// Everything used is PGlite's public interface: runExclusive, execProtocolStream, the protocol serializer, the result
// parser, and the type serializers. A statement outside the bounded set (not DML, or many parameters, e.g. a batch
// insert of many rows) goes through query() as before, and so does one whose cached plan no longer fits its tables
// (the schema changed under it).
import { parse, protocol, types } from '@electric-sql/pglite';

const MAX_PARAMETERS = 64;
/** Statements kept prepared at most; later new ones go through query() (a guard against unforeseen shapes). */
const MAX_PREPARED = 500;
const PREPARABLE = /^\s*(select|insert|update|delete|with)\b/i;
const { serialize } = protocol;

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The worker's query function: the application's statements prepared once, anything else through db.query().
 * @param {import('@electric-sql/pglite').PGlite} db
 * @returns {(sql: string, params: unknown[]) => Promise<{ rows: unknown[]; affectedRows?: number }>}
 */
export function preparedQueries(db) {
  /** Statement text → its name and parameter types, once parsed in this session. */
  const prepared = new Map();
  /** Statements whose cached plan stopped fitting: run unprepared from then on. */
  const stale = new Set();
  let counter = 0;

  const serializeParam = (value, typeId) => {
    if (value === null || value === undefined) return null;
    const serializer = db.serializers[typeId] ?? types.serializers[typeId];
    return serializer ? serializer(value) : value.toString();
  };

  return async function query(sql, params) {
    if (!PREPARABLE.test(sql) || params.length > MAX_PARAMETERS || stale.has(sql)) return db.query(sql, params);
    if (!prepared.has(sql) && prepared.size >= MAX_PREPARED) return db.query(sql, params);
    try {
      return await db.runExclusive(async () => {
        let statement = prepared.get(sql);
        if (!statement) {
          const name = `b_${++counter}`;
          const described = await db.execProtocolStream(concat([serialize.parse({ name, text: sql }), serialize.describe({ type: 'S', name }), serialize.sync()]), { syncToFs: false });
          statement = { name, paramTypes: parse.parseDescribeStatementResults(described) };
          prepared.set(sql, statement);
        }
        const values = params.map((v, i) => serializeParam(v, statement.paramTypes[i]));
        // Bind, describe, execute and sync go to the database in one call (an error skips to the sync, as on a socket).
        const messages = await db.execProtocolStream(
          concat([serialize.bind({ statement: statement.name, values }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()]),
          { syncToFs: false },
        );
        // As PGlite's query() does after every statement (a no-op on the Node file system, kept for the others).
        await db.syncToFs();
        return parse.parseResults(messages, db.parsers)[0] ?? { rows: [], affectedRows: 0 };
      });
    } catch (err) {
      if (err && err.code === '0A000' && /cached plan/.test(String(err.message))) {
        stale.add(sql);
        // Outside a transaction, simply run it again; inside one, the transaction is aborted: report the error.
        return db.query(sql, params).catch((again) => {
          throw again && again.code === '25P02' ? err : again;
        });
      }
      throw err;
    }
  };
}
