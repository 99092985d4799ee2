import { MAX_NOTE_LENGTH } from '../../domain/case-rules.ts';
import { checkLength, freeText, leadingCase, reject, type CaseRef } from '../parse/args.ts';
import { caseCommand, withNames } from '../case-command.ts';

/** 进展 562 <内容>: progress on the timeline. */
export const progress = caseCommand<{ type: 'progress'; case: CaseRef; note: string }>({
  type: 'progress',
  words: ['进展', 'progress'],
  usage: '进展 <案号> <内容>',
  help: { description: '记录办理进展', group: '办理' },
  parse: (args, ctx) => {
    const ref = leadingCase(args);
    const note = freeText(ctx, args, 1);
    if (note === '') reject('请写明进展内容。');
    checkLength(note, MAX_NOTE_LENGTH, '进展内容');
    return { type: 'progress', case: ref, note };
  },
  action: async (cmd, ctx) => ({ type: 'progress', note: await withNames(ctx, cmd.note) }),
});
