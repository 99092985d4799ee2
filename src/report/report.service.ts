import { computeReport, type ReportFigures, type ReportScope } from '../domain/report.ts';
import type { DbOrTrx } from '../storage/database.ts';
import { loadReportRecords } from './report.repository.ts';
import { renderReportMarkdown, renderReportXlsx, reportFileName } from './render.ts';

// One path from the database to the report, shared by `npm run report`, the 统计 card and 导出报告 in chat.

/** The figures for a scope, read from the typed records. */
export async function reportFigures(db: DbOrTrx, scope: ReportScope, resultClasses: readonly string[]): Promise<ReportFigures> {
  const records = await loadReportRecords(db, { year: scope.year, kind: scope.kind ?? null, unit: scope.unit ?? null });
  return computeReport(records, scope, resultClasses);
}

export interface ReportFile {
  fileName: string;
  bytes: Buffer;
}

/** The report as its two files: the workbook and the Markdown rendering. */
export async function reportFiles(figures: ReportFigures): Promise<{ xlsx: ReportFile; markdown: ReportFile }> {
  return {
    xlsx: { fileName: reportFileName(figures, 'xlsx'), bytes: await renderReportXlsx(figures) },
    markdown: { fileName: reportFileName(figures, 'md'), bytes: Buffer.from(renderReportMarkdown(figures), 'utf8') },
  };
}
