// The chat side's entry points: a message or a card click in, effects and answers out. One event is applied once:
// the inbox hands each event over with a `settle` that finishes its inbox row in the same transaction as its effects
// and its answer (an event that changes nothing needs no settle; the inbox finishes it). What each command or button does
// lives in its own module (./registry.ts, ./card-actions/registry.ts); the steps around them in ./middleware.ts.

import { parseCallbackValue, readFormFields } from '../../cards/callback.ts';
import { chatUnit, ensureChat, operatorOf } from '../cases/chat.repository.ts';
import { rolesOf, upsertUser } from '../cases/case.repository.ts';
import { inCaseTransaction, type CaseServiceContext } from '../cases/case.service.ts';
import type { Actor, StaffRole } from '../domain/types.ts';
import { enqueueCardPatch, enqueueMessage } from '../lark/outbox.ts';
import type { SettleClick, SettleMessage } from '../inbox/inbox.ts';
import type { IncomingCardAction, IncomingMessage } from '../lark/normalize.ts';
import type { Db, Trx } from '../storage/database.ts';
import type { CardResponse } from './card-actions/action.ts';
import { cardActionOf } from './card-actions/registry.ts';
import { text, type Answer, type ChatContext, type CommandContext } from './command.ts';
import { MESSAGE_MIDDLEWARE, runChain, type MessageTurn } from './middleware.ts';
import { parseCommand } from './parse-command.ts';
import { commandOf, COMMANDS } from './registry.ts';

export type { ChatContext } from './command.ts';
export type { CardResponse } from './card-actions/action.ts';

/** A click is answered within Lark's 3 s; a slow contact API must not eat that budget. */
const NAME_LOOKUP_LIMIT_MS = 800;

export class ChatHandler {
  constructor(private readonly ctx: ChatContext) {}

  /** The same handler working through another Kysely instance (e.g. one with a query counter, in a test). */
  withDb(db: Db): ChatHandler {
    return new ChatHandler({ ...this.ctx, db });
  }

  private serviceContext(): CaseServiceContext {
    return {
      today: this.ctx.today(),
      clocks: this.ctx.clocks,
      resultClasses: this.ctx.resultClasses.map((c) => c.code),
      maxRehandlings: this.ctx.maxRehandlings,
      adminOpenIds: this.ctx.adminOpenIds,
    };
  }

  private async actor(trx: Trx, openId: string, name: string): Promise<Actor> {
    const roles = await rolesOf(trx, openId);
    if (this.ctx.adminOpenIds.includes(openId)) roles.add('coordinator');
    return { openId, name, roles };
  }

  /** Handles one chat message event; settles it in the transaction of its effects. */
  async handleMessage(msg: IncomingMessage, settle: SettleMessage): Promise<void> {
    const turn: MessageTurn = { msg, chat: this.ctx, bot: undefined, body: msg.text, senderName: '', settle };
    let handled = false;
    await runChain(MESSAGE_MIDDLEWARE, turn, async () => {
      handled = true;
      await inCaseTransaction(this.ctx.db, async (trx) => {
        await settle(trx);
        await upsertUser(trx, { openId: msg.senderOpenId });
        await ensureChat(trx, msg.chatId);
        const answer =
          msg.messageType === 'text' || msg.messageType === 'post'
            ? await this.answer(trx, turn)
            : text('目前只能识别文字命令。发送“帮助”查看可以做什么。');
        await enqueueMessage(trx, { replyTo: msg.messageId, chatId: msg.chatId }, answer);
      });
    });
    if (handled) this.ctx.kick();
  }

  private async answer(trx: Trx, turn: MessageTurn): Promise<Answer> {
    const { msg } = turn;
    const today = this.ctx.today();
    const parsed = parseCommand(turn.body, { today, resultClasses: this.ctx.resultClasses.map((c) => c.code) });
    if (!parsed.ok) return text(parsed.message);
    const command = commandOf(parsed.command.type);
    if (!command) return text('这条消息没能处理，请换个说法再试，或发送“帮助”查看全部命令。');
    const ctx: CommandContext = {
      trx,
      chat: this.ctx,
      today,
      actor: await this.actor(trx, msg.senderOpenId, turn.senderName),
      chatId: msg.chatId,
      chatUnit: await chatUnit(trx, msg.chatId),
      messageId: msg.messageId,
      mentioned: new Map(msg.mentions.map((m) => [m.openId, m.name])),
      service: this.serviceContext(),
      commands: COMMANDS,
    };
    return command.run(parsed.command, ctx);
  }

  /** Sends someone a private note (e.g. the outcome of a click Lark stopped waiting for). */
  async tellLater(openId: string, message: string): Promise<void> {
    await enqueueMessage(this.ctx.db, { openId }, text(message));
    this.ctx.kick();
  }

  /** After a message could not be handled: settle it (it is not tried again) and tell the sender. */
  async reportFailure(msg: IncomingMessage, settle: SettleMessage): Promise<void> {
    await this.ctx.db.transaction().execute(async (trx) => {
      await settle(trx);
      await enqueueMessage(trx, { replyTo: msg.messageId, chatId: msg.chatId }, text('抱歉，处理这条消息时出错了，没有做任何更改。请稍后重试；如仍失败请联系管理员。'));
    });
    this.ctx.kick();
  }

  /**
   * Handles one card click and returns its answer; settles it with that answer in the transaction of its effects.
   * Lark redraws the clicked card from an answer it gets in time; when it does not (the click ran late, or is finished
   * after a restart), the clicked card is patched in the same transaction.
   */
  async handleCardAction(a: IncomingCardAction, settle: SettleClick): Promise<CardResponse> {
    const value = parseCallbackValue(a.value);
    const module = value ? cardActionOf(value.action) : undefined;
    if (!value || !module) return { toast: { type: 'error', content: '无法识别这个按钮，请发送案号重新获取卡片。' } };
    const form = readFormFields(value.action, a.formValue);
    // Read once, before the transaction: the contact API may be asked for a name, and no lock may wait on Lark.
    const operator = await operatorOf(this.ctx.db, a.operatorOpenId, a.chatId);
    const name = await this.ctx.names.resolveStored(a.operatorOpenId, operator.known ? operator : null, NAME_LOOKUP_LIMIT_MS);
    const names = new Map<string, string>();
    for (const openId of module.people?.(value, a, form) ?? []) names.set(openId, await this.ctx.names.resolve(openId, NAME_LOOKUP_LIMIT_MS));
    const roles = new Set<StaffRole>(operator.roles);
    if (this.ctx.adminOpenIds.includes(a.operatorOpenId)) roles.add('coordinator');
    const response = await inCaseTransaction(this.ctx.db, async (trx) => {
      if (!operator.known) await upsertUser(trx, { openId: a.operatorOpenId });
      const r = await module.handle(value, {
        trx,
        chat: this.ctx,
        today: this.ctx.today(),
        click: a,
        actor: { openId: a.operatorOpenId, name, roles },
        chatUnit: operator.chatUnit,
        service: this.serviceContext(),
        form,
        names,
      });
      const { answeredInline } = await settle(trx, r);
      const card = answeredInline || !r.card ? null : module.lateCard?.(value);
      if (card) await enqueueCardPatch(trx, a.messageId, a.chatId, card);
      return r;
    });
    this.ctx.kick();
    return response;
  }
}
