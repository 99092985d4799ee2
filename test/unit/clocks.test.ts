import { describe, expect, it } from 'vitest';
import { createWorkCalendar, parseDateList } from '../../src/domain/calendar.ts';
import {
  createClocks,
  DEFAULT_CLOCK_SETTINGS,
  resolveClockSettings,
  type ClockSettings,
} from '../../src/domain/clocks.ts';

// Official dates used below (checked against the State Council notices and chinese-days' data):
// 2024 春节 2/10–2/17 off, Sun 2/4 and Sun 2/18 worked; 2025 春节 1/28–2/4 off, Sun 1/26 and Sat 2/8 worked;
// 2024 国庆 10/1–10/7 off, Sun 9/29 and Sat 10/12 worked; 2025 国庆 10/1–10/8 off, Sun 9/28 and Sat 10/11 worked.

const calendar = createWorkCalendar();
const clocks = createClocks(calendar);

describe('defaults', () => {
  it('are the numbers of DOMAIN.md and cannot be changed by accident', () => {
    expect(DEFAULT_CLOCK_SETTINGS).toEqual({
      claimReminderWorkdays: 2,
      adjustmentWindowWorkdays: 5,
      contactTargetWorkdays: 15,
      assistingOpinionMonths: 1,
      replyDueMonths: 3,
      extensionLimitMonths: 6,
      ratingExpectedWorkdays: 20,
      ratingChaseWorkdays: 15,
      rehandlingMonths: 1,
    });
    expect(Object.isFrozen(DEFAULT_CLOCK_SETTINGS)).toBe(true);
  });
});

describe('reply due date', () => {
  it('is three months after assignment when that is a working day', () => {
    expect(clocks.replyDue({ assignedDate: '2025-03-12', role: 'lead' })).toBe('2025-06-12');
  });

  it('rolls out of National Day 2025 to the first working day after it', () => {
    // 2025-07-01 + 3 months = 2025-10-01, inside 10/1–10/8.
    expect(clocks.replyDue({ assignedDate: '2025-07-01', role: 'lead' })).toBe('2025-10-09');
    // 2024-07-05 + 3 months = Saturday 2024-10-05, inside 10/1–10/7.
    expect(clocks.replyDue({ assignedDate: '2024-07-05', role: 'sole' })).toBe('2024-10-08');
  });

  it('rolls out of the Spring Festival onto the make-up Sunday', () => {
    // 2023-11-10 + 3 months = Saturday 2024-02-10, first day off; Sunday 2/18 is the first working day after.
    expect(clocks.replyDue({ assignedDate: '2023-11-10', role: 'separate' })).toBe('2024-02-18');
  });

  it('rolls an ordinary weekend to Monday', () => {
    expect(clocks.replyDue({ assignedDate: '2025-03-14', role: 'lead' })).toBe('2025-06-16');
  });

  it('gives assisting roles one month for their opinion, rolled the same way', () => {
    expect(clocks.replyDue({ assignedDate: '2025-03-12', role: 'assisting' })).toBe('2025-04-14'); // 4/12 is a Saturday
    expect(clocks.replyDue({ assignedDate: '2025-09-03', role: 'assisting' })).toBe('2025-10-09');
  });

  it('keeps an imported fixed due date as it is for the replying roles; an assisting opinion is due by the earlier date', () => {
    expect(clocks.replyDue({ assignedDate: '2025-03-12', role: 'lead', fixedDueDate: '2025-08-31' })).toBe('2025-08-31');
    expect(clocks.replyDue({ assignedDate: '2025-03-12', role: 'sole', fixedDueDate: '2025-08-31' })).toBe('2025-08-31');
    // The lead unit replies by 7/15; we, assisting, owe our opinion within a month (4/12 is a Saturday → 4/14).
    expect(clocks.replyDue({ assignedDate: '2025-03-12', role: 'assisting', fixedDueDate: '2025-07-15' })).toBe('2025-04-14');
    // A fixed date earlier than the month stands as imported.
    expect(clocks.replyDue({ assignedDate: '2025-03-12', role: 'assisting', fixedDueDate: '2025-04-01' })).toBe('2025-04-01');
    expect(clocks.replyDue({ assignedDate: '2025-03-12', role: 'lead', fixedDueDate: null })).toBe('2025-06-12');
  });

  it('refuses a fixed due date that is not a date or comes before the assignment', () => {
    expect(() => clocks.replyDue({ assignedDate: '2025-03-12', role: 'lead', fixedDueDate: '2025-06-31' })).toThrow(
      /2025-06-31/,
    );
    expect(() => clocks.replyDue({ assignedDate: '2025-03-12', role: 'lead', fixedDueDate: '2025-03-11' })).toThrow(
      /before the assignment date/,
    );
    expect(() => clocks.replyDue({ assignedDate: '2025/03/12', role: 'lead' })).toThrow(/2025\/03\/12/);
  });
});

describe('working-day clocks from the assignment date', () => {
  it('reminds about an unclaimed case on the make-up Sunday after the Spring Festival', () => {
    // Assigned Thursday 2024-02-08: Friday 2/9 is day 1, the holiday follows, Sunday 2/18 is day 2.
    expect(clocks.claimReminderDate('2024-02-08')).toBe('2024-02-18');
    // Assigned Friday 2025-09-26: the make-up Sunday 9/28 is day 1, Monday 9/29 day 2.
    expect(clocks.claimReminderDate('2025-09-26')).toBe('2025-09-29');
  });

  it('closes the adjustment window five working days after assignment', () => {
    expect(clocks.adjustmentDeadline('2024-02-07')).toBe('2024-02-20'); // 2/8, 2/9, 2/18, 2/19, 2/20
    expect(clocks.adjustmentDeadline('2024-09-26')).toBe('2024-10-09'); // 9/27, 9/29, 9/30, 10/8, 10/9
  });

  it('sets the contact target fifteen working days out, holidays not counted', () => {
    // 2/2, 2/4, 2/5–2/9, 2/18–2/23, 2/26, 2/27: a plain Mon–Fri count would give 2/22.
    expect(clocks.contactTarget('2024-02-01')).toBe('2024-02-27');
  });

  it('rejects an assignment date that is not a date', () => {
    expect(() => clocks.claimReminderDate('2025-13-01')).toThrow(/2025-13-01/);
  });
});

describe('extension limit', () => {
  it('is six calendar months after assignment and is not rolled off a holiday', () => {
    expect(clocks.extensionLimit('2025-04-01')).toBe('2025-10-01');
    expect(clocks.extensionLimit('2024-08-31')).toBe('2025-02-28');
  });
});

describe('rating clocks from the reply date', () => {
  it('chases after fifteen and expects the rating within twenty working days, across the 2025 Spring Festival', () => {
    // Reply Monday 2025-01-20. Working days: 1/21–1/24, Sun 1/26, 1/27, 2/5–2/7, Sat 2/8, 2/10–2/14 → 15 on 2/14.
    expect(clocks.ratingChaseFrom('2025-01-20')).toBe('2025-02-14');
    expect(clocks.ratingExpected('2025-01-20')).toBe('2025-02-21');
  });
});

describe('rehandling after 不满意', () => {
  it('is due one month after the rating, rolled to a working day', () => {
    expect(clocks.rehandlingDue('2025-01-10')).toBe('2025-02-10');
    expect(clocks.rehandlingDue('2024-01-31')).toBe('2024-02-29');
    expect(clocks.rehandlingDue('2024-01-12')).toBe('2024-02-18');
    expect(clocks.rehandlingDue('2025-09-05')).toBe('2025-10-09');
  });
});

describe('workdaysLeft', () => {
  it('counts the working days still left, skipping the holiday', () => {
    expect(clocks.workdaysLeft('2025-09-26', '2025-10-09')).toBe(4); // 9/28, 9/29, 9/30, 10/9
    expect(clocks.workdaysLeft('2024-02-08', '2024-02-19')).toBe(3); // 2/9, 2/18, 2/19
  });

  it('is 0 on the due date', () => {
    expect(clocks.workdaysLeft('2025-10-09', '2025-10-09')).toBe(0);
  });

  it('counts working days overdue as a negative number', () => {
    expect(clocks.workdaysLeft('2025-10-10', '2025-10-09')).toBe(-1);
    expect(clocks.workdaysLeft('2025-10-13', '2025-10-09')).toBe(-3); // 10/10, Sat 10/11, 10/13
  });

  it('is overdue, never "due today", on the weekend after a Friday due date', () => {
    expect(clocks.workdaysLeft('2025-10-18', '2025-10-17')).toBe(-1);
    expect(clocks.workdaysLeft('2025-10-20', '2025-10-17')).toBe(-1);
    expect(clocks.workdaysLeft('2025-10-21', '2025-10-17')).toBe(-2);
  });

  it('stays at one day overdue through a holiday that follows the due date', () => {
    expect(clocks.workdaysLeft('2025-10-03', '2025-09-30')).toBe(-1);
    expect(clocks.workdaysLeft('2025-10-09', '2025-09-30')).toBe(-1);
    expect(clocks.workdaysLeft('2025-10-10', '2025-09-30')).toBe(-2);
  });
});

describe('a year chinese-days does not know yet', () => {
  // A coordinator configured a made-up 2031 schedule: 1/22–1/28 off, Sunday 1/19 worked.
  const configured = createClocks(
    createWorkCalendar([...parseDateList('2031-01-22..2031-01-28', false), ...parseDateList('2031-01-19', true)]),
  );
  const fallback = createClocks(createWorkCalendar());

  it('uses the configured holidays once they are set, and Mon–Fri before', () => {
    expect(configured.contactTarget('2031-01-15')).toBe('2031-02-11');
    expect(fallback.contactTarget('2031-01-15')).toBe('2031-02-05');
    expect(configured.replyDue({ assignedDate: '2030-10-22', role: 'lead' })).toBe('2031-01-29');
    expect(fallback.replyDue({ assignedDate: '2030-10-22', role: 'lead' })).toBe('2031-01-22');
  });
});

describe('settings', () => {
  it('override the defaults one by one', () => {
    const custom = createClocks(calendar, { claimReminderWorkdays: 3, replyDueMonths: 4, extensionLimitMonths: 5 });
    expect(custom.claimReminderDate('2024-02-08')).toBe('2024-02-19');
    expect(custom.replyDue({ assignedDate: '2025-06-03', role: 'lead' })).toBe('2025-10-09');
    expect(custom.extensionLimit('2025-05-01')).toBe('2025-10-01');
    expect(custom.adjustmentDeadline('2024-02-07')).toBe('2024-02-20'); // untouched default
  });

  it('treat an undefined value as "use the default"', () => {
    expect(resolveClockSettings({ replyDueMonths: undefined })).toEqual(DEFAULT_CLOCK_SETTINGS);
  });

  it('must be positive integers, and the error names the setting', () => {
    const bad: [keyof ClockSettings, unknown][] = [
      ['claimReminderWorkdays', 0],
      ['contactTargetWorkdays', -1],
      ['replyDueMonths', 1.5],
      ['ratingExpectedWorkdays', Number.NaN],
      ['ratingChaseWorkdays', Number.POSITIVE_INFINITY],
      ['rehandlingMonths', '1'],
      ['assistingOpinionMonths', null],
    ];
    for (const [name, value] of bad) {
      const settings = { [name]: value } as unknown as Partial<ClockSettings>;
      expect(() => createClocks(calendar, settings), name).toThrow(new RegExp(`${name} must be a positive integer`));
    }
  });

  it('reject an unknown setting name', () => {
    const typo = { replyDueMonth: 4 } as unknown as Partial<ClockSettings>;
    expect(() => createClocks(calendar, typo)).toThrow(/Unknown clock setting "replyDueMonth"/);
  });

  it('reject an extension ceiling before the ordinary reply due date', () => {
    expect(() => createClocks(calendar, { replyDueMonths: 7 })).toThrow(/replyDueMonths \(7\).*extensionLimitMonths \(6\)/);
    expect(() => createClocks(calendar, { replyDueMonths: 7, extensionLimitMonths: 8 })).not.toThrow();
  });
});
