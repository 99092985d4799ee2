// The buttons and forms of a case card: each click becomes a workflow action on the case the card shows, and the
// answer carries the card as the case now stands.

import type { CallbackValueOf } from '../../../cards/callback.ts';
import type { CaseAction as CaseCardAction } from '../../../cards/view-models.ts';
import { isIsoDate } from '../../domain/calendar.ts';
import { CONTACT_METHODS, DISCLOSURES, type ContactMethod, type Disclosure, type IsoDate } from '../../domain/types.ts';
import type { CaseAction } from '../../domain/workflow.ts';
import { actAndRedraw } from './act.ts';
import { defineCardAction, toastError, type ClickContext } from './action.ts';

type Value = CallbackValueOf<CaseCardAction>;

/** A click (and its form) as a workflow action, or what the user has to fix. */
function actionOf(value: Value, ctx: ClickContext): CaseAction | { error: string } {
  const f = ctx.form;
  const date = (v: string | undefined, label: string): IsoDate | { error: string } => {
    if (!v) return ctx.today;
    return isIsoDate(v) ? v : { error: `${label}“${v}”不是有效日期。` };
  };
  switch (value.action) {
    case 'claim':
      return { type: 'claim', chatUnit: ctx.chatUnit };
    case 'release':
      return { type: 'release' };
    case 'progress':
      if (!f.note) return { error: '请填写进展内容后再提交。' };
      return { type: 'progress', note: f.note };
    case 'contact': {
      if (!f.method || !CONTACT_METHODS.includes(f.method as ContactMethod)) return { error: `请选择沟通方式：${CONTACT_METHODS.join('、')}。` };
      const d = date(f.date, '沟通日期');
      if (typeof d !== 'string') return d;
      return { type: 'contact', method: f.method as ContactMethod, date: d, who: f.who ?? '', note: f.note ?? '' };
    }
    case 'reply': {
      if (!f.result_class) return { error: `请选择办理结果类别（${ctx.chat.resultClasses.map((c) => c.code).join('、')}）。` };
      const d = date(f.date, '答复日期');
      if (typeof d !== 'string') return d;
      if (f.disclosure && !DISCLOSURES.includes(f.disclosure as Disclosure)) return { error: `公开情况须为${DISCLOSURES.join('、')}。` };
      return { type: 'reply', resultClass: f.result_class, date: d, disclosure: (f.disclosure as Disclosure | undefined) ?? null };
    }
    case 'opinion': {
      const d = date(f.date, '报送日期');
      if (typeof d !== 'string') return d;
      return { type: 'opinion', date: d, note: f.note ?? '' };
    }
    case 'rate':
      return { type: 'rate', rating: value.rating };
    case 'extend':
      if (!f.until) return { error: '请选择延期后的答复日期。' };
      if (!isIsoDate(f.until)) return { error: `延期日期“${f.until}”不是有效日期。` };
      if (!f.reason) return { error: '请填写延期理由。' };
      return { type: 'request_extension', until: f.until, reason: f.reason };
    case 'adjust':
      if (!f.reason) return { error: '请填写调整理由。' };
      return { type: 'request_adjustment', reason: f.reason };
    case 'follow_up': {
      const outcome = f.outcome ?? 'checked';
      if (outcome !== 'checked' && outcome !== 'kept' && outcome !== 'changed') return { error: '请选择跟进结果：仍在落实中、已落实或调整。' };
      if (!f.note) return { error: '请填写承诺事项的落实情况后再提交。' };
      return { type: 'follow_up', outcome, note: f.note };
    }
    case 'handover': {
      const to = handoverTarget(ctx.form, ctx.click.option);
      if (!to) return { error: '请选择要转交的同事。' };
      return { type: 'handover', to: { openId: to, name: ctx.names.get(to) ?? to } };
    }
  }
}

function handoverTarget(form: Record<string, string>, option: string | null): string | undefined {
  return form.to ?? option ?? undefined;
}

export const caseButtons = defineCardAction<CaseCardAction>({
  actions: ['claim', 'release', 'progress', 'contact', 'reply', 'opinion', 'rate', 'extend', 'adjust', 'handover', 'follow_up'],
  people: (value, click, form) => {
    const to = value.action === 'handover' ? handoverTarget(form, click.option) : undefined;
    return to ? [to] : [];
  },
  handle: async (value, ctx) => {
    const action = actionOf(value, ctx);
    if ('error' in action) return toastError(action.error);
    return actAndRedraw(ctx, value.caseId, action);
  },
  lateCard: (value) => ({ kind: 'case_card', caseId: value.caseId }),
});
