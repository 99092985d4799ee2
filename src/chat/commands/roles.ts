// 设置 / 取消: a coordinator grants or removes the coordinator or leader role. Two commands, one parser.

import { grantRole, revokeRole, upsertUser, userNames } from '../../cases/case.repository.ts';
import { isCoordinator, STAFF_ROLE_LABELS, type StaffRole } from '../../domain/types.ts';
import { reject, rejectStray } from '../parse/args.ts';
import type { Token } from '../parse/tokens.ts';
import { defineCommand, text, type CommandContext } from '../command.ts';

const ROLE_WORDS = new Map<string, StaffRole>([
  ['协调员', 'coordinator'],
  ['领导', 'leader'],
  ['分管领导', 'leader'],
  ['coordinator', 'coordinator'],
  ['leader', 'leader'],
]);

function roleAndPeople(op: 'grant' | 'revoke', args: Token[]): { role: StaffRole; users: string[] } {
  let role: StaffRole | null = null;
  const users: string[] = [];
  // Role and people are told apart by shape, so "设置 @张三 为 协调员" works as well.
  for (const tok of args) {
    if (tok.person !== null) {
      if (!users.includes(tok.person)) users.push(tok.person);
      continue;
    }
    const word = tok.text.toLowerCase();
    if (word === '为' || word === 'as') continue;
    const r = ROLE_WORDS.get(word.replace(/^为/, ''));
    if (r !== undefined) {
      if (role !== null && role !== r) reject('一次只能设置一种角色，请分开发送。');
      role = r;
      continue;
    }
    rejectStray(tok, '请只写角色（协调员或领导）并@同事');
  }
  if (role === null) reject('请写明角色：协调员或领导。');
  if (users.length === 0) {
    const label = STAFF_ROLE_LABELS[role];
    reject(op === 'grant' ? `请@要设为${label}的同事。` : `请@要取消${label}身份的同事。`);
  }
  return { role, users };
}

async function setRole(ctx: CommandContext, op: 'grant' | 'revoke', role: StaffRole, users: string[]) {
  if (!isCoordinator(ctx.actor)) return text('只有协调员可以设置角色。');
  const label = STAFF_ROLE_LABELS[role];
  const stored = await userNames(ctx.trx, users);
  const nameOf = (id: string) => ctx.mentioned.get(id) ?? stored.get(id) ?? id;
  // All or nothing: a refusal for one person must not leave the others half-changed.
  const pinned = op === 'revoke' && role === 'coordinator' ? users.filter((id) => ctx.chat.adminOpenIds.includes(id)) : [];
  if (pinned.length > 0) {
    return text(`${pinned.map(nameOf).join('、')}是配置文件（BANLI_ADMIN_OPEN_IDS）指定的协调员，不能在聊天中取消；本次没有做任何更改。`);
  }
  for (const openId of users) {
    await upsertUser(ctx.trx, { openId, name: ctx.mentioned.get(openId) });
    if (op === 'grant') await grantRole(ctx.trx, openId, role, ctx.actor.openId);
    else await revokeRole(ctx.trx, openId, role);
  }
  const done = users.map(nameOf);
  return text(op === 'grant' ? `已将${done.join('、')}设置为${label}。` : `已取消${done.join('、')}的${label}角色。`);
}

/** 设置 协调员 @张三 */
export const grant = defineCommand<{ type: 'grant'; role: StaffRole; users: string[] }>({
  type: 'grant',
  words: ['设置', 'grant'],
  usage: '设置 <协调员|领导> @某人',
  help: { description: '设置协调员或分管领导', group: '协调员', coordinatorOnly: true },
  parse: (args) => ({ type: 'grant', ...roleAndPeople('grant', args) }),
  run: (cmd, ctx) => setRole(ctx, 'grant', cmd.role, cmd.users),
});

/** 取消 协调员 @张三 */
export const revoke = defineCommand<{ type: 'revoke'; role: StaffRole; users: string[] }>({
  type: 'revoke',
  words: ['取消', 'revoke'],
  usage: '取消 <协调员|领导> @某人',
  help: { description: '取消协调员或分管领导', group: '协调员', coordinatorOnly: true },
  parse: (args) => ({ type: 'revoke', ...roleAndPeople('revoke', args) }),
  run: (cmd, ctx) => setRole(ctx, 'revoke', cmd.role, cmd.users),
});
