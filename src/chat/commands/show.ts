import { caseOnly, type CaseRef } from '../parse/args.ts';
import { resolveCase } from '../case-command.ts';
import { defineCommand } from '../command.ts';

/** 查询 562 (or just 562): the case card. */
export const show = defineCommand<{ type: 'show'; case: CaseRef }>({
  type: 'show',
  words: ['查询', 'show', '查看'],
  usage: '查询 <案号>',
  help: { description: '查看案件卡片（也可直接发送案号）', group: '查询' },
  parse: (args) => ({ type: 'show', case: caseOnly('查询', args) }),
  run: async (cmd, ctx) => {
    const found = await resolveCase(ctx, cmd.case);
    return 'answer' in found ? found.answer : { kind: 'case_card', caseId: found.row.id };
  },
});
