import { sql, type Kysely } from 'kysely';

// The first schema: cases and everything that happens to them, people and chats, and the Lark transport's
// bookkeeping (events seen, messages to send, cards showing a case).

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('open_id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text')
    .addColumn('name_fetched_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('user_roles')
    .addColumn('open_id', 'text', (c) => c.notNull().references('users.open_id'))
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('coordinator', 'leader')`))
    .addColumn('granted_by', 'text')
    .addColumn('granted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('user_roles_pk', ['open_id', 'role'])
    .execute();

  await db.schema
    .createTable('chats')
    .addColumn('chat_id', 'text', (c) => c.primaryKey())
    .addColumn('unit', 'text')
    .addColumn('bound_by', 'text')
    .addColumn('bound_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('cases')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('建议', '提案')`))
    .addColumn('year', 'integer', (c) => c.notNull())
    .addColumn('case_no', 'text', (c) => c.notNull())
    .addColumn('session', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('proposer', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('role_label', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('lead', 'sole', 'separate', 'assisting')`))
    .addColumn('lead_unit', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('assisting_units', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('unit', 'text')
    .addColumn('assigned_date', 'date', (c) => c.notNull())
    .addColumn('fixed_due_date', 'date')
    .addColumn('reply_due_date', 'date', (c) => c.notNull())
    .addColumn('disclosure', 'text')
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('unclaimed', 'in_progress', 'contacted', 'replied', 'rehandling', 'closed', 'adjusted')`),
    )
    .addColumn('handler_open_id', 'text', (c) => c.references('users.open_id'))
    .addColumn('round', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('cases_kind_year_no_key', ['kind', 'year', 'case_no'])
    .execute();
  await db.schema.createIndex('cases_case_no_idx').on('cases').column('case_no').execute();
  await db.schema.createIndex('cases_handler_idx').on('cases').columns(['handler_open_id', 'status']).execute();

  await db.schema
    .createTable('case_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('case_id', 'integer', (c) => c.notNull().references('cases.id'))
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('actor_open_id', 'text')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('before', 'jsonb')
    .addColumn('after', 'jsonb')
    .addColumn('note', 'text')
    .execute();
  await db.schema.createIndex('case_events_case_idx').on('case_events').columns(['case_id', 'id']).execute();

  await db.schema
    .createTable('contacts')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('case_id', 'integer', (c) => c.notNull().references('cases.id'))
    .addColumn('round', 'integer', (c) => c.notNull())
    .addColumn('contact_date', 'date', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('who', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('note', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('contacts_case_idx').on('contacts').column('case_id').execute();

  await db.schema
    .createTable('replies')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('case_id', 'integer', (c) => c.notNull().references('cases.id'))
    .addColumn('round', 'integer', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('reply', 'opinion')`))
    .addColumn('reply_date', 'date', (c) => c.notNull())
    .addColumn('result_class', 'text')
    .addColumn('disclosure', 'text')
    .addColumn('note', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('due_date', 'date', (c) => c.notNull())
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('replies_case_round_key', ['case_id', 'round'])
    .execute();

  await db.schema
    .createTable('ratings')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('case_id', 'integer', (c) => c.notNull().references('cases.id'))
    .addColumn('round', 'integer', (c) => c.notNull())
    .addColumn('rating', 'text', (c) => c.notNull().check(sql`rating in ('满意', '基本满意', '不满意')`))
    .addColumn('rated_date', 'date', (c) => c.notNull())
    .addColumn('entered_by', 'text', (c) => c.notNull())
    .addColumn('entered_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('ratings_case_round_key', ['case_id', 'round'])
    .execute();

  for (const table of ['extension_requests', 'adjustment_requests'] as const) {
    let t = db.schema
      .createTable(table)
      .addColumn('id', 'serial', (c) => c.primaryKey())
      .addColumn('case_id', 'integer', (c) => c.notNull().references('cases.id'))
      .addColumn('requested_by', 'text', (c) => c.notNull())
      .addColumn('requested_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'approved', 'refused', 'withdrawn')`))
      .addColumn('decided_by', 'text')
      .addColumn('decided_at', 'timestamptz')
      .addColumn('decision_note', 'text');
    if (table === 'extension_requests') {
      t = t.addColumn('until_date', 'date', (c) => c.notNull()).addColumn('previous_due_date', 'date', (c) => c.notNull());
    }
    await t.execute();
    // At most one open request of each kind per case, even under concurrent requests.
    await sql`create unique index ${sql.id(`${table}_one_pending`)} on ${sql.table(table)} (case_id) where status = 'pending'`.execute(db);
  }

  await db.schema
    .createTable('processed_events')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('response', 'jsonb')
    .execute();
  await db.schema.createIndex('processed_events_received_idx').on('processed_events').column('received_at').execute();

  await db.schema
    .createTable('outbox')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('uuid', 'text', (c) => c.notNull().unique())
    .addColumn('op', 'text', (c) => c.notNull().check(sql`op in ('create', 'reply', 'patch')`))
    .addColumn('receive_id', 'text')
    .addColumn('receive_id_type', 'text')
    .addColumn('reply_to', 'text')
    .addColumn('patch_message_id', 'text')
    .addColumn('chat_key', 'text', (c) => c.notNull())
    .addColumn('msg_type', 'text', (c) => c.notNull())
    .addColumn('content', 'jsonb', (c) => c.notNull())
    .addColumn('case_id', 'integer')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending').check(sql`status in ('pending', 'sent', 'failed')`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('locked_until', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('message_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('sent_at', 'timestamptz')
    .execute();
  await sql`create index outbox_due_idx on outbox (next_attempt_at) where status = 'pending'`.execute(db);
  // The sender takes the oldest pending row of each chat, so a chat's messages keep their order.
  await sql`create index outbox_chat_pending_idx on outbox (chat_key, id) where status = 'pending'`.execute(db);

  await db.schema
    .createTable('case_cards')
    .addColumn('message_id', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'integer', (c) => c.notNull().references('cases.id'))
    .addColumn('chat_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('case_cards_case_idx').on('case_cards').column('case_id').execute();

  await db.schema
    .createTable('request_cards')
    .addColumn('message_id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('extension', 'adjustment')`))
    .addColumn('request_id', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('request_cards_request_idx').on('request_cards').columns(['kind', 'request_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    'request_cards',
    'case_cards',
    'outbox',
    'processed_events',
    'adjustment_requests',
    'extension_requests',
    'ratings',
    'replies',
    'contacts',
    'case_events',
    'cases',
    'chats',
    'user_roles',
    'users',
  ]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
