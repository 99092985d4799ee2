import { buildCaseListCard } from '../../../cards/index.ts';
import { openCasesOf } from '../../cases/case.repository.ts';
import { expectNothing } from '../parse/args.ts';
import { listItems } from '../case-command.ts';
import { defineCommand } from '../command.ts';
import { LIST_LIMIT } from './todo.ts';

/** 我的: my open cases, by due date. */
export const mine = defineCommand<{ type: 'mine' }>({
  type: 'mine',
  words: ['我的', 'mine'],
  usage: '我的',
  help: { description: '我承办的未办结案件，按期限排序', group: '查询' },
  parse: (args) => (expectNothing('我的', args), { type: 'mine' }),
  run: async (_cmd, ctx) => {
    const rows = await openCasesOf(ctx.trx, ctx.actor.openId);
    return {
      kind: 'card',
      card: buildCaseListCard({
        title: '我的案件',
        subtitle: `共 ${rows.length} 件未办结，按答复期限排序`,
        emptyText: '您目前没有未办结的案件。',
        items: await listItems(ctx, rows.slice(0, LIST_LIMIT)),
        more: Math.max(0, rows.length - LIST_LIMIT),
      }),
    };
  },
});
