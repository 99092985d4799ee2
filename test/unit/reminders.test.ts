import { describe, expect, it } from 'vitest';
import { addDays, createWorkCalendar } from '../../src/domain/calendar.ts';
import { createClocks } from '../../src/domain/clocks.ts';
import {
  DEFAULT_REMINDER_SETTINGS,
  doneLabel,
  isDueSoonDay,
  NO_MUTES,
  parseLeadDays,
  planReminders,
  stillNeeded,
  type Mutes,
  type PlanInput,
  type ReminderCase,
  type ReminderPeople,
} from '../../src/domain/reminders.ts';

// The reminder rules on the official 2024 calendar: 中秋 9/15–9/17 off with Saturday 9/14 worked; National Day
// 10/1–10/7 off with Sunday 9/29 and Saturday 10/12 worked.

const calendar = createWorkCalendar();
const clocks = createClocks(calendar);
const settings = DEFAULT_REMINDER_SETTINGS;

const people: ReminderPeople = {
  coordinators: ['ou_coord'],
  leaders: ['ou_leader'],
  chatsByUnit: new Map([['养老服务处', ['oc_elderly']]]),
};

function aCase(over: Partial<ReminderCase> = {}): ReminderCase {
  return {
    id: 1,
    caseNo: '20240562',
    title: '关于加快推进老年社会监护服务中心相关立法及建设工作的建议',
    kind: '建议',
    role: 'lead',
    status: 'contacted',
    handlerOpenId: 'ou_zhang',
    unit: '养老服务处',
    assignedDate: '2024-07-08',
    replyDueDate: '2024-10-08',
    contactCount: 1,
    lastReply: null,
    promise: null,
    pendingRequests: [],
    ...over,
  };
}

function plan(today: string, cases: ReminderCase[], over: Partial<PlanInput> = {}) {
  return planReminders({ today, cases, people, mutes: NO_MUTES, calendar, clocks, settings, urgentSupervision: false, ...over });
}

/** "rule→recipient" lines, sorted, for one day. */
function sent(today: string, cases: ReminderCase[], over: Partial<PlanInput> = {}): string[] {
  return plan(today, cases, over)
    .reminders.map((r) => `${r.rule}→${r.recipient.kind === 'person' ? r.recipient.openId : r.recipient.chatId}`)
    .sort();
}

/** The working days from `from` to `to` on which `rule` fires. */
function daysOf(rule: string, from: string, to: string, c: ReminderCase, over: Partial<PlanInput> = {}): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) if (plan(d, [c], over).reminders.some((r) => r.rule === rule)) out.push(d);
  return out;
}

describe('reply due soon', () => {
  it('reminds the handler 30, 14, 7, 3 and 1 days ahead, moving a rest day to the working day before', () => {
    // Due Tue 10/8: 30 days ahead is Sun 9/8 → Fri 9/6; 14 ahead Tue 9/24; 7, 3 and 1 ahead fall in the National Day
    // holiday (10/1, 10/5, 10/7) and all land on Mon 9/30, which gets one reminder, not three.
    expect(daysOf('due_soon', '2024-09-01', '2024-10-08', aCase())).toEqual(['2024-09-06', '2024-09-24', '2024-09-30']);
    expect(sent('2024-09-30', [aCase()])).toEqual(['due_soon→ou_zhang']);
  });

  it('lands on the make-up Saturday of 中秋 when that is the working day before', () => {
    // Due Wed 9/18: 7 days ahead Wed 9/11; 3 days ahead is Sun 9/15 (holiday) → Sat 9/14, a working day; 1 day
    // ahead Tue 9/17 → also 9/14.
    expect(isDueSoonDay(calendar, settings, '2024-09-14', '2024-09-18')).toBe(3);
    expect(daysOf('due_soon', '2024-09-10', '2024-09-18', aCase({ replyDueDate: '2024-09-18' }))).toEqual(['2024-09-11', '2024-09-14']);
  });

  it('says nothing on a rest day, whatever is due', () => {
    const p = plan('2024-10-03', [aCase({ replyDueDate: '2024-09-20' })]);
    expect(p.workday).toBe(false);
    expect(p.reminders).toEqual([]);
  });

  it('follows the configured lead days', () => {
    expect(daysOf('due_soon', '2024-09-01', '2024-10-08', aCase(), { settings: { ...settings, dueSoonDays: [10] } })).toEqual(['2024-09-27']);
    expect(parseLeadDays('1, 30,7,7')).toEqual([30, 7, 1]);
    expect(() => parseLeadDays('7,x')).toThrow('"x" is not a number of days');
  });
});

describe('overdue and 督办', () => {
  const overdue = aCase({ replyDueDate: '2024-09-20' });

  it('reminds the handler and the case\'s chat every working day past the due date', () => {
    expect(daysOf('overdue', '2024-09-20', '2024-10-09', overdue)).toEqual(['2024-09-23', '2024-09-24', '2024-09-25', '2024-09-26', '2024-09-27', '2024-09-29', '2024-09-30', '2024-10-08', '2024-10-09']);
    expect(sent('2024-09-23', [overdue])).toEqual(['overdue→oc_elderly', 'overdue→ou_zhang']);
  });

  it('sends 督办 to the leaders and coordinators at 5 working days overdue, then every 5 working days', () => {
    // Overdue by working days: 9/23 1 … 9/27 5, 9/29 6, 9/30 7, 10/8 8 … 10/10 10, 10/11 11, Sat 10/12 12 … 10/16 15.
    expect(daysOf('supervision', '2024-09-20', '2024-10-18', overdue)).toEqual(['2024-09-27', '2024-10-10', '2024-10-16']);
    expect(sent('2024-09-27', [overdue]).filter((s) => s.startsWith('supervision'))).toEqual(['supervision→ou_coord', 'supervision→ou_leader']);
  });

  it('marks the leader\'s copy for 加急 only when configured', () => {
    const urgent = (u: boolean) => plan('2024-09-27', [overdue], { urgentSupervision: u }).reminders.filter((r) => r.urgent).map((r) => r.recipient);
    expect(urgent(false)).toEqual([]);
    expect(urgent(true)).toEqual([{ kind: 'person', openId: 'ou_leader' }]);
  });

  it('stops the day the reply is recorded', () => {
    expect(sent('2024-09-27', [aCase({ replyDueDate: '2024-09-20', status: 'replied', lastReply: { date: '2024-09-26', resultClass: 'A', rated: false } })])).toEqual([]);
  });
});

describe('unclaimed', () => {
  const unclaimed = aCase({ status: 'unclaimed', handlerOpenId: null, assignedDate: '2024-09-12', replyDueDate: '2024-12-12', contactCount: 0 });

  it('reminds the unit\'s chat from 2 working days after assignment, every working day', () => {
    // Assigned Thu 9/12: +2 working days is Sat 9/14 (make-up day of 中秋), then 9/18 after the holiday.
    expect(daysOf('unclaimed', '2024-09-12', '2024-09-19', unclaimed)).toEqual(['2024-09-14', '2024-09-18', '2024-09-19']);
    expect(sent('2024-09-14', [unclaimed])).toEqual(['unclaimed→oc_elderly']);
  });

  it('falls to the coordinators when no chat is bound to the unit, and is undeliverable with nobody at all', () => {
    expect(sent('2024-09-18', [{ ...unclaimed, unit: null }])).toEqual(['unclaimed→ou_coord']);
    const p = plan('2024-09-18', [{ ...unclaimed, unit: null }], { people: { coordinators: [], leaders: [], chatsByUnit: new Map() } });
    expect(p.reminders).toEqual([]);
    expect(p.undeliverable).toEqual([{ caseId: 1, rule: 'unclaimed', reason: '案件未分到处室，也没有协调员' }]);
  });
});

describe('no contact yet, assisting opinion, waiting decision', () => {
  it('reminds the handler 15 working days after assignment without a contact, then weekly', () => {
    const c = aCase({ status: 'in_progress', contactCount: 0, assignedDate: '2024-09-02', replyDueDate: '2024-12-02' });
    // +15 working days from Mon 9/2 (中秋 off, Sat 9/14 worked) is Tue 9/24; then every 5 working days (Sun 9/29
    // and Sat 10/12 are worked).
    expect(daysOf('no_contact', '2024-09-02', '2024-10-12', c)).toEqual(['2024-09-24', '2024-09-30', '2024-10-12']);
    expect(daysOf('no_contact', '2024-09-02', '2024-10-12', { ...c, role: 'assisting' })).toEqual([]);
  });

  it('reminds an assisting handler every working day within 7 days of the opinion due date, and past it', () => {
    const c = aCase({ role: 'assisting', status: 'in_progress', contactCount: 0, replyDueDate: '2024-10-09' });
    expect(daysOf('opinion_due', '2024-09-27', '2024-10-09', c)).toEqual(['2024-10-08', '2024-10-09']);
    expect(daysOf('overdue', '2024-10-09', '2024-10-11', c)).toEqual(['2024-10-10', '2024-10-11']);
  });

  it('brings a request still undecided after 1 working day to the coordinators', () => {
    const c = aCase({ pendingRequests: [{ kind: 'extension', requestedDate: '2024-09-13' }] });
    expect(daysOf('waiting_decision', '2024-09-13', '2024-09-18', c)).toEqual(['2024-09-14', '2024-09-18']);
    expect(sent('2024-09-14', [c])).toEqual(['waiting_decision→ou_coord']);
  });
});

describe('unrated replies', () => {
  const replied = aCase({ status: 'replied', lastReply: { date: '2024-09-02', resultClass: 'A', rated: false } });

  it('are chased 15 working days after the reply, then weekly, to the handler and the coordinators', () => {
    expect(daysOf('unrated', '2024-09-02', '2024-10-15', replied)).toEqual(['2024-09-24', '2024-09-30', '2024-10-12']);
    expect(sent('2024-09-24', [replied])).toEqual(['unrated→ou_coord', 'unrated→ou_zhang']);
  });

  it('stop once the rating is recorded', () => {
    expect(daysOf('unrated', '2024-09-02', '2024-10-15', { ...replied, status: 'closed', lastReply: { date: '2024-09-02', resultClass: 'A', rated: true } })).toEqual([]);
  });
});

describe('B-class follow-up (回头看)', () => {
  const promised = aCase({ status: 'closed', lastReply: { date: '2024-06-14', resultClass: 'B', rated: true }, promise: { replyDate: '2024-06-14', lastFollowUpDate: null, kept: false } });

  it('comes 3 months after the reply (a rest day moves to the next working day), then 3 months after the last follow-up', () => {
    // 6/14 + 3 months = Sat 9/14, a make-up working day of 中秋.
    expect(daysOf('follow_up', '2024-09-01', '2024-12-31', promised)).toEqual(['2024-09-14', '2024-12-16']);
    const checked = { ...promised, promise: { replyDate: '2024-06-14', lastFollowUpDate: '2024-09-20', kept: false } };
    expect(daysOf('follow_up', '2024-09-01', '2024-12-31', checked)).toEqual(['2024-12-20']);
  });

  it('stops when the promise is marked kept', () => {
    expect(daysOf('follow_up', '2024-09-01', '2024-12-31', { ...promised, promise: { ...promised.promise!, kept: true } })).toEqual([]);
  });
});

describe('mutes', () => {
  const overdue = aCase({ replyDueDate: '2024-09-20' });
  const mutedAll: Mutes = { all: new Set(['ou_zhang', 'ou_coord', 'ou_leader']), cases: new Map() };

  it('leave a person who muted everything with nothing but 督办', () => {
    const lines = sent('2024-09-27', [overdue, aCase({ id: 2, status: 'replied', lastReply: { date: '2024-09-06', resultClass: 'A', rated: false } })], { mutes: mutedAll });
    expect(lines).toEqual(['overdue→oc_elderly', 'supervision→ou_coord', 'supervision→ou_leader']);
  });

  it('of one case leave the person\'s other cases alone', () => {
    const mutes: Mutes = { all: new Set(), cases: new Map([['ou_zhang', new Set([1])]]) };
    const p = plan('2024-09-23', [overdue, aCase({ id: 2, replyDueDate: '2024-09-20' })], { mutes });
    expect(p.reminders.filter((r) => r.recipient.kind === 'person').map((r) => r.caseId)).toEqual([2]);
    expect(p.muted).toBe(1);
  });
});

describe('a chosen reminder is checked again before it is delivered', () => {
  const zhang = { kind: 'person', openId: 'ou_zhang' } as const;

  it('is dropped once the case was claimed, replied, rated, reassigned, muted or adjusted', () => {
    const c = aCase({ replyDueDate: '2024-09-20' });
    expect(stillNeeded({ rule: 'overdue', recipient: zhang }, c, NO_MUTES, '2024-09-23')).toBe(true);
    expect(stillNeeded({ rule: 'overdue', recipient: zhang }, { ...c, status: 'replied' }, NO_MUTES, '2024-09-23')).toBe(false);
    expect(stillNeeded({ rule: 'unclaimed', recipient: { kind: 'chat', chatId: 'oc' } }, { ...c, status: 'in_progress' }, NO_MUTES, '2024-09-23')).toBe(false);
    expect(stillNeeded({ rule: 'due_soon', recipient: zhang }, { ...c, replyDueDate: '2024-10-08', handlerOpenId: 'ou_li' }, NO_MUTES, '2024-09-23')).toBe(false);
    expect(stillNeeded({ rule: 'overdue', recipient: zhang }, c, { all: new Set(['ou_zhang']), cases: new Map() }, '2024-09-23')).toBe(false);
    expect(stillNeeded({ rule: 'supervision', recipient: zhang }, c, { all: new Set(['ou_zhang']), cases: new Map() }, '2024-09-23')).toBe(true);
    expect(stillNeeded({ rule: 'overdue', recipient: zhang }, { ...c, status: 'adjusted' }, NO_MUTES, '2024-09-23')).toBe(false);
    expect(stillNeeded({ rule: 'unrated', recipient: zhang }, { ...c, status: 'closed', lastReply: { date: '2024-09-01', resultClass: 'A', rated: true } }, NO_MUTES, '2024-09-23')).toBe(false);
  });

  it('says what became of a case shown as done on a live digest', () => {
    const c = aCase();
    expect(doneLabel('unclaimed', { ...c, status: 'in_progress' })).toBe('已认领');
    expect(doneLabel('overdue', { ...c, status: 'replied' })).toBe('已答复');
    expect(doneLabel('unrated', { ...c, status: 'closed', lastReply: { date: '2024-09-01', resultClass: 'A', rated: true } })).toBe('已办结');
    expect(doneLabel('unrated', { ...c, status: 'rehandling', lastReply: null })).toBe('已评价');
    expect(doneLabel('overdue', c)).toBeNull();
  });
});
