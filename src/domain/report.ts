// The report's arithmetic: typed records of cases in, the figures a department publishes out. Pure: no Lark, no SQL,
// no clock (the caller says what "today" is). The rules below are written down for staff in docs/使用指南.md
// ("统计口径") and each has a test in test/unit/report.test.ts.
//
// Counting rules:
// - Only cases of the requested year (and kind, and unit when asked) are counted; other years are ignored entirely.
// - A case adjusted out of our department (status 'adjusted') is not counted anywhere; it is listed apart.
// - A case counts once, however many rounds it had. Its rates use its first reply (答复 on time or not, 面商 before
//   the reply) and its latest rating (满意率); the 不满意 count uses its first rating, so reopening a case and
//   satisfying the deputy the second time never erases the first 不满意. The result class is that of its latest reply.
// - 办理回复率 = replied ÷ due, where "due" means replying roles (主办/独办/分办) replied already or with the reply due
//   date on or before the report date. 按时答复率 = replied by the first round's due date (extensions included) ÷
//   the same "due". 面商率 = cases with a contact on or before their first reply (or any contact, while not yet
//   replied) ÷ every replying-role case. 满意率 = 满意 ÷ rated; 满意率(含基本满意) = (满意 + 基本满意) ÷ rated.
//   会办意见按时报送率 = opinions sent by their due date ÷ assisting cases sent or due.
// - An empty denominator gives "—", never NaN, 0% or 100%.

import type { CaseKind, CaseStatus, Disclosure, IsoDate, OurRole, Rating } from './types.ts';
import { ROLE_LABELS, STATUS_LABELS } from './types.ts';

/** A contact with the deputy, as recorded. */
export interface ContactRecord {
  round: number;
  date: IsoDate;
}

/** A reply letter (kind 'reply') or an assisting unit's opinion (kind 'opinion'). */
export interface ReplyRecord {
  round: number;
  kind: 'reply' | 'opinion';
  date: IsoDate;
  resultClass: string | null;
  disclosure: Disclosure | null;
  /** The due date in force when it was recorded (approved extensions included). */
  dueDate: IsoDate;
}

export interface RatingRecord {
  round: number;
  rating: Rating;
  date: IsoDate;
}

/** A 回头看 of a B-class promise. 'changed': the promise had to change and this was explained to the deputy. */
export interface FollowUpRecord {
  round: number;
  outcome: 'checked' | 'kept' | 'changed';
  date: IsoDate;
  note: string;
}

/** One case with everything the report counts. */
export interface ReportCase {
  caseNo: string;
  kind: CaseKind;
  year: number;
  title: string;
  proposer: string;
  /** 办理类别 as imported (主办, 承办, 汇办 …). */
  roleLabel: string;
  role: OurRole;
  unit: string | null;
  handlerName: string | null;
  assignedDate: IsoDate;
  /** The reply due date in force now (after extensions, or the second round's after 不满意). */
  replyDueDate: IsoDate;
  /** 公开情况 planned at import; a reply's own disclosure wins. */
  disclosure: Disclosure | null;
  status: CaseStatus;
  contacts: readonly ContactRecord[];
  replies: readonly ReplyRecord[];
  ratings: readonly RatingRecord[];
  followUps: readonly FollowUpRecord[];
}

export interface ReportScope {
  year: number;
  kind?: CaseKind | null;
  /** Only cases of this unit (处室); null or absent for every unit. */
  unit?: string | null;
  /** The report date: what is due or overdue is judged against it. */
  asOf: IsoDate;
}

/** A rate with its parts; `percent` is "—" when nothing is in the denominator. */
export interface Rate {
  numerator: number;
  denominator: number;
  /** "22/23" */
  fraction: string;
  /** "95.7%", "100%", or "—" */
  percent: string;
}

/** A rate from its parts: percent rounded to one decimal, a trailing ".0" dropped. */
export function rate(numerator: number, denominator: number): Rate {
  if (!Number.isInteger(numerator) || !Number.isInteger(denominator) || numerator < 0 || denominator < 0 || numerator > denominator) {
    throw new RangeError(`rate: bad parts ${numerator}/${denominator}`);
  }
  const fraction = `${numerator}/${denominator}`;
  if (denominator === 0) return { numerator, denominator, fraction, percent: '—' };
  // Integer arithmetic, so 2/3 → 66.7 and 1/8 → 12.5 round half up without binary-fraction surprises.
  const tenths = Math.floor((numerator * 2000 + denominator) / (2 * denominator));
  const whole = Math.floor(tenths / 10);
  const rest = tenths % 10;
  return { numerator, denominator, fraction, percent: rest === 0 ? `${whole}%` : `${whole}.${rest}%` };
}

/** What the report derives from one case. */
export interface CaseFacts {
  case: ReportCase;
  firstReply: ReplyRecord | null;
  latestReply: ReplyRecord | null;
  firstRating: RatingRecord | null;
  latestRating: RatingRecord | null;
  firstContactDate: IsoDate | null;
  /** The disclosure shown: the latest reply's, else the planned one. */
  disclosure: Disclosure | null;
  /** Result class of the latest reply (replying roles). */
  resultClass: string | null;
  /** Replying role: replied or due by the report date. Assisting: opinion sent or due. */
  due: boolean;
  /** Replied (or opinion sent) by the first round's due date; null while there is nothing to judge. */
  onTime: boolean | null;
  /** Still open past its due date on the report date. */
  overdue: boolean;
  /** Replied and waiting for the rating. */
  unrated: boolean;
  /** A contact on or before the first reply (or any contact while not replied). */
  contactedBeforeReply: boolean;
  /** The reply or opinion is in (the case needs nothing more from us unless reopened). */
  done: boolean;
  /** Date the case was last completed (latest reply or opinion), when done. */
  doneDate: IsoDate | null;
}

const ACTIVE: ReadonlySet<CaseStatus> = new Set(['unclaimed', 'in_progress', 'contacted', 'rehandling']);

function byRound<T extends { round: number; date: IsoDate }>(records: readonly T[]): T[] {
  return [...records].sort((a, b) => a.round - b.round || (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

/** The facts of one case on the report date. */
export function caseFacts(c: ReportCase, asOf: IsoDate): CaseFacts {
  const assisting = c.role === 'assisting';
  const answers = byRound(c.replies.filter((r) => r.kind === (assisting ? 'opinion' : 'reply')));
  const ratings = byRound(c.ratings);
  const firstReply = answers[0] ?? null;
  const latestReply = answers.at(-1) ?? null;
  const firstContactDate = c.contacts.reduce<IsoDate | null>((min, k) => (min === null || k.date < min ? k.date : min), null);
  // The first round's due date: what the first reply was measured against, or (not yet replied, still round 1) the
  // due date in force now.
  const firstDue = firstReply?.dueDate ?? (c.status === 'rehandling' ? null : c.replyDueDate);
  const due = firstReply !== null || (firstDue !== null && firstDue <= asOf);
  const onTime = firstReply ? firstReply.date <= firstReply.dueDate : due ? false : null;
  const done = !ACTIVE.has(c.status) && c.status !== 'adjusted' && latestReply !== null;
  return {
    case: c,
    firstReply,
    latestReply,
    firstRating: ratings[0] ?? null,
    latestRating: ratings.at(-1) ?? null,
    firstContactDate,
    disclosure: (assisting ? null : latestReply?.disclosure) ?? c.disclosure,
    resultClass: assisting ? null : (latestReply?.resultClass ?? null),
    due,
    onTime,
    overdue: ACTIVE.has(c.status) && c.replyDueDate < asOf,
    unrated: c.status === 'replied',
    contactedBeforeReply: firstContactDate !== null && (firstReply === null || firstContactDate <= firstReply.date),
    done,
    doneDate: done ? (latestReply?.date ?? null) : null,
  };
}

export const ROLE_ORDER: readonly OurRole[] = ['lead', 'sole', 'separate', 'assisting'];

/** One row of the B-class list, with exactly the published columns. */
export interface BClassRow {
  roleLabel: string;
  caseNo: string;
  disclosure: string;
  title: string;
}

/** A promise that had to change (承诺事项调整). */
export interface PromiseChangeRow {
  caseNo: string;
  title: string;
  date: IsoDate;
  note: string;
}

export interface GroupRow {
  /** The unit or handler; "（未分配）" when none. */
  name: string;
  total: number;
  replied: number;
  overdue: number;
  satisfied: Rate;
}

export interface RoleCount {
  role: OurRole;
  /** The labels as imported, most used first (e.g. 汇办 where the region says so). */
  label: string;
  count: number;
}

export interface ReportFigures {
  scope: ReportScope;
  /** Cases counted (adjusted-out ones excluded). */
  total: number;
  byKind: Record<CaseKind, number>;
  byRole: RoleCount[];
  byStatus: { status: CaseStatus; label: string; count: number }[];
  /** 主办 + 独办/承办 + 分办. */
  replyingTotal: number;
  assistingTotal: number;
  replyRate: Rate;
  onTimeRate: Rate;
  contactRate: Rate;
  satisfiedRate: Rate;
  satisfiedOrBasicRate: Rate;
  /** Cases whose first rating was 不满意. */
  firstDissatisfied: number;
  assistingOnTimeRate: Rate;
  /** Result class of the latest reply, by role: classes[role][class] = count. */
  classMix: { role: OurRole; label: string; counts: Record<string, number> }[];
  resultClasses: string[];
  overdue: number;
  unrated: number;
  byUnit: GroupRow[];
  byHandler: GroupRow[];
  /** Open cases by the month their reply is due ("2024-06"), earliest first. */
  openByDueMonth: { month: string; count: number }[];
  bClass: BClassRow[];
  promiseChanges: PromiseChangeRow[];
  /** Adjusted out of the unit: listed apart, never counted. */
  adjustedOut: { caseNo: string; roleLabel: string; title: string }[];
  /** Every counted case, by role then case number. */
  cases: CaseFacts[];
  /** When every counted case is done: the date the last one was. */
  completedOn: IsoDate | null;
}

const UNASSIGNED = '（未分配）';

function compareCaseNo(a: string, b: string): number {
  // Case numbers are digits of equal length within a year; a shorter one sorts first when they are not.
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

function byRoleThenNo(a: CaseFacts, b: CaseFacts): number {
  return ROLE_ORDER.indexOf(a.case.role) - ROLE_ORDER.indexOf(b.case.role) || compareCaseNo(a.case.caseNo, b.case.caseNo);
}

function mostUsedLabel(labels: readonly string[], role: OurRole): string {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  let best: string = ROLE_LABELS[role];
  let bestN = 0;
  for (const [l, n] of counts) if (n > bestN) [best, bestN] = [l, n];
  return best;
}

function groupRows(facts: readonly CaseFacts[], keyOf: (f: CaseFacts) => string | null): GroupRow[] {
  const groups = new Map<string, CaseFacts[]>();
  for (const f of facts) {
    const key = keyOf(f) ?? UNASSIGNED;
    const list = groups.get(key);
    if (list) list.push(f);
    else groups.set(key, [f]);
  }
  return [...groups.entries()]
    .map(([name, list]) => {
      const rated = list.filter((f) => f.case.role !== 'assisting' && f.latestRating !== null);
      return {
        name,
        total: list.length,
        replied: list.filter((f) => f.firstReply !== null).length,
        overdue: list.filter((f) => f.overdue).length,
        satisfied: rate(rated.filter((f) => f.latestRating?.rating === '满意').length, rated.length),
      };
    })
    .sort((a, b) => (a.name === UNASSIGNED ? 1 : b.name === UNASSIGNED ? -1 : b.total - a.total || (a.name < b.name ? -1 : 1)));
}

/** The report's figures for `scope` from `records` (records outside the scope are ignored). */
export function computeReport(records: readonly ReportCase[], scope: ReportScope, resultClasses: readonly string[] = ['A', 'B', 'C']): ReportFigures {
  const inScope = records.filter(
    (c) => c.year === scope.year && (!scope.kind || c.kind === scope.kind) && (!scope.unit || c.unit === scope.unit),
  );
  const adjusted = inScope.filter((c) => c.status === 'adjusted');
  const facts = inScope
    .filter((c) => c.status !== 'adjusted')
    .map((c) => caseFacts(c, scope.asOf))
    .sort(byRoleThenNo);

  const replying = facts.filter((f) => f.case.role !== 'assisting');
  const assisting = facts.filter((f) => f.case.role === 'assisting');
  const dueReplying = replying.filter((f) => f.due);
  const dueAssisting = assisting.filter((f) => f.due);
  const rated = replying.filter((f) => f.latestRating !== null);

  const byRole: RoleCount[] = ROLE_ORDER.map((role) => {
    const of = facts.filter((f) => f.case.role === role);
    return { role, label: mostUsedLabel(of.map((f) => f.case.roleLabel), role), count: of.length };
  }).filter((r) => r.count > 0);

  const classes = [...resultClasses];
  for (const f of replying) if (f.resultClass && !classes.includes(f.resultClass)) classes.push(f.resultClass);
  const classMix = byRole
    .filter((r) => r.role !== 'assisting')
    .map((r) => {
      const counts: Record<string, number> = Object.fromEntries(classes.map((k) => [k, 0]));
      for (const f of replying) if (f.case.role === r.role && f.resultClass) counts[f.resultClass] = (counts[f.resultClass] ?? 0) + 1;
      return { role: r.role, label: r.label, counts };
    });

  const statuses = Object.keys(STATUS_LABELS) as CaseStatus[];
  const byStatus = statuses
    .filter((s) => s !== 'adjusted')
    .map((status) => ({ status, label: STATUS_LABELS[status], count: facts.filter((f) => f.case.status === status).length }))
    .filter((s) => s.count > 0);

  const openByMonth = new Map<string, number>();
  for (const f of facts) {
    if (!ACTIVE.has(f.case.status)) continue;
    const month = f.case.replyDueDate.slice(0, 7);
    openByMonth.set(month, (openByMonth.get(month) ?? 0) + 1);
  }

  const bClass = replying
    .filter((f) => f.resultClass === 'B')
    .map((f) => ({ roleLabel: f.case.roleLabel, caseNo: f.case.caseNo, disclosure: f.disclosure ?? '', title: f.case.title }));

  const promiseChanges = facts
    .flatMap((f) => f.case.followUps.filter((u) => u.outcome === 'changed').map((u) => ({ caseNo: f.case.caseNo, title: f.case.title, date: u.date, note: u.note })))
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : compareCaseNo(a.caseNo, b.caseNo)));

  const allDone = facts.length > 0 && facts.every((f) => f.done);
  const completedOn = allDone ? facts.reduce<IsoDate>((max, f) => (f.doneDate && f.doneDate > max ? f.doneDate : max), '') || null : null;

  return {
    scope,
    total: facts.length,
    byKind: { 建议: facts.filter((f) => f.case.kind === '建议').length, 提案: facts.filter((f) => f.case.kind === '提案').length },
    byRole,
    byStatus,
    replyingTotal: replying.length,
    assistingTotal: assisting.length,
    replyRate: rate(dueReplying.filter((f) => f.firstReply !== null).length, dueReplying.length),
    onTimeRate: rate(dueReplying.filter((f) => f.onTime === true).length, dueReplying.length),
    contactRate: rate(replying.filter((f) => f.contactedBeforeReply).length, replying.length),
    satisfiedRate: rate(rated.filter((f) => f.latestRating?.rating === '满意').length, rated.length),
    satisfiedOrBasicRate: rate(rated.filter((f) => f.latestRating?.rating !== '不满意').length, rated.length),
    firstDissatisfied: replying.filter((f) => f.firstRating?.rating === '不满意').length,
    assistingOnTimeRate: rate(dueAssisting.filter((f) => f.onTime === true).length, dueAssisting.length),
    classMix,
    resultClasses: classes,
    overdue: facts.filter((f) => f.overdue).length,
    unrated: facts.filter((f) => f.unrated).length,
    byUnit: groupRows(facts, (f) => f.case.unit),
    byHandler: groupRows(facts, (f) => f.case.handlerName),
    openByDueMonth: [...openByMonth.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([month, count]) => ({ month, count })),
    bClass,
    promiseChanges,
    adjustedOut: adjusted
      .map((c) => ({ caseNo: c.caseNo, roleLabel: c.roleLabel, title: c.title }))
      .sort((a, b) => compareCaseNo(a.caseNo, b.caseNo)),
    cases: facts,
    completedOn,
  };
}

/** "6月11日" */
export function monthDay(date: IsoDate): string {
  return `${Number(date.slice(5, 7))}月${Number(date.slice(8, 10))}日`;
}

/** The kind as the wording says it: 建议, 提案, or 建议提案 when both are counted. */
function kindWord(f: ReportFigures): string {
  if (f.scope.kind) return f.scope.kind;
  if (f.byKind.提案 === 0) return '建议';
  if (f.byKind.建议 === 0) return '提案';
  return '建议提案';
}

function proposerWord(f: ReportFigures): string {
  const word = kindWord(f);
  return word === '建议' ? '代表' : word === '提案' ? '委员' : '代表委员';
}

/**
 * The summary in the wording departments publish, one paragraph per line:
 * "2024年共办理建议11件，其中主办9件，分办2件。" …
 */
export function summaryLines(f: ReportFigures): string[] {
  const scope = `${f.scope.year}年${f.scope.unit ? `${f.scope.unit}` : ''}`;
  const word = kindWord(f);
  if (f.total === 0) {
    const apart = f.adjustedOut.length ? `另有${f.adjustedOut.length}件已调整出本单位，不计入统计。` : '';
    return [`${scope}暂无${word}办理数据。${apart}`];
  }
  const lines: string[] = [];
  const parts = f.byRole.map((r) => `${r.label}${r.count}件`).join('，');
  const kinds = !f.scope.kind && f.byKind.建议 > 0 && f.byKind.提案 > 0 ? `（建议${f.byKind.建议}件，提案${f.byKind.提案}件）` : '';
  lines.push(`${scope}共办理${word}${f.total}件${kinds}，其中${parts}。`);
  if (f.replyingTotal > 0) {
    lines.push(
      `办理回复率${f.replyRate.percent}（${f.replyRate.fraction}），按时答复率${f.onTimeRate.percent}（${f.onTimeRate.fraction}），` +
        `面商率${f.contactRate.percent}（${f.contactRate.fraction}）。`,
    );
    lines.push(
      `${proposerWord(f)}满意率${f.satisfiedRate.percent}（${f.satisfiedRate.fraction}），含基本满意${f.satisfiedOrBasicRate.percent}` +
        `（${f.satisfiedOrBasicRate.fraction}）；首次评价不满意${f.firstDissatisfied}件。`,
    );
    const mix = f.classMix
      .map((m) => `${m.label}：${f.resultClasses.map((k) => `${k}类${m.counts[k] ?? 0}件`).join('、')}`)
      .join('；');
    lines.push(`办理结果：${mix}。`);
  }
  if (f.assistingTotal > 0) {
    lines.push(`会办意见按时报送率${f.assistingOnTimeRate.percent}（${f.assistingOnTimeRate.fraction}）。`);
  }
  if (f.overdue > 0 || f.unrated > 0) lines.push(`逾期未办结${f.overdue}件，已答复待评价${f.unrated}件。`);
  if (f.completedOn) lines.push(`截至${monthDay(f.completedOn)}，${f.total}件已全部办理完毕。`);
  if (f.adjustedOut.length > 0) {
    lines.push(`另有${f.adjustedOut.length}件已调整出本单位（${f.adjustedOut.map((a) => a.caseNo).join('、')}），不计入以上统计。`);
  }
  return lines;
}

/**
 * Whose cases 统计 counts: a chat bound to a unit counts that unit (for anyone in it); otherwise a coordinator gets
 * everything; anyone else is told how to get a scope.
 */
export function statsScope(input: { chatUnit: string | null; coordinator: boolean }): { unit: string | null } | { refusal: string } {
  if (input.chatUnit) return { unit: input.chatUnit };
  if (input.coordinator) return { unit: null };
  return { refusal: '本群尚未绑定处室，无法确定统计范围。请协调员先发送“绑定 <处室>”，或请协调员私聊机器人统计全部案件。' };
}
