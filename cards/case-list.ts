// A compact list of cases (e.g. "我的案件", "逾期案件"): one line per case and a 查看 button that brings up its card.

import { dueMarkdown } from './case-card.ts';
import { callbackButton, card, clip, coloured, escapeMd, md, plain, type Card, type CardElement, type ColumnSet } from './components.ts';
import { CARD_TARGET_BYTES, cardByteSize } from './schema.ts';
import type { CaseListItemView, CaseListView } from './view-models.ts';

/**
 * Rows one card shows at most. A row costs six elements (column set, two columns, text, button, button text) and
 * Lark allows 200 per card, so longer lists say how many cases were left out instead.
 */
export const MAX_LIST_ROWS = 25;

/** The list card: a 查看 button (action 'show') per case, "另有 N 件未列出" for the rest, emptyText when empty. */
export function buildCaseListCard(view: CaseListView): Card {
  let rows = Math.min(view.items.length, MAX_LIST_ROWS);
  let built = renderList(view, rows);
  while (cardByteSize(built) > CARD_TARGET_BYTES && rows > 1) {
    rows = Math.max(1, Math.floor(rows * 0.8));
    built = renderList(view, rows);
  }
  return built;
}

function renderList(view: CaseListView, rows: number): Card {
  const elements: CardElement[] = [];
  if (view.items.length === 0) elements.push(md(escapeMd(clip(view.emptyText, 200))));
  for (const item of view.items.slice(0, rows)) elements.push(listRow(item));
  const left = view.items.length - Math.min(rows, view.items.length) + Math.max(0, view.more);
  if (left > 0) elements.push(md(coloured(`另有 ${left} 件未列出`, 'grey'), { text_size: 'notation' }));

  const header: Card['header'] = { title: plain(clip(view.title, 50)), template: 'blue' };
  if (view.subtitle) header.subtitle = plain(clip(view.subtitle, 60));
  return card(header, elements, view.title);
}

function listRow(item: CaseListItemView): ColumnSet {
  const handler = item.handlerName === null ? coloured('待认领', 'orange') : escapeMd(clip(item.handlerName, 12));
  const text = [
    `**${escapeMd(item.caseNo)}** ${escapeMd(clip(item.title, 24))}`,
    `${escapeMd(clip(item.statusLabel, 10))} · ${handler} · 期限 ${dueMarkdown(item.replyDueDate, item.workdaysLeft)}`,
  ].join('\n');
  return {
    tag: 'column_set',
    flex_mode: 'none',
    horizontal_spacing: '8px',
    columns: [
      { tag: 'column', width: 'weighted', weight: 5, vertical_align: 'center', elements: [md(text)] },
      {
        tag: 'column',
        width: 'auto',
        vertical_align: 'center',
        elements: [callbackButton('查看', { action: 'show', caseId: item.caseId }, { type: 'primary_text', size: 'small' })],
      },
    ],
  };
}
