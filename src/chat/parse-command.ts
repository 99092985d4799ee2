// Turns what a staff member typed to the bot into a command of the registry (./registry.ts). Pure: no I/O and no
// clock (`today` is passed in). Each command's own parser lives in its module; this file finds the command word,
// runs that parser, and points at the closest command when nothing fits.

import { isIsoDate } from '../domain/calendar.ts';
import type { IsoDate } from '../domain/types.ts';
import type { AnyCommand } from './command.ts';
import { readCaseRef, Rejection, type ParseContext } from './parse/args.ts';
import { closestCommand, notUnderstoodEcho } from './parse/suggest.ts';
import { tokenizeMessage, display, type Token } from './parse/tokens.ts';
import { COMMAND_USAGE, commandByWord, commandOf, commandWords, usageFor, type ChatCommand } from './registry.ts';

export type { CaseRef } from './parse/args.ts';
export { COMMAND_USAGE, type ChatCommand, type CommandType } from './registry.ts';
export { MAX_UNIT_CHARS } from './commands/bind.ts';

export type ParseResult =
  | { ok: true; command: ChatCommand }
  | { ok: false; message: string /* Chinese */; suggestion?: string /* a usage line */ };

export interface ParseOptions {
  today: IsoDate;
  /** Result classes a reply may carry; defaults to A, B, C. */
  resultClasses?: readonly string[];
}

const DEFAULT_RESULT_CLASSES: readonly string[] = ['A', 'B', 'C'];

/** Parses one message; never throws. */
export function parseCommand(text: string, opts: ParseOptions): ParseResult {
  try {
    return parse(text, opts);
  } catch {
    // A bug here must not leave the user without an answer.
    return { ok: false, message: '这条消息没能处理，请换个说法再试，或发送“帮助”查看全部命令。', suggestion: COMMAND_USAGE.help };
  }
}

function parse(text: string, opts: ParseOptions): ParseResult {
  if (!isIsoDate(opts.today)) {
    return { ok: false, message: '系统日期设置有误，请联系管理员。' };
  }
  const classes = opts.resultClasses && opts.resultClasses.length > 0 ? opts.resultClasses : DEFAULT_RESULT_CLASSES;
  const { source, tokens } = tokenizeMessage(text);
  const ctx: ParseContext = { source, today: opts.today, classes };

  const first = tokens[0];
  if (first === undefined) return { ok: true, command: { type: 'help' } };

  const named = commandByWord(first.text);
  if (named !== undefined) return runParser(named, tokens.slice(1), ctx);

  const glued = splitGluedCommand(first);
  if (glued !== null) return runParser(glued.command, [...glued.rest, ...tokens.slice(1)], ctx);

  if (readCaseRef(first.text) !== null) {
    const second = tokens[1];
    const show = commandOf('show');
    if (second === undefined && show) return runParser(show, tokens, ctx);
    const after = second === undefined ? undefined : commandByWord(second.text);
    if (after !== undefined) {
      const usage = usageFor(after, classes);
      return {
        ok: false,
        message: `请把命令写在案号前面，如：${after.words[0]} ${display(first)}\n用法：${usage}`,
        suggestion: usage,
      };
    }
  }
  return notUnderstood(tokens, classes);
}

function runParser(command: AnyCommand, args: Token[], ctx: ParseContext): ParseResult {
  try {
    return { ok: true, command: command.parse(args, ctx) as ChatCommand };
  } catch (err) {
    if (!(err instanceof Rejection)) throw err;
    const usage = usageFor(command, ctx.classes);
    return { ok: false, message: `${err.message}\n用法：${usage}`, suggestion: usage };
  }
}

/** "认领20240562" → claim + "20240562"; English only when digits follow ("claim562"). */
function splitGluedCommand(first: Token): { command: AnyCommand; rest: Token[] } | null {
  if (first.person !== null) return null;
  const lower = first.text.toLowerCase();
  let best: { name: string; command: AnyCommand } | null = null;
  for (const [name, command] of commandWords()) {
    if (name.length < 2 || !lower.startsWith(name) || lower.length === name.length) continue;
    const isLatin = /^[a-z]/.test(name);
    if (isLatin && !/^[\d:,第]/.test(lower.slice(name.length))) continue;
    if (best === null || name.length > best.name.length) best = { name, command };
  }
  if (best === null) return null;
  // "认领：20240562" — the colon only separates.
  const tail = first.text.slice(best.name.length);
  const rest = tail.replace(/^[:,]+/, '');
  const start = first.start + best.name.length + (tail.length - rest.length);
  return { command: best.command, rest: rest === '' ? [] : [{ text: rest, start, person: null }] };
}

/** Text we did not understand: point at the closest command. */
function notUnderstood(tokens: Token[], classes: readonly string[]): ParseResult {
  const echo = notUnderstoodEcho(tokens);
  const command = closestCommand(tokens);
  if (command === null) {
    return { ok: false, message: `没有看懂“${echo}”。发送“帮助”查看全部命令。`, suggestion: COMMAND_USAGE.help };
  }
  const usage = usageFor(command, classes);
  return { ok: false, message: `没有看懂“${echo}”。您是不是想用：${usage}？发送“帮助”查看全部命令。`, suggestion: usage };
}
