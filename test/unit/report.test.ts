import { describe, expect, it } from 'vitest';
import { computeReport, rate, statsScope, summaryLines, type ReportCase } from '../../src/domain/report.ts';
import { renderReportMarkdown } from '../../src/report/render.ts';

// The report's arithmetic on hand-made records; every expected figure is worked out by hand in the test.

const AS_OF = '2024-12-31';

function c(caseNo: string, over: Partial<ReportCase> = {}): ReportCase {
  return {
    caseNo,
    kind: '建议',
    year: Number(caseNo.slice(0, 4)),
    title: `关于${caseNo}的建议`,
    proposer: '黄振辉',
    roleLabel: '主办',
    role: 'lead',
    unit: '养老服务处',
    handlerName: '张三',
    assignedDate: '2024-03-20',
    replyDueDate: '2024-06-20',
    disclosure: '主动公开',
    status: 'unclaimed',
    contacts: [],
    replies: [],
    ratings: [],
    followUps: [],
    ...over,
  };
}

/** A case replied in round 1 on `date` (due 2024-06-20), contacted on 2024-04-01, rated `rating`. */
function replied(caseNo: string, resultClass: string, rating: '满意' | '基本满意' | '不满意' | null, over: Partial<ReportCase> = {}, date = '2024-06-01'): ReportCase {
  return c(caseNo, {
    status: rating ? 'closed' : 'replied',
    contacts: [{ round: 1, date: '2024-04-01' }],
    replies: [{ round: 1, kind: 'reply', date, resultClass, disclosure: '主动公开', dueDate: '2024-06-20' }],
    ratings: rating ? [{ round: 1, rating, date: '2024-06-15' }] : [],
    ...over,
  });
}

describe('rate', () => {
  it('shows numerator and denominator and rounds to one decimal', () => {
    expect(rate(22, 23)).toEqual({ numerator: 22, denominator: 23, fraction: '22/23', percent: '95.7%' });
    expect(rate(1, 1).percent).toBe('100%');
    expect(rate(2, 3).percent).toBe('66.7%');
    expect(rate(1, 8).percent).toBe('12.5%');
    expect(rate(0, 5).percent).toBe('0%');
  });

  it('shows "—" for an empty denominator, never NaN, 0% or 100%', () => {
    expect(rate(0, 0)).toEqual({ numerator: 0, denominator: 0, fraction: '0/0', percent: '—' });
  });

  it('refuses parts that cannot be a rate', () => {
    expect(() => rate(3, 2)).toThrow(RangeError);
    expect(() => rate(-1, 2)).toThrow(RangeError);
  });
});

describe('computeReport', () => {
  it('with no cases, counts nothing and every rate is "—"', () => {
    const f = computeReport([], { year: 2024, asOf: AS_OF });
    expect(f.total).toBe(0);
    for (const r of [f.replyRate, f.onTimeRate, f.contactRate, f.satisfiedRate, f.satisfiedOrBasicRate, f.assistingOnTimeRate]) {
      expect(r.percent).toBe('—');
    }
    expect(f.bClass).toEqual([]);
    expect(f.completedOn).toBeNull();
    expect(summaryLines(f)).toEqual(['2024年暂无建议办理数据。']);
    expect(renderReportMarkdown(f)).toContain('| 无 | | | |');
  });

  it('with replies but nothing rated yet, the satisfaction rates are "—" and the unrated are counted', () => {
    const f = computeReport([replied('20240001', 'A', null), replied('20240002', 'B', null), c('20240003')], { year: 2024, asOf: AS_OF });
    expect(f.satisfiedRate.percent).toBe('—');
    expect(f.satisfiedOrBasicRate.fraction).toBe('0/0');
    expect(f.unrated).toBe(2);
    // 20240003 is due 2024-06-20 and not replied: due, not replied, overdue.
    expect(f.replyRate.fraction).toBe('2/3');
    expect(f.replyRate.percent).toBe('66.7%');
    expect(f.overdue).toBe(1);
    expect(f.firstDissatisfied).toBe(0);
  });

  it('counts only the requested year when cases span two years', () => {
    const records = [
      replied('20230001', 'B', '满意', { year: 2023 }),
      replied('20230002', 'A', '不满意', { year: 2023 }),
      replied('20240001', 'A', '满意'),
      replied('20240002', 'B', '基本满意'),
    ];
    const f = computeReport(records, { year: 2024, asOf: AS_OF });
    expect(f.total).toBe(2);
    expect(f.cases.map((x) => x.case.caseNo)).toEqual(['20240001', '20240002']);
    expect(f.satisfiedRate.fraction).toBe('1/2');
    expect(f.satisfiedOrBasicRate.percent).toBe('100%');
    expect(f.firstDissatisfied).toBe(0);
    expect(f.bClass.map((b) => b.caseNo)).toEqual(['20240002']);
    const f2023 = computeReport(records, { year: 2023, asOf: AS_OF });
    expect(f2023.total).toBe(2);
    expect(f2023.firstDissatisfied).toBe(1);
  });

  it('counts a re-handled case once, keeps its first 不满意 and rates it by its latest rating', () => {
    const rehandled = c('20240005', {
      status: 'closed',
      contacts: [
        { round: 1, date: '2024-04-01' },
        { round: 2, date: '2024-07-10' },
      ],
      replies: [
        // The first reply was on time; the second (after 不满意) answers the new due date.
        { round: 1, kind: 'reply', date: '2024-06-10', resultClass: 'C', disclosure: '主动公开', dueDate: '2024-06-20' },
        { round: 2, kind: 'reply', date: '2024-08-01', resultClass: 'B', disclosure: '依申请公开', dueDate: '2024-08-05' },
      ],
      ratings: [
        { round: 1, rating: '不满意', date: '2024-07-01' },
        { round: 2, rating: '满意', date: '2024-08-20' },
      ],
      replyDueDate: '2024-08-05',
    });
    const f = computeReport([rehandled, replied('20240006', 'A', '基本满意')], { year: 2024, asOf: AS_OF });
    expect(f.total).toBe(2);
    expect(f.replyRate.fraction).toBe('2/2');
    expect(f.onTimeRate.fraction).toBe('2/2');
    expect(f.firstDissatisfied).toBe(1);
    expect(f.satisfiedRate.fraction).toBe('1/2');
    expect(f.satisfiedOrBasicRate.fraction).toBe('2/2');
    // Its class and disclosure are those of the latest reply.
    expect(f.classMix[0]?.counts).toEqual({ A: 1, B: 1, C: 0 });
    expect(f.bClass).toEqual([{ roleLabel: '主办', caseNo: '20240005', disclosure: '依申请公开', title: '关于20240005的建议' }]);
    expect(f.completedOn).toBe('2024-08-01');
    expect(summaryLines(f)).toContain('截至8月1日，2件已全部办理完毕。');
  });

  it('lists a case adjusted out of the unit apart and counts it nowhere', () => {
    const out = c('20240009', { status: 'adjusted', roleLabel: '分办', role: 'separate' });
    const f = computeReport([replied('20240001', 'A', '满意'), out], { year: 2024, asOf: AS_OF });
    expect(f.total).toBe(1);
    expect(f.byRole).toEqual([{ role: 'lead', label: '主办', count: 1 }]);
    expect(f.replyRate.fraction).toBe('1/1');
    expect(f.adjustedOut).toEqual([{ caseNo: '20240009', roleLabel: '分办', title: '关于20240009的建议' }]);
    expect(summaryLines(f).at(-1)).toBe('另有1件已调整出本单位（20240009），不计入以上统计。');
    // Only adjusted cases: nothing counted, still listed apart.
    const only = computeReport([out], { year: 2024, asOf: AS_OF });
    expect(only.total).toBe(0);
    expect(summaryLines(only)).toEqual(['2024年暂无建议办理数据。另有1件已调整出本单位，不计入统计。']);
  });

  it('orders the B-class list by role (主办, 承办, 分办) and then by case number', () => {
    const records = [
      replied('20240675', 'B', '满意', { roleLabel: '分办', role: 'separate' }),
      replied('20240900', 'B', '满意', { roleLabel: '承办', role: 'sole' }),
      replied('20240252', 'B', '满意', { roleLabel: '分办', role: 'separate' }),
      replied('20240562', 'B', '满意'),
      replied('20240100', 'A', '满意'),
    ];
    const f = computeReport(records, { year: 2024, asOf: AS_OF });
    expect(f.bClass.map((b) => `${b.roleLabel} ${b.caseNo}`)).toEqual(['主办 20240562', '承办 20240900', '分办 20240252', '分办 20240675']);
  });

  it('judges on-time replies against the due date in force, and assisting opinions apart', () => {
    const records = [
      replied('20240001', 'A', '满意', {}, '2024-06-21'), // one day late
      replied('20240002', 'A', '满意'),
      c('20240003', { replyDueDate: '2025-02-01', status: 'in_progress' }), // not yet due: not in the denominator
      c('20240010', {
        role: 'assisting',
        roleLabel: '汇办',
        status: 'closed',
        replyDueDate: '2024-04-20',
        replies: [{ round: 1, kind: 'opinion', date: '2024-04-18', resultClass: null, disclosure: null, dueDate: '2024-04-20' }],
      }),
      c('20240011', { role: 'assisting', roleLabel: '汇办', status: 'in_progress', replyDueDate: '2024-04-20' }),
    ];
    const f = computeReport(records, { year: 2024, asOf: AS_OF });
    expect(f.replyRate.fraction).toBe('2/2');
    expect(f.onTimeRate.fraction).toBe('1/2');
    expect(f.onTimeRate.percent).toBe('50%');
    expect(f.contactRate.fraction).toBe('2/3');
    expect(f.assistingOnTimeRate.fraction).toBe('1/2');
    expect(f.byRole.map((r) => `${r.label}${r.count}`)).toEqual(['主办3', '汇办2']);
    expect(f.overdue).toBe(1);
    expect(f.openByDueMonth).toEqual([
      { month: '2024-04', count: 1 },
      { month: '2025-02', count: 1 },
    ]);
    expect(f.completedOn).toBeNull();
    expect(summaryLines(f)[0]).toBe('2024年共办理建议5件，其中主办3件，汇办2件。');
  });

  it('scopes to a unit and a kind', () => {
    const records = [
      replied('20240001', 'A', '满意'),
      replied('20240002', 'A', '满意', { unit: '儿童福利处' }),
      replied('20240003', 'A', '满意', { kind: '提案' }),
    ];
    expect(computeReport(records, { year: 2024, unit: '养老服务处', asOf: AS_OF }).total).toBe(2);
    expect(computeReport(records, { year: 2024, kind: '提案', asOf: AS_OF }).total).toBe(1);
    const both = computeReport(records, { year: 2024, asOf: AS_OF });
    expect(summaryLines(both)[0]).toBe('2024年共办理建议提案3件（建议2件，提案1件），其中主办3件。');
    expect(both.byUnit.map((u) => `${u.name}:${u.total}`)).toEqual(['养老服务处:2', '儿童福利处:1']);
  });

  it('lists the promises that had to change', () => {
    const b = replied('20240002', 'B', '满意', {
      followUps: [
        { round: 1, outcome: 'checked', date: '2024-09-01', note: '推进中' },
        { round: 1, outcome: 'changed', date: '2024-10-01', note: '因规划调整，改为明年建成，已向代表说明' },
      ],
    });
    const f = computeReport([b], { year: 2024, asOf: AS_OF });
    expect(f.promiseChanges).toEqual([{ caseNo: '20240002', title: '关于20240002的建议', date: '2024-10-01', note: '因规划调整，改为明年建成，已向代表说明' }]);
  });
});

describe('statsScope', () => {
  it('counts the bound unit for anyone, everything for a coordinator elsewhere, and refuses the rest with a way out', () => {
    expect(statsScope({ chatUnit: '养老服务处', coordinator: false })).toEqual({ unit: '养老服务处' });
    expect(statsScope({ chatUnit: '养老服务处', coordinator: true })).toEqual({ unit: '养老服务处' });
    expect(statsScope({ chatUnit: null, coordinator: true })).toEqual({ unit: null });
    expect(statsScope({ chatUnit: null, coordinator: false })).toEqual({ refusal: expect.stringContaining('绑定 <处室>') });
  });
});
