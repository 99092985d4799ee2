import { RULE_LABELS } from '../../domain/reminders.ts';
import { isCoordinator } from '../../domain/types.ts';
import { addMute, mutesOf, remindersOf, removeMutes } from '../../reminders/reminder.repository.ts';
import { readCaseRef, reject, rejectStray, type CaseRef } from '../parse/args.ts';
import { display } from '../parse/tokens.ts';
import { resolveCase } from '../case-command.ts';
import { defineCommand, text, type CommandContext } from '../command.ts';

type Target = { all: true } | { all: false; case: CaseRef };
type RemindCommand = { type: 'remind'; op: 'show' } | { type: 'remind'; op: 'mute' | 'unmute'; target: Target };

const OPS = new Map<string, 'mute' | 'unmute'>([
  ['关闭', 'mute'],
  ['关', 'mute'],
  ['静音', 'mute'],
  ['off', 'mute'],
  ['mute', 'mute'],
  ['开启', 'unmute'],
  ['打开', 'unmute'],
  ['开', 'unmute'],
  ['恢复', 'unmute'],
  ['on', 'unmute'],
  ['unmute', 'unmute'],
]);
const ALL = new Set(['全部', '所有', 'all']);

/** 提醒 [关闭|开启 <案号>|全部]: what daily reminders you get; mute or unmute your own (督办 cannot be muted). */
export const remind = defineCommand<RemindCommand>({
  type: 'remind',
  words: ['提醒', 'remind', 'reminders'],
  usage: '提醒 [关闭|开启 <案号>|全部]',
  help: { description: '查看每日提醒；关闭或开启自己的提醒（督办通知不能关闭）', group: '查询' },
  parse: (args) => {
    const first = args[0];
    if (first === undefined) return { type: 'remind', op: 'show' };
    const op = first.person === null ? OPS.get(first.text.toLowerCase()) : undefined;
    if (!op) reject(`“${display(first)}”不是提醒的操作，请写“关闭”或“开启”，如：提醒 关闭 20240562。`);
    const what = args[1];
    const verb = op === 'mute' ? '关闭' : '开启';
    if (what === undefined) reject(`请写明要${verb}提醒的案号，或写“全部”，如：提醒 ${verb} 20240562。`);
    const extra = args[2];
    if (extra !== undefined) rejectStray(extra, `提醒 ${verb}后只需写一个案号或“全部”`);
    if (what.person === null && ALL.has(what.text.toLowerCase())) return { type: 'remind', op, target: { all: true } };
    const ref = what.person === null ? readCaseRef(what.text) : null;
    if (!ref) reject(`“${display(what)}”不是案号，请写案号或“全部”，如：提醒 ${verb} 20240562。`);
    return { type: 'remind', op, target: { all: false, case: ref } };
  },
  run: async (cmd, ctx) => {
    if (cmd.op === 'show') return text(await overview(ctx));
    const me = ctx.actor.openId;
    const supervisionNote = isCoordinator(ctx.actor) || ctx.actor.roles.has('leader') ? '督办通知不能关闭，仍会发给您。' : '';
    if (cmd.target.all) {
      if (cmd.op === 'mute') {
        await addMute(ctx.trx, me, null);
        return text(`已关闭给您的全部每日提醒，工作群的提醒照常发送。${supervisionNote}发送“提醒 开启 全部”可恢复。`);
      }
      const lifted = await removeMutes(ctx.trx, me, null);
      return text(lifted > 0 ? '已恢复给您的全部每日提醒。' : '您没有关闭任何提醒，每日提醒照常发送。');
    }
    const found = await resolveCase(ctx, cmd.target.case);
    if ('answer' in found) return found.answer;
    const caseNo = found.row.case_no;
    if (cmd.op === 'mute') {
      const added = await addMute(ctx.trx, me, found.row.id);
      return text(added ? `已关闭案件 ${caseNo} 给您的提醒。${supervisionNote}发送“提醒 开启 ${caseNo}”可恢复。` : `案件 ${caseNo} 的提醒已经是关闭的。`);
    }
    const lifted = await removeMutes(ctx.trx, me, found.row.id);
    const { all } = await mutesOf(ctx.trx, me);
    if (all) return text(`您关闭了全部提醒，案件 ${caseNo} 也包括在内。要恢复，请发送“提醒 开启 全部”。`);
    return text(lifted > 0 ? `已恢复案件 ${caseNo} 给您的提醒。` : `案件 ${caseNo} 的提醒没有关闭，照常发送。`);
  },
});

/** What reminders this person gets, what they muted, and what reached them this morning. */
async function overview(ctx: CommandContext): Promise<string> {
  const me = ctx.actor.openId;
  const at = ctx.chat.remindAt ? ` ${ctx.chat.remindAt.replace(/^0(\d)/, '$1')}` : '';
  const lines = [`每个工作日${at ? at : '早上'}，办理助手会把需要您处理的事项汇总成一张卡片私聊发给您：`];
  lines.push('• 您承办的案件：即将到期、已逾期、尚未面商、会办意见待报送、答复待评价、承诺事项回头看');
  if (isCoordinator(ctx.actor)) lines.push('• 作为协调员：未绑定工作群的处室的待认领案件、答复待评价、待审批的延期和调整申请，以及督办通知');
  if (ctx.actor.roles.has('leader')) lines.push('• 作为分管领导：逾期案件的督办通知');
  const muted = await mutesOf(ctx.trx, me);
  if (muted.all) lines.push('当前：您已关闭全部提醒（督办通知除外）。发送“提醒 开启 全部”可恢复。');
  else if (muted.caseNos.length > 0) lines.push(`当前：已关闭这些案件的提醒：${muted.caseNos.join('、')}。`);
  else lines.push('当前：全部提醒都已开启。');
  const today = await remindersOf(ctx.trx, `user:${me}`, ctx.today);
  if (today.length === 0) lines.push('今天没有发给您的提醒。');
  else lines.push(`今天发给您的提醒 ${today.length} 条：${today.map((r) => `${r.caseNo}（${RULE_LABELS[r.rule]}）`).join('、')}。`);
  lines.push('关闭：提醒 关闭 <案号>|全部；开启：提醒 开启 <案号>|全部。督办通知不能关闭。');
  return lines.join('\n');
}
