import path from 'node:path';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { lockDataDir } from './lock-file.ts';
import { PGlitePool } from './pglite-pool.ts';
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
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === DATE_OID) return (v: string) => v;
    if (oid === INT8_OID) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export interface OpenOptions {
  /** postgres:// URL; unset means the embedded database in dataDir. */
  url?: string | undefined;
  /** Embedded data directory; 'memory://' for a throw-away database (tests). */
  dataDir?: string;
  poolSize?: number;
}

/** Opens PostgreSQL (url) or the embedded PGlite database (dataDir), with one Kysely dialect for both. */
export async function openDatabase(opts: OpenOptions): Promise<Database> {
  if (opts.url) {
    const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize ?? 10, types: pgTypes });
    // An idle client that loses its server must not crash the process.
    pool.on('error', () => {});
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
  let pglite: PGlite;
  try {
    pglite = await PGlite.create({
      ...(memory ? {} : { dataDir: path.resolve(dataDir, 'pgdata') }),
      parsers: { [pgliteTypes.DATE]: (v: string) => v, [pgliteTypes.INT8]: (v: string) => Number(v) },
    });
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

async function ping(db: Db): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}
