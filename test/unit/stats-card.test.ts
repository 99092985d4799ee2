import { describe, expect, it } from 'vitest';
import { buildStatsCard, CARD_MAX_BYTES, cardByteSize, validateCard } from '../../cards/index.ts';
import { cardTexts } from '../support/lark/cards.ts';
import { computeReport, type ReportCase } from '../../src/domain/report.ts';
import type { CaseStatus, OurRole } from '../../src/domain/types.ts';

// The 统计 card stays a valid Card JSON 2.0 card under Lark's 30 KB whatever the data.

const ROLES: [OurRole, string][] = [
  ['lead', '主办'],
  ['sole', '承办'],
  ['separate', '分办'],
  ['assisting', '会办'],
];
const STATUSES: CaseStatus[] = ['unclaimed', 'in_progress', 'contacted', 'replied', 'rehandling', 'closed', 'adjusted'];

function manyCases(n: number): ReportCase[] {
  return Array.from({ length: n }, (_, i) => {
    const [role, roleLabel] = ROLES[i % ROLES.length] as [OurRole, string];
    const status = STATUSES[i % STATUSES.length] as CaseStatus;
    const replied = status === 'replied' || status === 'closed' || status === 'rehandling';
    return {
      caseNo: `2024${String(i + 1).padStart(4, '0')}`,
      kind: i % 5 === 0 ? '提案' : '建议',
      year: 2024,
      title: `关于进一步完善第${i + 1}项公共服务体系建设并加强相关监督管理工作的建议`,
      proposer: '某某代表',
      roleLabel,
      role,
      unit: `第${(i % 60) + 1}处室（一个名字相当长的内设机构）`,
      handlerName: `承办人${i % 200}`,
      assignedDate: '2024-03-20',
      replyDueDate: `2024-${String((i % 9) + 4).padStart(2, '0')}-20`,
      disclosure: '主动公开',
      status,
      contacts: [{ round: 1, date: '2024-04-01' }],
      replies: replied
        ? [{ round: 1, kind: role === 'assisting' ? 'opinion' : 'reply', date: '2024-06-01', resultClass: role === 'assisting' ? null : 'ABC'[i % 3] ?? 'A', disclosure: '主动公开', dueDate: '2024-06-20' }]
        : [],
      ratings: status === 'closed' && role !== 'assisting' ? [{ round: 1, rating: i % 4 === 0 ? '基本满意' : '满意', date: '2024-06-15' }] : [],
      followUps: [],
    };
  });
}

describe('the stats card', () => {
  it('passes the card schema and stays under 30 KB with 500 cases, 60 units and 200 handlers', () => {
    const figures = computeReport(manyCases(500), { year: 2024, asOf: '2024-08-01' });
    const card = buildStatsCard({ title: '2024年建议提案办理统计', scopeLabel: '全部处室', figures });
    expect(validateCard(card)).toEqual({ ok: true });
    expect(cardByteSize(card)).toBeLessThan(CARD_MAX_BYTES);
    const text = cardTexts(card).join('\n');
    expect(text).toContain(`办理回复率 **${figures.replyRate.percent}**（${figures.replyRate.fraction}）`);
    expect(text).toMatch(/另有 \d+ 人未列出/);
    const chart = card.body.elements.find((e) => e.tag === 'chart');
    expect(chart).toBeDefined();
  });

  it('says so when there is nothing to count, and shows the rates chart when nothing is open', () => {
    const empty = buildStatsCard({ title: '2025年建议办理统计', scopeLabel: '养老服务处', figures: computeReport([], { year: 2025, kind: '建议', unit: '养老服务处', asOf: '2025-01-01' }) });
    expect(validateCard(empty)).toEqual({ ok: true });
    expect(cardTexts(empty).join('\n')).toContain('养老服务处在2025年暂无建议。');

    const closedOnly = manyCases(14).filter((c) => c.status === 'closed');
    const f = computeReport(closedOnly, { year: 2024, asOf: '2024-12-31' });
    const card = buildStatsCard({ title: 't', scopeLabel: 's', figures: f });
    expect(validateCard(card)).toEqual({ ok: true });
    const chart = card.body.elements.find((e) => e.tag === 'chart') as { chart_spec: { title: { text: string } } } | undefined;
    expect(chart?.chart_spec.title.text).toBe('各项比率（%）');
  });

  it('is refused by the schema when a chart has no type or a table row names no column', () => {
    const f = computeReport(manyCases(20), { year: 2024, asOf: '2024-08-01' });
    const card = buildStatsCard({ title: 't', scopeLabel: 's', figures: f }) as unknown as { body: { elements: Record<string, unknown>[] } };
    const broken = structuredClone(card);
    const chart = broken.body.elements.find((e) => e.tag === 'chart') as { chart_spec: Record<string, unknown> };
    delete chart.chart_spec.type;
    expect(validateCard(broken).ok).toBe(false);
    const broken2 = structuredClone(card);
    const table = broken2.body.elements.find((e) => e.tag === 'table') as { rows: Record<string, unknown>[] };
    (table.rows[0] as Record<string, unknown>).bogus = 'x';
    expect(validateCard(broken2).ok).toBe(false);
  });
});
