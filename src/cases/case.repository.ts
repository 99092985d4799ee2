import { sql } from 'kysely';
import { PROMISE_CLASS, type Actor, type CaseKind, type CaseState, type CaseStatus, type Disclosure, type OurRole, type Person, type StaffRole } from '../domain/types.ts';
import { OPEN_STATUSES, REPLY_CLOCK_STATUSES } from '../domain/case-rules.ts';
import type { TimelineFact } from '../domain/timeline.ts';
import type { CaseChange, Decision, Effect } from '../domain/workflow.ts';
import type { DbOrTrx } from '../storage/database.ts';
import type { Written } from './case-snapshot.ts';
import { loadCaseSnapshot } from './case-snapshot.repository.ts';
import type { Selectable } from 'kysely';
import type { AdjustmentRequestsTable, CaseRow, CaseUpdate, NewCase } from '../storage/schema.ts';

// Rows are mapped to domain types here and only here. Repository functions never decide anything.

export class StaleCaseError extends Error {
  override name = 'StaleCaseError';
  constructor(readonly caseId: number) {
    super(`case ${caseId} changed while it was being updated`);
  }
}

/** A fallback name for someone we could not look up (the end of their open_id, so two unknowns differ). */
export function unknownName(openId: string): string {
  return `用户${openId.slice(-4)}`;
}

export async function findCaseRow(db: DbOrTrx, caseId: number): Promise<CaseRow | undefined> {
  return db.selectFrom('cases').selectAll().where('id', '=', caseId).executeTakeFirst();
}

/** Cases whose number is exactly `digits`, or, failing that, ends with it (a staff member's short form). */
export async function findCasesByNumber(db: DbOrTrx, digits: string): Promise<CaseRow[]> {
  const exact = await db.selectFrom('cases').selectAll().where('case_no', '=', digits).orderBy('id').execute();
  if (exact.length > 0) return exact;
  return db
    .selectFrom('cases')
    .selectAll()
    .where('case_no', 'like', `%${digits.replace(/[%_\\]/g, '')}`)
    .where('status', '!=', 'adjusted')
    .orderBy('case_no')
    .limit(6)
    .execute();
}

/** Cases with any of these numbers (of any kind and year). */
export async function casesNumbered(db: DbOrTrx, caseNos: readonly string[]): Promise<CaseRow[]> {
  if (caseNos.length === 0) return [];
  // One parameter however many numbers: a year's batch as an IN list would be 10,000 parameters to bind.
  return db
    .selectFrom('cases')
    .selectAll()
    .where(sql<boolean>`case_no in (select jsonb_array_elements_text(${JSON.stringify(caseNos)}::jsonb))`)
    .execute();
}

/** Which of these cases had an extension approved (their due date is then no longer the import's to set). */
export async function casesWithApprovedExtension(db: DbOrTrx, caseIds: readonly number[]): Promise<Set<number>> {
  if (caseIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('extension_requests')
    .select('case_id')
    .where('status', '=', 'approved')
    .where(sql<boolean>`case_id in (select (jsonb_array_elements_text(${JSON.stringify(caseIds)}::jsonb))::integer)`)
    .execute();
  return new Set(rows.map((r) => r.case_id));
}

/** A case an import creates, with what its timeline's first entry says. */
export interface ImportedNewCase {
  case: Omit<NewCase, 'assisting_units'> & { assisting_units: string[] };
  facts: TimelineFact;
  after: Record<string, unknown>;
}

/**
 * Inserts imported cases and the timeline entry of each in one statement (the rows travel as one jsonb parameter),
 * in the order given. Returns how many were inserted.
 */
export async function insertImportedCases(db: DbOrTrx, rows: readonly ImportedNewCase[], actorOpenId: string | null): Promise<number> {
  if (rows.length === 0) return 0;
  const data = JSON.stringify(rows.map((r, ord) => ({ ...r.case, ord, facts: r.facts, after: r.after })));
  const inserted = await sql<{ n: number }>`
    with v as (
      select * from jsonb_to_recordset(${data}::jsonb) as v(
        ord integer, kind text, year integer, case_no text, session text, title text, proposer text, role_label text,
        role text, lead_unit text, assisting_units jsonb, unit text, assigned_date date, fixed_due_date date,
        reply_due_date date, disclosure text, status text, facts jsonb, after jsonb)
    ),
    c as (
      insert into cases (kind, year, case_no, session, title, proposer, role_label, role, lead_unit, assisting_units, unit,
                         assigned_date, fixed_due_date, reply_due_date, disclosure, status)
      select kind, year, case_no, session, title, proposer, role_label, role, lead_unit, assisting_units, unit,
             assigned_date, fixed_due_date, reply_due_date, disclosure, status
      from v order by ord
      returning id, kind, year, case_no
    ),
    e as (
      insert into case_events (case_id, actor_open_id, type, before, after, facts)
      select c.id, ${actorOpenId}::text, v.facts->>'type', null, v.after, v.facts
      from v join c on c.kind = v.kind and c.year = v.year and c.case_no = v.case_no
      order by v.ord
      returning 1
    )
    select (select count(*) from c)::integer as n, (select count(*) from e)::integer as events`.execute(db);
  return inserted.rows[0]?.n ?? 0;
}

// How each import-owned column is read back from the jsonb of a batched update.
const IMPORTED_COLUMNS: Record<string, string> = {
  session: "v.s->>'session'",
  title: "v.s->>'title'",
  proposer: "v.s->>'proposer'",
  role_label: "v.s->>'role_label'",
  role: "v.s->>'role'",
  lead_unit: "v.s->>'lead_unit'",
  assisting_units: "v.s->'assisting_units'",
  unit: "v.s->>'unit'",
  assigned_date: "(v.s->>'assigned_date')::date",
  fixed_due_date: "(v.s->>'fixed_due_date')::date",
  disclosure: "v.s->>'disclosure'",
  reply_due_date: "(v.s->>'reply_due_date')::date",
};

/**
 * Updates the fields an import owns on many cases in one statement, each only if still at its `version`; each row
 * sets just the fields in its `set`. Returns the ids updated (a missing one moved on meanwhile).
 */
export async function updateImportedFieldsOfMany(
  db: DbOrTrx,
  rows: Array<{ caseId: number; version: number; set: Record<string, unknown> }>,
): Promise<Set<number>> {
  if (rows.length === 0) return new Set();
  for (const r of rows) for (const field of Object.keys(r.set)) if (!(field in IMPORTED_COLUMNS)) throw new Error(`not an imported field: ${field}`);
  const assignments = Object.entries(IMPORTED_COLUMNS).map(
    ([field, value]) => sql`${sql.ref(field)} = case when v.s ? ${field} then ${sql.raw(value)} else c.${sql.ref(field)} end`,
  );
  const data = JSON.stringify(rows.map((r) => ({ id: r.caseId, version: r.version, s: r.set })));
  const updated = await sql<{ id: number }>`
    update cases as c set ${sql.join(assignments)}, version = c.version + 1, updated_at = now()
    from jsonb_to_recordset(${data}::jsonb) as v(id integer, version integer, s jsonb)
    where c.id = v.id and c.version = v.version
    returning c.id`.execute(db);
  return new Set(updated.rows.map((r) => r.id));
}

/** Someone's open cases (see OPEN_STATUSES), by due date. */
export async function openCasesOf(db: DbOrTrx, handlerOpenId: string): Promise<CaseRow[]> {
  return db
    .selectFrom('cases')
    .selectAll()
    .where('handler_open_id', '=', handlerOpenId)
    .where('status', 'in', [...OPEN_STATUSES])
    .orderBy('reply_due_date')
    .orderBy('case_no')
    .execute();
}

/** Ids of someone's open cases. */
export async function openCaseIdsOf(db: DbOrTrx, handlerOpenId: string): Promise<number[]> {
  const rows = await db.selectFrom('cases').select('id').where('handler_open_id', '=', handlerOpenId).where('status', 'in', [...OPEN_STATUSES]).execute();
  return rows.map((r) => r.id);
}

/** Cases whose reply clock runs, of one section (and those of no section yet), or of all when unit is null; by due date. */
export async function casesWithReplyClock(db: DbOrTrx, unit: string | null): Promise<CaseRow[]> {
  let q = db.selectFrom('cases').selectAll().where('status', 'in', [...REPLY_CLOCK_STATUSES]);
  if (unit) q = q.where((eb) => eb.or([eb('unit', '=', unit), eb('unit', 'is', null)]));
  return q.orderBy('reply_due_date').orderBy('case_no').execute();
}

export async function userNames(db: DbOrTrx, openIds: readonly string[]): Promise<Map<string, string>> {
  const ids = [...new Set(openIds.filter(Boolean))];
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('users').select(['open_id', 'name']).where('open_id', 'in', ids).execute();
  const names = new Map(rows.map((r) => [r.open_id, r.name ?? unknownName(r.open_id)]));
  for (const id of ids) if (!names.has(id)) names.set(id, unknownName(id));
  return names;
}

export async function rolesOf(db: DbOrTrx, openId: string): Promise<Set<StaffRole>> {
  const rows = await db.selectFrom('user_roles').select('role').where('open_id', '=', openId).execute();
  return new Set(rows.map((r) => r.role));
}

export async function grantRole(db: DbOrTrx, openId: string, role: StaffRole, grantedBy: string): Promise<void> {
  await db
    .insertInto('user_roles')
    .values({ open_id: openId, role, granted_by: grantedBy })
    .onConflict((oc) => oc.columns(['open_id', 'role']).doNothing())
    .execute();
}

export async function revokeRole(db: DbOrTrx, openId: string, role: StaffRole): Promise<void> {
  await db.deleteFrom('user_roles').where('open_id', '=', openId).where('role', '=', role).execute();
}

/** Makes sure a user row exists, keeping a newer name when one is given. */
export async function upsertUser(db: DbOrTrx, person: { openId: string; name?: string | null | undefined }, fetched = false): Promise<void> {
  await db
    .insertInto('users')
    .values({ open_id: person.openId, name: person.name ?? null, name_fetched_at: fetched ? new Date() : null })
    .onConflict((oc) =>
      person.name
        ? oc.column('open_id').doUpdateSet({ name: person.name, ...(fetched ? { name_fetched_at: new Date() } : {}) })
        : oc.column('open_id').doNothing(),
    )
    .execute();
}

/** The case as the workflow sees it, read inside the caller's transaction. */
export async function loadCaseState(db: DbOrTrx, caseId: number): Promise<CaseState | undefined> {
  return (await loadCaseSnapshot(db, caseId))?.state;
}

function snapshot(c: CaseState, change: CaseChange): { before: Record<string, unknown>; after: Record<string, unknown> } {
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  const current: Record<string, unknown> = {
    status: c.status,
    handler: c.handler?.openId ?? null,
    round: c.round,
    replyDueDate: c.replyDueDate,
    unit: c.unit,
  };
  for (const [key, value] of Object.entries(change)) {
    const v = key === 'handler' ? ((value as Person | null)?.openId ?? null) : value;
    if (current[key] !== v) {
      before[key] = current[key];
      after[key] = v;
    }
  }
  return { before, after };
}

/**
 * Writes a decision: the case row (only if its version is still the one decided on, else StaleCaseError), the
 * records it brings, and the timeline event. Call inside a transaction. Returns the new version.
 */
export async function applyDecision(db: DbOrTrx, c: CaseState, d: Decision, actor: Actor): Promise<number> {
  return (await writeDecision(db, c, d, actor)).version;
}

/** As applyDecision, telling what the writes produced (the timeline entry, the ids of requests opened). */
export async function writeDecision(db: DbOrTrx, c: CaseState, d: Decision, actor: Actor): Promise<Written> {
  const { change } = d;
  const { before, after } = snapshot(c, change);
  // One statement: the handler's users row (the column references users; someone handed a case before the bot ever
  // met them needs a row first, and only the row: names are stored by whoever learned them, never a placeholder),
  // the case row, and its timeline event, which is written only when the version still matched.
  const handlerRow = change.handler
    ? sql`, handler_row as (insert into users (open_id) values (${change.handler.openId}) on conflict (open_id) do nothing)`
    : sql``;
  const set = [
    ...(change.status !== undefined ? [sql`status = ${change.status}`] : []),
    ...(change.handler !== undefined ? [sql`handler_open_id = ${change.handler?.openId ?? null}`] : []),
    ...(change.round !== undefined ? [sql`round = ${change.round}`] : []),
    ...(change.replyDueDate !== undefined ? [sql`reply_due_date = ${change.replyDueDate}`] : []),
    ...(change.unit !== undefined ? [sql`unit = ${change.unit}`] : []),
    sql`version = version + 1`,
    sql`updated_at = now()`,
  ];
  const result = await sql<{ id: string | number; at: Date; version: number }>`
    with updated as (
      update cases set ${sql.join(set)} where id = ${c.id} and version = ${c.version} returning id, version
    )${handlerRow}
    insert into case_events (case_id, actor_open_id, type, before, after, facts)
    select id, ${actor.openId}, ${d.event.type}, ${JSON.stringify(before)}::jsonb, ${JSON.stringify(after)}::jsonb, ${JSON.stringify(d.event)}::jsonb
    from updated
    returning id, at, (select version from updated) as version`.execute(db);
  const event = result.rows[0];
  if (!event) throw new StaleCaseError(c.id);
  const openedRequests: Written['openedRequests'] = {};
  for (const e of d.effects) {
    const id = await writeEffect(db, c.id, e, actor);
    if (e.type === 'open_extension') openedRequests.extension = id;
    if (e.type === 'open_adjustment') openedRequests.adjustment = id;
  }
  return { version: event.version, event: { id: Number(event.id), at: new Date(event.at) }, openedRequests };
}

/** Writes one record a decision brings; the id of a request it opens. */
async function writeEffect(db: DbOrTrx, caseId: number, e: Effect, actor: Actor): Promise<number | undefined> {
  switch (e.type) {
    case 'add_contact':
      await db
        .insertInto('contacts')
        .values({ case_id: caseId, round: e.round, contact_date: e.date, method: e.method, who: e.who, note: e.note, recorded_by: actor.openId })
        .execute();
      return;
    case 'add_reply':
      await db
        .insertInto('replies')
        .values({
          case_id: caseId,
          round: e.round,
          kind: 'reply',
          reply_date: e.date,
          result_class: e.resultClass,
          disclosure: e.disclosure,
          due_date: e.dueDate,
          recorded_by: actor.openId,
        })
        .execute();
      await db.updateTable('cases').set({ disclosure: e.disclosure }).where('id', '=', caseId).execute();
      return;
    case 'add_opinion':
      await db
        .insertInto('replies')
        .values({ case_id: caseId, round: e.round, kind: 'opinion', reply_date: e.date, note: e.note, due_date: e.dueDate, recorded_by: actor.openId })
        .execute();
      return;
    case 'add_rating':
      await db
        .insertInto('ratings')
        .values({ case_id: caseId, round: e.round, rating: e.rating, rated_date: e.date, entered_by: actor.openId })
        .execute();
      return;
    case 'open_extension': {
      const row = await db
        .insertInto('extension_requests')
        .values({ case_id: caseId, requested_by: actor.openId, reason: e.reason, status: 'pending', until_date: e.until, previous_due_date: e.previousDue })
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    }
    case 'close_extension':
    case 'close_adjustment': {
      const table = e.type === 'close_extension' ? 'extension_requests' : 'adjustment_requests';
      await db
        .updateTable(table)
        .set({ status: e.status, decided_by: e.status === 'withdrawn' ? null : actor.openId, decided_at: new Date(), decision_note: e.note || null })
        .where('id', '=', e.requestId)
        .where('status', '=', 'pending')
        .execute();
      return;
    }
    case 'open_adjustment': {
      const row = await db
        .insertInto('adjustment_requests')
        .values({ case_id: caseId, requested_by: actor.openId, reason: e.reason, status: 'pending' })
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    }
    case 'add_follow_up':
      await db
        .insertInto('follow_ups')
        .values({ case_id: caseId, round: e.round, outcome: e.outcome, follow_up_date: e.date, note: e.note, recorded_by: actor.openId })
        .execute();
      return undefined;
  }
}

/** An entry of a case's timeline written outside the workflow (e.g. by an import). */
export interface TimelineEntry {
  caseId: number;
  actorOpenId: string | null;
  facts: TimelineFact;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

/** Adds an entry to a case's timeline (for changes outside the workflow, e.g. an import). */
export async function appendTimeline(db: DbOrTrx, entry: TimelineEntry): Promise<void> {
  await appendTimelineEntries(db, [entry]);
}

/** Adds many timeline entries in one statement. */
export async function appendTimelineEntries(db: DbOrTrx, entries: TimelineEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db
    .insertInto('case_events')
    .values(
      entries.map((entry) => ({
        case_id: entry.caseId,
        actor_open_id: entry.actorOpenId,
        type: entry.facts.type,
        before: entry.before ? JSON.stringify(entry.before) : null,
        after: entry.after ? JSON.stringify(entry.after) : null,
        facts: JSON.stringify(entry.facts),
      })),
    )
    .execute();
}

/** An extension or adjustment request by id (until_date only for extensions). */
export async function findRequest(
  db: DbOrTrx,
  kind: 'extension' | 'adjustment',
  requestId: number,
): Promise<(Selectable<AdjustmentRequestsTable> & { until_date?: string }) | undefined> {
  return kind === 'extension'
    ? db.selectFrom('extension_requests').selectAll().where('id', '=', requestId).executeTakeFirst()
    : db.selectFrom('adjustment_requests').selectAll().where('id', '=', requestId).executeTakeFirst();
}

/** What is stored about a person: their name and when it was fetched, or undefined when the bot never met them. */
export async function storedUser(db: DbOrTrx, openId: string): Promise<{ name: string | null; name_fetched_at: Date | null } | undefined> {
  return db.selectFrom('users').select(['name', 'name_fetched_at']).where('open_id', '=', openId).executeTakeFirst();
}

/** The id of the request an effect opened (for sending the decision card), read back inside the transaction. */
export async function pendingRequestId(db: DbOrTrx, table: 'extension_requests' | 'adjustment_requests', caseId: number): Promise<number | undefined> {
  const row = await db.selectFrom(table).select('id').where('case_id', '=', caseId).where('status', '=', 'pending').executeTakeFirst();
  return row?.id;
}

/** Coordinators to notify: everyone holding the role, plus the configured first coordinators. */
export async function coordinatorIds(db: DbOrTrx, admins: readonly string[]): Promise<string[]> {
  const rows = await db.selectFrom('user_roles').select('open_id').where('role', '=', 'coordinator').execute();
  return [...new Set([...admins, ...rows.map((r) => r.open_id)])];
}
