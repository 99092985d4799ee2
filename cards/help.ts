// The help card: the commands this user may use in this chat, grouped under headings.

import { BULLET, card, clip, coloured, escapeMd, md, plain, type Card, type CardElement } from './components.ts';
import { CARD_TARGET_BYTES, cardByteSize } from './schema.ts';
import type { HelpCommandView, HelpView } from './view-models.ts';

const DEFAULT_GROUP = '常用命令';

/** The help card; coordinator-only commands appear only when view.isCoordinator. */
export function buildHelpCard(view: HelpView): Card {
  let built = renderHelp(view, 120);
  for (const limit of [60, 30]) {
    if (cardByteSize(built) <= CARD_TARGET_BYTES) break;
    built = renderHelp(view, limit);
  }
  return built;
}

function renderHelp(view: HelpView, descriptionLimit: number): Card {
  const commands = view.commands.filter((c) => view.isCoordinator || !c.coordinatorOnly);
  const groups = new Map<string, HelpCommandView[]>();
  for (const command of commands) {
    const group = command.group?.trim() || DEFAULT_GROUP;
    groups.set(group, [...(groups.get(group) ?? []), command]);
  }
  const elements: CardElement[] = [];
  for (const [group, list] of groups) {
    const lines = list.map((c) => `${BULLET}**${escapeMd(clip(c.usage, 60))}**　${escapeMd(clip(c.description, descriptionLimit))}`);
    elements.push(md([`**${escapeMd(clip(group, 20))}**`, ...lines].join('\n')));
  }
  if (elements.length === 0) elements.push(md(coloured('这里暂时没有可用的命令。', 'grey')));
  const subtitle = view.chatUnit === null ? '本群尚未绑定处室' : `本群处室：${clip(view.chatUnit, 30)}`;
  return card({ title: plain('办理助手 · 使用说明'), subtitle: plain(subtitle), template: 'wathet' }, elements, '办理助手使用说明');
}
