import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  answerTo,
  ask,
  caseRow,
  cardOnScreen,
  click,
  createTestDatabase,
  describeOnBackends,
  GROUP,
  openCaseCard,
  postClick,
  say,
  seedCases,
  startHarness,
  timelineOf,
  uid,
  USERS,
  waitForCardText,
  type CardOnScreen,
  type ClickAnswer,
  type Harness,
} from '../support/harness.ts';
import { cardTexts, findButton, findButtons } from '../support/lark/cards.ts';
import type { Card } from '../support/lark/emulator.ts';

// Whole cases driven through the emulator the way staff drive them: by message, and by clicking the buttons of the
// cards the bot really sent. Every case is assigned 2024-03-20 and "today" is Friday 2024-03-22, inside the
// 5-working-day adjustment window (until 2024-03-27). The reply is due 2024-06-20 (3 months), an extension may reach
// 2024-09-20 (6 months), an assisting opinion is due 2024-04-22 (1 month, 04-20 is a Saturday) and after 不满意 the
// second reply is due 2024-04-22 (1 month after the rating).

const TODAY = '2024-03-22';

const labels = (card: Card | undefined): string[] => findButtons(card).map((b) => b.text);
// What a person reads: Lark renders the entities the card builders escape markdown with (&#60; is "<").
const textOf = (card: Card | undefined): string =>
  cardTexts(card)
    .join('\n')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)));

/** Types after the import event, with who did each. */
async function changes(h: Harness, caseNo: string) {
  return (await timelineOf(h, caseNo)).filter((e) => e.type !== 'imported').map((e) => [e.type, e.actor]);
}

describeOnBackends('chat flows: whole cases by message and by button', (backend) => {
  let h: Harness;
  let drop: () => Promise<void>;
  const db = () => h.service.database.db;

  beforeAll(async () => {
    const database = await createTestDatabase(backend);
    drop = database.drop;
    h = await startHarness({ database, today: TODAY });
    await seedCases(h, [
      { caseNo: '20240562', title: '关于加强社区养老服务设施建设的建议' },
      { caseNo: '20240570', title: '关于完善困难群众临时救助的建议' },
      { caseNo: '20240563', role: 'assisting', roleLabel: '会办', leadUnit: '市住建局', assistingUnits: ['市民政局'] },
      { caseNo: '20240564' },
      { caseNo: '20240565' },
      { caseNo: '20240566' },
      { caseNo: '20240567' },
      { caseNo: '20240568' },
      { caseNo: '20240569' },
      { caseNo: '20240571' },
      { caseNo: '20240572' },
      { caseNo: '20240573', fixedDueDate: '2024-03-27' },
      { caseNo: '20240574' },
      { caseNo: '20240575' },
      { caseNo: '20240576' },
    ]);
  });
  afterAll(async () => {
    await h?.stop();
    await h?.lark.close();
    await drop?.();
  });

  it('张三 takes 20240562 from 认领 to 办结 by clicking the buttons of the card, and 李四’s card of the same case follows every step', async () => {
    const mine = await openCaseCard(h, USERS.zhang, '20240562');
    const his = await openCaseCard(h, USERS.li, '20240562');
    expect(textOf(mine.card)).toContain('待认领');
    expect(labels(mine.card)).toEqual(['认领', '申请调整']);

    const claimed = await click(h, USERS.zhang, mine, '认领');
    expect(claimed.status).toBe(200);
    expect(claimed.toast).toEqual({ type: 'success', content: '已认领案件 20240562，答复期限 2024-06-20。' });
    expect(textOf(claimed.card)).toContain('**承办人**：张三');
    // No reply before the deputy has been consulted.
    expect(labels(claimed.card)).toEqual(['登记面商', '更新进展', '申请延期', '申请调整', '转交', '放弃认领']);
    await waitForCardText(h, his.messageId, '**承办人**：张三');

    const progress = await click(h, USERS.zhang, mine, '更新进展', { progress_note: '已与社会救助科对接，正在实地调研' });
    expect(progress.toast).toEqual({ type: 'success', content: '已记录案件 20240562 的办理进展。' });
    expect(textOf(progress.card)).toMatch(/最新进展\*\*：.*张三：已与社会救助科对接，正在实地调研/);

    const contact = await click(h, USERS.zhang, mine, '登记面商', {
      contact_method: '电话',
      contact_date: '2024-03-21 +0800',
      contact_who: '黄振辉代表本人',
      contact_note: '代表同意先行调研',
    });
    expect(contact.toast).toEqual({ type: 'success', content: '已登记案件 20240562 与代表的沟通情况（电话，2024-03-21）。' });
    expect(textOf(contact.card)).toContain('2024-03-21 电话，黄振辉代表本人：代表同意先行调研');
    expect(labels(contact.card)).toContain('提交答复');
    expect((await caseRow(h, '20240562')).status).toBe('contacted');

    const reply = await click(h, USERS.zhang, mine, '提交答复', {
      reply_result_class: 'B',
      reply_date: '2024-03-22 +0800',
      reply_disclosure: '依申请公开',
    });
    expect(reply.toast).toEqual({ type: 'success', content: '已登记案件 20240562 的答复（B类，2024-03-22），请在代表评价后录入评价。' });
    // A B-class reply makes a promise: the card offers its follow-up (回头看) from now on, until it is kept.
    expect(labels(reply.card)).toEqual(['满意', '基本满意', '不满意', '承诺事项回头看', '更新进展', '转交']);
    expect(textOf(reply.card)).toContain('第1轮 2024-03-22，B，依申请公开');

    const rated = await click(h, USERS.zhang, mine, '满意');
    expect(rated.toast).toEqual({ type: 'success', content: '已录入评价“满意”，案件 20240562 办结。' });
    expect(textOf(rated.card)).toContain('已办结');
    expect(textOf(rated.card)).toContain('第1轮 满意（张三 录入）');
    expect(labels(rated.card)).toEqual(['更新进展', '承诺事项回头看']);

    // The database holds what the card says.
    const row = await caseRow(h, '20240562');
    expect(row).toMatchObject({ status: 'closed', handler_open_id: USERS.zhang.openId, round: 1, disclosure: '依申请公开' });
    const contacts = await db().selectFrom('contacts').selectAll().where('case_id', '=', row.id).execute();
    expect(contacts.map((c) => [c.contact_date, c.method, c.who, c.note, c.recorded_by])).toEqual([
      ['2024-03-21', '电话', '黄振辉代表本人', '代表同意先行调研', USERS.zhang.openId],
    ]);
    const replies = await db().selectFrom('replies').selectAll().where('case_id', '=', row.id).execute();
    expect(replies.map((r) => [r.round, r.kind, r.reply_date, r.result_class, r.disclosure, r.due_date])).toEqual([
      [1, 'reply', '2024-03-22', 'B', '依申请公开', '2024-06-20'],
    ]);
    const ratings = await db().selectFrom('ratings').selectAll().where('case_id', '=', row.id).execute();
    expect(ratings.map((r) => [r.round, r.rating, r.rated_date, r.entered_by])).toEqual([[1, '满意', TODAY, USERS.zhang.openId]]);
    expect(await changes(h, '20240562')).toEqual([
      ['claimed', USERS.zhang.openId],
      ['progress', USERS.zhang.openId],
      ['contacted', USERS.zhang.openId],
      ['replied', USERS.zhang.openId],
      ['rated', USERS.zhang.openId],
    ]);

    // 李四 never clicked, yet his card shows the closed case, updated in place (patched, not re-sent).
    const hisNow = await waitForCardText(h, his.messageId, '第1轮 满意（张三 录入）');
    expect(hisNow).toContain('已办结');
    expect(labels(cardOnScreen(h, his.messageId))).toEqual(['更新进展', '承诺事项回头看']);
    expect(h.lark.patches.filter((p) => p.messageId === his.messageId).length).toBeGreaterThan(0);
    expect(h.lark.sent.filter((m) => m.messageId === his.messageId)).toHaveLength(1);
  });

  it('张三 handles 20240570 by message — 认领, 进展, 面商, 答复, 评价 — and 王五’s card in the chat follows each one', async () => {
    const watcher = await openCaseCard(h, USERS.wang, '20240570');

    expect((await ask(h, USERS.zhang, '认领 20240570')).text).toBe('已认领案件 20240570，答复期限 2024-06-20。');
    await waitForCardText(h, watcher.messageId, '**承办人**：张三');
    expect((await ask(h, USERS.zhang, '进展 20240570 已赴三个街道实地调研')).text).toBe('已记录案件 20240570 的办理进展。');
    expect((await ask(h, USERS.zhang, '面商 20240570 上门 3月21日 与代表当面交换意见')).text).toBe(
      '已登记案件 20240570 与代表的沟通情况（上门，2024-03-21）。',
    );
    await waitForCardText(h, watcher.messageId, '2024-03-21 上门');
    expect((await ask(h, USERS.zhang, '答复 20240570 A 今天 主动公开')).text).toBe(
      '已登记案件 20240570 的答复（A类，2024-03-22），请在代表评价后录入评价。',
    );
    expect((await ask(h, USERS.zhang, '评价 20240570 基本满意')).text).toBe('已录入评价“基本满意”，案件 20240570 办结。');

    const shown = await waitForCardText(h, watcher.messageId, '第1轮 基本满意（张三 录入）');
    expect(shown).toContain('已办结');
    expect(shown).toContain('已赴三个街道实地调研');
    expect(shown).toContain('第1轮 2024-03-22，A，主动公开');
    expect(await caseRow(h, '20240570')).toMatchObject({ status: 'closed', handler_open_id: USERS.zhang.openId });
    expect(await changes(h, '20240570')).toEqual([
      ['claimed', USERS.zhang.openId],
      ['progress', USERS.zhang.openId],
      ['contacted', USERS.zhang.openId],
      ['replied', USERS.zhang.openId],
      ['rated', USERS.zhang.openId],
    ]);
  });

  it('an assisting case (会办 20240563) is done once 张三 sends the opinion to the lead unit; it never offers a reply', async () => {
    const card = await openCaseCard(h, USERS.zhang, '20240563');
    expect(textOf(card.card)).toContain('**主办单位**：市住建局');
    expect(textOf(card.card)).toContain('2024-04-22');
    const claimed = await click(h, USERS.zhang, card, '认领');
    expect(claimed.toast?.content).toBe('已认领案件 20240563，答复期限 2024-04-22。');
    expect(labels(claimed.card)).toContain('报送会办意见');
    expect(labels(claimed.card)).not.toContain('提交答复');
    expect(textOf(claimed.card)).toContain('**会办意见**：<font color=\'grey\'>尚未报送</font>');

    const sent = await click(h, USERS.zhang, card, '报送会办意见', {
      opinion_date: '2024-03-22 +0800',
      opinion_note: '已书面报送市住建局，建议增设社区养老床位',
    });
    expect(sent.toast).toEqual({ type: 'success', content: '已登记案件 20240563 的会办意见报送，案件办结。' });
    expect(textOf(sent.card)).toContain('**会办意见**：2024-03-22 已报送：已书面报送市住建局，建议增设社区养老床位');
    expect(textOf(sent.card)).toContain('已办结');

    const row = await caseRow(h, '20240563');
    expect(row.status).toBe('closed');
    const replies = await db().selectFrom('replies').selectAll().where('case_id', '=', row.id).execute();
    expect(replies.map((r) => [r.kind, r.reply_date, r.note, r.result_class, r.due_date])).toEqual([
      ['opinion', '2024-03-22', '已书面报送市住建局，建议增设社区养老床位', null, '2024-04-22'],
    ]);
    expect(await changes(h, '20240563')).toEqual([
      ['claimed', USERS.zhang.openId],
      ['opinion_sent', USERS.zhang.openId],
    ]);
  });

  it('20240564 rated 不满意 is handled again with a new due date, replied again, and its first rating is kept', async () => {
    await ask(h, USERS.zhang, '认领 20240564');
    await ask(h, USERS.zhang, '面商 20240564 电话 2024-03-21');
    expect((await ask(h, USERS.zhang, '答复 20240564 C 2024-03-22')).text).toContain('已登记案件 20240564 的答复（C类，2024-03-22）');
    const card = await openCaseCard(h, USERS.zhang, '20240564');

    const unhappy = await click(h, USERS.zhang, card, '不满意');
    expect(unhappy.toast).toEqual({
      type: 'success',
      content: '已录入评价“不满意”。案件 20240564 重新办理，请于 2024-04-22 前再次答复。',
    });
    expect(textOf(unhappy.card)).toContain('重新办理（第2轮）');
    expect(textOf(unhappy.card)).toContain('第2轮');
    expect(textOf(unhappy.card)).toContain('**答复期限**：2024-04-22');
    // The contact of round 1 still counts, so the second reply can be submitted at once.
    expect(labels(unhappy.card)).toContain('提交答复');
    expect(await caseRow(h, '20240564')).toMatchObject({ status: 'rehandling', round: 2, reply_due_date: '2024-04-22' });

    const again = await click(h, USERS.zhang, card, '提交答复', { reply_result_class: 'A', reply_date: '2024-03-22 +0800' });
    expect(again.toast?.content).toBe('已登记案件 20240564 的答复（A类，2024-03-22），请在代表评价后录入评价。');
    const happy = await click(h, USERS.zhang, card, '满意');
    expect(happy.toast?.content).toBe('已录入评价“满意”，案件 20240564 办结。');
    expect(textOf(happy.card)).toContain('第2轮 满意（张三 录入）');
    expect(textOf(happy.card)).toContain('第1轮 <font color=\'red\'>不满意</font>（张三 录入）');

    const row = await caseRow(h, '20240564');
    expect(row).toMatchObject({ status: 'closed', round: 2 });
    const replies = await db().selectFrom('replies').selectAll().where('case_id', '=', row.id).orderBy('round').execute();
    expect(replies.map((r) => [r.round, r.result_class, r.due_date])).toEqual([
      [1, 'C', '2024-06-20'],
      [2, 'A', '2024-04-22'],
    ]);
    const ratings = await db().selectFrom('ratings').selectAll().where('case_id', '=', row.id).orderBy('round').execute();
    expect(ratings.map((r) => [r.round, r.rating])).toEqual([
      [1, '不满意'],
      [2, '满意'],
    ]);
    const events = (await timelineOf(h, '20240564')).filter((e) => e.type === 'replied' || e.type === 'rated');
    expect(events.map((e) => e.note)).toEqual([
      '答复代表：C类，主动公开，答复日期 2024-03-22',
      '代表评价：不满意，案件重新办理，再次答复期限 2024-04-22',
      '再次答复代表：A类，主动公开，答复日期 2024-03-22',
      '代表评价：满意',
    ]);
  });

  it('张三 asks to extend 20240565; the coordinator gets an approve/refuse card privately, approves it, and the case card shows the new due date', async () => {
    await ask(h, USERS.zhang, '认领 20240565');
    const card = await openCaseCard(h, USERS.zhang, '20240565');
    const watcher = await openCaseCard(h, USERS.li, '20240565');
    const asked = await click(h, USERS.zhang, card, '申请延期', {
      extend_until: '2024-07-31 +0800',
      extend_reason: '需会同住建部门实地调研',
    });
    expect(asked.toast).toEqual({ type: 'success', content: '已提交案件 20240565 延期至 2024-07-31 的申请，等待协调员审批。' });
    expect(textOf(asked.card)).toContain('延期申请待审批');
    expect(textOf(asked.card)).toContain('申请延至 2024-07-31');
    expect(labels(asked.card)).not.toContain('申请延期');
    // Asking changes nothing yet.
    expect((await caseRow(h, '20240565')).reply_due_date).toBe('2024-06-20');

    // The decision card goes to the coordinator, privately (by open_id), not into the group.
    const decision = await h.lark.waitFor(() =>
      h.lark.sent.find((m) => m.receiveIdType === 'open_id' && m.receiveId === USERS.admin.openId && textOf(m.content as Card).includes('20240565')),
    );
    expect(decision.chatId).toBe(h.lark.p2pChatId(USERS.admin.openId));
    const decisionCard = h.lark.latestCard(decision.messageId);
    expect(textOf(decisionCard)).toContain('延期申请 · 20240565');
    expect(textOf(decisionCard)).toContain('**申请延至**：2024-07-31');
    expect(textOf(decisionCard)).toContain('**当前答复期限**：2024-06-20');
    expect(textOf(decisionCard)).toContain('**最迟可延至**：2024-09-20');
    expect(labels(decisionCard)).toEqual(['同意', '不同意']);
    expect(h.lark.sent.filter((m) => m.chatId === GROUP && textOf(m.content as Card).includes('延期申请 · 20240565'))).toHaveLength(0);

    const onAdminScreen: CardOnScreen = { messageId: decision.messageId, chatId: decision.chatId };
    const approved = await click(h, USERS.admin, onAdminScreen, '同意', { decision_note: '同意，请抓紧办理' });
    expect(approved.toast).toEqual({ type: 'success', content: '已同意延期，案件 20240565 答复期限调整为 2024-07-31。' });
    expect(textOf(approved.card)).toContain('已同意');
    expect(textOf(approved.card)).toContain('（赵协调）');
    expect(labels(approved.card)).toEqual([]);

    expect((await caseRow(h, '20240565')).reply_due_date).toBe('2024-07-31');
    const requests = await db().selectFrom('extension_requests').selectAll().execute();
    expect(requests.map((r) => [r.until_date, r.previous_due_date, r.status, r.requested_by, r.decided_by, r.decision_note])).toEqual([
      ['2024-07-31', '2024-06-20', 'approved', USERS.zhang.openId, USERS.admin.openId, '同意，请抓紧办理'],
    ]);
    // Both cards in the group now show the new due date and no pending request.
    for (const shown of [card, watcher]) {
      const t = await waitForCardText(h, shown.messageId, '**答复期限**：2024-07-31');
      expect(t).not.toContain('延期申请待审批');
    }
    // 张三 is told privately.
    const told = await h.lark.waitFor(() =>
      h.lark.sent.find((m) => m.receiveId === USERS.zhang.openId && m.msgType === 'text'),
    );
    expect((told.content as { text: string }).text).toBe('您提交的案件 20240565 延期至 2024-07-31 的申请，赵协调已同意（同意，请抓紧办理）。');

    // A second request is refused by the coordinator: the due date stays.
    expect((await ask(h, USERS.zhang, '延期 20240565 2024-08-30 调研尚未完成')).text).toBe(
      '已提交案件 20240565 延期至 2024-08-30 的申请，等待协调员审批。',
    );
    const second = await h.lark.waitFor(() =>
      h.lark.sent.find((m) => m.receiveId === USERS.admin.openId && textOf(m.content as Card).includes('2024-08-30')),
    );
    const refused = await click(h, USERS.admin, { messageId: second.messageId, chatId: second.chatId }, '不同意', {
      decision_note: '请按期办理',
    });
    expect(refused.toast).toEqual({ type: 'success', content: '已退回案件 20240565 的延期申请。' });
    expect(textOf(refused.card)).toContain('未同意');
    expect((await caseRow(h, '20240565')).reply_due_date).toBe('2024-07-31');

    expect(await changes(h, '20240565')).toEqual([
      ['claimed', USERS.zhang.openId],
      ['extension_requested', USERS.zhang.openId],
      ['extension_approved', USERS.admin.openId],
      ['extension_requested', USERS.zhang.openId],
      ['extension_refused', USERS.admin.openId],
    ]);
    const approvedNote = (await timelineOf(h, '20240565')).find((e) => e.type === 'extension_approved')?.note;
    expect(approvedNote).toBe('同意延期，答复期限由 2024-06-20 调整为 2024-07-31');
  });

  it('two coordinators get the decision card; when one decides, the other’s copy shows it; a reply withdraws a pending request', async () => {
    await ask(h, USERS.admin, '设置 协调员 @钱领导', { mention: [USERS.leader] });
    await ask(h, USERS.zhang, '认领 20240576');
    await ask(h, USERS.zhang, '延期 20240576 2024-07-31 需跨部门协调');
    const copyFor = (who: { openId: string }, text: string) =>
      h.lark.waitFor(() => h.lark.sent.find((m) => m.receiveId === who.openId && m.msgType === 'interactive' && textOf(m.content as Card).includes(text)));
    const adminCopy = await copyFor(USERS.admin, '20240576');
    const leaderCopy = await copyFor(USERS.leader, '20240576');

    // 钱领导 (now a coordinator too) approves on his copy; 赵协调's copy no longer offers 同意/不同意.
    const approved = await click(h, USERS.leader, { messageId: leaderCopy.messageId, chatId: leaderCopy.chatId }, '同意', { decision_note: '' });
    expect(approved.toast?.content).toBe('已同意延期，案件 20240576 答复期限调整为 2024-07-31。');
    const adminSees = await waitForCardText(h, adminCopy.messageId, '已同意');
    expect(adminSees).toContain('（钱领导）');
    expect(labels(cardOnScreen(h, adminCopy.messageId))).toEqual([]);

    // A second request is still pending when 张三 replies: both copies say it was withdrawn, with nobody's name on it.
    await ask(h, USERS.zhang, '延期 20240576 2024-08-29 调研尚未完成');
    const second = await copyFor(USERS.admin, '2024-08-29');
    const secondLeader = await copyFor(USERS.leader, '2024-08-29');
    await ask(h, USERS.zhang, '面商 20240576 电话 2024-03-22 代表认可办理思路');
    expect((await ask(h, USERS.zhang, '答复 20240576 A 2024-03-22')).text).toContain('已登记案件 20240576 的答复');
    for (const copy of [second, secondLeader]) {
      const t = await waitForCardText(h, copy.messageId, '已撤销');
      expect(t).toContain('已答复，申请自动撤销');
      expect(labels(cardOnScreen(h, copy.messageId))).toEqual([]);
    }
    const rows = await db().selectFrom('extension_requests').select(['until_date', 'status', 'decided_by']).where('until_date', '=', '2024-08-29').execute();
    expect(rows).toEqual([{ until_date: '2024-08-29', status: 'withdrawn', decided_by: null }]);
    // Clicking 同意 on the withdrawn request now does nothing but say so.
    const late = await postClick(h, USERS.admin, { messageId: second.messageId, chatId: second.chatId }, findButton(h.lark.sent.find((m) => m.messageId === second.messageId)!.content as Card, '同意').value, { decision_note: '' });
    expect(late.toast?.type).toBe('error');
    expect((await caseRow(h, '20240576')).reply_due_date).toBe('2024-07-31');
  });

  it('张三 hands 20240566 over to 李四 by the 转交 form, 李四 passes it on to 王五 by message, and each new handler is told privately', async () => {
    const card = await openCaseCard(h, USERS.zhang, '20240566');
    await click(h, USERS.zhang, card, '认领');
    const handed = await click(h, USERS.zhang, card, '转交', { handover_to: USERS.li.openId });
    expect(handed.toast).toEqual({ type: 'success', content: '已将案件 20240566 转交给李四。' });
    expect(textOf(handed.card)).toContain('**承办人**：李四');
    expect((await caseRow(h, '20240566')).handler_open_id).toBe(USERS.li.openId);

    const toLi = await h.lark.waitFor(() =>
      h.lark.sent.find((m) => m.receiveId === USERS.li.openId && m.msgType === 'interactive' && textOf(h.lark.latestCard(m.messageId)).includes('20240566')),
    );
    expect(textOf(h.lark.latestCard(toLi.messageId))).toContain('张三将案件 20240566 交由您承办。');

    const byMessage = await ask(h, USERS.li, '转交 20240566 @王五', { mention: [USERS.wang] });
    expect(byMessage.text).toBe('已将案件 20240566 转交给王五。');
    expect((await caseRow(h, '20240566')).handler_open_id).toBe(USERS.wang.openId);
    await h.lark.waitFor(() => h.lark.sent.find((m) => m.receiveId === USERS.wang.openId && m.msgType === 'interactive'));
    // The card 张三 clicked on follows the case to its new handler.
    await waitForCardText(h, card.messageId, '**承办人**：王五');

    const notes = (await timelineOf(h, '20240566')).filter((e) => e.type === 'handed_over');
    expect(notes).toEqual([
      { type: 'handed_over', actor: USERS.zhang.openId, note: '将案件转交给李四' },
      { type: 'handed_over', actor: USERS.li.openId, note: '将案件转交给王五' },
    ]);
  });

  it('张三 releases 20240567 after consulting the deputy; the card offers 认领 again, and whoever claims it next can reply at once', async () => {
    const card = await openCaseCard(h, USERS.zhang, '20240567');
    await click(h, USERS.zhang, card, '认领');
    await click(h, USERS.zhang, card, '登记面商', { contact_method: '座谈', contact_date: '2024-03-22 +0800', contact_who: '黄振辉' });
    const released = await click(h, USERS.zhang, card, '放弃认领');
    expect(released.toast).toEqual({ type: 'success', content: '案件 20240567 已退回待认领。' });
    expect(textOf(released.card)).toContain('**承办人**：<font color=\'orange\'>待认领</font>');
    expect(labels(released.card)).toEqual(['认领', '申请调整']);
    expect(await caseRow(h, '20240567')).toMatchObject({ status: 'unclaimed', handler_open_id: null });

    const taken = await click(h, USERS.li, card, '认领');
    expect(taken.toast?.content).toBe('已认领案件 20240567，答复期限 2024-06-20。');
    expect(await caseRow(h, '20240567')).toMatchObject({ status: 'contacted', handler_open_id: USERS.li.openId });
    expect(labels(taken.card)).toContain('提交答复');

    expect((await ask(h, USERS.li, '放弃 20240567')).text).toBe('案件 20240567 已退回待认领。');
    expect(await changes(h, '20240567')).toEqual([
      ['claimed', USERS.zhang.openId],
      ['contacted', USERS.zhang.openId],
      ['released', USERS.zhang.openId],
      ['claimed', USERS.li.openId],
      ['released', USERS.li.openId],
    ]);
  });

  it('张三 and 李四 click 认领 on 20240568 at the same moment: one wins, the other is told who has it', async () => {
    const zhangCard = await openCaseCard(h, USERS.zhang, '20240568');
    const liCard = await openCaseCard(h, USERS.li, '20240568');
    const [a, b] = await Promise.all([click(h, USERS.zhang, zhangCard, '认领'), click(h, USERS.li, liCard, '认领')]);
    const row = await caseRow(h, '20240568');
    const winner = row.handler_open_id === USERS.zhang.openId ? USERS.zhang : USERS.li;
    const [won, lost] = winner === USERS.zhang ? [a, b] : [b, a];
    expect(won.toast).toEqual({ type: 'success', content: '已认领案件 20240568，答复期限 2024-06-20。' });
    expect(lost.toast).toEqual({ type: 'error', content: `该案件已由${winner.name}认领。` });
    // The loser's card is refreshed to show who has it.
    expect(textOf(lost.card)).toContain(`**承办人**：${winner.name}`);
    expect((await timelineOf(h, '20240568')).filter((e) => e.type === 'claimed')).toHaveLength(1);
  });

  it('a double click on 认领, on 登记面商 or on 满意 does one thing, and a click Lark delivers twice is applied once', async () => {
    const card = await openCaseCard(h, USERS.zhang, '20240569');
    const claim = findButton(card.card, '认领').value;
    const [first, second] = await Promise.all([postClick(h, USERS.zhang, card, claim), postClick(h, USERS.zhang, card, claim)]);
    expect(first.toast).toEqual({ type: 'success', content: '已认领案件 20240569，答复期限 2024-06-20。' });
    expect(second).toEqual(first);
    expect((await timelineOf(h, '20240569')).filter((e) => e.type === 'claimed')).toHaveLength(1);

    // The contact form sent twice in a row: one contact.
    const contact = findButton(cardOnScreen(h, card.messageId), '登记面商').value;
    const form = { contact_method: '电话', contact_date: '2024-03-21 +0800', contact_who: '黄振辉' };
    const twice = await Promise.all([postClick(h, USERS.zhang, card, contact, form), postClick(h, USERS.zhang, card, contact, form)]);
    expect(twice.map((a) => a.toast)).toEqual([0, 1].map(() => ({ type: 'success', content: '已登记案件 20240569 与代表的沟通情况（电话，2024-03-21）。' })));
    const { id } = await caseRow(h, '20240569');
    expect(await db().selectFrom('contacts').select(['contact_date', 'method']).where('case_id', '=', id).execute()).toEqual([
      { contact_date: '2024-03-21', method: '电话' },
    ]);

    // Lark redelivers the same callback (same event id): the same answer comes back, nothing is done twice.
    const eventId = uid('ev');
    const progress = findButton(cardOnScreen(h, card.messageId), '更新进展').value;
    const once = await postClick(h, USERS.zhang, card, progress, { progress_note: '已起草答复函' }, { eventId });
    const again = await postClick(h, USERS.zhang, card, progress, { progress_note: '已起草答复函' }, { eventId });
    expect(once.toast).toEqual({ type: 'success', content: '已记录案件 20240569 的办理进展。' });
    expect(again.toast).toEqual(once.toast);
    expect((await timelineOf(h, '20240569')).filter((e) => e.type === 'progress')).toHaveLength(1);
    // A different note a moment later is a new click, not a double one.
    const next = await postClick(h, USERS.zhang, card, progress, { progress_note: '答复函已送审' });
    expect(next.toast?.type).toBe('success');
    expect((await timelineOf(h, '20240569')).filter((e) => e.type === 'progress')).toHaveLength(2);

    await ask(h, USERS.zhang, '答复 20240569 A');
    await waitForCardText(h, card.messageId, '录入评价');
    const satisfied = findButton(cardOnScreen(h, card.messageId), '满意').value;
    const ratings = await Promise.all([postClick(h, USERS.zhang, card, satisfied), postClick(h, USERS.zhang, card, satisfied)]);
    expect(ratings.map((r) => r.toast)).toEqual([0, 1].map(() => ({ type: 'success', content: '已录入评价“满意”，案件 20240569 办结。' })));
    expect(await db().selectFrom('ratings').select('rating').where('case_id', '=', id).execute()).toEqual([{ rating: '满意' }]);
    // Clicking 满意 again later is no double click: the case is closed, and the answer says so.
    await new Promise((resolve) => setTimeout(resolve, 5100));
    expect((await postClick(h, USERS.zhang, card, satisfied)).toast).toEqual({ type: 'error', content: '案件 20240569 已办结，不能再操作。' });
  });

  it('a click on an old card acts on 20240571 as it is now, not as the card showed it', async () => {
    const old = await openCaseCard(h, USERS.li, '20240571');
    const oldClaim = findButton(old.card, '认领').value;
    await ask(h, USERS.zhang, '认领 20240571');
    await ask(h, USERS.zhang, '面商 20240571 电话');

    // 李四 still sees 认领 on the card as it was when he looked (say, his phone had not refreshed).
    const late = await postClick(h, USERS.li, old, oldClaim);
    expect(late.toast).toEqual({ type: 'error', content: '该案件已由张三认领。' });
    expect(textOf(late.card)).toContain('**承办人**：张三');
    expect(textOf(late.card)).toContain('已面商');

    // A card that still showed the rating buttons after the case was closed by message.
    await ask(h, USERS.zhang, '答复 20240571 B');
    const zhangs = await openCaseCard(h, USERS.zhang, '20240571');
    const unhappy = findButton(zhangs.card, '不满意').value;
    await ask(h, USERS.zhang, '评价 20240571 满意');
    const stale = await postClick(h, USERS.zhang, zhangs, unhappy);
    expect(stale.toast).toEqual({ type: 'error', content: '案件 20240571 已办结，不能再操作。' });
    expect(textOf(stale.card)).toContain('已办结');
    expect(await caseRow(h, '20240571')).toMatchObject({ status: 'closed', round: 1 });
  });

  it('“20240572” alone or “查询 572” brings up the case card; 查看 on a list card sends it into the chat', async () => {
    const bare = await ask(h, USERS.wang, '20240572');
    expect(bare.card).toBeDefined();
    expect(bare.text).toContain('建议 20240572');
    const short = await ask(h, USERS.wang, '查询 572');
    expect(short.text).toContain('建议 20240572');

    const todo = await ask(h, USERS.wang, '待办');
    const { id } = await caseRow(h, '20240572');
    const view = findButtons(todo.card).find((b) => (b.value as { caseId?: number }).caseId === id);
    expect(view?.text).toBe('查看');
    const before = h.lark.messagesIn(GROUP).length;
    const shown = await postClick(h, USERS.wang, { messageId: todo.messageId, chatId: GROUP }, view?.value);
    expect(shown.toast).toEqual({ type: 'info', content: '已发送案件 20240572 的卡片。' });
    const card = await h.lark.waitFor(() => h.lark.messagesIn(GROUP).slice(before).find((m) => textOf(h.lark.latestCard(m.messageId)).includes('建议 20240572')));
    expect(card.msgType).toBe('interactive');
  });

  it('帮助, 我的 and 待办 answer with cards: help without the coordinator commands for staff, 我的 sorted by due date, 待办 with unclaimed and due-soon cases', async () => {
    const help = textOf((await ask(h, USERS.wang, '帮助')).card);
    expect(help).toContain('办理助手 · 使用说明');
    expect(help).toContain('认领 <案号>');
    expect(help).not.toContain('绑定 <单位名称>');
    const adminHelp = textOf((await ask(h, USERS.admin, '帮助')).card);
    expect(adminHelp).toContain('绑定 <单位名称>');
    expect(adminHelp).toContain('设置 <协调员|领导> @某人');
    // Whatever follows 帮助, help is what was asked for.
    expect(textOf((await ask(h, USERS.wang, '帮助 认领怎么用')).card)).toContain('认领 <案号>');

    // 王五 holds 20240566 (handed to him above); now he claims 20240573, due 2024-03-27.
    await ask(h, USERS.wang, '认领 20240573');
    const mine = await ask(h, USERS.wang, '我的');
    expect(mine.text).toContain('我的案件');
    expect(mine.text).toContain('共 2 件未办结');
    const order = ['20240573', '20240566'].map((n) => mine.text.indexOf(`**${n}**`));
    expect(order[0]).toBeGreaterThan(-1);
    expect(order[0]).toBeLessThan(order[1] ?? -1);

    const todo = await ask(h, USERS.wang, '待办');
    expect(todo.text).toContain('待办案件');
    expect(todo.text).toContain('**20240574**'); // unclaimed
    expect(todo.text).toContain('**20240573**'); // claimed but due in 3 working days
    expect(todo.text).not.toContain('**20240566**'); // claimed, due in June
    expect(todo.text).not.toContain('**20240562**'); // closed

    const empty = await ask(h, USERS.leader, '我的');
    expect(empty.text).toContain('您目前没有未办结的案件。');
  });

  it('孙七, whose name Lark is slow to give, clicks 认领: he is answered at once, and the card shows his name once Lark gives it', async () => {
    // 孙七 has never used the bot; looking up his name takes longer than Lark waits for a click's answer.
    const sun = { openId: 'ou_sunqi', name: '孙七' };
    h.lark.addUser(sun);
    const card = await openCaseCard(h, USERS.zhang, '20240575');
    h.lark.slow(3000);
    let answer: ClickAnswer;
    const started = Date.now();
    try {
      answer = await click(h, sun, card, '认领');
    } finally {
      h.lark.slow(0);
    }
    expect(Date.now() - started).toBeLessThan(2500);
    expect(answer.toast).toEqual({ type: 'success', content: expect.stringContaining('已认领案件 20240575') });
    expect(answer.card).toBeDefined();
    expect((await caseRow(h, '20240575')).handler_open_id).toBe(sun.openId);
    // As promised: the card the click came from catches up with his name without anyone asking again.
    await waitForCardText(h, card.messageId, '**承办人**：孙七', 10_000);
  });

  it('a message in a group that does not @mention the bot is left alone', async () => {
    const messageId = uid('om');
    await h.events.message({ chatId: GROUP, chatType: 'group', senderOpenId: USERS.zhang.openId, text: '认领 20240574', messageId });
    const check = await say(h, USERS.zhang, '查询 20240574');
    await answerTo(h, check.messageId);
    expect(h.lark.sent.find((m) => m.replyTo === messageId)).toBeUndefined();
    expect((await caseRow(h, '20240574')).status).toBe('unclaimed');
  });
});
