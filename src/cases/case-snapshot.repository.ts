import { sql } from 'kysely';
import type { TimelineFact } from '../domain/timeline.ts';
import { PROMISE_CLASS, type CasePromise, type CaseKind, type CaseState, type CaseStatus, type Disclosure, type OurRole, type Person, type Rating } from '../domain/types.ts';
import type { DbOrTrx } from '../storage/database.ts';
import type { CaseRow } from '../storage/schema.ts';
import { unknownName } from './case.repository.ts';
import { CONTACTS_SHOWN, TIMELINE_LIMIT, type CaseSnapshot } from './case-snapshot.ts';

// Reading a case snapshot: the case row and everything its workflow and card need, in one statement.

interface SnapshotRow extends CaseRow {
  handler_name: string | null;
  read_version: number;
  contact_count: number;
  first_contact: string | null;
  last_rated: string | null;
  contacts_json: Array<{ id: number; contact_date: string; method: string; who: string; note: string }>;
  replies_json: Array<{ round: number; kind: 'reply' | 'opinion'; reply_date: string; result_class: string | null; disclosure: string | null; note: string }>;
  ratings_json: Array<{ round: number; rating: string; entered_by: string; entered_by_name: string | null }>;
  events_json: Array<{
    id: number;
    at: string;
    type: string;
    facts: TimelineFact;
    names: Record<string, string>;
    actor_open_id: string | null;
    actor_name: string | null;
  }>;
  event_count: number;
  follow_ups_json: Array<{ round: number; outcome: 'checked' | 'kept' | 'changed'; follow_up_date: string }>;
  extension_json: { id: number; requested_by: string; requester_name: string | null; requested_at: string; until_date: string; reason: string; status: 'pending' } | null;
  adjustment_json: { id: number; requested_by: string; requester_name: string | null; requested_at: string; reason: string; status: 'pending' } | null;
}

/**
 * The case with everything its workflow and card need, in one statement; `lock` takes the row lock (FOR UPDATE) for
 * the caller's transaction, so a concurrent change waits instead of being decided on a stale copy.
 */
export async function loadCaseSnapshot(db: DbOrTrx, caseId: number, opts: { lock?: boolean } = {}): Promise<CaseSnapshot | undefined> {
  const result = await sql<SnapshotRow>`
    select c.*,
      hu.name as handler_name,
      (select version from cases where id = c.id) as read_version,
      (select count(*) from contacts where case_id = c.id)::int as contact_count,
      (select min(contact_date) from contacts where case_id = c.id) as first_contact,
      (select max(rated_date) from ratings where case_id = c.id) as last_rated,
      (select coalesce(json_agg(x order by x.contact_date desc, x.id desc), '[]'::json) from (
        select id, contact_date, method, who, note from contacts where case_id = c.id
        order by contact_date desc, id desc limit ${CONTACTS_SHOWN}) x) as contacts_json,
      (select coalesce(json_agg(x order by x.round, x.id), '[]'::json) from (
        select id, round, kind, reply_date, result_class, disclosure, note from replies where case_id = c.id) x) as replies_json,
      (select coalesce(json_agg(x order by x.round, x.id), '[]'::json) from (
        select r.id, r.round, r.rating, r.entered_by, u.name as entered_by_name
        from ratings r left join users u on u.open_id = r.entered_by where r.case_id = c.id) x) as ratings_json,
      (select coalesce(json_agg(x order by x.id desc), '[]'::json) from (
        select e.id, e.at, e.type, e.facts, e.actor_open_id, u.name as actor_name,
          (select coalesce(json_object_agg(p.open_id, p.name), '{}'::json) from users p
            where p.name is not null and p.open_id in (select jsonb_path_query(e.facts, 'lax $.**.openId') #>> '{}')) as names
        from case_events e left join users u on u.open_id = e.actor_open_id where e.case_id = c.id
        order by e.id desc limit ${TIMELINE_LIMIT}) x) as events_json,
      (select count(*) from case_events where case_id = c.id)::int as event_count,
      (select coalesce(json_agg(x order by x.id), '[]'::json) from (
        select id, round, outcome, follow_up_date from follow_ups where case_id = c.id) x) as follow_ups_json,
      (select row_to_json(x) from (
        select r.id, r.requested_by, u.name as requester_name, r.requested_at, r.until_date, r.reason, r.status
        from extension_requests r left join users u on u.open_id = r.requested_by
        where r.case_id = c.id and r.status = 'pending' limit 1) x) as extension_json,
      (select row_to_json(x) from (
        select r.id, r.requested_by, u.name as requester_name, r.requested_at, r.reason, r.status
        from adjustment_requests r left join users u on u.open_id = r.requested_by
        where r.case_id = c.id and r.status = 'pending' limit 1) x) as adjustment_json
    from cases c left join users hu on hu.open_id = c.handler_open_id
    where c.id = ${caseId}
    ${opts.lock ? sql`for update of c` : sql``}`.execute(db);
  const r = result.rows[0];
  if (!r) return undefined;
  // A row lock waited for another transaction returns the row as that one left it, but the rest of the statement
  // still sees the database as it was when the statement began (PostgreSQL, READ COMMITTED). Then read again: the
  // lock is held now, so the second read sees everything as it is.
  if (opts.lock && r.read_version !== r.version) return loadCaseSnapshot(db, caseId, opts);
  return snapshotOf(r);
}

const nameOr = (openId: string, name: string | null | undefined): string => name ?? unknownName(openId);

/** The promise of the latest B-class reply and its follow-ups (回头看), or null without one. */
function promiseOf(replies: SnapshotRow['replies_json'], followUps: SnapshotRow['follow_ups_json']): CasePromise | null {
  const reply = replies.filter((x) => x.kind === 'reply' && x.result_class === PROMISE_CLASS).at(-1);
  if (!reply) return null;
  const later = followUps.filter((f) => f.round >= reply.round);
  return {
    round: reply.round,
    replyDate: reply.reply_date,
    resultClass: PROMISE_CLASS,
    lastFollowUpDate: later.map((f) => f.follow_up_date).sort().at(-1) ?? null,
    kept: later.some((f) => f.outcome === 'kept'),
  };
}

function snapshotOf(r: SnapshotRow): CaseSnapshot {
  const {
    handler_name,
    read_version: _readVersion,
    contact_count,
    first_contact,
    last_rated,
    contacts_json,
    replies_json,
    ratings_json,
    events_json,
    event_count,
    follow_ups_json,
    extension_json: ext,
    adjustment_json: adj,
    ...rest
  } = r;
  // json_agg hands jsonb/json columns back parsed on both drivers; the case row's own JSON column likewise.
  const row = rest as CaseRow;
  const person = (openId: string, name: string | null): Person => ({ openId, name: nameOr(openId, name) });
  const state: CaseState = {
    id: row.id,
    caseNo: row.case_no,
    kind: row.kind as CaseKind,
    role: row.role as OurRole,
    status: row.status as CaseStatus,
    handler: row.handler_open_id ? person(row.handler_open_id, handler_name) : null,
    round: row.round,
    assignedDate: row.assigned_date,
    replyDueDate: row.reply_due_date,
    unit: row.unit,
    disclosure: (row.disclosure as Disclosure | null) ?? null,
    contactCount: Number(contact_count),
    firstContactDate: first_contact,
    lastRatedDate: last_rated,
    pendingExtension: ext
      ? {
          id: ext.id,
          requestedBy: person(ext.requested_by, ext.requester_name),
          requestedAt: new Date(ext.requested_at).toISOString(),
          until: ext.until_date,
          reason: ext.reason,
          status: ext.status,
        }
      : null,
    pendingAdjustment: adj
      ? { id: adj.id, requestedBy: person(adj.requested_by, adj.requester_name), requestedAt: new Date(adj.requested_at).toISOString(), reason: adj.reason, status: adj.status }
      : null,
    promise: promiseOf(replies_json, follow_ups_json),
    version: row.version,
  };
  return {
    row,
    state,
    contacts: contacts_json.map((c) => ({ id: c.id, date: c.contact_date, method: c.method, who: c.who, note: c.note })),
    replies: replies_json.map((x) => ({ round: x.round, kind: x.kind, date: x.reply_date, resultClass: x.result_class, disclosure: x.disclosure, note: x.note })),
    ratings: ratings_json.map((x) => ({ round: x.round, rating: x.rating as Rating, enteredBy: nameOr(x.entered_by, x.entered_by_name) })),
    events: events_json.map((e) => ({
      id: Number(e.id),
      at: new Date(e.at),
      type: e.type,
      facts: e.facts,
      names: e.names,
      actorOpenId: e.actor_open_id,
      actorName: e.actor_open_id ? nameOr(e.actor_open_id, e.actor_name) : null,
    })),
    eventCount: Number(event_count),
  };
}

