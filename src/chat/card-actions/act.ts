// Acting on a case from a card: one read of the case, the decision, its writes, and the card as the decision
// left the case, built from that same read (no second load) for Lark to redraw the clicked card with.

import { buildCaseCard } from '../../../cards/index.ts';
import { act } from '../../cases/case.service.ts';
import { caseCardView } from '../../cases/case.view.ts';
import type { CaseAction } from '../../domain/workflow.ts';
import { toastError, type CardResponse, type ClickContext } from './action.ts';

/** Applies the action to the case and answers with the outcome and the redrawn card. */
export async function actAndRedraw(ctx: ClickContext, caseId: number, action: CaseAction): Promise<CardResponse> {
  const { messageId, chatId } = ctx.click;
  const acted = await act(ctx.trx, ctx.service, caseId, action, ctx.actor, { answeredCard: { messageId, chatId } });
  const now = acted.after ?? acted.before;
  if (!now) return toastError(acted.outcome.message);
  const toast = { type: acted.outcome.ok ? ('success' as const) : ('error' as const), content: acted.outcome.message };
  // The clicked card shows the case as it is now, whether or not this click changed it.
  const view = caseCardView(now, { ...ctx.chat, today: ctx.today });
  return { toast, card: { type: 'raw', data: buildCaseCard(view) } };
}
