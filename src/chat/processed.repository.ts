import { sql } from 'kysely';
import type { DbOrTrx } from '../storage/database.ts';
import type { CardResponse } from './card-actions/action.ts';
import { DOUBLE_CLICK_MS } from './middleware.ts';

// Which events and clicks were applied already, and what a click was answered, so a redelivery or a double click
// does nothing and gets the first answer again.

/** Marks an event processed; false when it already was (a redelivery). */
export async function firstDelivery(db: DbOrTrx, eventId: string, type: string): Promise<boolean> {
  const row = await db
    .insertInto('processed_events')
    .values({ event_id: eventId, event_type: type })
    .onConflict((oc) => oc.column('event_id').doNothing())
    .returning('event_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Marks an event handled whatever happened (after a failure the user was told; Lark must not be asked again). */
export async function markFailedDelivery(db: DbOrTrx, eventId: string, type: string): Promise<void> {
  await db.insertInto('processed_events').values({ event_id: eventId, event_type: type }).onConflict((oc) => oc.column('event_id').doNothing()).execute();
}

/**
 * Claims a click key; false when the same click was handled within DOUBLE_CLICK_MS. Concurrent twins meet on the
 * key's row: the second waits for the first to commit, then finds it fresh.
 */
export async function sameClickJustNow(db: DbOrTrx, key: string): Promise<boolean> {
  const mine = await db
    .insertInto('processed_events')
    .values({ event_id: key, event_type: 'card.click' })
    .onConflict((oc) =>
      oc
        .column('event_id')
        .doUpdateSet({ received_at: sql<Date>`now()`, response: null })
        .where('processed_events.received_at', '<', sql<Date>`now() - ${DOUBLE_CLICK_MS}::double precision * interval '1 millisecond'`),
    )
    .returning('event_id')
    .executeTakeFirst();
  return mine !== undefined;
}

/** The answer stored for a click (or its twin), or a neutral one when none was stored. */
export async function clickAlreadyAnswered(db: DbOrTrx, id: string): Promise<CardResponse> {
  const prior = await db.selectFrom('processed_events').select('response').where('event_id', '=', id).executeTakeFirst();
  return (prior?.response as CardResponse | null | undefined) ?? { toast: { type: 'info', content: '该操作已处理。' } };
}

export async function rememberClickAnswer(db: DbOrTrx, ids: readonly string[], response: CardResponse): Promise<void> {
  await db.updateTable('processed_events').set({ response: JSON.stringify(response) }).where('event_id', 'in', [...ids]).execute();
}
