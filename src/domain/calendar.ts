// The working-day calendar: the official Chinese schedule (public holidays and 调休 make-up working days) from
// chinese-days' bundled data, plus configured overrides for years the package does not know yet.
//
// Dates are plain `YYYY-MM-DD` strings turned into day numbers by integer arithmetic, so neither the process
// timezone nor `Date`'s two-digit-year quirks can shift a date.

import officialData from 'chinese-days/dist/chinese-days.json' with { type: 'json' };
import type { IsoDate } from './types.ts';

export interface CalendarOverride {
  date: IsoDate;
  /** true: make-up working day (调休上班); false: day off. */
  work: boolean;
}

export interface WorkCalendar {
  isWorkday(date: IsoDate): boolean;
  /** The date n working days after `from` (from itself not counted). n = 0 returns `from`. n must be >= 0. */
  addWorkdays(from: IsoDate, n: number): IsoDate;
  /** Working days after `from` up to and including `to`; negative (counting the other way) when to < from; 0 when equal. */
  workdaysBetween(from: IsoDate, to: IsoDate): number;
  /** `date` when it is a working day, else the next working day. */
  onOrNextWorkday(date: IsoDate): IsoDate;
  /** Whether the official schedule of this year is known (chinese-days data or an override in that year). */
  knowsYear(year: number): boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Day numbers: days since 1970-01-01, computed from the civil date without `Date`.

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

interface Ymd {
  year: number;
  month: number;
  day: number;
}

function parseYmd(s: string): Ymd | null {
  const m = ISO_DATE.exec(s);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  return { year, month, day };
}

function ymdOf(date: IsoDate): Ymd {
  const ymd = parseYmd(date);
  if (!ymd) throw new Error(`Invalid date "${date}": expected a real calendar date as YYYY-MM-DD`);
  return ymd;
}

// Proleptic Gregorian calendar counted in 400-year eras (146097 days each), with years starting in March so the
// leap day is the last day of the counted year.
function dayNumberOfYmd({ year, month, day }: Ymd): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const monthFromMarch = (month + 9) % 12;
  const dayOfYear = Math.floor((153 * monthFromMarch + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

function ymdOfDayNumber(n: number): Ymd {
  const z = n + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, day };
}

function formatYmd({ year, month, day }: Ymd): IsoDate {
  if (year < 1 || year > 9999) throw new RangeError(`Date out of range: year ${year}`);
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function toDayNumber(date: IsoDate): number {
  return dayNumberOfYmd(ymdOf(date));
}

function fromDayNumber(n: number): IsoDate {
  return formatYmd(ymdOfDayNumber(n));
}

/** 0 = Sunday … 6 = Saturday, like Date#getUTCDay. */
function weekdayOf(dayNumber: number): number {
  // 1970-01-01 (day 0) was a Thursday.
  return (((dayNumber + 4) % 7) + 7) % 7;
}

function requireInteger(name: string, n: number): void {
  if (!Number.isInteger(n)) throw new RangeError(`${name} must be an integer, got ${n}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Plain date helpers.

/** Whether the string is a real calendar date in YYYY-MM-DD form (2024-02-30 is not). */
export function isIsoDate(s: string): boolean {
  return typeof s === 'string' && parseYmd(s) !== null;
}

/** Adds calendar days. */
export function addDays(date: IsoDate, n: number): IsoDate {
  requireInteger('addDays: n', n);
  return fromDayNumber(toDayNumber(date) + n);
}

/** Calendar months after `date`, clamped to the month's last day (2024-11-30 + 3 = 2025-02-28). n may be negative. */
export function addMonths(date: IsoDate, n: number): IsoDate {
  requireInteger('addMonths: n', n);
  const { year, month, day } = ymdOf(date);
  const monthIndex = year * 12 + (month - 1) + n;
  const newYear = Math.floor(monthIndex / 12);
  const newMonth = monthIndex - newYear * 12 + 1;
  return formatYmd({ year: newYear, month: newMonth, day: Math.min(day, daysInMonth(newYear, newMonth)) });
}

const dateFormatters = new Map<string, Intl.DateTimeFormat>();

/** Today's date in an IANA timezone (e.g. Asia/Shanghai) at instant `now`, independent of the process TZ. */
export function todayIn(timeZone: string, now: Date): IsoDate {
  if (Number.isNaN(now.getTime())) throw new RangeError('todayIn: `now` is an invalid Date');
  let formatter = dateFormatters.get(timeZone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        calendar: 'gregory',
        numberingSystem: 'latn',
      });
    } catch {
      throw new RangeError(`Unknown timezone "${timeZone}": expected an IANA name such as Asia/Shanghai`);
    }
    dateFormatters.set(timeZone, formatter);
  }
  const parts = formatter.formatToParts(now);
  const part = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value);
  return formatYmd({ year: part('year'), month: part('month'), day: part('day') });
}

// Ranges longer than this in a configured list are almost certainly a typo (2027 written as 2072).
const MAX_RANGE_DAYS = 366;

/** Parses an override list from configuration, e.g. "2027-01-01..2027-01-03,2027-02-10" → holidays (work=false)
 *  or make-up workdays (work=true); throws an Error with a clear English message naming the bad item. */
export function parseDateList(text: string, work: boolean): CalendarOverride[] {
  if (text.trim() === '') return [];
  const overrides: CalendarOverride[] = [];
  const items = text.split(',');
  items.forEach((raw, index) => {
    const item = raw.trim();
    if (item === '') {
      throw new Error(`Date list "${text}": item ${index + 1} is empty (remove the extra comma)`);
    }
    const bounds = item.split('..').map((s) => s.trim());
    if (bounds.length > 2) {
      throw new Error(`Date list item "${item}": a range is written as YYYY-MM-DD..YYYY-MM-DD`);
    }
    for (const bound of bounds) {
      if (!isIsoDate(bound)) {
        throw new Error(`Date list item "${item}": "${bound}" is not a real date as YYYY-MM-DD`);
      }
    }
    const first = toDayNumber(bounds[0] ?? '');
    const last = toDayNumber(bounds[1] ?? bounds[0] ?? '');
    if (last < first) {
      throw new Error(`Date list item "${item}": the range ends before it starts`);
    }
    if (last - first + 1 > MAX_RANGE_DAYS) {
      throw new Error(`Date list item "${item}": the range spans more than ${MAX_RANGE_DAYS} days`);
    }
    for (let d = first; d <= last; d++) overrides.push({ date: fromDayNumber(d), work });
  });
  return overrides;
}

// ---------------------------------------------------------------------------------------------------------------
// The calendar.

interface OfficialSchedule {
  /** day number → whether it is a working day, only for days that differ from a plain Mon–Fri week or are holidays. */
  days: ReadonlyMap<number, boolean>;
  years: ReadonlySet<number>;
}

// Built once per process: every calendar starts from this and layers its overrides on a copy.
const official: OfficialSchedule = (() => {
  const data: { holidays: Record<string, string>; workdays: Record<string, string> } = officialData;
  const days = new Map<number, boolean>();
  const years = new Set<number>();
  const add = (date: string, work: boolean): void => {
    const ymd = parseYmd(date);
    if (!ymd) return;
    days.set(dayNumberOfYmd(ymd), work);
    years.add(ymd.year);
  };
  for (const date of Object.keys(data.holidays)) add(date, false);
  // A date in both lists would be a data error; the make-up working day is the safer reading (nobody misses a day).
  for (const date of Object.keys(data.workdays)) add(date, true);
  return { days, years };
})();

/** A working-day calendar: chinese-days' official schedule, with `overrides` winning over it. */
export function createWorkCalendar(overrides: readonly CalendarOverride[] = []): WorkCalendar {
  const days = new Map(official.days);
  const overrideYears = new Set<number>();
  const seen = new Map<number, boolean>();
  for (const override of overrides) {
    const ymd = parseYmd(override.date);
    if (!ymd) throw new Error(`Calendar override "${override.date}" is not a real date as YYYY-MM-DD`);
    const n = dayNumberOfYmd(ymd);
    if (seen.has(n) && seen.get(n) !== override.work) {
      throw new Error(`Calendar override ${override.date} is listed both as a holiday and as a make-up working day`);
    }
    seen.set(n, override.work);
    days.set(n, override.work);
    overrideYears.add(ymd.year);
  }

  const isWorkdayNumber = (n: number): boolean => {
    const known = days.get(n);
    if (known !== undefined) return known;
    const weekday = weekdayOf(n);
    return weekday !== 0 && weekday !== 6;
  };

  const nextWorkdayNumber = (n: number): number => {
    let d = n;
    while (!isWorkdayNumber(d)) d++;
    return d;
  };

  // Working days in (from, to]; callers guarantee from <= to.
  const countWorkdays = (from: number, to: number): number => {
    let count = 0;
    for (let d = from + 1; d <= to; d++) if (isWorkdayNumber(d)) count++;
    return count;
  };

  return {
    isWorkday(date) {
      return isWorkdayNumber(toDayNumber(date));
    },
    addWorkdays(from, n) {
      requireInteger('addWorkdays: n', n);
      if (n < 0) throw new RangeError(`addWorkdays: n must be >= 0, got ${n}`);
      let d = toDayNumber(from);
      for (let left = n; left > 0; left--) d = nextWorkdayNumber(d + 1);
      return fromDayNumber(d);
    },
    workdaysBetween(from, to) {
      const a = toDayNumber(from);
      const b = toDayNumber(to);
      return a <= b ? countWorkdays(a, b) : -countWorkdays(b, a);
    },
    onOrNextWorkday(date) {
      return fromDayNumber(nextWorkdayNumber(toDayNumber(date)));
    },
    knowsYear(year) {
      return official.years.has(year) || overrideYears.has(year);
    },
  };
}
