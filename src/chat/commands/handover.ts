import { userNames } from '../../cases/case.repository.ts';
import { missingCaseMessage, reject, rejectStray, requireCase, type CaseRef } from '../parse/args.ts';
import { caseCommand } from '../case-command.ts';

/** 转交 562 @张三: hand the case to a colleague. */
export const handover = caseCommand<{ type: 'handover'; case: CaseRef; to: string /* open_id */ }>({
  type: 'handover',
  words: ['转交', 'handover'],
  usage: '转交 <案号> @某人',
  help: { description: '把案件转交给同事', group: '办理' },
  parse: (args) => {
    let ref: CaseRef | null = null;
    const people: string[] = [];
    for (const tok of args) {
      if (tok.person !== null) {
        if (!people.includes(tok.person)) people.push(tok.person);
      } else if (tok.text === '给' || tok.text.toLowerCase() === 'to') {
        // "转交 20240562 给 @张三" reads naturally in Chinese.
      } else if (ref === null) {
        ref = requireCase(tok);
      } else {
        rejectStray(tok, '转交只需写案号并@一位同事');
      }
    }
    if (ref === null) reject(missingCaseMessage());
    const to = people[0];
    if (to === undefined) reject('请@要转交的同事，如：转交 20240562 @张三。');
    if (people.length > 1) reject(`一次只能转交给一位同事，您@了 ${people.length} 位。`);
    return { type: 'handover', case: ref, to };
  },
  action: async (cmd, ctx) => {
    const name = ctx.mentioned.get(cmd.to) ?? (await userNames(ctx.trx, [cmd.to])).get(cmd.to) ?? cmd.to;
    return { type: 'handover', to: { openId: cmd.to, name } };
  },
});
