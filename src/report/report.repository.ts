import { sql, type RawBuilder } from 'kysely';
import type { ContactRecord, FollowUpRecord, RatingRecord, ReplyRecord, ReportCase } from '../domain/report.ts';
import type { CaseKind, CaseStatus, Disclosure, OurRole, Rating } from '../domain/types.ts';
import type { DbOrTrx } from '../storage/database.ts';

// The report's typed records, read from the tables the workflow writes (replies, ratings, contacts, follow-ups),
// never from the timeline's prose.

export interface RecordFilter {
  year: number;
  kind?: CaseKind | null;
  unit?: string | null;
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

type Row = readonly unknown[];

/**
 * Every case of the year (and kind, and unit when given) with its contacts, replies, ratings and follow-ups. One
 * statement, each record list aggregated to JSON: on the embedded database decoding ten thousand rows column by
 * column costs seconds, one JSON text per list a fraction of that.
 */
export async function loadReportRecords(db: DbOrTrx, filter: RecordFilter): Promise<ReportCase[]> {
  const where = sql.join(
    [
      sql`c.year = ${filter.year}`,
      ...(filter.kind ? [sql`c.kind = ${filter.kind}`] : []),
      ...(filter.unit ? [sql`c.unit = ${filter.unit}`] : []),
    ],
    sql` and `,
  );
  const list = (columns: RawBuilder<unknown>, from: RawBuilder<unknown>) =>
    sql`(select coalesce(json_agg(json_build_array(${columns})), '[]')::text from ${from} where ${where})`;
  const { rows } = await sql<{ cases: string; contacts: string; replies: string; ratings: string; follow_ups: string }>`
    select
      ${list(
        sql`c.id, c.case_no, c.kind, c.year, c.title, c.proposer, c.role_label, c.role, c.unit, c.handler_open_id, u.name,
            c.assigned_date, c.reply_due_date, c.disclosure, c.status`,
        sql`cases c left join users u on u.open_id = c.handler_open_id`,
      )} as cases,
      ${list(sql`k.case_id, k.round, k.contact_date`, sql`contacts k join cases c on c.id = k.case_id`)} as contacts,
      ${list(
        sql`r.case_id, r.round, r.kind, r.reply_date, r.result_class, r.disclosure, r.due_date`,
        sql`replies r join cases c on c.id = r.case_id`,
      )} as replies,
      ${list(sql`r.case_id, r.round, r.rating, r.rated_date`, sql`ratings r join cases c on c.id = r.case_id`)} as ratings,
      ${list(
        sql`f.id, f.case_id, f.round, f.outcome, f.follow_up_date, f.note`,
        sql`follow_ups f join cases c on c.id = f.case_id`,
      )} as follow_ups`.execute(db);
  const r = rows[0];
  if (!r) return [];
  const parse = (text: string) => JSON.parse(text) as Row[];

  const contactsOf = new Map<number, ContactRecord[]>();
  for (const [caseId, round, date] of parse(r.contacts)) pushTo(contactsOf, caseId as number, { round: round as number, date: date as string });
  const repliesOf = new Map<number, ReplyRecord[]>();
  for (const [caseId, round, kind, date, resultClass, disclosure, dueDate] of parse(r.replies)) {
    pushTo(repliesOf, caseId as number, {
      round: round as number,
      kind: kind as 'reply' | 'opinion',
      date: date as string,
      resultClass: resultClass as string | null,
      disclosure: disclosure as Disclosure | null,
      dueDate: dueDate as string,
    });
  }
  const ratingsOf = new Map<number, RatingRecord[]>();
  for (const [caseId, round, rating, date] of parse(r.ratings)) pushTo(ratingsOf, caseId as number, { round: round as number, rating: rating as Rating, date: date as string });
  const followUpsOf = new Map<number, FollowUpRecord[]>();
  // In the order they were recorded.
  for (const [, caseId, round, outcome, date, note] of parse(r.follow_ups).sort((a, b) => (a[0] as number) - (b[0] as number))) {
    pushTo(followUpsOf, caseId as number, { round: round as number, outcome: outcome as FollowUpRecord['outcome'], date: date as string, note: note as string });
  }

  return parse(r.cases)
    .sort((a, b) => (a[0] as number) - (b[0] as number))
    .map(([id, caseNo, kind, year, title, proposer, roleLabel, role, unit, handlerOpenId, handlerName, assignedDate, replyDueDate, disclosure, status]) => ({
      caseNo: caseNo as string,
      kind: kind as CaseKind,
      year: year as number,
      title: title as string,
      proposer: proposer as string,
      roleLabel: roleLabel as string,
      role: role as OurRole,
      unit: unit as string | null,
      handlerName: handlerOpenId ? ((handlerName as string | null) ?? `用户${(handlerOpenId as string).slice(-4)}`) : null,
      assignedDate: assignedDate as string,
      replyDueDate: replyDueDate as string,
      disclosure: disclosure as Disclosure | null,
      status: status as CaseStatus,
      contacts: contactsOf.get(id as number) ?? [],
      replies: repliesOf.get(id as number) ?? [],
      ratings: ratingsOf.get(id as number) ?? [],
      followUps: followUpsOf.get(id as number) ?? [],
    }));
}

/** The years that have cases, newest first (for "no year given" and for hints). */
export async function reportYears(db: DbOrTrx): Promise<number[]> {
  const rows = await db.selectFrom('cases').select('year').distinct().orderBy('year', 'desc').execute();
  return rows.map((r) => r.year);
}
