import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ask, createTestDatabase, describeOnBackends, outboxSettled, seedCases, startHarness, until, USERS, type Harness } from '../support/harness.ts';
import { startLarkEmulator, type LarkEmulator } from '../support/lark/emulator.ts';
import { isReminderCard } from '../support/reminders.ts';

// When the job runs by itself: the service started after the morning's time runs the day's job at once (the same
// day only; a day the service was down is not replayed later), and a restart the same day does not run it again.
// The leaders' 督办 card is buzzed (加急) when configured. `npm run remind` previews a day without writing anything.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

function remindCli(location: { url?: string; dataDir: string }, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent', BANLI_ADMIN_OPEN_IDS: USERS.admin.openId };
  delete env.DATABASE_URL;
  delete env.BANLI_DATA_DIR;
  if (location.url) env.DATABASE_URL = location.url;
  else env.BANLI_DATA_DIR = location.dataDir;
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, ['src/cli/remind.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describeOnBackends('reminders on their own: catch-up at start, 加急, the CLI', (backend) => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let lark: LarkEmulator;
  let h: Harness | undefined;
  let clock = new Date('2024-09-27T08:00:00+08:00');

  const start = () =>
    startHarness({ database, lark, clock: () => clock, scheduleReminders: true, env: { BANLI_URGENT_SUPERVISION: 'true', BANLI_REMIND_AT: '08:50' } });
  const runs = async () =>
    (await h!.service.database.db.selectFrom('job_runs').select(['run_date', 'trigger']).orderBy('run_date').execute()).map((r) => `${r.run_date} ${r.trigger}`);

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    lark = await startLarkEmulator({ users: Object.values(USERS) });
    h = await start();
    await seedCases(h, [{ caseNo: '20240562', assignedDate: '2024-06-20' }]);
    expect((await ask(h, USERS.admin, '设置 领导 @钱领导', { mention: [USERS.leader] })).text).toContain('钱领导');
    expect((await ask(h, USERS.zhang, '认领 20240562')).text).toContain('认领');
  });

  afterAll(async () => {
    await h?.stop();
    await lark?.close();
    await database?.drop();
  });

  it('started before the morning time, it waits; started after it, it runs the day at once, and only once', async () => {
    expect(await runs()).toEqual([]); // 08:00: not yet
    await h!.stop();
    clock = new Date('2024-09-27T09:30:00+08:00');
    h = await start();
    await until('the catch-up run', async () => (await runs()).length > 0);
    expect(await runs()).toEqual(['2024-09-27 catch-up']);
    await outboxSettled(h, 15_000);
    await h.stop();
    h = await start();
    await new Promise((r) => setTimeout(r, 500));
    expect(await runs()).toEqual(['2024-09-27 catch-up']);
  });

  it('buzzes the leader\'s 督办 card (and only the leader\'s)', async () => {
    const supervision = lark.sent.filter((m) => isReminderCard(h!, m) && JSON.stringify(lark.latestCard(m.messageId)).includes('督办：'));
    expect(supervision.map((m) => m.receiveId).sort()).toEqual([USERS.admin.openId, USERS.leader.openId].sort());
    const leaderCard = supervision.find((m) => m.receiveId === USERS.leader.openId)!;
    await lark.waitFor((l) => l.urgents.length > 0);
    expect(lark.urgents.map((u) => ({ messageId: u.messageId, userIds: u.userIds }))).toEqual([{ messageId: leaderCard.messageId, userIds: [USERS.leader.openId] }]);
  });

  it('does not replay a day the service was down for', async () => {
    await h!.stop();
    clock = new Date('2024-10-08T10:00:00+08:00'); // down from 9/27 to 10/8: 9/29 and 9/30 pass without a run
    h = await start();
    await until('the catch-up run', async () => (await runs()).length > 1);
    expect(await runs()).toEqual(['2024-09-27 catch-up', '2024-10-08 catch-up']);
  });

  it('npm run remind previews a day per recipient and writes nothing; a wrong date is named', async () => {
    await outboxSettled(h!, 15_000);
    await h!.stop();
    h = undefined;
    const dry = await remindCli(database, ['--date', '2024-10-10', '--dry-run']);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('2024-10-10 预览（未写入、未发送）');
    expect(dry.stdout).toContain('张三（ou_zhangsan）：');
    expect(dry.stdout).toContain('20240562 已逾期 — 答复期限已过（承办人）');
    expect(dry.stdout).toContain('钱领导（ou_leader）：');
    expect(dry.stdout).toContain('20240562 督办 — 逾期达到督办条件（分管领导）');
    // No unit and no chat: the chat's copy of "overdue" goes to the coordinators.
    expect(dry.stdout).toContain('协调员（该处室未绑定工作群）');
    const again = await remindCli(database, ['--date', '2024-10-10', '--dry-run']);
    expect(again.stdout).toBe(dry.stdout);
    const bad = await remindCli(database, ['--date', '2024-13-01']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('日期“2024-13-01”不是有效日期');
    const holiday = await remindCli(database, ['--date', '2024-10-03', '--dry-run']);
    expect(holiday.stdout).toContain('2024-10-03 是休息日，不发送提醒。');
    h = await start();
    expect(await runs()).toEqual(['2024-09-27 catch-up', '2024-10-08 catch-up']);
  }, 180_000);
});
