import { bindChat } from '../../cases/chat.repository.ts';
import { isCoordinator } from '../../domain/types.ts';
import { checkLength, freeText, reject } from '../parse/args.ts';
import { defineCommand, text } from '../command.ts';

export const MAX_UNIT_CHARS = 50;

/** 绑定 社会救助科: coordinator binds this chat to a section. */
export const bind = defineCommand<{ type: 'bind'; unit: string }>({
  type: 'bind',
  words: ['绑定', 'bind'],
  usage: '绑定 <单位名称>',
  help: { description: '把本群绑定到承办处室', group: '协调员', coordinatorOnly: true },
  parse: (args, ctx) => {
    if (args.some((tok) => tok.person !== null)) reject('单位名称不能是@某人，请直接写单位名称，如：绑定 社会救助科。');
    // A unit name is one line; a line break in it is a typing accident.
    const unit = freeText(ctx, args, 0).replace(/\n/g, ' ');
    if (unit === '') reject('请写明要绑定的单位名称，如：绑定 社会救助科。');
    checkLength(unit, MAX_UNIT_CHARS, '单位名称');
    return { type: 'bind', unit };
  },
  run: async (cmd, ctx) => {
    if (!isCoordinator(ctx.actor)) return text('只有协调员可以绑定承办处室。');
    await bindChat(ctx.trx, ctx.chatId, cmd.unit, ctx.actor.openId);
    return text(`本群已绑定到“${cmd.unit}”。在本群认领的案件将归入${cmd.unit}，“待办”只显示${cmd.unit}的案件。`);
  },
});
