// What every command that acts on one case shares: find the case the user named, turn the command into a workflow
// action, let the workflow decide, and answer with its message.

import { buildCaseListCard } from '../../cards/index.ts';
import type { CaseListItemView } from '../../cards/view-models.ts';
import { findCasesByNumber, userNames } from '../cases/case.repository.ts';
import { actOnCase } from '../cases/case.service.ts';
import { listItem } from '../cases/case.view.ts';
import type { CaseAction } from '../domain/workflow.ts';
import type { CaseRow } from '../storage/schema.ts';
import { defineCommand, text, type Answer, type CommandContext, type CommandModule } from './command.ts';
import type { CaseRef } from './parse/args.ts';

/** A command module for an action on one case: `action` says which workflow action the command becomes. */
export function caseCommand<C extends { type: string; case: CaseRef }>(
  module: Omit<CommandModule<C>, 'run'> & { action(cmd: C, ctx: CommandContext): CaseAction | Promise<CaseAction> },
): CommandModule<C> {
  const { action, ...rest } = module;
  return defineCommand<C>({
    ...rest,
    run: async (cmd, ctx) => {
      const found = await resolveCase(ctx, cmd.case);
      if ('answer' in found) return found.answer;
      const outcome = await actOnCase(ctx.trx, ctx.service, found.row.id, await action(cmd, ctx), ctx.actor);
      return text(outcome.message);
    },
  });
}

/** The one case a reference names, or the answer to give when it names none or several. */
export async function resolveCase(ctx: CommandContext, ref: CaseRef): Promise<{ row: CaseRow } | { answer: Answer }> {
  const rows = await findCasesByNumber(ctx.trx, ref.digits);
  if (rows.length === 1 && rows[0]) return { row: rows[0] };
  if (rows.length === 0) return { answer: text(`找不到案号为“${ref.raw}”的案件，请核对案号（可发送“待办”查看本群案件）。`) };
  return {
    answer: {
      kind: 'card',
      card: buildCaseListCard({
        title: `“${ref.raw}”对应多件案件`,
        subtitle: '请写完整案号，或点击下方“查看”选择',
        emptyText: '',
        items: await listItems(ctx, rows),
        more: 0,
      }),
    },
  };
}

/** Case rows as list lines, with their handlers' names. */
export async function listItems(ctx: CommandContext, rows: readonly CaseRow[]): Promise<CaseListItemView[]> {
  const names = await userNames(ctx.trx, rows.flatMap((r) => (r.handler_open_id ? [r.handler_open_id] : [])));
  return rows.map((r) => listItem(r, r.handler_open_id ? (names.get(r.handler_open_id) ?? null) : null, ctx.today, ctx.chat.clocks));
}

/** Free text keeps people as @name, not as open_id tokens. */
export async function withNames(ctx: CommandContext, note: string): Promise<string> {
  const ids = [...note.matchAll(/<at:([^>]+)>/g)].map((m) => m[1] ?? '');
  if (ids.length === 0) return note;
  const stored = await userNames(ctx.trx, ids);
  return note.replace(/\s*<at:([^>]+)>\s*/g, (_, id: string) => ` @${ctx.mentioned.get(id) ?? stored.get(id) ?? id} `).trim();
}
