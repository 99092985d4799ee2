import { createHash } from 'node:crypto';
import type pg from 'pg';

// On PostgreSQL, planning a statement often costs more than running it: the case snapshot behind every card plans in
// about 1.5 ms and runs in 0.5 ms. The `pg` driver sends each query as an unnamed statement, parsed and planned again
// every time. Here every pooled connection sends the application's statements as named prepared statements instead,
// so each connection parses a statement once, and PostgreSQL can settle on a cached plan for it (plan_cache_mode).
//
// Only statements whose text has a bounded number of shapes are prepared: DML (select, insert, update, delete, with)
// with at most MAX_PARAMETERS parameters, named by a hash of their text, and at most MAX_PREPARED per connection. A
// batch insert of a thousand rows is one of many shapes and stays unnamed. A connection whose cached statement no
// longer fits the tables (another instance migrated the schema: "cached plan must not change result type") runs that
// statement unnamed from then on, and the statement is answered all the same.

const MAX_PARAMETERS = 64;
/** Statements a connection keeps prepared at most; later new ones run unnamed (a guard against unforeseen shapes). */
const MAX_PREPARED = 500;
const PREPARABLE = /^\s*(select|insert|update|delete|with)\b/i;
/** SQLSTATE of "cached plan must not change result type". */
const FEATURE_NOT_SUPPORTED = '0A000';
const IN_FAILED_TRANSACTION = '25P02';

type QueryFn = (text: unknown, values?: unknown) => Promise<pg.QueryResult>;

const names = new Map<string, string>();

function statementName(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `b_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    if (names.size > 10_000) names.clear();
    names.set(text, name);
  }
  return name;
}

/** Whether a statement is sent as a named prepared statement. */
export function isPreparable(text: string, values: readonly unknown[] | undefined): boolean {
  return PREPARABLE.test(text) && (values?.length ?? 0) <= MAX_PARAMETERS;
}

/** Makes every connection the pool opens send the application's statements as named prepared statements. */
export function usePreparedStatements(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as unknown as QueryFn;
    const stale = new Set<string>();
    const prepared = new Set<string>();
    (client as unknown as { query: QueryFn }).query = async (text, values) => {
      if (typeof text !== 'string' || !isPreparable(text, values as unknown[] | undefined)) return query(text, values);
      const name = statementName(text);
      if (stale.has(name) || (!prepared.has(name) && prepared.size >= MAX_PREPARED)) return query(text, values);
      prepared.add(name);
      try {
        return await query({ name, text, values }, undefined);
      } catch (err) {
        if ((err as { code?: string }).code !== FEATURE_NOT_SUPPORTED || !/cached plan/.test(String((err as Error).message))) throw err;
        stale.add(name);
        // Outside a transaction the statement is simply run again; inside one, the transaction is already aborted and
        // the original error is the one to report (the caller's retry runs the statement unnamed).
        return query(text, values).catch((again: unknown) => {
          throw (again as { code?: string }).code === IN_FAILED_TRANSACTION ? err : again;
        });
      }
    };
  });
}
