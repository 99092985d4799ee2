import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { DEFAULT_REMINDER_SETTINGS } from '../../src/domain/reminders.ts';
import { minutesNowIn } from '../../src/reminders/reminder.scheduler.ts';

// The reminder settings come from the environment, checked at start like every other setting.

describe('reminder settings', () => {
  it('default to the rules of the issue: 08:50, 30/14/7/3/1 days, 督办 after 5 working days, no 加急', () => {
    const c = loadConfig({});
    expect(c.reminders).toEqual({ at: '08:50', settings: { ...DEFAULT_REMINDER_SETTINGS, dueSoonDays: [30, 14, 7, 3, 1] }, urgentSupervision: false, off: [] });
  });

  it('are read from the environment', () => {
    const c = loadConfig({
      BANLI_REMIND_AT: '7:35',
      BANLI_REMIND_DUE_SOON_DAYS: '10,5',
      BANLI_SUPERVISION_AFTER_WORKDAYS: '3',
      BANLI_SUPERVISION_EVERY_WORKDAYS: '2',
      BANLI_URGENT_SUPERVISION: 'true',
      BANLI_REMINDERS_OFF: 'no_contact, follow_up',
      BANLI_FOLLOW_UP_MONTHS: '6',
    });
    expect(c.reminders.at).toBe('07:35');
    expect(c.reminders.settings.dueSoonDays).toEqual([10, 5]);
    expect(c.reminders.settings.supervisionAfterWorkdays).toBe(3);
    expect(c.reminders.settings.supervisionEveryWorkdays).toBe(2);
    expect(c.reminders.settings.followUpEveryMonths).toBe(6);
    expect(c.reminders.urgentSupervision).toBe(true);
    expect(c.reminders.off).toEqual(['no_contact', 'follow_up']);
    expect(loadConfig({ BANLI_REMINDERS_OFF: 'all' }).reminders.off).toContain('supervision');
  });

  it('refuse a wrong value with one line naming the variable', () => {
    const bad = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad({ BANLI_REMIND_AT: '25:00' })).toContain('BANLI_REMIND_AT must be a time of day as HH:MM');
    expect(bad({ BANLI_REMIND_DUE_SOON_DAYS: '7,soon' })).toContain('BANLI_REMIND_DUE_SOON_DAYS: "soon" is not a number of days');
    expect(bad({ BANLI_REMINDERS_OFF: 'overdue,daily' })).toContain('"daily" is not a rule');
    expect(bad({ BANLI_URGENT_SUPERVISION: 'yes' })).toContain('BANLI_URGENT_SUPERVISION');
    expect(bad({ BANLI_SUPERVISION_AFTER_WORKDAYS: '0' })).toContain('BANLI_SUPERVISION_AFTER_WORKDAYS must be greater than 0');
  });
});

describe('the time of day in the configured zone', () => {
  it('is read in that zone whatever the server\'s', () => {
    expect(minutesNowIn('Asia/Shanghai', new Date('2024-09-27T00:50:00Z'))).toBe(8 * 60 + 50);
    expect(minutesNowIn('UTC', new Date('2024-09-27T00:50:00Z'))).toBe(50);
  });
});
