import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { DbOrTrx } from '../storage/database.ts';

// Every message Banli sends is first written here, in the transaction of the change that caused it, so a change and
// its messages commit together; the sender (outbox-sender.ts) delivers them.

/** What an outbox row carries: a finished Lark content object, or a case card rendered fresh when it is sent. */
export type OutboxContent = { kind: 'text'; text: string } | { kind: 'card'; card: object } | { kind: 'file' } | LiveCard;

/**
 * A card drawn from the database when it is sent, remembered by message id, and redrawn in place when what it shows
 * changes: a case card, or a coordinator's decision card for an extension or adjustment request.
 */
export type LiveCard =
  | { kind: 'case_card'; caseId: number; notice?: string }
  | { kind: 'request_card'; requestKind: 'extension' | 'adjustment'; requestId: number }
  /** A reminder digest or 督办 card: drawn when sent (reminders no longer needed are left off) and redrawn as its cases move on. */
  | { kind: 'reminder_card'; cardId: number; /** a 督办 card to be buzzed once delivered (absent in rows queued before this was carried) */ urgent?: boolean };

/** Lark updates a message only within 14 days of sending it: the cards sent since then can be patched. */
export const PATCHABLE_SINCE = sql<Date>`now() - interval '14 days'`;

export type Target =
  | { chatId: string }
  | { openId: string }
  /** Reply in the thread of a message (its chat is given for rate limits). */
  | { replyTo: string; chatId: string };

/** Where an outbox row goes: the operation and its addressee, and the queue (chat_key) it waits in. */
export function targetColumns(target: Target) {
  if ('replyTo' in target) return { op: 'reply' as const, reply_to: target.replyTo, chat_key: target.chatId };
  if ('chatId' in target) return { op: 'create' as const, receive_id: target.chatId, receive_id_type: 'chat_id', chat_key: target.chatId };
  return { op: 'create' as const, receive_id: target.openId, receive_id_type: 'open_id', chat_key: `user:${target.openId}` };
}

function msgType(c: OutboxContent): 'text' | 'interactive' | 'file' {
  return c.kind === 'text' ? 'text' : c.kind === 'file' ? 'file' : 'interactive';
}

/** Lark's upload limit for a file the bot sends. */
export const MAX_SEND_FILE_BYTES = 30 * 1024 * 1024;

/** A file to send: its name as the recipient sees it and its bytes. */
export interface OutgoingFile {
  fileName: string;
  bytes: Uint8Array;
}

// im.file.create's file_type: Lark's own types where one fits (it previews them), else 'stream'.
function larkFileType(fileName: string): string {
  const ext = fileName.toLowerCase().split('.').pop() ?? '';
  if (ext === 'xlsx' || ext === 'xls' || ext === 'csv') return 'xls';
  if (ext === 'doc' || ext === 'docx') return 'doc';
  if (ext === 'pdf') return 'pdf';
  return 'stream';
}

/**
 * Queues a file message. The bytes are stored with the row until Lark has the file, so an outage delays it and a
 * restart loses nothing; the sender uploads once (keeping the file_key) and sends under the row's uuid.
 */
export async function enqueueFile(db: DbOrTrx, target: Target, file: OutgoingFile): Promise<string> {
  if (file.bytes.length === 0) throw new RangeError(`enqueueFile: ${file.fileName} is empty; Lark refuses empty files`);
  if (file.bytes.length > MAX_SEND_FILE_BYTES) throw new RangeError(`enqueueFile: ${file.fileName} is over Lark's 30 MB`);
  const uuid = randomUUID();
  const base = {
    uuid,
    msg_type: 'file',
    content: JSON.stringify({ kind: 'file' } satisfies OutboxContent),
    case_id: null,
    file_name: file.fileName,
    file_type: larkFileType(file.fileName),
    file_bytes: file.bytes,
  };
  await db.insertInto('outbox').values({ ...base, ...targetColumns(target) }).execute();
  return uuid;
}

/** Queues a new message (or a reply) to be sent; returns its uuid (Lark's idempotency key). */
export async function enqueueMessage(db: DbOrTrx, target: Target, content: OutboxContent): Promise<string> {
  const uuid = randomUUID();
  const base = {
    uuid,
    msg_type: msgType(content),
    content: JSON.stringify(content),
    case_id: content.kind === 'case_card' ? content.caseId : null,
  };
  await db.insertInto('outbox').values({ ...base, ...targetColumns(target) }).execute();
  return uuid;
}

/**
 * Queues an in-place update of every card that shows this case, in one statement. `answered` is a card Lark redraws
 * from a click's answer: it is remembered (later changes patch it) but not patched now.
 */
export async function enqueueCaseCardUpdates(db: DbOrTrx, caseId: number, answered?: { messageId: string; chatId: string | null }): Promise<void> {
  const content = JSON.stringify({ kind: 'case_card', caseId } satisfies OutboxContent);
  const remember = answered
    ? sql`with remembered as (
        insert into case_cards (message_id, case_id, chat_id) values (${answered.messageId}, ${caseId}, ${answered.chatId})
        on conflict (message_id) do nothing)`
    : sql``;
  // Older cards than PATCHABLE_SINCE are left as they are.
  await sql`${remember}
    insert into outbox (uuid, op, patch_message_id, chat_key, msg_type, content, case_id)
    select gen_random_uuid()::text, 'patch', message_id, coalesce(chat_id, message_id), 'interactive', ${content}::jsonb, ${caseId}
    from case_cards
    where case_id = ${caseId} and created_at > ${PATCHABLE_SINCE}
      ${answered ? sql`and message_id <> ${answered.messageId}` : sql``}
    order by created_at, message_id`.execute(db);
}

/** Queues an in-place update of one card (a click's card whose answer came too late for Lark to redraw it). */
export async function enqueueCardPatch(db: DbOrTrx, messageId: string, chatId: string | null, card: LiveCard): Promise<void> {
  await enqueuePatches(db, [{ messageId, chatKey: chatId ?? messageId, card }]);
}

/** Remembers that a message shows a case, so later changes update it in place. */
export async function rememberCaseCard(db: DbOrTrx, messageId: string, caseId: number, chatId: string | null): Promise<void> {
  await db
    .insertInto('case_cards')
    .values({ message_id: messageId, case_id: caseId, chat_id: chatId })
    .onConflict((oc) => oc.column('message_id').doNothing())
    .execute();
}

/** Remembers a decision card, so that the decision (by any coordinator) or a withdrawal redraws every copy of it. */
export async function rememberRequestCard(db: DbOrTrx, messageId: string, kind: 'extension' | 'adjustment', requestId: number): Promise<void> {
  await db
    .insertInto('request_cards')
    .values({ message_id: messageId, kind, request_id: requestId })
    .onConflict((oc) => oc.column('message_id').doNothing())
    .execute();
}

/** Queues an in-place update of every decision card of a request. */
export async function enqueueRequestCardUpdates(db: DbOrTrx, kind: 'extension' | 'adjustment', requestId: number): Promise<number> {
  const cards = await db
    .selectFrom('request_cards')
    .select('message_id')
    .where('kind', '=', kind)
    .where('request_id', '=', requestId)
    .where('created_at', '>', PATCHABLE_SINCE)
    .execute();
  await enqueuePatches(db, cards.map((c) => ({ messageId: c.message_id, chatKey: c.message_id, card: { kind: 'request_card', requestKind: kind, requestId } })));
  return cards.length;
}

/** An in-place update of a sent card: the message, the queue it waits in (behind that message's own send), and what
 *  to draw; caseId is the case whose change it shows, when there is one. */
export interface CardPatch {
  messageId: string;
  chatKey: string;
  card: LiveCard;
  caseId?: number | null;
}

/**
 * Queues in-place updates of sent cards, in one statement. Lark updates a message only within 14 days of sending it;
 * the callers pick cards younger than that.
 */
export async function enqueuePatches(db: DbOrTrx, patches: readonly CardPatch[]): Promise<void> {
  if (patches.length === 0) return;
  await db
    .insertInto('outbox')
    .values(
      patches.map((p) => ({
        // A patch carries no uuid to Lark; the column only has to be unique.
        uuid: randomUUID(),
        op: 'patch' as const,
        patch_message_id: p.messageId,
        chat_key: p.chatKey,
        msg_type: 'interactive',
        content: JSON.stringify(p.card satisfies OutboxContent),
        case_id: p.caseId !== undefined ? p.caseId : p.card.kind === 'case_card' ? p.card.caseId : null,
      })),
    )
    .execute();
}

/** Releases every pending row's claim: for a database only this process can use, where a claim left behind belongs to
 *  a run that died. */
export async function releaseOutboxClaims(db: DbOrTrx): Promise<void> {
  await db.updateTable('outbox').set({ locked_until: null }).where('status', '=', 'pending').where('locked_until', 'is not', null).execute();
}
