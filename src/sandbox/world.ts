// The sandbox's small world: the people a trainer plays, the chats they sit in, and the day the story starts.
// Everything here is made up; the open_ids and chat ids only have Lark's shapes.

import type { ChatInfo, EmulatorUser } from './lark/emulator.ts';

export type SandboxRole = 'coordinator' | 'handler' | 'leader';

export interface SandboxPerson extends EmulatorUser {
  role: SandboxRole;
  /** What the user switch shows under the name. */
  title: string;
}

export const PEOPLE: readonly SandboxPerson[] = [
  { openId: 'ou_sandbox_coordinator_zhao', name: '赵协调', role: 'coordinator', title: '协调员 · 办公室' },
  { openId: 'ou_sandbox_handler_zhang', name: '张三', role: 'handler', title: '承办人 · 社会救助科' },
  { openId: 'ou_sandbox_handler_li', name: '李四', role: 'handler', title: '承办人 · 社会救助科' },
  { openId: 'ou_sandbox_leader_qian', name: '钱领导', role: 'leader', title: '分管领导' },
];

/** The section the unit's group is bound to; the sample cases name it as their 承办处室. */
export const UNIT = '社会救助科';

export const UNIT_CHAT: ChatInfo = {
  chatId: 'oc_sandbox_unit_shehuijiuzhu',
  name: '社会救助科 · 建议提案办理',
  chatType: 'group',
  members: PEOPLE.map((p) => p.openId),
};

export const COORDINATORS_CHAT: ChatInfo = {
  chatId: 'oc_sandbox_office_xietiao',
  name: '办公室 · 建议提案协调',
  chatType: 'group',
  members: PEOPLE.filter((p) => p.role !== 'handler').map((p) => p.openId),
};

export const BOT_NAME = '办理助手';

/** The sample cases are assigned on 2024-03-20; the sandbox opens two days later, before any reminder is due. */
export const START_DATE = '2024-03-22';

export function personById(openId: string): SandboxPerson | undefined {
  return PEOPLE.find((p) => p.openId === openId);
}
