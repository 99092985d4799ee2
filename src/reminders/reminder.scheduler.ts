import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { todayIn } from '../domain/calendar.ts';
import type { IsoDate } from '../domain/types.ts';

// When the reminder job runs: every day at BANLI_REMIND_AT in BANLI_TIMEZONE (the job itself does nothing on rest
// days), and once at start when the service comes up after that time on a day whose run is not in the ledger yet.
// A day the service missed entirely is not replayed: yesterday's "due in 3 days" is wrong today.

export interface SchedulerOptions {
  at: string;
  timeZone: string;
  now: () => Date;
  logger: Logger;
  /** Runs the day's job; the ledger makes a second call of the same day a no-op. */
  run(date: IsoDate, trigger: 'schedule' | 'catch-up'): Promise<unknown>;
  ranOn(date: IsoDate): Promise<boolean>;
}

/** "08:50" as minutes after midnight. */
function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** The time of day in a timezone, in minutes after midnight. */
export function minutesNowIn(timeZone: string, now: Date): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(now);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

export class ReminderScheduler {
  #task: ScheduledTask | null = null;
  #running: Promise<unknown> | null = null;

  constructor(private readonly opts: SchedulerOptions) {}

  /** Starts the daily trigger and, if today's time has passed without a run, runs today's job now. */
  start(): void {
    const [h, m] = this.opts.at.split(':').map(Number);
    // noOverlap: a slow run (a big batch on a slow database) must not be joined by the next trigger.
    this.#task = cron.schedule(`${m} ${h} * * *`, () => this.#trigger('schedule'), { timezone: this.opts.timeZone, noOverlap: true, name: 'banli-remind' });
    void this.catchUp();
  }

  /** The start-up catch-up: today's run when its time has passed and the ledger has none. */
  async catchUp(): Promise<void> {
    const now = this.opts.now();
    if (minutesNowIn(this.opts.timeZone, now) < minutesOf(this.opts.at)) return;
    const today = todayIn(this.opts.timeZone, now);
    try {
      if (await this.opts.ranOn(today)) return;
    } catch (err) {
      this.opts.logger.error({ err }, 'reminders: could not read the run ledger at start');
      return;
    }
    this.opts.logger.info({ date: today }, 'reminders: today\'s run time has passed without a run; running it now');
    await this.#trigger('catch-up');
  }

  async #trigger(trigger: 'schedule' | 'catch-up'): Promise<void> {
    if (this.#running) return;
    const date = todayIn(this.opts.timeZone, this.opts.now());
    this.#running = this.opts.run(date, trigger).catch((err: unknown) => this.opts.logger.error({ err, date }, 'reminders: the daily run failed; it is retried at the next start'));
    try {
      await this.#running;
    } finally {
      this.#running = null;
    }
  }

  /** Stops the trigger and waits for a run under way. */
  async stop(): Promise<void> {
    if (this.#task) await this.#task.stop();
    this.#task = null;
    await this.#running;
  }
}
