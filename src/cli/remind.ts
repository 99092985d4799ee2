import pino from 'pino';
import { ConfigError, loadConfig } from '../config.ts';
import { createWorkCalendar, isIsoDate, todayIn } from '../domain/calendar.ts';
import { RULE_LABELS } from '../domain/reminders.ts';
import { formatRemindSummary, runReminderJob } from '../reminders/reminder.job.ts';
import { clocksFor, openMigrated } from '../runtime.ts';

// `npm run remind -- [--date YYYY-MM-DD] [--dry-run]`: the daily reminder job as of a date (today by default).
// A dry run prints, per recipient, what would be sent and why, and writes nothing. A real run queues the cards in the
// outbox, once per date; the running service delivers them (with the embedded database, stop the service first: one
// process at a time may open it, and the cards go out when it starts again).

const USAGE = '用法：npm run remind -- [--date YYYY-MM-DD] [--dry-run]';

async function run(argv: string[]): Promise<number> {
  let date: string | undefined;
  let dryRun = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--dry-run') dryRun = true;
    else if (a === '--date') date = argv[++i];
    else if (a.startsWith('--date=')) date = a.slice(7);
    else {
      console.error(`不认识的参数：${a}\n${USAGE}`);
      return 2;
    }
  }
  const config = loadConfig();
  date ??= todayIn(config.timezone, new Date());
  if (!isIsoDate(date)) {
    console.error(`日期“${date}”不是有效日期，请写成 YYYY-MM-DD，例如 2024-09-18。\n${USAGE}`);
    return 2;
  }
  const database = await openMigrated(config);
  try {
    const summary = await runReminderJob(
      {
        db: database.db,
        calendar: createWorkCalendar(config.calendarOverrides),
        clocks: clocksFor(config),
        timeZone: config.timezone,
        settings: config.reminders.settings,
        urgentSupervision: config.reminders.urgentSupervision,
        off: config.reminders.off,
        adminOpenIds: config.adminOpenIds,
        logger: pino({ level: config.logLevel === 'info' ? 'warn' : config.logLevel }),
        today: () => date!,
      },
      date,
      { dryRun, trigger: 'manual' },
    );
    for (const line of formatRemindSummary(summary, RULE_LABELS)) console.log(line);
    return 0;
  } finally {
    await database.close();
  }
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : `提醒任务失败：${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = err instanceof ConfigError ? 2 : 1;
}
