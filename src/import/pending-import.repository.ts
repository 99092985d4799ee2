import type { DbOrTrx } from '../storage/database.ts';
import type { ImportProblem } from './read.ts';

// Imports sent as a file in chat and waiting for 确认导入. Only files without problems are stored: a broken file has
// nothing here to confirm.

export interface PendingImport {
  id: number;
  openId: string;
  chatId: string;
  messageId: string;
  fileName: string;
  /** The validated rows (ImportedCase[]), checked again when read back. */
  cases: unknown;
  warnings: ImportProblem[];
  status: 'pending' | 'applied' | 'cancelled';
  expiresAt: Date;
  decidedBy: string | null;
}

/** Stores a pending import; a second delivery of the same file message returns the first one's id. */
export async function insertPendingImport(
  db: DbOrTrx,
  p: { openId: string; chatId: string; messageId: string; fileName: string; cases: unknown; warnings: ImportProblem[]; ttlMs: number; now: Date },
): Promise<number> {
  const inserted = await db
    .insertInto('pending_imports')
    .values({
      open_id: p.openId,
      chat_id: p.chatId,
      message_id: p.messageId,
      file_name: p.fileName,
      cases: JSON.stringify(p.cases),
      warnings: JSON.stringify(p.warnings),
      created_at: p.now,
      expires_at: new Date(p.now.getTime() + p.ttlMs),
    })
    .onConflict((oc) => oc.column('message_id').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return inserted.id;
  const existing = await db.selectFrom('pending_imports').select('id').where('message_id', '=', p.messageId).executeTakeFirstOrThrow();
  return existing.id;
}

/** The pending import, locked until the caller's transaction ends (so two 确认导入 clicks apply it once). */
export async function lockPendingImport(db: DbOrTrx, id: number): Promise<PendingImport | undefined> {
  const r = await db.selectFrom('pending_imports').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  if (!r) return undefined;
  return {
    id: r.id,
    openId: r.open_id,
    chatId: r.chat_id,
    messageId: r.message_id,
    fileName: r.file_name,
    cases: typeof r.cases === 'string' ? JSON.parse(r.cases) : r.cases,
    warnings: (typeof r.warnings === 'string' ? JSON.parse(r.warnings) : r.warnings) as ImportProblem[],
    status: r.status,
    expiresAt: new Date(r.expires_at),
    decidedBy: r.decided_by,
  };
}

/** Records the decision on a pending import; false when it was no longer pending. */
export async function decidePendingImport(db: DbOrTrx, id: number, status: 'applied' | 'cancelled', by: string, now: Date): Promise<boolean> {
  const res = await db
    .updateTable('pending_imports')
    .set({ status, decided_by: by, decided_at: now, cases: JSON.stringify([]) })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Forgets imports that expired over a week ago. */
export async function purgeOldPendingImports(db: DbOrTrx, now: Date): Promise<void> {
  await db
    .deleteFrom('pending_imports')
    .where('expires_at', '<', new Date(now.getTime() - 7 * 24 * 3600_000))
    .execute();
}
