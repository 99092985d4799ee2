import { sql, type Kysely } from 'kysely';

// Every change to a case looks for the reminder cards that list it, to redraw them: supervision cards name the case in
// reminder_cards.case_id, digests through reminders_sent (indexed by case). Without an index on the first, each click
// read the whole reminder_cards table, which grows by a card per person and chat every working day.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index reminder_cards_case_idx on reminder_cards (case_id, created_at) where case_id is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index reminder_cards_case_idx`.execute(db);
}
