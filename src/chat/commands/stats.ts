import { buildStatsCard } from '../../../cards/index.ts';
import { statsScope } from '../../domain/report.ts';
import { isCoordinator } from '../../domain/types.ts';
import { reportFigures } from '../../report/report.service.ts';
import { defineCommand, text } from '../command.ts';
import { yearAndKind } from '../parse/year-kind.ts';

/** 统计 [年份] [建议|提案]: the statistics card for this chat's unit, or everything for a coordinator. */
export const stats = defineCommand<{ type: 'stats'; year: number | null; kind: '建议' | '提案' | null }>({
  type: 'stats',
  words: ['统计', 'stats'],
  usage: '统计 [年份] [建议|提案]',
  help: { description: '办理情况统计：件数、各项比率、办理结果、按处室和承办人', group: '查询' },
  parse: (args) => ({ type: 'stats', ...yearAndKind('统计', args) }),
  run: async (cmd, ctx) => {
    const scope = statsScope({ chatUnit: ctx.chatUnit, coordinator: isCoordinator(ctx.actor) });
    if ('refusal' in scope) return text(scope.refusal);
    const year = cmd.year ?? Number(ctx.today.slice(0, 4));
    const figures = await reportFigures(
      ctx.trx,
      { year, kind: cmd.kind, unit: scope.unit, asOf: ctx.today },
      ctx.service.resultClasses,
    );
    return {
      kind: 'card',
      card: buildStatsCard({ title: `${year}年${cmd.kind ?? '建议提案'}办理统计`, scopeLabel: scope.unit ?? '全部处室', figures }),
    };
  },
});
