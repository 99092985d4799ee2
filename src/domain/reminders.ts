// Who is reminded of what today. Pure: it gets the open cases as facts, the people and chats, the mutes, the
// calendar and the settings, and returns every reminder due today with its recipient (or why nobody can get it).
// The job stores and sends what this returns; the sender asks `stillNeeded` again just before delivering, so a
// reminder is true when it arrives.

import { addDays, addMonths, type WorkCalendar } from './calendar.ts';
import type { Clocks } from './clocks.ts';
import { repliesToDeputy, type CaseKind, type CaseStatus, type IsoDate, type OurRole } from './types.ts';

/** The reminder rules, in the order a digest lists them. */
export type ReminderRule =
  | 'overdue'
  | 'due_soon'
  | 'opinion_due'
  | 'unclaimed'
  | 'no_contact'
  | 'unrated'
  | 'follow_up'
  | 'waiting_decision'
  | 'supervision';

export const REMINDER_RULES: readonly ReminderRule[] = [
  'overdue',
  'due_soon',
  'opinion_due',
  'unclaimed',
  'no_contact',
  'unrated',
  'follow_up',
  'waiting_decision',
  'supervision',
];

export const RULE_LABELS: Record<ReminderRule, string> = {
  overdue: '已逾期',
  due_soon: '即将到期',
  opinion_due: '会办意见待报送',
  unclaimed: '待认领',
  no_contact: '尚未面商',
  unrated: '答复待评价',
  follow_up: '承诺事项回头看',
  waiting_decision: '待审批申请',
  supervision: '督办',
};

/** The one rule nobody can mute: a supervision notice to the leaders and coordinators. */
export function isMutable(rule: ReminderRule): boolean {
  return rule !== 'supervision';
}

export interface ReminderSettings {
  /** Calendar days before the reply due date on which the handler is reminded (a rest day moves to the working day before). */
  dueSoonDays: readonly number[];
  /** 督办 once a case is this many working days overdue … */
  supervisionAfterWorkdays: number;
  /** … then again every this many working days. */
  supervisionEveryWorkdays: number;
  /** Assisting roles are reminded every working day once their opinion is due within this many calendar days. */
  opinionDueWithinDays: number;
  /** "No contact yet" and "unrated" reminders repeat every this many working days after the first. */
  repeatEveryWorkdays: number;
  /** A pending extension or adjustment request is brought to the coordinators after this many working days. */
  decisionWaitWorkdays: number;
  /** B-class follow-up (回头看) this many months after the reply (or the last follow-up), then again as often. */
  followUpEveryMonths: number;
}

export const DEFAULT_REMINDER_SETTINGS: ReminderSettings = Object.freeze({
  dueSoonDays: Object.freeze([30, 14, 7, 3, 1]),
  supervisionAfterWorkdays: 5,
  supervisionEveryWorkdays: 5,
  opinionDueWithinDays: 7,
  repeatEveryWorkdays: 5,
  decisionWaitWorkdays: 1,
  followUpEveryMonths: 3,
});

/** What the rules need to know about one case. */
export interface ReminderCase {
  id: number;
  caseNo: string;
  title: string;
  kind: CaseKind;
  role: OurRole;
  status: CaseStatus;
  handlerOpenId: string | null;
  unit: string | null;
  assignedDate: IsoDate;
  replyDueDate: IsoDate;
  contactCount: number;
  /** The latest reply (not an assisting opinion) of the current round, when there is one. */
  lastReply: { date: IsoDate; resultClass: string | null; rated: boolean } | null;
  /** The latest B-class reply of any round and its follow-ups, for 回头看. */
  promise: { replyDate: IsoDate; lastFollowUpDate: IsoDate | null; kept: boolean } | null;
  /** Dates of the pending extension / adjustment requests. */
  pendingRequests: readonly { kind: 'extension' | 'adjustment'; requestedDate: IsoDate }[];
}

export interface ReminderPeople {
  coordinators: readonly string[];
  leaders: readonly string[];
  /** Chats bound to each unit (处室). */
  chatsByUnit: ReadonlyMap<string, readonly string[]>;
}

/** A person's mutes: every case, or some cases. */
export interface Mutes {
  all: ReadonlySet<string>;
  cases: ReadonlyMap<string, ReadonlySet<number>>;
}

export const NO_MUTES: Mutes = { all: new Set(), cases: new Map() };

export function isMuted(mutes: Mutes, openId: string, caseId: number): boolean {
  return mutes.all.has(openId) || (mutes.cases.get(openId)?.has(caseId) ?? false);
}

export type Recipient = { kind: 'person'; openId: string } | { kind: 'chat'; chatId: string };

/** A stable text key of a recipient (the ledger's `recipient` column). */
export function recipientKey(r: Recipient): string {
  return r.kind === 'person' ? `user:${r.openId}` : `chat:${r.chatId}`;
}

export interface Reminder {
  caseId: number;
  rule: ReminderRule;
  recipient: Recipient;
  /** Why this person or chat gets it, in Chinese (shown in the dry run). */
  why: string;
  /** Working days left (positive), due today (0) or overdue (negative), for the rules about the reply due date. */
  workdaysLeft: number | null;
  /** 加急 on the message (supervision of a leader when configured). */
  urgent: boolean;
}

export interface Undeliverable {
  caseId: number;
  rule: ReminderRule;
  /** Why nobody can get it, in Chinese. */
  reason: string;
}

export interface ReminderPlan {
  today: IsoDate;
  /** false on a rest day: nothing is sent. */
  workday: boolean;
  reminders: Reminder[];
  undeliverable: Undeliverable[];
  /** Reminders left out because the recipient muted them. */
  muted: number;
}

export interface PlanInput {
  today: IsoDate;
  cases: readonly ReminderCase[];
  people: ReminderPeople;
  mutes: Mutes;
  calendar: WorkCalendar;
  clocks: Clocks;
  settings: ReminderSettings;
  /** 加急 on the leaders' supervision cards. */
  urgentSupervision: boolean;
}

const OPEN_BEFORE_REPLY: ReadonlySet<CaseStatus> = new Set(['unclaimed', 'in_progress', 'contacted', 'rehandling']);

/** Whether the reply (or the assisting opinion) is still owed. */
export function awaitsReply(status: CaseStatus): boolean {
  return OPEN_BEFORE_REPLY.has(status);
}

/** `date` when it is a working day, else the working day before it. */
export function onOrPreviousWorkday(calendar: WorkCalendar, date: IsoDate): IsoDate {
  let d = date;
  while (!calendar.isWorkday(d)) d = addDays(d, -1);
  return d;
}

/** Whether today is one of the days the "due soon" reminder fires for `due`. */
export function isDueSoonDay(calendar: WorkCalendar, settings: ReminderSettings, today: IsoDate, due: IsoDate): number | null {
  for (const lead of settings.dueSoonDays) {
    if (onOrPreviousWorkday(calendar, addDays(due, -lead)) === today) return lead;
  }
  return null;
}

/** A repeating reminder: first on `from` (or the first working day after a rest-day `from`), then every `every` working days. */
function repeatsToday(calendar: WorkCalendar, today: IsoDate, from: IsoDate, every: number): boolean {
  const start = calendar.onOrNextWorkday(from);
  if (today < start) return false;
  return calendar.workdaysBetween(start, today) % every === 0;
}

/** Whether a follow-up of a B-class promise is due today: every `followUpEveryMonths` after the reply, counted from
 *  the last follow-up once one is recorded (a rest day moves to the next working day). */
export function followUpDueOn(calendar: WorkCalendar, settings: ReminderSettings, promise: NonNullable<ReminderCase['promise']>, today: IsoDate): boolean {
  const anchor = promise.lastFollowUpDate && promise.lastFollowUpDate > promise.replyDate ? promise.lastFollowUpDate : promise.replyDate;
  for (let k = 1; ; k++) {
    const due = calendar.onOrNextWorkday(addMonths(anchor, settings.followUpEveryMonths * k));
    if (due === today) return true;
    if (due > today) return false;
  }
}

interface Due {
  rule: ReminderRule;
  audiences: Audience[];
  workdaysLeft: number | null;
}

/** Who a rule speaks to: the handler, the case's chat, the coordinators, the leaders. */
type Audience = 'handler' | 'chat' | 'coordinators' | 'leaders';

/** The rules that are due today for one case, before recipients and mutes are resolved. */
export function dueRules(c: ReminderCase, input: Pick<PlanInput, 'today' | 'calendar' | 'clocks' | 'settings'>): Due[] {
  const { today, calendar, clocks, settings } = input;
  const out: Due[] = [];
  if (c.status === 'adjusted') return out;
  const left = clocks.workdaysLeft(today, c.replyDueDate);

  if (awaitsReply(c.status)) {
    if (left < 0) {
      out.push({ rule: 'overdue', audiences: ['handler', 'chat'], workdaysLeft: left });
      const overdueBy = -left;
      if (overdueBy >= settings.supervisionAfterWorkdays && (overdueBy - settings.supervisionAfterWorkdays) % settings.supervisionEveryWorkdays === 0) {
        out.push({ rule: 'supervision', audiences: ['leaders', 'coordinators'], workdaysLeft: left });
      }
    } else if (c.role === 'assisting') {
      if (c.handlerOpenId && addDays(today, settings.opinionDueWithinDays) >= c.replyDueDate) {
        out.push({ rule: 'opinion_due', audiences: ['handler'], workdaysLeft: left });
      }
    } else if (c.handlerOpenId && isDueSoonDay(calendar, settings, today, c.replyDueDate) !== null) {
      out.push({ rule: 'due_soon', audiences: ['handler'], workdaysLeft: left });
    }
    if (c.status === 'unclaimed' && today >= clocks.claimReminderDate(c.assignedDate)) {
      out.push({ rule: 'unclaimed', audiences: ['chat'], workdaysLeft: left });
    }
    if (c.status === 'in_progress' && repliesToDeputy(c.role) && c.contactCount === 0 && left >= 0) {
      if (repeatsToday(calendar, today, clocks.contactTarget(c.assignedDate), settings.repeatEveryWorkdays)) {
        out.push({ rule: 'no_contact', audiences: ['handler'], workdaysLeft: left });
      }
    }
  }

  if (c.status === 'replied' && c.lastReply && !c.lastReply.rated) {
    if (repeatsToday(calendar, today, clocks.ratingChaseFrom(c.lastReply.date), settings.repeatEveryWorkdays)) {
      out.push({ rule: 'unrated', audiences: ['handler', 'coordinators'], workdaysLeft: null });
    }
  }

  // A promise outlives the case: a B-class case is usually rated and closed long before the promise is kept.
  if (c.promise && !c.promise.kept && followUpDueOn(calendar, settings, c.promise, today)) {
    out.push({ rule: 'follow_up', audiences: ['handler'], workdaysLeft: null });
  }

  if (awaitsReply(c.status) || c.status === 'replied') {
    const waiting = c.pendingRequests.some((r) => calendar.workdaysBetween(r.requestedDate, today) >= settings.decisionWaitWorkdays);
    if (waiting) out.push({ rule: 'waiting_decision', audiences: ['coordinators'], workdaysLeft: null });
  }
  return out;
}

const WHY: Record<ReminderRule, string> = {
  overdue: '答复期限已过',
  due_soon: '答复期限临近',
  opinion_due: '会办意见报送期限临近或已过',
  unclaimed: '交办后无人认领',
  no_contact: '交办后尚未登记面商',
  unrated: '答复后尚未登记评价',
  follow_up: 'B类答复的承诺事项到了回头看的时间',
  waiting_decision: '延期或调整申请等待审批',
  supervision: '逾期达到督办条件',
};

/** Every reminder due today: one per (case, rule, recipient), muted ones left out, the unreachable ones listed. */
export function planReminders(input: PlanInput): ReminderPlan {
  const { today, calendar, people, mutes } = input;
  const plan: ReminderPlan = { today, workday: calendar.isWorkday(today), reminders: [], undeliverable: [], muted: 0 };
  if (!plan.workday) return plan;
  for (const c of input.cases) {
    for (const due of dueRules(c, input)) {
      const seen = new Set<string>();
      const reasons: string[] = [];
      let reached = 0;
      const add = (recipient: Recipient, role: string, urgent = false): void => {
        const key = recipientKey(recipient);
        if (seen.has(key)) return;
        seen.add(key);
        if (recipient.kind === 'person' && isMutable(due.rule) && isMuted(mutes, recipient.openId, c.id)) {
          plan.muted += 1;
          reached += 1;
          return;
        }
        reached += 1;
        plan.reminders.push({ caseId: c.id, rule: due.rule, recipient, why: `${WHY[due.rule]}（${role}）`, workdaysLeft: due.workdaysLeft, urgent });
      };
      for (const audience of due.audiences) {
        if (audience === 'handler') {
          if (c.handlerOpenId) add({ kind: 'person', openId: c.handlerOpenId }, '承办人');
          else if (!due.audiences.includes('chat')) reasons.push('案件没有承办人');
        } else if (audience === 'chat') {
          const chats = c.unit ? (people.chatsByUnit.get(c.unit) ?? []) : [];
          for (const chatId of chats) add({ kind: 'chat', chatId }, `${c.unit}的工作群`);
          if (chats.length === 0) {
            // A chat rule with no bound chat falls to the coordinators, who can bind one or hand the case out.
            for (const openId of people.coordinators) add({ kind: 'person', openId }, '协调员（该处室未绑定工作群）');
            if (people.coordinators.length === 0) reasons.push(c.unit ? `处室“${c.unit}”没有绑定工作群，也没有协调员` : '案件未分到处室，也没有协调员');
          }
        } else if (audience === 'coordinators') {
          for (const openId of people.coordinators) add({ kind: 'person', openId }, '协调员');
          if (people.coordinators.length === 0) reasons.push('没有协调员');
        } else {
          for (const openId of people.leaders) add({ kind: 'person', openId }, '分管领导', input.urgentSupervision);
          if (people.leaders.length === 0) reasons.push('没有设置分管领导');
        }
      }
      if (reached === 0) plan.undeliverable.push({ caseId: c.id, rule: due.rule, reason: reasons.join('；') || '没有可提醒的人' });
    }
  }
  return plan;
}

/**
 * Whether a reminder chosen earlier still holds now, just before it is delivered or when its digest is redrawn:
 * false once the case moved on (claimed, replied, rated, followed up, reassigned, closed) or the recipient muted it.
 */
export function stillNeeded(
  reminder: Pick<Reminder, 'rule' | 'recipient'>,
  c: ReminderCase | null,
  mutes: Mutes,
  today: IsoDate,
): boolean {
  if (!c || c.status === 'adjusted') return false;
  if (reminder.recipient.kind === 'person' && isMutable(reminder.rule) && isMuted(mutes, reminder.recipient.openId, c.id)) return false;
  const handlerStill = (): boolean => reminder.recipient.kind !== 'person' || c.handlerOpenId === reminder.recipient.openId;
  switch (reminder.rule) {
    case 'overdue':
    case 'supervision':
      return awaitsReply(c.status) && c.replyDueDate < today;
    case 'due_soon':
    case 'opinion_due':
      return awaitsReply(c.status) && c.status !== 'unclaimed' && handlerStill();
    case 'unclaimed':
      return c.status === 'unclaimed';
    case 'no_contact':
      return c.status === 'in_progress' && c.contactCount === 0 && handlerStill();
    case 'unrated':
      return c.status === 'replied' && !!c.lastReply && !c.lastReply.rated;
    case 'follow_up':
      return !!c.promise && !c.promise.kept && (c.promise.lastFollowUpDate === null || c.promise.lastFollowUpDate < today) && handlerStill();
    case 'waiting_decision':
      return c.pendingRequests.length > 0 && (awaitsReply(c.status) || c.status === 'replied');
  }
}

/** What a done item of a live digest says it became (shown struck through), or null while it still needs work. */
export function doneLabel(rule: ReminderRule, c: ReminderCase | null): string | null {
  if (!c) return '案件已删除';
  if (c.status === 'adjusted') return '已调整出本单位';
  if (c.status === 'closed' && rule !== 'follow_up') return '已办结';
  if (rule === 'unclaimed' && c.status !== 'unclaimed') return '已认领';
  if ((rule === 'overdue' || rule === 'due_soon' || rule === 'opinion_due' || rule === 'supervision' || rule === 'no_contact') && !awaitsReply(c.status)) {
    return c.role === 'assisting' ? '意见已报送' : '已答复';
  }
  if (rule === 'no_contact' && c.contactCount > 0) return '已面商';
  if (rule === 'unrated' && (c.status !== 'replied' || c.lastReply?.rated)) return '已评价';
  if (rule === 'follow_up' && c.promise?.kept) return '承诺已落实';
  if (rule === 'waiting_decision' && c.pendingRequests.length === 0) return '已审批';
  return null;
}

/** Parses the "due soon" lead days from configuration ("30,14,7,3,1"); throws naming the bad item. */
export function parseLeadDays(text: string): number[] {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new Error('expected at least one number of days, e.g. 30,14,7,3,1');
  const days = items.map((item) => {
    if (!/^\d+$/.test(item) || Number(item) < 1 || Number(item) > 366) throw new Error(`"${item}" is not a number of days between 1 and 366`);
    return Number(item);
  });
  return [...new Set(days)].sort((a, b) => b - a);
}
