import { sql } from 'kysely';
import type { Actor, CaseKind, CaseState, CaseStatus, Disclosure, OurRole, Person, StaffRole } from '../domain/types.ts';
import { OPEN_STATUSES, REPLY_CLOCK_STATUSES } from '../domain/case-rules.ts';
import type { CaseChange, Decision, Effect } from '../domain/workflow.ts';
import type { DbOrTrx } from '../storage/database.ts';
import type { CaseRow } from '../storage/schema.ts';

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
  const row = await findCaseRow(db, caseId);
  if (!row) return undefined;
  const [contacts, ratings, ext, adj] = await Promise.all([
    db
      .selectFrom('contacts')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('contact_date').as('first')])
      .where('case_id', '=', caseId)
      .executeTakeFirstOrThrow(),
    db.selectFrom('ratings').select((eb) => eb.fn.max('rated_date').as('last')).where('case_id', '=', caseId).executeTakeFirstOrThrow(),
    db.selectFrom('extension_requests').selectAll().where('case_id', '=', caseId).where('status', '=', 'pending').executeTakeFirst(),
    db.selectFrom('adjustment_requests').selectAll().where('case_id', '=', caseId).where('status', '=', 'pending').executeTakeFirst(),
  ]);
  const names = await userNames(db, [row.handler_open_id ?? '', ext?.requested_by ?? '', adj?.requested_by ?? '']);
  const person = (id: string): Person => ({ openId: id, name: names.get(id) ?? unknownName(id) });
  return {
    id: row.id,
    caseNo: row.case_no,
    kind: row.kind as CaseKind,
    role: row.role as OurRole,
    status: row.status as CaseStatus,
    handler: row.handler_open_id ? person(row.handler_open_id) : null,
    round: row.round,
    assignedDate: row.assigned_date,
    replyDueDate: row.reply_due_date,
    unit: row.unit,
    disclosure: (row.disclosure as Disclosure | null) ?? null,
    contactCount: Number(contacts.n),
    firstContactDate: (contacts.first as string | null) ?? null,
    lastRatedDate: (ratings.last as string | null) ?? null,
    pendingExtension: ext
      ? {
          id: ext.id,
          requestedBy: person(ext.requested_by),
          requestedAt: ext.requested_at.toISOString(),
          until: ext.until_date,
          reason: ext.reason,
          status: ext.status,
        }
      : null,
    pendingAdjustment: adj
      ? { id: adj.id, requestedBy: person(adj.requested_by), requestedAt: adj.requested_at.toISOString(), reason: adj.reason, status: adj.status }
      : null,
    version: row.version,
  };
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
 * records it brings, and the timeline event. Call inside a transaction.
 */
export async function applyDecision(db: DbOrTrx, c: CaseState, d: Decision, actor: Actor): Promise<number> {
  const { change } = d;
  // The handler column references users: someone handed a case before the bot ever met them needs a row first.
  // Only the row: names are stored by whoever learned them (mentions, the contact API), never a placeholder.
  if (change.handler) await upsertUser(db, { openId: change.handler.openId });
  const updated = await db
    .updateTable('cases')
    .set({
      ...(change.status !== undefined ? { status: change.status } : {}),
      ...(change.handler !== undefined ? { handler_open_id: change.handler?.openId ?? null } : {}),
      ...(change.round !== undefined ? { round: change.round } : {}),
      ...(change.replyDueDate !== undefined ? { reply_due_date: change.replyDueDate } : {}),
      ...(change.unit !== undefined ? { unit: change.unit } : {}),
      version: sql<number>`version + 1`,
      updated_at: new Date(),
    })
    .where('id', '=', c.id)
    .where('version', '=', c.version)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1) throw new StaleCaseError(c.id);
  for (const e of d.effects) await writeEffect(db, c.id, e, actor);
  const { before, after } = snapshot(c, change);
  await db
    .insertInto('case_events')
    .values({
      case_id: c.id,
      actor_open_id: actor.openId,
      type: d.event.type,
      before: JSON.stringify(before),
      after: JSON.stringify(after),
      note: d.event.note,
    })
    .execute();
  return c.version + 1;
}

async function writeEffect(db: DbOrTrx, caseId: number, e: Effect, actor: Actor): Promise<void> {
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
      await db
        .insertInto('extension_requests')
        .values({ case_id: caseId, requested_by: actor.openId, reason: e.reason, status: 'pending', until_date: e.until, previous_due_date: e.previousDue })
        .execute();
      return;
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
    case 'open_adjustment':
      await db.insertInto('adjustment_requests').values({ case_id: caseId, requested_by: actor.openId, reason: e.reason, status: 'pending' }).execute();
      return;
  }
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
