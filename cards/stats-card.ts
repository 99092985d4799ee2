// The 统计 card: counts, rates (each with its numerator and denominator), the A/B/C mix, the per-unit and
// per-handler tables and a chart. It lays out figures computed in src/domain/report.ts and decides nothing.

import type { GroupRow, Rate, ReportFigures } from '../src/domain/report.ts';
import { BULLET, card, clip, coloured, escapeMd, hr, md, plain, type Card, type CardElement, type Chart, type Table } from './components.ts';
import { CARD_TARGET_BYTES, cardByteSize } from './schema.ts';

export interface StatsView {
  /** e.g. "2024年建议办理统计" */
  title: string;
  /** Whose cases: "养老服务处" or "全部处室". */
  scopeLabel: string;
  figures: ReportFigures;
}

/** Rows a table shows at most before saying how many were left out (the card must stay under 30 KB). */
export const MAX_TABLE_ROWS = 30;

function rateText(label: string, r: Rate): string {
  return `${label} **${r.percent}**（${r.fraction}）`;
}

function groupTable(rows: readonly GroupRow[], firstColumn: string, limit: number): Table {
  return {
    tag: 'table',
    page_size: 10,
    row_height: 'low',
    header_style: { bold: true, background_style: 'grey', text_align: 'left' },
    columns: [
      { name: 'name', display_name: firstColumn, data_type: 'text', width: 'auto' },
      { name: 'total', display_name: '件数', data_type: 'number', width: 'auto' },
      { name: 'replied', display_name: '已答复', data_type: 'number', width: 'auto' },
      { name: 'overdue', display_name: '逾期', data_type: 'number', width: 'auto' },
      { name: 'satisfied', display_name: '满意率', data_type: 'text', width: 'auto' },
    ],
    rows: rows.slice(0, limit).map((g) => ({
      name: clip(g.name, 20),
      total: g.total,
      replied: g.replied,
      overdue: g.overdue,
      satisfied: g.satisfied.denominator === 0 ? '—' : `${g.satisfied.percent}（${g.satisfied.fraction}）`,
    })),
  };
}

function chartOf(f: ReportFigures): Chart | null {
  if (f.openByDueMonth.length > 0) {
    return {
      tag: 'chart',
      aspect_ratio: '16:9',
      color_theme: 'brand',
      height: 'auto',
      chart_spec: {
        type: 'bar',
        title: { text: '未办结案件（按答复期限月份）' },
        data: { values: f.openByDueMonth.map((m) => ({ month: `${Number(m.month.slice(0, 4))}年${Number(m.month.slice(5, 7))}月`, count: m.count })) },
        xField: 'month',
        yField: 'count',
        label: { visible: true },
      },
    };
  }
  const rates: [string, Rate][] = [
    ['回复率', f.replyRate],
    ['按时答复率', f.onTimeRate],
    ['面商率', f.contactRate],
    ['满意率', f.satisfiedRate],
    ['含基本满意', f.satisfiedOrBasicRate],
  ];
  const values = rates
    .filter(([, r]) => r.denominator > 0)
    .map(([name, r]) => ({ name, value: Math.round((r.numerator * 1000) / r.denominator) / 10 }));
  if (values.length === 0) return null;
  return {
    tag: 'chart',
    aspect_ratio: '16:9',
    color_theme: 'brand',
    height: 'auto',
    chart_spec: { type: 'bar', title: { text: '各项比率（%）' }, data: { values }, xField: 'name', yField: 'value', label: { visible: true } },
  };
}

function render(view: StatsView, tableRows: number): Card {
  const f = view.figures;
  const elements: CardElement[] = [];
  if (f.total === 0) {
    elements.push(md(escapeMd(`${view.scopeLabel}在${f.scope.year}年暂无${f.scope.kind ?? '建议提案'}。`)));
  } else {
    const roles = f.byRole.map((r) => `${escapeMd(r.label)} ${r.count} 件`).join('，');
    const kinds = !f.scope.kind && f.byKind.建议 > 0 && f.byKind.提案 > 0 ? `（建议 ${f.byKind.建议} 件，提案 ${f.byKind.提案} 件）` : '';
    elements.push(md(`共 **${f.total}** 件${kinds}：${roles}`));
    elements.push(md(`状态：${f.byStatus.map((s) => `${s.label} ${s.count}`).join('，')}`, { text_size: 'notation' }));
    const alerts = [
      f.overdue > 0 ? coloured(`逾期未办结 ${f.overdue} 件`, 'red') : `逾期未办结 0 件`,
      f.unrated > 0 ? coloured(`已答复待评价 ${f.unrated} 件`, 'orange') : '已答复待评价 0 件',
    ];
    elements.push(md(alerts.join('　')));
    elements.push(hr());
    const rateLines: string[] = [];
    if (f.replyingTotal > 0) {
      rateLines.push(
        rateText('办理回复率', f.replyRate),
        rateText('按时答复率', f.onTimeRate),
        rateText('面商率', f.contactRate),
        rateText('满意率', f.satisfiedRate),
        rateText('满意率（含基本满意）', f.satisfiedOrBasicRate),
        `首次评价不满意 **${f.firstDissatisfied}** 件`,
      );
    }
    if (f.assistingTotal > 0) rateLines.push(rateText('会办意见按时报送率', f.assistingOnTimeRate));
    elements.push(md(rateLines.map((l) => `${BULLET}${l}`).join('\n')));
    if (f.classMix.length > 0) {
      const mix = f.classMix.map((m) => `${escapeMd(m.label)}：${f.resultClasses.map((k) => `${escapeMd(k)}类 ${m.counts[k] ?? 0}`).join('，')}`);
      elements.push(md(`**办理结果**\n${mix.join('\n')}`));
    }
    const chart = chartOf(f);
    if (chart) elements.push(chart);
    if (!f.scope.unit && f.byUnit.length > 0) {
      elements.push(md('**按处室**'));
      elements.push(groupTable(f.byUnit, '处室', tableRows));
      if (f.byUnit.length > tableRows) elements.push(md(coloured(`另有 ${f.byUnit.length - tableRows} 个处室未列出`, 'grey'), { text_size: 'notation' }));
    }
    if (f.byHandler.length > 0) {
      elements.push(md('**按承办人**'));
      elements.push(groupTable(f.byHandler, '承办人', tableRows));
      if (f.byHandler.length > tableRows) elements.push(md(coloured(`另有 ${f.byHandler.length - tableRows} 人未列出`, 'grey'), { text_size: 'notation' }));
    }
  }
  if (f.adjustedOut.length > 0) {
    const nos = f.adjustedOut.slice(0, 20).map((a) => a.caseNo).join('、');
    const more = f.adjustedOut.length > 20 ? ` 等` : '';
    elements.push(md(coloured(`另有 ${f.adjustedOut.length} 件已调整出本单位，不计入统计：${escapeMd(nos)}${more}`, 'grey'), { text_size: 'notation' }));
  }
  elements.push(md(coloured(`统计日期 ${f.scope.asOf}；比率后括号内为分子/分母，分母为 0 时显示“—”。`, 'grey'), { text_size: 'notation' }));
  return card({ title: plain(clip(view.title, 50)), subtitle: plain(clip(view.scopeLabel, 60)), template: 'indigo' }, elements, view.title);
}

/** The stats card; long tables are cut (saying how many rows were left out) until the card fits Lark's size limit. */
export function buildStatsCard(view: StatsView): Card {
  let rows = MAX_TABLE_ROWS;
  let built = render(view, rows);
  while (cardByteSize(built) > CARD_TARGET_BYTES && rows > 3) {
    rows = Math.max(3, Math.floor(rows * 0.7));
    built = render(view, rows);
  }
  return built;
}
