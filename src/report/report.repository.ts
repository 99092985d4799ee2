import type { ContactRecord, FollowUpRecord, RatingRecord, ReplyRecord, ReportCase } from '../domain/report.ts';
import type { CaseKind, CaseStatus, Disclosure, OurRole, Rating } from '../domain/types.ts';
import type { DbOrTrx } from '../storage/database.ts';

// The report's typed records, read from the tables the workflow writes (replies, ratings, contacts, follow-ups),
// never from the timeline's prose. Five queries whatever the number of cases.

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

/** Every case of the year (and kind, and unit when given) with its contacts, replies, ratings and follow-ups. */
export async function loadReportRecords(db: DbOrTrx, filter: RecordFilter): Promise<ReportCase[]> {
  const ids = () => {
    let sub = db.selectFrom('cases').select('cases.id').where('cases.year', '=', filter.year);
    if (filter.kind) sub = sub.where('cases.kind', '=', filter.kind);
    if (filter.unit) sub = sub.where('cases.unit', '=', filter.unit);
    return sub;
  };
  let cases = db
    .selectFrom('cases')
    .leftJoin('users', 'users.open_id', 'cases.handler_open_id')
    .select([
      'cases.id',
      'cases.case_no',
      'cases.kind',
      'cases.year',
      'cases.title',
      'cases.proposer',
      'cases.role_label',
      'cases.role',
      'cases.unit',
      'cases.handler_open_id',
      'users.name as handler_name',
      'cases.assigned_date',
      'cases.reply_due_date',
      'cases.disclosure',
      'cases.status',
    ])
    .where('cases.year', '=', filter.year);
  if (filter.kind) cases = cases.where('cases.kind', '=', filter.kind);
  if (filter.unit) cases = cases.where('cases.unit', '=', filter.unit);

  const [caseRows, contacts, replies, ratings, followUps] = await Promise.all([
    cases.orderBy('cases.id').execute(),
    db.selectFrom('contacts').select(['case_id', 'round', 'contact_date']).where('case_id', 'in', ids()).execute(),
    db
      .selectFrom('replies')
      .select(['case_id', 'round', 'kind', 'reply_date', 'result_class', 'disclosure', 'due_date'])
      .where('case_id', 'in', ids())
      .execute(),
    db.selectFrom('ratings').select(['case_id', 'round', 'rating', 'rated_date']).where('case_id', 'in', ids()).execute(),
    db
      .selectFrom('follow_ups')
      .select(['case_id', 'round', 'outcome', 'follow_up_date', 'note'])
      .where('case_id', 'in', ids())
      .orderBy('id')
      .execute(),
  ]);

  const contactsOf = new Map<number, ContactRecord[]>();
  for (const r of contacts) pushTo(contactsOf, r.case_id, { round: r.round, date: r.contact_date });
  const repliesOf = new Map<number, ReplyRecord[]>();
  for (const r of replies) {
    pushTo(repliesOf, r.case_id, {
      round: r.round,
      kind: r.kind,
      date: r.reply_date,
      resultClass: r.result_class,
      disclosure: r.disclosure as Disclosure | null,
      dueDate: r.due_date,
    });
  }
  const ratingsOf = new Map<number, RatingRecord[]>();
  for (const r of ratings) pushTo(ratingsOf, r.case_id, { round: r.round, rating: r.rating as Rating, date: r.rated_date });
  const followUpsOf = new Map<number, FollowUpRecord[]>();
  for (const r of followUps) pushTo(followUpsOf, r.case_id, { round: r.round, outcome: r.outcome, date: r.follow_up_date, note: r.note });

  return caseRows.map((r) => ({
    caseNo: r.case_no,
    kind: r.kind as CaseKind,
    year: r.year,
    title: r.title,
    proposer: r.proposer,
    roleLabel: r.role_label,
    role: r.role as OurRole,
    unit: r.unit,
    handlerName: r.handler_open_id ? (r.handler_name ?? `用户${r.handler_open_id.slice(-4)}`) : null,
    assignedDate: r.assigned_date,
    replyDueDate: r.reply_due_date,
    disclosure: r.disclosure as Disclosure | null,
    status: r.status as CaseStatus,
    contacts: contactsOf.get(r.id) ?? [],
    replies: repliesOf.get(r.id) ?? [],
    ratings: ratingsOf.get(r.id) ?? [],
    followUps: followUpsOf.get(r.id) ?? [],
  }));
}

/** The years that have cases, newest first (for "no year given" and for hints). */
export async function reportYears(db: DbOrTrx): Promise<number[]> {
  const rows = await db.selectFrom('cases').select('year').distinct().orderBy('year', 'desc').execute();
  return rows.map((r) => r.year);
}
