// Steps every incoming message or click goes through before (and around) its command or button, in the spirit of
// bolt-js middleware: each gets the turn and `next`, and may stop the turn by not calling it.

import { createHash } from 'node:crypto';
import type { IncomingMessage } from '../lark/normalize.ts';
import type { IncomingCardAction } from '../lark/normalize.ts';
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

export const MESSAGE_MIDDLEWARE: readonly Middleware<MessageTurn>[] = [ignoreSelf, onlyWhenMentioned, stripMentions, senderName];

/** The same click on the same card again within this long is a double click: answered like the first, done once. */
export const DOUBLE_CLICK_MS = 5000;

/**
 * Lark gives each click its own event id, so a double click (or a form sent twice) arrives as two events. The key of
 * a click: the same person clicking the same button of the same card with the same form.
 */
export function clickKey(a: IncomingCardAction): string {
  const stable = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, x]) => [k, stable(x)]))
      : v;
  return `click:${createHash('sha256').update(JSON.stringify(stable([a.operatorOpenId, a.messageId, a.value, a.formValue]))).digest('hex')}`;
}

/** Lark stops waiting for a click's answer after 3 s; the answer must be out before that. */
export const CARD_ANSWER_BUDGET_MS = 2500;

/** A click's answer if it comes within the budget, else `lateAnswer`; `onLate` gets the real answer when it comes. */
export async function answerWithinBudget<R>(work: Promise<R>, lateAnswer: R, onLate: (answer: R) => Promise<void>, budgetMs = CARD_ANSWER_BUDGET_MS): Promise<R> {
  let timer: NodeJS.Timeout | undefined;
  let late = false;
  const deadline = new Promise<R>((resolve) => {
    timer = setTimeout(() => {
      late = true;
      resolve(lateAnswer);
    }, budgetMs);
  });
  void work.then((r) => (late ? onLate(r) : undefined)).catch(() => undefined);
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
