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
