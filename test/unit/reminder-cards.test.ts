import { describe, expect, it } from 'vitest';
import { buildDigestCard, buildSupervisionCard, splitDigest, type DigestItemView } from '../../cards/reminders.ts';
import { cardByteSize, cardElementCount, CARD_MAX_BYTES, CARD_MAX_ELEMENTS, validateCard } from '../../cards/schema.ts';
import { cardTexts } from '../support/lark/cards.ts';

// The digest and 督办 cards: valid JSON 2.0 within Lark's limits, split (never cut) when a day's list is long.

function item(n: number, over: Partial<DigestItemView> = {}): DigestItemView {
  return {
    caseId: n,
    caseNo: `2024${String(n).padStart(4, '0')}`,
    title: `关于进一步完善第${n}项养老服务设施建设与运营补贴政策的建议`,
    rule: (['overdue', 'due_soon', 'unclaimed', 'unrated', 'follow_up'] as const)[n % 5]!,
    replyDueDate: '2024-10-08',
    workdaysLeft: (n % 7) - 3,
    handlerName: n % 5 === 2 ? null : '张三',
    done: null,
    ...over,
  };
}

describe('the digest card', () => {
  it('lists the sections in order with the buttons that fit, and passes the schema check', () => {
    const card = buildDigestCard({ cardId: 7, date: '2024-09-18', audience: 'chat', part: 1, parts: 1, items: [item(1), item(2), item(3), item(4)] });
    expect(validateCard(card)).toEqual({ ok: true });
    const text = cardTexts(card).join('\n');
    expect(text).toContain('9月18日 本群的待办提醒');
    expect(text.indexOf('即将到期')).toBeLessThan(text.indexOf('待认领'));
    expect(text.indexOf('待认领')).toBeLessThan(text.indexOf('待登记评价'));
    expect(text).toContain('认领');
    expect(text).toContain('登记评价');
  });

  it('shows a case that moved on struck through, without buttons', () => {
    const card = buildDigestCard({ cardId: 7, date: '2024-09-18', audience: 'person', part: 1, parts: 1, items: [item(2, { done: '已认领' })] });
    expect(validateCard(card)).toEqual({ ok: true });
    const json = JSON.stringify(card);
    expect(json).toContain('~~');
    expect(json).toContain('已认领');
    expect(json).not.toContain('"button"');
    expect(cardTexts(card).join('\n')).toContain('全部已处理');
  });

  it('splits 300 items into parts that each fit a card, in order, losing none', () => {
    const items = Array.from({ length: 300 }, (_, i) => item(i + 1));
    const parts = splitDigest(items, { cardId: 1, date: '2024-09-18', audience: 'chat' });
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.flat().map((i) => i.caseId).sort((a, b) => a - b)).toEqual(items.map((i) => i.caseId));
    parts.forEach((p, i) => {
      const card = buildDigestCard({ cardId: 100 + i, date: '2024-09-18', audience: 'chat', part: i + 1, parts: parts.length, items: p });
      expect(validateCard(card)).toEqual({ ok: true });
      expect(cardByteSize(card)).toBeLessThanOrEqual(CARD_MAX_BYTES);
      expect(cardElementCount(card)).toBeLessThanOrEqual(CARD_MAX_ELEMENTS);
      expect(cardTexts(card).join('\n')).toContain(`（${i + 1}/${parts.length}）`);
    });
  });
});

describe('the 督办 card', () => {
  it('names the case, how long it is overdue, the handler, and what the leader can do', () => {
    const card = buildSupervisionCard({ cardId: 3, date: '2024-09-27', caseId: 1, caseNo: '20240562', title: '关于加快推进老年社会监护服务中心相关立法及建设工作的建议', kindLabel: '建议', proposer: '黄振辉', replyDueDate: '2024-09-20', workdaysOverdue: 5, handlerName: '张三', unit: '养老服务处', done: null });
    expect(validateCard(card)).toEqual({ ok: true });
    const text = cardTexts(card).join('\n');
    for (const s of ['20240562', '已逾期 5 个工作日', '张三', '养老服务处', '查看案件', '延期申请']) expect(text).toContain(s);
  });
});
