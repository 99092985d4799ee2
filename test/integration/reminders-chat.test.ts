import { afterAll, beforeAll, expect, it } from 'vitest';
import { ask, caseRow, click, formFieldNames, openCaseCard, postClick, createTestDatabase, describeOnBackends, GROUP, outboxSettled, seedCases, startHarness, USERS, type Harness } from '../support/harness.ts';
import { cardTexts, findButton } from '../support/lark/cards.ts';
import { remindersSince } from '../support/reminders.ts';

// Reminders from the staff's side of the chat: muting and unmuting one's own reminders, following up a B-class
// promise (回头看), and claiming a case from the chat's digest.

describeOnBackends('reminders in chat: 提醒, 跟进 and the digest buttons', (backend) => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let h: Harness;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    h = await startHarness({ database, today: '2024-09-18' });
    await seedCases(h, [
      { caseNo: '20240542', assignedDate: '2024-03-20' },
      { caseNo: '20240562', assignedDate: '2024-06-20', unit: '养老服务处' },
      { caseNo: '20240252', assignedDate: '2024-09-10', unit: '养老服务处' },
    ]);
    expect((await ask(h, USERS.admin, '绑定 养老服务处')).text).toContain('养老服务处');
    expect((await ask(h, USERS.zhang, '认领 20240542')).text).toContain('认领');
    expect((await ask(h, USERS.zhang, '面商 20240542 座谈 2024-04-01')).text).toContain('沟通情况');
    expect((await ask(h, USERS.zhang, '答复 20240542 B 2024-06-14 主动公开')).text).toContain('答复');
    expect((await ask(h, USERS.admin, '评价 20240542 满意')).text).toContain('满意');
    expect((await ask(h, USERS.zhang, '认领 20240562')).text).toContain('认领');
  });

  afterAll(async () => {
    await h?.stop();
    await h?.lark.close();
    await database?.drop();
  });

  it('张三 mutes his reminders of one case, then of all, and gets them back', async () => {
    const overview = (await ask(h, USERS.zhang, '提醒', { p2p: true })).text;
    expect(overview).toContain('当前：全部提醒都已开启。');
    // The configured time (BANLI_REMIND_AT, 08:50 by default), not a vague "morning".
    expect(overview).toContain('每个工作日 8:50，');
    expect((await ask(h, USERS.zhang, '提醒 关闭 562', { p2p: true })).text).toBe('已关闭案件 20240562 给您的提醒。发送“提醒 开启 20240562”可恢复。');
    expect((await ask(h, USERS.zhang, '提醒 关闭 20240562', { p2p: true })).text).toBe('案件 20240562 的提醒已经是关闭的。');
    expect((await ask(h, USERS.zhang, '提醒', { p2p: true })).text).toContain('当前：已关闭这些案件的提醒：20240562。');
    expect((await ask(h, USERS.zhang, '提醒 关闭 全部', { p2p: true })).text).toContain('已关闭给您的全部每日提醒，工作群的提醒照常发送。');
    expect((await ask(h, USERS.zhang, '提醒 开启 562', { p2p: true })).text).toContain('您关闭了全部提醒，案件 20240562 也包括在内。');
    expect((await ask(h, USERS.zhang, '提醒 开启 全部', { p2p: true })).text).toBe('已恢复给您的全部每日提醒。');
    expect((await ask(h, USERS.zhang, '提醒 开启 全部', { p2p: true })).text).toBe('您没有关闭任何提醒，每日提醒照常发送。');
  });

  it('a coordinator is told 督办 still reaches them', async () => {
    expect((await ask(h, USERS.admin, '提醒 关闭 全部', { p2p: true })).text).toContain('督办通知不能关闭，仍会发给您。');
    expect((await ask(h, USERS.admin, '提醒', { p2p: true })).text).toContain('您已关闭全部提醒（督办通知除外）');
    await ask(h, USERS.admin, '提醒 开启 全部', { p2p: true });
  });

  it('bad 提醒 input is answered with what to fix, and changes nothing', async () => {
    expect((await ask(h, USERS.zhang, '提醒 暂停 562', { p2p: true })).text).toContain('“暂停”不是提醒的操作，请写“关闭”或“开启”');
    expect((await ask(h, USERS.zhang, '提醒 关闭', { p2p: true })).text).toContain('请写明要关闭提醒的案号，或写“全部”');
    expect((await ask(h, USERS.zhang, '提醒 关闭 明天', { p2p: true })).text).toContain('“明天”不是案号');
    expect((await ask(h, USERS.zhang, '提醒 关闭 99999999', { p2p: true })).text).toContain('找不到案号为“99999999”的案件');
    expect((await ask(h, USERS.zhang, '提醒', { p2p: true })).text).toContain('当前：全部提醒都已开启。');
  });

  it('the case card of a B-class case offers 回头看: a form that records the follow-up', async () => {
    const on = await openCaseCard(h, USERS.zhang, '542');
    expect(formFieldNames(on.card, 'form_follow_up').sort()).toEqual(['follow_up_note', 'follow_up_outcome']);
    const bad = await click(h, USERS.zhang, on, '承诺事项回头看', { follow_up_outcome: 'checked' });
    expect(bad.toast).toEqual({ type: 'error', content: '请填写承诺事项的落实情况后再提交。' });
    const ok = await click(h, USERS.zhang, on, '承诺事项回头看', { follow_up_outcome: 'checked', follow_up_note: '已与市财政局对接资金' });
    expect(ok.toast).toEqual({ type: 'success', content: expect.stringContaining('已登记案件 20240542 的回头看情况') });
    const last = await h.service.database.db.selectFrom('follow_ups').select(['outcome', 'note']).orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(last).toEqual({ outcome: 'checked', note: '已与市财政局对接资金' });
  });

  it('张三 follows up the B-class promise of 542: checked, changed and explained, then kept; then it is done', async () => {
    const db = h.service.database.db;
    expect((await ask(h, USERS.li, '跟进 542 看过了')).text).toContain('只有承办人或协调员可以操作');
    expect((await ask(h, USERS.zhang, '跟进 562 看过了')).text).toContain('没有 B 类（正在解决或列入计划）答复');
    expect((await ask(h, USERS.zhang, '跟进 542')).text).toContain('请写明本次回头看的情况');
    expect((await ask(h, USERS.zhang, '跟进 542 方案已报市政府审定')).text).toContain('已登记案件 20240542 的回头看情况');
    expect((await ask(h, USERS.zhang, '跟进 542 调整 因规划调整改为明年建成，已电话向代表说明')).text).toContain('已向代表说明');
    expect((await ask(h, USERS.admin, '跟进 20240542 已落实 护理补贴已于9月发放')).text).toBe('已登记：案件 20240542 的承诺事项已落实，此后不再提醒回头看。');
    expect((await ask(h, USERS.zhang, '跟进 542 再看看')).text).toBe('案件 20240542 的承诺事项已登记为落实，无需再跟进。');
    const rows = await db.selectFrom('follow_ups').innerJoin('cases', 'cases.id', 'follow_ups.case_id').select(['follow_ups.outcome', 'follow_ups.note', 'follow_ups.follow_up_date', 'follow_ups.recorded_by']).where('cases.case_no', '=', '20240542').orderBy('follow_ups.id').execute();
    expect(rows).toEqual([
      { outcome: 'checked', note: '已与市财政局对接资金', follow_up_date: '2024-09-18', recorded_by: USERS.zhang.openId },
      { outcome: 'checked', note: '方案已报市政府审定', follow_up_date: '2024-09-18', recorded_by: USERS.zhang.openId },
      { outcome: 'changed', note: '因规划调整改为明年建成，已电话向代表说明', follow_up_date: '2024-09-18', recorded_by: USERS.zhang.openId },
      { outcome: 'kept', note: '护理补贴已于9月发放', follow_up_date: '2024-09-18', recorded_by: USERS.admin.openId },
    ]);
  });

  it('李四 claims a case from the chat\'s digest: the digest is redrawn with it done, not replaced by the case card', async () => {
    const mark = h.lark.sent.length;
    expect((await h.service.remind('2024-09-18')).status).toBe('sent');
    await outboxSettled(h, 15_000);
    const digest = h.lark.sent.slice(mark).find((m) => m.receiveId === GROUP)!;
    expect(remindersSince(h, mark).filter((l) => l.startsWith('群'))).toEqual(['群 待认领 20240252']);
    const claimValue = findButton(h.lark.latestCard(digest.messageId), '认领').value;
    const answer = await click(h, USERS.li, { messageId: digest.messageId, chatId: GROUP }, '认领');
    expect(answer.toast).toEqual({ type: 'success', content: expect.stringContaining('已认领案件 20240252') });
    const text = cardTexts(answer.card).join('\n');
    expect(text).toContain('待办提醒');
    expect(text).toContain('✓ 已认领');
    expect((await caseRow(h, '20240252')).handler_open_id).toBe(USERS.li.openId);
    // 王五's screen still showed the button: his click is told who has it, and the digest stays the digest.
    const late = await postClick(h, USERS.wang, { messageId: digest.messageId, chatId: GROUP }, claimValue);
    expect(late.toast).toEqual({ type: 'error', content: '该案件已由李四认领。' });
    expect(cardTexts(late.card).join('\n')).toContain('待办提醒');
    // Lark redrew the clicked digest from the answer: no patch of it is queued besides.
    await outboxSettled(h, 15_000);
    expect(h.lark.patches.filter((p) => p.messageId === digest.messageId)).toEqual([]);
    const queued = await h.service.database.db.selectFrom('outbox').select('id').where('op', '=', 'patch').where('patch_message_id', '=', digest.messageId).execute();
    expect(queued).toEqual([]);
  });
});
