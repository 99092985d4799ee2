import { buildRequestDecisionCard } from '../../../cards/index.ts';
import { actOnCase } from '../../cases/case.service.ts';
import { loadRequestView } from '../../cases/case.view.ts';
import { defineCardAction } from './action.ts';

/** A coordinator approves or refuses an extension or adjustment on its decision card. */
export const decisionButtons = defineCardAction<'approve_extension' | 'refuse_extension' | 'approve_adjustment' | 'refuse_adjustment'>({
  actions: ['approve_extension', 'refuse_extension', 'approve_adjustment', 'refuse_adjustment'],
  handle: async (value, ctx) => {
    const kind = value.action.endsWith('extension') ? 'extension' : 'adjustment';
    const approve = value.action.startsWith('approve');
    const note = ctx.form.note ?? '';
    const outcome = await actOnCase(
      ctx.trx,
      ctx.service,
      value.caseId,
      kind === 'extension'
        ? { type: 'decide_extension', requestId: value.requestId, approve, note }
        : { type: 'decide_adjustment', requestId: value.requestId, approve, note },
      ctx.actor,
    );
    const toast = { type: outcome.ok ? ('success' as const) : ('error' as const), content: outcome.message };
    const view = await loadRequestView(ctx.trx, kind, value.requestId, ctx.chat);
    return view ? { toast, card: { type: 'raw', data: buildRequestDecisionCard(view) } } : { toast };
  },
  lateCard: (value) => ({ kind: 'request_card', requestKind: value.action.endsWith('extension') ? 'extension' : 'adjustment', requestId: value.requestId }),
});
