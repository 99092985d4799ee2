// The import preview: what a file sent in chat would change (new / changed / unchanged), every problem by row,
// column and reason, and 确认导入 / 取消 while it can still be applied; redrawn with the outcome once decided.

import { BULLET, callbackButton, card, clip, coloured, escapeMd, md, plain, row, type Card, type CardElement, type HeaderTemplate } from './components.ts';
import { CARD_TARGET_BYTES, cardByteSize } from './schema.ts';

export interface ImportProblemView {
  row: number;
  column: string;
  reason: string;
}

export interface ImportPreviewView {
  fileName: string;
  /**
   * ready: can be confirmed; problems: rows with problems, nothing can be imported; unchanged: nothing to do;
   * unreadable: not a usable file; applied / cancelled / expired: decided (or lapsed), no buttons.
   */
  state: 'ready' | 'problems' | 'unchanged' | 'unreadable' | 'applied' | 'cancelled' | 'expired';
  counts: { create: number; update: number; unchanged: number } | null;
  problems: readonly ImportProblemView[];
  warnings: readonly ImportProblemView[];
  /** What will change, one line per case (新增 … / 更新 …). */
  changes: readonly string[];
  /** Needed for the buttons of a 'ready' preview. */
  importId: number | null;
  /** e.g. "2024-07-16 10:00" */
  expiresAt: string | null;
  /** The outcome or the reason, shown under the title (Chinese). */
  note: string | null;
}

const TITLES: Record<ImportPreviewView['state'], [string, HeaderTemplate]> = {
  ready: ['导入预览', 'blue'],
  problems: ['导入预览：文件有问题', 'red'],
  unchanged: ['导入预览：没有需要导入的变化', 'grey'],
  unreadable: ['无法导入', 'red'],
  applied: ['已导入', 'green'],
  cancelled: ['已取消导入', 'grey'],
  expired: ['导入预览已失效', 'grey'],
};

const describe = (p: ImportProblemView) => `第${p.row}行「${p.column}」：${p.reason}`;

function render(view: ImportPreviewView, shownProblems: number, shownChanges: number): Card {
  const [title, template] = TITLES[view.state];
  const elements: CardElement[] = [md(`**文件**：${escapeMd(clip(view.fileName, 80))}`)];
  if (view.note) elements.push(md(escapeMd(view.note)));
  if (view.counts) {
    const { create, update, unchanged } = view.counts;
    const scope = view.state === 'problems' ? '（仅统计没有问题的行）' : '';
    elements.push(md(`新增 **${create}** 件，更新 **${update}** 件，未变化 **${unchanged}** 件${scope}`));
  }
  if (view.problems.length > 0) {
    const lines = view.problems.slice(0, shownProblems).map((p) => `${BULLET}${escapeMd(describe(p))}`);
    const left = view.problems.length - shownProblems;
    if (left > 0) lines.push(coloured(`另有 ${left} 处问题，完整清单见下一条消息`, 'grey'));
    elements.push(md(`**${view.problems.length} 处问题**（改好后请重新发送文件，有问题的文件不会导入任何数据）：\n${lines.join('\n')}`));
  }
  if (view.warnings.length > 0) {
    elements.push(md(coloured(view.warnings.slice(0, 10).map((w) => escapeMd(describe(w))).join('\n'), 'grey'), { text_size: 'notation' }));
  }
  if (view.state === 'ready' && view.changes.length > 0) {
    const lines = view.changes.slice(0, shownChanges).map((l) => `${BULLET}${escapeMd(clip(l, 120))}`);
    if (view.changes.length > shownChanges) lines.push(coloured(`另有 ${view.changes.length - shownChanges} 件未列出`, 'grey'));
    elements.push(md(lines.join('\n'), { text_size: 'notation' }));
  }
  if (view.state === 'ready' && view.importId !== null) {
    if (view.expiresAt) elements.push(md(coloured(`请在 ${view.expiresAt} 前确认，逾期需重新发送文件。`, 'grey'), { text_size: 'notation' }));
    elements.push(
      row([
        callbackButton('确认导入', { action: 'confirm_import', importId: view.importId }, {
          type: 'primary_filled',
          confirm: { title: '确认导入', text: `将新增 ${view.counts?.create ?? 0} 件、更新 ${view.counts?.update ?? 0} 件案件，确认导入吗？` },
        }),
        callbackButton('取消', { action: 'cancel_import', importId: view.importId }, { type: 'default' }),
      ]),
    );
  }
  return card({ title: plain(title), template }, elements, `${title} ${view.fileName}`);
}

/** The preview card, and how many problems it lists (the rest must be sent as text: every problem is shown). */
export function buildImportPreviewCard(view: ImportPreviewView): { card: Card; shownProblems: number } {
  let problems = Math.min(view.problems.length, 60);
  let changes = Math.min(view.changes.length, 30);
  let built = render(view, problems, changes);
  while (cardByteSize(built) > CARD_TARGET_BYTES && (problems > 5 || changes > 5)) {
    problems = Math.max(Math.min(5, problems), Math.floor(problems * 0.7));
    changes = Math.max(Math.min(5, changes), Math.floor(changes * 0.7));
    built = render(view, problems, changes);
  }
  return { card: built, shownProblems: problems };
}

/** Bytes of one text message we send, well under Lark's 150 KB for text. */
const MAX_TEXT_BYTES = 60 * 1024;

/**
 * Every problem as text, for the messages that follow a card that could not list them all: one or more texts, each
 * well under Lark's size limit for a text message.
 */
export function importProblemLines(view: Pick<ImportPreviewView, 'fileName' | 'problems'>): string[] {
  const lines = [`“${view.fileName}”中的全部 ${view.problems.length} 处问题：`, ...view.problems.map(describe)];
  const messages: string[] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    const size = Buffer.byteLength(line, 'utf8') + 1;
    if (current.length > 0 && bytes + size > MAX_TEXT_BYTES) {
      messages.push(current.join('\n'));
      current = [];
      bytes = 0;
    }
    current.push(line);
    bytes += size;
  }
  if (current.length > 0) messages.push(current.join('\n'));
  return messages;
}
