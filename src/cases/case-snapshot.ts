// A case as one read brings it: the row, what the workflow needs to decide (CaseState), and what its card shows.
// A click reads it once, locked; the decision's effects are then applied to it in memory, so the answer card shows
// the case as the decision left it without reading it again.

import { sql } from 'kysely';
import type { CaseKind, CaseState, CaseStatus, Disclosure, IsoDate, OurRole, Person, Rating } from '../domain/types.ts';
import { peopleIn, type TimelineFact } from '../domain/timeline.ts';
import type { Decision } from '../domain/workflow.ts';
import type { Actor } from '../domain/types.ts';
import type { DbOrTrx } from '../storage/database.ts';
import type { CaseRow } from '../storage/schema.ts';
import { unknownName } from './case.repository.ts';

/** The newest timeline entries a card shows. */
export const TIMELINE_LIMIT = 10;
/** The newest contacts a card shows. */
export const CONTACTS_SHOWN = 5;

export interface SnapshotEvent {
  id: number;
  at: Date;
  type: string;
  facts: TimelineFact;
  /** Current names of the people the facts name, by open_id (when stored). */
  names: Record<string, string>;
  actorOpenId: string | null;
  /** The stored name (or a placeholder); null when no one (the system) acted. */
  actorName: string | null;
}

export interface CaseSnapshot {
  row: CaseRow;
  state: CaseState;
  /** Newest first, at most CONTACTS_SHOWN. */
  contacts: { id: number; date: IsoDate; method: string; who: string; note: string }[];
  /** In round order. */
  replies: { round: number; kind: 'reply' | 'opinion'; date: IsoDate; resultClass: string | null; disclosure: string | null; note: string }[];
  ratings: { round: number; rating: Rating; enteredBy: string }[];
  /** Newest first, at most TIMELINE_LIMIT. */
  events: SnapshotEvent[];
  eventCount: number;
}

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
            where p.name is not null and to_jsonb(p.open_id) in (select jsonb_path_query(e.facts, 'lax $.**.openId'))) as names
        from case_events e left join users u on u.open_id = e.actor_open_id where e.case_id = c.id
        order by e.id desc limit ${TIMELINE_LIMIT}) x) as events_json,
      (select count(*) from case_events where case_id = c.id)::int as event_count,
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

/** What writing a decision produced that the snapshot cannot know: the timeline entry and new request ids. */
export interface Written {
  version: number;
  event: { id: number; at: Date };
  /** Ids of the requests the decision opened. */
  openedRequests: { extension?: number; adjustment?: number };
}

/** The snapshot as the decision leaves the case (pure): what a fresh read after the writes would return. */
export function afterDecision(s: CaseSnapshot, d: Decision, actor: Actor, written: Written): CaseSnapshot {
  const { change } = d;
  const row: CaseRow = {
    ...s.row,
    ...(change.status !== undefined ? { status: change.status } : {}),
    ...(change.handler !== undefined ? { handler_open_id: change.handler?.openId ?? null } : {}),
    ...(change.round !== undefined ? { round: change.round } : {}),
    ...(change.replyDueDate !== undefined ? { reply_due_date: change.replyDueDate } : {}),
    ...(change.unit !== undefined ? { unit: change.unit } : {}),
    version: written.version,
    updated_at: written.event.at,
  };
  const state: CaseState = {
    ...s.state,
    ...(change.status !== undefined ? { status: change.status } : {}),
    ...(change.handler !== undefined ? { handler: change.handler } : {}),
    ...(change.round !== undefined ? { round: change.round } : {}),
    ...(change.replyDueDate !== undefined ? { replyDueDate: change.replyDueDate } : {}),
    ...(change.unit !== undefined ? { unit: change.unit } : {}),
    version: written.version,
  };
  let contacts = s.contacts;
  let replies = s.replies;
  let ratings = s.ratings;
  const me: Person = { openId: actor.openId, name: actor.name };
  const requestedAt = written.event.at.toISOString();
  for (const e of d.effects) {
    switch (e.type) {
      case 'add_contact':
        contacts = [{ id: Number.MAX_SAFE_INTEGER, date: e.date, method: e.method, who: e.who, note: e.note }, ...contacts]
          .sort((a, b) => (a.date === b.date ? b.id - a.id : a.date < b.date ? 1 : -1))
          .slice(0, CONTACTS_SHOWN);
        state.contactCount += 1;
        state.firstContactDate = state.firstContactDate === null || e.date < state.firstContactDate ? e.date : state.firstContactDate;
        break;
      case 'add_reply':
        replies = [...replies, { round: e.round, kind: 'reply', date: e.date, resultClass: e.resultClass, disclosure: e.disclosure, note: '' }];
        row.disclosure = e.disclosure;
        state.disclosure = e.disclosure;
        break;
      case 'add_opinion':
        replies = [...replies, { round: e.round, kind: 'opinion', date: e.date, resultClass: null, disclosure: null, note: e.note }];
        break;
      case 'add_rating':
        ratings = [...ratings, { round: e.round, rating: e.rating, enteredBy: actor.name }];
        state.lastRatedDate = state.lastRatedDate === null || e.date > state.lastRatedDate ? e.date : state.lastRatedDate;
        break;
      case 'open_extension':
        state.pendingExtension = {
          id: written.openedRequests.extension ?? 0,
          requestedBy: me,
          requestedAt,
          until: e.until,
          reason: e.reason,
          status: 'pending',
        };
        break;
      case 'open_adjustment':
        state.pendingAdjustment = { id: written.openedRequests.adjustment ?? 0, requestedBy: me, requestedAt, reason: e.reason, status: 'pending' };
        break;
      case 'close_extension':
        if (state.pendingExtension?.id === e.requestId) state.pendingExtension = null;
        break;
      case 'close_adjustment':
        if (state.pendingAdjustment?.id === e.requestId) state.pendingAdjustment = null;
        break;
    }
  }
  const event: SnapshotEvent = {
    id: written.event.id,
    at: written.event.at,
    type: d.event.type,
    facts: d.event,
    names: Object.fromEntries(peopleIn(d.event).map((p) => [p.openId, p.name])),
    actorOpenId: actor.openId,
    actorName: actor.name,
  };
  return { row, state, contacts, replies, ratings, events: [event, ...s.events].slice(0, TIMELINE_LIMIT), eventCount: s.eventCount + 1 };
}
