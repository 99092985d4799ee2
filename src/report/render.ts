// The report as files: an .xlsx workbook (汇总, B类清单, 全部案件, 承诺调整) and a Markdown rendering of 汇总 and the
// B-class table for pasting into the written report. Both only lay out figures computed in src/domain/report.ts.

import { STATUS_LABELS } from '../domain/types.ts';
import { summaryLines, type CaseFacts, type Rate, type ReportFigures } from '../domain/report.ts';

/** The published B-class columns, exactly. */
export const B_CLASS_COLUMNS = ['办理类别', '案号', '公开情况', '案由'] as const;

export const SHEET_NAMES = { summary: '汇总', bClass: 'B类清单', cases: '全部案件', promises: '承诺调整' } as const;

/** The rows of the figures table on 汇总: label, numerator, denominator, percent. */
export function rateRows(f: ReportFigures): { label: string; rate: Rate }[] {
  const rows: { label: string; rate: Rate }[] = [];
  if (f.replyingTotal > 0 || f.assistingTotal === 0) {
    rows.push(
      { label: '办理回复率（已答复 ÷ 应答复）', rate: f.replyRate },
      { label: '按时答复率（按期答复 ÷ 应答复）', rate: f.onTimeRate },
      { label: '面商率（答复前已沟通 ÷ 主办承办分办件）', rate: f.contactRate },
      { label: '满意率（满意 ÷ 已评价）', rate: f.satisfiedRate },
      { label: '满意率（含基本满意）', rate: f.satisfiedOrBasicRate },
    );
  }
  if (f.assistingTotal > 0) rows.push({ label: '会办意见按时报送率', rate: f.assistingOnTimeRate });
  return rows;
}

/** The report's title, e.g. "2024年建议办理情况报告". */
export function reportTitle(f: ReportFigures): string {
  return `${f.scope.year}年${f.scope.unit ?? ''}${f.scope.kind ?? '建议提案'}办理情况报告`;
}

/** A file name for the report, e.g. "2024年建议办理情况报告.xlsx". */
export function reportFileName(f: ReportFigures, ext: 'xlsx' | 'md'): string {
  return `${reportTitle(f).replace(/[\\/:*?"<>|]/g, '_')}.${ext}`;
}

function caseRow(c: CaseFacts): (string | number)[] {
  const k = c.case;
  return [
    k.caseNo,
    k.kind,
    k.roleLabel,
    k.title,
    k.proposer,
    k.unit ?? '',
    k.handlerName ?? '',
    k.assignedDate,
    c.firstReply?.dueDate ?? k.replyDueDate,
    c.firstContactDate ?? '',
    c.firstReply?.date ?? '',
    c.latestReply && c.latestReply !== c.firstReply ? c.latestReply.date : '',
    c.onTime === null ? '' : c.onTime ? '是' : '否',
    c.resultClass ?? '',
    c.case.role === 'assisting' ? '' : (c.disclosure ?? ''),
    c.firstRating?.rating ?? '',
    c.latestRating && c.latestRating !== c.firstRating ? c.latestRating.rating : '',
    STATUS_LABELS[k.status],
  ];
}

const CASE_COLUMNS: { header: string; width: number }[] = [
  { header: '案号', width: 12 },
  { header: '类别', width: 6 },
  { header: '办理类别', width: 9 },
  { header: '案由', width: 48 },
  { header: '提出人', width: 12 },
  { header: '承办处室', width: 12 },
  { header: '承办人', width: 10 },
  { header: '交办日期', width: 12 },
  { header: '答复期限', width: 12 },
  { header: '首次沟通日期', width: 13 },
  { header: '答复日期', width: 12 },
  { header: '再次答复日期', width: 13 },
  { header: '是否按时', width: 9 },
  { header: '办理结果', width: 9 },
  { header: '公开情况', width: 11 },
  { header: '首次评价', width: 9 },
  { header: '再次评价', width: 9 },
  { header: '状态', width: 12 },
];

/** The workbook as .xlsx bytes. exceljs is loaded on first use only: an idle service never pays for it. */
export async function renderReportXlsx(f: ReportFigures): Promise<Buffer> {
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Banli';
  const bold = { bold: true } as const;

  const summary = wb.addWorksheet(SHEET_NAMES.summary);
  summary.columns = [{ width: 44 }, { width: 10 }, { width: 10 }, { width: 10 }];
  summary.addRow([reportTitle(f)]).font = { bold: true, size: 14 };
  for (const line of summaryLines(f)) summary.addRow([line]);
  summary.addRow([]);
  summary.addRow(['指标', '分子', '分母', '比率']).font = bold;
  for (const r of rateRows(f)) summary.addRow([r.label, r.rate.numerator, r.rate.denominator, r.rate.percent]);
  summary.addRow(['首次评价不满意（件）', f.firstDissatisfied]);
  summary.addRow(['逾期未办结（件）', f.overdue]);
  summary.addRow(['已答复待评价（件）', f.unrated]);
  summary.addRow([]);
  summary.addRow(['办理类别', '件数']).font = bold;
  for (const r of f.byRole) summary.addRow([r.label, r.count]);
  if (f.classMix.length > 0) {
    summary.addRow([]);
    summary.addRow(['办理结果', ...f.resultClasses.map((k) => `${k}类`)]).font = bold;
    for (const m of f.classMix) summary.addRow([m.label, ...f.resultClasses.map((k) => m.counts[k] ?? 0)]);
  }
  if (f.adjustedOut.length > 0) {
    summary.addRow([]);
    summary.addRow(['已调整出本单位（不计入统计）']).font = bold;
    for (const a of f.adjustedOut) summary.addRow([`${a.caseNo} ${a.roleLabel} ${a.title}`]);
  }

  const bSheet = wb.addWorksheet(SHEET_NAMES.bClass);
  bSheet.columns = [{ width: 10 }, { width: 12 }, { width: 12 }, { width: 60 }];
  bSheet.addRow([...B_CLASS_COLUMNS]).font = bold;
  for (const b of f.bClass) bSheet.addRow([b.roleLabel, b.caseNo, b.disclosure, b.title]);

  const all = wb.addWorksheet(SHEET_NAMES.cases);
  all.columns = CASE_COLUMNS.map((c) => ({ width: c.width }));
  all.addRow(CASE_COLUMNS.map((c) => c.header)).font = bold;
  for (const c of f.cases) all.addRow(caseRow(c));

  const promises = wb.addWorksheet(SHEET_NAMES.promises);
  promises.columns = [{ width: 12 }, { width: 48 }, { width: 12 }, { width: 60 }];
  promises.addRow(['案号', '案由', '说明日期', '调整情况']).font = bold;
  if (f.promiseChanges.length === 0) promises.addRow(['无']);
  for (const p of f.promiseChanges) promises.addRow([p.caseNo, p.title, p.date, p.note]);

  const out = await wb.xlsx.writeBuffer();
  return Buffer.from(out as ArrayBuffer);
}

// A table cell must not break the Markdown table: pipes are escaped, line breaks flattened.
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\r?\n\s*/g, ' ');
}

/** 汇总, the figures table and the B-class table as Markdown. */
export function renderReportMarkdown(f: ReportFigures): string {
  const out: string[] = [`# ${reportTitle(f)}`, ''];
  for (const line of summaryLines(f)) out.push(line, '');
  const rates = rateRows(f);
  if (f.total > 0 && rates.length > 0) {
    out.push('| 指标 | 分子/分母 | 比率 |', '| --- | --- | --- |');
    for (const r of rates) out.push(`| ${r.label} | ${r.rate.fraction} | ${r.rate.percent} |`);
    out.push('');
  }
  out.push('## B类办理结果清单', '');
  out.push(`| ${B_CLASS_COLUMNS.join(' | ')} |`, `| ${B_CLASS_COLUMNS.map(() => '---').join(' | ')} |`);
  if (f.bClass.length === 0) out.push('| 无 | | | |');
  for (const b of f.bClass) out.push(`| ${cell(b.roleLabel)} | ${cell(b.caseNo)} | ${cell(b.disclosure)} | ${cell(b.title)} |`);
  out.push('', '## 承诺事项调整', '');
  if (f.promiseChanges.length === 0) out.push('无');
  for (const p of f.promiseChanges) out.push(`- ${p.caseNo}《${cell(p.title)}》（${p.date}）：${cell(p.note)}`);
  out.push('');
  return out.join('\n');
}
