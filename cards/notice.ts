// A plain notice: a title and some text, no buttons (confirmations, reminders, errors).

import { card, clip, escapeMd, md, plain, type Card, type HeaderTemplate } from './components.ts';

/** Longest notice text shown; longer text is cut with "…". */
export const MAX_NOTICE_CHARS = 3000;

/** A notice card; `text` is shown literally, line breaks kept. */
export function buildNoticeCard(title: string, text: string, template: HeaderTemplate = 'blue'): Card {
  const chars = Array.from(text.trim());
  const shown = chars.length > MAX_NOTICE_CHARS ? `${chars.slice(0, MAX_NOTICE_CHARS - 1).join('')}…` : chars.join('');
  const body = shown
    .split(/\r?\n/)
    .map((line) => escapeMd(line))
    .join('\n');
  return card({ title: plain(clip(title, 50)), template }, [md(body === '' ? ' ' : body)], `${title} ${text}`);
}
