// Text as staff type it and as spreadsheets hold it, brought to one form before anything reads it. Shared by the chat
// parser and the importer, so "２０２４年３月２０日" or "Ａ类" mean the same in both.

import { isIsoDate } from './calendar.ts';
import type { IsoDate } from './types.ts';

/**
 * Full-width ASCII forms (Ａ-Ｚ, ０-９, －, ／ …) and the ideographic space become half-width. One UTF-16 unit in, one
 * out, so offsets into the original text stay valid (the chat parser cuts free text from the text as typed).
 */
export function toHalfWidth(text: string): string {
  return text.replace(/[\uFF01-\uFF5E\u3000]/g, (ch) => (ch === '\u3000' ? ' ' : String.fromCharCode(ch.charCodeAt(0) - 0xfee0)));
}

/** The parts of a date written with its year: 2024-3-20, 2024/3/20, 2024.3.20, 2024年3月20日 (half-width text). */
export interface DateParts {
  year: number;
  month: number;
  day: number;
}

const FULL_DATE_FORMATS: readonly RegExp[] = [
  /^(?<y>\d{4})(?<sep>[-/.])(?<m>\d{1,2})\k<sep>(?<d>\d{1,2})$/,
  /^(?<y>\d{4})\s*年\s*(?<m>\d{1,2})\s*月\s*(?<d>\d{1,2})\s*[日号]?$/,
];

/** The year, month and day of a full date spelling, or null when the text is not shaped like one (not checked). */
export function fullDateParts(text: string): DateParts | null {
  const groups = FULL_DATE_FORMATS.map((f) => f.exec(text)?.groups).find((g) => g !== undefined);
  if (!groups) return null;
  return { year: Number(groups['y']), month: Number(groups['m']), day: Number(groups['d']) };
}

/** Years outside this range are typing slips in chat, not dates anyone handles a case on. */
const CHAT_YEARS = { min: 2000, max: 2099 } as const;

/** The ISO date of year/month/day when it exists on the calendar and the year is within `years`, else null. */
export function isoDateOf(year: number, month: number, day: number, years: { min: number; max: number } = CHAT_YEARS): IsoDate | null {
  if (year < years.min || year > years.max) return null;
  const iso = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  return isIsoDate(iso) ? iso : null;
}
