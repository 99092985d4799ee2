import { disclosureFromLabel, type Disclosure, type IsoDate } from '../../domain/types.ts';
import { DATE_EXAMPLES, leadingCase, orList, readDate, readResultClass, reject, rejectStray, type CaseRef } from '../parse/args.ts';
import { display } from '../parse/tokens.ts';
import { caseCommand } from '../case-command.ts';

const DISCLOSURE_CHOICES = '主动公开、依申请公开或不予公开';

/** 答复 562 B [日期] [公开情况]: the reply was sent. */
export const reply = caseCommand<{ type: 'reply'; case: CaseRef; resultClass: string; date: IsoDate; disclosure: Disclosure | null }>({
  type: 'reply',
  words: ['答复', 'reply'],
  usage: '答复 <案号> <A|B|C> [日期] [主动公开|依申请公开|不予公开]',
  usageWith: (classes) => `答复 <案号> <${classes.join('|')}> [日期] [主动公开|依申请公开|不予公开]`,
  help: { description: '登记答复（主办/独办/分办须先登记面商）', group: '办理' },
  parse: (args, ctx) => {
    const ref = leadingCase(args);
    let resultClass: string | null = null;
    let date: IsoDate | null = null;
    let disclosure: Disclosure | null = null;
    const classChoices = orList(ctx.classes);
    // Class, date and disclosure are told apart by their shape, so any order is accepted.
    for (const tok of args.slice(1)) {
      if (tok.person !== null) rejectStray(tok, '答复不需要@同事');
      const cls = readResultClass(tok.text, ctx.classes);
      if (cls !== null) {
        if (cls === 'unknown') reject(`“${display(tok)}”不是有效的结果类别，请写 ${classChoices}。`);
        if (resultClass !== null) reject(`结果类别只能写一个，您写了“${resultClass}”和“${cls}”。`);
        resultClass = cls;
        continue;
      }
      const disc = disclosureFromLabel(tok.text);
      if (disc !== null) {
        if (disclosure !== null) reject(`公开情况只能写一个，您写了“${disclosure}”和“${disc}”。`);
        disclosure = disc;
        continue;
      }
      const d = readDate(tok.text, ctx.today, 'past');
      if (d !== null) {
        if (date !== null) reject(`答复日期只能写一个，您写了 ${date} 和 ${d}。`);
        date = d;
        continue;
      }
      reject(`看不懂“${display(tok)}”。答复后面可写：结果类别（${classChoices}）、日期（${DATE_EXAMPLES}）、公开情况（${DISCLOSURE_CHOICES}）。`);
    }
    if (resultClass === null) reject(`请写明答复结果类别：${classChoices}。`);
    return { type: 'reply', case: ref, resultClass, date: date ?? ctx.today, disclosure };
  },
  action: (cmd) => ({ type: 'reply', date: cmd.date, resultClass: cmd.resultClass, disclosure: cmd.disclosure }),
});
