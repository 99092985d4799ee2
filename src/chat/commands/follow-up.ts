import { MAX_NOTE_LENGTH } from '../../domain/case-rules.ts';
import type { FollowUpOutcome } from '../../domain/types.ts';
import { checkLength, freeText, leadingCase, reject, type CaseRef } from '../parse/args.ts';
import { caseCommand, withNames } from '../case-command.ts';

// The word after the case number that says what the follow-up found; anything else is the note of a plain check.
const OUTCOME_WORDS = new Map<string, FollowUpOutcome>([
  ['已落实', 'kept'],
  ['落实', 'kept'],
  ['kept', 'kept'],
  ['done', 'kept'],
  ['调整', 'changed'],
  ['已调整', 'changed'],
  ['changed', 'changed'],
]);

/** 跟进 542 [已落实|调整] <内容>: a follow-up (回头看) of the promise a B-class reply made. */
export const followUp = caseCommand<{ type: 'follow_up'; case: CaseRef; outcome: FollowUpOutcome; note: string }>({
  type: 'follow_up',
  words: ['跟进', '回头看', 'follow-up', 'followup'],
  usage: '跟进 <案号> [已落实|调整] <内容>',
  help: { description: 'B类答复承诺事项回头看；“已落实”后不再提醒，“调整”表示已向代表委员说明', group: '办理' },
  parse: (args, ctx) => {
    const ref = leadingCase(args);
    const word = args[1]?.person === null ? OUTCOME_WORDS.get(args[1].text.toLowerCase()) : undefined;
    const outcome = word ?? 'checked';
    const note = freeText(ctx, args, word ? 2 : 1);
    if (note === '') {
      reject(
        outcome === 'kept'
          ? '请写明承诺事项的落实情况，如：跟进 20240542 已落实 补贴已于9月发放。'
          : outcome === 'changed'
            ? '请写明承诺事项如何调整、怎样向代表委员说明的，如：跟进 20240542 调整 改为明年建成，已电话说明。'
            : '请写明本次回头看的情况，如：跟进 20240542 方案已报市政府审定。',
      );
    }
    checkLength(note, MAX_NOTE_LENGTH, '跟进内容');
    return { type: 'follow_up', case: ref, outcome, note };
  },
  action: async (cmd, ctx) => ({ type: 'follow_up', outcome: cmd.outcome, note: await withNames(ctx, cmd.note) }),
});
