import type { Clocks } from '../domain/clocks.ts';
import { decide, type CaseAction, type Outcome } from '../domain/workflow.ts';
import type { Actor, IsoDate } from '../domain/types.ts';
import type { Db, Trx } from '../storage/database.ts';
import { StaleCaseError, writeDecision } from './case.repository.ts';
import { caseChanged, type AnsweredCard } from './case-changed.ts';
import { afterDecision, type CaseSnapshot } from './case-snapshot.ts';
import { loadCaseSnapshot } from './case-snapshot.repository.ts';

// Applying an action to a case: read it once; let the workflow decide; write the decision and its timeline event; and
// announce the change (card redraws, notifications) through the one "case changed" point — all in the caller's
// transaction.
//
// The read takes no lock. The write goes through only if the case is still at the version that was read; when someone
// changed it in between, the transaction is run again and decides on the case as it now is. So fifty people clicking
// 认领 at once do not queue on the case's row lock: one claim is written, the other forty-nine find it claimed and are
// answered side by side (a refusal writes nothing to the case). A transaction that lost that race twice reads the case
// under its row lock (FOR UPDATE) from then on, so even a case many people write to at once makes progress.

export interface CaseServiceContext {
  today: IsoDate;
  clocks: Clocks;
  resultClasses: readonly string[];
  maxRehandlings: number;
  /** The first coordinators (BANLI_ADMIN_OPEN_IDS), who get decision cards even without a stored role. */
  adminOpenIds: readonly string[];
}

const MAX_ATTEMPTS = 5;
/** From this attempt on, the case is read under its row lock. */
const LOCK_FROM_ATTEMPT = 3;
/** Transactions (of inCaseTransaction) that read cases under their row lock. */
const locking = new WeakSet<Trx>();

/**
 * Runs fn in a transaction, and runs it again from the start when a case it decided on was changed by someone else
 * in the meantime: the second run sees the case as it is now (e.g. "已由张三认领").
 */
export async function inCaseTransaction<T>(db: Db, fn: (trx: Trx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute((trx) => {
        if (attempt >= LOCK_FROM_ATTEMPT) locking.add(trx);
        return fn(trx);
      });
    } catch (err) {
      if (!(err instanceof StaleCaseError) || attempt >= MAX_ATTEMPTS) throw err;
    }
  }
}

/** An action's outcome, with the case before it and (when it was applied) after it. */
export interface Acted {
  outcome: Outcome;
  /** Undefined when the case does not exist. */
  before?: CaseSnapshot;
  /** The case as the decision left it (built in memory, not read again); undefined when nothing changed. */
  after?: CaseSnapshot;
}

export interface ActOptions {
  /** The card the action was clicked on: Lark redraws it from the click's answer, so no patch is queued for it. */
  answeredCard?: AnsweredCard;
}

/** Decides and, when allowed, applies one action; the caller owns the transaction (see inCaseTransaction). */
export async function actOnCase(trx: Trx, ctx: CaseServiceContext, caseId: number, action: CaseAction, actor: Actor): Promise<Outcome> {
  return (await act(trx, ctx, caseId, action, actor)).outcome;
}

/** As actOnCase, keeping the case as read and as left by the decision (for the card the click answers with). */
export async function act(trx: Trx, ctx: CaseServiceContext, caseId: number, action: CaseAction, actor: Actor, opts: ActOptions = {}): Promise<Acted> {
  const before = await loadCaseSnapshot(trx, caseId, { lock: locking.has(trx) });
  if (!before) return { outcome: { ok: false, code: 'bad_input', message: '找不到该案件，可能已被删除。' } };
  const outcome = decide(before.state, action, actor, ctx);
  if (!outcome.ok) return { outcome, before };
  const written = await writeDecision(trx, before.state, outcome, actor);
  await caseChanged(trx, {
    caseId,
    source: { kind: 'workflow', before: before.state, action, actor, decision: outcome, openedRequests: written.openedRequests, adminOpenIds: ctx.adminOpenIds },
    ...(opts.answeredCard ? { answeredCard: opts.answeredCard } : {}),
  });
  return { outcome, before, after: afterDecision(before, outcome, actor, written) };
}
