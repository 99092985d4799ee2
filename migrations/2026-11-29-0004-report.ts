import { sql, type Kysely } from 'kysely';

// The report's and the chat import's storage: imports waiting for a coordinator's 确认导入 (kept across restarts,
// expiring after a day), and files in the outbox (the bytes stay with the row until Lark has them, the file_key is
// kept once uploaded so a retry never uploads twice).

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('pending_imports')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('open_id', 'text', (c) => c.notNull())
    .addColumn('chat_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull().unique())
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('cases', 'jsonb', (c) => c.notNull())
    .addColumn('warnings', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending').check(sql`status in ('pending', 'applied', 'cancelled')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', 'timestamptz')
    .execute();

  await db.schema
    .alterTable('outbox')
    .addColumn('file_name', 'text')
    .addColumn('file_type', 'text')
    .addColumn('file_bytes', 'bytea')
    .addColumn('file_key', 'text')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('outbox').dropColumn('file_name').dropColumn('file_type').dropColumn('file_bytes').dropColumn('file_key').execute();
  await db.schema.dropTable('pending_imports').execute();
}
