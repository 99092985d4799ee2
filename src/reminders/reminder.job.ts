import { sql } from 'kysely';
import type { Logger } from 'pino';
import { buildDigestCard, buildSupervisionCard, splitDigest, type DigestItemView } from '../../cards/reminders.ts';
import type { Card } from '../../cards/components.ts';
import type { WorkCalendar } from '../domain/calendar.ts';
import type { Clocks } from '../domain/clocks.ts';
import {
  doneLabel,
  planReminders,
  recipientKey,
  RULE_LABELS,
  stillNeeded,
  type Recipient,
  type Reminder,
  type ReminderRule,
  type ReminderSettings,
} from '../domain/reminders.ts';
import { type IsoDate } from '../domain/types.ts';
import type { Db, DbOrTrx } from '../storage/database.ts';
import {
  clearRedrawMarks,
  enqueueReminderCard,
  finishJobRun,
  insertReminderCard,
  loadMutes,
  loadReminderCards,
  loadReminderCases,
  markRemindersDropped,
  loadReminderPeople,
  recordRemindersSent,
  reminderUuid,
  takeJobRun,
  type ReminderCaseRow,
} from './reminder.repository.ts';

// The daily reminder job: take the day in the run ledger, let the rules choose, and queue one digest card per chat
// and per person (split when too large) and one 督办 card per case and leader/coordinator, each reminder recorded in
// the same transaction as its outbox row. Everything after the commit is the outbox's: a crash loses nothing and,
// with the ledger and the cards' deterministic uuids, sends nothing twice.

export const REMIND_JOB = 'remind';

export interface ReminderDeps {
  db: Db;
  calendar: WorkCalendar;
  clocks: Clocks;
  timeZone: string;
  settings: ReminderSettings;
  urgentSupervision: boolean;
  off: readonly ReminderRule[];
  adminOpenIds: readonly string[];
  logger: Logger;
  /** Today in the configured timezone (for redrawing cards). */
  today(): IsoDate;
}

export interface RecipientSummary {
  recipient: string;
  /** 张三, or 本群 (处室) for a chat. */
  name: string;
  items: { caseNo: string; rule: ReminderRule; why: string }[];
}

/** What a run did (or, dry, would do). */
export interface RemindSummary {
  date: IsoDate;
  status: 'sent' | 'dry_run' | 'already_ran' | 'rest_day';
  dryRun: boolean;
  /** Cards queued (digests, parts of digests, 督办 cards). */
  cards: number;
  reminders: number;
  muted: number;
  byRule: Partial<Record<ReminderRule, number>>;
  recipients: RecipientSummary[];
  undeliverable: { caseNo: string; rule: ReminderRule; reason: string }[];
}

export interface RunOptions {
  dryRun?: boolean;
  /** schedule, catch-up or manual; kept in the ledger. */
  trigger?: string;
}

async function plan(deps: ReminderDeps, db: DbOrTrx, date: IsoDate) {
  const [cases, people, mutes] = await Promise.all([
    loadReminderCases(db, { timeZone: deps.timeZone }),
    loadReminderPeople(db, deps.adminOpenIds),
    loadMutes(db),
  ]);
  const result = planReminders({ today: date, cases, people, mutes, calendar: deps.calendar, clocks: deps.clocks, settings: deps.settings, urgentSupervision: deps.urgentSupervision });
  const off = new Set(deps.off);
  result.reminders = result.reminders.filter((r) => !off.has(r.rule));
  result.undeliverable = result.undeliverable.filter((u) => !off.has(u.rule));
  return { result, cases: new Map(cases.map((c) => [c.id, c])), people };
}

function itemView(c: ReminderCaseRow, rule: ReminderRule, workdaysLeft: number | null, done: string | null): DigestItemView {
  return { caseId: c.id, caseNo: c.caseNo, title: c.title, rule, replyDueDate: workdaysLeft === null ? null : c.replyDueDate, workdaysLeft, handlerName: c.handlerName, done };
}

interface CardPlan {
  kind: 'digest' | 'supervision';
  recipient: Recipient;
  part: number;
  parts: number;
  caseId: number | null;
  urgent: boolean;
  reminders: Reminder[];
}

/** The cards a day's reminders go out on: digests per recipient (split to fit), 督办 cards one per case and person. */
function composeCards(date: IsoDate, reminders: readonly Reminder[], cases: ReadonlyMap<number, ReminderCaseRow>): CardPlan[] {
  const out: CardPlan[] = [];
  const digests = new Map<string, { recipient: Recipient; reminders: Reminder[] }>();
  for (const r of reminders) {
    if (r.rule === 'supervision') {
      out.push({ kind: 'supervision', recipient: r.recipient, part: 1, parts: 1, caseId: r.caseId, urgent: r.urgent, reminders: [r] });
      continue;
    }
    const key = recipientKey(r.recipient);
    const entry = digests.get(key) ?? { recipient: r.recipient, reminders: [] };
    entry.reminders.push(r);
    digests.set(key, entry);
  }
  for (const { recipient, reminders: list } of digests.values()) {
    const byItem = new Map<DigestItemView, Reminder>();
    const items = list.map((r) => {
      const view = itemView(cases.get(r.caseId)!, r.rule, r.workdaysLeft, null);
      byItem.set(view, r);
      return view;
    });
    const parts = splitDigest(items, { cardId: 1_000_000, date, audience: recipient.kind === 'chat' ? 'chat' : 'person' });
    parts.forEach((part, i) => {
      out.push({ kind: 'digest', recipient, part: i + 1, parts: parts.length, caseId: null, urgent: false, reminders: part.map((v) => byItem.get(v)!) });
    });
  }
  return out;
}

async function describeRecipients(db: DbOrTrx, reminders: readonly Reminder[], cases: ReadonlyMap<number, ReminderCaseRow>, people: { chatsByUnit: ReadonlyMap<string, readonly string[]> }): Promise<RecipientSummary[]> {
  const unitOfChat = new Map<string, string>();
  for (const [unit, chats] of people.chatsByUnit) for (const c of chats) unitOfChat.set(c, unit);
  const openIds = [...new Set(reminders.flatMap((r) => (r.recipient.kind === 'person' ? [r.recipient.openId] : [])))];
  const names = new Map<string, string>();
  if (openIds.length > 0) {
    for (const u of await db.selectFrom('users').select(['open_id', 'name']).where('open_id', 'in', openIds).execute()) if (u.name) names.set(u.open_id, u.name);
  }
  const byRecipient = new Map<string, RecipientSummary>();
  for (const r of reminders) {
    const key = recipientKey(r.recipient);
    let entry = byRecipient.get(key);
    if (!entry) {
      const name = r.recipient.kind === 'chat' ? `工作群 ${r.recipient.chatId}（${unitOfChat.get(r.recipient.chatId) ?? '未绑定'}）` : `${names.get(r.recipient.openId) ?? '未知姓名'}（${r.recipient.openId}）`;
      entry = { recipient: key, name, items: [] };
      byRecipient.set(key, entry);
    }
    entry.items.push({ caseNo: cases.get(r.caseId)?.caseNo ?? String(r.caseId), rule: r.rule, why: r.why });
  }
  return [...byRecipient.values()].sort((a, b) => a.recipient.localeCompare(b.recipient));
}

/**
 * Runs the job as of `date`: on a rest day nothing; if the day's run is already in the ledger nothing; otherwise
 * one transaction takes the ledger, queues every card and records every reminder. A dry run writes nothing.
 */
export async function runReminderJob(deps: ReminderDeps, date: IsoDate, opts: RunOptions = {}): Promise<RemindSummary> {
  const dryRun = opts.dryRun ?? false;
  const empty = (status: RemindSummary['status']): RemindSummary => ({ date, status, dryRun, cards: 0, reminders: 0, muted: 0, byRule: {}, recipients: [], undeliverable: [] });
  if (!deps.calendar.isWorkday(date)) return empty('rest_day');

  const summarise = async (db: DbOrTrx, status: RemindSummary['status'], p: Awaited<ReturnType<typeof plan>>, cards: number): Promise<RemindSummary> => {
    const byRule: Partial<Record<ReminderRule, number>> = {};
    for (const r of p.result.reminders) byRule[r.rule] = (byRule[r.rule] ?? 0) + 1;
    return {
      date,
      status,
      dryRun,
      cards,
      reminders: p.result.reminders.length,
      muted: p.result.muted,
      byRule,
      recipients: await describeRecipients(db, p.result.reminders, p.cases, p.people),
      undeliverable: p.result.undeliverable.map((u) => ({ caseNo: p.cases.get(u.caseId)?.caseNo ?? String(u.caseId), rule: u.rule, reason: u.reason })),
    };
  };

  if (dryRun) {
    const p = await plan(deps, deps.db, date);
    return summarise(deps.db, 'dry_run', p, composeCards(date, p.result.reminders, p.cases).length);
  }

  const summary = await deps.db.transaction().execute(async (trx) => {
    if (!(await takeJobRun(trx, REMIND_JOB, date, opts.trigger ?? 'manual'))) return null;
    const p = await plan(deps, trx, date);
    const cards = composeCards(date, p.result.reminders, p.cases);
    for (const card of cards) {
      const recipient = recipientKey(card.recipient);
      const cardId = await insertReminderCard(trx, { runDate: date, kind: card.kind, recipient, part: card.part, parts: card.parts, caseId: card.caseId, urgent: card.urgent });
      const outboxId = await enqueueReminderCard(trx, cardId, reminderUuid(date, card.kind, recipient, card.part, card.caseId), recipient, card.urgent);
      await recordRemindersSent(
        trx,
        date,
        cardId,
        outboxId,
        card.reminders.map((r) => ({ caseId: r.caseId, rule: r.rule, recipient, workdaysLeft: r.workdaysLeft })),
      );
    }
    const s = await summarise(trx, 'sent', p, cards.length);
    await finishJobRun(trx, REMIND_JOB, date, { cards: s.cards, reminders: s.reminders, muted: s.muted, byRule: s.byRule, undeliverable: s.undeliverable.length });
    return s;
  });
  if (!summary) {
    deps.logger.info({ date }, 'reminders: the run of this day is already in the ledger; nothing sent');
    return empty('already_ran');
  }
  if (summary.cards > 0) {
    // The run just queued its cards in one go: let the planner see them before the sender starts claiming and drawing
    // them (the embedded database has no autovacuum to do it, and PostgreSQL's comes a minute later at best).
    await sql`analyze outbox, reminder_cards, reminders_sent`.execute(deps.db).catch((err: unknown) => deps.logger.warn({ err: String(err) }, 'reminders: could not refresh the planner statistics'));
  }
  for (const u of summary.undeliverable) {
    deps.logger.warn({ date, caseNo: u.caseNo, rule: u.rule, reason: u.reason }, 'reminders: nobody can be reminded of this case');
  }
  deps.logger.info({ date, cards: summary.cards, reminders: summary.reminders, muted: summary.muted, undeliverable: summary.undeliverable.length, byRule: summary.byRule }, 'reminders: queued the day\'s reminders');
  return summary;
}

/**
 * Draws a reminder card as it should look now. Before its first send, reminders whose case no longer needs them
 * are dropped (and marked so in the ledger), and a card left with nothing is not sent at all (null). Once sent,
 * a redraw shows what became of each listed case.
 */
export async function renderReminderCard(deps: RenderDeps, cardId: number): Promise<Card | null> {
  return (await renderReminderCards(deps, [cardId])).get(cardId) ?? null;
}

type RenderDeps = Pick<ReminderDeps, 'timeZone' | 'clocks' | 'today'> & { db: DbOrTrx };

/**
 * Draws several reminder cards at once, as renderReminderCard draws one, in a fixed number of queries whatever their
 * number (the sender draws the cards it is about to send together, so the database does not set the pace of a
 * morning's delivery). Cards that do not exist, or that are left with nothing to show, map to null.
 */
export async function renderReminderCards(deps: RenderDeps, cardIds: readonly number[]): Promise<Map<number, Card | null>> {
  const { db } = deps;
  const out = new Map<number, Card | null>();
  // Cleared before reading: a change committed from here on marks the card again and has it patched once sent.
  await clearRedrawMarks(db, cardIds);
  const records = await loadReminderCards(db, cardIds);
  if (records.size === 0) return new Map(cardIds.map((id) => [id, null]));
  const caseIds = new Set<number>();
  const persons = new Set<string>();
  for (const card of records.values()) {
    for (const r of card.reminders) caseIds.add(r.caseId);
    if (card.caseId) caseIds.add(card.caseId);
    if (card.recipient.startsWith('user:')) persons.add(card.recipient.slice(5));
  }
  const [caseRows, mutes] = await Promise.all([loadReminderCases(db, { timeZone: deps.timeZone, ids: [...caseIds] }), loadMutes(db, [...persons])]);
  const cases = new Map(caseRows.map((c) => [c.id, c]));
  const today0 = deps.today();
  const newlyDropped: string[] = [];

  for (const cardId of cardIds) {
    const card = records.get(cardId);
    if (!card) {
      out.set(cardId, null);
      continue;
    }
    const person = card.recipient.startsWith('user:') ? card.recipient.slice(5) : null;
    const recipient: Recipient = person ? { kind: 'person', openId: person } : { kind: 'chat', chatId: card.recipient.slice(5) };
    const today = today0 > card.runDate ? today0 : card.runDate;
    const firstSend = card.messageId === null;

    const live = card.reminders.filter((r) => !r.dropped);
    const needed = live.map((r) => ({ r, c: cases.get(r.caseId) ?? null, needed: stillNeeded({ rule: r.rule, recipient }, cases.get(r.caseId) ?? null, mutes, today) }));
    if (firstSend) for (const n of needed) if (!n.needed) newlyDropped.push(n.r.id);
    const shown = firstSend ? needed.filter((n) => n.needed) : needed;
    if (shown.length === 0) {
      out.set(cardId, null);
      continue;
    }

    if (card.kind === 'supervision') {
      const n = shown[0]!;
      const c = n.c;
      out.set(
        cardId,
        c
          ? buildSupervisionCard({
              cardId,
              date: card.runDate,
              caseId: c.id,
              caseNo: c.caseNo,
              title: c.title,
              kindLabel: c.kind,
              proposer: c.proposer,
              replyDueDate: c.replyDueDate,
              workdaysOverdue: -(n.r.workdaysLeft ?? -1),
              handlerName: c.handlerName,
              unit: c.unit,
              done: n.needed ? null : (doneLabel(n.r.rule, c) ?? '已处理'),
            })
          : null,
      );
      continue;
    }
    const items = shown.flatMap((n) => {
      if (!n.c) return [];
      const left = n.r.workdaysLeft === null ? null : deps.clocks.workdaysLeft(card.runDate, n.c.replyDueDate);
      return [itemView(n.c, n.r.rule, left, n.needed ? null : (doneLabel(n.r.rule, n.c) ?? '已处理'))];
    });
    out.set(cardId, buildDigestCard({ cardId, date: card.runDate, audience: person ? 'person' : 'chat', part: card.part, parts: card.parts, items }));
  }
  // Reminders no longer needed when their card first goes out are marked dropped in the ledger, all in one statement.
  await markRemindersDropped(db, newlyDropped);
  return out;
}

/** The rules and their wording, for the dry run's printout. */
export function describeRule(rule: ReminderRule): string {
  return RULE_LABELS[rule];
}

/** The summary as lines for a person reading the dry run or the log: per recipient what and why, then the unreachable. */
export function formatRemindSummary(s: RemindSummary, labels: Record<ReminderRule, string>): string[] {
  if (s.status === 'rest_day') return [`${s.date} 是休息日，不发送提醒。`];
  if (s.status === 'already_ran') return [`${s.date} 的提醒已经发送过（见运行记录），这次没有再发送。`];
  const lines = [
    s.dryRun
      ? `${s.date} 预览（未写入、未发送）：${s.recipients.length} 个接收方，${s.reminders} 条提醒，${s.cards} 张卡片`
      : `${s.date} 已排入发送队列：${s.recipients.length} 个接收方，${s.reminders} 条提醒，${s.cards} 张卡片`,
  ];
  for (const r of s.recipients) {
    lines.push(`${r.name}：`);
    for (const i of r.items) lines.push(`  ${i.caseNo} ${labels[i.rule]} — ${i.why}`);
  }
  if (s.muted > 0) lines.push(`已关闭提醒而未发送：${s.muted} 条`);
  if (s.undeliverable.length > 0) {
    lines.push(`无人可提醒（请处理）：${s.undeliverable.length} 条`);
    for (const u of s.undeliverable) lines.push(`  ${u.caseNo} ${labels[u.rule]} — ${u.reason}`);
  }
  if (s.reminders === 0 && s.undeliverable.length === 0) lines.push('今天没有需要提醒的事项。');
  return lines;
}
