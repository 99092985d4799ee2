import chineseDays from 'chinese-days';
import { afterEach, describe, expect, it } from 'vitest';
import {
  addDays,
  addMonths,
  createWorkCalendar,
  isIsoDate,
  parseDateList,
  todayIn,
  type CalendarOverride,
} from '../../src/domain/calendar.ts';

// Official dates below were checked by hand against the State Council notices and chinese-days' data:
// 2024 春节 2/10–2/17 off, Sun 2/4 and Sun 2/18 working; 2025 春节 1/28–2/4 off, Sun 1/26 and Sat 2/8 working;
// 2024 国庆 10/1–10/7 off, Sun 9/29 and Sat 10/12 working; 2025 国庆 10/1–10/8 off, Sun 9/28 and Sat 10/11 working.

const originalTz = process.env.TZ;
afterEach(() => {
  if (originalTz === undefined) delete process.env.TZ;
  else process.env.TZ = originalTz;
});

describe('isWorkday on the official calendar', () => {
  const calendar = createWorkCalendar();

  it('knows the 2024 Spring Festival: the week off and both make-up Sundays', () => {
    expect(calendar.isWorkday('2024-02-04')).toBe(true); // Sunday, 调休上班
    expect(calendar.isWorkday('2024-02-09')).toBe(true); // Friday 除夕 is still a working day
    for (const day of ['10', '11', '12', '13', '14', '15', '16', '17']) {
      expect(calendar.isWorkday(`2024-02-${day}`)).toBe(false);
    }
    expect(calendar.isWorkday('2024-02-18')).toBe(true); // Sunday, 调休上班
    expect(calendar.isWorkday('2024-02-03')).toBe(false); // ordinary Saturday
  });

  it('knows the 2025 Spring Festival, with a make-up Sunday before and a make-up Saturday after', () => {
    expect(calendar.isWorkday('2025-01-26')).toBe(true);
    expect(calendar.isWorkday('2025-01-27')).toBe(true);
    expect(calendar.isWorkday('2025-01-28')).toBe(false);
    expect(calendar.isWorkday('2025-02-04')).toBe(false); // a Tuesday inside the holiday
    expect(calendar.isWorkday('2025-02-05')).toBe(true);
    expect(calendar.isWorkday('2025-02-08')).toBe(true); // Saturday, 调休上班
    expect(calendar.isWorkday('2025-02-09')).toBe(false);
  });

  it('knows National Day 2024 and 2025', () => {
    expect(calendar.isWorkday('2024-09-29')).toBe(true);
    expect(calendar.isWorkday('2024-10-07')).toBe(false); // a Monday
    expect(calendar.isWorkday('2024-10-08')).toBe(true);
    expect(calendar.isWorkday('2024-10-12')).toBe(true);
    expect(calendar.isWorkday('2025-09-28')).toBe(true);
    expect(calendar.isWorkday('2025-10-08')).toBe(false); // a Wednesday
    expect(calendar.isWorkday('2025-10-09')).toBe(true);
    expect(calendar.isWorkday('2025-10-11')).toBe(true);
  });

  it('agrees with chinese-days on every day of every year it knows', () => {
    // chinese-days' own isWorkday reads dates in the process timezone (it is wrong west of UTC), so pin the
    // reference to China; our calendar does not depend on it.
    process.env.TZ = 'Asia/Shanghai';
    const mismatches: string[] = [];
    let date = '2004-01-01';
    while (date <= '2026-12-31') {
      if (calendar.isWorkday(date) !== chineseDays.isWorkday(date)) mismatches.push(date);
      date = addDays(date, 1);
    }
    expect(mismatches).toEqual([]);
  });

  it('rejects something that is not a date', () => {
    expect(() => calendar.isWorkday('2024-02-30')).toThrow(/2024-02-30/);
    expect(() => calendar.isWorkday('20240210')).toThrow(/YYYY-MM-DD/);
  });
});

describe('counting working days across holidays', () => {
  const calendar = createWorkCalendar();

  it('addWorkdays jumps the Spring Festival week and lands on the make-up Sunday', () => {
    expect(calendar.addWorkdays('2024-02-08', 1)).toBe('2024-02-09');
    expect(calendar.addWorkdays('2024-02-08', 2)).toBe('2024-02-18');
    expect(calendar.addWorkdays('2024-02-08', 3)).toBe('2024-02-19');
    expect(calendar.addWorkdays('2025-01-24', 1)).toBe('2025-01-26');
    expect(calendar.addWorkdays('2025-01-27', 1)).toBe('2025-02-05');
    expect(calendar.addWorkdays('2024-09-27', 3)).toBe('2024-10-08');
  });

  it('addWorkdays from a rest day does not count the rest day', () => {
    expect(calendar.addWorkdays('2024-02-12', 1)).toBe('2024-02-18');
    expect(calendar.addWorkdays('2024-06-08', 1)).toBe('2024-06-11'); // Sat; Mon 6/10 is 端午
  });

  it('addWorkdays with 0 returns the date itself, even a holiday', () => {
    expect(calendar.addWorkdays('2024-02-12', 0)).toBe('2024-02-12');
  });

  it('addWorkdays refuses negative or fractional counts', () => {
    expect(() => calendar.addWorkdays('2024-02-08', -1)).toThrow(/>= 0/);
    expect(() => calendar.addWorkdays('2024-02-08', 1.5)).toThrow(/integer/);
  });

  it('workdaysBetween counts after `from` up to and including `to`, negated when reversed', () => {
    expect(calendar.workdaysBetween('2024-02-09', '2024-02-19')).toBe(2); // 2/18, 2/19
    expect(calendar.workdaysBetween('2024-02-19', '2024-02-09')).toBe(-2);
    expect(calendar.workdaysBetween('2024-02-09', '2024-02-09')).toBe(0);
    expect(calendar.workdaysBetween('2025-09-26', '2025-10-09')).toBe(4); // 9/28, 9/29, 9/30, 10/9
    expect(calendar.workdaysBetween('2024-02-10', '2024-02-17')).toBe(0);
  });

  it('workdaysBetween is the inverse of addWorkdays', () => {
    for (const n of [1, 5, 15, 20, 250]) {
      const due = calendar.addWorkdays('2024-01-15', n);
      expect(calendar.workdaysBetween('2024-01-15', due)).toBe(n);
    }
  });

  it('workdaysBetween over the whole known range matches a day-by-day count', () => {
    let expected = 0;
    for (let date = '2004-01-02'; date <= '2026-12-31'; date = addDays(date, 1)) {
      if (calendar.isWorkday(date)) expected++;
    }
    expect(expected).toBeGreaterThan(5000);
    expect(calendar.workdaysBetween('2004-01-01', '2026-12-31')).toBe(expected);
  });

  it('onOrNextWorkday keeps a working day and rolls a holiday to the next working day', () => {
    expect(calendar.onOrNextWorkday('2025-10-09')).toBe('2025-10-09');
    expect(calendar.onOrNextWorkday('2025-10-01')).toBe('2025-10-09');
    expect(calendar.onOrNextWorkday('2024-02-12')).toBe('2024-02-18');
    expect(calendar.onOrNextWorkday('2024-02-04')).toBe('2024-02-04');
  });
});

describe('years chinese-days does not know, and overrides', () => {
  // 2031 is beyond chinese-days 1.5.7's data (it stops at 2026). The schedule below is a made-up one a coordinator
  // might configure: 2031-01-22..28 off (Wed–Tue), Sunday 2031-01-19 worked.
  const holidays = parseDateList('2031-01-22..2031-01-28', false);
  const makeUp = parseDateList('2031-01-19', true);

  it('falls back to Monday–Friday and says it does not know the year', () => {
    const calendar = createWorkCalendar();
    expect(calendar.knowsYear(2031)).toBe(false);
    expect(calendar.isWorkday('2031-01-22')).toBe(true); // Wednesday
    expect(calendar.isWorkday('2031-01-19')).toBe(false); // Sunday
    expect(calendar.addWorkdays('2031-01-17', 3)).toBe('2031-01-22');
    expect(calendar.addWorkdays('2031-01-21', 1)).toBe('2031-01-22');
    expect(calendar.workdaysBetween('2031-01-16', '2031-01-31')).toBe(11);
  });

  it('uses the configured holidays and make-up Sunday, and then knows the year', () => {
    const calendar = createWorkCalendar([...holidays, ...makeUp]);
    expect(calendar.knowsYear(2031)).toBe(true);
    expect(calendar.knowsYear(2032)).toBe(false);
    expect(calendar.isWorkday('2031-01-22')).toBe(false);
    expect(calendar.isWorkday('2031-01-19')).toBe(true);
    expect(calendar.addWorkdays('2031-01-17', 3)).toBe('2031-01-21'); // 1/19, 1/20, 1/21
    expect(calendar.addWorkdays('2031-01-21', 1)).toBe('2031-01-29');
    expect(calendar.workdaysBetween('2031-01-16', '2031-01-31')).toBe(7); // 17, 19, 20, 21, 29, 30, 31
    expect(calendar.onOrNextWorkday('2031-01-25')).toBe('2031-01-29');
  });

  it('lets overrides win over chinese-days', () => {
    const calendar = createWorkCalendar([
      { date: '2024-02-12', work: true },
      { date: '2024-02-04', work: false },
    ]);
    expect(calendar.isWorkday('2024-02-12')).toBe(true);
    expect(calendar.isWorkday('2024-02-04')).toBe(false);
    expect(calendar.addWorkdays('2024-02-09', 1)).toBe('2024-02-12');
    // Another calendar is not affected.
    expect(createWorkCalendar().isWorkday('2024-02-12')).toBe(false);
  });

  it('knows the years of its data and none outside', () => {
    const calendar = createWorkCalendar();
    expect(calendar.knowsYear(2004)).toBe(true);
    expect(calendar.knowsYear(2024)).toBe(true);
    expect(calendar.knowsYear(2026)).toBe(true);
    expect(calendar.knowsYear(2003)).toBe(false);
    expect(calendar.knowsYear(2027)).toBe(false);
  });

  it('rejects an override that is not a date, or a date listed both ways', () => {
    expect(() => createWorkCalendar([{ date: '2031-02-29', work: false }])).toThrow(/2031-02-29/);
    const conflicting: CalendarOverride[] = [
      { date: '2031-01-19', work: true },
      { date: '2031-01-19', work: false },
    ];
    expect(() => createWorkCalendar(conflicting)).toThrow(/2031-01-19.*both/);
  });
});

describe('addMonths', () => {
  it('clamps to the last day of a shorter month', () => {
    expect(addMonths('2024-11-30', 3)).toBe('2025-02-28');
    expect(addMonths('2023-11-30', 3)).toBe('2024-02-29');
    expect(addMonths('2024-01-31', 1)).toBe('2024-02-29');
    expect(addMonths('2025-01-31', 1)).toBe('2025-02-28');
    expect(addMonths('2024-08-31', 1)).toBe('2024-09-30');
  });

  it('follows the leap-year rules, including centuries', () => {
    expect(addMonths('2024-02-29', 12)).toBe('2025-02-28');
    expect(addMonths('2024-02-29', 48)).toBe('2028-02-29');
    expect(addMonths('2100-01-31', 1)).toBe('2100-02-28');
    expect(addMonths('2000-01-31', 1)).toBe('2000-02-29');
  });

  it('crosses year ends in both directions and accepts negative n', () => {
    expect(addMonths('2024-12-31', 1)).toBe('2025-01-31');
    expect(addMonths('2024-10-15', 3)).toBe('2025-01-15');
    expect(addMonths('2025-01-15', -1)).toBe('2024-12-15');
    expect(addMonths('2024-03-31', -1)).toBe('2024-02-29');
    expect(addMonths('2024-05-31', -15)).toBe('2023-02-28');
    expect(addMonths('2024-05-31', 0)).toBe('2024-05-31');
  });

  it('rejects bad input', () => {
    expect(() => addMonths('2024-02-30', 1)).toThrow(/2024-02-30/);
    expect(() => addMonths('2024-02-01', 0.5)).toThrow(/integer/);
  });
});

describe('addDays', () => {
  it('crosses month, leap-day and year boundaries', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2024-02-28', 2)).toBe('2024-03-01');
    expect(addDays('2023-02-28', 1)).toBe('2023-03-01');
    expect(addDays('2023-12-31', 1)).toBe('2024-01-01');
    expect(addDays('2024-01-01', -1)).toBe('2023-12-31');
    expect(addDays('2024-03-01', -366)).toBe('2023-03-01');
  });

  it('agrees with UTC Date arithmetic day by day over a century', () => {
    const start = Date.UTC(1950, 0, 1);
    for (let n = 0; n < 366 * 100; n += 7) {
      const expected = new Date(start + n * 86_400_000).toISOString().slice(0, 10);
      expect(addDays('1950-01-01', n)).toBe(expected);
    }
  });
});

describe('todayIn', () => {
  it('gives the date in the named timezone, whatever the process timezone', () => {
    const instant = new Date('2024-12-31T16:30:00Z');
    for (const tz of ['America/Los_Angeles', 'Pacific/Kiritimati', 'UTC']) {
      process.env.TZ = tz;
      expect(todayIn('Asia/Shanghai', instant)).toBe('2025-01-01');
      expect(todayIn('UTC', instant)).toBe('2024-12-31');
      expect(todayIn('America/Los_Angeles', instant)).toBe('2024-12-31');
    }
  });

  it('turns over at midnight in Shanghai', () => {
    expect(todayIn('Asia/Shanghai', new Date('2025-03-01T15:59:59Z'))).toBe('2025-03-01');
    expect(todayIn('Asia/Shanghai', new Date('2025-03-01T16:00:00Z'))).toBe('2025-03-02');
  });

  it('rejects an unknown timezone or an invalid instant', () => {
    expect(() => todayIn('Asia/Beijing', new Date())).toThrow(/Asia\/Beijing/);
    expect(() => todayIn('Asia/Shanghai', new Date('nonsense'))).toThrow(/invalid/);
  });
});

describe('date math does not depend on the process timezone', () => {
  it('gives the same answers west and east of UTC', () => {
    const compute = (): unknown[] => {
      const calendar = createWorkCalendar();
      return [
        calendar.isWorkday('2024-02-18'),
        calendar.addWorkdays('2024-02-08', 2),
        calendar.workdaysBetween('2025-01-01', '2025-12-31'), // 2025 has 248 working days; 1/1 is a holiday
        calendar.onOrNextWorkday('2025-10-01'),
        addMonths('2024-01-31', 1),
        addDays('2024-12-31', 1),
      ];
    };
    process.env.TZ = 'Asia/Shanghai';
    const reference = compute();
    expect(reference).toEqual([true, '2024-02-18', 248, '2025-10-09', '2024-02-29', '2025-01-01']);
    for (const tz of ['Pacific/Pago_Pago', 'America/Los_Angeles', 'Pacific/Kiritimati']) {
      process.env.TZ = tz;
      expect(compute()).toEqual(reference);
    }
  });
});

describe('isIsoDate', () => {
  it('accepts real dates in YYYY-MM-DD form', () => {
    expect(isIsoDate('2024-02-29')).toBe(true);
    expect(isIsoDate('2000-02-29')).toBe(true);
    expect(isIsoDate('2025-12-31')).toBe(true);
  });

  it('rejects impossible dates and other shapes', () => {
    for (const s of [
      '2023-02-29',
      '2100-02-29',
      '2024-02-30',
      '2024-04-31',
      '2024-13-01',
      '2024-00-10',
      '2024-01-00',
      '2024-2-3',
      '2024/02/03',
      '2024-02-03T00:00',
      ' 2024-02-03',
      '20240203',
      '',
    ]) {
      expect(isIsoDate(s), s).toBe(false);
    }
  });
});

describe('parseDateList', () => {
  it('expands ranges and single dates, in order, with the given work flag', () => {
    expect(parseDateList('2027-01-01..2027-01-03,2027-02-10', false)).toEqual([
      { date: '2027-01-01', work: false },
      { date: '2027-01-02', work: false },
      { date: '2027-01-03', work: false },
      { date: '2027-02-10', work: false },
    ]);
    expect(parseDateList('2027-02-07', true)).toEqual([{ date: '2027-02-07', work: true }]);
  });

  it('tolerates spaces and ranges across a year end', () => {
    expect(parseDateList(' 2030-12-31 .. 2031-01-02 , 2031-01-04 ', false).map((o) => o.date)).toEqual([
      '2030-12-31',
      '2031-01-01',
      '2031-01-02',
      '2031-01-04',
    ]);
    expect(parseDateList('2028-02-28..2028-03-01', false)).toHaveLength(3); // 2028 is a leap year
    expect(parseDateList('2027-05-01..2027-05-01', false)).toHaveLength(1);
  });

  it('reads an empty setting as no overrides', () => {
    expect(parseDateList('', false)).toEqual([]);
    expect(parseDateList('   ', true)).toEqual([]);
  });

  it('rejects a reversed range, naming it', () => {
    expect(() => parseDateList('2027-01-01,2027-01-07..2027-01-01', false)).toThrow(
      /"2027-01-07\.\.2027-01-01".*ends before it starts/,
    );
  });

  it('rejects a date that does not exist or is badly written, naming it', () => {
    expect(() => parseDateList('2027-01-01,2027-02-30', false)).toThrow(/"2027-02-30"/);
    expect(() => parseDateList('2027-1-5', true)).toThrow(/"2027-1-5"/);
    expect(() => parseDateList('2027-01-01..', false)).toThrow(/"2027-01-01\.\."/);
    expect(() => parseDateList('2027-01-01，2027-01-02', false)).toThrow(/2027-01-01，2027-01-02/);
  });

  it('rejects empty items and malformed ranges', () => {
    expect(() => parseDateList('2027-01-01,,2027-01-02', false)).toThrow(/item 2 is empty/);
    expect(() => parseDateList('2027-01-01,', false)).toThrow(/empty/);
    expect(() => parseDateList('2027-01-01..2027-01-02..2027-01-03', false)).toThrow(/range/);
  });

  it('rejects a range so long it must be a typo', () => {
    expect(() => parseDateList('2027-01-01..2072-01-01', false)).toThrow(/more than 366 days/);
  });
});
