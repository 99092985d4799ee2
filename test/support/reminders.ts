import { cardTexts } from './lark/cards.ts';
import type { Card, SentMessage } from './lark/emulator.ts';
import { USERS, type Harness } from './harness.ts';

// Reading the reminder cards the bot sent, as the people who got them would: who, which sections, which cases.

const NAMES = new Map<string, string>(Object.values(USERS).map((u) => [u.openId, u.name]));
const SECTION = /^(已逾期|即将到期|待认领|尚未面商|待登记评价|承诺事项回头看|待审批申请)（\d+\/\d+）$/;

/** Whether a message the bot sent is a reminder card (a digest or a 督办 card). */
export function isReminderCard(h: Harness, m: SentMessage): boolean {
  if (m.msgType !== 'interactive') return false;
  const card = h.lark.latestCard(m.messageId) as { header?: { title?: { content?: string } } } | undefined;
  const title = card?.header?.title?.content ?? '';
  return title.includes('待办提醒') || title.startsWith('督办');
}

/** Who got a message: a person's name, or "群" for a group chat. */
export function recipientName(m: SentMessage): string {
  return m.receiveIdType === 'open_id' ? (NAMES.get(m.receiveId) ?? m.receiveId) : `群${m.receiveId === 'oc_group_elderly' ? '' : `(${m.receiveId})`}`;
}

/** "张三 已逾期 20240562" lines of one card as it looks now (done items are read as "… ✓ 已认领"). */
export function reminderLines(recipient: string, card: Card): string[] {
  const texts = cardTexts(card);
  const title = texts[0] ?? '';
  if (title.startsWith('督办')) {
    const caseNo = /督办：(\d{8})/.exec(title)?.[1] ?? '?';
    return [`${recipient} 督办 ${caseNo}`];
  }
  const out: string[] = [];
  let section = '';
  for (const t of texts) {
    const plain = t.replace(/<[^>]+>/g, '').replace(/\*\*/g, '').replace(/~~/g, '');
    const s = SECTION.exec(plain.trim());
    if (s) {
      section = s[1]!;
      continue;
    }
    const caseNo = /^(\d{8}) /.exec(plain)?.[1];
    if (!caseNo || !section) continue;
    const done = /✓ (\S+)/.exec(plain)?.[1];
    out.push(`${recipient} ${section} ${caseNo}${done ? ` ✓${done}` : ''}`);
  }
  return out;
}

/** Every reminder line of the messages from `fromIndex` (to `toIndex`) of the emulator's sent list, as they look now, sorted. */
export function remindersSince(h: Harness, fromIndex: number, toIndex?: number): string[] {
  return h.lark.sent
    .slice(fromIndex, toIndex)
    .filter((m) => isReminderCard(h, m))
    .flatMap((m) => reminderLines(recipientName(m), h.lark.latestCard(m.messageId)!))
    .sort();
}
