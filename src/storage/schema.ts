import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { TimelineFact } from '../domain/timeline.ts';

// Table types for Kysely. Dates (`date` columns) are YYYY-MM-DD strings on both drivers (see database.ts).

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface UsersTable {
  open_id: string;
  name: string | null;
  name_fetched_at: Date | null;
  created_at: Generated<Date>;
}

export interface UserRolesTable {
  open_id: string;
  role: 'coordinator' | 'leader';
  granted_by: string | null;
  granted_at: Timestamp;
}

export interface ChatsTable {
  chat_id: string;
  unit: string | null;
  bound_by: string | null;
  bound_at: Date | null;
  created_at: Generated<Date>;
}

export interface CasesTable {
  id: Generated<number>;
  kind: string;
  year: number;
  case_no: string;
  session: string;
  title: string;
  proposer: string;
  role_label: string;
  role: string;
  lead_unit: string;
  assisting_units: Json<string[]>;
  unit: string | null;
  assigned_date: string;
  fixed_due_date: string | null;
  reply_due_date: string;
  disclosure: string | null;
  status: string;
  handler_open_id: string | null;
  round: Generated<number>;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface CaseEventsTable {
  id: Generated<string>;
  case_id: number;
  at: Timestamp;
  actor_open_id: string | null;
  type: string;
  before: Json<Record<string, unknown>> | null;
  after: Json<Record<string, unknown>> | null;
  /** What happened, as typed facts; the Chinese line is rendered when shown (src/domain/timeline.ts). */
  facts: Json<TimelineFact>;
}

export interface ContactsTable {
  id: Generated<number>;
  case_id: number;
  round: number;
  contact_date: string;
  method: string;
  who: string;
  note: string;
  recorded_by: string;
  recorded_at: Timestamp;
}

export interface RepliesTable {
  id: Generated<number>;
  case_id: number;
  round: number;
  kind: 'reply' | 'opinion';
  reply_date: string;
  result_class: string | null;
  disclosure: string | null;
  note: ColumnType<string, string | undefined, string>;
  due_date: string;
  recorded_by: string;
  recorded_at: Timestamp;
}

export interface RatingsTable {
  id: Generated<number>;
  case_id: number;
  round: number;
  rating: string;
  rated_date: string;
  entered_by: string;
  entered_at: Timestamp;
}

interface RequestColumns {
  id: Generated<number>;
  case_id: number;
  requested_by: string;
  requested_at: Timestamp;
  reason: string;
  status: 'pending' | 'approved' | 'refused' | 'withdrawn';
  decided_by: string | null;
  decided_at: Date | null;
  decision_note: string | null;
}

export interface ExtensionRequestsTable extends RequestColumns {
  until_date: string;
  previous_due_date: string;
}

export type AdjustmentRequestsTable = RequestColumns;

/** 回头看 of a B-class reply: checked (still in progress), kept (promise fulfilled, done), changed (promise adjusted and
 *  explained to the deputy). */
export interface FollowUpsTable {
  id: Generated<number>;
  case_id: number;
  round: number;
  outcome: 'checked' | 'kept' | 'changed';
  follow_up_date: string;
  note: string;
  recorded_by: string;
  recorded_at: Timestamp;
}

/** One run of a daily job: taken once per (job, date), in the transaction that queues everything it sends. */
export interface JobRunsTable {
  job: string;
  run_date: string;
  started_at: Generated<Date>;
  finished_at: Date | null;
  /** 'schedule' (the cron time), 'catch-up' (at start, later the same day), 'manual' (CLI or sandbox). */
  trigger: string;
  summary: Json<Record<string, unknown>> | null;
}

/** A card carrying reminders: one digest (or one part of a split digest) per recipient per day, or one 督办 card. */
export interface ReminderCardsTable {
  id: Generated<number>;
  run_date: string;
  kind: 'digest' | 'supervision';
  /** user:<open_id> or chat:<chat_id>. */
  recipient: string;
  part: number;
  parts: number;
  case_id: number | null;
  urgent: ColumnType<boolean, boolean | undefined, boolean>;
  message_id: string | null;
  /** A case it lists changed while the card was not yet recorded as sent: patch it once it is. */
  redraw: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Generated<Date>;
}

/** Each reminder sent: recorded with its outbox row, in one transaction. */
export interface RemindersSentTable {
  id: Generated<string>;
  run_date: string;
  case_id: number;
  rule: string;
  recipient: string;
  card_id: number;
  outbox_id: string;
  workdays_left: number | null;
  /** The case no longer needed it when its card went out, so it was left off (not delivered). */
  dropped_at: Date | null;
  created_at: Generated<Date>;
}

/** A person's mute of their own reminders: one case, or every case (case_id null). 督办 ignores it. */
export interface ReminderMutesTable {
  id: Generated<number>;
  open_id: string;
  case_id: number | null;
  created_at: Generated<Date>;
}

/** Every verified Lark event, stored before Lark got its answer; handled_at NULL = still to do. */
export interface InboxTable {
  id: Generated<number>;
  event_id: string;
  event_type: string;
  chat_key: string;
  payload: Json<unknown>;
  click_key: string | null;
  received_at: Generated<Date>;
  lease_owner: string | null;
  lease_until: Date | null;
  attempts: Generated<number>;
  handled_at: Date | null;
  answer: Json<unknown> | null;
  last_error: string | null;
}

export interface OutboxTable {
  id: Generated<string>;
  uuid: string;
  op: 'create' | 'reply' | 'patch';
  receive_id: string | null;
  receive_id_type: string | null;
  reply_to: string | null;
  patch_message_id: string | null;
  /** The chat the message lands in (or the message id when unknown), for per-chat rate limits. */
  chat_key: string;
  msg_type: string;
  content: Json<unknown>;
  case_id: number | null;
  status: ColumnType<'pending' | 'sent' | 'failed', 'pending' | 'sent' | 'failed' | undefined, 'pending' | 'sent' | 'failed'>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  locked_until: Date | null;
  last_error: string | null;
  message_id: string | null;
  created_at: Generated<Date>;
  sent_at: Date | null;
  /** A file message: its name, Lark's file_type, the bytes until sent, and the file_key once uploaded. */
  file_name: ColumnType<string | null, string | null | undefined, string | null>;
  file_type: ColumnType<string | null, string | null | undefined, string | null>;
  file_bytes: ColumnType<Uint8Array | null, Uint8Array | null | undefined, Uint8Array | null>;
  file_key: ColumnType<string | null, string | null | undefined, string | null>;
}

/** An import sent as a file in chat, waiting for the coordinator's 确认导入; only files without problems are kept. */
export interface PendingImportsTable {
  id: Generated<number>;
  open_id: string;
  chat_id: string;
  message_id: string;
  file_name: string;
  cases: Json<unknown>;
  warnings: ColumnType<unknown, string | undefined, string>;
  status: ColumnType<'pending' | 'applied' | 'cancelled', 'pending' | 'applied' | 'cancelled' | undefined, 'pending' | 'applied' | 'cancelled'>;
  created_at: Generated<Date>;
  expires_at: Timestamp;
  decided_by: string | null;
  decided_at: Date | null;
}

/** The command-line import's last commit: the file's digest and the state of the tables its plan read. */
export interface ImportFingerprintsTable {
  file_digest: string;
  database_state: string;
  rows: number;
  warnings: ColumnType<unknown, string | undefined, string>;
  created_at: Generated<Date>;
}

export interface CaseCardsTable {
  message_id: string;
  case_id: number;
  chat_id: string | null;
  created_at: Generated<Date>;
}

export interface RequestCardsTable {
  message_id: string;
  kind: 'extension' | 'adjustment';
  request_id: number;
  created_at: Generated<Date>;
}

export interface DB {
  users: UsersTable;
  user_roles: UserRolesTable;
  chats: ChatsTable;
  cases: CasesTable;
  case_events: CaseEventsTable;
  contacts: ContactsTable;
  replies: RepliesTable;
  ratings: RatingsTable;
  extension_requests: ExtensionRequestsTable;
  adjustment_requests: AdjustmentRequestsTable;
  inbox: InboxTable;
  outbox: OutboxTable;
  case_cards: CaseCardsTable;
  request_cards: RequestCardsTable;
  follow_ups: FollowUpsTable;
  pending_imports: PendingImportsTable;
  import_fingerprints: ImportFingerprintsTable;
  job_runs: JobRunsTable;
  reminder_cards: ReminderCardsTable;
  reminders_sent: RemindersSentTable;
  reminder_mutes: ReminderMutesTable;
}

export type CaseRow = Selectable<CasesTable>;
export type NewCase = Insertable<CasesTable>;
export type CaseUpdate = Updateable<CasesTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type InboxRow = Selectable<InboxTable>;
