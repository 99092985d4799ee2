import { sql } from 'kysely';
import type { DbOrTrx } from '../storage/database.ts';

// The sandbox's writes that no chat command makes: the world it starts with, and wiping it for a reset.

/** Binds a chat to a section and grants roles, as a coordinator would have done by chat commands. */
export async function seedWorld(
  db: DbOrTrx,
  world: { chatId: string; unit: string; people: ReadonlyArray<{ openId: string; name: string; role: string }>; seededBy: string },
): Promise<void> {
  for (const person of world.people) {
    await db
      .insertInto('users')
      .values({ open_id: person.openId, name: person.name, name_fetched_at: new Date() })
      .onConflict((oc) => oc.column('open_id').doNothing())
      .execute();
  }
  await db
    .insertInto('chats')
    .values({ chat_id: world.chatId, unit: world.unit, bound_by: world.seededBy, bound_at: new Date() })
    .onConflict((oc) => oc.column('chat_id').doNothing())
    .execute();
  for (const person of world.people) {
    if (person.role !== 'coordinator' && person.role !== 'leader') continue;
    await db
      .insertInto('user_roles')
      .values({ open_id: person.openId, role: person.role as 'coordinator' | 'leader', granted_by: world.seededBy })
      .onConflict((oc) => oc.columns(['open_id', 'role']).doNothing())
      .execute();
  }
}

/** A person's new name, effective at once (Banli would otherwise learn it at the next contact lookup). */
export async function renamePerson(db: DbOrTrx, openId: string, name: string): Promise<void> {
  await db
    .insertInto('users')
    .values({ open_id: openId, name, name_fetched_at: new Date() })
    .onConflict((oc) => oc.column('open_id').doUpdateSet({ name, name_fetched_at: new Date() }))
    .execute();
}

/** How many cases there are (the sandbox loads its samples into an empty database). */
export async function caseCount(db: DbOrTrx): Promise<number> {
  const row = await db.selectFrom('cases').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Empties every table of the schema (never the migration bookkeeping): the sandbox's reset. */
export async function wipeAll(db: DbOrTrx): Promise<void> {
  const tables = await sql<{ tablename: string }>`
    select tablename from pg_tables where schemaname = current_schema() and tablename not like 'kysely_%'`.execute(db);
  const names = tables.rows.map((r) => r.tablename);
  if (names.length === 0) return;
  await sql`truncate table ${sql.join(names.map((n) => sql.id(n)))} restart identity cascade`.execute(db);
}
