import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addDays } from '../../src/domain/calendar.ts';
import { applyImportPlan, planImport } from '../../src/import/apply.ts';
import { readImportFile } from '../../src/import/read.ts';
import { validateRows } from '../../src/import/validate.ts';
import { clocksFor } from '../../src/runtime.ts';
import { ask, createTestDatabase, describeOnBackends, outboxSettled, startHarness, USERS, type Harness } from '../support/harness.ts';
import { remindersSince } from '../support/reminders.ts';

// September and October 2024 in the civil-affairs bureau, morning by morning: the 2024 NPC sample (shifted so its
// clocks run out in these two months) imported, some cases claimed, consulted, replied and rated in chat, and the
// reminder job run every day of the two months, through 中秋 (9/15–9/17 off, Saturday 9/14 worked) and National Day
// (10/1–10/7 off, Sunday 9/29 and Saturday 10/12 worked). Each morning's cards are read as their recipients see them.

const SAMPLES = fileURLToPath(new URL('../../../shared/samples', import.meta.url));

// The shift: the cases this story follows get their own assignment dates; the other six arrive on 2024-08-01.
const ASSIGNED: Record<string, string> = {
  '20240562': '2024-06-20', // A: 张三's, due Fri 9/20, replied late on 10/18
  '20240252': '2024-09-10', // B: arrives unclaimed, 李四 claims it on 9/20 and consults on 10/22
  '20240675': '2024-06-03', // C: replied 9/2, rating chased until it is recorded on 10/14
  '20240542': '2024-03-20', // D: B-class reply 6/14 with a promise, followed up 3 months later
  '20240337': '2024-06-24', // E: 王五's, due Tue 9/24, never replied; 王五 muted his reminders
};

describeOnBackends('daily reminders, September and October 2024', (backend) => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let h: Harness;
  let today = '2024-06-03';
  const days: Record<string, string[]> = {};
  const statuses: Record<string, string> = {};
  /** The reminder messages of each morning, to look at them again later. */
  const messagesOf: Record<string, [number, number]> = {};

  const at = (date: string) => {
    today = date;
  };

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    h = await startHarness({ database: db, clock: () => new Date(`${today}T08:50:00+08:00`) });

    // The shifted sample, imported as the office would import it.
    const csv = fs.readFileSync(path.join(SAMPLES, 'cases-2024-npc.csv'), 'utf8').split('\n');
    const shifted = csv.map((line, i) => {
      if (i === 0 || line.trim() === '') return line;
      const no = line.slice(0, 8);
      return line.replace('2024-03-20', ASSIGNED[no] ?? '2024-08-01');
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'banli-remind-'));
    const file = path.join(dir, 'shifted.csv');
    fs.writeFileSync(file, shifted.join('\n'));
    const { cases, problems } = validateRows(await readImportFile(file));
    expect(problems).toEqual([]);
    const trx = h.service.database.db;
    await trx.transaction().execute(async (t) => applyImportPlan(t, await planImport(t, cases, clocksFor(h.config)), null, 'shifted.csv'));

    const say = async (who: (typeof USERS)[keyof typeof USERS], text: string, expected: string, mention?: (typeof USERS)[keyof typeof USERS]) => {
      const answer = await ask(h, who, text, mention ? { mention: [mention] } : {});
      expect(answer.text, text).toContain(expected);
    };
    at('2024-06-03');
    await say(USERS.admin, '绑定 养老服务处', '养老服务处');
    await say(USERS.admin, '设置 领导 @钱领导', '钱领导', USERS.leader);
    await say(USERS.zhang, '认领 20240675', '认领');
    await say(USERS.zhang, '面商 20240675 电话 2024-06-03', '沟通情况');
    await say(USERS.zhang, '认领 20240542', '认领');
    await say(USERS.zhang, '面商 20240542 座谈 2024-06-03', '沟通情况');
    at('2024-06-14');
    await say(USERS.zhang, '答复 20240542 B 2024-06-14 主动公开', '答复');
    await say(USERS.admin, '评价 20240542 满意', '满意');
    at('2024-06-20');
    await say(USERS.zhang, '认领 20240562', '认领');
    await say(USERS.zhang, '面商 20240562 上门 2024-06-20', '沟通情况');
    at('2024-06-24');
    await say(USERS.wang, '认领 20240337', '认领');
    await say(USERS.wang, '面商 20240337 电话 2024-06-24', '沟通情况');
    expect((await ask(h, USERS.wang, '提醒 关闭 全部', { p2p: true })).text).toContain('已关闭给您的全部每日提醒');
    at('2024-08-01');
    for (const no of Object.keys(Object.fromEntries(cases.map((c) => [c.caseNo, 1])))) {
      if (ASSIGNED[no]) continue;
      await say(USERS.li, `认领 ${no}`, '认领');
      await say(USERS.li, `面商 ${no} 电话 2024-08-01`, '沟通情况');
    }
    at('2024-09-02');
    await say(USERS.zhang, '答复 20240675 A 2024-09-02 主动公开', '答复');
    await outboxSettled(h);

    // What happens after each morning's run, in chat.
    const after: Record<string, () => Promise<void>> = {
      '2024-09-20': () => say(USERS.li, '认领 20240252', '认领'),
      '2024-10-14': () => say(USERS.admin, '评价 20240675 满意', '满意'),
      '2024-10-18': () => say(USERS.zhang, '答复 20240562 A 2024-10-18 主动公开', '答复'),
      '2024-10-22': () => say(USERS.li, '面商 20240252 电话 2024-10-22', '沟通情况'),
    };
    for (let d = '2024-09-01'; d <= '2024-10-31'; d = addDays(d, 1)) {
      at(d);
      const mark = h.lark.sent.length;
      const summary = await h.service.remind(d);
      await outboxSettled(h, 20_000);
      days[d] = remindersSince(h, mark);
      statuses[d] = summary.status;
      messagesOf[d] = [mark, h.lark.sent.length];
      await after[d]?.();
      await outboxSettled(h);
    }
  }, 600_000);

  afterAll(async () => {
    await h?.stop();
    await h?.lark.close();
    await db?.drop();
  });

  it('runs on working days only: 中秋 and National Day off, their make-up days on', () => {
    const off = Object.keys(statuses).filter((d) => statuses[d] === 'rest_day');
    for (const d of ['2024-09-14', '2024-09-29', '2024-10-12']) expect(statuses[d], d).toBe('sent');
    for (const d of ['2024-09-15', '2024-09-16', '2024-09-17', '2024-10-01', '2024-10-04', '2024-10-07', '2024-10-13']) expect(off, d).toContain(d);
    for (const d of off) expect(days[d], d).toEqual([]);
  });

  it('delivers exactly these reminders to exactly these people, morning by morning', () => {
    const others = ['20240114', '20240261', '20240268', '20240579', '20240886', '20240919'];
    const liDue = others.map((no) => `李四 即将到期 ${no}`);
    const supervision = (no: string) => [`赵协调 督办 ${no}`, `钱领导 督办 ${no}`];
    const overdueA = ['张三 已逾期 20240562', '群 已逾期 20240562'];
    const overdueE = ['群 已逾期 20240337']; // 王五 muted his own reminders: only the chat hears of E
    const unratedC = ['张三 待登记评价 20240675', '赵协调 待登记评价 20240675'];
    const unclaimedB = ['赵协调 待认领 20240252']; // no unit yet, so the coordinators hear of it
    const expected: Record<string, string[]> = {
      // A is due Fri 9/20: 14 days ahead 9/6, 7 ahead 9/13, 3 ahead (Sun 9/17 in 中秋) on Sat 9/14, 1 ahead 9/19.
      '2024-09-06': ['张三 即将到期 20240562'],
      '2024-09-12': [...unclaimedB],
      '2024-09-13': ['张三 即将到期 20240562', ...unclaimedB],
      // D's B-class reply of 6/14 is 3 months old on the make-up Saturday.
      '2024-09-14': ['张三 即将到期 20240562', '张三 承诺事项回头看 20240542', ...unclaimedB],
      '2024-09-18': [...unclaimedB],
      '2024-09-19': ['张三 即将到期 20240562', ...unclaimedB],
      '2024-09-20': [...unclaimedB], // 李四 claims B after this morning's run
      '2024-09-23': [...overdueA],
      // C replied 9/2: the rating is chased 15 working days later (9/24), then every 5 (9/30, 10/12).
      '2024-09-24': [...overdueA, ...unratedC],
      '2024-09-25': [...overdueA, ...overdueE],
      '2024-09-26': [...overdueA, ...overdueE],
      '2024-09-27': [...overdueA, ...overdueE, ...supervision('20240562')], // A 5 working days overdue
      '2024-09-29': [...overdueA, ...overdueE],
      // the six due 11/1: 30 days ahead is 10/2 (National Day) → 9/30; E is 5 working days overdue.
      '2024-09-30': [...overdueA, ...overdueE, ...unratedC, ...liDue, ...supervision('20240337')],
      // B assigned 9/10 has no contact 15 working days later (10/8), then weekly: 10/14, 10/21.
      '2024-10-08': [...overdueA, ...overdueE, '李四 尚未面商 20240252'],
      '2024-10-09': [...overdueA, ...overdueE],
      '2024-10-10': [...overdueA, ...overdueE, ...supervision('20240562')],
      '2024-10-11': [...overdueA, ...overdueE],
      '2024-10-12': [...overdueA, ...overdueE, ...unratedC, ...supervision('20240337')],
      '2024-10-14': [...overdueA, ...overdueE, '李四 尚未面商 20240252'], // C rated after this run: no more chasing
      '2024-10-15': [...overdueA, ...overdueE],
      '2024-10-16': [...overdueA, ...overdueE, ...supervision('20240562')],
      '2024-10-17': [...overdueA, ...overdueE],
      '2024-10-18': [...overdueA, ...overdueE, ...liDue, ...supervision('20240337')], // A replied after this run
      '2024-10-21': [...overdueE, '李四 尚未面商 20240252'], // B consulted on 10/22
      '2024-10-22': [...overdueE],
      '2024-10-23': [...overdueE],
      '2024-10-24': [...overdueE],
      '2024-10-25': [...overdueE, ...liDue, ...supervision('20240337')],
      '2024-10-28': [...overdueE],
      '2024-10-29': [...overdueE, ...liDue],
      '2024-10-30': [...overdueE],
      '2024-10-31': [...overdueE, ...liDue],
    };
    for (const d of Object.keys(days)) expect(days[d], d).toEqual([...(expected[d] ?? [])].sort());
  });

  it('redraws a morning\'s digest in place when a listed case is claimed', () => {
    const [from, to] = messagesOf['2024-09-20']!;
    const digest = h.lark.sent.slice(from, to).find((m) => m.receiveId === USERS.admin.openId);
    expect(digest).toBeDefined();
    expect(h.lark.patches.some((p) => p.messageId === digest!.messageId)).toBe(true);
    expect(remindersSince(h, from, to).filter((l) => l.startsWith('赵协调'))).toEqual(['赵协调 待认领 20240252 ✓已认领']);
  });
});
