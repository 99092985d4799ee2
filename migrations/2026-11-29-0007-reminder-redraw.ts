import type { Kysely } from 'kysely';

// A reminder card drawn for its first send can still be on its way to Lark when a case it lists changes. Until Lark
// answers there is no message to patch, so the change marks the card instead (redraw), and recording the card's
// message id queues the patch when the mark is there: a card that left a moment before the change is redrawn too.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('reminder_cards')
    .addColumn('redraw', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('reminder_cards').dropColumn('redraw').execute();
}
