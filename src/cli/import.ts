import path from 'node:path';
import v8 from 'node:v8';
import { ConfigError, loadConfig } from '../config.ts';
import { applyImportPlan, describePlan, planImport, type ImportPlan } from '../import/apply.ts';
import { importFileDigest, ImportWatch, unchangedSinceLastImport } from '../import/fingerprint.ts';
import { describeProblem, ImportFileError, readImportBytes, readImportFileBytes, type ImportProblem } from '../import/read.ts';
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

/** The file's cases, or the exit code once its problems are printed. */
async function readAndCheck(file: string, bytes: Buffer): Promise<{ cases: ImportedCase[]; warnings: ImportProblem[] } | number> {
  let sheet;
  try {
    progress.show(`正在读取 ${path.basename(file)}…`);
    sheet = await readImportBytes(path.basename(file), bytes);
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
  return { cases, warnings: sheet.warnings };
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

  let bytes: Buffer;
  try {
    ({ bytes } = await readImportFileBytes(file));
  } catch (err) {
    if (err instanceof ImportFileError) {
      console.error(`无法导入 ${file}：${err.message}`);
      return 1;
    }
    throw err;
  }
  const digest = importFileDigest(path.basename(file), bytes);
  const done = (plan: ImportPlan) => {
    for (const line of describePlan(plan)) console.log(line);
    console.log(commit ? '已导入。' : '以上为预览（未写入）。确认无误后加 --commit 正式导入。');
  };

  progress.show('正在打开数据库…');
  // No HTTP side to keep responsive here: the embedded database runs on this thread, without a worker's extra memory.
  // And its WebAssembly is compiled once, quickly (Liftoff), without the optimising compile V8 would otherwise add in
  // the background: a one-off import spends more CPU time and about 60 MB more memory on that than it gains.
  if (!config.databaseUrl) v8.setFlagsFromString('--liftoff-only');
  const database = await openMigrated({ ...config, embeddedThread: 'main' });
  try {
    // The very file last imported, onto a database nobody changed since: every row is unchanged (see fingerprint.ts).
    const known = await unchangedSinceLastImport(database.db, digest);
    if (known) {
      progress.done();
      for (const w of known.warnings) console.log(`提示：${describeProblem(w)}`);
      done({ items: [], counts: { create: 0, update: 0, unchanged: known.rows } });
      return 0;
    }
    const checked = await readAndCheck(file, bytes);
    if (typeof checked === 'number') return checked;
    const { cases, warnings } = checked;

    const clocks = clocksFor(config);
    const source = path.basename(file);
    progress.show(`正在与数据库中的 ${cases.length} 件案件比对…`);
    if (!commit) {
      const plan = await planImport(database.db, cases, clocks);
      progress.done();
      done(plan);
      return 0;
    }
    const plan = await database.db.transaction().execute(async (trx) => {
      const watch = await ImportWatch.start(trx);
      const p = await planImport(trx, cases, clocks);
      await watch.beforeWrites(trx, p.items.flatMap((i) => (i.action === 'update' ? [i.caseId] : [])));
      await applyImportPlan(trx, p, null, source, (n, total) => progress.show(`正在写入 ${n}/${total}…`));
      await watch.remember(trx, digest, { rows: cases.length, warnings }, p.counts.create);
      progress.show('正在提交…');
      return p;
    });
    progress.done();
    done(plan);
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
