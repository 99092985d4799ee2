import type { Rating } from '../../domain/types.ts';
import { leadingCase, reject, rejectStray, type CaseRef } from '../parse/args.ts';
import { display } from '../parse/tokens.ts';
import { caseCommand } from '../case-command.ts';

const RATING_WORDS = new Map<string, Rating>([
  ['满意', '满意'],
  ['基本满意', '基本满意'],
  ['不满意', '不满意'],
  ['satisfied', '满意'],
  ['basically-satisfied', '基本满意'],
  ['dissatisfied', '不满意'],
  ['unsatisfied', '不满意'],
]);
const RATING_CHOICES = '满意、基本满意或不满意';

/** 评价 562 满意: the deputy's rating of the reply. */
export const rate = caseCommand<{ type: 'rate'; case: CaseRef; rating: Rating }>({
  type: 'rate',
  words: ['评价', 'rate'],
  usage: '评价 <案号> <满意|基本满意|不满意>',
  help: { description: '录入代表委员对答复的评价', group: '办理' },
  parse: (args) => {
    const ref = leadingCase(args);
    const tok = args[1];
    if (tok === undefined) reject(`请写明评价：${RATING_CHOICES}。`);
    const rating = tok.person === null ? RATING_WORDS.get(tok.text.toLowerCase()) : undefined;
    if (rating === undefined) reject(`“${display(tok)}”不是可选的评价，请写：${RATING_CHOICES}。`);
    const extra = args[2];
    if (extra !== undefined) rejectStray(extra, '评价只需写案号和评价结果');
    return { type: 'rate', case: ref, rating };
  },
  action: (cmd) => ({ type: 'rate', rating: cmd.rating }),
});
