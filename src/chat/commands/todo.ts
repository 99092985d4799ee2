import { buildCaseListCard } from '../../../cards/index.ts';
import { casesWithReplyClock } from '../../cases/case.repository.ts';
import { DUE_SOON_WORKDAYS, isDueSoon } from '../../domain/case-rules.ts';
import { expectNothing } from '../parse/args.ts';
import { listItems } from '../case-command.ts';
import { defineCommand } from '../command.ts';

/** A list card shows this many cases; the rest are counted. */
export const LIST_LIMIT = 20;

/** 待办: unclaimed, due-soon and overdue cases of this chat's section (all sections when the chat is not bound). */
export const todo = defineCommand<{ type: 'todo' }>({
  type: 'todo',
  words: ['待办', 'todo'],
  usage: '待办',
  help: { description: '本群待认领、即将到期和已逾期的案件', group: '查询' },
  parse: (args) => (expectNothing('待办', args), { type: 'todo' }),
  run: async (_cmd, ctx) => {
    const rows = await casesWithReplyClock(ctx.trx, ctx.chatUnit);
    const picked = rows.filter((r) => r.status === 'unclaimed' || isDueSoon(ctx.chat.clocks.workdaysLeft(ctx.today, r.reply_due_date)));
    return {
      kind: 'card',
      card: buildCaseListCard({
        title: ctx.chatUnit ? `${ctx.chatUnit} 待办` : '待办案件',
        subtitle: `待认领、${DUE_SOON_WORKDAYS} 个工作日内到期及已逾期，共 ${picked.length} 件`,
        emptyText: '没有待认领、即将到期或逾期的案件。',
        items: await listItems(ctx, picked.slice(0, LIST_LIMIT)),
        more: Math.max(0, picked.length - LIST_LIMIT),
      }),
    };
  },
});
