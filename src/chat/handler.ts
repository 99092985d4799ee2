import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { parseCallbackValue, readFormFields, type CallbackValue } from '../../cards/callback.ts';
import { buildCaseCard, buildCaseListCard, buildHelpCard, buildRequestDecisionCard } from '../../cards/index.ts';
import type { HelpCommandView } from '../../cards/view-models.ts';
import { findCaseRow, findCasesByNumber, rolesOf, upsertUser, userNames } from '../cases/case.repository.ts';
import { actOnCase, inCaseTransaction, type CaseServiceContext } from '../cases/case.service.ts';
import { listItem, loadCaseCardView, loadRequestView, type ViewContext } from '../cases/case.view.ts';
import type { Clocks } from '../domain/clocks.ts';
import { isIsoDate } from '../domain/calendar.ts';
import {
  CONTACT_METHODS,
  DISCLOSURES,
  STAFF_ROLE_LABELS,
  isCoordinator,
  type Actor,
  type ContactMethod,
  type Disclosure,
  type IsoDate,
  type StaffRole,
} from '../domain/types.ts';
import { DUE_SOON_WORKDAYS, type CaseAction } from '../domain/workflow.ts';
import { enqueueMessage, rememberCaseCard, type OutboxContent } from '../lark/outbox.ts';
import type { IncomingCardAction, IncomingMessage } from '../lark/normalize.ts';
import type { NameResolver } from '../lark/names.ts';
import type { Db, Trx } from '../storage/database.ts';
import type { CaseRow } from '../storage/schema.ts';
import { COMMAND_USAGE, parseCommand, type CaseRef, type ChatCommand } from './parse-command.ts';

// What staff say to the bot and what they click, turned into actions on cases and answers. One event is applied
// once: it is marked processed in the same transaction as its effects and its answer.

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
  /** New outbox rows were committed. */
  kick(): void;
}

/** What a card click answers: a toast, and the card as it should now look. */
export interface CardResponse {
  toast?: { type: 'success' | 'error' | 'info' | 'warning'; content: string };
  card?: { type: 'raw'; data: object };
}

const DESCRIPTIONS: Record<ChatCommand['type'], { description: string; group: string; coordinatorOnly?: boolean }> = {
  help: { description: '查看本帮助', group: '查询' },
  show: { description: '查看案件卡片（也可直接发送案号）', group: '查询' },
  mine: { description: '我承办的未办结案件，按期限排序', group: '查询' },
  todo: { description: '本群待认领、即将到期和已逾期的案件', group: '查询' },
  claim: { description: '认领案件', group: '办理' },
  release: { description: '放弃已认领的案件，退回待认领', group: '办理' },
  handover: { description: '把案件转交给同事', group: '办理' },
  progress: { description: '记录办理进展', group: '办理' },
  contact: { description: '登记与代表委员的沟通（面商）', group: '办理' },
  reply: { description: '登记答复（主办/独办/分办须先登记面商）', group: '办理' },
  opinion: { description: '会办案件：登记已向主办单位报送意见', group: '办理' },
  rate: { description: '录入代表委员对答复的评价', group: '办理' },
  extend: { description: '申请延期，由协调员审批', group: '申请' },
  adjust: { description: '申请调整承办单位（交办后限期内）', group: '申请' },
  bind: { description: '把本群绑定到承办处室', group: '协调员', coordinatorOnly: true },
  grant: { description: '设置协调员或分管领导', group: '协调员', coordinatorOnly: true },
  revoke: { description: '取消协调员或分管领导', group: '协调员', coordinatorOnly: true },
};

/** The same click on the same card again within this long is a double click: answered like the first, done once. */
const DOUBLE_CLICK_MS = 5000;
const LIST_LIMIT = 20;
/** A click is answered within Lark's 3 s; a slow contact API must not eat that budget. */
const NAME_LOOKUP_LIMIT_MS = 800;

type Answer = OutboxContent;
const text = (t: string): Answer => ({ kind: 'text', text: t });

export class ChatHandler {
  constructor(private readonly ctx: ChatContext) {}

  private serviceContext(): CaseServiceContext {
    return {
      today: this.ctx.today(),
      clocks: this.ctx.clocks,
      resultClasses: this.ctx.resultClasses.map((c) => c.code),
      maxRehandlings: this.ctx.maxRehandlings,
      adminOpenIds: this.ctx.adminOpenIds,
    };
  }

  private viewContext(): ViewContext {
    const { clocks, timeZone, resultClasses, maxRehandlings } = this.ctx;
    return { today: this.ctx.today(), clocks, timeZone, resultClasses, maxRehandlings };
  }

  private async actor(trx: Trx, openId: string, name: string): Promise<Actor> {
    const roles = await rolesOf(trx, openId);
    if (this.ctx.adminOpenIds.includes(openId)) roles.add('coordinator');
    return { openId, name, roles };
  }

  /** Marks an event processed; false when it already was (a redelivery). */
  private async firstTime(trx: Trx, eventId: string, type: string): Promise<boolean> {
    const row = await trx
      .insertInto('processed_events')
      .values({ event_id: eventId, event_type: type })
      .onConflict((oc) => oc.column('event_id').doNothing())
      .returning('event_id')
      .executeTakeFirst();
    return row !== undefined;
  }

  // ---- messages -------------------------------------------------------------------------------------------------

  /** Handles one chat message event; safe to call again with the same event. */
  async handleMessage(msg: IncomingMessage): Promise<void> {
    // Until the bot's own id is known (Lark unreachable at start), the first mention in a group is taken to be the bot.
    const bot = this.ctx.botOpenId() ?? (msg.chatType === 'group' ? msg.mentions[0]?.openId : undefined);
    if (msg.senderType !== 'user' || (bot && msg.senderOpenId === bot)) return;
    const mentionsBot = msg.mentions.some((m) => m.openId === bot);
    if (msg.chatType === 'group' && !mentionsBot) return;

    const others = msg.mentions.filter((m) => m.openId !== bot);
    await this.ctx.names.remember(others);
    // Only Lark's own mention placeholders become people; anything typed to look like one is made inert first.
    let body = msg.text.replace(/<at:/gi, '＜at:');
    for (const m of msg.mentions) body = body.split(m.key).join(m.openId === bot ? ' ' : ` <at:${m.openId}> `);
    const senderName = await this.ctx.names.resolve(msg.senderOpenId);
    const chatId = msg.chatId;

    await inCaseTransaction(this.ctx.db, async (trx) => {
      if (!(await this.firstTime(trx, msg.eventId, 'im.message.receive_v1'))) return;
      await upsertUser(trx, { openId: msg.senderOpenId });
      await trx.insertInto('chats').values({ chat_id: chatId }).onConflict((oc) => oc.column('chat_id').doNothing()).execute();
      const answer =
        msg.messageType === 'text' || msg.messageType === 'post'
          ? await this.answer(trx, body, msg, senderName)
          : text('目前只能识别文字命令。发送“帮助”查看可以做什么。');
      await enqueueMessage(trx, { replyTo: msg.messageId, chatId }, answer);
    });
    this.ctx.kick();
  }

  /** Sends someone a private note (e.g. the outcome of a click Lark stopped waiting for). */
  async tellLater(openId: string, message: string): Promise<void> {
    await enqueueMessage(this.ctx.db, { openId }, text(message));
    this.ctx.kick();
  }

  /** After a message could not be handled: mark it handled (Lark will not resend it) and tell the sender. */
  async reportFailure(msg: IncomingMessage): Promise<void> {
    await this.ctx.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('processed_events')
        .values({ event_id: msg.eventId, event_type: 'im.message.receive_v1' })
        .onConflict((oc) => oc.column('event_id').doNothing())
        .execute();
      await enqueueMessage(trx, { replyTo: msg.messageId, chatId: msg.chatId }, text('抱歉，处理这条消息时出错了，没有做任何更改。请稍后重试；如仍失败请联系管理员。'));
    });
    this.ctx.kick();
  }

  private async answer(trx: Trx, body: string, msg: IncomingMessage, senderName: string): Promise<Answer> {
    const parsed = parseCommand(body, { today: this.ctx.today(), resultClasses: this.ctx.resultClasses.map((c) => c.code) });
    if (!parsed.ok) return text(parsed.message);
    const cmd = parsed.command;
    const actor = await this.actor(trx, msg.senderOpenId, senderName);
    const chat = await trx.selectFrom('chats').select('unit').where('chat_id', '=', msg.chatId).executeTakeFirst();
    const chatUnit = chat?.unit ?? null;
    const names = new Map(msg.mentions.map((m) => [m.openId, m.name]));

    switch (cmd.type) {
      case 'help':
        return { kind: 'card', card: buildHelpCard(this.helpView(actor, chatUnit)) };
      case 'mine':
        return this.mine(trx, actor);
      case 'todo':
        return this.todo(trx, chatUnit);
      case 'bind':
        return this.bind(trx, actor, msg.chatId, cmd.unit);
      case 'grant':
      case 'revoke':
        return this.setRole(trx, actor, cmd.type, cmd.role, cmd.users, names);
      case 'show': {
        const found = await this.resolveCase(trx, cmd.case);
        if ('answer' in found) return found.answer;
        return { kind: 'case_card', caseId: found.row.id };
      }
      default: {
        const found = await this.resolveCase(trx, cmd.case);
        if ('answer' in found) return found.answer;
        const action = await this.actionOf(trx, cmd, chatUnit, names);
        if ('answer' in action) return action.answer;
        const outcome = await actOnCase(trx, this.serviceContext(), found.row.id, action.action, actor);
        return text(outcome.message);
      }
    }
  }

  private async actionOf(
    trx: Trx,
    cmd: Exclude<ChatCommand, { type: 'help' | 'mine' | 'todo' | 'bind' | 'grant' | 'revoke' | 'show' }>,
    chatUnit: string | null,
    names: Map<string, string>,
  ): Promise<{ action: CaseAction } | { answer: Answer }> {
    switch (cmd.type) {
      case 'claim':
        return { action: { type: 'claim', chatUnit } };
      case 'release':
        return { action: { type: 'release' } };
      case 'handover': {
        const name = names.get(cmd.to) ?? (await userNames(trx, [cmd.to])).get(cmd.to) ?? cmd.to;
        return { action: { type: 'handover', to: { openId: cmd.to, name } } };
      }
      case 'progress':
        return { action: { type: 'progress', note: await this.withNames(trx, cmd.note, names) } };
      case 'contact':
        return { action: { type: 'contact', date: cmd.date, method: cmd.method, who: '', note: await this.withNames(trx, cmd.note, names) } };
      case 'reply':
        return { action: { type: 'reply', date: cmd.date, resultClass: cmd.resultClass, disclosure: cmd.disclosure } };
      case 'opinion':
        return { action: { type: 'opinion', date: this.ctx.today(), note: await this.withNames(trx, cmd.note, names) } };
      case 'rate':
        return { action: { type: 'rate', rating: cmd.rating } };
      case 'extend':
        return { action: { type: 'request_extension', until: cmd.until, reason: await this.withNames(trx, cmd.reason, names) } };
      case 'adjust':
        return { action: { type: 'request_adjustment', reason: await this.withNames(trx, cmd.reason, names) } };
    }
  }

  /** Free text keeps people as @name, not as open_id tokens. */
  private async withNames(trx: Trx, note: string, names: Map<string, string>): Promise<string> {
    const ids = [...note.matchAll(/<at:([^>]+)>/g)].map((m) => m[1] ?? '');
    if (ids.length === 0) return note;
    const stored = await userNames(trx, ids);
    return note.replace(/\s*<at:([^>]+)>\s*/g, (_, id: string) => ` @${names.get(id) ?? stored.get(id) ?? id} `).trim();
  }

  private async resolveCase(trx: Trx, ref: CaseRef): Promise<{ row: CaseRow } | { answer: Answer }> {
    const rows = await findCasesByNumber(trx, ref.digits);
    if (rows.length === 1 && rows[0]) return { row: rows[0] };
    if (rows.length === 0) return { answer: text(`找不到案号为“${ref.raw}”的案件，请核对案号（可发送“待办”查看本群案件）。`) };
    const views = await this.listItems(trx, rows);
    return {
      answer: {
        kind: 'card',
        card: buildCaseListCard({
          title: `“${ref.raw}”对应多件案件`,
          subtitle: '请写完整案号，或点击下方“查看”选择',
          emptyText: '',
          items: views,
          more: 0,
        }),
      },
    };
  }

  private async listItems(trx: Trx, rows: CaseRow[]) {
    const names = await userNames(trx, rows.flatMap((r) => (r.handler_open_id ? [r.handler_open_id] : [])));
    return rows.map((r) => listItem(r, r.handler_open_id ? (names.get(r.handler_open_id) ?? null) : null, this.ctx.today(), this.ctx.clocks));
  }

  private helpView(actor: Actor, chatUnit: string | null) {
    const commands: HelpCommandView[] = (Object.keys(DESCRIPTIONS) as ChatCommand['type'][]).map((type) => ({
      usage: COMMAND_USAGE[type],
      description: DESCRIPTIONS[type].description,
      group: DESCRIPTIONS[type].group,
      ...(DESCRIPTIONS[type].coordinatorOnly ? { coordinatorOnly: true } : {}),
    }));
    return { isCoordinator: isCoordinator(actor), chatUnit, commands };
  }

  private async mine(trx: Trx, actor: Actor): Promise<Answer> {
    const rows = await trx
      .selectFrom('cases')
      .selectAll()
      .where('handler_open_id', '=', actor.openId)
      .where('status', 'not in', ['closed', 'adjusted'])
      .orderBy('reply_due_date')
      .orderBy('case_no')
      .execute();
    const items = await this.listItems(trx, rows.slice(0, LIST_LIMIT));
    return {
      kind: 'card',
      card: buildCaseListCard({
        title: '我的案件',
        subtitle: `共 ${rows.length} 件未办结，按答复期限排序`,
        emptyText: '您目前没有未办结的案件。',
        items,
        more: Math.max(0, rows.length - LIST_LIMIT),
      }),
    };
  }

  /** Unclaimed, due-soon and overdue cases of this chat's unit (all units when the chat is not bound). */
  private async todo(trx: Trx, chatUnit: string | null): Promise<Answer> {
    let q = trx.selectFrom('cases').selectAll().where('status', 'not in', ['closed', 'adjusted', 'replied']);
    if (chatUnit) q = q.where((eb) => eb.or([eb('unit', '=', chatUnit), eb('unit', 'is', null)]));
    const rows = await q.orderBy('reply_due_date').orderBy('case_no').execute();
    const today = this.ctx.today();
    const picked = rows.filter(
      (r) => r.status === 'unclaimed' || this.ctx.clocks.workdaysLeft(today, r.reply_due_date) <= DUE_SOON_WORKDAYS,
    );
    const items = await this.listItems(trx, picked.slice(0, LIST_LIMIT));
    return {
      kind: 'card',
      card: buildCaseListCard({
        title: chatUnit ? `${chatUnit} 待办` : '待办案件',
        subtitle: `待认领、${DUE_SOON_WORKDAYS} 个工作日内到期及已逾期，共 ${picked.length} 件`,
        emptyText: '没有待认领、即将到期或逾期的案件。',
        items,
        more: Math.max(0, picked.length - LIST_LIMIT),
      }),
    };
  }

  private async bind(trx: Trx, actor: Actor, chatId: string, unit: string): Promise<Answer> {
    if (!isCoordinator(actor)) return text('只有协调员可以绑定承办处室。');
    await trx.updateTable('chats').set({ unit, bound_by: actor.openId, bound_at: new Date() }).where('chat_id', '=', chatId).execute();
    return text(`本群已绑定到“${unit}”。在本群认领的案件将归入${unit}，“待办”只显示${unit}的案件。`);
  }

  private async setRole(
    trx: Trx,
    actor: Actor,
    op: 'grant' | 'revoke',
    role: StaffRole,
    users: string[],
    names: Map<string, string>,
  ): Promise<Answer> {
    if (!isCoordinator(actor)) return text('只有协调员可以设置角色。');
    const label = STAFF_ROLE_LABELS[role];
    const stored = await userNames(trx, users);
    // All or nothing: a refusal for one person must not leave the others half-changed.
    const pinned = op === 'revoke' && role === 'coordinator' ? users.filter((id) => this.ctx.adminOpenIds.includes(id)) : [];
    if (pinned.length > 0) {
      const who = pinned.map((id) => names.get(id) ?? stored.get(id) ?? id).join('、');
      return text(`${who}是配置文件（BANLI_ADMIN_OPEN_IDS）指定的协调员，不能在聊天中取消；本次没有做任何更改。`);
    }
    const done: string[] = [];
    for (const openId of users) {
      const name = names.get(openId) ?? stored.get(openId) ?? openId;
      await upsertUser(trx, { openId, name: names.get(openId) });
      if (op === 'grant') {
        await trx
          .insertInto('user_roles')
          .values({ open_id: openId, role, granted_by: actor.openId })
          .onConflict((oc) => oc.columns(['open_id', 'role']).doNothing())
          .execute();
      } else {
        await trx.deleteFrom('user_roles').where('open_id', '=', openId).where('role', '=', role).execute();
      }
      done.push(name);
    }
    return text(op === 'grant' ? `已将${done.join('、')}设置为${label}。` : `已取消${done.join('、')}的${label}角色。`);
  }

  // ---- card clicks ----------------------------------------------------------------------------------------------

  /** Handles one card click and answers within Lark's 3 seconds; a redelivered click gets the first answer again. */
  async handleCardAction(a: IncomingCardAction): Promise<CardResponse> {
    const value = parseCallbackValue(a.value);
    if (!value) return { toast: { type: 'error', content: '无法识别这个按钮，请发送案号重新获取卡片。' } };
    const name = await this.ctx.names.resolve(a.operatorOpenId, NAME_LOOKUP_LIMIT_MS);
    let handoverName: string | undefined;
    if (value.action === 'handover') {
      const to = readFormFields('handover', a.formValue).to ?? a.option ?? undefined;
      if (to) handoverName = await this.ctx.names.resolve(to, NAME_LOOKUP_LIMIT_MS);
    }
    const response = await inCaseTransaction(this.ctx.db, async (trx) => {
      if (!(await this.firstTime(trx, a.eventId, 'card.action.trigger'))) {
        const prior = await trx.selectFrom('processed_events').select('response').where('event_id', '=', a.eventId).executeTakeFirst();
        const stored = prior?.response as CardResponse | null | undefined;
        return stored ?? ({ toast: { type: 'info', content: '该操作已处理。' } } satisfies CardResponse);
      }
      const twin = await this.sameClickJustNow(trx, a);
      if (twin.answer) return twin.answer;
      await upsertUser(trx, { openId: a.operatorOpenId });
      const r = await this.click(trx, a, value, name, handoverName);
      await trx
        .updateTable('processed_events')
        .set({ response: JSON.stringify(r) })
        .where('event_id', 'in', [a.eventId, twin.key])
        .execute();
      return r;
    });
    this.ctx.kick();
    return response;
  }

  /**
   * Lark gives each click its own event id, so a double click (or a form sent twice) arrives as two events. The same
   * person clicking the same button of the same card with the same form a moment later gets the first answer again.
   * Concurrent twins meet on the key's row: the second waits for the first to commit, then finds it fresh.
   */
  private async sameClickJustNow(trx: Trx, a: IncomingCardAction): Promise<{ key: string; answer?: CardResponse }> {
    const stable = (v: unknown): unknown =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, x]) => [k, stable(x)]))
        : v;
    const key = `click:${createHash('sha256').update(JSON.stringify(stable([a.operatorOpenId, a.messageId, a.value, a.formValue]))).digest('hex')}`;
    const mine = await trx
      .insertInto('processed_events')
      .values({ event_id: key, event_type: 'card.click' })
      .onConflict((oc) =>
        oc
          .column('event_id')
          .doUpdateSet({ received_at: sql<Date>`now()`, response: null })
          .where('processed_events.received_at', '<', sql<Date>`now() - ${DOUBLE_CLICK_MS}::double precision * interval '1 millisecond'`),
      )
      .returning('event_id')
      .executeTakeFirst();
    if (mine) return { key };
    const first = await trx.selectFrom('processed_events').select('response').where('event_id', '=', key).executeTakeFirst();
    return { key, answer: (first?.response as CardResponse | null | undefined) ?? { toast: { type: 'info', content: '该操作已处理。' } } };
  }

  private async click(trx: Trx, a: IncomingCardAction, value: CallbackValue, name: string, handoverName?: string): Promise<CardResponse> {
    const actor = await this.actor(trx, a.operatorOpenId, name);
    const row = await findCaseRow(trx, value.caseId);
    if (!row) return { toast: { type: 'error', content: '找不到该案件，可能已被删除。' } };

    if (value.action === 'show') {
      await enqueueMessage(trx, a.chatId ? { chatId: a.chatId } : { openId: a.operatorOpenId }, { kind: 'case_card', caseId: row.id });
      return { toast: { type: 'info', content: `已发送案件 ${row.case_no} 的卡片。` } };
    }

    const isDecision = value.requestId !== undefined;
    if (!isDecision) await rememberCaseCard(trx, a.messageId, row.id, a.chatId);
    const chatUnit = a.chatId
      ? ((await trx.selectFrom('chats').select('unit').where('chat_id', '=', a.chatId).executeTakeFirst())?.unit ?? null)
      : null;
    const action = this.cardAction(value, a, chatUnit, handoverName);
    if ('error' in action) return { toast: { type: 'error', content: action.error } };

    // The clicked card is patched like every other card of the case: when the work outlasts Lark's 3 s, the answer
    // carries no card ("正在处理，卡片稍后自动更新"), and the patch is what keeps that promise.
    const outcome = await actOnCase(trx, this.serviceContext(), row.id, action, actor);
    const toast = { type: outcome.ok ? ('success' as const) : ('error' as const), content: outcome.message };
    if (isDecision) {
      const kind = value.action.endsWith('extension') ? 'extension' : 'adjustment';
      const view = await loadRequestView(trx, kind, value.requestId ?? 0, this.ctx);
      return view ? { toast, card: { type: 'raw', data: buildRequestDecisionCard(view) } } : { toast };
    }
    // The clicked card shows the case as it is now, whether or not this click changed it.
    const view = await loadCaseCardView(trx, row.id, this.viewContext());
    return view ? { toast, card: { type: 'raw', data: buildCaseCard(view) } } : { toast };
  }

  /** A click (and its form) as a workflow action, or what the user has to fix. */
  private cardAction(value: CallbackValue, a: IncomingCardAction, chatUnit: string | null, handoverName?: string): CaseAction | { error: string } {
    const f = readFormFields(value.action, a.formValue);
    const today = this.ctx.today();
    const date = (v: string | undefined, label: string): IsoDate | { error: string } => {
      if (!v) return today;
      return isIsoDate(v) ? v : { error: `${label}“${v}”不是有效日期。` };
    };
    switch (value.action) {
      case 'claim':
        return { type: 'claim', chatUnit };
      case 'release':
        return { type: 'release' };
      case 'progress':
        if (!f.note) return { error: '请填写进展内容后再提交。' };
        return { type: 'progress', note: f.note };
      case 'contact': {
        if (!f.method || !CONTACT_METHODS.includes(f.method as ContactMethod)) return { error: `请选择沟通方式：${CONTACT_METHODS.join('、')}。` };
        const d = date(f.date, '沟通日期');
        if (typeof d !== 'string') return d;
        return { type: 'contact', method: f.method as ContactMethod, date: d, who: f.who ?? '', note: f.note ?? '' };
      }
      case 'reply': {
        if (!f.result_class) return { error: `请选择办理结果类别（${this.ctx.resultClasses.map((c) => c.code).join('、')}）。` };
        const d = date(f.date, '答复日期');
        if (typeof d !== 'string') return d;
        if (f.disclosure && !DISCLOSURES.includes(f.disclosure as Disclosure)) return { error: `公开情况须为${DISCLOSURES.join('、')}。` };
        return { type: 'reply', resultClass: f.result_class, date: d, disclosure: (f.disclosure as Disclosure | undefined) ?? null };
      }
      case 'opinion': {
        const d = date(f.date, '报送日期');
        if (typeof d !== 'string') return d;
        return { type: 'opinion', date: d, note: f.note ?? '' };
      }
      case 'rate':
        return value.rating ? { type: 'rate', rating: value.rating } : { error: '请选择评价结果。' };
      case 'extend':
        if (!f.until) return { error: '请选择延期后的答复日期。' };
        if (!isIsoDate(f.until)) return { error: `延期日期“${f.until}”不是有效日期。` };
        if (!f.reason) return { error: '请填写延期理由。' };
        return { type: 'request_extension', until: f.until, reason: f.reason };
      case 'adjust':
        if (!f.reason) return { error: '请填写调整理由。' };
        return { type: 'request_adjustment', reason: f.reason };
      case 'handover': {
        const to = f.to ?? a.option ?? undefined;
        if (!to) return { error: '请选择要转交的同事。' };
        return { type: 'handover', to: { openId: to, name: handoverName ?? to } };
      }
      case 'approve_extension':
      case 'refuse_extension':
        return { type: 'decide_extension', requestId: value.requestId ?? 0, approve: value.action === 'approve_extension', note: f.note ?? '' };
      case 'approve_adjustment':
      case 'refuse_adjustment':
        return { type: 'decide_adjustment', requestId: value.requestId ?? 0, approve: value.action === 'approve_adjustment', note: f.note ?? '' };
      case 'show':
        return { error: '无法识别这个按钮。' };
    }
  }
}
