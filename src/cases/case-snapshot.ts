// A case as one read brings it (case-snapshot.repository.ts reads it): the row, what the workflow needs to decide (CaseState), and what its card shows.
// A click reads it once, locked; the decision's effects are then applied to it in memory, so the answer card shows
// the case as the decision left it without reading it again.

import { PROMISE_CLASS, type CaseState, type IsoDate, type Person, type Rating } from '../domain/types.ts';
import { peopleIn, type TimelineFact } from '../domain/timeline.ts';
import type { Decision } from '../domain/workflow.ts';
import type { Actor } from '../domain/types.ts';
import type { CaseRow } from '../storage/schema.ts';

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
        if (e.resultClass === PROMISE_CLASS) state.promise = { round: e.round, replyDate: e.date, resultClass: PROMISE_CLASS, lastFollowUpDate: null, kept: false };
        break;
      case 'add_follow_up':
        if (state.promise) {
          const last = state.promise.lastFollowUpDate;
          state.promise = { ...state.promise, lastFollowUpDate: last === null || e.date > last ? e.date : last, kept: state.promise.kept || e.outcome === 'kept' };
        }
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
