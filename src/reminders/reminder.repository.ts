import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Mutes, ReminderCase, ReminderPeople, ReminderRule } from '../domain/reminders.ts';
import { PROMISE_CLASS, type CaseKind, type CaseStatus, type IsoDate, type OurRole } from '../domain/types.ts';
import { enqueuePatches, PATCHABLE_SINCE, targetColumns, type Target } from '../lark/outbox.ts';
import type { DbOrTrx } from '../storage/database.ts';

// SQL of the reminder job: the cases as the rules see them, the people and chats, mutes, the run ledger, the
// reminder cards and the record of each reminder sent. Nothing here decides.

/** A case as the reminder rules and the reminder cards need it. */
export interface ReminderCaseRow extends ReminderCase {
  proposer: string;
  handlerName: string | null;
}

/**
 * The cases the rules look at: every case not adjusted away, and not closed unless it carries a promise of class
 * B (正在解决或列入计划) (a closed B-class case still has its promise followed up). `ids` narrows it to some cases.
 */
export async function loadReminderCases(db: DbOrTrx, opts: { timeZone: string; ids?: readonly number[] }): Promise<ReminderCaseRow[]> {
  if (opts.ids && opts.ids.length === 0) return [];
  let q = db
    .selectFrom('cases')
    .leftJoin('users', 'users.open_id', 'cases.handler_open_id')
    .select([
      'cases.id', 'cases.case_no', 'cases.title', 'cases.kind', 'cases.role', 'cases.status', 'cases.handler_open_id', 'cases.unit',
      'cases.assigned_date', 'cases.reply_due_date', 'cases.round', 'cases.proposer', 'users.name as handler_name',
    ]);
  if (opts.ids) {
    q = q.where('cases.id', 'in', [...opts.ids]);
  } else {
    q = q.where('cases.status', '!=', 'adjusted').where((eb) =>
      eb.or([
        eb('cases.status', '!=', 'closed'),
        eb.exists(
          eb.selectFrom('replies').select(sql`1`.as('one')).whereRef('replies.case_id', '=', 'cases.id').where('replies.kind', '=', 'reply').where('replies.result_class', '=', PROMISE_CLASS),
        ),
      ]),
    );
  }
  const rows = await q.orderBy('cases.id').execute();
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  // Whole-table reads filtered in memory when the job looks at every open case; by id when one card is redrawn.
  const byIds = <T extends { where: (...a: any[]) => T }>(query: T, column: string): T => (opts.ids ? query.where(column, 'in', ids) : query);
  const [contacts, replies, ratings, followUps, extensions, adjustments] = await Promise.all([
    byIds(db.selectFrom('contacts').select((eb) => ['case_id', eb.fn.countAll<number>().as('n')]).groupBy('case_id'), 'case_id').execute(),
    byIds(db.selectFrom('replies').select(['case_id', 'round', 'kind', 'reply_date', 'result_class', 'id']).orderBy('id'), 'case_id').execute(),
    byIds(db.selectFrom('ratings').select(['case_id', 'round']), 'case_id').execute(),
    byIds(db.selectFrom('follow_ups').select(['case_id', 'round', 'outcome', 'follow_up_date']), 'case_id').execute(),
    byIds(
      db.selectFrom('extension_requests').select(['case_id', sql<string>`to_char(requested_at at time zone ${opts.timeZone}, 'YYYY-MM-DD')`.as('day')]).where('status', '=', 'pending'),
      'case_id',
    ).execute(),
    byIds(
      db.selectFrom('adjustment_requests').select(['case_id', sql<string>`to_char(requested_at at time zone ${opts.timeZone}, 'YYYY-MM-DD')`.as('day')]).where('status', '=', 'pending'),
      'case_id',
    ).execute(),
  ]);
  const contactCount = new Map(contacts.map((c) => [c.case_id, Number(c.n)]));
  const rated = new Set(ratings.map((r) => `${r.case_id}:${r.round}`));
  const repliesOf = group(replies, (r) => r.case_id);
  const followUpsOf = group(followUps, (f) => f.case_id);
  const requestsOf = new Map<number, { kind: 'extension' | 'adjustment'; requestedDate: IsoDate }[]>();
  for (const [kind, list] of [['extension', extensions], ['adjustment', adjustments]] as const) {
    for (const r of list) {
      const entry = requestsOf.get(r.case_id) ?? [];
      entry.push({ kind, requestedDate: r.day });
      requestsOf.set(r.case_id, entry);
    }
  }
  return rows.map((r) => {
    const own = (repliesOf.get(r.id) ?? []).filter((x) => x.kind === 'reply');
    const current = own.filter((x) => x.round === r.round).at(-1) ?? null;
    const promiseReply = own.filter((x) => x.result_class === PROMISE_CLASS).at(-1) ?? null;
    let promise: ReminderCase['promise'] = null;
    if (promiseReply) {
      const later = (followUpsOf.get(r.id) ?? []).filter((f) => f.round >= promiseReply.round);
      const last = later.map((f) => f.follow_up_date).sort().at(-1) ?? null;
      promise = { replyDate: promiseReply.reply_date, lastFollowUpDate: last, kept: later.some((f) => f.outcome === 'kept') };
    }
    return {
      id: r.id,
      caseNo: r.case_no,
      title: r.title,
      kind: r.kind as CaseKind,
      role: r.role as OurRole,
      status: r.status as CaseStatus,
      handlerOpenId: r.handler_open_id,
      handlerName: r.handler_open_id ? (r.handler_name ?? `用户${r.handler_open_id.slice(-4)}`) : null,
      unit: r.unit,
      assignedDate: r.assigned_date,
      replyDueDate: r.reply_due_date,
      proposer: r.proposer,
      contactCount: contactCount.get(r.id) ?? 0,
      lastReply: current ? { date: current.reply_date, resultClass: current.result_class, rated: rated.has(`${r.id}:${r.round}`) } : null,
      promise,
      pendingRequests: requestsOf.get(r.id) ?? [],
    };
  });
}

function group<T, K>(items: readonly T[], key: (t: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/** Coordinators (stored roles and the configured first ones), leaders, and the chats bound to each unit. */
export async function loadReminderPeople(db: DbOrTrx, admins: readonly string[]): Promise<ReminderPeople> {
  const [roles, chats] = await Promise.all([
    db.selectFrom('user_roles').select(['open_id', 'role']).orderBy('open_id').execute(),
    db.selectFrom('chats').select(['chat_id', 'unit']).where('unit', 'is not', null).orderBy('chat_id').execute(),
  ]);
  const chatsByUnit = new Map<string, string[]>();
  for (const c of chats) {
    if (!c.unit) continue;
    chatsByUnit.set(c.unit, [...(chatsByUnit.get(c.unit) ?? []), c.chat_id]);
  }
  return {
    coordinators: [...new Set([...admins, ...roles.filter((r) => r.role === 'coordinator').map((r) => r.open_id)])],
    leaders: roles.filter((r) => r.role === 'leader').map((r) => r.open_id),
    chatsByUnit,
  };
}

export async function loadMutes(db: DbOrTrx, openIds?: readonly string[]): Promise<Mutes> {
  if (openIds && openIds.length === 0) return { all: new Set(), cases: new Map() };
  let q = db.selectFrom('reminder_mutes').select(['open_id', 'case_id']);
  if (openIds) q = q.where('open_id', 'in', [...openIds]);
  const rows = await q.execute();
  const all = new Set<string>();
  const cases = new Map<string, Set<number>>();
  for (const r of rows) {
    if (r.case_id === null) all.add(r.open_id);
    else cases.set(r.open_id, (cases.get(r.open_id) ?? new Set()).add(r.case_id));
  }
  return { all, cases };
}

/** Mutes (case id, or null for every case) for a person; true when it was not muted already. */
export async function addMute(db: DbOrTrx, openId: string, caseId: number | null): Promise<boolean> {
  const res = await sql`insert into reminder_mutes (open_id, case_id) values (${openId}, ${caseId}) on conflict do nothing`.execute(db);
  const added = Number(res.numAffectedRows ?? 0) > 0;
  // A card of theirs already on its way shows the muted case done once it has arrived.
  if (added) await markUnsentReminderCards(db, { recipient: `user:${openId}` });
  return added;
}

/** Removes a mute; `caseId` null lifts the mute of every case and each single-case mute too. Returns how many were lifted. */
export async function removeMutes(db: DbOrTrx, openId: string, caseId: number | null): Promise<number> {
  let q = db.deleteFrom('reminder_mutes').where('open_id', '=', openId);
  if (caseId !== null) q = q.where('case_id', '=', caseId);
  const res = await q.executeTakeFirst();
  return Number(res.numDeletedRows);
}

export async function mutesOf(db: DbOrTrx, openId: string): Promise<{ all: boolean; caseNos: string[] }> {
  const rows = await db
    .selectFrom('reminder_mutes')
    .leftJoin('cases', 'cases.id', 'reminder_mutes.case_id')
    .select(['reminder_mutes.case_id', 'cases.case_no'])
    .where('reminder_mutes.open_id', '=', openId)
    .orderBy('cases.case_no')
    .execute();
  return { all: rows.some((r) => r.case_id === null), caseNos: rows.flatMap((r) => (r.case_no ? [r.case_no] : [])) };
}

// ---- the run ledger -------------------------------------------------------------------------------------------

/**
 * Takes the (job, date) run inside the caller's transaction, or returns false when it was taken already. The
 * advisory lock makes a second instance wait for the first one's transaction and then see its row; the primary key
 * would refuse a second run by itself, the lock keeps the loser from doing the work before finding out.
 */
export async function takeJobRun(trx: DbOrTrx, job: string, date: IsoDate, trigger: string): Promise<boolean> {
  await sql`select pg_advisory_xact_lock(hashtext(${`banli:job:${job}`}))`.execute(trx);
  const res = await trx
    .insertInto('job_runs')
    .values({ job, run_date: date, trigger })
    .onConflict((oc) => oc.columns(['job', 'run_date']).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function finishJobRun(trx: DbOrTrx, job: string, date: IsoDate, summary: Record<string, unknown>): Promise<void> {
  await trx.updateTable('job_runs').set({ finished_at: new Date(), summary: JSON.stringify(summary) }).where('job', '=', job).where('run_date', '=', date).execute();
}

export async function jobRanOn(db: DbOrTrx, job: string, date: IsoDate): Promise<boolean> {
  return !!(await db.selectFrom('job_runs').select('job').where('job', '=', job).where('run_date', '=', date).executeTakeFirst());
}

// ---- reminder cards and the reminders they carry ---------------------------------------------------------------

/** Lark's idempotency key of a reminder card: the same card of the same day always gets the same one (≤ 50 chars). */
export function reminderUuid(date: IsoDate, kind: 'digest' | 'supervision', recipient: string, part: number, caseId: number | null): string {
  const hash = createHash('sha256').update(`${kind}|${recipient}|${part}|${caseId ?? 0}`).digest('hex').slice(0, 28);
  return `rm${date.replaceAll('-', '')}${kind === 'digest' ? 'd' : 's'}${hash}`;
}

export interface NewReminderCard {
  runDate: IsoDate;
  kind: 'digest' | 'supervision';
  recipient: string;
  part: number;
  parts: number;
  caseId: number | null;
  urgent: boolean;
}

export async function insertReminderCard(trx: DbOrTrx, card: NewReminderCard): Promise<number> {
  const row = await trx
    .insertInto('reminder_cards')
    .values({ run_date: card.runDate, kind: card.kind, recipient: card.recipient, part: card.part, parts: card.parts, case_id: card.caseId, urgent: card.urgent })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Queues the outbox row of a reminder card with its deterministic uuid; returns the row id. */
export async function enqueueReminderCard(trx: DbOrTrx, cardId: number, uuid: string, recipient: string, urgent = false): Promise<string> {
  const row = await trx
    .insertInto('outbox')
    .values({
      uuid,
      ...targetColumns(recipientTarget(recipient)),
      msg_type: 'interactive',
      content: JSON.stringify({ kind: 'reminder_card', cardId, urgent }),
      case_id: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return String(row.id);
}

/** Where a reminder card's recipient (user:<open_id> or chat:<chat_id>) is sent. */
function recipientTarget(recipient: string): Target {
  return recipient.startsWith('user:') ? { openId: recipient.slice(5) } : { chatId: recipient.slice(5) };
}

export interface SentReminder {
  caseId: number;
  rule: ReminderRule;
  recipient: string;
  workdaysLeft: number | null;
}

export async function recordRemindersSent(trx: DbOrTrx, runDate: IsoDate, cardId: number, outboxId: string, reminders: readonly SentReminder[]): Promise<void> {
  if (reminders.length === 0) return;
  await trx
    .insertInto('reminders_sent')
    .values(reminders.map((r) => ({ run_date: runDate, case_id: r.caseId, rule: r.rule, recipient: r.recipient, card_id: cardId, outbox_id: outboxId, workdays_left: r.workdaysLeft })))
    .execute();
}

export interface ReminderCardRecord {
  id: number;
  runDate: IsoDate;
  kind: 'digest' | 'supervision';
  recipient: string;
  part: number;
  parts: number;
  caseId: number | null;
  urgent: boolean;
  messageId: string | null;
  reminders: CardReminder[];
}

export async function loadReminderCard(db: DbOrTrx, cardId: number): Promise<ReminderCardRecord | undefined> {
  return (await loadReminderCards(db, [cardId])).get(cardId);
}

/** A reminder on a card as the card's redraw needs it: its ledger row, and whether it was dropped before the send. */
export interface CardReminder extends SentReminder {
  id: string;
  dropped: boolean;
}

/** Several reminder cards with their reminders (in the order they were recorded), in two queries. */
export async function loadReminderCards(db: DbOrTrx, cardIds: readonly number[]): Promise<Map<number, ReminderCardRecord>> {
  const out = new Map<number, ReminderCardRecord>();
  const ids = [...new Set(cardIds)];
  if (ids.length === 0) return out;
  const [cards, items] = await Promise.all([
    db.selectFrom('reminder_cards').selectAll().where('id', 'in', ids).execute(),
    db.selectFrom('reminders_sent').select(['id', 'card_id', 'case_id', 'rule', 'recipient', 'workdays_left', 'dropped_at']).where('card_id', 'in', ids).orderBy('id').execute(),
  ]);
  for (const card of cards) {
    out.set(card.id, {
      id: card.id,
      runDate: card.run_date,
      kind: card.kind,
      recipient: card.recipient,
      part: card.part,
      parts: card.parts,
      caseId: card.case_id,
      urgent: card.urgent,
      messageId: card.message_id,
      reminders: [],
    });
  }
  for (const i of items) {
    out.get(i.card_id)?.reminders.push({ id: String(i.id), caseId: i.case_id, rule: i.rule as ReminderRule, recipient: i.recipient, workdaysLeft: i.workdays_left, dropped: i.dropped_at !== null });
  }
  return out;
}

/** Marks reminders (ledger row ids) as dropped: their case no longer needed them when their card first went out. */
export async function markRemindersDropped(db: DbOrTrx, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('reminders_sent').set({ dropped_at: new Date() }).where('id', 'in', [...ids]).where('dropped_at', 'is', null).execute();
}

/**
 * Records the message a reminder card went out as, in the transaction that marks its outbox row sent. When a case it
 * lists changed after the card was drawn (marked by enqueueReminderCardUpdates or addMute), the card is patched now.
 */
export async function rememberReminderCardMessage(db: DbOrTrx, cardId: number, messageId: string): Promise<void> {
  const card = await db
    .updateTable('reminder_cards')
    .set({ message_id: messageId })
    .where('id', '=', cardId)
    .where('message_id', 'is', null)
    .returning(['id', 'recipient', 'redraw'])
    .executeTakeFirst();
  if (card?.redraw) await enqueueReminderCardPatches(db, [{ id: card.id, message_id: messageId, recipient: card.recipient }], null);
}

/**
 * Marks every card of `recipient` not yet recorded as sent (waiting in the outbox, or on its way to Lark): if one was
 * drawn before the change, it is patched once Lark has it. (A change to a case marks that case's cards the same way,
 * in enqueueReminderCardUpdates.)
 */
async function markUnsentReminderCards(db: DbOrTrx, by: { recipient: string }): Promise<void> {
  await db.updateTable('reminder_cards').set({ redraw: true }).where('message_id', 'is', null).where('redraw', '=', false).where('recipient', '=', by.recipient).execute();
}

/** Clears the marks of cards about to be drawn for their first send: the drawing that follows sees every change so far. */
export async function clearRedrawMarks(db: DbOrTrx, cardIds: readonly number[]): Promise<void> {
  if (cardIds.length === 0) return;
  await db.updateTable('reminder_cards').set({ redraw: false }).where('id', 'in', [...cardIds]).where('message_id', 'is', null).where('redraw', '=', true).execute();
}

/**
 * Queues a redraw of every reminder card sent in the last 14 days that lists this case (Lark patches no older card),
 * except `answeredMessageId`: the card a click was made on, which Lark redraws from the click's answer.
 */
export async function enqueueReminderCardUpdates(db: DbOrTrx, caseId: number, answeredMessageId?: string): Promise<number> {
  // One statement: the cards listing the case (a supervision card names it, a digest lists it through reminders_sent;
  // both looked up by index), the ones still on their way to Lark marked for a redraw once they arrive (as
  // markUnsentReminderCards does), and the ones Lark has returned, to patch now. (The ledger's bound is a day wider
  // than the cards': it only narrows the index scan, and must never cut off a card's own rows.)
  const { rows } = await sql<{ id: number; message_id: string | null; recipient: string; slipped: boolean }>`
    with listing as (
      select rc.id, rc.message_id, rc.recipient, rc.redraw
      from reminder_cards rc
      where rc.created_at > ${PATCHABLE_SINCE}
        and rc.id in (
          select id from reminder_cards where case_id = ${caseId} and created_at > ${PATCHABLE_SINCE}
          union
          select card_id from reminders_sent where case_id = ${caseId} and created_at > now() - interval '15 days')
    ),
    marked as (
      update reminder_cards set redraw = true
      where id in (select id from listing where message_id is null and not redraw) and message_id is null and redraw = false
      returning id
    )
    select l.id, l.message_id, l.recipient,
      (l.message_id is null and not l.redraw and l.id not in (select id from marked)) as slipped
    from listing l order by l.id`.execute(db);
  const sent = rows.filter((r): r is typeof r & { message_id: string } => r.message_id !== null);
  // A card whose message id was recorded while this statement ran is neither marked (it has its id now) nor seen as
  // sent (not in this statement's snapshot): read it again, so it is patched all the same.
  const slipped = rows.filter((r) => r.slipped).map((r) => r.id);
  if (slipped.length > 0) {
    sent.push(...(await db.selectFrom('reminder_cards').select(['id', 'message_id', 'recipient']).where('id', 'in', slipped).where('message_id', 'is not', null).execute()).map((r) => ({ ...r, message_id: r.message_id!, slipped: false })));
  }
  const cards = sent.filter((c) => c.message_id !== answeredMessageId);
  await enqueueReminderCardPatches(db, cards, caseId);
  return cards.length;
}

/** Queues redraws of sent reminder cards, behind each card's own send in its recipient's queue. */
function enqueueReminderCardPatches(db: DbOrTrx, cards: readonly { id: number; message_id: string; recipient: string }[], caseId: number | null): Promise<void> {
  return enqueuePatches(
    db,
    cards.map((c) => ({
      messageId: c.message_id,
      chatKey: targetColumns(recipientTarget(c.recipient)).chat_key,
      card: { kind: 'reminder_card', cardId: c.id },
      caseId,
    })),
  );
}

/** How many reminders of a run date each rule sent (for the summary and the metrics). */
export async function remindersSentOn(db: DbOrTrx, runDate: IsoDate): Promise<{ caseId: number; rule: ReminderRule; recipient: string }[]> {
  const rows = await db.selectFrom('reminders_sent').select(['case_id', 'rule', 'recipient']).where('run_date', '=', runDate).orderBy('id').execute();
  return rows.map((r) => ({ caseId: r.case_id, rule: r.rule as ReminderRule, recipient: r.recipient }));
}

/** The reminders a recipient got on a run date (those delivered, not dropped), with their case numbers. */
export async function remindersOf(db: DbOrTrx, recipient: string, runDate: IsoDate): Promise<{ caseNo: string; rule: ReminderRule }[]> {
  const rows = await db
    .selectFrom('reminders_sent')
    .innerJoin('cases', 'cases.id', 'reminders_sent.case_id')
    .select(['cases.case_no', 'reminders_sent.rule'])
    .where('reminders_sent.recipient', '=', recipient)
    .where('reminders_sent.run_date', '=', runDate)
    .where('reminders_sent.dropped_at', 'is', null)
    .orderBy('reminders_sent.id')
    .execute();
  return rows.map((r) => ({ caseNo: r.case_no, rule: r.rule as ReminderRule }));
}
