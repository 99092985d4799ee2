import { describe, expect, it } from 'vitest';
import { factsOf } from '../../migrations/2026-11-29-0005-typed-timeline.ts';
import { timelineLine, type TimelineFact } from '../../src/domain/timeline.ts';

// The timeline stores what happened as facts; the line staff read is drawn from them when shown. Entries written
// before that (as sentences) are read back into the same facts by the migration.

const zhang = { openId: 'ou_zhangsan', name: '张三' };
const li = { openId: 'ou_lisi', name: '李四' };

const FACTS: Array<[TimelineFact, string]> = [
  [{ type: 'claimed' }, '认领了案件'],
  [{ type: 'released' }, '放弃了案件'],
  [{ type: 'released', from: zhang }, '取消了张三的认领'],
  [{ type: 'handed_over', to: li, assigned: true }, '指定李四承办'],
  [{ type: 'handed_over', to: li }, '将案件转交给李四'],
  [{ type: 'handed_over', to: li, from: zhang }, '将案件由张三转交给李四'],
  [{ type: 'progress', note: '已召开专题会研究' }, '已召开专题会研究'],
  [{ type: 'contacted', date: '2024-04-08', method: '电话', who: '黄振辉代表', note: '介绍了办理思路' }, '2024-04-08 电话沟通（黄振辉代表）：介绍了办理思路'],
  [{ type: 'contacted', date: '2024-04-08', method: '上门', who: '', note: '' }, '2024-04-08 上门沟通'],
  [{ type: 'replied', kind: '建议', round: 1, resultClass: 'B', disclosure: '依申请公开', date: '2024-04-09' }, '答复代表：B类，依申请公开，答复日期 2024-04-09'],
  [{ type: 'replied', kind: '提案', round: 2, resultClass: 'A', disclosure: '主动公开', date: '2024-07-01' }, '再次答复委员：A类，主动公开，答复日期 2024-07-01'],
  [{ type: 'opinion_sent', note: '已函复主办单位' }, '已向主办单位报送会办意见：已函复主办单位'],
  [{ type: 'rated', kind: '建议', rating: '基本满意' }, '代表评价：基本满意'],
  [{ type: 'rated', kind: '建议', rating: '不满意', reopenedUntil: '2024-08-12' }, '代表评价：不满意，案件重新办理，再次答复期限 2024-08-12'],
  [{ type: 'extension_requested', until: '2024-08-20', reason: '需协调多部门' }, '申请延期至 2024-08-20：需协调多部门'],
  [{ type: 'extension_approved', from: '2024-06-20', to: '2024-08-20' }, '同意延期，答复期限由 2024-06-20 调整为 2024-08-20'],
  [{ type: 'extension_refused', note: '理由不充分' }, '不同意延期：理由不充分'],
  [{ type: 'adjustment_requested', reason: '不属于我局职责' }, '申请调整：不属于我局职责'],
  [{ type: 'adjustment_approved', note: '转市卫健委' }, '同意调整，案件调整出本单位：转市卫健委'],
  [{ type: 'adjustment_refused', note: '' }, '不同意调整，请按原交办办理'],
  [{ type: 'imported', source: 'cases-2024-npc.csv', row: 2, replyDueDate: '2024-06-20' }, '导入案件（cases-2024-npc.csv 第2行），答复期限 2024-06-20'],
];

describe('the timeline line is drawn from the facts', () => {
  it.each(FACTS)('%j reads “%s”', (facts, line) => {
    expect(timelineLine(facts)).toBe(line);
  });

  it('a name learned later reaches an old entry', () => {
    const old: TimelineFact = { type: 'handed_over', to: { openId: 'ou_sun', name: '用户_sun' }, from: zhang };
    const names: Record<string, string> = { ou_sun: '孙七' };
    expect(timelineLine(old, (p) => names[p.openId] ?? p.name)).toBe('将案件由张三转交给孙七');
  });
});

describe('the migration reads old sentences back into facts', () => {
  const before = (f: TimelineFact) => ('from' in f && typeof f.from === 'object' ? { handler: f.from.openId } : {});
  const after = (f: TimelineFact) => ('to' in f && typeof f.to === 'object' ? { handler: f.to.openId } : {});

  it.each(FACTS)('%j comes back from “%s”', (facts, line) => {
    const kind = 'kind' in facts ? facts.kind : '建议';
    expect(factsOf({ id: 1, type: facts.type, note: line, before: before(facts), after: after(facts), kind })).toEqual(facts);
  });

  it('an import update comes back with its labels and the values of its snapshot', () => {
    const note = '导入更新（更正.csv 第3行）：答复期限 （空） → 2024-07-31；答复期限（计算） 2024-06-20 → 2024-07-31';
    const row = { id: 1, type: 'import_updated', note, kind: '建议',
      before: { fixed_due_date: null, reply_due_date: '2024-06-20' }, after: { fixed_due_date: '2024-07-31', reply_due_date: '2024-07-31' } };
    const facts = factsOf(row) as TimelineFact;
    expect(facts).toEqual({
      type: 'import_updated',
      source: '更正.csv',
      row: 3,
      changes: [
        { label: '答复期限', before: null, after: '2024-07-31' },
        { label: '答复期限（计算）', before: '2024-06-20', after: '2024-07-31' },
      ],
    });
    expect(timelineLine(facts)).toBe(note);
  });

  it('a sentence it cannot read is kept word for word (the migration stores it as a legacy fact)', () => {
    expect(factsOf({ id: 1, type: 'claimed', note: '手工补录：已认领', before: null, after: null, kind: '建议' })).toBeNull();
    expect(timelineLine({ type: 'legacy', was: 'claimed', text: '手工补录：已认领' })).toBe('手工补录：已认领');
  });
});
