// Words used across the service that must mean the same everywhere: in the workflow, in chat lists, on cards and in
// SQL. Defined once here; the repositories turn the status lists into WHERE clauses.

import type { CaseStatus } from './types.ts';

/** The longest note, reason or progress text a case accepts (characters). */
export const MAX_NOTE_LENGTH = 1000;

/** An open case still needs work from us: anything but closed (done) and adjusted (moved out). */
export const OPEN_STATUSES: readonly CaseStatus[] = ['unclaimed', 'in_progress', 'contacted', 'replied', 'rehandling'];

export function isOpen(status: CaseStatus): boolean {
  return OPEN_STATUSES.includes(status);
}

/** The reply clock runs until the reply is sent (the rating clock runs then), the case closes, or it is adjusted. */
export const REPLY_CLOCK_STATUSES: readonly CaseStatus[] = ['unclaimed', 'in_progress', 'contacted', 'rehandling'];

/** Whether the reply clock of a case is running. */
export function replyClockRunning(status: CaseStatus): boolean {
  return REPLY_CLOCK_STATUSES.includes(status);
}

/** A case due within this many working days is "due soon" (待办 lists it, its card turns orange). */
export const DUE_SOON_WORKDAYS = 5;

/** Whether a case with this many working days left (negative: overdue) is due soon; null = no clock running. */
export function isDueSoon(workdaysLeft: number | null): boolean {
  return workdaysLeft !== null && workdaysLeft <= DUE_SOON_WORKDAYS;
}
