import { afterAll, beforeAll, expect, it } from 'vitest';
import { answerTo, createTestDatabase, describeOnBackends, GROUP, say, seedCases, startHarness, timelineOf, uid, USERS, type Harness } from '../support/harness.ts';

describeOnBackends('smoke: claims by message', (backend) => {
  let h: Harness;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const db = await createTestDatabase(backend);
    drop = db.drop;
    h = await startHarness({ database: db, today: '2024-03-21' });
    await seedCases(h, [{ caseNo: '20240562' }, { caseNo: '20240337' }]);
  });
  afterAll(async () => {
    await h?.stop();
    await h?.lark.close();
    await drop?.();
  });

  it('张三 claims 20240562 and is told so', async () => {
    const res = await h.events.message({
      chatId: GROUP,
      chatType: 'group',
      senderOpenId: USERS.zhang.openId,
      text: '@_user_1 认领 20240562',
      mentions: [{ key: '@_user_1', openId: h.lark.botOpenId, name: 'Banli' }],
      messageId: uid('om'),
    });
    expect(res.status).toBe(200);
    const texts = await h.lark.waitFor(() => (h.lark.textsIn(GROUP).some((t) => t.includes('已认领')) ? h.lark.textsIn(GROUP) : null));
    expect(texts.join('\n')).toContain('已认领案件 20240562');
    const row = await h.service.database.db.selectFrom('cases').selectAll().where('case_no', '=', '20240562').executeTakeFirstOrThrow();
    expect(row.handler_open_id).toBe(USERS.zhang.openId);
    expect(row.status).toBe('in_progress');
  });

  it('张三 types 认领 and 进展 without waiting for the first answer: they are handled in the order he sent them', async () => {
    const claim = await say(h, USERS.zhang, '认领 20240337');
    const progress = await say(h, USERS.zhang, '进展 20240337 已联系民政处了解情况');
    expect((await answerTo(h, claim.messageId)).text).toContain('已认领案件 20240337');
    expect((await answerTo(h, progress.messageId)).text).toContain('已记录案件 20240337 的办理进展');
    expect((await timelineOf(h, '20240337')).map((e) => e.type)).toEqual(['imported', 'claimed', 'progress']);
  });
});
