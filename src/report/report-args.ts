import { parseArgs } from 'node:util';
import type { CaseKind } from '../domain/types.ts';

// The command line of `npm run report`.

const USAGE = '用法：npm run report -- --year 2024 [--kind 建议|提案] [--unit 处室] --out 文件 [--format xlsx|md]';

/** The options, or a Chinese message saying what to fix. */
export function parseReportArgs(argv: string[]): { year: number; kind: CaseKind | null; unit: string | null; out: string; format: 'xlsx' | 'md' } | string {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { year: { type: 'string' }, kind: { type: 'string' }, unit: { type: 'string' }, out: { type: 'string' }, format: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return `${err instanceof Error ? err.message : String(err)}\n${USAGE}`;
  }
  const year = Number(values.year);
  if (!values.year || !/^\d{4}$/.test(values.year) || year < 2000 || year > 2100) return `请用 --year 给出四位年份，例如 --year 2024\n${USAGE}`;
  if (values.kind !== undefined && values.kind !== '建议' && values.kind !== '提案') return `--kind 只能是 建议 或 提案\n${USAGE}`;
  if (!values.out) return `请用 --out 给出输出文件\n${USAGE}`;
  const format = values.format ?? (values.out.toLowerCase().endsWith('.md') ? 'md' : 'xlsx');
  if (format !== 'xlsx' && format !== 'md') return `--format 只能是 xlsx 或 md\n${USAGE}`;
  return { year, kind: (values.kind as CaseKind | undefined) ?? null, unit: values.unit?.trim() || null, out: values.out, format };
}

