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
//   hand, changes that state, so the shortcut is only taken when the plan would come out all "unchanged" (and see
//   ImportWatch for changes made while the import itself runs).
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

interface DatabaseState {
  cases: bigint;
  casesXmin: bigint;
  requests: bigint;
  requestsXmin: bigint;
}

const stateText = (s: DatabaseState) => `${s.cases} ${s.casesXmin} ${s.requests} ${s.requestsXmin}`;

/** The state of what an import plan reads (see the note at the top). */
async function databaseState(db: DbOrTrx): Promise<DatabaseState> {
  const { rows } = await sql<{ cases: string; cases_xmin: string; requests: string; requests_xmin: string }>`
    select
      (select count(*) from cases)::text as cases,
      (select coalesce(sum(xmin::text::bigint), 0) from cases)::text as cases_xmin,
      (select count(*) from extension_requests)::text as requests,
      (select coalesce(sum(xmin::text::bigint), 0) from extension_requests)::text as requests_xmin`.execute(db);
  const r = rows[0];
  if (!r) throw new Error('no database state');
  return { cases: BigInt(r.cases), casesXmin: BigInt(r.cases_xmin), requests: BigInt(r.requests), requestsXmin: BigInt(r.requests_xmin) };
}

/** The last commit's outcome when it was of this very file and the database has not changed since; else undefined. */
export async function unchangedSinceLastImport(db: DbOrTrx, digest: string): Promise<RememberedImport | undefined> {
  const last = await db.selectFrom('import_fingerprints').select(['database_state', 'rows', 'warnings']).where('file_digest', '=', digest).executeTakeFirst();
  if (!last || last.database_state !== stateText(await databaseState(db))) return undefined;
  return { rows: last.rows, warnings: last.warnings as ImportProblem[] };
}

/**
 * Follows one import commit, so that what it remembers is exactly what its plan saw plus its own writes. On
 * PostgreSQL the bot may change a case while the import runs (in another transaction, committed before this one):
 * such a change is in neither the plan nor this import's writes, and remembering a state that includes it would let
 * the next run of the same file miss it. So the state is taken before planning, the import's own writes are added to
 * it, and the import is remembered only when the state at its end is exactly that.
 */
export class ImportWatch {
  #updatedXmin = 0n;
  #updated = 0n;

  private constructor(private readonly before: DatabaseState) {}

  /** Call first in the import's transaction, before planning. */
  static async start(trx: DbOrTrx): Promise<ImportWatch> {
    return new ImportWatch(await databaseState(trx));
  }

  /** Call after planning, before writing: the cases the plan will update. */
  async beforeWrites(trx: DbOrTrx, updatedCaseIds: readonly number[]): Promise<void> {
    this.#updated = BigInt(updatedCaseIds.length);
    if (updatedCaseIds.length === 0) return;
    const { rows } = await sql<{ xmin: string }>`
      select coalesce(sum(xmin::text::bigint), 0)::text as xmin from cases
      where id in (select (jsonb_array_elements_text(${JSON.stringify(updatedCaseIds)}::jsonb))::integer)`.execute(trx);
    this.#updatedXmin = BigInt(rows[0]?.xmin ?? '0');
  }

  /** Call after the last write: remembers this file for the next run, or forgets any file when the state moved. */
  async remember(trx: DbOrTrx, digest: string, outcome: RememberedImport, created: number): Promise<void> {
    const { rows } = await sql<{ xid: string }>`select (txid_current() % 4294967296)::text as xid`.execute(trx);
    const xid = BigInt(rows[0]?.xid ?? '0');
    const written = BigInt(created) + this.#updated;
    const expected: DatabaseState = {
      cases: this.before.cases + BigInt(created),
      casesXmin: this.before.casesXmin + written * xid - this.#updatedXmin,
      requests: this.before.requests,
      requestsXmin: this.before.requestsXmin,
    };
    const now = await databaseState(trx);
    await trx.deleteFrom('import_fingerprints').execute();
    if (stateText(now) !== stateText(expected)) return;
    await trx
      .insertInto('import_fingerprints')
      .values({ file_digest: digest, database_state: stateText(now), rows: outcome.rows, warnings: JSON.stringify(outcome.warnings) })
      .execute();
  }
}
