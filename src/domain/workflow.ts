// The case workflow: what may happen to a case, who may make it happen, and what changes when it does.
// Pure: it gets the case as it is now, the action, the actor and the clocks, and returns a decision. Storage applies
// the decision (case row, timeline event, records, messages) in one transaction; Lark only carries it.

import type { Clocks } from './clocks.ts';
import type { TimelineFact } from './timeline.ts';
import {
  isCoordinator,
  proposerTitle,
  repliesToDeputy,
  type Actor,
  type CaseState,
  type CaseStatus,
  type ContactMethod,
  type Disclosure,
  type FollowUpOutcome,
  type IsoDate,
  type Person,
  type Rating,
} from './types.ts';

import { MAX_NOTE_LENGTH } from './case-rules.ts';

// Re-exported: the workflow's callers have always found these here.
export { DUE_SOON_WORKDAYS, MAX_NOTE_LENGTH, replyClockRunning } from './case-rules.ts';

export type CaseAction =
  | { type: 'claim'; chatUnit: string | null }
  | { type: 'release' }
  | { type: 'handover'; to: Person }
  | { type: 'progress'; note: string }
  | { type: 'contact'; date: IsoDate; method: ContactMethod; who: string; note: string }
  | { type: 'reply'; date: IsoDate; resultClass: string; disclosure: Disclosure | null }
  | { type: 'opinion'; date: IsoDate; note: string }
  | { type: 'rate'; rating: Rating }
  | { type: 'request_extension'; until: IsoDate; reason: string }
  | { type: 'decide_extension'; requestId: number; approve: boolean; note: string }
  | { type: 'request_adjustment'; reason: string }
  | { type: 'decide_adjustment'; requestId: number; approve: boolean; note: string }
  | { type: 'follow_up'; outcome: FollowUpOutcome; note: string };

export type CaseActionType = CaseAction['type'];

export interface WorkflowContext {
  today: IsoDate;
  clocks: Clocks;
  /** The configured result classes (A, B, C …). */
  resultClasses: readonly string[];
  /** How many times 不满意 may reopen a case (default 1: a second reply, then it closes whatever the rating). */
  maxRehandlings?: number;
}

/** Records the storage layer writes beside the case row. */
export type Effect =
  | { type: 'add_contact'; round: number; date: IsoDate; method: ContactMethod; who: string; note: string }
  | { type: 'add_reply'; round: number; date: IsoDate; resultClass: string; disclosure: Disclosure; dueDate: IsoDate }
  | { type: 'add_opinion'; round: number; date: IsoDate; note: string; dueDate: IsoDate }
  | { type: 'add_rating'; round: number; rating: Rating; date: IsoDate }
  | { type: 'open_extension'; until: IsoDate; previousDue: IsoDate; reason: string }
  | { type: 'close_extension'; requestId: number; status: 'approved' | 'refused' | 'withdrawn'; note: string }
  | { type: 'open_adjustment'; reason: string }
  | { type: 'close_adjustment'; requestId: number; status: 'approved' | 'refused' | 'withdrawn'; note: string }
  | { type: 'add_follow_up'; round: number; outcome: FollowUpOutcome; date: IsoDate; note: string };

/** The fields of a case a decision may change. */
export interface CaseChange {
  status?: CaseStatus;
  handler?: Person | null;
  round?: number;
  replyDueDate?: IsoDate;
  unit?: string | null;
}

export interface Decision {
  ok: true;
  change: CaseChange;
  effects: Effect[];
  /** The timeline event, as typed facts (rendered to a Chinese line when shown: see timeline.ts). */
  event: TimelineFact;
  /** What to tell the actor (Chinese). */
  message: string;
}

export type RefusalCode =
  | 'already_claimed'
  | 'already_yours'
  | 'not_claimed'
  | 'not_permitted'
  | 'coordinator_only'
  | 'wrong_state'
  | 'wrong_role'
  | 'contact_required'
  | 'bad_input'
  | 'bad_date'
  | 'window_closed'
  | 'beyond_limit'
  | 'request_pending'
  | 'no_request'
  | 'other_unit';

export interface Refusal {
  ok: false;
  code: RefusalCode;
  message: string;
}

export type Outcome = Decision | Refusal;

const refuse = (code: RefusalCode, message: string): Refusal => ({ ok: false, code, message });

/** Who filed the case, as staff say it: a suggestion's 代表, a proposal's 委员. */
const deputy = (c: Pick<CaseState, 'kind'>) => proposerTitle(c.kind);

const ACTIVE: readonly CaseStatus[] = ['in_progress', 'contacted', 'rehandling'];
const isActive = (s: CaseStatus) => ACTIVE.includes(s);

/** The status a case returns to when someone takes it up: where its handling had got to. */
function handlingStatus(c: CaseState): CaseStatus {
  if (c.round > 1) return 'rehandling';
  return repliesToDeputy(c.role) && c.contactCount > 0 ? 'contacted' : 'in_progress';
}

function isHandler(c: CaseState, actor: Actor): boolean {
  return c.handler !== null && c.handler.openId === actor.openId;
}

/** Handler or coordinator; otherwise a refusal that says who handles the case. */
function mayChange(c: CaseState, actor: Actor): Refusal | null {
  if (isHandler(c, actor) || isCoordinator(actor)) return null;
  if (!c.handler) return refuse('not_claimed', `案件 ${c.caseNo} 尚未认领，请先认领后再办理。`);
  return refuse('not_permitted', `案件 ${c.caseNo} 由${c.handler.name}承办，只有承办人或协调员可以操作。`);
}

function closedRefusal(c: CaseState): Refusal | null {
  if (c.status === 'closed') return refuse('wrong_state', `案件 ${c.caseNo} 已办结，不能再操作。`);
  if (c.status === 'adjusted') return refuse('wrong_state', `案件 ${c.caseNo} 已调整出本单位，不能再操作。`);
  return null;
}

function checkText(label: string, text: string, required: boolean): Refusal | null {
  const t = text.trim();
  if (required && !t) return refuse('bad_input', `请填写${label}。`);
  if (t.length > MAX_NOTE_LENGTH) return refuse('bad_input', `${label}过长（${t.length} 字），请控制在 ${MAX_NOTE_LENGTH} 字以内。`);
  return null;
}

function checkPastDate(label: string, date: IsoDate, c: CaseState, today: IsoDate): Refusal | null {
  if (date > today) return refuse('bad_date', `${label}（${date}）不能晚于今天（${today}）。`);
  if (date < c.assignedDate) return refuse('bad_date', `${label}（${date}）不能早于交办日期（${c.assignedDate}）。`);
  return null;
}

/** Decides one action on one case, as the case is now. Never throws for a user's mistake: it refuses. */
export function decide(c: CaseState, action: CaseAction, actor: Actor, ctx: WorkflowContext): Outcome {
  switch (action.type) {
    case 'claim':
      return claim(c, action.chatUnit, actor);
    case 'release':
      return release(c, actor);
    case 'handover':
      return handover(c, action.to, actor);
    case 'progress':
      return progress(c, action.note, actor);
    case 'contact':
      return contact(c, action, actor, ctx);
    case 'reply':
      return reply(c, action, actor, ctx);
    case 'opinion':
      return opinion(c, action, actor, ctx);
    case 'rate':
      return rate(c, action.rating, actor, ctx);
    case 'request_extension':
      return requestExtension(c, action, actor, ctx);
    case 'decide_extension':
      return decideExtension(c, action, actor, ctx);
    case 'request_adjustment':
      return requestAdjustment(c, action.reason, actor, ctx);
    case 'decide_adjustment':
      return decideAdjustment(c, action, actor);
    case 'follow_up':
      return followUp(c, action, actor, ctx);
  }
}

/**
 * A follow-up (回头看) of the promise a B-class reply made: by the handler or a coordinator, once the reply exists,
 * closed case or not (promises outlive the rating), until the promise is recorded as kept. It changes nothing on the
 * case itself; it is a record the reminders and the year-end report count.
 */
function followUp(c: CaseState, a: Extract<CaseAction, { type: 'follow_up' }>, actor: Actor, ctx: WorkflowContext): Outcome {
  if (c.status === 'adjusted') return refuse('wrong_state', `案件 ${c.caseNo} 已调整出本单位，不能再操作。`);
  const denied = mayChange(c, actor);
  if (denied) return denied;
  if (!c.promise) {
    return refuse('wrong_state', `案件 ${c.caseNo} 没有 B 类（正在解决或列入计划）答复，没有需要回头看的承诺事项。`);
  }
  if (c.promise.kept) return refuse('wrong_state', `案件 ${c.caseNo} 的承诺事项已登记为落实，无需再跟进。`);
  const bad = checkText('跟进内容', a.note, true);
  if (bad) return bad;
  const note = a.note.trim();
  const who = deputy(c);
  const message =
    a.outcome === 'kept'
      ? `已登记：案件 ${c.caseNo} 的承诺事项已落实，此后不再提醒回头看。`
      : a.outcome === 'changed'
        ? `已登记：案件 ${c.caseNo} 的承诺事项调整，已向${who}说明。年终报告“承诺事项调整”中会列出此件。`
        : `已登记案件 ${c.caseNo} 的回头看情况。承诺落实后请发送“跟进 ${c.caseNo} 已落实 <情况>”。`;
  return {
    ok: true,
    change: {},
    effects: [{ type: 'add_follow_up', round: c.promise.round, outcome: a.outcome, date: ctx.today, note }],
    event: { type: 'followed_up', kind: c.kind, outcome: a.outcome, note },
    message,
  };
}

/**
 * Claiming: only an unclaimed case can be claimed, by anyone on staff. The first claim wins; whoever comes second is
 * told who has it. A chat bound to a unit claims for that unit: a case already with another unit is refused, and a
 * case with no unit yet joins the claimer's unit.
 */
function claim(c: CaseState, chatUnit: string | null, actor: Actor): Outcome {
  const closed = closedRefusal(c);
  if (closed) return closed;
  if (c.handler) {
    if (c.handler.openId === actor.openId) return refuse('already_yours', `您已认领案件 ${c.caseNo}，无需重复认领。`);
    return refuse('already_claimed', `该案件已由${c.handler.name}认领。`);
  }
  if (c.status === 'replied') return refuse('wrong_state', `案件 ${c.caseNo} 已答复，正在等待${deputy(c)}评价。`);
  if (chatUnit && c.unit && c.unit !== chatUnit) {
    return refuse('other_unit', `案件 ${c.caseNo} 由${c.unit}办理，本群绑定的是${chatUnit}，不能在此认领。`);
  }
  const change: CaseChange = { status: handlingStatus(c), handler: { openId: actor.openId, name: actor.name } };
  if (!c.unit && chatUnit) change.unit = chatUnit;
  return {
    ok: true,
    change,
    effects: [],
    event: { type: 'claimed' },
    message: `已认领案件 ${c.caseNo}，答复期限 ${c.replyDueDate}。`,
  };
}

function release(c: CaseState, actor: Actor): Outcome {
  const closed = closedRefusal(c);
  if (closed) return closed;
  if (!c.handler) return refuse('not_claimed', `案件 ${c.caseNo} 尚未认领，无需放弃。`);
  const denied = mayChange(c, actor);
  if (denied) return denied;
  if (!isActive(c.status)) return refuse('wrong_state', `案件 ${c.caseNo} 已答复，正在等待评价，不能放弃；如需换人请使用“转交”。`);
  const byOther = !isHandler(c, actor);
  return {
    ok: true,
    change: { status: 'unclaimed', handler: null },
    effects: [],
    event: byOther ? { type: 'released', from: c.handler } : { type: 'released' },
    message: `案件 ${c.caseNo} 已退回待认领。`,
  };
}

function handover(c: CaseState, to: Person, actor: Actor): Outcome {
  const closed = closedRefusal(c);
  if (closed) return closed;
  if (!c.handler) {
    // Handing over an unclaimed case is assigning it, which only the coordinator does.
    if (!isCoordinator(actor)) return refuse('not_claimed', `案件 ${c.caseNo} 尚未认领，只有协调员可以直接指定承办人。`);
    return {
      ok: true,
      change: { status: handlingStatus(c), handler: to },
      effects: [],
      event: { type: 'handed_over', to, assigned: true },
      message: `已指定${to.name}承办案件 ${c.caseNo}。`,
    };
  }
  const denied = mayChange(c, actor);
  if (denied) return denied;
  if (c.handler.openId === to.openId) return refuse('bad_input', `案件 ${c.caseNo} 已由${to.name}承办。`);
  return {
    ok: true,
    change: { handler: to },
    effects: [],
    event: isHandler(c, actor) ? { type: 'handed_over', to } : { type: 'handed_over', to, from: c.handler },
    message: `已将案件 ${c.caseNo} 转交给${to.name}。`,
  };
}

function progress(c: CaseState, note: string, actor: Actor): Outcome {
  if (c.status === 'adjusted') return refuse('wrong_state', `案件 ${c.caseNo} 已调整出本单位，不能再登记进展。`);
  const denied = mayChange(c, actor);
  if (denied) return denied;
  const bad = checkText('进展内容', note, true);
  if (bad) return bad;
  return {
    ok: true,
    change: {},
    effects: [],
    event: { type: 'progress', note: note.trim() },
    message: `已记录案件 ${c.caseNo} 的办理进展。`,
  };
}

function contact(c: CaseState, a: Extract<CaseAction, { type: 'contact' }>, actor: Actor, ctx: WorkflowContext): Outcome {
  const closed = closedRefusal(c);
  if (closed) return closed;
  const denied = mayChange(c, actor);
  if (denied) return denied;
  if (c.status === 'unclaimed') return refuse('not_claimed', `案件 ${c.caseNo} 尚未认领，请先认领。`);
  const bad = checkPastDate('沟通日期', a.date, c, ctx.today) ?? checkText('沟通说明', a.note, false) ?? checkText('沟通对象', a.who, false);
  if (bad) return bad;
  const change: CaseChange = c.status === 'in_progress' && repliesToDeputy(c.role) ? { status: 'contacted' } : {};
  return {
    ok: true,
    change,
    effects: [{ type: 'add_contact', round: c.round, date: a.date, method: a.method, who: a.who.trim(), note: a.note.trim() }],
    event: { type: 'contacted', date: a.date, method: a.method, who: a.who.trim(), note: a.note.trim() },
    message: `已登记案件 ${c.caseNo} 与${deputy(c)}的沟通情况（${a.method}，${a.date}）。`,
  };
}

function reply(c: CaseState, a: Extract<CaseAction, { type: 'reply' }>, actor: Actor, ctx: WorkflowContext): Outcome {
  const closed = closedRefusal(c);
  if (closed) return closed;
  const denied = mayChange(c, actor);
  if (denied) return denied;
  if (!repliesToDeputy(c.role)) return refuse('wrong_role', `案件 ${c.caseNo} 我单位为会办，请使用“意见”向主办单位报送会办意见。`);
  if (c.status === 'unclaimed') return refuse('not_claimed', `案件 ${c.caseNo} 尚未认领，请先认领。`);
  if (c.status === 'replied') return refuse('wrong_state', `案件 ${c.caseNo} 已答复，正在等待${deputy(c)}评价。`);
  if (c.contactCount === 0) return refuse('contact_required', `须先登记与${deputy(c)}的沟通情况才能提交答复。`);
  if (!ctx.resultClasses.includes(a.resultClass)) {
    return refuse('bad_input', `办理结果类别“${a.resultClass}”无效，请选择 ${ctx.resultClasses.join('、')}。`);
  }
  const bad = checkPastDate('答复日期', a.date, c, ctx.today);
  if (bad) return bad;
  // The report's 面商率 counts contacts made before the reply: a reply dated before every contact would be false.
  if (c.firstContactDate && a.date < c.firstContactDate) {
    return refuse('bad_date', `答复日期（${a.date}）早于首次与${deputy(c)}沟通的日期（${c.firstContactDate}），须先沟通再答复，请核对日期。`);
  }
  if (c.round > 1 && c.lastRatedDate && a.date < c.lastRatedDate) {
    return refuse('bad_date', `再次答复的日期（${a.date}）不能早于不满意评价的日期（${c.lastRatedDate}）。`);
  }
  const disclosure = a.disclosure ?? c.disclosure ?? '主动公开';
  return {
    ok: true,
    change: { status: 'replied' },
    effects: [
      { type: 'add_reply', round: c.round, date: a.date, resultClass: a.resultClass, disclosure, dueDate: c.replyDueDate },
      ...withdrawRequests(c, '已答复，申请自动撤销'),
    ],
    event: { type: 'replied', kind: c.kind, round: c.round, resultClass: a.resultClass, disclosure, date: a.date },
    message: `已登记案件 ${c.caseNo} 的答复（${a.resultClass}类，${a.date}），请在${deputy(c)}评价后录入评价。`,
  };
}

function opinion(c: CaseState, a: Extract<CaseAction, { type: 'opinion' }>, actor: Actor, ctx: WorkflowContext): Outcome {
  const closed = closedRefusal(c);
  if (closed) return closed;
  const denied = mayChange(c, actor);
  if (denied) return denied;
  if (repliesToDeputy(c.role)) return refuse('wrong_role', `案件 ${c.caseNo} 由我单位答复${deputy(c)}，请使用“答复”登记答复。`);
  if (c.status === 'unclaimed') return refuse('not_claimed', `案件 ${c.caseNo} 尚未认领，请先认领。`);
  const bad = checkPastDate('报送日期', a.date, c, ctx.today) ?? checkText('会办意见说明', a.note, false);
  if (bad) return bad;
  return {
    ok: true,
    change: { status: 'closed' },
    effects: [{ type: 'add_opinion', round: c.round, date: a.date, note: a.note.trim(), dueDate: c.replyDueDate }, ...withdrawRequests(c, '已报送会办意见，申请自动撤销')],
    event: { type: 'opinion_sent', note: a.note.trim() },
    message: `已登记案件 ${c.caseNo} 的会办意见报送，案件办结。`,
  };
}

/** Requests still open when the case no longer needs them (replied, or moved out) are withdrawn, not left pending. */
function withdrawRequests(c: CaseState, because: string, which: { extension?: boolean; adjustment?: boolean } = { extension: true, adjustment: true }): Effect[] {
  const out: Effect[] = [];
  if (which.extension && c.pendingExtension) out.push({ type: 'close_extension', requestId: c.pendingExtension.id, status: 'withdrawn', note: because });
  if (which.adjustment && c.pendingAdjustment) out.push({ type: 'close_adjustment', requestId: c.pendingAdjustment.id, status: 'withdrawn', note: because });
  return out;
}

/** Whether a 不满意 rating in the case's current round reopens it (otherwise the case closes with that rating). */
export function dissatisfiedReopens(c: Pick<CaseState, 'round'>, ctx: Pick<WorkflowContext, 'maxRehandlings'>): boolean {
  return c.round <= (ctx.maxRehandlings ?? 1);
}

/** Recording the rating: 不满意 reopens the case once with a new due date; the first rating is kept. */
function rate(c: CaseState, rating: Rating, actor: Actor, ctx: WorkflowContext): Outcome {
  const closed = closedRefusal(c);
  if (closed) return closed;
  const denied = mayChange(c, actor);
  if (denied) return denied;
  if (c.status !== 'replied') return refuse('wrong_state', `案件 ${c.caseNo} 尚未答复，答复后才能录入${deputy(c)}评价。`);
  const effects: Effect[] = [{ type: 'add_rating', round: c.round, rating, date: ctx.today }];
  if (rating === '不满意' && dissatisfiedReopens(c, ctx)) {
    const due = ctx.clocks.rehandlingDue(ctx.today);
    return {
      ok: true,
      change: { status: 'rehandling', round: c.round + 1, replyDueDate: due },
      effects,
      event: { type: 'rated', kind: c.kind, rating, reopenedUntil: due },
      message: `已录入评价“不满意”。案件 ${c.caseNo} 重新办理，请于 ${due} 前再次答复。`,
    };
  }
  return {
    ok: true,
    change: { status: 'closed' },
    effects,
    event: { type: 'rated', kind: c.kind, rating },
    message: `已录入评价“${rating}”，案件 ${c.caseNo} 办结。`,
  };
}

function requestExtension(c: CaseState, a: Extract<CaseAction, { type: 'request_extension' }>, actor: Actor, ctx: WorkflowContext): Outcome {
  const closed = closedRefusal(c);
  if (closed) return closed;
  const denied = mayChange(c, actor);
  if (denied) return denied;
  if (c.status === 'replied') return refuse('wrong_state', `案件 ${c.caseNo} 已答复，无需延期。`);
  if (c.pendingExtension) {
    return refuse('request_pending', `案件 ${c.caseNo} 已有延期申请（至 ${c.pendingExtension.until}）待协调员审批。`);
  }
  const bad = checkText('延期理由', a.reason, true);
  if (bad) return bad;
  if (a.until <= c.replyDueDate) return refuse('bad_date', `延期后的日期须晚于当前答复期限 ${c.replyDueDate}。`);
  const limit = ctx.clocks.extensionLimit(c.assignedDate);
  if (a.until > limit) return refuse('beyond_limit', `延期不能超过交办后的最长期限，最晚只能延至 ${limit}。`);
  return {
    ok: true,
    change: {},
    effects: [{ type: 'open_extension', until: a.until, previousDue: c.replyDueDate, reason: a.reason.trim() }],
    event: { type: 'extension_requested', until: a.until, reason: a.reason.trim() },
    message: `已提交案件 ${c.caseNo} 延期至 ${a.until} 的申请，等待协调员审批。`,
  };
}

function decideExtension(c: CaseState, a: Extract<CaseAction, { type: 'decide_extension' }>, actor: Actor, ctx: WorkflowContext): Outcome {
  if (!isCoordinator(actor)) return refuse('coordinator_only', '只有协调员可以审批延期申请。');
  const p = c.pendingExtension;
  if (!p || p.id !== a.requestId) return refuse('no_request', `案件 ${c.caseNo} 没有待审批的该项延期申请（可能已被处理）。`);
  const bad = checkText('审批意见', a.note, false);
  if (bad) return bad;
  if (!a.approve) {
    return {
      ok: true,
      change: {},
      effects: [{ type: 'close_extension', requestId: p.id, status: 'refused', note: a.note.trim() }],
      event: { type: 'extension_refused', note: a.note.trim() },
      message: `已退回案件 ${c.caseNo} 的延期申请。`,
    };
  }
  const closed = closedRefusal(c);
  if (closed) return closed;
  const limit = ctx.clocks.extensionLimit(c.assignedDate);
  if (p.until > limit) return refuse('beyond_limit', `延期不能超过交办后的最长期限，最晚只能延至 ${limit}。`);
  return {
    ok: true,
    change: { replyDueDate: p.until },
    effects: [{ type: 'close_extension', requestId: p.id, status: 'approved', note: a.note.trim() }],
    event: { type: 'extension_approved', from: c.replyDueDate, to: p.until },
    message: `已同意延期，案件 ${c.caseNo} 答复期限调整为 ${p.until}。`,
  };
}

/** An adjustment is asked for within the window after assignment; the unit never passes a case on by itself. */
function requestAdjustment(c: CaseState, reason: string, actor: Actor, ctx: WorkflowContext): Outcome {
  const closed = closedRefusal(c);
  if (closed) return closed;
  // An unclaimed case may be questioned by anyone who sees it; a claimed one by its handler or a coordinator.
  if (c.handler) {
    const denied = mayChange(c, actor);
    if (denied) return denied;
  }
  if (c.status === 'replied') return refuse('wrong_state', `案件 ${c.caseNo} 已答复，不能再申请调整。`);
  if (c.pendingAdjustment) return refuse('request_pending', `案件 ${c.caseNo} 已有调整申请待协调员决定。`);
  const deadline = ctx.clocks.adjustmentDeadline(c.assignedDate);
  if (ctx.today > deadline) {
    return refuse('window_closed', `调整申请须在交办后规定时限内提出（截至 ${deadline}），现已超过，请按原交办办理或联系协调员。`);
  }
  const bad = checkText('调整理由', reason, true);
  if (bad) return bad;
  return {
    ok: true,
    change: {},
    effects: [{ type: 'open_adjustment', reason: reason.trim() }],
    event: { type: 'adjustment_requested', reason: reason.trim() },
    message: `已提交案件 ${c.caseNo} 的调整申请，等待协调员决定。`,
  };
}

function decideAdjustment(c: CaseState, a: Extract<CaseAction, { type: 'decide_adjustment' }>, actor: Actor): Outcome {
  if (!isCoordinator(actor)) return refuse('coordinator_only', '只有协调员可以决定调整申请。');
  const p = c.pendingAdjustment;
  if (!p || p.id !== a.requestId) return refuse('no_request', `案件 ${c.caseNo} 没有待决定的该项调整申请（可能已被处理）。`);
  const bad = checkText('决定意见', a.note, false);
  if (bad) return bad;
  if (!a.approve) {
    return {
      ok: true,
      change: {},
      effects: [{ type: 'close_adjustment', requestId: p.id, status: 'refused', note: a.note.trim() }],
      event: { type: 'adjustment_refused', note: a.note.trim() },
      message: `已退回案件 ${c.caseNo} 的调整申请。`,
    };
  }
  const closed = closedRefusal(c);
  if (closed) return closed;
  if (c.status === 'replied') return refuse('wrong_state', `案件 ${c.caseNo} 已答复，不能再调整。`);
  return {
    ok: true,
    change: { status: 'adjusted' },
    effects: [
      { type: 'close_adjustment', requestId: p.id, status: 'approved', note: a.note.trim() },
      ...withdrawRequests(c, '案件已调整出本单位，延期申请自动撤销', { extension: true }),
    ],
    event: { type: 'adjustment_approved', note: a.note.trim() },
    message: `已同意调整，案件 ${c.caseNo} 不再由本单位办理。`,
  };
}

/** The buttons a case card offers in its current state (who may press them is checked on the click). */
export function availableActions(
  c: CaseState,
  ctx: Pick<WorkflowContext, 'today' | 'clocks'>,
): Array<'claim' | 'release' | 'progress' | 'contact' | 'reply' | 'opinion' | 'rate' | 'extend' | 'adjust' | 'handover' | 'follow_up'> {
  if (c.status === 'adjusted') return [];
  // A B-class promise is followed up until kept, whatever became of the case.
  const followUp = c.promise && !c.promise.kept ? (['follow_up'] as const) : [];
  if (c.status === 'closed') return ['progress', ...followUp];
  const adjustable = !c.pendingAdjustment && ctx.today <= ctx.clocks.adjustmentDeadline(c.assignedDate);
  if (c.status === 'unclaimed') return adjustable ? ['claim', 'adjust'] : ['claim'];
  if (c.status === 'replied') return ['rate', ...followUp, 'progress', 'handover'];
  const out: ReturnType<typeof availableActions> = repliesToDeputy(c.role)
    ? c.contactCount > 0
      ? ['reply', 'contact', 'progress']
      : ['contact', 'progress']
    : ['opinion', 'progress', 'contact'];
  if (!c.pendingExtension) out.push('extend');
  if (adjustable) out.push('adjust');
  out.push(...followUp, 'handover', 'release');
  return out;
}
