import { sql, type Kysely } from 'kysely';

// What the command-line import remembers of its last commit (see src/import/fingerprint.ts): the file's digest and
// the state of the tables the import plan reads, so the same file imported again onto an unchanged database is
// known to change nothing without reading it again. One row at most.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('import_fingerprints')
    .addColumn('file_digest', 'text', (c) => c.primaryKey())
    .addColumn('database_state', 'text', (c) => c.notNull())
    .addColumn('rows', 'integer', (c) => c.notNull())
    .addColumn('warnings', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('import_fingerprints').execute();
}
