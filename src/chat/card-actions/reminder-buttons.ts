// The buttons of a reminder card (a digest or a 督办 card). 认领 claims the case and answers with the reminder card
// redrawn (the case now shown done), never with the case's own card: the digest stays the digest for everyone in the
// chat. 查看 sends the case's card, where the person can reply, rate or follow up.

import { findCaseRow } from '../../cases/case.repository.ts';
import { act } from '../../cases/case.service.ts';
import { enqueueMessage } from '../../lark/outbox.ts';
import { renderReminderCard } from '../../reminders/reminder.job.ts';
import { defineCardAction, toastError } from './action.ts';

export const reminderButtons = defineCardAction<'reminder_claim' | 'reminder_show'>({
  actions: ['reminder_claim', 'reminder_show'],
  handle: async (value, ctx) => {
    const row = await findCaseRow(ctx.trx, value.caseId);
    if (!row) return toastError('找不到该案件，可能已被删除。');
    if (value.action === 'reminder_show') {
      await enqueueMessage(ctx.trx, ctx.click.chatId ? { chatId: ctx.click.chatId } : { openId: ctx.click.operatorOpenId }, { kind: 'case_card', caseId: row.id });
      return { toast: { type: 'info', content: `已发送案件 ${row.case_no} 的卡片，请在卡片上办理。` } };
    }
    // The digest clicked on is redrawn from this answer (or patched by the click path if the answer is late), so the
    // change queues no patch of its own for it.
    const { outcome } = await act(ctx.trx, ctx.service, row.id, { type: 'claim', chatUnit: ctx.chatUnit }, ctx.actor, {
      answeredCard: { messageId: ctx.click.messageId, chatId: ctx.click.chatId, kind: 'reminder_card' },
    });
    const toast = { type: outcome.ok ? ('success' as const) : ('error' as const), content: outcome.message };
    const card = await renderReminderCard({ db: ctx.trx, timeZone: ctx.chat.timeZone, clocks: ctx.chat.clocks, today: () => ctx.today }, value.cardId);
    return card ? { toast, card: { type: 'raw', data: card } } : { toast };
  },
  lateCard: (value) => (value.action === 'reminder_claim' ? { kind: 'reminder_card', cardId: value.cardId } : null),
});
