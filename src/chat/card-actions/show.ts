import { findCaseRow } from '../../cases/case.repository.ts';
import { enqueueMessage } from '../../lark/outbox.ts';
import { defineCardAction, toastError } from './action.ts';

/** 查看 on a list card: the case card is sent to the chat (or privately when clicked outside a chat). */
export const showButton = defineCardAction<'show'>({
  actions: ['show'],
  handle: async (value, ctx) => {
    const row = await findCaseRow(ctx.trx, value.caseId);
    if (!row) return toastError('找不到该案件，可能已被删除。');
    await enqueueMessage(ctx.trx, ctx.click.chatId ? { chatId: ctx.click.chatId } : { openId: ctx.click.operatorOpenId }, { kind: 'case_card', caseId: row.id });
    return { toast: { type: 'info', content: `已发送案件 ${row.case_no} 的卡片。` } };
  },
});
