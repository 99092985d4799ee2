import { sql, type Kysely } from 'kysely';

// The daily reminders: the run ledger (each job runs once per date, whatever the instances), every reminder sent
// (recorded in the transaction that queued its outbox row), the cards carrying them (live: redrawn when a listed case
// moves on), and the mutes people set for themselves.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('job_runs')
    .addColumn('job', 'text', (c) => c.notNull())
    .addColumn('run_date', 'date', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('summary', 'jsonb')
    .addPrimaryKeyConstraint('job_runs_pk', ['job', 'run_date'])
    .execute();

  await db.schema
    .createTable('reminder_cards')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('run_date', 'date', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('digest', 'supervision')`))
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('part', 'integer', (c) => c.notNull())
    .addColumn('parts', 'integer', (c) => c.notNull())
    .addColumn('case_id', 'integer', (c) => c.references('cases.id'))
    .addColumn('urgent', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('message_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create unique index reminder_cards_once on reminder_cards (run_date, kind, recipient, part, coalesce(case_id, 0))`.execute(db);
  await db.schema.createIndex('reminder_cards_message_idx').on('reminder_cards').column('message_id').execute();

  await db.schema
    .createTable('reminders_sent')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('run_date', 'date', (c) => c.notNull())
    .addColumn('case_id', 'integer', (c) => c.notNull().references('cases.id'))
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('card_id', 'integer', (c) => c.notNull().references('reminder_cards.id'))
    .addColumn('outbox_id', 'bigint', (c) => c.notNull())
    .addColumn('workdays_left', 'integer')
    // Set by the sender when the case no longer needed it by the time the card went out: chosen, never delivered.
    .addColumn('dropped_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('reminders_sent_once', ['run_date', 'case_id', 'rule', 'recipient'])
    .execute();
  await db.schema.createIndex('reminders_sent_case_idx').on('reminders_sent').columns(['case_id', 'run_date']).execute();
  await db.schema.createIndex('reminders_sent_card_idx').on('reminders_sent').column('card_id').execute();

  await db.schema
    .createTable('reminder_mutes')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('open_id', 'text', (c) => c.notNull())
    // null: every case
    .addColumn('case_id', 'integer', (c) => c.references('cases.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create unique index reminder_mutes_once on reminder_mutes (open_id, coalesce(case_id, 0))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('reminder_mutes').execute();
  await db.schema.dropTable('reminders_sent').execute();
  await db.schema.dropTable('reminder_cards').execute();
  await db.schema.dropTable('job_runs').execute();
}
