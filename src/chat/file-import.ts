// A file sent to the bot is an import: downloaded (outside any transaction: Lark may be slow), read and checked like
// `npm run import`, and answered with a preview card that a coordinator confirms or cancels (card-actions/
// import-decision.ts). In a private chat every file gets an answer; in a group (seen only with the all-group-messages
// scope) only a coordinator's .xlsx/.csv is taken as an import, and other people's files are left alone.

import { buildImportPreviewCard, importProblemLines, type ImportPreviewView } from '../../cards/index.ts';
import { ensureChat } from '../cases/chat.repository.ts';
import { rolesOf, upsertUser } from '../cases/case.repository.ts';
import { inCaseTransaction } from '../cases/case.service.ts';
import { isCoordinator, type Actor } from '../domain/types.ts';
import { MAX_IMPORT_FILE_BYTES, previewImport, refuseImportFile, tooLargeAnswer, type ImportPreview } from '../import/chat-import.ts';
import { FileTooLargeError } from '../lark/files.ts';
import { enqueueMessage, type OutboxContent } from '../lark/outbox.ts';
import type { Trx } from '../storage/database.ts';
import { text } from './command.ts';
import type { Middleware, MessageTurn } from './middleware.ts';

function expiresText(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('zh-CN', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

/** The preview as a card view. */
export function previewView(p: ImportPreview, timeZone: string): ImportPreviewView {
  const base = { fileName: p.fileName, problems: [], warnings: [], changes: [], importId: null, expiresAt: null, note: null, counts: null };
  switch (p.kind) {
    case 'unreadable':
      return { ...base, state: 'unreadable', note: p.reason };
    case 'problems':
      return { ...base, state: 'problems', counts: p.counts, problems: p.problems, warnings: p.warnings };
    case 'unchanged':
      return { ...base, state: 'unchanged', counts: p.counts, warnings: p.warnings, note: '文件中的案件与现有数据一致，无需导入。' };
    case 'ready':
      return { ...base, state: 'ready', counts: p.counts, warnings: p.warnings, changes: p.lines, importId: p.importId, expiresAt: expiresText(p.expiresAt, timeZone) };
  }
}

/** Handles file messages (and only them); everything else goes on down the chain. */
export const fileImport: Middleware<MessageTurn> = async (turn, next) => {
  const { msg, chat } = turn;
  if (msg.messageType !== 'file') return next();
  const file = msg.file;
  const inGroup = msg.chatType === 'group';
  const roles = await rolesOf(chat.db, msg.senderOpenId);
  if (chat.adminOpenIds.includes(msg.senderOpenId)) roles.add('coordinator');
  const actor: Actor = { openId: msg.senderOpenId, name: '', roles };
  const reply = async (build: (trx: Trx) => Promise<OutboxContent[]>) => {
    await inCaseTransaction(chat.db, async (trx) => {
      await turn.settle(trx);
      await upsertUser(trx, { openId: msg.senderOpenId });
      await ensureChat(trx, msg.chatId);
      for (const content of await build(trx)) await enqueueMessage(trx, { replyTo: msg.messageId, chatId: msg.chatId }, content);
    });
    chat.kick();
  };
  if (!file) return reply(async () => [text('没能读到这个文件的信息，请重新发送。')]);
  const refusal = refuseImportFile(actor, file.fileName);
  // People share files in groups all the time; only a coordinator's spreadsheet there is meant for the bot.
  if (refusal && inGroup) return;
  if (refusal) return reply(async () => [text(refusal)]);
  if (!chat.files) return reply(async () => [text('暂时无法下载文件，请稍后重试。')]);

  let bytes: Buffer;
  try {
    bytes = await chat.files.download(msg.messageId, file.fileKey, MAX_IMPORT_FILE_BYTES);
  } catch (err) {
    if (err instanceof FileTooLargeError) return reply(async () => [text(tooLargeAnswer(file.fileName))]);
    chat.logger.warn({ err: err instanceof Error ? err.message : String(err), messageId: msg.messageId }, 'import: file download failed');
    return reply(async () => [text(`没能从飞书下载“${file.fileName}”，请稍后重新发送。如仍失败，请联系管理员检查应用的 im:resource 权限。`)]);
  }
  if (bytes.length === 0) return reply(async () => [text(`文件“${file.fileName}”是空的，请检查后重新发送。`)]);
  await reply(async (trx) => {
    const preview = await previewImport(trx, { fileName: file.fileName, bytes, actor, chatId: msg.chatId, messageId: msg.messageId, clocks: chat.clocks, now: new Date() });
    const view = previewView(preview, chat.timeZone);
    const { card, shownProblems } = buildImportPreviewCard(view);
    const out: OutboxContent[] = [{ kind: 'card', card }];
    // Every problem is shown: what did not fit on the card follows as text.
    if (shownProblems < view.problems.length) for (const part of importProblemLines(view)) out.push(text(part));
    return out;
  });
};
