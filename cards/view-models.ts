// What the card builders are given. A view model is computed by the service (state, permissions, clocks); the
// builders only lay it out, so every decision about what to show or offer is already made here.

import type { CaseKind, CaseStatus, IsoDate, OurRole, Rating } from '../src/domain/types.ts';

/** The actions a case card can offer; the service decides which ones a given card shows. */
export type CaseAction =
  | 'claim'
  | 'release'
  | 'progress'
  | 'contact'
  | 'reply'
  | 'opinion'
  | 'rate'
  | 'extend'
  | 'adjust'
  | 'handover'
  | 'follow_up';

export const CASE_ACTIONS: readonly CaseAction[] = [
  'claim',
  'release',
  'progress',
  'contact',
  'reply',
  'opinion',
  'rate',
  'extend',
  'adjust',
  'handover',
  'follow_up',
];

export interface TimelineEntryView {
  /** 'YYYY-MM-DD HH:mm' */
  at: string;
  /** null = 系统 */
  actorName: string | null;
  text: string;
}

export interface CaseCardView {
  caseId: number;
  caseNo: string;
  kind: CaseKind;
  session: string;
  title: string;
  proposer: string;
  roleLabel: string;
  role: OurRole;
  status: CaseStatus;
  statusLabel: string;
  round: number;
  leadUnit: string;
  assistingUnits: string[];
  unit: string | null;
  handlerName: string | null;
  assignedDate: IsoDate;
  replyDueDate: IsoDate;
  /** null when the case is closed/adjusted; negative = overdue by that many working days. */
  workdaysLeft: number | null;
  lastProgress: { at: string; by: string; note: string } | null;
  contacts: { date: IsoDate; method: string; who: string; note: string }[];
  replies: { round: number; date: IsoDate; resultClass: string; disclosure: string }[];
  opinion: { date: IsoDate; note: string } | null;
  ratings: { round: number; rating: Rating; enteredBy: string }[];
  pendingExtension: { requestId: number; until: IsoDate; reason: string; requestedBy: string } | null;
  pendingAdjustment: { requestId: number; reason: string; requestedBy: string } | null;
  /** Newest first. */
  timeline: TimelineEntryView[];
  /** Buttons/forms to offer, in this order of importance. */
  actions: CaseAction[];
  resultClasses: { code: string; label: string }[];
  /** Default for date pickers. */
  today: IsoDate;
  /** Whether a 不满意 rating now would reopen the case (false in its last round: it then closes). */
  dissatisfiedReopens: boolean;
  /** A one-line message shown on top (e.g. the result of the last click). */
  notice?: string;
}

export interface CaseListItemView {
  caseId: number;
  caseNo: string;
  title: string;
  statusLabel: string;
  handlerName: string | null;
  replyDueDate: IsoDate;
  workdaysLeft: number | null;
}

export interface CaseListView {
  title: string;
  subtitle?: string;
  emptyText: string;
  items: CaseListItemView[];
  /** Items not shown. */
  more: number;
}

export interface HelpCommandView {
  usage: string;
  description: string;
  /** Heading the command is listed under; commands without one go under 常用命令. */
  group?: string;
  /** Shown only to coordinators. */
  coordinatorOnly?: boolean;
}

export interface HelpView {
  isCoordinator: boolean;
  chatUnit: string | null;
  commands: HelpCommandView[];
}

export interface RequestDecisionView {
  kind: 'extension' | 'adjustment';
  requestId: number;
  caseId: number;
  caseNo: string;
  title: string;
  requestedBy: string;
  reason: string;
  until?: IsoDate;
  currentDue: IsoDate;
  limit?: IsoDate;
  status: 'pending' | 'approved' | 'refused' | 'withdrawn';
  decidedBy?: string;
  decisionNote?: string;
}
