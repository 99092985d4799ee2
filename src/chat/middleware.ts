// Steps every incoming message or click goes through before (and around) its command or button, in the spirit of
// bolt-js middleware: each gets the turn and `next`, and may stop the turn by not calling it.

import type { SettleMessage } from '../inbox/inbox.ts';
import type { IncomingMessage } from '../lark/normalize.ts';
import { fileImport } from './file-import.ts';
import type { ChatContext } from './command.ts';

export type Middleware<T> = (turn: T, next: () => Promise<void>) => Promise<void>;

/** Runs the chain, then `last`, unless a step stops the turn. */
export async function runChain<T>(chain: readonly Middleware<T>[], turn: T, last: () => Promise<void>): Promise<void> {
  const step = async (i: number): Promise<void> => {
    const mw = chain[i];
    if (mw === undefined) return last();
    await mw(turn, () => step(i + 1));
  };
  await step(0);
}

/** A message on its way to a command. */
export interface MessageTurn {
  msg: IncomingMessage;
  chat: ChatContext;
  /** The bot's open_id as far as known. */
  bot: string | undefined;
  /** The text with the bot's mention removed and other people's mentions as `<at:OPEN_ID>`. */
  body: string;
  senderName: string;
  /** Finishes the message's inbox row in the transaction of its effects (a step that answers by itself calls it). */
  settle: SettleMessage;
}

/** Ignores what the bot itself (or another app) posts. Until the bot's own id is known (Lark unreachable at start),
 *  the first mention in a group is taken to be the bot. */
export const ignoreSelf: Middleware<MessageTurn> = async (turn, next) => {
  const { msg } = turn;
  turn.bot = turn.chat.botOpenId() ?? (msg.chatType === 'group' ? msg.mentions[0]?.openId : undefined);
  if (msg.senderType !== 'user' || (turn.bot && msg.senderOpenId === turn.bot)) return;
  await next();
};

/** In a group, only messages that @mention the bot are for it. */
export const onlyWhenMentioned: Middleware<MessageTurn> = async (turn, next) => {
  if (turn.msg.chatType === 'group' && !turn.msg.mentions.some((m) => m.openId === turn.bot)) return;
  await next();
};

/** Keeps the names of the people mentioned, drops the bot's mention and turns the others into `<at:OPEN_ID>`. */
export const stripMentions: Middleware<MessageTurn> = async (turn, next) => {
  const { msg, bot } = turn;
  await turn.chat.names.remember(msg.mentions.filter((m) => m.openId !== bot));
  // Only Lark's own mention placeholders become people; anything typed to look like one is made inert first.
  let body = msg.text.replace(/<at:/gi, '＜at:');
  for (const m of msg.mentions) body = body.split(m.key).join(m.openId === bot ? ' ' : ` <at:${m.openId}> `);
  turn.body = body;
  await next();
};

/** The sender's name, from the users table or the contact API. */
export const senderName: Middleware<MessageTurn> = async (turn, next) => {
  turn.senderName = await turn.chat.names.resolve(turn.msg.senderOpenId);
  await next();
};

// A file carries no @mention, so file messages are taken before the mention check (see ./file-import.ts).
export const MESSAGE_MIDDLEWARE: readonly Middleware<MessageTurn>[] = [ignoreSelf, fileImport, onlyWhenMentioned, stripMentions, senderName];
