import { MAX_NOTE_LENGTH } from '../../domain/case-rules.ts';
import { checkLength, freeText, leadingCase, reject, type CaseRef } from '../parse/args.ts';
import { caseCommand, withNames } from '../case-command.ts';

/** 调整 562 <理由>: ask to move the case out of our department, within the window after assignment. */
export const adjust = caseCommand<{ type: 'adjust'; case: CaseRef; reason: string }>({
  type: 'adjust',
  words: ['调整', 'adjust', '申请调整'],
  usage: '调整 <案号> <理由>',
  help: { description: '申请调整承办单位（交办后限期内）', group: '申请' },
  parse: (args, ctx) => {
    const ref = leadingCase(args);
    const reason = freeText(ctx, args, 1);
    if (reason === '') reject('请写明申请调整的理由，如：不属于我局职责，建议由某某局办理。');
    checkLength(reason, MAX_NOTE_LENGTH, '调整理由');
    return { type: 'adjust', case: ref, reason };
  },
  action: async (cmd, ctx) => ({ type: 'request_adjustment', reason: await withNames(ctx, cmd.reason) }),
});
