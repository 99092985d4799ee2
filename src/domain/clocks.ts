// The case clocks (DOMAIN.md, "The loop and its clocks"). Every clock starts at the assignment date (交办日期) except
// the rating clocks, which start at the reply, and rehandling, which starts at the 不满意 rating.

import { addMonths, isIsoDate, type WorkCalendar } from './calendar.ts';
import type { IsoDate, OurRole } from './types.ts';

export interface ClockSettings {
  /** Unclaimed this many working days after assignment → remind. */
  claimReminderWorkdays: number;
  /** An adjustment may be requested up to this many working days after assignment. */
  adjustmentWindowWorkdays: number;
  /** Consult the deputy within this many working days of assignment. */
  contactTargetWorkdays: number;
  /** Assisting roles send their opinion to the lead unit within this many months of assignment. */
  assistingOpinionMonths: number;
  /** The reply is due this many months after assignment. */
  replyDueMonths: number;
  /** An extension can never go past this many months after assignment. */
  extensionLimitMonths: number;
  /** The rating is expected within this many working days of the reply. */
  ratingExpectedWorkdays: number;
  /** Chase the rating after this many working days. */
  ratingChaseWorkdays: number;
  /** After 不满意, the second reply is due this many months after the rating. */
  rehandlingMonths: number;
}

export const DEFAULT_CLOCK_SETTINGS: ClockSettings = Object.freeze({
  claimReminderWorkdays: 2,
  adjustmentWindowWorkdays: 5,
  contactTargetWorkdays: 15,
  assistingOpinionMonths: 1,
  replyDueMonths: 3,
  extensionLimitMonths: 6,
  ratingExpectedWorkdays: 20,
  ratingChaseWorkdays: 15,
  rehandlingMonths: 1,
});

export interface Clocks {
  /** Reply due date: an imported fixed date (CPPCC proposals often carry one) wins; otherwise assisting roles get
   *  assignment + assistingOpinionMonths, others assignment + replyDueMonths. The fixed date is the lead unit's reply
   *  date, so an assisting role's opinion is due by the earlier of it and its own month. */
  replyDue(input: { assignedDate: IsoDate; role: OurRole; fixedDueDate?: IsoDate | null }): IsoDate;
  claimReminderDate(assignedDate: IsoDate): IsoDate;
  /** Last date on which an adjustment may still be requested. */
  adjustmentDeadline(assignedDate: IsoDate): IsoDate;
  contactTarget(assignedDate: IsoDate): IsoDate;
  /** The latest date an extension may reach (never rolled forward). */
  extensionLimit(assignedDate: IsoDate): IsoDate;
  ratingExpected(replyDate: IsoDate): IsoDate;
  ratingChaseFrom(replyDate: IsoDate): IsoDate;
  rehandlingDue(ratedDate: IsoDate): IsoDate;
  /** Working days from today to due: positive = days left, 0 = due today, negative = working days overdue. */
  workdaysLeft(today: IsoDate, due: IsoDate): number;
}

const SETTING_NAMES = Object.keys(DEFAULT_CLOCK_SETTINGS) as (keyof ClockSettings)[];

/** The defaults with `overrides` applied; throws an Error naming the setting when one is not a positive integer. */
export function resolveClockSettings(overrides: Partial<ClockSettings> = {}): ClockSettings {
  for (const key of Object.keys(overrides)) {
    if (!(SETTING_NAMES as string[]).includes(key)) {
      throw new Error(`Unknown clock setting "${key}"; known settings: ${SETTING_NAMES.join(', ')}`);
    }
  }
  const settings = { ...DEFAULT_CLOCK_SETTINGS };
  for (const name of SETTING_NAMES) {
    const value: unknown = overrides[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new Error(`Clock setting ${name} must be a positive integer, got ${JSON.stringify(value)}`);
    }
    settings[name] = value;
  }
  // The extension ceiling exists to bound the reply; a ceiling before the ordinary due date would make every case
  // overdue the day it arrives.
  if (settings.replyDueMonths > settings.extensionLimitMonths) {
    throw new Error(
      `Clock setting replyDueMonths (${settings.replyDueMonths}) must not exceed extensionLimitMonths ` +
        `(${settings.extensionLimitMonths})`,
    );
  }
  return settings;
}

function requireDate(what: string, date: IsoDate): void {
  if (!isIsoDate(date)) throw new Error(`${what} "${date}" is not a real date as YYYY-MM-DD`);
}

/** The case clocks on `calendar`, with `settings` overriding the defaults (validated: positive integers). */
export function createClocks(calendar: WorkCalendar, settings: Partial<ClockSettings> = {}): Clocks {
  const s = resolveClockSettings(settings);

  // A period counted in months that ends on a holiday ends on the first working day after it (the legal convention).
  const monthsLater = (from: IsoDate, months: number): IsoDate => calendar.onOrNextWorkday(addMonths(from, months));

  return {
    replyDue({ assignedDate, role, fixedDueDate }) {
      requireDate('Assignment date', assignedDate);
      if (fixedDueDate != null) {
        // The office set this date explicitly, so it is kept as imported, not rolled.
        requireDate('Fixed reply due date', fixedDueDate);
        if (fixedDueDate < assignedDate) {
          throw new Error(`Fixed reply due date ${fixedDueDate} is before the assignment date ${assignedDate}`);
        }
        if (role === 'assisting') {
          const opinionDue = monthsLater(assignedDate, s.assistingOpinionMonths);
          return opinionDue < fixedDueDate ? opinionDue : fixedDueDate;
        }
        return fixedDueDate;
      }
      return monthsLater(assignedDate, role === 'assisting' ? s.assistingOpinionMonths : s.replyDueMonths);
    },
    claimReminderDate(assignedDate) {
      return calendar.addWorkdays(assignedDate, s.claimReminderWorkdays);
    },
    adjustmentDeadline(assignedDate) {
      return calendar.addWorkdays(assignedDate, s.adjustmentWindowWorkdays);
    },
    contactTarget(assignedDate) {
      return calendar.addWorkdays(assignedDate, s.contactTargetWorkdays);
    },
    extensionLimit(assignedDate) {
      return addMonths(assignedDate, s.extensionLimitMonths);
    },
    ratingExpected(replyDate) {
      return calendar.addWorkdays(replyDate, s.ratingExpectedWorkdays);
    },
    ratingChaseFrom(replyDate) {
      return calendar.addWorkdays(replyDate, s.ratingChaseWorkdays);
    },
    rehandlingDue(ratedDate) {
      return monthsLater(ratedDate, s.rehandlingMonths);
    },
    workdaysLeft(today, due) {
      const n = calendar.workdaysBetween(today, due);
      // Past the due date a case is overdue even when no working day has passed yet (a Saturday after a Friday
      // due date); 0 must keep meaning "due today". Before a due date that falls on a rest day, 0 means no working
      // day is left, which is "due today" in practice.
      if (today > due) return Math.min(n, -1);
      return n;
    },
  };
}
