import { sql } from 'kysely';
import type { DbOrTrx } from '../storage/database.ts';
import type { InboxRow } from '../storage/schema.ts';

// The inbox's SQL. A row is "unfinished" while handled_at IS NULL; whoever handles it holds a lease (owner + until)
// so that other instances leave it alone until the lease runs out (its holder died, or is stuck).

export const MESSAGE_EVENT = 'im.message.receive_v1';
export const CLICK_EVENT = 'card.action.trigger';

export interface NewInboxEvent {
  eventId: string;
  eventType: string;
  chatKey: string;
  payload: unknown;
  clickKey: string | null;
  /** Taken by the receiving instance at once (a click it answers inline), or left for any instance (a message). */
  leaseOwner: string | null;
}

/** What storing an event found: the row, and whether this delivery created it. */
export interface StoredEvent {
  id: number;
  eventId: string;
  fresh: boolean;
  handled: boolean;
  answer: unknown;
  /**
   * For a fresh click: the latest earlier click with the same click key received within the double-click window
   * before it (the click it doubles), if any.
   */
  twin?: number | undefined;
}

/**
 * Stores a batch of events in one statement; events already there are left as they are. The same statement finds, for
 * each new click, an earlier click with the same click key within `doubleClickMs` (its twin): one stored before this
 * statement, or one earlier in the same batch. The result has one entry per distinct event id.
 */
export async function storeEvents(db: DbOrTrx, events: NewInboxEvent[], leaseMs: number, doubleClickMs = 0): Promise<Map<string, StoredEvent>> {
  const out = new Map<string, StoredEvent>();
  if (events.length === 0) return out;
  // One statement of one shape whatever the batch size (the batch travels as one JSON parameter), so it is prepared
  // once; rows are inserted in the batch's order, which is the arrival order their ids keep.
  const batch = JSON.stringify(
    events.map((e) => ({ event_id: e.eventId, event_type: e.eventType, chat_key: e.chatKey, payload: e.payload, click_key: e.clickKey, lease_owner: e.leaseOwner })),
  );
  const { rows: inserted } = await sql<{ id: string | number; event_id: string; click_key: string | null; twin: string | number | null }>`
    with ins as (
      insert into inbox (event_id, event_type, chat_key, payload, click_key, lease_owner, lease_until)
      select e.j->>'event_id', e.j->>'event_type', e.j->>'chat_key', e.j->'payload', e.j->>'click_key', e.j->>'lease_owner',
        case when e.j->>'lease_owner' is null then null else now() + ${leaseMs}::double precision * interval '1 millisecond' end
      from jsonb_array_elements(${batch}::jsonb) with ordinality as e(j, n)
      order by e.n
      on conflict (event_id) do nothing
      returning id, event_id, click_key, received_at
    )
    select ins.id, ins.event_id, ins.click_key,
      (select t.id from inbox t
        where t.click_key = ins.click_key and t.id < ins.id
          and t.received_at > ins.received_at - ${doubleClickMs}::double precision * interval '1 millisecond'
        order by t.id desc limit 1) as twin
    from ins order by ins.id`.execute(db);
  // The statement cannot see the rows it inserts itself: a twin earlier in this batch is found here.
  const lastOfKey = new Map<string, number>();
  for (const r of inserted) {
    const id = Number(r.id);
    const inBatch = r.click_key !== null && doubleClickMs > 0 ? lastOfKey.get(r.click_key) : undefined;
    const stored = r.twin === null || r.twin === undefined ? undefined : Number(r.twin);
    const twin = r.click_key !== null && doubleClickMs > 0 ? (inBatch ?? stored) : undefined;
    if (r.click_key !== null) lastOfKey.set(r.click_key, id);
    out.set(r.event_id, { id, eventId: r.event_id, fresh: true, handled: false, answer: null, twin });
  }
  const known = events.map((e) => e.eventId).filter((id) => !out.has(id));
  if (known.length > 0) {
    const rows = await db.selectFrom('inbox').select(['id', 'event_id', 'handled_at', 'answer']).where('event_id', 'in', known).execute();
    for (const r of rows) out.set(r.event_id, { id: Number(r.id), eventId: r.event_id, fresh: false, handled: r.handled_at !== null, answer: r.answer });
  }
  return out;
}

/**
 * Leases what is due to be handled now: the oldest unfinished message of each chat (a chat's later messages wait for
 * it, whichever instance holds it), and clicks whose instance let its lease run out. Each taken row counts an attempt.
 */
export async function takeDue(db: DbOrTrx, owner: string, leaseMs: number, limit: number): Promise<InboxRow[]> {
  if (limit <= 0) return [];
  const lease = sql<Date>`now() + ${leaseMs}::double precision * interval '1 millisecond'`;
  const result = await sql<InboxRow>`
    with heads as (
      select distinct on (chat_key) id, lease_until
      from inbox
      where handled_at is null and event_type = ${MESSAGE_EVENT}
      order by chat_key, id
    ),
    due as (
      (select id from heads where lease_until is null or lease_until < now() order by id limit ${limit})
      union all
      (select id from inbox where handled_at is null and event_type <> ${MESSAGE_EVENT} and (lease_until is null or lease_until < now()) order by id limit ${limit})
    )
    update inbox set lease_owner = ${owner}, lease_until = ${lease}, attempts = attempts + 1
    where id in (select id from due)
      and handled_at is null and (lease_until is null or lease_until < now())
    returning *
  `.execute(db);
  return result.rows.map((r) => ({ ...r, id: Number(r.id) })).sort((a, b) => a.id - b.id);
}

/** Whether anything could be taken right now (a message at the head of its chat, or an abandoned click). */
export async function hasDue(db: DbOrTrx): Promise<boolean> {
  const r = await sql<{ one: number }>`
    select 1 as one from inbox i
    where i.handled_at is null and (i.lease_until is null or i.lease_until < now())
      and (i.event_type <> ${MESSAGE_EVENT}
           or not exists (select 1 from inbox o where o.chat_key = i.chat_key and o.id < i.id and o.handled_at is null and o.event_type = ${MESSAGE_EVENT}))
    limit 1
  `.execute(db);
  return r.rows.length > 0;
}

/** Thrown inside a handler's transaction when the row was finished by someone else meanwhile: roll back. */
export class AlreadyHandledError extends Error {
  override name = 'AlreadyHandledError';
}

/** Marks a row handled (with its answer), in the caller's transaction; throws AlreadyHandledError when it was already. */
export async function markHandled(db: DbOrTrx, id: number, answer: unknown, error: string | null = null): Promise<void> {
  const row = await db
    .updateTable('inbox')
    .set({ handled_at: sql<Date>`now()`, answer: answer === undefined || answer === null ? null : JSON.stringify(answer), last_error: error, lease_owner: null, lease_until: null })
    .where('id', '=', id)
    .where('handled_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  if (!row) throw new AlreadyHandledError(`inbox row ${id} was already handled`);
}

/** Gives a row back after a failed attempt: nobody takes it again before `retryInMs`. */
export async function releaseForRetry(db: DbOrTrx, id: number, owner: string, retryInMs: number, error: string): Promise<void> {
  await db
    .updateTable('inbox')
    .set({ lease_owner: null, lease_until: sql<Date>`now() + ${retryInMs}::double precision * interval '1 millisecond'`, last_error: error })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .where('handled_at', 'is', null)
    .execute();
}

/** Extends the leases this instance holds on rows it is still working on. */
export async function renewLeases(db: DbOrTrx, owner: string, ids: number[], leaseMs: number): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('inbox')
    .set({ lease_until: sql<Date>`now() + ${leaseMs}::double precision * interval '1 millisecond'` })
    .where('id', 'in', ids)
    .where('lease_owner', '=', owner)
    .where('handled_at', 'is', null)
    .execute();
}

/** Frees every lease: only when this process is known to be the database's sole user (the embedded database). */
export async function freeAllLeases(db: DbOrTrx): Promise<void> {
  await db.updateTable('inbox').set({ lease_owner: null, lease_until: null }).where('handled_at', 'is', null).where('lease_owner', 'is not', null).execute();
}

/** Whether a row is finished, and its stored answer. */
export async function findOutcome(db: DbOrTrx, id: number): Promise<{ handled: boolean; answer: unknown } | undefined> {
  const r = await db.selectFrom('inbox').select(['handled_at', 'answer']).where('id', '=', id).executeTakeFirst();
  return r ? { handled: r.handled_at !== null, answer: r.answer } : undefined;
}

/** Forgets handled events older than the retention (Lark has stopped resending them long before). */
export async function pruneHandled(db: DbOrTrx, olderThan: Date): Promise<number> {
  const r = await db.deleteFrom('inbox').where('handled_at', '<', olderThan).executeTakeFirst();
  return Number(r.numDeletedRows);
}
