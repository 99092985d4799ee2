import type { CaseCardView, CaseListItemView, RequestDecisionView, TimelineEntryView } from '../../cards/view-models.ts';
import type { Clocks } from '../domain/clocks.ts';
import { replyClockRunning } from '../domain/case-rules.ts';
import { availableActions, dissatisfiedReopens } from '../domain/workflow.ts';
import { STATUS_LABELS, type CaseKind, type CaseStatus, type IsoDate, type OurRole } from '../domain/types.ts';
import type { DbOrTrx } from '../storage/database.ts';
import type { CaseRow } from '../storage/schema.ts';
import { findCaseRow, findRequest, userNames } from './case.repository.ts';
import type { CaseSnapshot, SnapshotEvent } from './case-snapshot.ts';
import { loadCaseSnapshot } from './case-snapshot.repository.ts';
import { timelineLine } from '../domain/timeline.ts';

// Builds the view models the card builders lay out. Reads only; the decisions (what to offer) come from the domain.

export interface ViewContext {
  today: IsoDate;
  clocks: Clocks;
  timeZone: string;
  resultClasses: readonly { code: string; label: string }[];
  maxRehandlings: number;
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();

function formatAt(at: Date, timeZone: string): string {
  // Building a DateTimeFormat costs far more than using one: one per time zone, kept.
  let format = timeFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    timeFormats.set(timeZone, format);
  }
  const parts = format.formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

/** Working days left before the reply is due, or null once nothing is due any more. */
export function daysLeft(row: Pick<CaseRow, 'status' | 'reply_due_date'>, today: IsoDate, clocks: Clocks): number | null {
  return replyClockRunning(row.status as CaseStatus) ? clocks.workdaysLeft(today, row.reply_due_date) : null;
}

/** Everything a case card shows, read from the database (one statement). */
export async function loadCaseCardView(db: DbOrTrx, caseId: number, ctx: ViewContext, notice?: string): Promise<CaseCardView | undefined> {
  const snapshot = await loadCaseSnapshot(db, caseId);
  return snapshot ? caseCardView(snapshot, ctx, notice) : undefined;
}

/** A timeline entry's line, naming people by their current names. */
function lineOf(e: SnapshotEvent): string {
  return timelineLine(e.facts, (p) => e.names[p.openId] ?? p.name);
}

/** The card's view of a case as a snapshot has it; no I/O. */
export function caseCardView(s: CaseSnapshot, ctx: ViewContext, notice?: string): CaseCardView {
  const { row, state } = s;
  const lastProgress = s.events.find((e) => e.type === 'progress');
  const opinion = s.replies.find((r) => r.kind === 'opinion');
  const timeline: TimelineEntryView[] = s.events.map((e) => ({ at: formatAt(e.at, ctx.timeZone), actorName: e.actorName, text: lineOf(e) }));
  const hidden = s.eventCount - s.events.length;
  if (hidden > 0) timeline.push({ at: '', actorName: null, text: `另有 ${hidden} 条较早记录` });
  return {
    caseId: row.id,
    caseNo: row.case_no,
    kind: row.kind as CaseKind,
    session: row.session,
    title: row.title,
    proposer: row.proposer,
    roleLabel: row.role_label,
    role: row.role as OurRole,
    status: row.status as CaseStatus,
    statusLabel: row.round > 1 && row.status !== 'closed' ? `${STATUS_LABELS[row.status as CaseStatus]}（第${row.round}轮）` : STATUS_LABELS[row.status as CaseStatus],
    round: row.round,
    leadUnit: row.lead_unit,
    assistingUnits: row.assisting_units,
    unit: row.unit,
    handlerName: state.handler?.name ?? null,
    assignedDate: row.assigned_date,
    replyDueDate: row.reply_due_date,
    workdaysLeft: daysLeft(row, ctx.today, ctx.clocks),
    lastProgress: lastProgress ? { at: formatAt(lastProgress.at, ctx.timeZone), by: lastProgress.actorName ?? '系统', note: lineOf(lastProgress) } : null,
    contacts: s.contacts.map((c) => ({ date: c.date, method: c.method, who: c.who, note: c.note })),
    replies: s.replies
      .filter((r) => r.kind === 'reply')
      .map((r) => ({ round: r.round, date: r.date, resultClass: r.resultClass ?? '', disclosure: r.disclosure ?? '' })),
    opinion: opinion ? { date: opinion.date, note: opinion.note } : null,
    ratings: s.ratings.map((r) => ({ round: r.round, rating: r.rating, enteredBy: r.enteredBy })),
    pendingExtension: state.pendingExtension
      ? {
          requestId: state.pendingExtension.id,
          until: state.pendingExtension.until,
          reason: state.pendingExtension.reason,
          requestedBy: state.pendingExtension.requestedBy.name,
        }
      : null,
    pendingAdjustment: state.pendingAdjustment
      ? { requestId: state.pendingAdjustment.id, reason: state.pendingAdjustment.reason, requestedBy: state.pendingAdjustment.requestedBy.name }
      : null,
    timeline,
    actions: availableActions(state, ctx),
    resultClasses: [...ctx.resultClasses],
    today: ctx.today,
    dissatisfiedReopens: dissatisfiedReopens(state, ctx),
    ...(notice ? { notice } : {}),
  };
}

/** The view of an extension or adjustment request, for the coordinator's decision card. */
export async function loadRequestView(
  db: DbOrTrx,
  kind: 'extension' | 'adjustment',
  requestId: number,
  ctx: Pick<ViewContext, 'clocks'>,
): Promise<RequestDecisionView | undefined> {
  const req = await findRequest(db, kind, requestId);
  if (!req) return undefined;
  const row = await findCaseRow(db, req.case_id);
  if (!row) return undefined;
  const names = await userNames(db, [req.requested_by, req.decided_by ?? '']);
  const view: RequestDecisionView = {
    kind,
    requestId: req.id,
    caseId: row.id,
    caseNo: row.case_no,
    title: row.title,
    requestedBy: names.get(req.requested_by) ?? '',
    reason: req.reason,
    currentDue: row.reply_due_date,
    status: req.status,
  };
  if (kind === 'extension') {
    view.until = req.until_date ?? '';
    view.limit = ctx.clocks.extensionLimit(row.assigned_date);
  }
  if (req.decided_by) view.decidedBy = names.get(req.decided_by) ?? '';
  if (req.decision_note) view.decisionNote = req.decision_note;
  return view;
}

/** One line of a case list. */
export function listItem(row: CaseRow, handlerName: string | null, today: IsoDate, clocks: Clocks): CaseListItemView {
  return {
    caseId: row.id,
    caseNo: row.case_no,
    title: row.title,
    statusLabel: STATUS_LABELS[row.status as CaseStatus],
    handlerName,
    replyDueDate: row.reply_due_date,
    workdaysLeft: daysLeft(row, today, clocks),
  };
}
