import { buildImportPreviewCard } from '../../../cards/index.ts';
import { cancelImport, confirmImport, type ImportDecision } from '../../import/chat-import.ts';
import { defineCardAction, type CardResponse } from './action.ts';

// 确认导入 / 取消 on an import preview: the stored import is applied in the click's transaction (the cards of the
// changed cases are redrawn through the case-changed point) or discarded; the preview is redrawn with the outcome.

function answer(decision: ImportDecision): CardResponse {
  const state = decision.outcome === 'applied' ? 'applied' : decision.outcome === 'cancelled' ? 'cancelled' : decision.settled;
  const toast: CardResponse['toast'] = {
    type: decision.outcome === 'applied' ? 'success' : decision.outcome === 'cancelled' ? 'info' : 'error',
    content: decision.message,
  };
  if (!state || !decision.fileName) return { toast };
  const view = {
    fileName: decision.fileName,
    state,
    counts: decision.outcome === 'applied' ? decision.plan.counts : null,
    problems: [],
    warnings: [],
    changes: [],
    importId: null,
    expiresAt: null,
    note: decision.message,
  } as const;
  return { toast, card: { type: 'raw', data: buildImportPreviewCard(view).card } };
}

export const importDecision = defineCardAction<'confirm_import' | 'cancel_import'>({
  actions: ['confirm_import', 'cancel_import'],
  handle: async (value, ctx) => {
    const now = new Date();
    if (value.action === 'cancel_import') return answer(await cancelImport(ctx.trx, value.importId, ctx.actor, now));
    // Every changed case goes through the case-changed point in this transaction: its live cards are redrawn.
    return answer(await confirmImport(ctx.trx, value.importId, ctx.actor, ctx.chat.clocks, now));
  },
});
