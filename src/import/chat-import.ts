import { z } from 'zod';
import type { Clocks } from '../domain/clocks.ts';
import { isCoordinator, type Actor } from '../domain/types.ts';
import type { DbOrTrx } from '../storage/database.ts';
import { applyImportPlan, describePlan, ImportConflictError, planImport, type ImportPlan } from './apply.ts';
import { insertPendingImport, lockPendingImport, decidePendingImport, purgeOldPendingImports } from './pending-import.repository.ts';
import { ImportFileError, importFileType, readImportBytes, type ImportProblem } from './read.ts';
import { validateRows, type ImportedCase } from './validate.ts';

// Importing by dropping the file into the chat: the same reading, checks and planning as `npm run import`, a
// preview the coordinator confirms or cancels, and the apply in one transaction. Lark is not seen here: the caller
// downloads the bytes and sends the answers.

/** Largest file accepted in chat. */
export const MAX_IMPORT_FILE_BYTES = 20 * 1024 * 1024;
/** How long a preview can be confirmed. */
export const PENDING_IMPORT_TTL_MS = 24 * 3600_000;

/** A Chinese answer refusing the file before it is downloaded, or null when it may be read. */
export function refuseImportFile(actor: Actor, fileName: string): string | null {
  if (!isCoordinator(actor)) return '只有协调员可以导入案件。如需导入，请联系协调员。';
  if (!importFileType(fileName)) {
    const dot = fileName.lastIndexOf('.');
    const ext = dot >= 0 ? fileName.slice(dot).toLowerCase() : '';
    const hint = ext === '.xls' || ext === '.et' || ext === '.wps' ? '请在 Excel/WPS 中另存为 .xlsx 或“CSV UTF-8”后再发送' : '请发送 .xlsx 或 .csv 文件';
    return `无法导入“${fileName}”：只支持 .xlsx 和 .csv 文件，${hint}。`;
  }
  return null;
}

/** The answer to a file over MAX_IMPORT_FILE_BYTES. */
export function tooLargeAnswer(fileName: string): string {
  return `无法导入“${fileName}”：文件超过 ${MAX_IMPORT_FILE_BYTES / 1024 / 1024} MB。请删去无关的工作表、图片后再发送，或分成几个文件导入。`;
}

export interface ImportCounts {
  create: number;
  update: number;
  unchanged: number;
}

/** What the preview card shows. */
export type ImportPreview =
  /** The file cannot be read at all (not a spreadsheet, no header row, empty …). */
  | { kind: 'unreadable'; fileName: string; reason: string }
  /** Rows with problems: nothing can be imported until the file is fixed; counts are of the rows without problems. */
  | { kind: 'problems'; fileName: string; problems: ImportProblem[]; warnings: ImportProblem[]; counts: ImportCounts }
  /** Every row is already stored as it is. */
  | { kind: 'unchanged'; fileName: string; warnings: ImportProblem[]; counts: ImportCounts }
  | { kind: 'ready'; fileName: string; importId: number; warnings: ImportProblem[]; counts: ImportCounts; lines: string[]; expiresAt: Date };

/** Reads and checks the file, compares it with what is stored and, when it can be applied, stores it as pending. */
export async function previewImport(
  trx: DbOrTrx,
  input: { fileName: string; bytes: Buffer; actor: Actor; chatId: string; messageId: string; clocks: Clocks; now: Date },
): Promise<ImportPreview> {
  const { fileName } = input;
  let sheet;
  try {
    sheet = await readImportBytes(fileName, input.bytes);
  } catch (err) {
    if (err instanceof ImportFileError) return { kind: 'unreadable', fileName, reason: err.message };
    throw err;
  }
  const { cases, problems } = validateRows(sheet);
  if (cases.length === 0 && problems.length === 0) return { kind: 'unreadable', fileName, reason: `文件“${fileName}”在表头下没有任何案件` };
  const plan = await planImport(trx, cases, input.clocks);
  if (problems.length > 0) return { kind: 'problems', fileName, problems, warnings: sheet.warnings, counts: plan.counts };
  if (plan.counts.create + plan.counts.update === 0) return { kind: 'unchanged', fileName, warnings: sheet.warnings, counts: plan.counts };
  await purgeOldPendingImports(trx, input.now);
  const importId = await insertPendingImport(trx, {
    openId: input.actor.openId,
    chatId: input.chatId,
    messageId: input.messageId,
    fileName,
    cases,
    warnings: sheet.warnings,
    ttlMs: PENDING_IMPORT_TTL_MS,
    now: input.now,
  });
  return {
    kind: 'ready',
    fileName,
    importId,
    warnings: sheet.warnings,
    counts: plan.counts,
    lines: describePlan(plan).slice(0, -1),
    expiresAt: new Date(input.now.getTime() + PENDING_IMPORT_TTL_MS),
  };
}

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
// The stored rows were validated when the file came in; they are checked again because they come back from storage.
const storedCases = z.array(
  z.strictObject({
    row: z.number().int(),
    caseNo: z.string().min(1),
    kind: z.enum(['建议', '提案']),
    year: z.number().int(),
    session: z.string(),
    title: z.string().min(1),
    proposer: z.string(),
    roleLabel: z.string().min(1),
    role: z.enum(['lead', 'sole', 'separate', 'assisting']),
    leadUnit: z.string(),
    assistingUnits: z.array(z.string()),
    unit: z.string().nullable(),
    assignedDate: isoDate,
    fixedDueDate: isoDate.nullable(),
    disclosure: z.enum(['主动公开', '依申请公开', '不予公开']).nullable(),
  }),
);

export type ImportDecision =
  | { outcome: 'applied'; fileName: string; plan: ImportPlan; changedCaseIds: number[]; message: string }
  | { outcome: 'cancelled'; fileName: string; message: string }
  /** Nothing done; `settled` says the import was already applied, cancelled or expired (its card should say so). */
  | { outcome: 'refused'; message: string; fileName?: string; settled?: 'applied' | 'cancelled' | 'expired' };

/**
 * 确认导入: applies the stored import in the caller's transaction, planned again against what is stored now (a case
 * claimed or changed since the preview keeps its workflow fields). Each updated case goes through the case-changed point
 * (applyImportPlan), so its live cards are redrawn.
 */
export async function confirmImport(
  trx: DbOrTrx,
  importId: number,
  actor: Actor,
  clocks: Clocks,
  now: Date,
): Promise<ImportDecision> {
  if (!isCoordinator(actor)) return { outcome: 'refused', message: '只有协调员可以确认导入。' };
  const pending = await lockPendingImport(trx, importId);
  if (!pending) return { outcome: 'refused', message: '找不到这次导入，请重新发送文件。' };
  if (pending.status === 'applied') return { outcome: 'refused', fileName: pending.fileName, message: `“${pending.fileName}”已经导入，无需重复确认。`, settled: 'applied' };
  if (pending.status === 'cancelled') return { outcome: 'refused', fileName: pending.fileName, message: `“${pending.fileName}”的导入已取消，如需导入请重新发送文件。`, settled: 'cancelled' };
  if (pending.expiresAt <= now) return { outcome: 'refused', fileName: pending.fileName, message: `“${pending.fileName}”的导入预览已超过24小时失效，请重新发送文件。`, settled: 'expired' };
  const parsed = storedCases.safeParse(pending.cases);
  if (!parsed.success) return { outcome: 'refused', fileName: pending.fileName, message: '这次导入的数据已损坏，请重新发送文件。' };
  const cases: ImportedCase[] = parsed.data;
  const plan = await planImport(trx, cases, clocks);
  try {
    await applyImportPlan(trx, plan, actor.openId, pending.fileName);
  } catch (err) {
    if (err instanceof ImportConflictError) return { outcome: 'refused', fileName: pending.fileName, message: err.message };
    throw err;
  }
  await decidePendingImport(trx, importId, 'applied', actor.openId, now);
  const changedCaseIds = plan.items.flatMap((i) => (i.action === 'update' ? [i.caseId] : []));
  const { create, update, unchanged } = plan.counts;
  return { outcome: 'applied', fileName: pending.fileName, plan, changedCaseIds, message: `已导入“${pending.fileName}”：新增 ${create} 件，更新 ${update} 件，未变化 ${unchanged} 件。` };
}

/** 取消: discards the stored import. */
export async function cancelImport(trx: DbOrTrx, importId: number, actor: Actor, now: Date): Promise<ImportDecision> {
  if (!isCoordinator(actor)) return { outcome: 'refused', message: '只有协调员可以取消导入。' };
  const pending = await lockPendingImport(trx, importId);
  if (!pending) return { outcome: 'refused', message: '找不到这次导入。' };
  if (pending.status === 'applied') return { outcome: 'refused', fileName: pending.fileName, message: `“${pending.fileName}”已经导入，不能再取消。`, settled: 'applied' };
  if (pending.status === 'cancelled') return { outcome: 'refused', fileName: pending.fileName, message: `“${pending.fileName}”的导入已取消。`, settled: 'cancelled' };
  await decidePendingImport(trx, importId, 'cancelled', actor.openId, now);
  return { outcome: 'cancelled', fileName: pending.fileName, message: `已取消导入“${pending.fileName}”，未写入任何数据。` };
}
