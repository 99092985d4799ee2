import { sql } from 'kysely';
import type { DbOrTrx } from '../storage/database.ts';

// The durable figures /metrics reports: they come from the database, so every instance on one PostgreSQL reports
// the same depths, and a restart does not reset them.

/** Outgoing messages still to be delivered, and those given up on. */
export async function outboxCounts(db: DbOrTrx): Promise<{ pending: number; failed: number }> {
  const rows = await db
    .selectFrom('outbox')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('status', 'in', ['pending', 'failed'])
    .groupBy('status')
    .execute();
  const of = (status: string) => Number(rows.find((r) => r.status === status)?.n ?? 0);
  return { pending: of('pending'), failed: of('failed') };
}

/** Events acknowledged to Lark and not handled yet (the inbox). */
export async function inboxDepth(db: DbOrTrx): Promise<number> {
  const row = await db.selectFrom('inbox').select((eb) => eb.fn.countAll<number>().as('n')).where('handled_at', 'is', null).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Reminders sent so far, as recorded, or null while the table does not exist. */
export async function remindersSent(db: DbOrTrx): Promise<number | null> {
  if (!(await tableExists(db, 'reminders_sent'))) return null;
  const res = await sql<{ n: number }>`select count(*)::int as n from reminders_sent`.execute(db);
  return Number(res.rows[0]?.n ?? 0);
}

// The reminder ledger comes with its own migration; a scrape must not fail on a database that is one migration
// behind (an instance rolled back, or still starting).
async function tableExists(db: DbOrTrx, table: string): Promise<boolean> {
  const res = await sql<{ present: boolean }>`select to_regclass(${table}) is not null as present`.execute(db);
  return res.rows[0]?.present === true;
}
