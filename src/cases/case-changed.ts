// The one point every change to a case goes through, whoever made it (the workflow, an import, a late name): it
// queues the redraw of every live card that shows the case and tells the people concerned. Listeners run inside the
// transaction of the change, so a change and its messages commit together.
//
// To react to case changes elsewhere (e.g. redraw the day's digest cards that list a case), write a listener
//   async (trx, change) => { … queue outbox rows through a repository … }
// and add it to CASE_CHANGED_LISTENERS below. A listener must not decide anything about the case itself.

import type { Actor, CaseState } from '../domain/types.ts';
import type { CaseAction, Decision } from '../domain/workflow.ts';
import { enqueueCaseCardUpdates, enqueueMessage, enqueueRequestCardUpdates } from '../lark/outbox.ts';
import { enqueueReminderCardUpdates } from '../reminders/reminder.repository.ts';
import type { DbOrTrx } from '../storage/database.ts';
import { coordinatorIds } from './case.repository.ts';

/** What changed a case. */
export type CaseChangeSource =
  | {
      kind: 'workflow';
      before: CaseState;
      action: CaseAction;
      actor: Actor;
      decision: Decision;
      openedRequests: { extension?: number; adjustment?: number };
      /** The first coordinators (BANLI_ADMIN_OPEN_IDS), who get decision cards even without a stored role. */
      adminOpenIds: readonly string[];
    }
  | { kind: 'import'; fields: readonly string[] }
  /** A person's name became known: the cards naming them are redrawn. */
  | { kind: 'name'; openId: string };

export interface CaseChange {
  caseId: number;
  source: CaseChangeSource;
  /**
   * The card the change was made on, which Lark redraws from the click's answer: no patch is queued for it (the
   * click path queues one itself when its answer was late).
   */
  answeredCard?: AnsweredCard;
}

/** A card a click was made on; a reminder card (a digest, a 督办 card) is not a case card and is not remembered as one. */
export interface AnsweredCard {
  messageId: string;
  chatId: string | null;
  kind?: 'case_card' | 'reminder_card';
}

export type CaseChangedListener = (trx: DbOrTrx, change: CaseChange) => Promise<void>;

/** Every live case card shows the case as it now is. */
const redrawCaseCards: CaseChangedListener = async (trx, change) => {
  const answered = change.answeredCard;
  await enqueueCaseCardUpdates(trx, change.caseId, answered && answered.kind !== 'reminder_card' ? { messageId: answered.messageId, chatId: answered.chatId } : undefined);
};

/** The day's digests and 督办 cards that list the case show it done once it is (claimed, replied, rated …). */
const redrawReminderCards: CaseChangedListener = async (trx, change) => {
  await enqueueReminderCardUpdates(trx, change.caseId, change.answeredCard?.messageId);
};

/** A request decided (or withdrawn): every coordinator's copy of its decision card shows the outcome. */
const redrawDecisionCards: CaseChangedListener = async (trx, change) => {
  if (change.source.kind !== 'workflow') return;
  for (const e of change.source.decision.effects) {
    if (e.type === 'close_extension') await enqueueRequestCardUpdates(trx, 'extension', e.requestId);
    if (e.type === 'close_adjustment') await enqueueRequestCardUpdates(trx, 'adjustment', e.requestId);
  }
};

/** Tells the people an action concerns who were not there to see it. */
const notifyPeople: CaseChangedListener = async (trx, change) => {
  if (change.source.kind !== 'workflow') return;
  const { before: c, action, actor, openedRequests, adminOpenIds } = change.source;
  switch (action.type) {
    case 'request_extension':
    case 'request_adjustment': {
      const kind = action.type === 'request_extension' ? 'extension' : 'adjustment';
      const id = openedRequests[kind];
      if (id === undefined) return;
      for (const openId of await coordinatorIds(trx, adminOpenIds)) {
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
};

export const CASE_CHANGED_LISTENERS: readonly CaseChangedListener[] = [redrawCaseCards, redrawReminderCards, redrawDecisionCards, notifyPeople];

/** Runs every listener for a change, in the caller's transaction. */
export async function caseChanged(trx: DbOrTrx, change: CaseChange): Promise<void> {
  for (const listener of CASE_CHANGED_LISTENERS) await listener(trx, change);
}
