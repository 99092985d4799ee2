import { caseOnly, type CaseRef } from '../parse/args.ts';
import { caseCommand } from '../case-command.ts';

/** 放弃 562: back to the unclaimed pool. */
export const release = caseCommand<{ type: 'release'; case: CaseRef }>({
  type: 'release',
  words: ['放弃', 'release', '取消认领'],
  usage: '放弃 <案号>',
  help: { description: '放弃已认领的案件，退回待认领', group: '办理' },
  parse: (args) => ({ type: 'release', case: caseOnly('放弃', args) }),
  action: () => ({ type: 'release' }),
});
