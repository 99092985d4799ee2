// Turns what a staff member typed to the bot into a command. Pure: no I/O and no clock (`today` is passed in).
//
// The transport has already removed the @bot mention and replaced every other mention by `<at:OPEN_ID>`.
// Words that steer parsing are read from a full-width → half-width copy of the text; free text (notes,
// reasons, unit names) is taken from the text as typed, so Chinese punctuation such as `，` survives.
//
// Answers that quote what the user typed pass it through `quote`, so typed markup such as `<at user_id="all">`
// cannot make the bot mention anyone when the answer is sent.

import { addDays, isIsoDate } from '../domain/calendar.ts';
import type { ContactMethod, Disclosure, IsoDate, Rating, StaffRole } from '../domain/types.ts';
import { STAFF_ROLE_LABELS, disclosureFromLabel } from '../domain/types.ts';
import { MAX_NOTE_LENGTH } from '../domain/workflow.ts';

export interface CaseRef {
  /** The digits of the case number as typed; may be a suffix such as `562`, which the caller resolves. */
  digits: string;
  /** The case number token after full-width normalisation, e.g. `第562号`, for echoing back to the user. */
  raw: string;
}

export type ChatCommand =
  | { type: 'help' }
  | { type: 'mine' }
  | { type: 'todo' }
  | { type: 'show'; case: CaseRef }
  | { type: 'claim'; case: CaseRef }
  | { type: 'release'; case: CaseRef }
  | { type: 'handover'; case: CaseRef; to: string /* open_id */ }
  | { type: 'progress'; case: CaseRef; note: string }
  | { type: 'contact'; case: CaseRef; method: ContactMethod; date: IsoDate; note: string }
  | { type: 'reply'; case: CaseRef; resultClass: string; date: IsoDate; disclosure: Disclosure | null }
  | { type: 'opinion'; case: CaseRef; note: string }
  | { type: 'rate'; case: CaseRef; rating: Rating }
  | { type: 'extend'; case: CaseRef; until: IsoDate; reason: string }
  | { type: 'adjust'; case: CaseRef; reason: string }
  | { type: 'bind'; unit: string }
  | { type: 'grant'; role: StaffRole; users: string[] }
  | { type: 'revoke'; role: StaffRole; users: string[] };

export type CommandType = ChatCommand['type'];

export type ParseResult =
  | { ok: true; command: ChatCommand }
  | { ok: false; message: string /* Chinese */; suggestion?: string /* a usage line */ };

export interface ParseOptions {
  today: IsoDate;
  /** Result classes a reply may carry; defaults to A, B, C. */
  resultClasses?: readonly string[];
}

export const MAX_UNIT_CHARS = 50;
// Real case numbers are around 8 digits; anything this long is a phone number or a slip of the keyboard.
const MAX_CASE_DIGITS = 20;
const DEFAULT_RESULT_CLASSES: readonly string[] = ['A', 'B', 'C'];

/** One usage line per command, in Chinese, as shown in help and in error messages. */
export const COMMAND_USAGE: Record<CommandType, string> = {
  help: '帮助',
  mine: '我的',
  todo: '待办',
  show: '查询 <案号>',
  claim: '认领 <案号>',
  release: '放弃 <案号>',
  handover: '转交 <案号> @某人',
  progress: '进展 <案号> <内容>',
  contact: '面商 <案号> <电话|上门|座谈|线上|当面> [日期] [说明]',
  reply: '答复 <案号> <A|B|C> [日期] [主动公开|依申请公开|不予公开]',
  opinion: '意见 <案号> [说明]',
  rate: '评价 <案号> <满意|基本满意|不满意>',
  extend: '延期 <案号> <日期> <理由>',
  adjust: '调整 <案号> <理由>',
  bind: '绑定 <单位名称>',
  grant: '设置 <协调员|领导> @某人',
  revoke: '取消 <协调员|领导> @某人',
};

// The first name of each command is the one shown to users; the rest are aliases. Order matters only for
// breaking ties when suggesting a command for text we did not understand.
const COMMAND_NAMES: ReadonlyArray<readonly [CommandType, readonly string[]]> = [
  ['help', ['帮助', 'help', '?']],
  ['claim', ['认领', 'claim']],
  ['release', ['放弃', 'release', '取消认领']],
  ['handover', ['转交', 'handover']],
  ['progress', ['进展', 'progress']],
  ['contact', ['面商', 'contact', '沟通']],
  ['reply', ['答复', 'reply']],
  ['opinion', ['意见', 'opinion']],
  ['rate', ['评价', 'rate']],
  ['extend', ['延期', 'extend', '申请延期']],
  ['adjust', ['调整', 'adjust', '申请调整']],
  ['show', ['查询', 'show', '查看']],
  ['mine', ['我的', 'mine']],
  ['todo', ['待办', 'todo']],
  ['bind', ['绑定', 'bind']],
  ['grant', ['设置', 'grant']],
  ['revoke', ['取消', 'revoke']],
];

const COMMAND_BY_NAME = new Map<string, CommandType>(
  COMMAND_NAMES.flatMap(([type, names]) => names.map((name) => [name, type] as const)),
);

function primaryName(type: CommandType): string {
  return COMMAND_NAMES.find(([t]) => t === type)?.[1][0] ?? type;
}

const CONTACT_METHOD_WORDS = new Map<string, ContactMethod>([
  ['电话', '电话'],
  ['上门', '上门'],
  ['座谈', '座谈'],
  ['线上', '线上'],
  ['当面', '当面'],
  ['phone', '电话'],
  ['visit', '上门'],
  ['meeting', '座谈'],
  ['online', '线上'],
  ['in-person', '当面'],
  ['face', '当面'],
  ['face-to-face', '当面'],
]);
const CONTACT_METHOD_CHOICES = '电话、上门、座谈、线上或当面';

const DISCLOSURE_CHOICES = '主动公开、依申请公开或不予公开';

const RATING_WORDS = new Map<string, Rating>([
  ['满意', '满意'],
  ['基本满意', '基本满意'],
  ['不满意', '不满意'],
  ['satisfied', '满意'],
  ['basically-satisfied', '基本满意'],
  ['dissatisfied', '不满意'],
  ['unsatisfied', '不满意'],
]);
const RATING_CHOICES = '满意、基本满意或不满意';

const ROLE_WORDS = new Map<string, StaffRole>([
  ['协调员', 'coordinator'],
  ['领导', 'leader'],
  ['分管领导', 'leader'],
  ['coordinator', 'coordinator'],
  ['leader', 'leader'],
]);

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

const DATE_EXAMPLES = '如 2024-05-01、5月1日 或 今天';

/** Parses one message; never throws. */
export function parseCommand(text: string, opts: ParseOptions): ParseResult {
  try {
    return parse(text, opts);
  } catch {
    // A bug here must not leave the user without an answer.
    return { ok: false, message: '这条消息没能处理，请换个说法再试，或发送“帮助”查看全部命令。', suggestion: COMMAND_USAGE.help };
  }
}

interface Token {
  /** After full-width normalisation; the whole `<at:…>` for a person. */
  text: string;
  /** Offset in the source text; normalisation keeps offsets, so free text can be cut from the original. */
  start: number;
  person: string | null;
}

interface Ctx {
  /** The message as typed (minus zero-width characters), same length as the normalised copy. */
  source: string;
  today: IsoDate;
  classes: readonly string[];
}

/** Thrown inside a command parser to end it with a message; the usage line is added by the dispatcher. */
class Rejection extends Error {}

function reject(message: string): never {
  throw new Rejection(message);
}

function parse(text: string, opts: ParseOptions): ParseResult {
  if (!isIsoDate(opts.today)) {
    return { ok: false, message: '系统日期设置有误，请联系管理员。' };
  }
  const classes = opts.resultClasses && opts.resultClasses.length > 0 ? opts.resultClasses : DEFAULT_RESULT_CLASSES;
  const source = String(text ?? '').replace(/[\u200B-\u200D\u2060\uFEFF]/g, '');
  const ctx: Ctx = { source, today: opts.today, classes };
  const tokens = stripLeadingSlash(tokenize(toHalfWidth(source)));

  const first = tokens[0];
  if (first === undefined) return { ok: true, command: { type: 'help' } };

  const named = COMMAND_BY_NAME.get(first.text.toLowerCase());
  if (named !== undefined) return runCommand(named, tokens.slice(1), ctx);

  const glued = splitGluedCommand(first);
  if (glued !== null) return runCommand(glued.type, [...glued.rest, ...tokens.slice(1)], ctx);

  if (readCaseRef(first.text) !== null) {
    const second = tokens[1];
    if (second === undefined) return runCommand('show', tokens, ctx);
    const after = COMMAND_BY_NAME.get(second.text.toLowerCase());
    if (after !== undefined) {
      const usage = usageFor(after, classes);
      return {
        ok: false,
        message: `请把命令写在案号前面，如：${primaryName(after)} ${display(first)}\n用法：${usage}`,
        suggestion: usage,
      };
    }
  }
  return notUnderstood(tokens, classes);
}

function runCommand(type: CommandType, args: Token[], ctx: Ctx): ParseResult {
  try {
    return { ok: true, command: COMMAND_PARSERS[type](args, ctx) };
  } catch (err) {
    if (!(err instanceof Rejection)) throw err;
    const usage = usageFor(type, ctx.classes);
    return { ok: false, message: `${err.message}\n用法：${usage}`, suggestion: usage };
  }
}

function usageFor(type: CommandType, classes: readonly string[]): string {
  if (type !== 'reply') return COMMAND_USAGE[type];
  return `答复 <案号> <${classes.join('|')}> [日期] [主动公开|依申请公开|不予公开]`;
}

// ---------------------------------------------------------------------------------------------------------
// Command parsers. Each gets the tokens after the command word and returns a command or rejects.

type CommandParser = (args: Token[], ctx: Ctx) => ChatCommand;

const COMMAND_PARSERS: Record<CommandType, CommandParser> = {
  // Help is what the user wants whatever follows it, so extra words are not an error.
  help: () => ({ type: 'help' }),
  mine: (args) => (expectNothing('mine', args), { type: 'mine' }),
  todo: (args) => (expectNothing('todo', args), { type: 'todo' }),
  show: (args) => ({ type: 'show', case: caseOnly('show', args) }),
  claim: (args) => ({ type: 'claim', case: caseOnly('claim', args) }),
  release: (args) => ({ type: 'release', case: caseOnly('release', args) }),

  handover: (args) => {
    let ref: CaseRef | null = null;
    const people: string[] = [];
    for (const tok of args) {
      if (tok.person !== null) {
        if (!people.includes(tok.person)) people.push(tok.person);
      } else if (tok.text === '给' || tok.text.toLowerCase() === 'to') {
        // "转交 20240562 给 @张三" reads naturally in Chinese.
      } else if (ref === null) {
        ref = requireCase(tok);
      } else {
        rejectStray(tok, '转交只需写案号并@一位同事');
      }
    }
    if (ref === null) reject(missingCaseMessage());
    const to = people[0];
    if (to === undefined) reject('请@要转交的同事，如：转交 20240562 @张三。');
    if (people.length > 1) reject(`一次只能转交给一位同事，您@了 ${people.length} 位。`);
    return { type: 'handover', case: ref, to };
  },

  progress: (args, ctx) => {
    const ref = leadingCase(args);
    const note = freeText(ctx, args, 1);
    if (note === '') reject('请写明进展内容。');
    checkLength(note, MAX_NOTE_LENGTH, '进展内容');
    return { type: 'progress', case: ref, note };
  },

  contact: (args, ctx) => {
    const ref = leadingCase(args);
    let method: ContactMethod | null = null;
    let date: IsoDate | null = null;
    let i = 1;
    // Method and date may come in either order, both before the note.
    for (; i < args.length && (method === null || date === null); i++) {
      const tok = args[i]!;
      if (tok.person !== null) break;
      const m: ContactMethod | undefined = method === null ? CONTACT_METHOD_WORDS.get(tok.text.toLowerCase()) : undefined;
      if (m !== undefined) {
        method = m;
        continue;
      }
      const d: IsoDate | null = date === null ? readDate(tok.text, ctx.today, 'past') : null;
      if (d !== null) {
        date = d;
        continue;
      }
      break;
    }
    let noteFrom = args[i];
    if (method === null) {
      // "电话沟通了，代表同意" — the method glued to the note; the note keeps the whole sentence.
      const glued = noteFrom && noteFrom.person === null ? gluedMethod(noteFrom.text) : null;
      if (glued === null) {
        if (noteFrom === undefined || noteFrom.person !== null) reject(`请写明沟通方式：${CONTACT_METHOD_CHOICES}。`);
        reject(`“${display(noteFrom)}”不是可识别的沟通方式，请写：${CONTACT_METHOD_CHOICES}。`);
      }
      method = glued;
    }
    if (date === null && noteFrom !== undefined && noteFrom.person === null) {
      // "5月1日与代表电话沟通" — a date glued to the note; again the note keeps the whole sentence.
      const lead = leadingDate(noteFrom.text);
      if (lead !== null) {
        date = readDate(lead, ctx.today, 'past') ?? reject(invalidDateMessage(lead));
      }
    }
    const note = noteFrom === undefined ? '' : freeTextFrom(ctx, noteFrom.start);
    checkLength(note, MAX_NOTE_LENGTH, '说明');
    return { type: 'contact', case: ref, method, date: date ?? ctx.today, note };
  },

  reply: (args, ctx) => {
    const ref = leadingCase(args);
    let resultClass: string | null = null;
    let date: IsoDate | null = null;
    let disclosure: Disclosure | null = null;
    const classChoices = orList(ctx.classes);
    // Class, date and disclosure are told apart by their shape, so any order is accepted.
    for (const tok of args.slice(1)) {
      if (tok.person !== null) rejectStray(tok, '答复不需要@同事');
      const cls = readResultClass(tok.text, ctx.classes);
      if (cls !== null) {
        if (cls === 'unknown') reject(`“${display(tok)}”不是有效的结果类别，请写 ${classChoices}。`);
        if (resultClass !== null) reject(`结果类别只能写一个，您写了“${resultClass}”和“${cls}”。`);
        resultClass = cls;
        continue;
      }
      const disc = disclosureFromLabel(tok.text);
      if (disc !== null) {
        if (disclosure !== null) reject(`公开情况只能写一个，您写了“${disclosure}”和“${disc}”。`);
        disclosure = disc;
        continue;
      }
      const d = readDate(tok.text, ctx.today, 'past');
      if (d !== null) {
        if (date !== null) reject(`答复日期只能写一个，您写了 ${date} 和 ${d}。`);
        date = d;
        continue;
      }
      reject(`看不懂“${display(tok)}”。答复后面可写：结果类别（${classChoices}）、日期（${DATE_EXAMPLES}）、公开情况（${DISCLOSURE_CHOICES}）。`);
    }
    if (resultClass === null) reject(`请写明答复结果类别：${classChoices}。`);
    return { type: 'reply', case: ref, resultClass, date: date ?? ctx.today, disclosure };
  },

  opinion: (args, ctx) => {
    const ref = leadingCase(args);
    const note = freeText(ctx, args, 1);
    checkLength(note, MAX_NOTE_LENGTH, '说明');
    return { type: 'opinion', case: ref, note };
  },

  rate: (args) => {
    const ref = leadingCase(args);
    const tok = args[1];
    if (tok === undefined) reject(`请写明评价：${RATING_CHOICES}。`);
    const rating = tok.person === null ? RATING_WORDS.get(tok.text.toLowerCase()) : undefined;
    if (rating === undefined) reject(`“${display(tok)}”不是可选的评价，请写：${RATING_CHOICES}。`);
    const extra = args[2];
    if (extra !== undefined) rejectStray(extra, '评价只需写案号和评价结果');
    return { type: 'rate', case: ref, rating };
  },

  extend: (args, ctx) => {
    const ref = leadingCase(args);
    const tok = args[1];
    if (tok === undefined || tok.person !== null) reject(`请写明延期到哪一天，${DATE_EXAMPLES}。`);
    // "延期到8月31日" / "8月31日前" say the same date.
    const dateText = tok.text.replace(/^(?:至|到|延至|延期至)/, '').replace(/(?:之前|以前|前)$/, '');
    const until = readDate(dateText, ctx.today, 'future');
    if (until === null) reject(`“${display(tok)}”不是日期，请写明延期到哪一天，${DATE_EXAMPLES}。`);
    const reason = freeText(ctx, args, 2);
    if (reason === '') reject('请写明延期理由。');
    checkLength(reason, MAX_NOTE_LENGTH, '延期理由');
    return { type: 'extend', case: ref, until, reason };
  },

  adjust: (args, ctx) => {
    const ref = leadingCase(args);
    const reason = freeText(ctx, args, 1);
    if (reason === '') reject('请写明申请调整的理由，如：不属于我局职责，建议由某某局办理。');
    checkLength(reason, MAX_NOTE_LENGTH, '调整理由');
    return { type: 'adjust', case: ref, reason };
  },

  bind: (args, ctx) => {
    if (args.some((tok) => tok.person !== null)) reject('单位名称不能是@某人，请直接写单位名称，如：绑定 社会救助科。');
    // A unit name is one line; a line break in it is a typing accident.
    const unit = freeText(ctx, args, 0).replace(/\n/g, ' ');
    if (unit === '') reject('请写明要绑定的单位名称，如：绑定 社会救助科。');
    checkLength(unit, MAX_UNIT_CHARS, '单位名称');
    return { type: 'bind', unit };
  },

  grant: (args) => ({ type: 'grant', ...roleAndPeople('grant', args) }),
  revoke: (args) => ({ type: 'revoke', ...roleAndPeople('revoke', args) }),
};

function expectNothing(type: CommandType, args: Token[]): void {
  const extra = args[0];
  if (extra !== undefined) reject(`“${primaryName(type)}”后面不需要写其他内容，请删去“${display(extra)}”。`);
}

function caseOnly(type: CommandType, args: Token[]): CaseRef {
  const ref = leadingCase(args);
  const extra = args[1];
  if (extra !== undefined) {
    const name = primaryName(type);
    if (extra.person === null && readCaseRef(extra.text) !== null) reject(`一次只能${name}一件，请分开发送。`);
    rejectStray(extra, `${name}只需写案号`);
  }
  return ref;
}

function roleAndPeople(type: 'grant' | 'revoke', args: Token[]): { role: StaffRole; users: string[] } {
  let role: StaffRole | null = null;
  const users: string[] = [];
  // Role and people are told apart by shape, so "设置 @张三 为 协调员" works as well.
  for (const tok of args) {
    if (tok.person !== null) {
      if (!users.includes(tok.person)) users.push(tok.person);
      continue;
    }
    const word = tok.text.toLowerCase();
    if (word === '为' || word === 'as') continue;
    const r = ROLE_WORDS.get(word.replace(/^为/, ''));
    if (r !== undefined) {
      if (role !== null && role !== r) reject('一次只能设置一种角色，请分开发送。');
      role = r;
      continue;
    }
    rejectStray(tok, '请只写角色（协调员或领导）并@同事');
  }
  if (role === null) reject('请写明角色：协调员或领导。');
  if (users.length === 0) {
    const label = STAFF_ROLE_LABELS[role];
    reject(type === 'grant' ? `请@要设为${label}的同事。` : `请@要取消${label}身份的同事。`);
  }
  return { role, users };
}

// ---------------------------------------------------------------------------------------------------------
// Pieces: case numbers, dates, free text.

function leadingCase(args: Token[]): CaseRef {
  const tok = args[0];
  if (tok === undefined) reject(missingCaseMessage());
  return requireCase(tok);
}

function requireCase(tok: Token): CaseRef {
  if (tok.person !== null) reject('请先写案号，再@同事。');
  const ref = readCaseRef(tok.text);
  if (ref !== null) return ref;
  const digits = /^第?(\d+)号?$/.exec(tok.text)?.[1];
  if (digits !== undefined) reject(`“${display(tok)}”太长了，不像案号（最多 ${MAX_CASE_DIGITS} 位数字）。`);
  reject(`“${display(tok)}”不是案号。案号是数字，如 20240562、第20240562号，也可只写末几位如 562。`);
}

function missingCaseMessage(): string {
  return '请写明案号，如 20240562、第20240562号，或末几位 562。';
}

function readCaseRef(text: string): CaseRef | null {
  const digits = /^第?(\d+)号?$/.exec(text)?.[1];
  if (digits === undefined || digits.length > MAX_CASE_DIGITS) return null;
  return { digits, raw: text };
}

/** `A`, `a`, `A类` → the class as spelled in the allowed list; 'unknown' for a letter not in it. */
function readResultClass(text: string, classes: readonly string[]): string | 'unknown' | null {
  const word = text.replace(/类$/, '').toUpperCase();
  const found = classes.find((c) => c.toUpperCase() === word);
  if (found !== undefined) return found;
  return /^[A-Z]$/.test(word) ? 'unknown' : null;
}

/** Which year a date typed without one is in: contacts and replies have happened, an extension lies ahead. */
type YearGuess = 'past' | 'future';

/** A date as one token, or null when it does not look like one; rejects a date-like token that is not a real date. */
function readDate(text: string, today: IsoDate, guess: YearGuess): IsoDate | null {
  const word = text.toLowerCase();
  const shift = RELATIVE_DAYS.get(word);
  if (shift !== undefined) return addDays(today, shift);
  let m = /^(\d+)[-/.](\d+)[-/.](\d+)$/.exec(word);
  if (m !== null) {
    const iso = m[1]!.length === 4 ? isoOf(Number(m[1]), Number(m[2]), Number(m[3])) : null;
    return iso ?? reject(invalidDateMessage(text));
  }
  m = /^(?:(\d+)年)?(\d+)月(\d+)[日号]?$/.exec(word);
  if (m !== null) {
    if (m[1] === undefined) return withoutYear(text, Number(m[2]), Number(m[3]), today, guess);
    const iso = m[1].length === 4 ? isoOf(Number(m[1]), Number(m[2]), Number(m[3])) : null;
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
  if (isoOf(2000, month, day) === null) reject(invalidDateMessage(text));
  const thisYear = Number(today.slice(0, 4));
  const monthDay = `${pad2(month)}-${pad2(day)}`;
  const todayMonthDay = today.slice(5);
  const year =
    guess === 'past'
      ? monthDay <= todayMonthDay ? thisYear : thisYear - 1
      : monthDay >= todayMonthDay ? thisYear : thisYear + 1;
  const iso = isoOf(year, month, day);
  if (iso !== null) return iso;
  // Only 2月29日 gets here; name the leap year the user most likely meant as the way to write it.
  const step = guess === 'past' ? -1 : 1;
  let leap = year + step;
  while (isoOf(leap, month, day) === null && Math.abs(leap - year) < 8) leap += step;
  reject(`“${quote(text)}”不是有效日期：${year}年没有${month}月${day}日。如指${leap}年的这一天，请写明年份，如 ${leap}年${month}月${day}日。`);
}

// Only unmistakable forms count when a date runs straight into text; "3/4的代表" is not a date.
const LEADING_DATE_RE = /^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|(?:\d{4}年)?\d{1,2}月\d{1,2}[日号]?|今天|昨天|明天|前天|后天)(?!\d)/;

function leadingDate(text: string): string | null {
  return LEADING_DATE_RE.exec(text)?.[0] ?? null;
}

function gluedMethod(text: string): ContactMethod | null {
  for (const [word, method] of CONTACT_METHOD_WORDS) {
    if (/^[\u4e00-\u9fff]/.test(word) && text.startsWith(word)) return method;
  }
  return null;
}

function invalidDateMessage(text: string): string {
  return `“${quote(text)}”不是有效日期，请写成 2024-05-01 或 5月1日 这样的日期。`;
}

function isoOf(year: number, month: number, day: number): IsoDate | null {
  // Years outside this range are typos, not dates anyone handles a case on.
  if (year < 2000 || year > 2099) return null;
  const iso = `${year}-${pad2(month)}-${pad2(day)}`;
  return isIsoDate(iso) ? iso : null;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function freeText(ctx: Ctx, args: Token[], from: number): string {
  const tok = args[from];
  return tok === undefined ? '' : freeTextFrom(ctx, tok.start);
}

/** The original text from an offset to the end: spaces collapsed, line breaks kept (once). */
function freeTextFrom(ctx: Ctx, start: number): string {
  return ctx.source
    .slice(start)
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ ?\n[\s]*/g, '\n')
    .trim();
}

function checkLength(text: string, max: number, what: string): void {
  const n = [...text].length;
  if (n > max) reject(`${what}太长了（${n} 字），请控制在 ${max} 字以内。`);
}

function rejectStray(tok: Token, hint: string): never {
  if (tok.person === null && tok.text.startsWith('@')) {
    reject(`“${display(tok)}”不是有效的@。请在输入框里输入 @ 并从列表中选择同事。`);
  }
  reject(`${hint}，请删去“${display(tok)}”。`);
}

/** A token as quoted back to the user: a mention as @某人, anything else through `quote`. */
function display(tok: Token): string {
  return tok.person !== null ? '@某人' : quote(tok.text);
}

/** Typed text made safe to quote in an answer: angle brackets become full-width, so no `<at …>` survives. */
function quote(text: string): string {
  return text.replace(/</g, '＜').replace(/>/g, '＞');
}

function orList(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join('、')}或${items[items.length - 1]}`;
}

// ---------------------------------------------------------------------------------------------------------
// Normalisation and tokens.

/** Full-width ASCII and the ideographic space become half-width; one UTF-16 unit each, so offsets are kept. */
function toHalfWidth(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xff01 && c <= 0xff5e) out += String.fromCharCode(c - 0xfee0);
    else if (c === 0x3000) out += ' ';
    else out += text[i];
  }
  return out;
}

const TOKEN_RE = /<at:([^<>\s]+)>|(?:(?!<at:[^<>\s]+>)\S)+/g;

function tokenize(norm: string): Token[] {
  const raw: Token[] = [];
  for (const m of norm.matchAll(TOKEN_RE)) {
    raw.push({ text: m[0], start: m.index, person: m[1] ?? null });
  }
  // "第 562 号" typed with spaces is still one case number.
  const tokens: Token[] = [];
  for (let i = 0; i < raw.length; i++) {
    const tok = raw[i]!;
    const next = raw[i + 1];
    const after = raw[i + 2];
    if (tok.text === '第' && next && /^\d+号?$/.test(next.text)) {
      const withSuffix = !next.text.endsWith('号') && after?.text === '号';
      tokens.push({ text: `第${next.text}${withSuffix ? '号' : ''}`, start: tok.start, person: null });
      i += withSuffix ? 2 : 1;
    } else if (/^第?\d+$/.test(tok.text) && next?.text === '号') {
      tokens.push({ text: `${tok.text}号`, start: tok.start, person: null });
      i += 1;
    } else {
      tokens.push(tok);
    }
  }
  return tokens;
}

function stripLeadingSlash(tokens: Token[]): Token[] {
  const first = tokens[0];
  if (first === undefined || first.person !== null || !first.text.startsWith('/')) return tokens;
  const text = first.text.replace(/^\/+/, '');
  const rest = tokens.slice(1);
  if (text === '') return rest;
  return [{ text, start: first.start + (first.text.length - text.length), person: null }, ...rest];
}

/** "认领20240562" → claim + "20240562"; English only when digits follow ("claim562"). */
function splitGluedCommand(first: Token): { type: CommandType; rest: Token[] } | null {
  if (first.person !== null) return null;
  const lower = first.text.toLowerCase();
  let best: { name: string; type: CommandType } | null = null;
  for (const [name, type] of COMMAND_BY_NAME) {
    if (name.length < 2 || !lower.startsWith(name) || lower.length === name.length) continue;
    const isLatin = /^[a-z]/.test(name);
    if (isLatin && !/^[\d:,第]/.test(lower.slice(name.length))) continue;
    if (best === null || name.length > best.name.length) best = { name, type };
  }
  if (best === null) return null;
  // "认领：20240562" — the colon only separates.
  const tail = first.text.slice(best.name.length);
  const rest = tail.replace(/^[:,]+/, '');
  const start = first.start + best.name.length + (tail.length - rest.length);
  return { type: best.type, rest: rest === '' ? [] : [{ text: rest, start, person: null }] };
}

// ---------------------------------------------------------------------------------------------------------
// Text we did not understand: point at the closest command.

function notUnderstood(tokens: Token[], classes: readonly string[]): ParseResult {
  let echo = tokens.map(display).join(' ');
  if ([...echo].length > 30) echo = `${[...echo].slice(0, 30).join('')}…`;
  const type = closestCommand(tokens);
  if (type === null) {
    return { ok: false, message: `没有看懂“${echo}”。发送“帮助”查看全部命令。`, suggestion: COMMAND_USAGE.help };
  }
  const usage = usageFor(type, classes);
  return { ok: false, message: `没有看懂“${echo}”。您是不是想用：${usage}？发送“帮助”查看全部命令。`, suggestion: usage };
}

const isCjk = (s: string): boolean => /[\u4e00-\u9fff]/.test(s);

function closestCommand(tokens: Token[]): CommandType | null {
  const first = tokens[0];
  if (first === undefined || first.person !== null) return null;
  // The word the user meant as a command, without a case number glued to it ("认岭20240562").
  const word = [...(first.text.toLowerCase().replace(/[第\d].*$/, '') || first.text.toLowerCase())].slice(0, 20).join('');

  // "?" is left out: every one-character word is one edit away from it.
  const candidates = COMMAND_NAMES.flatMap(([type, names]) =>
    names.filter((name) => name !== '?').map((name) => ({ type, name })),
  );
  const distances = candidates.map(({ type, name }) => ({ type, name, distance: editDistance(word, name) }));
  const nearest = (limit: (name: string) => number): CommandType | null => {
    let best: { type: CommandType; distance: number } | null = null;
    for (const c of distances) {
      if (c.distance <= limit(c.name) && (best === null || c.distance < best.distance)) best = c;
    }
    return best?.type ?? null;
  };

  // A one-character slip ("认岭", "relase") is the strongest hint.
  const typo = nearest(() => 1);
  if (typo !== null) return typo;

  // "我想认领20240562": a command word somewhere in the text; the longest one names the intent best.
  const whole = tokens.map(display).join(' ');
  const contained = candidates
    .filter(({ name }) => isCjk(name) && whole.includes(name))
    .sort((a, b) => b.name.length - a.name.length)[0];
  if (contained !== undefined) return contained.type;

  const near = nearest((name) => (isCjk(name) ? Math.floor([...name].length / 2) : Math.max(1, Math.floor(name.length / 3))));
  if (near !== null) return near;

  const initial = [...word][0];
  if (initial !== undefined && isCjk(initial)) {
    for (const [type, names] of COMMAND_NAMES) {
      if (names.some((name) => name.startsWith(initial))) return type;
    }
  }
  return null;
}

function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = row;
  }
  return prev[y.length]!;
}
