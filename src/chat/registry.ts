// The chat commands Banli understands, in one list.
//
// How to add a command:
//   1. Write one module in ./commands/, e.g. ./commands/remind.ts, exporting
//        export const remind = defineCommand<{ type: 'remind'; … }>({
//          type, words: ['提醒', 'remind'], usage: '提醒 …', help: { description, group },
//          parse(args, ctx) { … return { type: 'remind', … } },   // pure; reject('…') says what to fix
//          run(cmd, ctx) { … return text('…') },                   // SQL only through repository functions
//        });
//      A command on one case can use caseCommand() (./case-command.ts): give it `action` and it finds the case,
//      lets the workflow decide, and answers with the outcome.
//   2. Add it to COMMANDS below. Its words, the help card, "did you mean" suggestions and usage lines in error
//      messages all come from here; nothing else changes.
//   3. Add the command to README's chat-command table and to docs/使用指南.md.
//
// Order matters only when suggesting a command for text we did not understand: an earlier command wins a tie. The
// help card groups commands under their `help.group` headings, in order of first appearance.
//
// Card buttons work the same way: see ./card-actions/registry.ts.

import type { AnyCommand, CommandOf } from './command.ts';
import { adjust } from './commands/adjust.ts';
import { bind } from './commands/bind.ts';
import { claim } from './commands/claim.ts';
import { contact } from './commands/contact.ts';
import { extend } from './commands/extend.ts';
import { followUp } from './commands/follow-up.ts';
import { handover } from './commands/handover.ts';
import { help } from './commands/help.ts';
import { mine } from './commands/mine.ts';
import { opinion } from './commands/opinion.ts';
import { progress } from './commands/progress.ts';
import { rate } from './commands/rate.ts';
import { release } from './commands/release.ts';
import { remind } from './commands/remind.ts';
import { reply } from './commands/reply.ts';
import { grant, revoke } from './commands/roles.ts';
import { show } from './commands/show.ts';
import { todo } from './commands/todo.ts';
import { stats } from './commands/stats.ts';
import { exportReport } from './commands/export-report.ts';

export const COMMANDS = [
  help,
  claim,
  release,
  handover,
  progress,
  contact,
  reply,
  opinion,
  rate,
  followUp,
  extend,
  adjust,
  show,
  mine,
  todo,
  stats,
  remind,
  bind,
  grant,
  revoke,
  exportReport,
] as const satisfies readonly AnyCommand[];

/** Every command a message can parse to. */
export type ChatCommand = CommandOf<(typeof COMMANDS)[number]>;
export type CommandType = ChatCommand['type'];

const BY_TYPE = new Map<string, AnyCommand>(COMMANDS.map((c) => [c.type, c]));
const BY_WORD = new Map<string, AnyCommand>(COMMANDS.flatMap((c) => c.words.map((w) => [w.toLowerCase(), c] as const)));

/** The module of a command type. */
export function commandOf(type: string): AnyCommand | undefined {
  return BY_TYPE.get(type);
}

/** The command a word (any letter case) names, if any. */
export function commandByWord(word: string): AnyCommand | undefined {
  return BY_WORD.get(word.toLowerCase());
}

/** Every command word with its command (for glued commands and suggestions). */
export function commandWords(): ReadonlyMap<string, AnyCommand> {
  return BY_WORD;
}

/** One usage line per command, in Chinese, as shown in help and in error messages. */
export const COMMAND_USAGE = Object.fromEntries(COMMANDS.map((c) => [c.type, c.usage])) as Record<CommandType, string>;

/** The usage line of a command with the configured result classes. */
export function usageFor(command: AnyCommand, classes: readonly string[]): string {
  return command.usageWith ? command.usageWith(classes) : command.usage;
}
