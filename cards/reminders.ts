// The reminder cards: the day's digest (one per chat, one per person, split into parts when too large) and the 督办
// card to leaders and coordinators. Digests are live: an item whose case moved on is shown struck through as done.

import type { ReminderRule } from '../src/domain/reminders.ts';
import type { IsoDate } from '../src/domain/types.ts';
import { dueWording } from './case-card.ts';
import type { CallbackValue } from './callback.ts';
import { callbackButton, card, clip, coloured, escapeMd, md, type Button, type Card, type CardElement, type ColumnSet } from './components.ts';
import { CARD_MAX_ELEMENTS, CARD_TARGET_BYTES, cardByteSize, cardElementCount } from './schema.ts';

export interface DigestItemView {
  caseId: number;
  caseNo: string;
  title: string;
  rule: ReminderRule;
  replyDueDate: IsoDate | null;
  /** Working days left (negative: overdue), null when no reply clock applies. */
  workdaysLeft: number | null;
  handlerName: string | null;
  /** Set when the case moved on after the digest was sent: what it became (已认领, 已答复, 已评价 …). */
  done: string | null;
}

export interface DigestView {
  /** The card this digest is (its buttons carry it, so a click redraws the digest and not a case card). */
  cardId: number;
  date: IsoDate;
  /** 'chat': the unit's work chat; 'person': someone's private digest. */
  audience: 'chat' | 'person';
  part: number;
  parts: number;
  items: DigestItemView[];
}

export interface SupervisionView {
  cardId: number;
  date: IsoDate;
  caseId: number;
  caseNo: string;
  title: string;
  kindLabel: string;
  proposer: string;
  replyDueDate: IsoDate;
  workdaysOverdue: number;
  handlerName: string | null;
  unit: string | null;
  /** The case no longer needs supervision: what became of it. */
  done: string | null;
}

interface Section {
  title: string;
  rules: readonly ReminderRule[];
}

/** The digest's sections, in the order a person should act on them. */
export const DIGEST_SECTIONS: readonly Section[] = [
  { title: '已逾期', rules: ['overdue'] },
  { title: '即将到期', rules: ['due_soon', 'opinion_due'] },
  { title: '待认领', rules: ['unclaimed'] },
  { title: '尚未面商', rules: ['no_contact'] },
  { title: '待登记评价', rules: ['unrated'] },
  { title: '承诺事项回头看', rules: ['follow_up'] },
  { title: '待审批申请', rules: ['waiting_decision'] },
];

/** "9月18日" of 2024-09-18. */
export function monthDay(date: IsoDate): string {
  return `${Number(date.slice(5, 7))}月${Number(date.slice(8, 10))}日`;
}

function itemLine(item: DigestItemView): string {
  const head = `**${escapeMd(item.caseNo)}** ${escapeMd(clip(item.title, 26))}`;
  const facts: string[] = [];
  if (item.rule === 'follow_up') facts.push('B类答复的承诺落实情况，请核实后发送“跟进 案号 内容”');
  else if (item.rule === 'unrated') facts.push('已答复，请向代表/委员了解评价后登记');
  else if (item.rule === 'waiting_decision') facts.push('有延期或调整申请等待审批');
  else if (item.rule === 'no_contact') facts.push('尚未登记面商');
  if (item.workdaysLeft !== null && item.replyDueDate) {
    const wording = `期限 ${item.replyDueDate}（${dueWording(item.workdaysLeft)}）`;
    facts.push(item.workdaysLeft < 0 ? coloured(`**${wording}**`, 'red') : item.workdaysLeft <= 5 ? coloured(wording, 'orange') : wording);
  }
  facts.push(item.handlerName ? `承办人 ${escapeMd(clip(item.handlerName, 12))}` : coloured('无人认领', 'orange'));
  if (item.done) return `~~${head}~~ ${coloured(`✓ ${escapeMd(item.done)}`, 'green')}`;
  return `${head}\n${facts.join(' · ')}`;
}

function itemButtons(item: DigestItemView, cardId: number): Button[] {
  if (item.done) return [];
  const value = (action: 'reminder_claim' | 'reminder_show'): CallbackValue => ({ action, caseId: item.caseId, cardId });
  if (item.rule === 'unclaimed') {
    return [
      callbackButton('认领', value('reminder_claim'), { type: 'primary', size: 'small', confirm: { title: '认领案件', text: `确认认领 ${item.caseNo}？` } }),
      callbackButton('查看', value('reminder_show'), { type: 'primary_text', size: 'small' }),
    ];
  }
  const label = item.rule === 'unrated' ? '登记评价' : item.rule === 'follow_up' ? '记录回头看' : item.rule === 'waiting_decision' ? '去审批' : '查看';
  return [callbackButton(label, value('reminder_show'), { type: 'primary_text', size: 'small' })];
}

function itemRow(item: DigestItemView, cardId: number): CardElement {
  const buttons = itemButtons(item, cardId);
  if (buttons.length === 0) return md(itemLine(item));
  const row: ColumnSet = {
    tag: 'column_set',
    flex_mode: 'none',
    horizontal_spacing: '8px',
    columns: [
      { tag: 'column', width: 'weighted', weight: 5, vertical_align: 'center', elements: [md(itemLine(item))] },
      { tag: 'column', width: 'auto', vertical_align: 'center', elements: buttons },
    ],
  };
  return row;
}

/** The digest card of `view`, items grouped into sections; a part of a split digest says so in its title. */
export function buildDigestCard(view: DigestView): Card {
  const elements: CardElement[] = [];
  const open = view.items.filter((i) => !i.done).length;
  for (const section of DIGEST_SECTIONS) {
    const items = view.items.filter((i) => section.rules.includes(i.rule));
    if (items.length === 0) continue;
    const left = items.filter((i) => !i.done).length;
    const colour = section.rules.includes('overdue') ? 'red' : 'blue';
    elements.push(md(coloured(`**${section.title}（${left}/${items.length}）**`, left === 0 ? 'green' : colour)));
    for (const item of items) elements.push(itemRow(item, view.cardId));
  }
  if (view.items.length > 0 && open === 0) elements.push(md(coloured('今天列出的事项都已处理，辛苦了！', 'green')));
  const who = view.audience === 'chat' ? '本群' : '我';
  const partText = view.parts > 1 ? `（${view.part}/${view.parts}）` : '';
  const title = `${monthDay(view.date)} ${who}的待办提醒${partText}`;
  const subtitle = open > 0 ? `${open} 件待处理 · 回复“提醒”查看或关闭提醒` : '全部已处理';
  return card({ title: { tag: 'plain_text', content: title }, subtitle: { tag: 'plain_text', content: subtitle }, template: open === 0 ? 'green' : view.items.some((i) => !i.done && i.rule === 'overdue') ? 'red' : 'orange' }, elements, title);
}

/** Whether a digest card of these items stays within what Lark accepts (with room for done marks added later). */
export function digestFits(view: DigestView): boolean {
  const built = buildDigestCard(view);
  return cardByteSize(built) <= CARD_TARGET_BYTES && cardElementCount(built) <= CARD_MAX_ELEMENTS - 10;
}

/**
 * Splits a day's items into parts that each fit one card, keeping the section order; never drops an item.
 * Sizes are measured on the real card, so what is sent is what was measured.
 */
export function splitDigest(items: readonly DigestItemView[], probe: Omit<DigestView, 'items' | 'part' | 'parts'>): DigestItemView[][] {
  const order = (i: DigestItemView) => DIGEST_SECTIONS.findIndex((s) => s.rules.includes(i.rule));
  const sorted = [...items].sort((a, b) => order(a) - order(b) || (a.workdaysLeft ?? 0) - (b.workdaysLeft ?? 0) || a.caseNo.localeCompare(b.caseNo));
  const parts: DigestItemView[][] = [];
  // 99/99 keeps the title as long as it will ever be. Each part is the longest run of items that fits, found by
  // bisection, so a day's usual digest costs one build and a long one a few per part.
  const fits = (items: DigestItemView[]) => digestFits({ ...probe, part: 99, parts: 99, items });
  let rest = sorted;
  while (rest.length > 0) {
    if (fits(rest)) {
      parts.push(rest);
      break;
    }
    let lo = 1;
    let hi = rest.length - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (fits(rest.slice(0, mid))) lo = mid;
      else hi = mid - 1;
    }
    // One item always goes, even if it alone were too large: never drop an item.
    parts.push(rest.slice(0, lo));
    rest = rest.slice(lo);
  }
  return parts;
}

/** The 督办 card: the case, how long it is overdue, the handler, and what the leader can do. */
export function buildSupervisionCard(view: SupervisionView): Card {
  const facts = [
    `**${escapeMd(view.caseNo)}** ${escapeMd(clip(view.title, 60))}`,
    `类别：${escapeMd(view.kindLabel)} · 提出人：${escapeMd(clip(view.proposer || '—', 20))}`,
    `答复期限：${view.replyDueDate}，${coloured(`**已逾期 ${view.workdaysOverdue} 个工作日**`, 'red')}`,
    `承办：${view.unit ? escapeMd(view.unit) : '未分处室'} · ${view.handlerName ? escapeMd(clip(view.handlerName, 12)) : coloured('无人认领', 'orange')}`,
  ];
  const elements: CardElement[] = [md(facts.join('\n'))];
  if (view.done) {
    elements.push(md(coloured(`✓ ${escapeMd(view.done)}，无需再督办。`, 'green')));
  } else {
    elements.push(
      md(
        [
          '**可以这样督办：**',
          '• 点“查看案件”看办理进展和时间线，了解卡在哪一步；',
          view.handlerName ? '• 直接联系承办人，要求限期答复；确需更多时间的，请承办人提交延期申请，由协调员审批；' : '• 请协调员尽快指定承办处室和承办人；',
          '• 在工作群里发送“查询 案号”，把案件卡片转给相关同事。',
        ].join('\n'),
      ),
    );
    elements.push(callbackButton('查看案件', { action: 'reminder_show', caseId: view.caseId, cardId: view.cardId }, { type: 'primary' }));
  }
  const title = `督办：${view.caseNo} 已逾期 ${view.workdaysOverdue} 个工作日`;
  return card({ title: { tag: 'plain_text', content: clip(title, 50) }, subtitle: { tag: 'plain_text', content: `${monthDay(view.date)} 督办通知` }, template: view.done ? 'green' : 'red' }, elements, title);
}
