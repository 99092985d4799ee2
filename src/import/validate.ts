// Validation half of the case import: raw text cells → cases, or a list of problems a user can fix in the file.
// Pure: no I/O, no clock.

import { z } from 'zod';
import { KNOWN_ROLE_LABELS, roleFromLabel } from '../domain/roles.ts';
import { disclosureFromLabel } from '../domain/types.ts';
import type { CaseKind, Disclosure, IsoDate, OurRole } from '../domain/types.ts';
import { fullDateParts, toHalfWidth } from '../domain/text.ts';
import type { ImportHeader, ImportProblem, RawSheet } from './read.ts';

export interface ImportedCase {
  /** Row in the file, for messages after validation (e.g. when applying to the database). */
  row: number;
  caseNo: string;
  kind: CaseKind;
  year: number;
  session: string;
  title: string;
  proposer: string;
  /** 办理类别 as imported (trimmed); `role` is what the rules use. */
  roleLabel: string;
  role: OurRole;
  leadUnit: string;
  assistingUnits: string[];
  /** 承办处室: our internal section, when the file names one. */
  unit: string | null;
  assignedDate: IsoDate;
  /** 答复期限 when the file fixes one; null means it is computed from the assignment date. */
  fixedDueDate: IsoDate | null;
  disclosure: Disclosure | null;
}

const MAX_TITLE_CHARS = 500;
const MAX_OTHER_CHARS = 200;
const PLAUSIBLE_YEARS = { min: 1990, max: 2100 };
const DATE_HINT = '请使用 2024-03-20 格式';
const EMPTY = '必填，不能为空';

// Maps, not object literals: a label like "constructor" must not find something on Object.prototype.
const KIND_BY_LABEL: ReadonlyMap<string, CaseKind> = new Map<string, CaseKind>([
  ['建议', '建议'],
  ['人大建议', '建议'],
  ['代表建议', '建议'],
  ['人大代表建议', '建议'],
  ['提案', '提案'],
  ['政协提案', '提案'],
  ['委员提案', '提案'],
]);

/** Turns raw rows into cases, collecting every problem (row + column + Chinese reason) rather than stopping at the first.
 *  `cases` holds only the rows without problems; the sheet's warnings are not repeated in `problems`. */
export function validateRows(sheet: RawSheet): { cases: ImportedCase[]; problems: ImportProblem[] } {
  const cases: ImportedCase[] = [];
  const problems: ImportProblem[] = [];
  const firstRowByKey = new Map<string, number>();

  for (const raw of sheet.rows) {
    const rowProblems: ImportProblem[] = [];
    const report = (column: ImportHeader, reason: string) => rowProblems.push({ row: raw.row, column, reason });
    const field = <T>(column: ImportHeader, schema: z.ZodType<T, string>): T | undefined => {
      const text = raw.cells[column] ?? '';
      const max = column === '案由' ? MAX_TITLE_CHARS : MAX_OTHER_CHARS;
      // Characters, not UTF-16 units: only a text longer than the limit in units can be over it.
      const length = text.length > max ? [...text.trim()].length : 0;
      if (length > max) {
        report(column, `内容过长（${length} 字），最多 ${max} 字`);
        return undefined;
      }
      const result = schema.safeParse(text);
      if (result.success) return result.data;
      for (const issue of result.error.issues) report(column, issue.message);
      return undefined;
    };

    const caseNo = field('案号', caseNoSchema);
    const kind = field('类别', kindSchema);
    const session = field('届次', textSchema);
    const title = field('案由', requiredTextSchema);
    const proposer = field('提出人', textSchema);
    const roleLabel = field('办理类别', requiredTextSchema);
    const role = roleLabel ? roleFromLabel(roleLabel) : undefined;
    if (roleLabel && !role) {
      report('办理类别', `无法识别的办理类别“${roleLabel}”，可用：${KNOWN_ROLE_LABELS.join('、')}`);
    }
    const leadUnit = field('主办单位', textSchema);
    const assistingUnits = field('会办单位', unitListSchema);
    const assignedDate = field('交办日期', requiredDateSchema);
    const fixedDueDate = field('答复期限', optionalDateSchema);
    if (assignedDate && fixedDueDate && fixedDueDate < assignedDate) {
      report('答复期限', `答复期限“${fixedDueDate}”早于交办日期“${assignedDate}”`);
    }
    const disclosure = field('公开情况', disclosureSchema);
    const unit = field('承办处室', textSchema);

    const year = caseNo === undefined ? undefined : yearOf(caseNo, assignedDate);
    if (caseNo !== undefined && kind !== undefined && year !== undefined) {
      const key = `${kind}|${year}|${caseNo}`;
      const first = firstRowByKey.get(key);
      if (first === undefined) firstRowByKey.set(key, raw.row);
      else report('案号', `与第${first}行重复：${year}年的${kind}“${caseNo}”出现了两次`);
    }

    problems.push(...rowProblems);
    if (rowProblems.length > 0) continue;
    // With no problems every field parsed; the checks below only convince the compiler.
    if (
      caseNo === undefined || kind === undefined || year === undefined || session === undefined ||
      title === undefined || proposer === undefined || roleLabel === undefined || !role ||
      leadUnit === undefined || assistingUnits === undefined || assignedDate === undefined ||
      fixedDueDate === undefined || disclosure === undefined || unit === undefined
    ) {
      continue;
    }
    cases.push({
      row: raw.row, caseNo, kind, year, session, title, proposer, roleLabel, role, leadUnit, assistingUnits,
      unit: unit === '' ? null : unit, assignedDate, fixedDueDate, disclosure,
    });
  }
  return { cases, problems };
}

/** The case number's leading year when it has one (20240562 → 2024), else the assignment date's year. */
function yearOf(caseNo: string, assignedDate: IsoDate | undefined): number | undefined {
  const leading = Number(caseNo.slice(0, 4));
  if (caseNo.length >= 4 && leading >= PLAUSIBLE_YEARS.min && leading <= PLAUSIBLE_YEARS.max) return leading;
  return assignedDate === undefined ? undefined : Number(assignedDate.slice(0, 4));
}

// A cell written over several lines in Excel (Alt+Enter) is still one value.
function cleanText(raw: string): string {
  return raw.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** Labels typed in different widths and with stray spaces compare equal. */
function labelKey(raw: string): string {
  return toHalfWidth(raw).replace(/\s+/g, '');
}

const textSchema = z.string().transform(cleanText);

const requiredTextSchema = z.string().transform((raw, ctx) => {
  const text = cleanText(raw);
  if (text === '') {
    ctx.addIssue(EMPTY);
    return z.NEVER;
  }
  return text;
});

const caseNoSchema = z.string().transform((raw, ctx) => {
  const shown = cleanText(raw);
  if (shown === '') {
    ctx.addIssue(EMPTY);
    return z.NEVER;
  }
  const compact = labelKey(shown);
  const digits = /^第(.+)号$/.exec(compact)?.[1] ?? compact;
  if (/^\d+$/.test(digits)) return digits;
  if (/^\d+(\.\d+)?e\+?\d+$/i.test(digits)) {
    ctx.addIssue(`案号“${shown}”被显示成了科学计数法，请把该列设为文本格式并填写完整的案号`);
  } else {
    ctx.addIssue(`案号“${shown}”只能包含数字`);
  }
  return z.NEVER;
});

const kindSchema = z.string().transform((raw, ctx) => {
  const shown = cleanText(raw);
  if (shown === '') {
    ctx.addIssue(EMPTY);
    return z.NEVER;
  }
  const kind = KIND_BY_LABEL.get(labelKey(shown));
  if (kind) return kind;
  ctx.addIssue(`无法识别的类别“${shown}”，应为“建议”或“提案”`);
  return z.NEVER;
});

const disclosureSchema = z.string().transform((raw, ctx): Disclosure | null => {
  const shown = cleanText(raw);
  if (shown === '') return null;
  const disclosure = disclosureFromLabel(labelKey(shown));
  if (disclosure) return disclosure;
  ctx.addIssue(`无法识别的公开情况“${shown}”，可用：主动公开、依申请公开、不予公开`);
  return z.NEVER;
});

// Lists come separated however the office typed them: ; ； 、 , ， or one per line.
const unitListSchema = z.string().transform((raw) => {
  const units = raw.split(/[;；、,，\r\n]+/).map(cleanText).filter((u) => u !== '');
  return [...new Set(units)];
});

const requiredDateSchema = z.string().transform((raw, ctx) => {
  const shown = cleanText(raw);
  if (shown === '') {
    ctx.addIssue(EMPTY);
    return z.NEVER;
  }
  const parsed = parseDate(shown);
  if (parsed.ok) return parsed.date;
  ctx.addIssue(parsed.reason);
  return z.NEVER;
});

const optionalDateSchema = z.string().transform((raw, ctx): IsoDate | null => {
  const shown = cleanText(raw);
  if (shown === '') return null;
  const parsed = parseDate(shown);
  if (parsed.ok) return parsed.date;
  ctx.addIssue(parsed.reason);
  return z.NEVER;
});

// An Excel CSV export may add a time of day to a date; it is dropped.
const TIME_SUFFIX = /[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/;

/** A strict calendar date from the accepted spellings; 2024-02-30 and 2024-13-01 are refused. */
function parseDate(shown: string): { ok: true; date: IsoDate } | { ok: false; reason: string } {
  const text = toHalfWidth(shown).trim();
  const unrecognised = { ok: false as const, reason: `无法识别的日期“${shown}”，${DATE_HINT}` };
  // 2024-03-20, 2024/3/20, 2024.3.20, 2024年3月20日 (as chat reads them), or 20240320.
  const compact = /^(\d{4})(\d{2})(\d{2})$/.exec(text);
  const parts = fullDateParts(text.replace(TIME_SUFFIX, '')) ?? (compact ? { year: Number(compact[1]), month: Number(compact[2]), day: Number(compact[3]) } : null);
  if (!parts) return unrecognised;
  const { year, month, day } = parts;
  if (month < 1 || month > 12 || day < 1 || day > 31) return unrecognised;
  if (year < PLAUSIBLE_YEARS.min || year > PLAUSIBLE_YEARS.max) {
    return { ok: false, reason: `日期“${shown}”的年份不合理，${DATE_HINT}` };
  }
  const monthLength = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > monthLength) {
    return { ok: false, reason: `日期不存在“${shown}”：${year}年${month}月只有${monthLength}天` };
  }
  const pad = (n: number) => String(n).padStart(2, '0');
  return { ok: true, date: `${year}-${pad(month)}-${pad(day)}` };
}
