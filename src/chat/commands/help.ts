import { buildHelpCard } from '../../../cards/index.ts';
import type { HelpCommandView } from '../../../cards/view-models.ts';
import { isCoordinator } from '../../domain/types.ts';
import { defineCommand } from '../command.ts';

/** 帮助: the commands this person may use here, straight from the registry. */
export const help = defineCommand<{ type: 'help' }>({
  type: 'help',
  words: ['帮助', 'help', '?'],
  usage: '帮助',
  help: { description: '查看本帮助', group: '查询' },
  // Help is what the user wants whatever follows it, so extra words are not an error.
  parse: () => ({ type: 'help' }),
  run: async (_cmd, ctx) => {
    const commands: HelpCommandView[] = ctx.commands.map((c) => ({
      usage: c.usageWith ? c.usageWith(ctx.service.resultClasses) : c.usage,
      description: c.help.description,
      group: c.help.group,
      ...(c.help.coordinatorOnly ? { coordinatorOnly: true } : {}),
    }));
    return { kind: 'card', card: buildHelpCard({ isCoordinator: isCoordinator(ctx.actor), chatUnit: ctx.chatUnit, commands }) };
  },
});
