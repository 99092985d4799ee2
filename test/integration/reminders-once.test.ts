import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ask, caseRow, createTestDatabase, describeOnBackends, GROUP, outboxSettled, say, seedCases, startHarness, until, USERS, type Backend, type Harness } from '../support/harness.ts';
import { isReminderCard, remindersSince } from '../support/reminders.ts';

// Each reminder reaches its person once: whatever runs the job twice (a re-run, a second instance, a restart after a
// crash), and whenever the crash comes (inside the job's transaction, after it, after Lark took the card but before
// it was recorded). A reminder whose case moved on before it went out is not sent; a muted person hears only 督办.

describeOnBackends('reminders: each one exactly once', (backend: Backend) => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let h: Harness;
  let second: Harness | undefined;

  const reminderMessages = (from = 0) => h.lark.sent.slice(from).filter((m) => isReminderCard(h, m));
  const ledgerCount = async (date: string) =>
    Number((await h.service.database.db.selectFrom('reminders_sent').select((eb) => eb.fn.countAll<number>().as('n')).where('run_date', '=', date).executeTakeFirstOrThrow()).n);

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    h = await startHarness({ database, today: '2024-09-27' });
    await seedCases(h, [
      { caseNo: '20240562', assignedDate: '2024-06-20' }, // due 9/20
      { caseNo: '20240579', assignedDate: '2024-06-24' }, // due 9/24
      { caseNo: '20240252', assignedDate: '2024-09-10' }, // unclaimed, no unit
    ]);
    expect((await ask(h, USERS.admin, '绑定 养老服务处')).text).toContain('养老服务处');
    expect((await ask(h, USERS.admin, '设置 领导 @钱领导', { mention: [USERS.leader] })).text).toContain('钱领导');
    expect((await ask(h, USERS.zhang, '认领 20240562')).text).toContain('认领');
    expect((await ask(h, USERS.li, '认领 20240579')).text).toContain('认领');
    expect((await ask(h, USERS.zhang, '面商 20240562 电话 2024-06-20')).text).toContain('沟通情况');
    await outboxSettled(h);
  });

  afterAll(async () => {
    await second?.stop();
    await h?.stop();
    await h?.lark.close();
    await database?.drop();
  });

  it('a second run of the same day sends nothing', async () => {
    const mark = h.lark.sent.length;
    const first = await h.service.remind('2024-09-27');
    expect(first.status).toBe('sent');
    // 张三 and the chat hear of A overdue, 李四 and the chat of F, the coordinator of unclaimed B; A is 5 working
    // days overdue: 督办 to the leader and the coordinator.
    expect(first.cards).toBe(6);
    await outboxSettled(h, 15_000);
    const again = await h.service.remind('2024-09-27');
    expect(again.status).toBe('already_ran');
    await outboxSettled(h);
    expect(reminderMessages(mark)).toHaveLength(6);
    expect(remindersSince(h, mark)).toEqual(
      ['张三 已逾期 20240562', '李四 已逾期 20240579', '群 已逾期 20240562', '群 已逾期 20240579', '赵协调 待认领 20240252', '赵协调 督办 20240562', '钱领导 督办 20240562'].sort(),
    );
    expect(await ledgerCount('2024-09-27')).toBe(7);
  });

  it('two instances starting the same morning at once: one sends, the other finds the day taken', async () => {
    const mark = h.lark.sent.length;
    let other: Harness = h;
    if (backend === 'postgres') {
      // A second process on the same PostgreSQL (the embedded database admits one process, so there the two runs
      // race inside one: the schedule and the start-up catch-up firing together).
      second = await startHarness({ database, lark: h.lark, today: '2024-09-30' });
      other = second;
    }
    const results = await Promise.all([h.service.remind('2024-09-30'), other.service.remind('2024-09-30'), h.service.remind('2024-09-30')]);
    expect(results.map((r) => r.status).sort()).toEqual(['already_ran', 'already_ran', 'sent']);
    await outboxSettled(h, 15_000);
    const sent = results.find((r) => r.status === 'sent')!;
    expect(reminderMessages(mark)).toHaveLength(sent.cards);
    // F is 5 working days overdue on 9/30 (Sunday 9/29 was worked).
    expect(remindersSince(h, mark).filter((l) => l.includes('督办'))).toEqual(['赵协调 督办 20240579', '钱领导 督办 20240579']);
    const uuids = reminderMessages(mark).map((m) => m.uuid);
    expect(new Set(uuids).size).toBe(uuids.length);
    await second?.stop();
    second = undefined;
  });

  it('a crash inside the run leaves nothing behind, and the next start sends the day once', async () => {
    const db = h.service.database.db;
    // The second card of the run fails to be written: the whole run rolls back, ledger included.
    await sql`create or replace function fail_second_card() returns trigger language plpgsql as $$
      begin
        if (select count(*) from reminder_cards where run_date = new.run_date) >= 1 then raise exception 'simulated crash'; end if;
        return new;
      end $$`.execute(db);
    await sql`create trigger fail_second_card before insert on reminder_cards for each row execute function fail_second_card()`.execute(db);
    await expect(h.service.remind('2024-10-08')).rejects.toThrow('simulated crash');
    await sql`drop trigger fail_second_card on reminder_cards`.execute(db);
    expect(await db.selectFrom('job_runs').select('job').where('run_date', '=', '2024-10-08').execute()).toEqual([]);
    expect(await ledgerCount('2024-10-08')).toBe(0);
    expect(await db.selectFrom('reminder_cards').select('id').where('run_date', '=', '2024-10-08').execute()).toEqual([]);

    // Then the run commits, and the process dies before Lark got anything.
    const mark = h.lark.sent.length;
    h.lark.failFor(60_000, { networkError: true });
    const run = await h.service.remind('2024-10-08');
    expect(run.status).toBe('sent');
    await h.stop();
    expect(reminderMessages(mark)).toHaveLength(0);
    h.lark.reset();
    h = await startHarness({ database, lark: h.lark, today: '2024-10-08' });
    await outboxSettled(h, 15_000);
    expect(reminderMessages(mark)).toHaveLength(run.cards);

    // A card Lark took whose "sent" mark was lost (a crash between Lark's answer and our commit): sent again with
    // the same uuid, Lark keeps the one message.
    const row = await h.service.database.db.selectFrom('outbox').select(['id', 'uuid']).where('uuid', 'like', 'rm20241008%').orderBy('id').executeTakeFirstOrThrow();
    expect(row.uuid.length).toBeLessThanOrEqual(50);
    await h.service.database.db.updateTable('outbox').set({ status: 'pending', message_id: null, sent_at: null }).where('id', '=', row.id).execute();
    h.service.sender.kick();
    await outboxSettled(h, 15_000);
    expect(reminderMessages(mark)).toHaveLength(run.cards);
    expect((await h.service.remind('2024-10-08')).status).toBe('already_ran');
  });

  it('a reminder whose case was replied before it went out is dropped, not sent', async () => {
    const mark = h.lark.sent.length;
    h.lark.failFor(2_500, { networkError: true });
    const run = await h.service.remind('2024-10-09');
    expect(run.byRule.overdue).toBe(4);
    // While Lark is unreachable, 张三 records A's reply (dated before any of this).
    await say(h, USERS.zhang, '答复 20240562 A 2024-09-26 主动公开');
    await until('the reply recorded', async () => (await caseRow(h, '20240562')).status === 'replied');
    await outboxSettled(h, 20_000);
    const lines = remindersSince(h, mark);
    expect(lines.filter((l) => l.includes('20240562'))).toEqual([]);
    expect(lines).toEqual(['李四 已逾期 20240579', '群 已逾期 20240579', '赵协调 待认领 20240252'].sort());
    const dropped = await h.service.database.db.selectFrom('reminders_sent').select(['rule', 'recipient']).where('run_date', '=', '2024-10-09').where('dropped_at', 'is not', null).orderBy('recipient').execute();
    expect(dropped).toEqual([
      { rule: 'overdue', recipient: `chat:${GROUP}` },
      { rule: 'overdue', recipient: `user:${USERS.zhang.openId}` },
    ]);
    // 张三's card had nothing else on it, so no card went to him at all.
    expect(reminderMessages(mark).filter((m) => m.receiveId === USERS.zhang.openId)).toEqual([]);
  });

  it('a coordinator who muted every reminder still gets 督办, and nothing else', async () => {
    expect((await ask(h, USERS.admin, '提醒 关闭 全部', { p2p: true })).text).toContain('督办通知不能关闭');
    const mark = h.lark.sent.length;
    // F is 10 working days overdue on Saturday 10/12, a make-up working day.
    const run = await h.service.remind('2024-10-12');
    expect(run.muted).toBe(1); // the coordinator's "unclaimed B"
    await outboxSettled(h, 15_000);
    expect(remindersSince(h, mark)).toEqual(['李四 已逾期 20240579', '群 已逾期 20240579', '赵协调 督办 20240579', '钱领导 督办 20240579'].sort());
    expect((await ask(h, USERS.admin, '提醒 开启 全部', { p2p: true })).text).toBe('已恢复给您的全部每日提醒。');
  });

  it('a card already on its way to Lark when its case is replied is patched once it has arrived, showing the case done', async () => {
    expect((await ask(h, USERS.li, '面商 20240579 电话 2024-06-25')).text).toContain('沟通情况');
    await outboxSettled(h);
    const mark = h.lark.sent.length;
    const requestsFrom = h.lark.requests.length;
    // Lark takes its time to answer: the cards are drawn and sent, and no message id is known for a while.
    h.lark.slow(8_000);
    try {
      const run = await h.service.remind('2024-10-14');
      expect(run.byRule.overdue).toBe(2);
      await until('the cards on their way to Lark', async () => h.lark.requests.slice(requestsFrom).filter((r) => r.path === '/open-apis/im/v1/messages').length >= run.cards);
      await say(h, USERS.li, '答复 20240579 A 2024-10-08 主动公开');
      await until('the reply recorded', async () => (await caseRow(h, '20240579')).status === 'replied');
      // The race this is about: the reply was recorded before Lark answered for any card.
      expect(h.lark.sent.length).toBe(mark);
    } finally {
      h.lark.slow(0);
    }
    await until('the cards delivered and redrawn', async () => {
      await outboxSettled(h, 1_000);
      const lines = remindersSince(h, mark);
      return lines.filter((l) => l.includes('✓')).length === 2 ? lines : null;
    }, 20_000);
    expect(remindersSince(h, mark)).toEqual(['李四 已逾期 20240579 ✓已答复', '群 已逾期 20240579 ✓已答复', '赵协调 待认领 20240252'].sort());
  }, 60_000);
});
