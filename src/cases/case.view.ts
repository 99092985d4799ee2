import type { CaseCardView, CaseListItemView, RequestDecisionView, TimelineEntryView } from '../../cards/view-models.ts';
import type { Clocks } from '../domain/clocks.ts';
import { availableActions, dissatisfiedReopens, replyClockRunning } from '../domain/workflow.ts';
import { STATUS_LABELS, type CaseKind, type CaseStatus, type IsoDate, type OurRole, type Rating } from '../domain/types.ts';
import type { DbOrTrx } from '../storage/database.ts';
import type { CaseRow } from '../storage/schema.ts';
import { findCaseRow, loadCaseState, userNames } from './case.repository.ts';

// Builds the view models the card builders lay out. Reads only; the decisions (what to offer) come from the domain.

export interface ViewContext {
  today: IsoDate;
  clocks: Clocks;
  timeZone: string;
  resultClasses: readonly { code: string; label: string }[];
  maxRehandlings: number;
}

const TIMELINE_LIMIT = 10;

function formatAt(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

/** Working days left before the reply is due, or null once nothing is due any more. */
export function daysLeft(row: Pick<CaseRow, 'status' | 'reply_due_date'>, today: IsoDate, clocks: Clocks): number | null {
  return replyClockRunning(row.status as CaseStatus) ? clocks.workdaysLeft(today, row.reply_due_date) : null;
}

/** Everything a case card shows, read from the database. */
export async function loadCaseCardView(db: DbOrTrx, caseId: number, ctx: ViewContext, notice?: string): Promise<CaseCardView | undefined> {
  const state = await loadCaseState(db, caseId);
  const row = await findCaseRow(db, caseId);
  if (!state || !row) return undefined;
  const [contacts, replies, ratings, events, eventCount] = await Promise.all([
    db.selectFrom('contacts').selectAll().where('case_id', '=', caseId).orderBy('contact_date', 'desc').orderBy('id', 'desc').limit(5).execute(),
    db.selectFrom('replies').selectAll().where('case_id', '=', caseId).orderBy('round').execute(),
    db.selectFrom('ratings').selectAll().where('case_id', '=', caseId).orderBy('round').execute(),
    db.selectFrom('case_events').selectAll().where('case_id', '=', caseId).orderBy('id', 'desc').limit(TIMELINE_LIMIT).execute(),
    db.selectFrom('case_events').select((eb) => eb.fn.countAll<number>().as('n')).where('case_id', '=', caseId).executeTakeFirstOrThrow(),
  ]);
  const names = await userNames(db, [...ratings.map((r) => r.entered_by), ...events.map((e) => e.actor_open_id ?? '')]);
  const lastProgress = events.find((e) => e.type === 'progress');
  const opinion = replies.find((r) => r.kind === 'opinion');
  const timeline: TimelineEntryView[] = events.map((e) => ({
    at: formatAt(e.at, ctx.timeZone),
    actorName: e.actor_open_id ? (names.get(e.actor_open_id) ?? null) : null,
    text: e.note ?? '',
  }));
  const hidden = Number(eventCount.n) - events.length;
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
    lastProgress: lastProgress
      ? { at: formatAt(lastProgress.at, ctx.timeZone), by: names.get(lastProgress.actor_open_id ?? '') ?? '系统', note: lastProgress.note ?? '' }
      : null,
    contacts: contacts.map((c) => ({ date: c.contact_date, method: c.method, who: c.who, note: c.note })),
    replies: replies
      .filter((r) => r.kind === 'reply')
      .map((r) => ({ round: r.round, date: r.reply_date, resultClass: r.result_class ?? '', disclosure: r.disclosure ?? '' })),
    opinion: opinion ? { date: opinion.reply_date, note: opinion.note } : null,
    ratings: ratings.map((r) => ({ round: r.round, rating: r.rating as Rating, enteredBy: names.get(r.entered_by) ?? '' })),
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
  const req =
    kind === 'extension'
      ? await db.selectFrom('extension_requests').selectAll().where('id', '=', requestId).executeTakeFirst()
      : await db.selectFrom('adjustment_requests').selectAll().where('id', '=', requestId).executeTakeFirst();
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
    view.until = (req as unknown as { until_date: string }).until_date;
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
