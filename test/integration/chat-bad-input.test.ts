import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  answerTo,
  ask,
  caseRow,
  click,
  createTestDatabase,
  describeOnBackends,
  GROUP,
  openCaseCard,
  postClick,
  seedCases,
  startHarness,
  uid,
  USERS,
  type CardOnScreen,
  type Harness,
} from '../support/harness.ts';
import { cardTexts, findButton } from '../support/lark/cards.ts';
import type { Card } from '../support/lark/emulator.ts';

// Bad input — an unknown case, a bad date, a wrong class, over-long text, a form submitted empty — gets a clear
// Chinese answer that names what to fix, and nothing is half-written: the case, its records, its timeline and the
// cards showing it stay exactly as they were. 张三 holds the cases below; "today" is Friday 2024-03-22.

const TODAY = '2024-03-22';
const LONG = '调'.repeat(1001);
const textOf = (card: Card | undefined): string => cardTexts(card).join('\n');

/** Everything a command could have written, for all cases. */
async function footprint(h: Harness) {
  const db = h.service.database.db;
  const cases = (await db.selectFrom('cases').selectAll().orderBy('id').execute()).map(({ updated_at: _u, ...row }) => row);
  const count = async (table: 'case_events' | 'contacts' | 'replies' | 'ratings' | 'extension_requests' | 'adjustment_requests' | 'user_roles') =>
    Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const patches = Number(
    (await db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('op', '=', 'patch').executeTakeFirstOrThrow()).n,
  );
  const chats = await db.selectFrom('chats').select(['chat_id', 'unit']).orderBy('chat_id').execute();
  return {
    cases,
    events: await count('case_events'),
    contacts: await count('contacts'),
    replies: await count('replies'),
    ratings: await count('ratings'),
    extensions: await count('extension_requests'),
    adjustments: await count('adjustment_requests'),
    roles: await count('user_roles'),
    patches,
    chats,
  };
}

// [what is wrong, who says it, the message, the whole answer]
type Said = [string, 'zhang' | 'admin', string, string];

const MESSAGES: Said[] = [
  // Which case
  ['an unknown case', 'zhang', '认领 20249999', '找不到案号为“20249999”的案件，请核对案号（可发送“待办”查看本群案件）。'],
  ['an unknown case to look at', 'zhang', '查询 20249999', '找不到案号为“20249999”的案件，请核对案号（可发送“待办”查看本群案件）。'],
  ['an unknown bare case number', 'zhang', '20249999', '找不到案号为“20249999”的案件，请核对案号（可发送“待办”查看本群案件）。'],
  ['a word where the case number goes', 'zhang', '认领 养老', '“养老”不是案号。案号是数字，如 20240562、第20240562号，也可只写末几位如 562。\n用法：认领 <案号>'],
  ['no case number', 'zhang', '放弃', '请写明案号，如 20240562、第20240562号，或末几位 562。\n用法：放弃 <案号>'],
  ['two case numbers', 'zhang', '认领 20240801 20240802', '一次只能认领一件，请分开发送。\n用法：认领 <案号>'],
  ['the command after the number', 'zhang', '20240801 认领', '请把命令写在案号前面，如：认领 20240801\n用法：认领 <案号>'],
  ['a mistyped command', 'zhang', '认岭 20240801', '没有看懂“认岭 20240801”。您是不是想用：认领 <案号>？发送“帮助”查看全部命令。'],
  // Lists
  ['words after 我的', 'zhang', '我的 全部', '“我的”后面不需要写其他内容，请删去“全部”。\n用法：我的'],
  ['words after 待办', 'zhang', '待办 本周', '“待办”后面不需要写其他内容，请删去“本周”。\n用法：待办'],
  // 转交
  ['转交 without a person', 'zhang', '转交 20240801', '请@要转交的同事，如：转交 20240562 @张三。\n用法：转交 <案号> @某人'],
  ['转交 to someone typed, not @-picked', 'zhang', '转交 20240801 @李四四', '“@李四四”不是有效的@。请在输入框里输入 @ 并从列表中选择同事。\n用法：转交 <案号> @某人'],
  // 进展
  ['进展 with nothing to say', 'zhang', '进展 20240801', '请写明进展内容。\n用法：进展 <案号> <内容>'],
  ['进展 over 1000 characters', 'zhang', `进展 20240801 ${LONG}`, '进展内容太长了（1001 字），请控制在 1000 字以内。\n用法：进展 <案号> <内容>'],
  // 面商
  ['面商 by an unknown method', 'zhang', '面商 20240801 飞鸽传书', '“飞鸽传书”不是可识别的沟通方式，请写：电话、上门、座谈、线上或当面。\n用法：面商 <案号> <电话|上门|座谈|线上|当面> [日期] [说明]'],
  ['面商 on a day that does not exist', 'zhang', '面商 20240801 电话 2024-02-30', '“2024-02-30”不是有效日期，请写成 2024-05-01 或 5月1日 这样的日期。\n用法：面商 <案号> <电话|上门|座谈|线上|当面> [日期] [说明]'],
  ['面商 in the future', 'zhang', '面商 20240801 电话 2024-03-25', '沟通日期（2024-03-25）不能晚于今天（2024-03-22）。'],
  ['面商 before the case was assigned', 'zhang', '面商 20240801 电话 2024-03-19', '沟通日期（2024-03-19）不能早于交办日期（2024-03-20）。'],
  ['面商 with an over-long note', 'zhang', `面商 20240801 电话 ${LONG}`, '说明太长了（1001 字），请控制在 1000 字以内。\n用法：面商 <案号> <电话|上门|座谈|线上|当面> [日期] [说明]'],
  // 答复
  ['答复 with a class that does not exist', 'zhang', '答复 20240802 E', '“E”不是有效的结果类别，请写 A、B或C。\n用法：答复 <案号> <A|B|C> [日期] [主动公开|依申请公开|不予公开]'],
  ['答复 without a class', 'zhang', '答复 20240802 今天', '请写明答复结果类别：A、B或C。\n用法：答复 <案号> <A|B|C> [日期] [主动公开|依申请公开|不予公开]'],
  ['答复 on a bad date', 'zhang', '答复 20240802 A 2024-3-32', '“2024-3-32”不是有效日期，请写成 2024-05-01 或 5月1日 这样的日期。\n用法：答复 <案号> <A|B|C> [日期] [主动公开|依申请公开|不予公开]'],
  ['答复 dated in the future', 'zhang', '答复 20240802 A 明天', '答复日期（2024-03-23）不能晚于今天（2024-03-22）。'],
  ['答复 before consulting the deputy', 'zhang', '答复 20240801 A', '须先登记与代表的沟通情况才能提交答复。'],
  ['答复 on an assisting case', 'zhang', '答复 20240803 A', '案件 20240803 我单位为会办，请使用“意见”向主办单位报送会办意见。'],
  // 意见
  ['意见 on a case we reply to ourselves', 'zhang', '意见 20240801 已报送', '案件 20240801 由我单位答复代表，请使用“答复”登记答复。'],
  ['意见 over 1000 characters', 'zhang', `意见 20240803 ${LONG}`, '说明太长了（1001 字），请控制在 1000 字以内。\n用法：意见 <案号> [说明]'],
  // 评价
  ['评价 with a word that is no rating', 'zhang', '评价 20240801 很好', '“很好”不是可选的评价，请写：满意、基本满意或不满意。\n用法：评价 <案号> <满意|基本满意|不满意>'],
  ['评价 before the reply', 'zhang', '评价 20240801 满意', '案件 20240801 尚未答复，答复后才能录入代表评价。'],
  // 延期
  ['延期 to a date that does not exist', 'zhang', '延期 20240801 2024-13-01 调研', '“2024-13-01”不是有效日期，请写成 2024-05-01 或 5月1日 这样的日期。\n用法：延期 <案号> <日期> <理由>'],
  ['延期 without a reason', 'zhang', '延期 20240801 2024-07-31', '请写明延期理由。\n用法：延期 <案号> <日期> <理由>'],
  ['延期 without a date', 'zhang', '延期 20240801 需要调研', '“需要调研”不是日期，请写明延期到哪一天，如 2024-05-01、5月1日 或 今天。\n用法：延期 <案号> <日期> <理由>'],
  ['延期 to before the current due date', 'zhang', '延期 20240801 2024-05-01 调研', '延期后的日期须晚于当前答复期限 2024-06-20。'],
  ['延期 beyond six months after assignment', 'zhang', '延期 20240801 2024-10-31 调研', '延期不能超过交办后的最长期限，最晚只能延至 2024-09-20。'],
  // 调整
  ['调整 without a reason', 'zhang', '调整 20240801', '请写明申请调整的理由，如：不属于我局职责，建议由某某局办理。\n用法：调整 <案号> <理由>'],
  ['调整 after the window closed', 'zhang', '调整 20240804 不属于本局职责', '调整申请须在交办后规定时限内提出（截至 2024-03-08），现已超过，请按原交办办理或联系协调员。'],
  // Coordinator commands, said by the coordinator
  ['绑定 without a unit', 'admin', '绑定', '请写明要绑定的单位名称，如：绑定 社会救助科。\n用法：绑定 <单位名称>'],
  ['绑定 a unit name over 50 characters', 'admin', `绑定 ${'社'.repeat(51)}`, '单位名称太长了（51 字），请控制在 50 字以内。\n用法：绑定 <单位名称>'],
  ['设置 without a role', 'admin', '设置 王五', '请只写角色（协调员或领导）并@同事，请删去“王五”。\n用法：设置 <协调员|领导> @某人'],
  ['设置 without a person', 'admin', '设置 协调员', '请@要设为协调员的同事。\n用法：设置 <协调员|领导> @某人'],
  ['取消 without a person', 'admin', '取消 领导', '请@要取消分管领导身份的同事。\n用法：取消 <协调员|领导> @某人'],
];

describeOnBackends('chat bad input: a clear answer, nothing half-written', (backend) => {
  let h: Harness;
  let drop: () => Promise<void>;
  let lead: CardOnScreen & { card: Card };
  let contacted: CardOnScreen & { card: Card };

  beforeAll(async () => {
    const database = await createTestDatabase(backend);
    drop = database.drop;
    h = await startHarness({ database, today: TODAY });
    await seedCases(h, [
      { caseNo: '20240801' },
      { caseNo: '20240802' },
      { caseNo: '20240803', role: 'assisting', roleLabel: '会办', leadUnit: '市住建局' },
      { caseNo: '20240804', assignedDate: '2024-03-01' },
      { caseNo: '20240880' },
      { caseNo: '20240980' },
    ]);
    for (const n of ['20240801', '20240802', '20240803', '20240804']) await ask(h, USERS.zhang, `认领 ${n}`);
    await ask(h, USERS.zhang, '面商 20240802 电话 2024-03-21');
    lead = await openCaseCard(h, USERS.zhang, '20240801');
    contacted = await openCaseCard(h, USERS.zhang, '20240802');
  });
  afterAll(async () => {
    await h?.stop();
    await h?.lark.close();
    await drop?.();
  });

  it.each(MESSAGES)('by message, %s: the answer names what to fix and nothing changes', async (_what, who, message, answer) => {
    const before = await footprint(h);
    const said = await ask(h, USERS[who], message);
    expect(said.msgType).toBe('text');
    expect(said.text).toBe(answer);
    expect(await footprint(h)).toEqual(before);
  });

  it('a picture sent to the bot gets told that only text commands are understood, and nothing changes', async () => {
    const before = await footprint(h);
    const messageId = uid('om');
    const content = { image_key: 'img_v3_0001' };
    h.lark.recordIncoming({ messageId, chatId: GROUP, senderOpenId: USERS.zhang.openId, msgType: 'image', content });
    const [res] = await h.events.post({
      schema: '2.0',
      header: { event_id: uid('ev'), event_type: 'im.message.receive_v1', create_time: String(Date.now()), token: h.config.lark.verificationToken, app_id: h.lark.appId, tenant_key: h.lark.tenantKey },
      event: {
        sender: { sender_id: { open_id: USERS.zhang.openId }, sender_type: 'user', tenant_key: h.lark.tenantKey },
        message: {
          message_id: messageId,
          create_time: String(Date.now()),
          chat_id: GROUP,
          chat_type: 'group',
          message_type: 'image',
          content: JSON.stringify(content),
          mentions: [{ key: '@_user_1', id: { open_id: h.lark.botOpenId }, name: '办理助手', tenant_key: h.lark.tenantKey }],
        },
      },
    });
    expect(res?.status).toBe(200);
    expect((await answerTo(h, messageId)).text).toBe('目前只能识别文字命令。发送“帮助”查看可以做什么。');
    expect(await footprint(h)).toEqual(before);
  });

  it('a case number that ends several cases (“80”) gets a list to choose from, and nothing changes', async () => {
    const before = await footprint(h);
    const said = await ask(h, USERS.zhang, '认领 80');
    expect(said.text).toContain('“80”对应多件案件');
    expect(said.text).toContain('**20240880**');
    expect(said.text).toContain('**20240980**');
    expect(await footprint(h)).toEqual(before);
  });

  // [what is wrong, the button, the form as submitted, the toast]
  const FORMS: Array<[string, 'lead' | 'contacted', string, Record<string, string>, string]> = [
    ['进展 submitted empty', 'lead', '更新进展', {}, '请填写进展内容后再提交。'],
    ['进展 of blanks only', 'lead', '更新进展', { progress_note: '   ' }, '请填写进展内容后再提交。'],
    ['进展 over 1000 characters', 'lead', '更新进展', { progress_note: LONG }, '进展内容过长（1001 字），请控制在 1000 字以内。'],
    ['面商 submitted empty', 'lead', '登记面商', {}, '请选择沟通方式：电话、上门、座谈、线上、当面。'],
    ['面商 by a method not offered', 'lead', '登记面商', { contact_method: '飞鸽', contact_date: '2024-03-21 +0800' }, '请选择沟通方式：电话、上门、座谈、线上、当面。'],
    ['面商 on a day that does not exist', 'lead', '登记面商', { contact_method: '电话', contact_date: '2024-02-30 +0800' }, '沟通日期“2024-02-30”不是有效日期。'],
    ['面商 in the future', 'lead', '登记面商', { contact_method: '电话', contact_date: '2024-03-29 +0800' }, '沟通日期（2024-03-29）不能晚于今天（2024-03-22）。'],
    ['面商 with an over-long note', 'lead', '登记面商', { contact_method: '电话', contact_note: LONG }, '沟通说明过长（1001 字），请控制在 1000 字以内。'],
    ['答复 submitted empty', 'contacted', '提交答复', {}, '请选择办理结果类别（A、B、C）。'],
    ['答复 with a class not configured', 'contacted', '提交答复', { reply_result_class: 'E', reply_date: '2024-03-22 +0800' }, '办理结果类别“E”无效，请选择 A、B、C。'],
    ['答复 with a bad disclosure', 'contacted', '提交答复', { reply_result_class: 'A', reply_disclosure: '全部公开' }, '公开情况须为主动公开、依申请公开、不予公开。'],
    ['答复 on a bad date', 'contacted', '提交答复', { reply_result_class: 'A', reply_date: '2024-04-31 +0800' }, '答复日期“2024-04-31”不是有效日期。'],
    ['延期 submitted empty', 'lead', '申请延期', {}, '请选择延期后的答复日期。'],
    ['延期 without a reason', 'lead', '申请延期', { extend_until: '2024-07-31 +0800' }, '请填写延期理由。'],
    ['延期 beyond six months', 'lead', '申请延期', { extend_until: '2024-12-31 +0800', extend_reason: '调研' }, '延期不能超过交办后的最长期限，最晚只能延至 2024-09-20。'],
    ['调整 submitted empty', 'lead', '申请调整', {}, '请填写调整理由。'],
    ['调整 with an over-long reason', 'lead', '申请调整', { adjust_reason: LONG }, '调整理由过长（1001 字），请控制在 1000 字以内。'],
    ['转交 with nobody picked', 'lead', '转交', {}, '请选择要转交的同事。'],
    ['转交 to the handler himself', 'lead', '转交', { handover_to: USERS.zhang.openId }, '案件 20240801 已由张三承办。'],
  ];

  it.each(FORMS)('by card, %s: the toast names what to fix and nothing changes', async (_what, which, button, form, toast) => {
    const on = which === 'lead' ? lead : contacted;
    const before = await footprint(h);
    const answer = await click(h, USERS.zhang, on, button, form);
    expect(answer.toast).toEqual({ type: 'error', content: toast });
    expect(await footprint(h)).toEqual(before);
  });

  it('an assisting case’s opinion form with a bad date is refused, and nothing changes', async () => {
    const card = await openCaseCard(h, USERS.zhang, '20240803');
    const before = await footprint(h);
    const answer = await click(h, USERS.zhang, card, '报送会办意见', { opinion_date: '2024-02-31 +0800' });
    expect(answer.toast).toEqual({ type: 'error', content: '报送日期“2024-02-31”不是有效日期。' });
    expect(await footprint(h)).toEqual(before);
    expect((await caseRow(h, '20240803')).status).toBe('in_progress');
  });

  it('a decision note over 1000 characters is refused on the coordinator’s card, and the request stays pending', async () => {
    await ask(h, USERS.zhang, '延期 20240802 2024-07-31 需要调研');
    const sent = await h.lark.waitFor(() =>
      h.lark.sent.find((m) => m.receiveId === USERS.admin.openId && textOf(m.content as Card).includes('延期申请 · 20240802')),
    );
    const before = await footprint(h);
    const answer = await click(h, USERS.admin, { messageId: sent.messageId, chatId: sent.chatId }, '同意', { decision_note: LONG });
    expect(answer.toast).toEqual({ type: 'error', content: '审批意见过长（1001 字），请控制在 1000 字以内。' });
    expect(textOf(answer.card)).toContain('待审批');
    expect(await footprint(h)).toEqual(before);
    expect((await caseRow(h, '20240802')).reply_due_date).toBe('2024-06-20');
  });

  it('a button that is not ours, or that names a case that does not exist, gets a clear toast and changes nothing', async () => {
    const before = await footprint(h);
    expect((await postClick(h, USERS.zhang, lead, { action: 'explode', caseId: 1 })).toast).toEqual({
      type: 'error',
      content: '无法识别这个按钮，请发送案号重新获取卡片。',
    });
    expect((await postClick(h, USERS.zhang, lead, 'not-json-at-all')).toast?.content).toBe('无法识别这个按钮，请发送案号重新获取卡片。');
    expect((await postClick(h, USERS.zhang, lead, { action: 'claim', caseId: 999999 })).toast).toEqual({
      type: 'error',
      content: '找不到该案件，可能已被删除。',
    });
    // A rating button must carry its rating.
    expect((await postClick(h, USERS.zhang, lead, { action: 'rate', caseId: 1 })).toast?.content).toBe('无法识别这个按钮，请发送案号重新获取卡片。');
    expect(await footprint(h)).toEqual(before);
    // The card buttons still work afterwards.
    expect(findButton(lead.card, '更新进展').isSubmit).toBe(true);
  });
});
