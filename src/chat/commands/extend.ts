import { MAX_NOTE_LENGTH } from '../../domain/case-rules.ts';
import type { IsoDate } from '../../domain/types.ts';
import { checkLength, DATE_EXAMPLES, freeText, leadingCase, readDate, reject, type CaseRef } from '../parse/args.ts';
import { display } from '../parse/tokens.ts';
import { caseCommand, withNames } from '../case-command.ts';

/** 延期 562 8月31日 <理由>: ask the coordinators for a later due date. */
export const extend = caseCommand<{ type: 'extend'; case: CaseRef; until: IsoDate; reason: string }>({
  type: 'extend',
  words: ['延期', 'extend', '申请延期'],
  usage: '延期 <案号> <日期> <理由>',
  help: { description: '申请延期，由协调员审批', group: '申请' },
  parse: (args, ctx) => {
    const ref = leadingCase(args);
    const tok = args[1];
    if (tok === undefined || tok.person !== null) reject(`请写明延期到哪一天，${DATE_EXAMPLES}。`);
    // "延期到8月31日" / "8月31日前" say the same date.
    const dateText = tok.text.replace(/^(?:至|到|延至|延期至)/, '').replace(/(?:之前|以前|前)$/, '');
    const until = readDate(dateText, ctx.today, 'future');
    if (until === null) reject(`“${display(tok)}”不是日期，请写明延期到哪一天，${DATE_EXAMPLES}。`);
    const reason = freeText(ctx, args, 2);
    if (reason === '') reject('请写明延期理由。');
    checkLength(reason, MAX_NOTE_LENGTH, '延期理由');
    return { type: 'extend', case: ref, until, reason };
  },
  action: async (cmd, ctx) => ({ type: 'request_extension', until: cmd.until, reason: await withNames(ctx, cmd.reason) }),
});
