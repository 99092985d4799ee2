// Acting on a case from a card: the decision, its writes, and the card as the case now stands, for the answer.

import { buildCaseCard } from '../../../cards/index.ts';
import { findCaseRow } from '../../cases/case.repository.ts';
import { actOnCase } from '../../cases/case.service.ts';
import { loadCaseCardView } from '../../cases/case.view.ts';
import type { CaseAction } from '../../domain/workflow.ts';
import { rememberCaseCard } from '../../lark/outbox.ts';
import { toastError, type CardResponse, type ClickContext } from './action.ts';

/** Applies the action to the case and answers with the outcome and the redrawn card. */
export async function actAndRedraw(ctx: ClickContext, caseId: number, action: CaseAction): Promise<CardResponse> {
  const row = await findCaseRow(ctx.trx, caseId);
  if (!row) return toastError('找不到该案件，可能已被删除。');
  await rememberCaseCard(ctx.trx, ctx.click.messageId, caseId, ctx.click.chatId);
  const outcome = await actOnCase(ctx.trx, ctx.service, caseId, action, ctx.actor);
  const toast = { type: outcome.ok ? ('success' as const) : ('error' as const), content: outcome.message };
  // The clicked card shows the case as it is now, whether or not this click changed it.
  const view = await loadCaseCardView(ctx.trx, caseId, { ...ctx.chat, today: ctx.today });
  return view ? { toast, card: { type: 'raw', data: buildCaseCard(view) } } : { toast };
}
