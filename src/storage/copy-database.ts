import { sql } from 'kysely';
import type { Db } from './database.ts';
import { migrateToLatest } from './migrate.ts';

// Moving the embedded database to PostgreSQL: the target gets the same schema from the same migrations, then every
// row of every table, parents before children, in one transaction; the id sequences continue after the copied ids.
// Generic over the tables, so a table added by a later migration moves without a change here.

/** The move cannot start or did not finish; the message is Chinese and meant for the operator. */
export class CopyRefusedError extends Error {
  override name = 'CopyRefusedError';
}

interface Column {
  name: string;
  json: boolean;
  identity: boolean;
}

interface Table {
  name: string;
  columns: Column[];
  orderBy: string[];
}

export interface CopyResult {
  /** Rows copied, per table, in the order the tables were copied. */
  tables: Array<{ table: string; rows: number }>;
}

// Rows read and written per statement; the bind parameters of one insert stay far below PostgreSQL's 65,535.
const PAGE_ROWS = 1000;
const MAX_PARAMS = 30_000;

/** Copies every row of `source` into the empty database `target` (whose schema is brought up to date first). */
export async function copyDatabase(source: Db, target: Db, onTable: (table: string, rows: number) => void = () => {}): Promise<CopyResult> {
  await migrateToLatest(source);
  await migrateToLatest(target);
  const tables = await describeTables(source);
  for (const t of tables) {
    const busy = await sql<{ any: boolean }>`select exists (select 1 from ${sql.table(t.name)}) as any`.execute(target);
    if (busy.rows[0]?.any) {
      throw new CopyRefusedError(`目标数据库不是空的（表 ${t.name} 已有数据）：请指定一个新建的空数据库，以免覆盖已有数据。`);
    }
  }
  const result: CopyResult = { tables: [] };
  await target.transaction().execute(async (trx) => {
    for (const t of tables) {
      let copied = 0;
      const rowsPerInsert = Math.max(1, Math.min(PAGE_ROWS, Math.floor(MAX_PARAMS / t.columns.length)));
      for (;;) {
        const page = await sql<Record<string, unknown>>`
          select * from ${sql.table(t.name)}
          order by ${sql.join(t.orderBy.map((c) => sql.ref(c)))}
          limit ${rowsPerInsert} offset ${copied}`.execute(source);
        if (page.rows.length === 0) break;
        // A json column comes back parsed; it goes in as its text, or pg would write a JS array as a SQL array.
        const values = page.rows.map((r) => sql`(${sql.join(t.columns.map((c) => (c.json && r[c.name] !== null ? JSON.stringify(r[c.name]) : r[c.name])))})`);
        const overriding = t.columns.some((c) => c.identity) ? sql`overriding system value` : sql``;
        await sql`insert into ${sql.table(t.name)} (${sql.join(t.columns.map((c) => sql.ref(c.name)))}) ${overriding} values ${sql.join(values)}`.execute(trx);
        copied += page.rows.length;
        if (page.rows.length < rowsPerInsert) break;
      }
      onTable(t.name, copied);
      result.tables.push({ table: t.name, rows: copied });
    }
    // New rows on PostgreSQL continue after the copied ids instead of colliding with them.
    const serials = await sql<{ table_name: string; column_name: string; seq: string }>`
      select c.table_name, c.column_name, pg_get_serial_sequence(quote_ident(c.table_name), c.column_name) as seq
      from information_schema.columns c
      where c.table_schema = 'public' and pg_get_serial_sequence(quote_ident(c.table_name), c.column_name) is not null`.execute(trx);
    for (const s of serials.rows) {
      await sql`select setval(${s.seq}::regclass, coalesce((select max(${sql.ref(s.column_name)}) from ${sql.table(s.table_name)}), 0) + 1, false)`.execute(trx);
    }
    // What arrived must be what left: a count per table, read back inside the same transaction.
    for (const { table, rows } of result.tables) {
      const n = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(trx);
      if (Number(n.rows[0]?.n) !== rows) throw new CopyRefusedError(`表 ${table} 复制后行数不符（应为 ${rows}，实为 ${n.rows[0]?.n}），未写入任何数据。`);
    }
  });
  return result;
}

/** The application's tables (not the migrator's own), parents before the tables that reference them. */
async function describeTables(db: Db): Promise<Table[]> {
  const names = (
    await sql<{ name: string }>`
      select tablename as name from pg_tables
      where schemaname = 'public' and tablename not in ('kysely_migration', 'kysely_migration_lock')
      order by tablename`.execute(db)
  ).rows.map((r) => r.name);
  const refs = (
    await sql<{ child: string; parent: string }>`
      select c.conrelid::regclass::text as child, c.confrelid::regclass::text as parent
      from pg_constraint c join pg_namespace n on n.oid = c.connamespace
      where c.contype = 'f' and n.nspname = 'public'`.execute(db)
  ).rows;
  const ordered: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string) => {
    if (ordered.includes(name) || visiting.has(name)) return;
    visiting.add(name);
    for (const r of refs) if (r.child === name && r.parent !== name) visit(r.parent);
    visiting.delete(name);
    ordered.push(name);
  };
  for (const n of names) visit(n);

  const tables: Table[] = [];
  for (const name of ordered) {
    const columns = (
      await sql<{ name: string; data_type: string; is_identity: string }>`
        select column_name as name, data_type, is_identity from information_schema.columns
        where table_schema = 'public' and table_name = ${name} order by ordinal_position`.execute(db)
    ).rows.map((c) => ({ name: c.name, json: c.data_type === 'json' || c.data_type === 'jsonb', identity: c.is_identity === 'YES' }));
    const pk = (
      await sql<{ name: string }>`
        select a.attname as name from pg_index i
        join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
        where i.indrelid = ${name}::regclass and i.indisprimary
        order by array_position(i.indkey, a.attnum)`.execute(db)
    ).rows.map((r) => r.name);
    // Pages are read by offset, so the order must be total: the primary key, or every column when there is none.
    tables.push({ name, columns, orderBy: pk.length ? pk : columns.map((c) => c.name) });
  }
  return tables;
}
