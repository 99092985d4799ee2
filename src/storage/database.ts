import path from 'node:path';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import type pg from 'pg';
import { lockDataDir } from './lock-file.ts';
import { createEmbeddedDatabaseApart } from './pglite-create.ts';
import { usePreparedStatements } from './pg-prepared.ts';
import { PGlitePool } from './pglite-pool.ts';
import { PGliteWorkerClient, type PGliteLike } from './pglite-thread.ts';
import type { DB } from './schema.ts';

export type Db = Kysely<DB>;
export type Trx = Transaction<DB>;
/** Repository functions take either, so the caller owns the transaction. */
export type DbOrTrx = Kysely<DB> | Transaction<DB>;

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Whether the database answers a trivial query right now. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

const DATE_OID = 1082;
const INT8_OID = 20;

// `date` stays a YYYY-MM-DD string (no timezone shift); counts (bigint) become numbers.
function pgTypes(driver: typeof pg) {
  return {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === DATE_OID) return (v: string) => v;
      if (oid === INT8_OID) return (v: string) => Number(v);
      return driver.types.getTypeParser(oid, format as 'text');
    },
  };
}

export interface OpenOptions {
  /** postgres:// URL; unset means the embedded database in dataDir. */
  url?: string | undefined;
  /** Embedded data directory; 'memory://' for a throw-away database (tests). */
  dataDir?: string;
  poolSize?: number;
  /** PostgreSQL: send the application's statements as named prepared statements (default; see pg-prepared.ts). */
  preparedStatements?: boolean;
  /**
   * Where the embedded database runs: in a worker thread (default; queries never block the HTTP side) or on the
   * calling thread.
   */
  embeddedThread?: 'worker' | 'main';
}

/** Opens PostgreSQL (url) or the embedded PGlite database (dataDir), with one Kysely dialect for both. */
export async function openDatabase(opts: OpenOptions): Promise<Database> {
  if (opts.url) {
    // Loaded only here: the embedded default never needs the PostgreSQL driver.
    const { default: driver } = await import('pg');
    const pool = new driver.Pool({ connectionString: opts.url, max: opts.poolSize ?? 10, types: pgTypes(driver) });
    // An idle client that loses its server must not crash the process.
    pool.on('error', () => {});
    if (opts.preparedStatements ?? true) usePreparedStatements(pool);
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      kind: 'postgres',
      ping: () => ping(db),
      close: () => db.destroy(),
    };
  }
  const dataDir = opts.dataDir ?? './data';
  const memory = dataDir.startsWith('memory://');
  const release = memory ? () => {} : lockDataDir(dataDir);
  let pglite: PGliteLike;
  try {
    pglite = await openEmbedded(memory ? undefined : path.resolve(dataDir, 'pgdata'), opts.embeddedThread ?? 'worker');
  } catch (err) {
    release();
    throw err;
  }
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: new PGlitePool(pglite) }) });
  let closed = false;
  return {
    db,
    kind: 'pglite',
    ping: () => ping(db),
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        await db.destroy();
        await pglite.close();
      } finally {
        release();
      }
    },
  };
}

/** The one place the embedded database is opened (pgdata folder, or in memory when undefined). */
async function openEmbedded(pgdata: string | undefined, thread: 'worker' | 'main'): Promise<PGliteLike> {
  // A database created by this process would keep initdb's memory for good: create it apart, then open it.
  if (pgdata) await createEmbeddedDatabaseApart(pgdata);
  if (thread === 'worker') return PGliteWorkerClient.open(pgdata);
  // Loaded only here: in the default set-up PGlite lives in the worker alone.
  const { PGlite, types: pgliteTypes } = await import('@electric-sql/pglite');
  const pglite = await PGlite.create({
    ...(pgdata ? { dataDir: pgdata } : {}),
    parsers: { [pgliteTypes.DATE]: (v: string) => v, [pgliteTypes.INT8]: (v: string) => Number(v) },
  });
  return {
    query: async <R>(sql: string, params: unknown[], opts: { begin?: boolean } = {}) => {
      if (opts.begin) await pglite.query('begin');
      return pglite.query<R>(sql, params);
    },
    close: () => pglite.close(),
  };
}

async function ping(db: Db): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}
