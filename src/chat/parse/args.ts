// The pieces command parsers are built from: case numbers, dates, free text, and the rejection that ends a parse
// with a message naming what to fix. Pure: no I/O, no clock (`today` comes in the context).

import { addDays } from '../../domain/calendar.ts';
import { fullDateParts, isoDateOf } from '../../domain/text.ts';
import type { IsoDate } from '../../domain/types.ts';
import { display, quote, type Token } from './tokens.ts';

export interface CaseRef {
  /** The digits of the case number as typed; may be a suffix such as `562`, which the caller resolves. */
  digits: string;
  /** The case number token after full-width normalisation, e.g. `第562号`, for echoing back to the user. */
  raw: string;
}

/** What a command parser may read besides its tokens. */
export interface ParseContext {
  /** The message as typed, for cutting free text (see freeText). */
  source: string;
  today: IsoDate;
  /** Result classes a reply may carry. */
  classes: readonly string[];
}

/** Thrown inside a command parser to end it with a message; the usage line is added by the dispatcher. */
export class Rejection extends Error {}

/** Ends the parse with a message (Chinese) that names what to fix. */
export function reject(message: string): never {
  throw new Rejection(message);
}

// Real case numbers are around 8 digits; anything this long is a phone number or a slip of the keyboard.
const MAX_CASE_DIGITS = 20;

export const DATE_EXAMPLES = '如 2024-05-01、5月1日 或 今天';

/** A case number token (`20240562`, `第562号`, `562`), or null. */
export function readCaseRef(text: string): CaseRef | null {
  const digits = /^第?(\d+)号?$/.exec(text)?.[1];
  if (digits === undefined || digits.length > MAX_CASE_DIGITS) return null;
  return { digits, raw: text };
}

export function missingCaseMessage(): string {
  return '请写明案号，如 20240562、第20240562号，或末几位 562。';
}

/** The first argument as a case number, or a rejection saying what a case number looks like. */
export function leadingCase(args: Token[]): CaseRef {
  const tok = args[0];
  if (tok === undefined) reject(missingCaseMessage());
  return requireCase(tok);
}

export function requireCase(tok: Token): CaseRef {
  if (tok.person !== null) reject('请先写案号，再@同事。');
  const ref = readCaseRef(tok.text);
  if (ref !== null) return ref;
  const digits = /^第?(\d+)号?$/.exec(tok.text)?.[1];
  if (digits !== undefined) reject(`“${display(tok)}”太长了，不像案号（最多 ${MAX_CASE_DIGITS} 位数字）。`);
  reject(`“${display(tok)}”不是案号。案号是数字，如 20240562、第20240562号，也可只写末几位如 562。`);
}

/** A command that takes one case number and nothing else (`认领 562`); `name` is the command's word. */
export function caseOnly(name: string, args: Token[]): CaseRef {
  const ref = leadingCase(args);
  const extra = args[1];
  if (extra !== undefined) {
    if (extra.person === null && readCaseRef(extra.text) !== null) reject(`一次只能${name}一件，请分开发送。`);
    rejectStray(extra, `${name}只需写案号`);
  }
  return ref;
}

/** A command that takes nothing (`我的`); `name` is the command's word. */
export function expectNothing(name: string, args: Token[]): void {
  const extra = args[0];
  if (extra !== undefined) reject(`“${name}”后面不需要写其他内容，请删去“${display(extra)}”。`);
}

/** `A`, `a`, `A类` → the class as spelled in the allowed list; 'unknown' for a letter not in it. */
export function readResultClass(text: string, classes: readonly string[]): string | 'unknown' | null {
  const word = text.replace(/类$/, '').toUpperCase();
  const found = classes.find((c) => c.toUpperCase() === word);
  if (found !== undefined) return found;
  return /^[A-Z]$/.test(word) ? 'unknown' : null;
}

const RELATIVE_DAYS = new Map<string, number>([
  ['今天', 0],
  ['昨天', -1],
  ['明天', 1],
  ['前天', -2],
  ['后天', 2],
  ['today', 0],
  ['yesterday', -1],
  ['tomorrow', 1],
]);

/** Which year a date typed without one is in: contacts and replies have happened, an extension lies ahead. */
export type YearGuess = 'past' | 'future';

/** A date as one token, or null when it does not look like one; rejects a date-like token that is not a real date. */
export function readDate(text: string, today: IsoDate, guess: YearGuess): IsoDate | null {
  const word = text.toLowerCase();
  const shift = RELATIVE_DAYS.get(word);
  if (shift !== undefined) return addDays(today, shift);
  // 2024-05-01, 2024/5/1, 2024年5月1日: the spellings the importer reads too.
  const full = fullDateParts(word);
  if (full !== null) return isoDateOf(full.year, full.month, full.day) ?? reject(invalidDateMessage(text));
  let m = /^(\d+)[-/.](\d+)[-/.](\d+)$/.exec(word);
  if (m !== null) {
    const iso = m[1]!.length === 4 ? isoDateOf(Number(m[1]), Number(m[2]), Number(m[3])) : null;
    return iso ?? reject(invalidDateMessage(text));
  }
  m = /^(?:(\d+)年)?(\d+)月(\d+)[日号]?$/.exec(word);
  if (m !== null) {
    if (m[1] === undefined) return withoutYear(text, Number(m[2]), Number(m[3]), today, guess);
    const iso = m[1].length === 4 ? isoDateOf(Number(m[1]), Number(m[2]), Number(m[3])) : null;
    return iso ?? reject(invalidDateMessage(text));
  }
  m = /^(\d+)[-/](\d+)$/.exec(word);
  if (m !== null) return withoutYear(text, Number(m[1]), Number(m[2]), today, guess);
  return null;
}

// A date without a year is taken within a year of today: the latest one on or before today ('past') or the next
// one on or after today ('future'). 2月29日 outside a leap year is refused rather than moved years away.
function withoutYear(text: string, month: number, day: number, today: IsoDate, guess: YearGuess): IsoDate {
  // Any leap year tells a date that never exists (2月30日) from one missing in some years (2月29日).
  if (isoDateOf(2000, month, day) === null) reject(invalidDateMessage(text));
  const thisYear = Number(today.slice(0, 4));
  const monthDay = `${pad2(month)}-${pad2(day)}`;
  const todayMonthDay = today.slice(5);
  const year =
    guess === 'past'
      ? monthDay <= todayMonthDay ? thisYear : thisYear - 1
      : monthDay >= todayMonthDay ? thisYear : thisYear + 1;
  const iso = isoDateOf(year, month, day);
  if (iso !== null) return iso;
  // Only 2月29日 gets here; name the leap year the user most likely meant as the way to write it.
  const step = guess === 'past' ? -1 : 1;
  let leap = year + step;
  while (isoDateOf(leap, month, day) === null && Math.abs(leap - year) < 8) leap += step;
  reject(`“${quote(text)}”不是有效日期：${year}年没有${month}月${day}日。如指${leap}年的这一天，请写明年份，如 ${leap}年${month}月${day}日。`);
}

// Only unmistakable forms count when a date runs straight into text; "3/4的代表" is not a date.
const LEADING_DATE_RE = /^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|(?:\d{4}年)?\d{1,2}月\d{1,2}[日号]?|今天|昨天|明天|前天|后天)(?!\d)/;

/** A date at the start of a token that runs on into text ("5月1日与代表电话沟通"), or null. */
export function leadingDate(text: string): string | null {
  return LEADING_DATE_RE.exec(text)?.[0] ?? null;
}

export function invalidDateMessage(text: string): string {
  return `“${quote(text)}”不是有效日期，请写成 2024-05-01 或 5月1日 这样的日期。`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** The text as typed from argument `from` to the end ('' when there is none). */
export function freeText(ctx: ParseContext, args: Token[], from: number): string {
  const tok = args[from];
  return tok === undefined ? '' : freeTextFrom(ctx, tok.start);
}

/** The original text from an offset to the end: spaces collapsed, line breaks kept (once). */
export function freeTextFrom(ctx: ParseContext, start: number): string {
  return ctx.source
    .slice(start)
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ ?\n[\s]*/g, '\n')
    .trim();
}

export function checkLength(text: string, max: number, what: string): void {
  const n = [...text].length;
  if (n > max) reject(`${what}太长了（${n} 字），请控制在 ${max} 字以内。`);
}

/** Rejects a token that does not belong, saying why (`hint`) and what to delete. */
export function rejectStray(tok: Token, hint: string): never {
  if (tok.person === null && tok.text.startsWith('@')) {
    reject(`“${display(tok)}”不是有效的@。请在输入框里输入 @ 并从列表中选择同事。`);
  }
  reject(`${hint}，请删去“${display(tok)}”。`);
}

/** 甲、乙或丙 */
export function orList(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join('、')}或${items[items.length - 1]}`;
}
