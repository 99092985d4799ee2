import { caseOnly, type CaseRef } from '../parse/args.ts';
import { caseCommand } from '../case-command.ts';

/** 认领 562: the first claim wins; the case joins the section this chat is bound to. */
export const claim = caseCommand<{ type: 'claim'; case: CaseRef }>({
  type: 'claim',
  words: ['认领', 'claim'],
  usage: '认领 <案号>',
  help: { description: '认领案件', group: '办理' },
  parse: (args) => ({ type: 'claim', case: caseOnly('认领', args) }),
  action: (_cmd, ctx) => ({ type: 'claim', chatUnit: ctx.chatUnit }),
});
