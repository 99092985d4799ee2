import { writeFile } from 'node:fs/promises';
import { ConfigError, loadConfig } from '../config.ts';
import { todayIn } from '../domain/calendar.ts';
import { parseReportArgs } from '../report/report-args.ts';
import { renderReportMarkdown, renderReportXlsx } from '../report/render.ts';
import { reportFigures } from '../report/report.service.ts';
import { openMigrated } from '../runtime.ts';

// `npm run report -- --year 2024 [--kind 建议|提案] [--unit 处室] --out FILE [--format xlsx|md]`: the same report
// 导出报告 sends in chat, written to a file.

async function run(argv: string[]): Promise<number> {
  const args = parseReportArgs(argv);
  if (typeof args === 'string') {
    console.error(args);
    return 2;
  }
  const config = loadConfig();
  const database = await openMigrated(config);
  try {
    const figures = await reportFigures(
      database.db,
      { year: args.year, kind: args.kind, unit: args.unit, asOf: todayIn(config.timezone, new Date()) },
      config.resultClasses.map((c) => c.code),
    );
    const bytes = args.format === 'md' ? Buffer.from(renderReportMarkdown(figures), 'utf8') : await renderReportXlsx(figures);
    await writeFile(args.out, bytes);
    console.log(`已写入 ${args.out}（${figures.total} 件，B类 ${figures.bClass.length} 件）。`);
    return 0;
  } finally {
    await database.close();
  }
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : `生成报告失败：${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = err instanceof ConfigError ? 2 : 1;
}
