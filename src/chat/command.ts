// What a chat command is: its words, its usage and help text, its parser, and what it does when run. Each command is
// one module in ./commands/, listed once in ./registry.ts; nothing else needs to know it exists.

import type { Logger } from 'pino';
import type { CaseServiceContext } from '../cases/case.service.ts';
import type { Clocks } from '../domain/clocks.ts';
import type { Actor, IsoDate } from '../domain/types.ts';
import type { NameResolver } from '../lark/names.ts';
import type { OutboxContent } from '../lark/outbox.ts';
import type { Db, Trx } from '../storage/database.ts';
import type { ParseContext } from './parse/args.ts';
import type { Token } from './parse/tokens.ts';

/** Everything the chat side gets from the service, once, at start. */
export interface ChatContext {
  db: Db;
  logger: Logger;
  clocks: Clocks;
  timeZone: string;
  resultClasses: readonly { code: string; label: string }[];
  maxRehandlings: number;
  adminOpenIds: readonly string[];
  today(): IsoDate;
  names: NameResolver;
  botOpenId(): string | undefined;
  /** Downloads a file a user sent (the message-resource API); refuses (FileTooLargeError) anything over maxBytes. */
  files?: { download(messageId: string, fileKey: string, maxBytes: number): Promise<Buffer> };
  /** New outbox rows were committed. */
  kick(): void;
  /** The time of the daily reminders (BANLI_REMIND_AT, HH:MM in BANLI_TIMEZONE), for telling people when they come. */
  remindAt?: string;
}

/** What the bot answers to a message: text, a finished card, or a live case card. */
export type Answer = OutboxContent;

export const text = (t: string): Answer => ({ kind: 'text', text: t });

/** Headings of the help card, in the order they appear. */
export type HelpGroup = '查询' | '办理' | '申请' | '协调员' | (string & {});

/** One message being answered: who sent it, where, and the transaction its effects and answer commit in. */
export interface CommandContext {
  trx: Trx;
  chat: ChatContext;
  today: IsoDate;
  actor: Actor;
  chatId: string;
  /** The section this chat is bound to, or null. */
  chatUnit: string | null;
  messageId: string;
  /** Names of the people @mentioned in the message, by open_id (authoritative: Lark sent them). */
  mentioned: ReadonlyMap<string, string>;
  /** The workflow's context for acting on a case. */
  service: CaseServiceContext;
  /** Every registered command (the help card lists them). */
  commands: readonly AnyCommand[];
}

export interface CommandModule<C extends { type: string }> {
  type: C['type'];
  /** The first word is the one shown to users; the rest are aliases (Chinese or English). Matched without case. */
  words: readonly [string, ...string[]];
  /** The usage line shown in help and in error messages, e.g. `认领 <案号>`. */
  usage: string;
  /** A usage line that depends on configuration (the reply's result classes); defaults to `usage`. */
  usageWith?(classes: readonly string[]): string;
  help: { description: string; group: HelpGroup; coordinatorOnly?: boolean };
  /** The tokens after the command word → the command, or reject() with what to fix. Pure. */
  parse(args: Token[], ctx: ParseContext): C;
  /** Does what the command asks, inside the message's transaction, and says what to answer. */
  run(cmd: C, ctx: CommandContext): Promise<Answer>;
}

// eslint-style escape hatch: the registry holds modules of different command shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCommand = CommandModule<any>;

/** Declares a command module (only gives it its type). */
export function defineCommand<C extends { type: string }>(module: CommandModule<C>): CommandModule<C> {
  return module;
}

/** The command a module parses to. */
export type CommandOf<M> = M extends CommandModule<infer C> ? C : never;
