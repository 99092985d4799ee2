import { describe, expect, it } from 'vitest';
import { createWorkCalendar } from '../../src/domain/calendar.ts';
import { createClocks } from '../../src/domain/clocks.ts';
import type { Actor, CaseState, Person } from '../../src/domain/types.ts';
import { decide, type WorkflowContext } from '../../src/domain/workflow.ts';

// 回头看: who may record a follow-up of a B-class promise, and when.

const clocks = createClocks(createWorkCalendar());
const ctx: WorkflowContext = { today: '2024-09-18', clocks, resultClasses: ['A', 'B', 'C'] };
const zhang: Person = { openId: 'ou_zhangsan', name: '张三' };
const 张三: Actor = { ...zhang, roles: new Set() };
const 李四: Actor = { openId: 'ou_lisi', name: '李四', roles: new Set() };
const 赵协调: Actor = { openId: 'ou_coordinator', name: '赵协调', roles: new Set(['coordinator']) };

function promised(over: Partial<CaseState> = {}): CaseState {
  return {
    id: 1,
    caseNo: '20240542',
    kind: '建议',
    role: 'lead',
    status: 'closed',
    handler: zhang,
    round: 1,
    assignedDate: '2024-03-20',
    replyDueDate: '2024-06-20',
    unit: '养老服务处',
    disclosure: '主动公开',
    contactCount: 1,
    firstContactDate: '2024-04-01',
    lastRatedDate: '2024-06-20',
    pendingExtension: null,
    pendingAdjustment: null,
    promise: { round: 1, replyDate: '2024-06-14', resultClass: 'B', lastFollowUpDate: null, kept: false },
    version: 7,
    ...over,
  };
}

describe('follow-up of a B-class promise (回头看)', () => {
  it('is recorded by the handler on a closed case, as a record beside it; the case itself does not change', () => {
    const d = decide(promised(), { type: 'follow_up', outcome: 'checked', note: '护理补贴方案已报市政府' }, 张三, ctx);
    expect(d).toMatchObject({
      ok: true,
      change: {},
      effects: [{ type: 'add_follow_up', round: 1, outcome: 'checked', date: '2024-09-18', note: '护理补贴方案已报市政府' }],
      event: { type: 'followed_up', kind: '建议', outcome: 'checked', note: '护理补贴方案已报市政府' },
    });
  });

  it('marks the promise kept or changed (explained to the deputy), by the handler or a coordinator', () => {
    const kept = decide(promised(), { type: 'follow_up', outcome: 'kept', note: '补贴已于9月发放' }, 赵协调, ctx);
    expect(kept.ok && kept.message).toBe('已登记：案件 20240542 的承诺事项已落实，此后不再提醒回头看。');
    const changed = decide(promised({ kind: '提案' }), { type: 'follow_up', outcome: 'changed', note: '改为明年建成' }, 张三, ctx);
    expect(changed.ok && changed.message).toContain('已向委员说明');
    expect(changed.ok && changed.effects[0]).toMatchObject({ outcome: 'changed' });
  });

  it('is refused to anyone else, without a B-class reply, once kept, or without a word of what was found', () => {
    expect(decide(promised(), { type: 'follow_up', outcome: 'checked', note: '看过了' }, 李四, ctx)).toMatchObject({ ok: false, code: 'not_permitted' });
    expect(decide(promised({ promise: null }), { type: 'follow_up', outcome: 'checked', note: '看过了' }, 张三, ctx)).toMatchObject({
      ok: false,
      code: 'wrong_state',
      message: '案件 20240542 没有 B 类（正在解决或列入计划）答复，没有需要回头看的承诺事项。',
    });
    const kept = promised({ promise: { round: 1, replyDate: '2024-06-14', resultClass: 'B', lastFollowUpDate: '2024-09-01', kept: true } });
    expect(decide(kept, { type: 'follow_up', outcome: 'checked', note: '再看看' }, 张三, ctx)).toMatchObject({ ok: false, message: '案件 20240542 的承诺事项已登记为落实，无需再跟进。' });
    expect(decide(promised(), { type: 'follow_up', outcome: 'checked', note: '  ' }, 张三, ctx)).toMatchObject({ ok: false, code: 'bad_input', message: '请填写跟进内容。' });
    expect(decide(promised({ status: 'adjusted' }), { type: 'follow_up', outcome: 'checked', note: '看过了' }, 张三, ctx)).toMatchObject({ ok: false, code: 'wrong_state' });
  });
});
