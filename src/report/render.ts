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
  const { PassThrough } = await import('node:stream');
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    sink.on('end', resolve);
    sink.on('error', reject);
  });
  // The streaming writer commits each row as it goes: a year of 10,000 cases is written in a fraction of the time
  // (and memory) the in-memory workbook takes. Inline strings keep it from building a shared-string table.
  // Fast compression: the file is small either way, and deflate at the default level is most of the writing time.
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: sink, useStyles: true, useSharedStrings: false, zip: { zlib: { level: 1 } } } as ConstructorParameters<
    typeof ExcelJS.stream.xlsx.WorkbookWriter
  >[0]);
  wb.creator = 'Banli';
  const bold = { bold: true } as const;
  type Sheet = ReturnType<typeof wb.addWorksheet>;
  const add = (sheet: Sheet, values: (string | number)[], font?: { bold?: boolean; size?: number }) => {
    const row = sheet.addRow(values);
    if (font) row.font = font;
    row.commit();
  };

  const summary = wb.addWorksheet(SHEET_NAMES.summary);
  summary.columns = [{ width: 44 }, { width: 10 }, { width: 10 }, { width: 10 }];
  add(summary, [reportTitle(f)], { bold: true, size: 14 });
  for (const line of summaryLines(f)) add(summary, [line]);
  add(summary, []);
  add(summary, ['指标', '分子', '分母', '比率'], bold);
  for (const r of rateRows(f)) add(summary, [r.label, r.rate.numerator, r.rate.denominator, r.rate.percent]);
  add(summary, ['首次评价不满意（件）', f.firstDissatisfied]);
  add(summary, ['逾期未办结（件）', f.overdue]);
  add(summary, ['已答复待评价（件）', f.unrated]);
  add(summary, []);
  add(summary, ['办理类别', '件数'], bold);
  for (const r of f.byRole) add(summary, [r.label, r.count]);
  if (f.classMix.length > 0) {
    add(summary, []);
    add(summary, ['办理结果', ...f.resultClasses.map((k) => `${k}类`)], bold);
    for (const m of f.classMix) add(summary, [m.label, ...f.resultClasses.map((k) => m.counts[k] ?? 0)]);
  }
  if (f.adjustedOut.length > 0) {
    add(summary, []);
    add(summary, ['已调整出本单位（不计入统计）'], bold);
    for (const a of f.adjustedOut) add(summary, [`${a.caseNo} ${a.roleLabel} ${a.title}`]);
  }
  summary.commit();

  const bSheet = wb.addWorksheet(SHEET_NAMES.bClass);
  bSheet.columns = [{ width: 10 }, { width: 12 }, { width: 12 }, { width: 60 }];
  add(bSheet, [...B_CLASS_COLUMNS], bold);
  for (const b of f.bClass) add(bSheet, [b.roleLabel, b.caseNo, b.disclosure, b.title]);
  bSheet.commit();

  const all = wb.addWorksheet(SHEET_NAMES.cases);
  all.columns = CASE_COLUMNS.map((c) => ({ width: c.width }));
  add(all, CASE_COLUMNS.map((c) => c.header), bold);
  for (const c of f.cases) add(all, caseRow(c));
  all.commit();

  const promises = wb.addWorksheet(SHEET_NAMES.promises);
  promises.columns = [{ width: 12 }, { width: 48 }, { width: 12 }, { width: 60 }];
  add(promises, ['案号', '案由', '说明日期', '调整情况'], bold);
  if (f.promiseChanges.length === 0) add(promises, ['无']);
  for (const p of f.promiseChanges) add(promises, [p.caseNo, p.title, p.date, p.note]);
  promises.commit();

  await wb.commit();
  await ended;
  return Buffer.concat(chunks);
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
