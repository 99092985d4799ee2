import { sql, type Kysely } from 'kysely';

// The inbox: every verified Lark event (message or card click) is stored here before Lark gets its answer, so an
// acknowledged event survives a crash. A row is finished (handled_at set) in the same transaction as its effects;
// `handled_at IS NULL` means still to do. It replaces processed_events: the unique event_id is the de-duplication.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('inbox')
    // Arrival order: a chat's messages are handled in this order, whichever instance takes them.
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('event_id', 'text', (c) => c.notNull().unique())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('chat_key', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    // The same person clicking the same button of the same card with the same form: a double click.
    .addColumn('click_key', 'text')
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'timestamptz')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('handled_at', 'timestamptz')
    .addColumn('answer', 'jsonb')
    .addColumn('last_error', 'text')
    .execute();
  await sql`create index inbox_unfinished_idx on inbox (chat_key, id) where handled_at is null`.execute(db);
  await sql`create index inbox_handled_idx on inbox (handled_at) where handled_at is not null`.execute(db);
  await sql`create index inbox_click_key_idx on inbox (click_key, id) where click_key is not null`.execute(db);

  // Event ids remembered before the inbox existed stay remembered (a redelivery within the retention is still a
  // duplicate); the double-click keys of processed_events lived for seconds and are not carried over.
  await sql`
    insert into inbox (event_id, event_type, chat_key, payload, received_at, handled_at, answer)
    select event_id, event_type, '', '{}'::jsonb, received_at, received_at, response
    from processed_events
    where event_id not like 'click:%'
    order by received_at
  `.execute(db);
  await db.schema.dropTable('processed_events').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('processed_events')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('response', 'jsonb')
    .execute();
  await db.schema.createIndex('processed_events_received_idx').on('processed_events').column('received_at').execute();
  await sql`
    insert into processed_events (event_id, event_type, received_at, response)
    select event_id, event_type, received_at, answer from inbox where handled_at is not null
  `.execute(db);
  await db.schema.dropTable('inbox').execute();
}
