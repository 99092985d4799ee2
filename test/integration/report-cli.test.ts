import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ExcelJS from 'exceljs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseReportArgs } from '../../src/report/report-args.ts';

// `npm run report` as an operator runs it, on the embedded database after `npm run import -- --commit`.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SAMPLE = fileURLToPath(new URL('../../../shared/samples/cases-2024-npc.csv', import.meta.url));
const exec = promisify(execFile);

describe('npm run report', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'banli-report-cli-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const env = () => {
    const e: NodeJS.ProcessEnv = { ...process.env, BANLI_DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'silent' };
    delete e.DATABASE_URL;
    return e;
  };
  const cli = (script: string, args: string[]) => exec(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: env() });

  it('writes the .xlsx and the Markdown of a year just imported', async () => {
    await cli('src/cli/import.ts', [SAMPLE, '--commit']);
    const md = path.join(dir, '2024.md');
    const { stdout } = await cli('src/cli/report.ts', ['--year', '2024', '--kind', '建议', '--out', md, '--format', 'md']);
    expect(stdout).toContain(`已写入 ${md}（11 件，B类 0 件）`);
    const text = fs.readFileSync(md, 'utf8');
    expect(text).toContain('# 2024年建议办理情况报告');
    expect(text).toContain('2024年共办理建议11件，其中主办9件，分办2件。');
    // Nothing replied yet and everything long due: 0 of 11, and nothing rated.
    expect(text).toContain('| 办理回复率（已答复 ÷ 应答复） | 0/11 | 0% |');
    expect(text).toContain('| 满意率（满意 ÷ 已评价） | 0/0 | — |');

    const xlsx = path.join(dir, '2024.xlsx');
    await cli('src/cli/report.ts', ['--year', '2024', '--out', xlsx]);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(xlsx);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['汇总', 'B类清单', '全部案件', '承诺调整']);
    expect(wb.getWorksheet('全部案件')!.rowCount).toBe(12);
  }, 120_000);

  it('says what to fix in its arguments', () => {
    expect(parseReportArgs(['--out', 'x.xlsx'])).toMatch(/^请用 --year 给出四位年份/);
    expect(parseReportArgs(['--year', '2024', '--kind', '议案', '--out', 'x.xlsx'])).toMatch(/^--kind 只能是 建议 或 提案/);
    expect(parseReportArgs(['--year', '2024'])).toMatch(/^请用 --out 给出输出文件/);
    expect(parseReportArgs(['--year', '2024', '--out', 'x.pdf', '--format', 'pdf'])).toMatch(/^--format 只能是 xlsx 或 md/);
    expect(parseReportArgs(['--year', '2024', '--bogus'])).toMatch(/--bogus/);
    expect(parseReportArgs(['--year', '2024', '--out', 'r.MD'])).toEqual({ year: 2024, kind: null, unit: null, out: 'r.MD', format: 'md' });
  });
});
