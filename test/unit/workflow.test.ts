import { afterAll, describe, expect, it } from 'vitest';
import { createWorkCalendar } from '../../src/domain/calendar.ts';
import { createClocks, type ClockSettings } from '../../src/domain/clocks.ts';
import type { Actor, CaseState, OurRole, Person, Rating } from '../../src/domain/types.ts';
import {
  availableActions,
  decide,
  MAX_NOTE_LENGTH,
  type CaseAction,
  type Decision,
  type Outcome,
  type Refusal,
  type RefusalCode,
  type WorkflowContext,
} from '../../src/domain/workflow.ts';
import { timelineLine } from '../../src/domain/timeline.ts';

// The workflow on the real official calendar. Dates used (State Council notices, chinese-days' data):
// 2024-03-20 is a Wednesday; + 3 months = Thursday 2024-06-20; + 6 months = 2024-09-20.
// 2025 国庆: 10/1–10/8 off, Sunday 9/28 and Saturday 10/11 worked.

const calendar = createWorkCalendar();
const clocks = createClocks(calendar);
const clocksWith = (settings: Partial<ClockSettings>) => createClocks(calendar, settings);

const zhang: Person = { openId: 'ou_zhangsan', name: '张三' };
const li: Person = { openId: 'ou_lisi', name: '李四' };
const actor = (p: Person, ...roles: Array<'coordinator' | 'leader'>): Actor => ({ ...p, roles: new Set(roles) });
const 张三 = actor(zhang);
const 李四 = actor(li);
const 钱领导 = actor({ openId: 'ou_leader', name: '钱领导' }, 'leader');
const 赵协调 = actor({ openId: 'ou_coordinator', name: '赵协调' }, 'coordinator');

const ctxOn = (today: string, over: Partial<WorkflowContext> = {}): WorkflowContext => ({
  today,
  clocks,
  resultClasses: ['A', 'B', 'C'],
  ...over,
});
// A working day a week after the default assignment: inside the contact target, past the adjustment window.
const CTX = ctxOn('2024-04-10');

function caseOf(over: Partial<CaseState> = {}): CaseState {
  return {
    id: 1,
    caseNo: '20240562',
    kind: '建议',
    role: 'lead',
    status: 'unclaimed',
    handler: null,
    round: 1,
    assignedDate: '2024-03-20',
    replyDueDate: '2024-06-20',
    unit: null,
    disclosure: '主动公开',
    contactCount: 0,
    firstContactDate: null,
    lastRatedDate: null,
    pendingExtension: null,
    pendingAdjustment: null,
    promise: null,
    version: 3,
    ...over,
  };
}
const claimedBy = (p: Person, over: Partial<CaseState> = {}) => caseOf({ status: 'in_progress', handler: p, ...over });
const contactedBy = (p: Person, over: Partial<CaseState> = {}) => caseOf({ status: 'contacted', handler: p, contactCount: 1, ...over });
const repliedBy = (p: Person, over: Partial<CaseState> = {}) =>
  caseOf({ status: 'replied', handler: p, contactCount: 1, firstContactDate: '2024-03-25', ...over });

const contact = (over: Partial<Extract<CaseAction, { type: 'contact' }>> = {}): CaseAction => ({
  type: 'contact',
  date: '2024-04-08',
  method: '电话',
  who: ' 黄振辉代表 ',
  note: ' 介绍了办理思路 ',
  ...over,
});
const reply = (over: Partial<Extract<CaseAction, { type: 'reply' }>> = {}): CaseAction => ({
  type: 'reply',
  date: '2024-04-09',
  resultClass: 'B',
  disclosure: null,
  ...over,
});
const longText = '字'.repeat(MAX_NOTE_LENGTH + 1);

// Every refusal code the workflow has must be reached by some test below; the Record makes the list complete.
const ALL_CODES: Record<RefusalCode, true> = {
  already_claimed: true,
  already_yours: true,
  not_claimed: true,
  not_permitted: true,
  coordinator_only: true,
  wrong_state: true,
  wrong_role: true,
  contact_required: true,
  bad_input: true,
  bad_date: true,
  window_closed: true,
  beyond_limit: true,
  request_pending: true,
  no_request: true,
  other_unit: true,
};
const seenCodes = new Set<RefusalCode>();

/** The timeline entry a decision writes, as the card shows it: its type and its line. */
function eventLine(d: Decision): { type: string; note: string } {
  return { type: d.event.type, note: timelineLine(d.event) };
}

function allowed(outcome: Outcome): Decision {
  if (!outcome.ok) throw new Error(`expected the action to be allowed, was refused (${outcome.code}): ${outcome.message}`);
  return outcome;
}

/** Asserts a refusal with this code whose message is Chinese, says something usable, and leaks no internals. */
function refused(outcome: Outcome, code: RefusalCode, ...fragments: string[]): Refusal {
  if (outcome.ok) throw new Error(`expected refusal ${code}, but the action was allowed: ${outcome.message}`);
  expect(outcome.code).toBe(code);
  expect(outcome.message).toMatch(/[\u4e00-\u9fff]/);
  expect(outcome.message).not.toMatch(/undefined|null|NaN|\[object|[A-Za-z]{4,}/);
  for (const f of fragments) expect(outcome.message).toContain(f);
  seenCodes.add(code);
  return outcome;
}

afterAll(() => {
  // Guard against a refusal path that silently stopped being tested.
  expect([...seenCodes].sort()).toEqual(Object.keys(ALL_CODES).sort());
});

describe('claim', () => {
  it('张三 claims an unclaimed case: it is his and in progress, and he is told the due date', () => {
    const d = allowed(decide(caseOf(), { type: 'claim', chatUnit: null }, 张三, CTX));
    expect(d.change).toEqual({ status: 'in_progress', handler: zhang });
    expect(d.effects).toEqual([]);
    expect(eventLine(d)).toEqual({ type: 'claimed', note: '认领了案件' });
    expect(d.message).toBe('已认领案件 20240562，答复期限 2024-06-20。');
  });

  it('a case released after the deputy was consulted is claimed back as contacted', () => {
    const d = allowed(decide(caseOf({ contactCount: 2 }), { type: 'claim', chatUnit: null }, 李四, CTX));
    expect(d.change.status).toBe('contacted');
  });

  it('an assisting case with contacts is claimed as in progress (assisting roles have no contacted stage)', () => {
    const d = allowed(decide(caseOf({ role: 'assisting', contactCount: 1 }), { type: 'claim', chatUnit: null }, 李四, CTX));
    expect(d.change.status).toBe('in_progress');
  });

  it('a released case in its second round is claimed back as rehandling', () => {
    const d = allowed(decide(caseOf({ round: 2, contactCount: 1 }), { type: 'claim', chatUnit: null }, 张三, CTX));
    expect(d.change).toEqual({ status: 'rehandling', handler: zhang });
  });

  it('claiming in a chat bound to a unit gives a case without a unit to that unit', () => {
    const d = allowed(decide(caseOf(), { type: 'claim', chatUnit: '养老服务处' }, 张三, CTX));
    expect(d.change.unit).toBe('养老服务处');
  });

  it('claiming in the chat of the unit the case already has keeps the unit as it is', () => {
    const d = allowed(decide(caseOf({ unit: '养老服务处' }), { type: 'claim', chatUnit: '养老服务处' }, 张三, CTX));
    expect(d.change).not.toHaveProperty('unit');
  });

  it('claiming outside any bound chat does not check or set the unit', () => {
    const d = allowed(decide(caseOf({ unit: '社会事务处' }), { type: 'claim', chatUnit: null }, 张三, CTX));
    expect(d.change).toEqual({ status: 'in_progress', handler: zhang });
  });

  it('李四 claims a second after 张三 and is told who has it', () => {
    const r = refused(decide(claimedBy(zhang), { type: 'claim', chatUnit: null }, 李四, CTX), 'already_claimed');
    expect(r.message).toBe('该案件已由张三认领。');
  });

  it('a coordinator clicking 认领 on a claimed case is told who has it too', () => {
    refused(decide(contactedBy(zhang), { type: 'claim', chatUnit: null }, 赵协调, CTX), 'already_claimed', '张三');
  });

  it('张三 claims his own case again and is told there is no need', () => {
    refused(decide(claimedBy(zhang), { type: 'claim', chatUnit: null }, 张三, CTX), 'already_yours', '您已认领案件 20240562', '无需重复认领');
  });

  it('a closed case cannot be claimed', () => {
    refused(decide(caseOf({ status: 'closed' }), { type: 'claim', chatUnit: null }, 张三, CTX), 'wrong_state', '20240562 已办结');
  });

  it('a case adjusted out of the department cannot be claimed', () => {
    refused(decide(caseOf({ status: 'adjusted' }), { type: 'claim', chatUnit: null }, 张三, CTX), 'wrong_state', '已调整出本单位');
  });

  it('a replied case nobody holds cannot be claimed: it waits for the rating', () => {
    refused(decide(caseOf({ status: 'replied', contactCount: 1 }), { type: 'claim', chatUnit: null }, 张三, CTX), 'wrong_state', '已答复', '等待代表评价');
  });

  it("a chat bound to another unit cannot claim the unit's case, and is told whose it is", () => {
    refused(
      decide(caseOf({ unit: '社会事务处' }), { type: 'claim', chatUnit: '养老服务处' }, 张三, CTX),
      'other_unit',
      '由社会事务处办理',
      '本群绑定的是养老服务处',
    );
  });
});

describe('release', () => {
  it.each(['in_progress', 'contacted', 'rehandling'] as const)('张三 gives up his %s case: it goes back to unclaimed', (status) => {
    const d = allowed(decide(caseOf({ status, handler: zhang, contactCount: 1, round: status === 'rehandling' ? 2 : 1 }), { type: 'release' }, 张三, CTX));
    expect(d.change).toEqual({ status: 'unclaimed', handler: null });
    expect(eventLine(d)).toEqual({ type: 'released', note: '放弃了案件' });
    expect(d.message).toBe('案件 20240562 已退回待认领。');
  });

  it("the coordinator cancels 张三's claim, and the timeline says who did it to whom", () => {
    const d = allowed(decide(claimedBy(zhang), { type: 'release' }, 赵协调, CTX));
    expect(d.change).toEqual({ status: 'unclaimed', handler: null });
    expect(eventLine(d).note).toBe('取消了张三的认领');
  });

  it("李四 cannot give up 张三's case", () => {
    refused(decide(claimedBy(zhang), { type: 'release' }, 李四, CTX), 'not_permitted', '由张三承办', '只有承办人或协调员可以操作');
  });

  it('a leader is not a coordinator: cannot release either', () => {
    refused(decide(claimedBy(zhang), { type: 'release' }, 钱领导, CTX), 'not_permitted');
  });

  it('an unclaimed case cannot be released', () => {
    refused(decide(caseOf(), { type: 'release' }, 赵协调, CTX), 'not_claimed', '尚未认领');
  });

  it('a replied case cannot be released; the message points to 转交', () => {
    refused(decide(repliedBy(zhang), { type: 'release' }, 张三, CTX), 'wrong_state', '已答复', '转交');
  });

  it('a closed case cannot be released', () => {
    refused(decide(caseOf({ status: 'closed', handler: zhang }), { type: 'release' }, 张三, CTX), 'wrong_state', '已办结');
  });
});

describe('handover', () => {
  it('张三 hands his case to 李四: only the handler changes, and 李四 is named in the reply', () => {
    const d = allowed(decide(contactedBy(zhang), { type: 'handover', to: li }, 张三, CTX));
    expect(d.change).toEqual({ handler: li });
    expect(eventLine(d)).toEqual({ type: 'handed_over', note: '将案件转交给李四' });
    expect(d.message).toBe('已将案件 20240562 转交给李四。');
  });

  it("the coordinator moves 张三's case to 李四", () => {
    const d = allowed(decide(claimedBy(zhang), { type: 'handover', to: li }, 赵协调, CTX));
    expect(d.change).toEqual({ handler: li });
    expect(eventLine(d).note).toBe('将案件由张三转交给李四');
  });

  it('a replied case can still change hands (someone has to record the rating)', () => {
    const d = allowed(decide(repliedBy(zhang), { type: 'handover', to: li }, 张三, CTX));
    expect(d.change).toEqual({ handler: li });
  });

  it('the coordinator assigns an unclaimed case to 李四: it becomes his and in progress', () => {
    const d = allowed(decide(caseOf(), { type: 'handover', to: li }, 赵协调, CTX));
    expect(d.change).toEqual({ status: 'in_progress', handler: li });
    expect(eventLine(d)).toEqual({ type: 'handed_over', note: '指定李四承办' });
    expect(d.message).toBe('已指定李四承办案件 20240562。');
  });

  it('the coordinator assigning a second-round case puts it back into rehandling', () => {
    const d = allowed(decide(caseOf({ round: 2, contactCount: 1 }), { type: 'handover', to: li }, 赵协调, CTX));
    expect(d.change.status).toBe('rehandling');
  });

  it('a handler cannot assign an unclaimed case to someone else', () => {
    refused(decide(caseOf(), { type: 'handover', to: li }, 张三, CTX), 'not_claimed', '只有协调员可以直接指定承办人');
  });

  it("李四 cannot hand over 张三's case", () => {
    refused(decide(claimedBy(zhang), { type: 'handover', to: li }, 李四, CTX), 'not_permitted', '由张三承办');
  });

  it('handing a case to the person who already has it is refused', () => {
    refused(decide(claimedBy(zhang), { type: 'handover', to: zhang }, 赵协调, CTX), 'bad_input', '已由张三承办');
  });

  it('a closed case cannot be handed over', () => {
    refused(decide(caseOf({ status: 'closed', handler: zhang }), { type: 'handover', to: li }, 张三, CTX), 'wrong_state');
  });
});

describe('progress', () => {
  it('张三 records progress: nothing changes but the timeline, with the note trimmed', () => {
    const d = allowed(decide(claimedBy(zhang), { type: 'progress', note: '  已召开专题会研究  ' }, 张三, CTX));
    expect(d.change).toEqual({});
    expect(d.effects).toEqual([]);
    expect(eventLine(d)).toEqual({ type: 'progress', note: '已召开专题会研究' });
    expect(d.message).toBe('已记录案件 20240562 的办理进展。');
  });

  it('progress can still be recorded on a closed case (B-class promises are followed up)', () => {
    allowed(decide(caseOf({ status: 'closed', handler: zhang }), { type: 'progress', note: '回头看：已落实' }, 张三, CTX));
  });

  it('an empty note is refused with what to fill in', () => {
    refused(decide(claimedBy(zhang), { type: 'progress', note: '   ' }, 张三, CTX), 'bad_input', '请填写进展内容');
  });

  it('an over-long note is refused with its length and the limit', () => {
    refused(decide(claimedBy(zhang), { type: 'progress', note: longText }, 张三, CTX), 'bad_input', `${MAX_NOTE_LENGTH + 1} 字`, `${MAX_NOTE_LENGTH} 字以内`);
  });

  it('a note of exactly the limit is accepted', () => {
    allowed(decide(claimedBy(zhang), { type: 'progress', note: '字'.repeat(MAX_NOTE_LENGTH) }, 张三, CTX));
  });

  it('李四 cannot record progress on 张三的 case; nobody but the coordinator on an unclaimed one', () => {
    refused(decide(claimedBy(zhang), { type: 'progress', note: '进展' }, 李四, CTX), 'not_permitted');
    refused(decide(caseOf(), { type: 'progress', note: '进展' }, 李四, CTX), 'not_claimed', '请先认领');
  });

  it('an adjusted case takes no more progress', () => {
    refused(decide(caseOf({ status: 'adjusted', handler: zhang }), { type: 'progress', note: '进展' }, 张三, CTX), 'wrong_state', '已调整出本单位');
  });
});

describe('contact with the deputy', () => {
  it.each(['lead', 'sole', 'separate'] as OurRole[])('for a %s case the first contact moves in_progress → contacted', (role) => {
    const d = allowed(decide(claimedBy(zhang, { role }), contact(), 张三, CTX));
    expect(d.change).toEqual({ status: 'contacted' });
    expect(d.effects).toEqual([{ type: 'add_contact', round: 1, date: '2024-04-08', method: '电话', who: '黄振辉代表', note: '介绍了办理思路' }]);
    expect(eventLine(d)).toEqual({ type: 'contacted', note: '2024-04-08 电话沟通（黄振辉代表）：介绍了办理思路' });
    expect(d.message).toBe('已登记案件 20240562 与代表的沟通情况（电话，2024-04-08）。');
  });

  it('for an assisting case the contact is recorded but the status stays in progress', () => {
    const d = allowed(decide(claimedBy(zhang, { role: 'assisting' }), contact(), 张三, CTX));
    expect(d.change).toEqual({});
    expect(d.effects).toHaveLength(1);
  });

  it('a second contact keeps the case contacted', () => {
    const d = allowed(decide(contactedBy(zhang), contact({ method: '上门', who: '', note: '' }), 张三, CTX));
    expect(d.change).toEqual({});
    expect(eventLine(d).note).toBe('2024-04-08 上门沟通');
  });

  it('a contact during rehandling is recorded for round 2 and the case stays rehandling', () => {
    const d = allowed(decide(caseOf({ status: 'rehandling', handler: zhang, round: 2, contactCount: 1 }), contact(), 张三, CTX));
    expect(d.change).toEqual({});
    expect(d.effects[0]).toMatchObject({ type: 'add_contact', round: 2 });
  });

  it('the coordinator may record a contact on 张三的 case', () => {
    allowed(decide(claimedBy(zhang), contact(), 赵协调, CTX));
  });

  it('today and the assignment date themselves are accepted', () => {
    allowed(decide(claimedBy(zhang), contact({ date: '2024-04-10' }), 张三, CTX));
    allowed(decide(claimedBy(zhang), contact({ date: '2024-03-20' }), 张三, CTX));
  });

  it('a date after today is refused, naming both dates', () => {
    refused(decide(claimedBy(zhang), contact({ date: '2024-04-11' }), 张三, CTX), 'bad_date', '沟通日期（2024-04-11）不能晚于今天（2024-04-10）');
  });

  it('a date before the assignment is refused, naming the assignment date', () => {
    refused(decide(claimedBy(zhang), contact({ date: '2024-03-19' }), 张三, CTX), 'bad_date', '不能早于交办日期（2024-03-20）');
  });

  it('an over-long note or contact name is refused, naming the field', () => {
    refused(decide(claimedBy(zhang), contact({ note: longText }), 张三, CTX), 'bad_input', '沟通说明过长');
    refused(decide(claimedBy(zhang), contact({ who: longText }), 张三, CTX), 'bad_input', '沟通对象过长');
  });

  it('an unclaimed case must be claimed first, even by the coordinator', () => {
    refused(decide(caseOf(), contact(), 赵协调, CTX), 'not_claimed', '请先认领');
  });

  it("李四 cannot record a contact on 张三's case", () => {
    refused(decide(claimedBy(zhang), contact(), 李四, CTX), 'not_permitted');
  });

  it('a closed case takes no more contacts', () => {
    refused(decide(caseOf({ status: 'closed', handler: zhang }), contact(), 张三, CTX), 'wrong_state');
  });
});

describe('reply', () => {
  it("张三 replies: the case is replied, the reply takes the case's planned disclosure and current due date", () => {
    const d = allowed(decide(contactedBy(zhang, { disclosure: '依申请公开' }), reply(), 张三, CTX));
    expect(d.change).toEqual({ status: 'replied' });
    expect(d.effects).toEqual([{ type: 'add_reply', round: 1, date: '2024-04-09', resultClass: 'B', disclosure: '依申请公开', dueDate: '2024-06-20' }]);
    expect(eventLine(d)).toEqual({ type: 'replied', note: '答复代表：B类，依申请公开，答复日期 2024-04-09' });
    expect(d.message).toContain('请在代表评价后录入评价');
  });

  it('a disclosure chosen with the reply wins over the planned one', () => {
    const d = allowed(decide(contactedBy(zhang, { disclosure: '依申请公开' }), reply({ disclosure: '不予公开' }), 张三, CTX));
    expect(d.effects[0]).toMatchObject({ disclosure: '不予公开' });
  });

  it('with no planned disclosure the reply is published (主动公开)', () => {
    const d = allowed(decide(contactedBy(zhang, { disclosure: null }), reply(), 张三, CTX));
    expect(d.effects[0]).toMatchObject({ disclosure: '主动公开' });
  });

  it('the second reply after 不满意 is recorded for round 2 against the new due date', () => {
    const d = allowed(
      decide(caseOf({ status: 'rehandling', handler: zhang, round: 2, contactCount: 1, replyDueDate: '2024-08-12' }), reply({ date: '2024-04-10' }), 张三, CTX),
    );
    expect(d.effects[0]).toMatchObject({ round: 2, dueDate: '2024-08-12' });
    expect(eventLine(d).note).toMatch(/^再次答复代表/);
  });

  it('without a recorded contact the reply is refused, saying what to do first', () => {
    const r = refused(decide(claimedBy(zhang), reply(), 张三, CTX), 'contact_required');
    expect(r.message).toBe('须先登记与代表的沟通情况才能提交答复。');
  });

  it('an assisting unit does not reply; it is pointed to “意见”', () => {
    refused(decide(claimedBy(zhang, { role: 'assisting', contactCount: 1 }), reply(), 张三, CTX), 'wrong_role', '会办', '意见');
  });

  it('a result class outside the configured list is refused, listing the valid ones', () => {
    refused(decide(contactedBy(zhang), reply({ resultClass: 'D' }), 张三, CTX), 'bad_input', '“D”无效', 'A、B、C');
  });

  it('the list of result classes is configuration: where D exists it is accepted', () => {
    const d = allowed(decide(contactedBy(zhang), reply({ resultClass: 'D' }), 张三, ctxOn('2024-04-10', { resultClasses: ['A', 'B', 'C', 'D'] })));
    expect(d.effects[0]).toMatchObject({ resultClass: 'D' });
  });

  it('a reply dated in the future or before the assignment is refused', () => {
    refused(decide(contactedBy(zhang), reply({ date: '2024-04-11' }), 张三, CTX), 'bad_date', '答复日期', '不能晚于今天');
    refused(decide(contactedBy(zhang), reply({ date: '2024-03-01' }), 张三, CTX), 'bad_date', '不能早于交办日期');
  });

  it('a case already replied is not replied again before its rating', () => {
    refused(decide(repliedBy(zhang), reply(), 张三, CTX), 'wrong_state', '已答复');
  });

  it('an unclaimed case cannot be replied to, even by the coordinator', () => {
    refused(decide(caseOf({ contactCount: 1 }), reply(), 赵协调, CTX), 'not_claimed');
  });

  it("李四 cannot reply on 张三's case, and closed cases take no reply", () => {
    refused(decide(contactedBy(zhang), reply(), 李四, CTX), 'not_permitted');
    refused(decide(caseOf({ status: 'closed', handler: zhang, contactCount: 1 }), reply(), 张三, CTX), 'wrong_state', '已办结');
  });
});

describe('opinion (assisting roles)', () => {
  it('张三 sends the assisting opinion: the case closes, the opinion records the due date', () => {
    const c = claimedBy(zhang, { role: 'assisting', replyDueDate: '2024-04-22' });
    const d = allowed(decide(c, { type: 'opinion', date: '2024-04-09', note: ' 已函复主办单位 ' }, 张三, CTX));
    expect(d.change).toEqual({ status: 'closed' });
    expect(d.effects).toEqual([{ type: 'add_opinion', round: 1, date: '2024-04-09', note: '已函复主办单位', dueDate: '2024-04-22' }]);
    expect(eventLine(d)).toEqual({ type: 'opinion_sent', note: '已向主办单位报送会办意见：已函复主办单位' });
  });

  it('a lead case is pointed to “答复” instead', () => {
    refused(decide(contactedBy(zhang), { type: 'opinion', date: '2024-04-09', note: '' }, 张三, CTX), 'wrong_role', '答复');
  });

  it('dates and notes are checked like every other record', () => {
    const c = claimedBy(zhang, { role: 'assisting' });
    refused(decide(c, { type: 'opinion', date: '2024-04-30', note: '' }, 张三, CTX), 'bad_date', '报送日期');
    refused(decide(c, { type: 'opinion', date: '2024-04-09', note: longText }, 张三, CTX), 'bad_input', '会办意见说明过长');
  });

  it('an unclaimed assisting case must be claimed first', () => {
    refused(decide(caseOf({ role: 'assisting' }), { type: 'opinion', date: '2024-04-09', note: '' }, 赵协调, CTX), 'not_claimed');
  });
});

describe('rating', () => {
  it.each(['满意', '基本满意'] as Rating[])('%s closes the case and is kept with the date it was entered', (rating) => {
    const d = allowed(decide(repliedBy(zhang), { type: 'rate', rating }, 张三, CTX));
    expect(d.change).toEqual({ status: 'closed' });
    expect(d.effects).toEqual([{ type: 'add_rating', round: 1, rating, date: '2024-04-10' }]);
    expect(eventLine(d)).toEqual({ type: 'rated', note: `代表评价：${rating}` });
    expect(d.message).toBe(`已录入评价“${rating}”，案件 20240562 办结。`);
  });

  it('不满意 in round 1 reopens the case for round 2, due one month later rolled past National Day', () => {
    // 2025-09-01 + 1 month = 2025-10-01, a holiday until 10/8: due on 2025-10-09.
    const ctx = ctxOn('2025-09-01');
    const d = allowed(decide(repliedBy(zhang, { assignedDate: '2025-03-20', replyDueDate: '2025-06-20' }), { type: 'rate', rating: '不满意' }, 张三, ctx));
    expect(clocks.rehandlingDue('2025-09-01')).toBe('2025-10-09');
    expect(d.change).toEqual({ status: 'rehandling', round: 2, replyDueDate: '2025-10-09' });
    expect(d.effects).toEqual([{ type: 'add_rating', round: 1, rating: '不满意', date: '2025-09-01' }]);
    expect(d.message).toContain('请于 2025-10-09 前再次答复');
  });

  it('the rehandling period is configuration: two months gives a later due date', () => {
    const ctx = ctxOn('2024-07-10', { clocks: clocksWith({ rehandlingMonths: 2 }) });
    const d = allowed(decide(repliedBy(zhang), { type: 'rate', rating: '不满意' }, 张三, ctx));
    expect(d.change.replyDueDate).toBe('2024-09-10');
    const d1 = allowed(decide(repliedBy(zhang), { type: 'rate', rating: '不满意' }, 张三, ctxOn('2024-07-10')));
    expect(d1.change.replyDueDate).toBe('2024-08-12'); // 8/10 is a Saturday
  });

  it('不满意 with the second reply closes the case: it is reopened only once', () => {
    const d = allowed(decide(repliedBy(zhang, { round: 2 }), { type: 'rate', rating: '不满意' }, 张三, CTX));
    expect(d.change).toEqual({ status: 'closed' });
    expect(d.effects[0]).toMatchObject({ round: 2, rating: '不满意' });
  });

  it('where two rehandlings are allowed, 不满意 in round 2 reopens it once more', () => {
    const d = allowed(decide(repliedBy(zhang, { round: 2 }), { type: 'rate', rating: '不满意' }, 张三, ctxOn('2024-04-10', { maxRehandlings: 2 })));
    expect(d.change).toMatchObject({ status: 'rehandling', round: 3 });
  });

  it('a rating before the reply is refused', () => {
    refused(decide(contactedBy(zhang), { type: 'rate', rating: '满意' }, 张三, CTX), 'wrong_state', '尚未答复', '答复后才能录入代表评价');
  });

  it('the coordinator may enter the rating; 李四 may not', () => {
    allowed(decide(repliedBy(zhang), { type: 'rate', rating: '满意' }, 赵协调, CTX));
    refused(decide(repliedBy(zhang), { type: 'rate', rating: '满意' }, 李四, CTX), 'not_permitted');
  });

  it('a closed case is not rated again', () => {
    refused(decide(caseOf({ status: 'closed', handler: zhang }), { type: 'rate', rating: '满意' }, 张三, CTX), 'wrong_state', '已办结');
  });
});

describe('extension request', () => {
  const ask = (until: string, reason = ' 需协调多部门 '): CaseAction => ({ type: 'request_extension', until, reason });

  it('张三 asks to extend to a date after the current due date: a request is opened, nothing else changes', () => {
    const d = allowed(decide(contactedBy(zhang), ask('2024-08-20'), 张三, CTX));
    expect(d.change).toEqual({});
    expect(d.effects).toEqual([{ type: 'open_extension', until: '2024-08-20', previousDue: '2024-06-20', reason: '需协调多部门' }]);
    expect(eventLine(d)).toEqual({ type: 'extension_requested', note: '申请延期至 2024-08-20：需协调多部门' });
    expect(d.message).toContain('等待协调员审批');
  });

  it('the last day of the 6-month ceiling is allowed, one day later is not', () => {
    expect(clocks.extensionLimit('2024-03-20')).toBe('2024-09-20');
    allowed(decide(contactedBy(zhang), ask('2024-09-20'), 张三, CTX));
    refused(decide(contactedBy(zhang), ask('2024-09-21'), 张三, CTX), 'beyond_limit', '最晚只能延至 2024-09-20');
  });

  it('the ceiling is configuration: with 4 months, August is already too late', () => {
    const ctx = ctxOn('2024-04-10', { clocks: clocksWith({ extensionLimitMonths: 4 }) });
    refused(decide(contactedBy(zhang), ask('2024-08-20'), 张三, ctx), 'beyond_limit', '最晚只能延至 2024-07-20');
  });

  it('a date not later than the current due date is refused, naming it', () => {
    refused(decide(contactedBy(zhang), ask('2024-06-20'), 张三, CTX), 'bad_date', '须晚于当前答复期限 2024-06-20');
    refused(decide(contactedBy(zhang), ask('2024-05-01'), 张三, CTX), 'bad_date', '2024-06-20');
  });

  it('a reason is required', () => {
    refused(decide(contactedBy(zhang), ask('2024-08-20', '  '), 张三, CTX), 'bad_input', '请填写延期理由');
  });

  it('one pending request at a time, and the message says which one is waiting', () => {
    const pending = { id: 7, requestedBy: zhang, requestedAt: '2024-04-09T02:00:00.000Z', until: '2024-07-31', reason: '调研', status: 'pending' as const };
    refused(decide(contactedBy(zhang, { pendingExtension: pending }), ask('2024-08-20'), 张三, CTX), 'request_pending', '至 2024-07-31', '待协调员审批');
  });

  it('no extension after the reply', () => {
    refused(decide(repliedBy(zhang), ask('2024-08-20'), 张三, CTX), 'wrong_state', '已答复，无需延期');
  });

  it("李四 cannot ask on 张三's case; closed cases take no request", () => {
    refused(decide(contactedBy(zhang), ask('2024-08-20'), 李四, CTX), 'not_permitted');
    refused(decide(caseOf({ status: 'closed', handler: zhang }), ask('2024-08-20'), 张三, CTX), 'wrong_state');
  });
});

describe('extension decision', () => {
  const pending = { id: 7, requestedBy: zhang, requestedAt: '2024-04-09T02:00:00.000Z', until: '2024-08-20', reason: '调研', status: 'pending' as const };
  const withRequest = (over: Partial<CaseState> = {}) => contactedBy(zhang, { pendingExtension: pending, ...over });
  const decideExt = (approve: boolean, requestId = 7, note = ''): CaseAction => ({ type: 'decide_extension', requestId, approve, note });

  it('the coordinator approves: the due date becomes the requested one and the request is closed', () => {
    const d = allowed(decide(withRequest(), decideExt(true, 7, ' 同意 '), 赵协调, CTX));
    expect(d.change).toEqual({ replyDueDate: '2024-08-20' });
    expect(d.effects).toEqual([{ type: 'close_extension', requestId: 7, status: 'approved', note: '同意' }]);
    expect(eventLine(d)).toEqual({ type: 'extension_approved', note: '同意延期，答复期限由 2024-06-20 调整为 2024-08-20' });
  });

  it('the coordinator refuses: the due date stays, the request is closed as refused with the note', () => {
    const d = allowed(decide(withRequest(), decideExt(false, 7, '理由不充分'), 赵协调, CTX));
    expect(d.change).toEqual({});
    expect(d.effects).toEqual([{ type: 'close_extension', requestId: 7, status: 'refused', note: '理由不充分' }]);
    expect(eventLine(d)).toEqual({ type: 'extension_refused', note: '不同意延期：理由不充分' });
  });

  it('only the coordinator decides — not the handler who asked, nor the leader', () => {
    refused(decide(withRequest(), decideExt(true), 张三, CTX), 'coordinator_only', '只有协调员可以审批延期申请');
    refused(decide(withRequest(), decideExt(true), 钱领导, CTX), 'coordinator_only');
  });

  it('a click on an old card (another request id, or none pending) is refused as already handled', () => {
    refused(decide(withRequest(), decideExt(true, 6), 赵协调, CTX), 'no_request', '可能已被处理');
    refused(decide(contactedBy(zhang), decideExt(true), 赵协调, CTX), 'no_request');
  });

  it('approval re-checks the ceiling as configured now', () => {
    const ctx = ctxOn('2024-04-10', { clocks: clocksWith({ extensionLimitMonths: 4 }) });
    refused(decide(withRequest(), decideExt(true), 赵协调, ctx), 'beyond_limit', '2024-07-20');
  });

  it('a request left on a case that has since closed can be refused but not approved', () => {
    refused(decide(withRequest({ status: 'closed' }), decideExt(true), 赵协调, CTX), 'wrong_state');
    allowed(decide(withRequest({ status: 'closed' }), decideExt(false), 赵协调, CTX));
  });
});

describe('adjustment request', () => {
  const ask = (reason = ' 不属于我局职责 '): CaseAction => ({ type: 'request_adjustment', reason });
  // Friday 2025-09-26, just before National Day: the 5 working days are 9/28 (worked Sunday), 9/29, 9/30, 10/9, 10/10.
  const beforeNationalDay = (over: Partial<CaseState> = {}) => caseOf({ assignedDate: '2025-09-26', replyDueDate: '2025-12-26', ...over });

  it('anyone who sees an unclaimed case may ask to move it; a request is opened', () => {
    const d = allowed(decide(caseOf(), ask(), 李四, ctxOn('2024-03-22')));
    expect(d.change).toEqual({});
    expect(d.effects).toEqual([{ type: 'open_adjustment', reason: '不属于我局职责' }]);
    expect(eventLine(d)).toEqual({ type: 'adjustment_requested', note: '申请调整：不属于我局职责' });
    expect(d.message).toContain('等待协调员决定');
  });

  it('the window counts working days across National Day: still open on 10/10, closed on the worked Saturday 10/11', () => {
    expect(clocks.adjustmentDeadline('2025-09-26')).toBe('2025-10-10');
    allowed(decide(beforeNationalDay(), ask(), 李四, ctxOn('2025-10-09')));
    allowed(decide(beforeNationalDay(), ask(), 李四, ctxOn('2025-10-10')));
    refused(decide(beforeNationalDay(), ask(), 李四, ctxOn('2025-10-11')), 'window_closed', '截至 2025-10-10', '联系协调员');
  });

  it('the window is configuration: with 2 working days it closes on 9/29', () => {
    const two = clocksWith({ adjustmentWindowWorkdays: 2 });
    allowed(decide(beforeNationalDay(), ask(), 李四, ctxOn('2025-09-29', { clocks: two })));
    refused(decide(beforeNationalDay(), ask(), 李四, ctxOn('2025-09-30', { clocks: two })), 'window_closed', '截至 2025-09-29');
    // The same day is fine with the default window.
    allowed(decide(beforeNationalDay(), ask(), 李四, ctxOn('2025-09-30')));
  });

  it("on a claimed case only its handler or the coordinator may ask; 李四 may not", () => {
    const ctx = ctxOn('2024-03-22');
    allowed(decide(claimedBy(zhang), ask(), 张三, ctx));
    allowed(decide(claimedBy(zhang), ask(), 赵协调, ctx));
    refused(decide(claimedBy(zhang), ask(), 李四, ctx), 'not_permitted');
  });

  it('one pending adjustment at a time', () => {
    const pending = { id: 3, requestedBy: li, requestedAt: '2024-03-21T02:00:00.000Z', reason: '职责不符', status: 'pending' as const };
    refused(decide(caseOf({ pendingAdjustment: pending }), ask(), 张三, ctxOn('2024-03-22')), 'request_pending', '已有调整申请');
  });

  it('a reason is required', () => {
    refused(decide(caseOf(), ask(' '), 李四, ctxOn('2024-03-22')), 'bad_input', '请填写调整理由');
  });

  it('not after the reply, nor on a closed or adjusted case', () => {
    const ctx = ctxOn('2024-03-22');
    refused(decide(repliedBy(zhang), ask(), 张三, ctx), 'wrong_state', '已答复，不能再申请调整');
    refused(decide(caseOf({ status: 'closed' }), ask(), 张三, ctx), 'wrong_state', '已办结');
    refused(decide(caseOf({ status: 'adjusted' }), ask(), 张三, ctx), 'wrong_state', '已调整出本单位');
  });
});

describe('adjustment decision', () => {
  const pending = { id: 3, requestedBy: li, requestedAt: '2024-03-21T02:00:00.000Z', reason: '职责不符', status: 'pending' as const };
  const decideAdj = (approve: boolean, requestId = 3, note = ''): CaseAction => ({ type: 'decide_adjustment', requestId, approve, note });

  it('the coordinator approves: the case is adjusted out of the department', () => {
    const d = allowed(decide(caseOf({ pendingAdjustment: pending }), decideAdj(true, 3, '转市卫健委'), 赵协调, CTX));
    expect(d.change).toEqual({ status: 'adjusted' });
    expect(d.effects).toEqual([{ type: 'close_adjustment', requestId: 3, status: 'approved', note: '转市卫健委' }]);
    expect(eventLine(d)).toEqual({ type: 'adjustment_approved', note: '同意调整，案件调整出本单位：转市卫健委' });
  });

  it('the coordinator refuses: the case stays, and the timeline says to handle it as assigned', () => {
    const d = allowed(decide(claimedBy(zhang, { pendingAdjustment: pending }), decideAdj(false), 赵协调, CTX));
    expect(d.change).toEqual({});
    expect(d.effects).toEqual([{ type: 'close_adjustment', requestId: 3, status: 'refused', note: '' }]);
    expect(eventLine(d).note).toBe('不同意调整，请按原交办办理');
  });

  it('only the coordinator decides', () => {
    refused(decide(claimedBy(zhang, { pendingAdjustment: pending }), decideAdj(true), 张三, CTX), 'coordinator_only', '只有协调员可以决定调整申请');
  });

  it('a stale click (other request id, or none pending) is refused', () => {
    refused(decide(caseOf({ pendingAdjustment: pending }), decideAdj(true, 2), 赵协调, CTX), 'no_request', '可能已被处理');
    refused(decide(caseOf(), decideAdj(true), 赵协调, CTX), 'no_request');
  });

  it('an over-long decision note is refused', () => {
    refused(decide(caseOf({ pendingAdjustment: pending }), decideAdj(true, 3, longText), 赵协调, CTX), 'bad_input', '决定意见过长');
  });
});

describe('a case from claim to close, decision by decision', () => {
  // Applies a decision the way storage does, so each step decides on the case as the previous one left it.
  function apply(c: CaseState, d: Decision): CaseState {
    const next: CaseState = { ...c, ...d.change, version: c.version + 1 };
    for (const e of d.effects) {
      if (e.type === 'add_contact') {
        next.contactCount += 1;
        next.firstContactDate = next.firstContactDate && next.firstContactDate < e.date ? next.firstContactDate : e.date;
      }
      if (e.type === 'add_rating') next.lastRatedDate = e.date;
    }
    return next;
  }

  it('张三 claims, consults, replies, gets 不满意, replies again and the case closes on the second rating', () => {
    let c = caseOf();
    const step = (action: CaseAction, who: Actor, ctx = CTX) => {
      c = apply(c, allowed(decide(c, action, who, ctx)));
      return c.status;
    };
    expect(step({ type: 'claim', chatUnit: '养老服务处' }, 张三)).toBe('in_progress');
    refused(decide(c, reply(), 张三, CTX), 'contact_required');
    expect(step(contact(), 张三)).toBe('contacted');
    expect(step(reply(), 张三)).toBe('replied');
    expect(step({ type: 'rate', rating: '不满意' }, 赵协调)).toBe('rehandling');
    expect(c).toMatchObject({ round: 2, replyDueDate: clocks.rehandlingDue('2024-04-10'), handler: zhang, unit: '养老服务处' });
    expect(step({ type: 'release' }, 张三)).toBe('unclaimed');
    expect(step({ type: 'claim', chatUnit: '养老服务处' }, 李四)).toBe('rehandling');
    expect(step(reply({ resultClass: 'A', date: '2024-04-10' }), 李四)).toBe('replied');
    expect(step({ type: 'rate', rating: '不满意' }, 李四)).toBe('closed');
    expect(availableActions(c, CTX)).toEqual(['progress']);
  });
});

describe('availableActions', () => {
  const early = ctxOn('2024-03-22'); // inside the adjustment window (deadline 2024-03-27)
  const late = ctxOn('2024-03-28');
  const pendingExt = { id: 1, requestedBy: zhang, requestedAt: '', until: '2024-08-01', reason: '调研', status: 'pending' as const };
  const pendingAdj = { id: 2, requestedBy: zhang, requestedAt: '', reason: '职责不符', status: 'pending' as const };

  it('unclaimed: claim, and adjust while the window is open and nothing is pending', () => {
    expect(availableActions(caseOf(), early)).toEqual(['claim', 'adjust']);
    expect(availableActions(caseOf({ assignedDate: '2024-03-20' }), ctxOn('2024-03-27'))).toEqual(['claim', 'adjust']);
    expect(availableActions(caseOf(), late)).toEqual(['claim']);
    expect(availableActions(caseOf({ pendingAdjustment: pendingAdj }), early)).toEqual(['claim']);
  });

  it('in progress on a lead case without contact: contact first, no reply button yet', () => {
    expect(availableActions(claimedBy(zhang), early)).toEqual(['contact', 'progress', 'extend', 'adjust', 'handover', 'release']);
    expect(availableActions(claimedBy(zhang), late)).toEqual(['contact', 'progress', 'extend', 'handover', 'release']);
  });

  it('contacted: reply comes first', () => {
    expect(availableActions(contactedBy(zhang), late)).toEqual(['reply', 'contact', 'progress', 'extend', 'handover', 'release']);
  });

  it('assisting: opinion instead of reply', () => {
    expect(availableActions(claimedBy(zhang, { role: 'assisting' }), late)).toEqual(['opinion', 'progress', 'contact', 'extend', 'handover', 'release']);
  });

  it('rehandling with earlier contacts: reply again', () => {
    expect(availableActions(caseOf({ status: 'rehandling', handler: zhang, round: 2, contactCount: 1 }), late)).toEqual([
      'reply',
      'contact',
      'progress',
      'extend',
      'handover',
      'release',
    ]);
  });

  it('a pending extension hides extend; a pending adjustment hides adjust', () => {
    const a = availableActions(contactedBy(zhang, { pendingExtension: pendingExt, pendingAdjustment: pendingAdj }), early);
    expect(a).not.toContain('extend');
    expect(a).not.toContain('adjust');
    expect(a).toContain('reply');
  });

  it('replied: rate, progress, handover', () => {
    expect(availableActions(repliedBy(zhang), late)).toEqual(['rate', 'progress', 'handover']);
  });

  it('closed: only progress; adjusted: nothing', () => {
    expect(availableActions(caseOf({ status: 'closed', handler: zhang }), late)).toEqual(['progress']);
    expect(availableActions(caseOf({ status: 'adjusted' }), early)).toEqual([]);
  });

  it('the window setting changes the buttons: with 2 working days adjust is gone on 3/25', () => {
    const today = '2024-03-25'; // Mon; 2 working days after Wed 3/20 is Fri 3/22
    expect(availableActions(caseOf(), ctxOn(today))).toEqual(['claim', 'adjust']);
    expect(availableActions(caseOf(), ctxOn(today, { clocks: clocksWith({ adjustmentWindowWorkdays: 2 }) }))).toEqual(['claim']);
  });

  it('every button offered in a state leads to an allowed decision for the handler (or coordinator on unclaimed)', () => {
    // The card must not offer a button whose click is refused for the person it is meant for.
    const sample: Record<string, CaseAction> = {
      claim: { type: 'claim', chatUnit: null },
      release: { type: 'release' },
      progress: { type: 'progress', note: '进展' },
      contact: contact(),
      reply: reply(),
      opinion: { type: 'opinion', date: '2024-03-22', note: '' },
      rate: { type: 'rate', rating: '满意' },
      extend: { type: 'request_extension', until: '2024-08-01', reason: '调研' },
      adjust: { type: 'request_adjustment', reason: '职责不符' },
      handover: { type: 'handover', to: li },
    };
    const states = [
      caseOf(),
      claimedBy(zhang),
      contactedBy(zhang),
      claimedBy(zhang, { role: 'assisting' }),
      caseOf({ status: 'rehandling', handler: zhang, round: 2, contactCount: 1 }),
      repliedBy(zhang),
      caseOf({ status: 'closed', handler: zhang }),
    ];
    for (const c of states) {
      for (const button of availableActions(c, early)) {
        const who = c.handler ? 张三 : button === 'claim' ? 张三 : 赵协调;
        const action = button === 'contact' ? contact({ date: '2024-03-21' }) : button === 'reply' ? reply({ date: '2024-03-21' }) : sample[button];
        if (!action) throw new Error(`no sample action for ${button}`);
        const outcome = decide(c, action, who, early);
        expect(outcome.ok, `${c.status}/${c.role}: ${button} → ${outcome.ok ? '' : outcome.message}`).toBe(true);
      }
    }
  });
});

describe('a reply withdraws requests still waiting for a decision', () => {
  const pending = { id: 7, requestedBy: zhang, requestedAt: '2024-04-01T02:00:00Z', until: '2024-08-20', reason: '需协调', status: 'pending' as const };

  it('张三 replies while his extension request is pending: the request is closed as withdrawn with the reply', () => {
    const d = allowed(decide(contactedBy(zhang, { pendingExtension: pending }), reply(), 张三, CTX));
    expect(d.effects).toContainEqual({ type: 'close_extension', requestId: 7, status: 'withdrawn', note: '已答复，申请自动撤销' });
  });

  it('an assisting unit sending its opinion withdraws it too; without a pending request nothing else is written', () => {
    const assisting = claimedBy(zhang, { role: 'assisting', replyDueDate: '2024-04-22', pendingExtension: pending });
    const d = allowed(decide(assisting, { type: 'opinion', date: '2024-04-09', note: '' }, 张三, CTX));
    expect(d.effects.map((e) => e.type)).toEqual(['add_opinion', 'close_extension']);
    expect(allowed(decide(contactedBy(zhang), reply(), 张三, CTX)).effects.map((e) => e.type)).toEqual(['add_reply']);
  });
});

describe('an adjustment decided after the case moved on', () => {
  const adj = { id: 9, requestedBy: zhang, requestedAt: '2024-03-21T02:00:00Z', reason: '属住建部门职责', status: 'pending' as const };
  const ext = { id: 7, requestedBy: zhang, requestedAt: '2024-04-01T02:00:00Z', until: '2024-08-20', reason: '需协调', status: 'pending' as const };

  it('a reply withdraws the pending adjustment with the extension, so neither can be decided afterwards', () => {
    const d = allowed(decide(contactedBy(zhang, { pendingAdjustment: adj, pendingExtension: ext }), reply(), 张三, CTX));
    expect(d.effects.filter((e) => e.type === 'close_adjustment' || e.type === 'close_extension')).toEqual([
      { type: 'close_extension', requestId: 7, status: 'withdrawn', note: '已答复，申请自动撤销' },
      { type: 'close_adjustment', requestId: 9, status: 'withdrawn', note: '已答复，申请自动撤销' },
    ]);
  });

  it('the coordinator cannot approve an adjustment of a closed or replied case', () => {
    const approve = { type: 'decide_adjustment' as const, requestId: 9, approve: true, note: '' };
    refused(decide(caseOf({ status: 'closed', handler: zhang, pendingAdjustment: adj }), approve, 赵协调, CTX), 'wrong_state', '已办结');
    refused(decide(repliedBy(zhang, { pendingAdjustment: adj }), approve, 赵协调, CTX), 'wrong_state', '已答复');
  });

  it('approving an adjustment withdraws the extension still pending', () => {
    const d = allowed(decide(claimedBy(zhang, { pendingAdjustment: adj, pendingExtension: ext }), { type: 'decide_adjustment', requestId: 9, approve: true, note: '' }, 赵协调, CTX));
    expect(d.change).toEqual({ status: 'adjusted' });
    expect(d.effects).toContainEqual({ type: 'close_extension', requestId: 7, status: 'withdrawn', note: '案件已调整出本单位，延期申请自动撤销' });
  });
});

describe('reply dates that would falsify the report', () => {
  it('a reply dated before the first contact with the deputy is refused (面商 comes before the reply)', () => {
    const c = contactedBy(zhang, { firstContactDate: '2024-04-05' });
    refused(decide(c, reply({ date: '2024-04-01' }), 张三, CTX), 'bad_date', '早于首次与代表沟通的日期（2024-04-05）');
    allowed(decide(c, reply({ date: '2024-04-05' }), 张三, CTX));
  });

  it('a proposal says 委员 in the same refusal', () => {
    const c = contactedBy(zhang, { kind: '提案', firstContactDate: '2024-04-05' });
    refused(decide(c, reply({ date: '2024-04-01' }), 张三, CTX), 'bad_date', '首次与委员沟通');
    refused(decide(claimedBy(zhang, { kind: '提案' }), reply(), 张三, CTX), 'contact_required', '须先登记与委员的沟通情况才能提交答复');
  });

  it('a second reply dated before the 不满意 rating is refused', () => {
    const c = caseOf({ status: 'rehandling', handler: zhang, round: 2, contactCount: 1, firstContactDate: '2024-03-25', lastRatedDate: '2024-04-08' });
    refused(decide(c, reply({ date: '2024-04-02' }), 张三, CTX), 'bad_date', '不能早于不满意评价的日期（2024-04-08）');
    allowed(decide(c, reply({ date: '2024-04-09' }), 张三, CTX));
  });
});
