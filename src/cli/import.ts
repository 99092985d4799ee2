import path from 'node:path';
import { ConfigError, loadConfig } from '../config.ts';
import { applyImportPlan, describePlan, planImport } from '../import/apply.ts';
import { describeProblem, ImportFileError, readImportFile } from '../import/read.ts';
import { validateRows, type ImportedCase } from '../import/validate.ts';
import { clocksFor, openMigrated } from '../setup.ts';

// `npm run import -- FILE [--commit]`: a dry run by default; --commit applies everything in one transaction, or
// nothing when any row has a problem.

const USAGE = '用法：npm run import -- <文件.xlsx|文件.csv> [--commit]';

// On a terminal, one line on stderr says what the import is doing (reading, checking, writing n/N) and is rewritten in
// place; piped output (a log file, a test) gets none of it, only the result.
const progress = process.stderr.isTTY
  ? {
      show: (text: string) => process.stderr.write(`\r\x1b[2K${text}`),
      done: () => process.stderr.write('\r\x1b[2K'),
    }
  : { show: () => {}, done: () => {} };

/** The file's cases, or the exit code once its problems are printed. The raw sheet is dropped on return: on the
 *  embedded database the import's peak memory is the database plus whatever of the file is still held. */
async function readAndCheck(file: string): Promise<{ cases: ImportedCase[] } | number> {
  let sheet;
  try {
    progress.show(`正在读取 ${path.basename(file)}…`);
    sheet = await readImportFile(file);
  } catch (err) {
    progress.done();
    if (err instanceof ImportFileError) {
      console.error(`无法导入 ${file}：${err.message}`);
      return 1;
    }
    throw err;
  }
  progress.show(`已读取 ${sheet.rows.length} 行，正在检查…`);
  const { cases, problems } = validateRows(sheet);
  progress.done();
  for (const w of sheet.warnings) console.log(`提示：${describeProblem(w)}`);
  if (problems.length > 0) {
    console.error(`文件中有 ${problems.length} 处问题，未导入任何数据：`);
    for (const p of problems) console.error(`  ${describeProblem(p)}`);
    return 1;
  }
  return { cases };
}

async function run(argv: string[]): Promise<number> {
  const files = argv.filter((a) => !a.startsWith('--'));
  const unknown = argv.filter((a) => a.startsWith('--') && a !== '--commit');
  if (files.length !== 1 || unknown.length > 0) {
    console.error(unknown.length ? `不认识的选项：${unknown.join(' ')}\n${USAGE}` : USAGE);
    return 2;
  }
  const file = files[0] as string;
  const commit = argv.includes('--commit');
  const config = loadConfig();

  const checked = await readAndCheck(file);
  if (typeof checked === 'number') return checked;
  const { cases } = checked;

  // No HTTP side to keep responsive here: the embedded database runs on this thread, without a worker's extra memory.
  const database = await openMigrated({ ...config, embeddedThread: 'main' });
  try {
    const clocks = clocksFor(config);
    const source = path.basename(file);
    progress.show(`正在与数据库中的 ${cases.length} 件案件比对…`);
    if (!commit) {
      const plan = await planImport(database.db, cases, clocks);
      progress.done();
      for (const line of describePlan(plan)) console.log(line);
      console.log('以上为预览（未写入）。确认无误后加 --commit 正式导入。');
      return 0;
    }
    const plan = await database.db.transaction().execute(async (trx) => {
      const p = await planImport(trx, cases, clocks);
      await applyImportPlan(trx, p, null, source, (done, total) => progress.show(`正在写入 ${done}/${total}…`));
      progress.show('正在提交…');
      return p;
    });
    progress.done();
    for (const line of describePlan(plan)) console.log(line);
    console.log('已导入。');
    return 0;
  } finally {
    progress.done();
    await database.close();
  }
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : `导入失败：${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = err instanceof ConfigError ? 2 : 1;
}
