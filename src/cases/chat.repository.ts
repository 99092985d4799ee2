import { sql } from 'kysely';
import type { StaffRole } from '../domain/types.ts';
import type { DbOrTrx } from '../storage/database.ts';

// The chats the bot is in and the section each is bound to.

/** Makes sure the chat has a row (the first message from it creates one). */
export async function ensureChat(db: DbOrTrx, chatId: string): Promise<void> {
  await db.insertInto('chats').values({ chat_id: chatId }).onConflict((oc) => oc.column('chat_id').doNothing()).execute();
}

/** The section a chat is bound to, or null. */
export async function chatUnit(db: DbOrTrx, chatId: string): Promise<string | null> {
  const row = await db.selectFrom('chats').select('unit').where('chat_id', '=', chatId).executeTakeFirst();
  return row?.unit ?? null;
}

export async function bindChat(db: DbOrTrx, chatId: string, unit: string, boundBy: string): Promise<void> {
  await db.updateTable('chats').set({ unit, bound_by: boundBy, bound_at: new Date() }).where('chat_id', '=', chatId).execute();
}

/** Who clicked, as one read tells it: their users row (if any), their roles, and the section of the chat. */
export interface OperatorRow {
  known: boolean;
  name: string | null;
  name_fetched_at: Date | null;
  roles: StaffRole[];
  chatUnit: string | null;
}

/** The operator of a click and the unit of its chat, in one statement (a click is answered within 3 s). */
export async function operatorOf(db: DbOrTrx, openId: string, chatId: string | null): Promise<OperatorRow> {
  const result = await sql<{ known: boolean; name: string | null; name_fetched_at: Date | string | null; roles: StaffRole[]; unit: string | null }>`
    select u.open_id is not null as known, u.name, u.name_fetched_at,
      coalesce((select json_agg(role order by role) from user_roles where open_id = ${openId}), '[]'::json) as roles,
      ${chatId ? sql`(select unit from chats where chat_id = ${chatId})` : sql`null::text`} as unit
    from (select 1) as one left join users u on u.open_id = ${openId}`.execute(db);
  const r = result.rows[0];
  return {
    known: r?.known ?? false,
    name: r?.name ?? null,
    name_fetched_at: r?.name_fetched_at ? new Date(r.name_fetched_at) : null,
    roles: r?.roles ?? [],
    chatUnit: r?.unit ?? null,
  };
}
