import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { DbOrTrx } from '../storage/database.ts';
import type { ImportProblem } from './read.ts';

// Re-importing the file last imported, onto a database nobody changed since, changes nothing: every row is then
// "unchanged". The command-line import recognises that case without reading the file again or planning row by row.
//
// What is remembered with a commit (one row, the last commit's):
// - the file's digest: its bytes, its type and READ_RULES (bump it whenever reading or checking a file changes what a
//   file means, so that an old digest no longer matches);
// - the state of every table the plan reads (cases and extension_requests): row count, and the sum of each row's
//   xmin, the id of the transaction that wrote that row version. Any insert, update or delete there, by Banli or by
//   hand, changes that state, so the shortcut is only taken when the plan would come out all "unchanged".
// Anything else (a different file, a changed database, an old fingerprint) takes the full path.

const READ_RULES = 'banli-import-1';

export interface RememberedImport {
  rows: number;
  warnings: ImportProblem[];
}

/** The digest of a file as an import reads it. */
export function importFileDigest(fileName: string, bytes: Uint8Array): string {
  const ext = fileName.slice(fileName.lastIndexOf('.')).toLowerCase();
  return createHash('sha256').update(`${READ_RULES}\0${ext}\0`).update(bytes).digest('hex');
}

/** The state of what an import plan reads, as one string (see the note at the top). */
async function databaseState(db: DbOrTrx): Promise<string> {
  const { rows } = await sql<{ state: string }>`
    select concat_ws(' ',
      (select count(*) from cases),
      (select coalesce(sum(xmin::text::bigint), 0) from cases),
      (select coalesce(sum(version), 0) from cases),
      (select count(*) from extension_requests),
      (select coalesce(sum(xmin::text::bigint), 0) from extension_requests)
    ) as state`.execute(db);
  return rows[0]?.state ?? '';
}

/** The last commit's outcome when it was of this very file and the database has not changed since; else undefined. */
export async function unchangedSinceLastImport(db: DbOrTrx, digest: string): Promise<RememberedImport | undefined> {
  const last = await db.selectFrom('import_fingerprints').select(['database_state', 'rows', 'warnings']).where('file_digest', '=', digest).executeTakeFirst();
  if (!last || last.database_state !== (await databaseState(db))) return undefined;
  return { rows: last.rows, warnings: last.warnings as ImportProblem[] };
}

/** Remembers a commit of this file, inside its transaction and after its last write (so the state includes them). */
export async function rememberImport(trx: DbOrTrx, digest: string, outcome: RememberedImport): Promise<void> {
  const state = await databaseState(trx);
  await trx.deleteFrom('import_fingerprints').execute();
  await trx
    .insertInto('import_fingerprints')
    .values({ file_digest: digest, database_state: state, rows: outcome.rows, warnings: JSON.stringify(outcome.warnings) })
    .execute();
}
