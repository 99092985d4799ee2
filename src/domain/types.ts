// The vocabulary of the domain (see ../shared/DOMAIN.md). No Lark, no SQL.

/** A calendar date as `YYYY-MM-DD`, always in the configured timezone. */
export type IsoDate = string;

/** 类别: an NPC suggestion (建议) or a CPPCC proposal (提案). */
export type CaseKind = '建议' | '提案';

/** What the person who filed a case is called: 代表 for an NPC suggestion, 委员 for a CPPCC proposal. */
export function proposerTitle(kind: CaseKind): '代表' | '委员' {
  return kind === '提案' ? '委员' : '代表';
}

/** Our role in a case, whatever label the region uses for it (the label is kept beside it). */
export type OurRole = 'lead' | 'sole' | 'separate' | 'assisting';

/** Roles that reply to the deputy themselves, and so must consult them first. */
export function repliesToDeputy(role: OurRole): boolean {
  return role !== 'assisting';
}

/** 公开情况 of a reply. */
export type Disclosure = '主动公开' | '依申请公开' | '不予公开';
export const DISCLOSURES: readonly Disclosure[] = ['主动公开', '依申请公开', '不予公开'];

/** The deputy's rating of a reply. */
export type Rating = '满意' | '基本满意' | '不满意';
export const RATINGS: readonly Rating[] = ['满意', '基本满意', '不满意'];

/** How the deputy was consulted (面商/沟通). */
export type ContactMethod = '电话' | '上门' | '座谈' | '线上' | '当面';
export const CONTACT_METHODS: readonly ContactMethod[] = ['电话', '上门', '座谈', '线上', '当面'];

/**
 * Where a case stands.
 * - unclaimed: assigned to us, nobody has claimed it (or it was released)
 * - in_progress: claimed, deputy not yet consulted (lead roles) / opinion not yet sent (assisting)
 * - contacted: claimed and at least one contact with the deputy recorded (lead roles)
 * - replied: reply letter sent, waiting for the deputy's rating
 * - rehandling: rated 不满意, handled again towards a second reply
 * - closed: done (rated, or for assisting roles the opinion was sent)
 * - adjusted: the coordinator approved moving the case out of our department
 */
export type CaseStatus = 'unclaimed' | 'in_progress' | 'contacted' | 'replied' | 'rehandling' | 'closed' | 'adjusted';

export const STATUS_LABELS: Record<CaseStatus, string> = {
  unclaimed: '待认领',
  in_progress: '办理中',
  contacted: '已面商',
  replied: '已答复待评价',
  rehandling: '重新办理',
  closed: '已办结',
  adjusted: '已调整',
};

export const ROLE_LABELS: Record<OurRole, string> = {
  lead: '主办',
  sole: '独办',
  separate: '分办',
  assisting: '会办',
};

/** Roles a user can hold beyond handler (every staff member who talks to the bot is a handler). */
export type StaffRole = 'coordinator' | 'leader';
export const STAFF_ROLE_LABELS: Record<StaffRole, string> = { coordinator: '协调员', leader: '分管领导' };

/** Someone acting through the bot. */
export interface Actor {
  openId: string;
  name: string;
  roles: ReadonlySet<StaffRole>;
}

export function isCoordinator(actor: Actor): boolean {
  return actor.roles.has('coordinator');
}

/** A person named in a case (handler) with the name we know them by. */
export interface Person {
  openId: string;
  name: string;
}

/** withdrawn: closed without a decision, because the reply made it moot or the case left the department. */
export type RequestStatus = 'pending' | 'approved' | 'refused' | 'withdrawn';

export interface ExtensionRequest {
  id: number;
  requestedBy: Person;
  requestedAt: string;
  until: IsoDate;
  reason: string;
  status: RequestStatus;
}

export interface AdjustmentRequest {
  id: number;
  requestedBy: Person;
  requestedAt: string;
  reason: string;
  status: RequestStatus;
}

/** What the workflow needs to know about a case to decide an action. */
export interface CaseState {
  id: number;
  caseNo: string;
  kind: CaseKind;
  role: OurRole;
  status: CaseStatus;
  handler: Person | null;
  /** 1 for the first handling; 2 after a 不满意 rating reopened it. */
  round: number;
  assignedDate: IsoDate;
  replyDueDate: IsoDate;
  /** The internal section (处室/科室) handling it; null until a chat bound to a unit claims it. */
  unit: string | null;
  /** 公开情况 planned at import; a reply may override it. */
  disclosure: Disclosure | null;
  /** Contacts with the deputy recorded so far (all rounds). */
  contactCount: number;
  /** Date of the earliest contact recorded (a reply must not be dated before it: 面商 comes before the reply). */
  firstContactDate: IsoDate | null;
  /** Date of the latest rating (a second reply answers it, so it cannot be dated earlier). */
  lastRatedDate: IsoDate | null;
  pendingExtension: ExtensionRequest | null;
  pendingAdjustment: AdjustmentRequest | null;
  /** The promise of the latest B-class reply (回头看), or null when no reply of the followed-up class was made. */
  promise: CasePromise | null;
  version: number;
}

/** The result class whose replies carry promises to follow up (回头看): B 正在解决或列入计划. */
export const PROMISE_CLASS = 'B';

/** A promise made in a B-class reply, followed up until it is kept. */
export interface CasePromise {
  /** The round whose reply made it. */
  round: number;
  replyDate: IsoDate;
  resultClass: string;
  lastFollowUpDate: IsoDate | null;
  kept: boolean;
}

/** What a follow-up of a promise found: still in progress, kept (done), or changed and explained to the deputy. */
export type FollowUpOutcome = 'checked' | 'kept' | 'changed';

// One list for chat and import alike. A Map, not an object literal, so "constructor" finds nothing on Object.prototype.
const DISCLOSURE_BY_LABEL: ReadonlyMap<string, Disclosure> = new Map<string, Disclosure>([
  ['主动公开', '主动公开'],
  ['依申请公开', '依申请公开'],
  ['不予公开', '不予公开'],
  ['公开', '主动公开'],
  ['依申请', '依申请公开'],
  ['不公开', '不予公开'],
  ['public', '主动公开'],
  ['on-request', '依申请公开'],
  ['not-public', '不予公开'],
]);

/** The 公开情况 a label or shorthand stands for (公开 → 主动公开, 不公开 → 不予公开, …; trimmed, any letter case),
 *  or null when it is not one we know. Callers fold full-width characters first. */
export function disclosureFromLabel(label: string): Disclosure | null {
  return DISCLOSURE_BY_LABEL.get(label.trim().toLowerCase()) ?? null;
}
