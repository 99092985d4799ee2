import { appendTimelineEntries, casesNumbered, casesWithApprovedExtension, insertImportedCases, updateImportedFieldsOfMany } from '../cases/case.repository.ts';
import { caseChanged } from '../cases/case-changed.ts';
import type { Clocks } from '../domain/clocks.ts';
import type { DbOrTrx } from '../storage/database.ts';
import type { CaseRow } from '../storage/schema.ts';
import type { ImportedCase } from './validate.ts';

// Turns validated rows into a plan (create / update / unchanged) against what is stored, and applies a plan. The same
// planning serves the dry run and the commit, so what the dry run prints is what the commit does.

/** The stored fields an import owns; everything else (status, handler, history) belongs to the workflow. */
interface ImportedFields {
  session: string;
  title: string;
  proposer: string;
  role_label: string;
  role: string;
  lead_unit: string;
  assisting_units: string[];
  unit: string | null;
  assigned_date: string;
  fixed_due_date: string | null;
  disclosure: string | null;
}

const FIELD_LABELS: Record<keyof ImportedFields | 'reply_due_date', string> = {
  session: '届次',
  title: '案由',
  proposer: '提出人',
  role_label: '办理类别',
  role: '办理类别',
  lead_unit: '主办单位',
  assisting_units: '会办单位',
  unit: '承办处室',
  assigned_date: '交办日期',
  fixed_due_date: '答复期限',
  disclosure: '公开情况',
  reply_due_date: '答复期限（计算）',
};

export interface FieldChange {
  field: keyof ImportedFields | 'reply_due_date';
  label: string;
  before: unknown;
  after: unknown;
}

export type PlanItem =
  | { action: 'create'; row: number; input: ImportedCase; replyDueDate: string }
  | { action: 'update'; row: number; input: ImportedCase; caseId: number; version: number; changes: FieldChange[] }
  | { action: 'unchanged'; row: number; input: ImportedCase; caseId: number };

export interface ImportPlan {
  items: PlanItem[];
  counts: { create: number; update: number; unchanged: number };
}

function fieldsOf(c: ImportedCase): ImportedFields {
  return {
    session: c.session,
    title: c.title,
    proposer: c.proposer,
    role_label: c.roleLabel,
    role: c.role,
    lead_unit: c.leadUnit,
    assisting_units: c.assistingUnits,
    unit: c.unit,
    assigned_date: c.assignedDate,
    fixed_due_date: c.fixedDueDate,
    disclosure: c.disclosure,
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function diff(row: CaseRow, input: ImportedCase, clocks: Clocks): FieldChange[] {
  const next = fieldsOf(input);
  const changes: FieldChange[] = [];
  for (const key of Object.keys(next) as (keyof ImportedFields)[]) {
    // A file without 承办处室 says nothing about the section; it does not clear one set in the bot.
    if (key === 'unit' && next.unit === null) continue;
    // The 公开情况 recorded with a reply is the fact; the file's plan no longer applies once replied.
    if (key === 'disclosure' && (next.disclosure === null || ['replied', 'closed'].includes(row.status))) continue;
    if (key === 'role' && row.role_label !== next.role_label) continue; // reported once, as the label
    if (!same(row[key], next[key])) changes.push({ field: key, label: FIELD_LABELS[key], before: row[key], after: next[key] });
  }
  const clockInputs = changes.some((c) => ['assigned_date', 'fixed_due_date', 'role_label', 'role'].includes(c.field));
  // The due date follows the file only while the case is in its first round and no extension was approved: an
  // approved extension or a reopened case set their own dates, which an import must not silently undo.
  if (clockInputs && row.round === 1) {
    const due = clocks.replyDue({ assignedDate: input.assignedDate, role: input.role, fixedDueDate: input.fixedDueDate });
    if (due !== row.reply_due_date) changes.push({ field: 'reply_due_date', label: FIELD_LABELS.reply_due_date, before: row.reply_due_date, after: due });
  }
  return changes;
}

/** Compares the file with what is stored. */
export async function planImport(db: DbOrTrx, cases: readonly ImportedCase[], clocks: Clocks): Promise<ImportPlan> {
  const items: PlanItem[] = [];
  const existing = await casesNumbered(db, [...new Set(cases.map((c) => c.caseNo))]);
  const byKey = new Map(existing.map((r) => [`${r.kind}|${r.year}|${r.case_no}`, r]));
  const approvedExtensions = await casesWithApprovedExtension(db, existing.map((r) => r.id));
  for (const input of cases) {
    const row = byKey.get(`${input.kind}|${input.year}|${input.caseNo}`);
    if (!row) {
      items.push({ action: 'create', row: input.row, input, replyDueDate: clocks.replyDue(input) });
      continue;
    }
    let changes = diff(row, input, clocks);
    if (approvedExtensions.has(row.id)) changes = changes.filter((c) => c.field !== 'reply_due_date');
    items.push(
      changes.length === 0
        ? { action: 'unchanged', row: input.row, input, caseId: row.id }
        : { action: 'update', row: input.row, input, caseId: row.id, version: row.version, changes },
    );
  }
  const count = (a: PlanItem['action']) => items.filter((i) => i.action === a).length;
  return { items, counts: { create: count('create'), update: count('update'), unchanged: count('unchanged') } };
}

export class ImportConflictError extends Error {
  override name = 'ImportConflictError';
}

// Rows per statement. Updates bind a few parameters a row, far below PostgreSQL's 65,535 per statement. New cases go
// as one jsonb parameter per statement (with their timeline entries): a year's batch (10,000 rows) in five
// statements, each small enough that the embedded database's memory, which never shrinks, grows little for it.
const CHUNK = 500;
const CREATE_CHUNK = 2000;

/** Called after each written chunk: rows written so far, of the rows to write. */
export type ImportProgress = (done: number, total: number) => void;

/** Applies a plan inside the caller's transaction, in batches; every change lands on the case timeline. */
export async function applyImportPlan(
  trx: DbOrTrx,
  plan: ImportPlan,
  actorOpenId: string | null,
  source: string,
  onProgress: ImportProgress = () => {},
  chunkRows: { create: number; update: number } = { create: CREATE_CHUNK, update: CHUNK },
): Promise<void> {
  const creates = plan.items.filter((i): i is Extract<PlanItem, { action: 'create' }> => i.action === 'create');
  const updates = plan.items.filter((i): i is Extract<PlanItem, { action: 'update' }> => i.action === 'update');
  const total = creates.length + updates.length;
  let done = 0;
  for (const chunk of chunks(creates, chunkRows.create)) {
    const inserted = await insertImportedCases(
      trx,
      chunk.map((item) => ({
        case: { kind: item.input.kind, year: item.input.year, case_no: item.input.caseNo, ...fieldsOf(item.input), reply_due_date: item.replyDueDate, status: 'unclaimed' },
        facts: { type: 'imported', source, row: item.row, replyDueDate: item.replyDueDate },
        after: { ...fieldsOf(item.input), reply_due_date: item.replyDueDate },
      })),
      actorOpenId,
    );
    if (inserted !== chunk.length) throw new Error(`inserted ${inserted} of ${chunk.length} imported cases`);
    onProgress((done += chunk.length), total);
  }
  for (const chunk of chunks(updates, chunkRows.update)) {
    // Only a case still at the version the plan saw is updated: one changed in the bot meanwhile fails the whole
    // import instead of being overwritten.
    const updated = await updateImportedFieldsOfMany(
      trx,
      chunk.map((item) => ({ caseId: item.caseId, version: item.version, set: Object.fromEntries(item.changes.map((c) => [c.field, c.after])) })),
    );
    const missed = chunk.find((item) => !updated.has(item.caseId));
    if (missed) throw new ImportConflictError(`案件 ${missed.input.caseNo} 在导入过程中被修改，请重新运行导入。`);
    await appendTimelineEntries(
      trx,
      chunk.map((item) => ({
        caseId: item.caseId,
        actorOpenId,
        facts: { type: 'import_updated', source, row: item.row, changes: item.changes.map((c) => ({ label: c.label, before: c.before, after: c.after })) },
        before: Object.fromEntries(item.changes.map((c) => [c.field, c.before])),
        after: Object.fromEntries(item.changes.map((c) => [c.field, c.after])),
      })),
    );
    // Live cards of the case show the new title, due date or role; a digest listing it is redrawn the same way.
    for (const item of chunk) await caseChanged(trx, { caseId: item.caseId, source: { kind: 'import', fields: item.changes.map((c) => c.field) } });
    onProgress((done += chunk.length), total);
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function fmt(v: unknown): string {
  if (v === null || v === undefined || v === '') return '（空）';
  if (Array.isArray(v)) return v.length ? v.join('、') : '（空）';
  return String(v);
}

/** The plan as lines a person reads (Chinese). */
export function describePlan(plan: ImportPlan): string[] {
  const lines: string[] = [];
  for (const item of plan.items) {
    const head = `第${item.row}行 ${item.input.kind} ${item.input.caseNo}`;
    if (item.action === 'create') lines.push(`新增 ${head}「${item.input.title}」，${item.input.roleLabel}，答复期限 ${item.replyDueDate}`);
    else if (item.action === 'update') lines.push(`更新 ${head}：${item.changes.map((c) => `${c.label} ${fmt(c.before)} → ${fmt(c.after)}`).join('；')}`);
  }
  const { create, update, unchanged } = plan.counts;
  lines.push(`合计：新增 ${create} 件，更新 ${update} 件，未变化 ${unchanged} 件。`);
  return lines;
}
