import { describe, expect, it } from 'vitest';
import { buildImportPreviewCard, CARD_MAX_BYTES, cardByteSize, importProblemLines, parseCallbackValue, validateCard, type ImportPreviewView } from '../../cards/index.ts';
import { cardTexts, findButtons } from '../support/lark/cards.ts';

// The import preview stays a valid card whatever the file holds, and every problem reaches the coordinator.

const base: ImportPreviewView = {
  fileName: '2024年建议.xlsx',
  state: 'ready',
  counts: { create: 3, update: 1, unchanged: 7 },
  problems: [],
  warnings: [{ row: 1, column: '备注', reason: '未识别的列（第L列），已忽略' }],
  changes: ['新增 第2行 建议 20240562「关于…的建议」，主办，答复期限 2024-06-20', '更新 第3行 建议 20240252：案由 旧 → 新'],
  importId: 42,
  expiresAt: '2024-07-16 10:00',
  note: null,
};

describe('the import preview card', () => {
  it('offers 确认导入 and 取消 for a file without problems, naming the stored import', () => {
    const { card } = buildImportPreviewCard(base);
    expect(validateCard(card)).toEqual({ ok: true });
    const buttons = findButtons(card);
    expect(buttons.map((b) => b.text)).toEqual(['确认导入', '取消']);
    expect(parseCallbackValue(buttons[0]!.value)).toEqual({ action: 'confirm_import', importId: 42 });
    expect(parseCallbackValue(buttons[1]!.value)).toEqual({ action: 'cancel_import', importId: 42 });
    expect(cardTexts(card).join('\n')).toContain('新增 **3** 件，更新 **1** 件，未变化 **7** 件');
  });

  it('has no button when the file has problems, and fits 2,000 problems by sending the rest as text', () => {
    const problems = Array.from({ length: 2000 }, (_, i) => ({ row: i + 2, column: '交办日期', reason: '“2024-13-01”不是有效日期，请使用 2024-03-20 格式' }));
    const view: ImportPreviewView = { ...base, state: 'problems', problems, importId: null, changes: [] };
    const { card, shownProblems } = buildImportPreviewCard(view);
    expect(validateCard(card)).toEqual({ ok: true });
    expect(cardByteSize(card)).toBeLessThan(CARD_MAX_BYTES);
    expect(findButtons(card)).toEqual([]);
    expect(shownProblems).toBeLessThan(2000);
    expect(cardTexts(card).join('\n')).toContain(`另有 ${2000 - shownProblems} 处问题，完整清单见下一条消息`);
    const messages = importProblemLines(view);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) expect(Buffer.byteLength(m, 'utf8')).toBeLessThan(150 * 1024);
    const lines = messages.join('\n').split('\n');
    expect(lines).toHaveLength(2001);
    expect(lines[2000]).toBe('第2001行「交办日期」：“2024-13-01”不是有效日期，请使用 2024-03-20 格式');
  });

  it('shows the outcome without buttons once decided', () => {
    for (const state of ['applied', 'cancelled', 'expired', 'unreadable', 'unchanged'] as const) {
      const { card } = buildImportPreviewCard({ ...base, state, importId: null, note: '说明' });
      expect(validateCard(card)).toEqual({ ok: true });
      expect(findButtons(card)).toEqual([]);
    }
  });
});
