import { afterAll, beforeAll, expect, it } from 'vitest';
import {
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
  timelineOf,
  USERS,
  type CardOnScreen,
  type Harness,
} from '../support/harness.ts';
import { cardTexts, findButton } from '../support/lark/cards.ts';
import type { Card } from '../support/lark/emulator.ts';

// Only the handler or a coordinator may change a case. For every action: 王五 (on staff, not the handler, not a
// coordinator) tries it by button and by message, gets a polite Chinese refusal, and nothing changes — not the case,
// not its records, not its timeline, no card is patched. Then the coordinator 赵协调 (BANLI_ADMIN_OPEN_IDS) does the
// same on 张三's case, and the timeline says it was 赵协调.

const TODAY = '2024-03-22';
const textOf = (card: Card | undefined): string => cardTexts(card).join('\n');

/** Everything an action could change about a case. */
async function footprint(h: Harness, caseNo: string) {
  const db = h.service.database.db;
  const { updated_at: _updated, ...row } = await caseRow(h, caseNo);
  const count = async (table: 'case_events' | 'contacts' | 'replies' | 'ratings') =>
    Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('case_id', '=', row.id).executeTakeFirstOrThrow()).n);
  const requests = async (table: 'extension_requests' | 'adjustment_requests') =>
    (await db.selectFrom(table).select(['id', 'status', 'decided_by']).where('case_id', '=', row.id).orderBy('id').execute()).map((r) => ({ ...r }));
  const patches = Number(
    (
      await db
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('case_id', '=', row.id)
        .where('op', '=', 'patch')
        .executeTakeFirstOrThrow()
    ).n,
  );
  return {
    row,
    events: await count('case_events'),
    contacts: await count('contacts'),
    replies: await count('replies'),
    ratings: await count('ratings'),
    extensions: await requests('extension_requests'),
    adjustments: await requests('adjustment_requests'),
    patches,
  };
}

interface ActionCase {
  action: string;
  caseNo: string;
  /** Brings the case to where its handler 张三 could take the action. */
  setup(h: Harness): Promise<void>;
  button: string;
  form?: Record<string, string>;
  message: string;
  /** What the coordinator is told when he does it. */
  done: string;
  event: string;
}

const claimedBy张三 = (caseNo: string) => async (h: Harness) => {
  await ask(h, USERS.zhang, `认领 ${caseNo}`);
};
const contactedBy张三 = (caseNo: string) => async (h: Harness) => {
  await ask(h, USERS.zhang, `认领 ${caseNo}`);
  await ask(h, USERS.zhang, `面商 ${caseNo} 电话 2024-03-21`);
};

const ACTIONS: ActionCase[] = [
  {
    action: '放弃认领 (release)',
    caseNo: '20240701',
    setup: claimedBy张三('20240701'),
    button: '放弃认领',
    message: '放弃 20240701',
    done: '案件 20240701 已退回待认领。',
    event: 'released',
  },
  {
    action: '转交 (handover)',
    caseNo: '20240702',
    setup: claimedBy张三('20240702'),
    button: '转交',
    form: { handover_to: USERS.wang.openId },
    message: '转交 20240702 @王五',
    done: '已将案件 20240702 转交给王五。',
    event: 'handed_over',
  },
  {
    action: '更新进展 (progress)',
    caseNo: '20240703',
    setup: claimedBy张三('20240703'),
    button: '更新进展',
    form: { progress_note: '已完成调研' },
    message: '进展 20240703 已完成调研',
    done: '已记录案件 20240703 的办理进展。',
    event: 'progress',
  },
  {
    action: '登记面商 (contact)',
    caseNo: '20240704',
    setup: claimedBy张三('20240704'),
    button: '登记面商',
    form: { contact_method: '电话', contact_date: '2024-03-21 +0800', contact_who: '黄振辉' },
    message: '面商 20240704 电话 2024-03-21',
    done: '已登记案件 20240704 与代表的沟通情况（电话，2024-03-21）。',
    event: 'contacted',
  },
  {
    action: '提交答复 (reply)',
    caseNo: '20240705',
    setup: contactedBy张三('20240705'),
    button: '提交答复',
    form: { reply_result_class: 'A', reply_date: '2024-03-22 +0800', reply_disclosure: '主动公开' },
    message: '答复 20240705 A',
    done: '已登记案件 20240705 的答复（A类，2024-03-22），请在代表评价后录入评价。',
    event: 'replied',
  },
  {
    action: '报送会办意见 (opinion)',
    caseNo: '20240706',
    setup: claimedBy张三('20240706'),
    button: '报送会办意见',
    form: { opinion_date: '2024-03-22 +0800', opinion_note: '已报送' },
    message: '意见 20240706 已报送',
    done: '已登记案件 20240706 的会办意见报送，案件办结。',
    event: 'opinion_sent',
  },
  {
    action: '录入评价 (rate)',
    caseNo: '20240707',
    setup: async (h) => {
      await contactedBy张三('20240707')(h);
      await ask(h, USERS.zhang, '答复 20240707 B');
    },
    button: '满意',
    message: '评价 20240707 满意',
    done: '已录入评价“满意”，案件 20240707 办结。',
    event: 'rated',
  },
  {
    action: '申请延期 (extension request)',
    caseNo: '20240708',
    setup: claimedBy张三('20240708'),
    button: '申请延期',
    form: { extend_until: '2024-07-31 +0800', extend_reason: '需要调研' },
    message: '延期 20240708 2024-07-31 需要调研',
    done: '已提交案件 20240708 延期至 2024-07-31 的申请，等待协调员审批。',
    event: 'extension_requested',
  },
  {
    action: '申请调整 (adjustment request)',
    caseNo: '20240709',
    setup: claimedBy张三('20240709'),
    button: '申请调整',
    form: { adjust_reason: '不属于本局职责' },
    message: '调整 20240709 不属于本局职责',
    done: '已提交案件 20240709 的调整申请，等待协调员决定。',
    event: 'adjustment_requested',
  },
];

describeOnBackends('chat permissions: only the handler or a coordinator may change a case', (backend) => {
  let h: Harness;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await createTestDatabase(backend);
    drop = database.drop;
    h = await startHarness({ database, today: TODAY });
    await seedCases(h, [
      ...ACTIONS.map((a) => ({
        caseNo: a.caseNo,
        ...(a.caseNo === '20240706' ? { role: 'assisting' as const, roleLabel: '会办', leadUnit: '市住建局' } : {}),
      })),
      { caseNo: '20240710' },
      { caseNo: '20240711' },
      { caseNo: '20240712' },
      { caseNo: '20240713' },
      { caseNo: '20240714' },
      { caseNo: '20240715' },
    ]);
  });
  afterAll(async () => {
    await h?.stop();
    await h?.lark.close();
    await drop?.();
  });

  for (const a of ACTIONS) {
    it(`${a.action}: 王五 is refused by button and by message and nothing changes; the coordinator may do it`, async () => {
      await a.setup(h);
      const card = await openCaseCard(h, USERS.wang, a.caseNo);
      const before = await footprint(h, a.caseNo);
      const refusal = `案件 ${a.caseNo} 由张三承办，只有承办人或协调员可以操作。`;

      const clicked = await click(h, USERS.wang, card, a.button, a.form);
      expect(clicked.toast).toEqual({ type: 'error', content: refusal });
      expect(textOf(clicked.card)).toContain('**承办人**：张三');
      const said = await ask(h, USERS.wang, a.message, a.message.includes('@王五') ? { mention: [USERS.wang] } : {});
      expect(said.text).toBe(refusal);
      expect(await footprint(h, a.caseNo)).toEqual(before);

      const byCoordinator = await click(h, USERS.admin, card, a.button, a.action.startsWith('转交') ? { handover_to: USERS.li.openId } : a.form);
      const expected = a.action.startsWith('转交') ? `已将案件 ${a.caseNo} 转交给李四。` : a.done;
      expect(byCoordinator.toast).toEqual({ type: 'success', content: expected });
      const last = (await timelineOf(h, a.caseNo)).at(-1);
      expect(last?.type).toBe(a.event);
      expect(last?.actor).toBe(USERS.admin.openId);
    });
  }

  it('the coordinator releasing 张三’s case is recorded as cancelling 张三’s claim', async () => {
    const released = (await timelineOf(h, '20240701')).at(-1);
    expect(released?.note).toBe('取消了张三的认领');
  });

  it('a claimed case cannot be claimed away: 王五 and even the coordinator are told who has it (the coordinator uses 转交)', async () => {
    const card = await openCaseCard(h, USERS.wang, '20240710');
    await ask(h, USERS.zhang, '认领 20240710');
    const before = await footprint(h, '20240710');
    const stale = findButton(card.card, '认领').value;
    expect((await postClick(h, USERS.wang, card, stale)).toast).toEqual({ type: 'error', content: '该案件已由张三认领。' });
    expect((await ask(h, USERS.admin, '认领 20240710')).text).toBe('该案件已由张三认领。');
    expect(await footprint(h, '20240710')).toEqual(before);
  });

  it('nobody may work on an unclaimed case before claiming it, except that the coordinator may assign it with 转交', async () => {
    const before = await footprint(h, '20240711');
    expect((await ask(h, USERS.wang, '进展 20240711 先看看')).text).toBe('案件 20240711 尚未认领，请先认领后再办理。');
    expect((await ask(h, USERS.wang, '转交 20240711 @李四', { mention: [USERS.li] })).text).toBe(
      '案件 20240711 尚未认领，只有协调员可以直接指定承办人。',
    );
    expect((await ask(h, USERS.wang, '放弃 20240711')).text).toBe('案件 20240711 尚未认领，无需放弃。');
    expect(await footprint(h, '20240711')).toEqual(before);

    expect((await ask(h, USERS.admin, '转交 20240711 @李四', { mention: [USERS.li] })).text).toBe('已指定李四承办案件 20240711。');
    expect(await caseRow(h, '20240711')).toMatchObject({ handler_open_id: USERS.li.openId, status: 'in_progress' });
    expect((await timelineOf(h, '20240711')).at(-1)).toEqual({ type: 'handed_over', actor: USERS.admin.openId, note: '指定李四承办' });
  });

  it('only coordinators decide extensions: 张三 (the handler) and a coordinator whose role was taken back are refused on the decision card', async () => {
    // 李四 is made a coordinator, so the request reaches him too.
    expect((await ask(h, USERS.admin, '设置 协调员 @李四', { mention: [USERS.li] })).text).toBe('已将李四设置为协调员。');
    await ask(h, USERS.zhang, '认领 20240712');
    await ask(h, USERS.zhang, '延期 20240712 2024-07-31 需要会同住建局调研');
    const cardFor = (openId: string) =>
      h.lark.waitFor(() => h.lark.sent.find((m) => m.receiveId === openId && textOf(m.content as Card).includes('延期申请 · 20240712')));
    const [adminCard, liCard] = await Promise.all([cardFor(USERS.admin.openId), cardFor(USERS.li.openId)]);
    expect(h.lark.sent.filter((m) => m.receiveId === USERS.zhang.openId && textOf(m.content as Card).includes('延期申请'))).toHaveLength(0);
    expect((await ask(h, USERS.admin, '取消 协调员 @李四', { mention: [USERS.li] })).text).toBe('已取消李四的协调员角色。');

    const before = await footprint(h, '20240712');
    const onLi: CardOnScreen = { messageId: liCard.messageId, chatId: liCard.chatId };
    const approve = findButton(h.lark.latestCard(liCard.messageId), '同意').value;
    const refuse = findButton(h.lark.latestCard(liCard.messageId), '不同意').value;
    const refusal = { type: 'error', content: '只有协调员可以审批延期申请。' };
    expect((await click(h, USERS.li, onLi, '同意', { decision_note: '同意' })).toast).toEqual(refusal);
    // The handler replaying the coordinator's button on a card he was never sent.
    expect((await postClick(h, USERS.zhang, { messageId: adminCard.messageId, chatId: GROUP }, approve)).toast).toEqual(refusal);
    expect((await postClick(h, USERS.zhang, { messageId: adminCard.messageId, chatId: GROUP }, refuse)).toast).toEqual(refusal);
    expect(await footprint(h, '20240712')).toEqual(before);

    const approved = await click(h, USERS.admin, { messageId: adminCard.messageId, chatId: adminCard.chatId }, '同意');
    expect(approved.toast).toEqual({ type: 'success', content: '已同意延期，案件 20240712 答复期限调整为 2024-07-31。' });
    expect((await caseRow(h, '20240712')).reply_due_date).toBe('2024-07-31');
    // A second click on the (old) card acts on the request as it is now: already decided.
    const again = await postClick(h, USERS.admin, { messageId: adminCard.messageId, chatId: adminCard.chatId }, refuse);
    expect(again.toast).toEqual({ type: 'error', content: '案件 20240712 没有待审批的该项延期申请（可能已被处理）。' });
    expect((await caseRow(h, '20240712')).reply_due_date).toBe('2024-07-31');
    expect((await timelineOf(h, '20240712')).at(-1)).toMatchObject({ type: 'extension_approved', actor: USERS.admin.openId });
  });

  it('only coordinators decide adjustments: 张三 is refused, the coordinator approves and the case leaves the unit', async () => {
    await ask(h, USERS.zhang, '认领 20240713');
    await ask(h, USERS.zhang, '调整 20240713 属于市住建局职责');
    const sent = await h.lark.waitFor(() =>
      h.lark.sent.find((m) => m.receiveId === USERS.admin.openId && textOf(m.content as Card).includes('调整申请 · 20240713')),
    );
    const on: CardOnScreen = { messageId: sent.messageId, chatId: sent.chatId };
    const card = h.lark.latestCard(sent.messageId);
    const before = await footprint(h, '20240713');
    for (const label of ['同意', '不同意']) {
      const answer = await postClick(h, USERS.zhang, on, findButton(card, label).value);
      expect(answer.toast).toEqual({ type: 'error', content: '只有协调员可以决定调整申请。' });
    }
    expect(await footprint(h, '20240713')).toEqual(before);

    const approved = await click(h, USERS.admin, on, '同意', { decision_note: '转市住建局办理' });
    expect(approved.toast).toEqual({ type: 'success', content: '已同意调整，案件 20240713 不再由本单位办理。' });
    expect((await caseRow(h, '20240713')).status).toBe('adjusted');
    // 张三 is told, and can do nothing more with it.
    await h.lark.waitFor(() =>
      h.lark.sent.find((m) => m.receiveId === USERS.zhang.openId && (m.content as { text?: string }).text === '您提交的案件 20240713 调整申请，赵协调已同意（转市住建局办理）。'),
    );
    expect((await ask(h, USERS.zhang, '进展 20240713 继续跟进')).text).toBe('案件 20240713 已调整出本单位，不能再登记进展。');
  });

  it('绑定 is for coordinators: 王五 is refused and the chat stays unbound; the coordinator binds it, and a chat of another unit cannot claim its cases', async () => {
    const db = h.service.database.db;
    const RELIEF = 'oc_group_relief';
    const HOUSING = 'oc_group_housing';
    expect((await ask(h, USERS.wang, '绑定 社会救助科', { chatId: RELIEF })).text).toBe('只有协调员可以绑定承办处室。');
    expect((await db.selectFrom('chats').select('unit').where('chat_id', '=', RELIEF).executeTakeFirstOrThrow()).unit).toBeNull();

    expect((await ask(h, USERS.admin, '绑定 社会救助科', { chatId: RELIEF })).text).toBe(
      '本群已绑定到“社会救助科”。在本群认领的案件将归入社会救助科，“待办”只显示社会救助科的案件。',
    );
    expect((await ask(h, USERS.admin, '绑定 住房保障科', { chatId: HOUSING })).text).toContain('本群已绑定到“住房保障科”');
    expect(await db.selectFrom('chats').select(['chat_id', 'unit', 'bound_by']).where('chat_id', 'in', [RELIEF, HOUSING]).orderBy('chat_id').execute()).toEqual([
      { chat_id: HOUSING, unit: '住房保障科', bound_by: USERS.admin.openId },
      { chat_id: RELIEF, unit: '社会救助科', bound_by: USERS.admin.openId },
    ]);

    // Claimed in the relief chat, the case joins 社会救助科; released, it cannot be claimed from the housing chat.
    expect((await ask(h, USERS.zhang, '认领 20240714', { chatId: RELIEF })).text).toContain('已认领案件 20240714');
    expect((await caseRow(h, '20240714')).unit).toBe('社会救助科');
    await ask(h, USERS.zhang, '放弃 20240714', { chatId: RELIEF });
    const before = await footprint(h, '20240714');
    expect((await ask(h, USERS.li, '认领 20240714', { chatId: HOUSING })).text).toBe(
      '案件 20240714 由社会救助科办理，本群绑定的是住房保障科，不能在此认领。',
    );
    expect(await footprint(h, '20240714')).toEqual(before);
    // Each bound chat's 待办 shows its own unit's cases (and those no unit has taken yet).
    expect((await ask(h, USERS.li, '待办', { chatId: RELIEF })).text).toContain('**20240714**');
    const housing = await ask(h, USERS.li, '待办', { chatId: HOUSING });
    expect(housing.text).toContain('住房保障科 待办');
    expect(housing.text).not.toContain('**20240714**');
  });

  it('设置 and 取消 are for coordinators: 王五 cannot make himself one; the configured coordinator cannot be removed in chat', async () => {
    const db = h.service.database.db;
    const roles = () => db.selectFrom('user_roles').select(['open_id', 'role', 'granted_by']).orderBy('open_id').orderBy('role').execute();
    const before = await roles();
    expect((await ask(h, USERS.wang, '设置 协调员 @王五', { mention: [USERS.wang] })).text).toBe('只有协调员可以设置角色。');
    expect((await ask(h, USERS.wang, '取消 协调员 @赵协调', { mention: [USERS.admin] })).text).toBe('只有协调员可以设置角色。');
    expect(await roles()).toEqual(before);
    expect((await ask(h, USERS.admin, '取消 协调员 @赵协调', { mention: [USERS.admin] })).text).toBe(
      '赵协调是配置文件（BANLI_ADMIN_OPEN_IDS）指定的协调员，不能在聊天中取消；本次没有做任何更改。',
    );

    expect((await ask(h, USERS.admin, '设置 领导 @钱领导', { mention: [USERS.leader] })).text).toBe('已将钱领导设置为分管领导。');
    expect((await ask(h, USERS.admin, '设置 协调员 @王五', { mention: [USERS.wang] })).text).toBe('已将王五设置为协调员。');
    expect(await roles()).toEqual(
      expect.arrayContaining([
        { open_id: USERS.leader.openId, role: 'leader', granted_by: USERS.admin.openId },
        { open_id: USERS.wang.openId, role: 'coordinator', granted_by: USERS.admin.openId },
      ]),
    );
    // 取消 for two people, one of them configured: nothing changes for either.
    const granted = await roles();
    expect((await ask(h, USERS.admin, '取消 协调员 @王五 @赵协调', { mention: [USERS.wang, USERS.admin] })).text).toContain('本次没有做任何更改');
    expect(await roles()).toEqual(granted);
    // Now a coordinator, 王五 may work on 张三's case; a leader is not a coordinator and may not.
    await ask(h, USERS.zhang, '认领 20240715');
    expect((await ask(h, USERS.wang, '进展 20240715 协调员已督促')).text).toBe('已记录案件 20240715 的办理进展。');
    expect((await timelineOf(h, '20240715')).at(-1)).toMatchObject({ type: 'progress', actor: USERS.wang.openId });
    expect((await ask(h, USERS.leader, '进展 20240715 领导批示')).text).toBe('案件 20240715 由张三承办，只有承办人或协调员可以操作。');
    await ask(h, USERS.admin, '取消 协调员 @王五', { mention: [USERS.wang] });
  });
});
