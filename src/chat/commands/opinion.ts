import { MAX_NOTE_LENGTH } from '../../domain/case-rules.ts';
import { checkLength, freeText, leadingCase, type CaseRef } from '../parse/args.ts';
import { caseCommand, withNames } from '../case-command.ts';

/** 意见 562 [说明]: an assisting unit sent its opinion to the lead unit; the case is then done. */
export const opinion = caseCommand<{ type: 'opinion'; case: CaseRef; note: string }>({
  type: 'opinion',
  words: ['意见', 'opinion'],
  usage: '意见 <案号> [说明]',
  help: { description: '会办案件：登记已向主办单位报送意见', group: '办理' },
  parse: (args, ctx) => {
    const ref = leadingCase(args);
    const note = freeText(ctx, args, 1);
    checkLength(note, MAX_NOTE_LENGTH, '说明');
    return { type: 'opinion', case: ref, note };
  },
  action: async (cmd, ctx) => ({ type: 'opinion', date: ctx.today, note: await withNames(ctx, cmd.note) }),
});
