import type { Clocks } from '../domain/clocks.ts';
import { decide, type CaseAction, type Outcome } from '../domain/workflow.ts';
import type { Actor, CaseState, IsoDate } from '../domain/types.ts';
import { enqueueCaseCardUpdates, enqueueMessage, enqueueRequestCardUpdates } from '../lark/outbox.ts';
import type { Db, Trx } from '../storage/database.ts';
import { applyDecision, coordinatorIds, loadCaseState, pendingRequestId, StaleCaseError } from './case.repository.ts';

// Applying an action to a case: load it as it is now, let the workflow decide, and write the decision, its timeline
// event, the card updates and the notifications in the caller's transaction.

export interface CaseServiceContext {
  today: IsoDate;
  clocks: Clocks;
  resultClasses: readonly string[];
  maxRehandlings: number;
  /** The first coordinators (BANLI_ADMIN_OPEN_IDS), who get decision cards even without a stored role. */
  adminOpenIds: readonly string[];
}

const MAX_ATTEMPTS = 5;

/**
 * Runs fn in a transaction, and runs it again from the start when a case it decided on was changed by someone else
 * in the meantime: the second run sees the case as it is now (e.g. "已由张三认领").
 */
export async function inCaseTransaction<T>(db: Db, fn: (trx: Trx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(fn);
    } catch (err) {
      if (!(err instanceof StaleCaseError) || attempt >= MAX_ATTEMPTS) throw err;
    }
  }
}

/** Decides and, when allowed, applies one action; the caller owns the transaction (see inCaseTransaction). */
export async function actOnCase(
  trx: Trx,
  ctx: CaseServiceContext,
  caseId: number,
  action: CaseAction,
  actor: Actor,
): Promise<Outcome> {
  const before = await loadCaseState(trx, caseId);
  if (!before) return { ok: false, code: 'bad_input', message: '找不到该案件，可能已被删除。' };
  const outcome = decide(before, action, actor, ctx);
  if (!outcome.ok) return outcome;
  await applyDecision(trx, before, outcome, actor);
  await enqueueCaseCardUpdates(trx, caseId);
  // A request decided (or withdrawn) here: every coordinator's copy of its decision card shows the outcome.
  for (const e of outcome.effects) {
    if (e.type === 'close_extension') await enqueueRequestCardUpdates(trx, 'extension', e.requestId);
    if (e.type === 'close_adjustment') await enqueueRequestCardUpdates(trx, 'adjustment', e.requestId);
  }
  await notify(trx, ctx, before, action, actor);
  return outcome;
}

/** Tells the people an action concerns who were not there to see it. */
async function notify(trx: Trx, ctx: CaseServiceContext, c: CaseState, action: CaseAction, actor: Actor): Promise<void> {
  switch (action.type) {
    case 'request_extension':
    case 'request_adjustment': {
      const kind = action.type === 'request_extension' ? 'extension' : 'adjustment';
      const id = await pendingRequestId(trx, kind === 'extension' ? 'extension_requests' : 'adjustment_requests', c.id);
      if (id === undefined) return;
      for (const openId of await coordinatorIds(trx, ctx.adminOpenIds)) {
        await enqueueMessage(trx, { openId }, { kind: 'request_card', requestKind: kind, requestId: id });
      }
      return;
    }
    case 'decide_extension':
    case 'decide_adjustment': {
      const req = action.type === 'decide_extension' ? c.pendingExtension : c.pendingAdjustment;
      if (!req || req.requestedBy.openId === actor.openId) return;
      const what = action.type === 'decide_extension' ? `延期至 ${c.pendingExtension?.until} 的申请` : '调整申请';
      const verdict = action.approve ? '已同意' : '未同意';
      const note = action.note.trim() ? `（${action.note.trim()}）` : '';
      await enqueueMessage(trx, { openId: req.requestedBy.openId }, { kind: 'text', text: `您提交的案件 ${c.caseNo} ${what}，${actor.name}${verdict}${note}。` });
      return;
    }
    case 'handover':
      if (action.to.openId !== actor.openId) {
        await enqueueMessage(trx, { openId: action.to.openId }, { kind: 'case_card', caseId: c.id, notice: `${actor.name}将案件 ${c.caseNo} 交由您承办。` });
      }
      return;
    default:
      return;
  }
}
