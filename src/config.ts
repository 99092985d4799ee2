import { z } from 'zod';
import { parseDateList, type CalendarOverride } from './domain/calendar.ts';
import type { ClockSettings } from './domain/clocks.ts';
import { parseLeadDays, REMINDER_RULES, type ReminderRule, type ReminderSettings } from './domain/reminders.ts';

// Every setting comes from the environment and is checked here once, at start.

// `PORT=` in an env file or `PORT=${PORT}` in a compose file means "not set", as it already does for the text settings.
const unsetIfEmpty = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema);

const positiveInt = (name: string, def: number) =>
  unsetIfEmpty(z
    .string()
    .trim()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .refine((n) => n > 0, `${name} must be greater than 0`)
    .optional()
    .transform((v) => v ?? def));

// "2027-01-01..2027-01-03,2027-02-07": days the official calendar of a year chinese-days does not know yet.
const dateList = (work: boolean) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      try {
        return parseDateList(v ?? '', work);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `${(err as Error).message} (expected dates like 2027-01-01 or ranges 2027-01-01..2027-01-03, comma-separated)` });
        return z.NEVER;
      }
    });

const csv = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

const isTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

const EnvSchema = z
  .object({
    PORT: unsetIfEmpty(z
      .string()
      .trim()
      .regex(/^\d+$/, 'PORT must be a port number (0-65535)')
      .transform(Number)
      .refine((n) => n <= 65535, 'PORT must be a port number (0-65535)')
      .optional()
      .transform((v) => v ?? 3000)),
    HOST: z.string().trim().min(1).optional().transform((v) => v ?? '0.0.0.0'),
    DATABASE_URL: z
      .string()
      .trim()
      .optional()
      .transform((v) => (v ? v : undefined))
      .refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), 'DATABASE_URL must be a postgres:// URL, or unset for the embedded database'),
    BANLI_DATA_DIR: z.string().trim().min(1).optional().transform((v) => v ?? './data'),
    BANLI_TIMEZONE: z
      .string()
      .trim()
      .optional()
      .transform((v) => v || 'Asia/Shanghai')
      .refine(isTimeZone, 'BANLI_TIMEZONE must be an IANA time zone such as Asia/Shanghai'),
    LOG_LEVEL: unsetIfEmpty(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional().transform((v) => v ?? 'info')),

    LARK_APP_ID: z.string().trim().optional().transform((v) => v || ''),
    LARK_APP_SECRET: z.string().trim().optional().transform((v) => v || ''),
    LARK_VERIFICATION_TOKEN: z.string().trim().optional().transform((v) => v || ''),
    LARK_ENCRYPT_KEY: z.string().trim().optional().transform((v) => v || ''),
    LARK_DOMAIN: z
      .string()
      .trim()
      .optional()
      .transform((v) => (v || 'https://open.feishu.cn').replace(/\/+$/, ''))
      .refine((v) => /^https?:\/\/[^\s/]+/.test(v), 'LARK_DOMAIN must be an http(s) URL such as https://open.feishu.cn'),
    LARK_MODE: unsetIfEmpty(z.enum(['webhook', 'ws']).optional().transform((v) => v ?? 'webhook')),
    BANLI_ADMIN_OPEN_IDS: csv,

    BANLI_RESULT_CLASSES: z
      .string()
      .optional()
      .transform((v) => v || 'A:已解决或采纳,B:正在解决或列入计划,C:因条件限制留作参考')
      .pipe(
        z
          .string()
          .transform((s) => s.split(',').map((p) => p.trim()).filter(Boolean))
          .pipe(
            z
              .array(
                z
                  .string()
                  .regex(/^[A-Z]:.+$/, 'BANLI_RESULT_CLASSES items must look like A:已解决或采纳')
                  .transform((p) => ({ code: p.slice(0, 1), label: p.slice(2).trim() })),
              )
              .min(1, 'BANLI_RESULT_CLASSES needs at least one class'),
          ),
      ),

    BANLI_HOLIDAYS: dateList(false),
    BANLI_WORKDAYS: dateList(true),
    BANLI_CLAIM_REMINDER_WORKDAYS: positiveInt('BANLI_CLAIM_REMINDER_WORKDAYS', 2),
    BANLI_ADJUSTMENT_WINDOW_WORKDAYS: positiveInt('BANLI_ADJUSTMENT_WINDOW_WORKDAYS', 5),
    BANLI_CONTACT_TARGET_WORKDAYS: positiveInt('BANLI_CONTACT_TARGET_WORKDAYS', 15),
    BANLI_ASSISTING_OPINION_MONTHS: positiveInt('BANLI_ASSISTING_OPINION_MONTHS', 1),
    BANLI_REPLY_DUE_MONTHS: positiveInt('BANLI_REPLY_DUE_MONTHS', 3),
    BANLI_EXTENSION_LIMIT_MONTHS: positiveInt('BANLI_EXTENSION_LIMIT_MONTHS', 6),
    BANLI_RATING_EXPECTED_WORKDAYS: positiveInt('BANLI_RATING_EXPECTED_WORKDAYS', 20),
    BANLI_RATING_CHASE_WORKDAYS: positiveInt('BANLI_RATING_CHASE_WORKDAYS', 15),
    BANLI_REHANDLING_MONTHS: positiveInt('BANLI_REHANDLING_MONTHS', 1),
    BANLI_MAX_REHANDLINGS: positiveInt('BANLI_MAX_REHANDLINGS', 1),

    BANLI_REMIND_AT: unsetIfEmpty(z
      .string()
      .trim()
      .regex(/^([01]?\d|2[0-3]):[0-5]\d$/, 'BANLI_REMIND_AT must be a time of day as HH:MM, e.g. 08:50')
      .optional()
      .transform((v) => v ?? '08:50')),
    BANLI_REMIND_DUE_SOON_DAYS: z
      .string()
      .optional()
      .transform((v, ctx) => {
        try {
          return parseLeadDays(v?.trim() ? v : '30,14,7,3,1');
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: `BANLI_REMIND_DUE_SOON_DAYS: ${(err as Error).message}` });
          return z.NEVER;
        }
      }),
    BANLI_SUPERVISION_AFTER_WORKDAYS: positiveInt('BANLI_SUPERVISION_AFTER_WORKDAYS', 5),
    BANLI_SUPERVISION_EVERY_WORKDAYS: positiveInt('BANLI_SUPERVISION_EVERY_WORKDAYS', 5),
    BANLI_OPINION_DUE_WITHIN_DAYS: positiveInt('BANLI_OPINION_DUE_WITHIN_DAYS', 7),
    BANLI_REMIND_REPEAT_WORKDAYS: positiveInt('BANLI_REMIND_REPEAT_WORKDAYS', 5),
    BANLI_DECISION_WAIT_WORKDAYS: positiveInt('BANLI_DECISION_WAIT_WORKDAYS', 1),
    BANLI_FOLLOW_UP_MONTHS: positiveInt('BANLI_FOLLOW_UP_MONTHS', 3),
    BANLI_URGENT_SUPERVISION: unsetIfEmpty(z.enum(['true', 'false']).optional().transform((v) => v === 'true')),
    BANLI_REMINDERS_OFF: z
      .string()
      .optional()
      .transform((v, ctx) => {
        const items = (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        for (const item of items) {
          if (item !== 'all' && !(REMINDER_RULES as readonly string[]).includes(item)) {
            ctx.addIssue({ code: 'custom', message: `BANLI_REMINDERS_OFF: "${item}" is not a rule; use all or any of ${REMINDER_RULES.join(', ')}` });
            return z.NEVER;
          }
        }
        return items.includes('all') ? [...REMINDER_RULES] : (items as ReminderRule[]);
      }),

    BANLI_EVENT_RETENTION_HOURS: positiveInt('BANLI_EVENT_RETENTION_HOURS', 72),
    BANLI_SEND_GIVE_UP_MINUTES: positiveInt('BANLI_SEND_GIVE_UP_MINUTES', 30),
    BANLI_INBOX_LEASE_SECONDS: positiveInt('BANLI_INBOX_LEASE_SECONDS', 30),
    BANLI_INBOX_ATTEMPTS: positiveInt('BANLI_INBOX_ATTEMPTS', 3),
    BANLI_EMBEDDED_DB_THREAD: unsetIfEmpty(z.enum(['worker', 'main']).default('worker')),
    BANLI_PG_PREPARED_STATEMENTS: unsetIfEmpty(z.enum(['true', 'false']).default('true').transform((v) => v === 'true')),
  })
  .superRefine((env, ctx) => {
    if (env.LARK_MODE === 'ws' && (!env.LARK_APP_ID || !env.LARK_APP_SECRET)) {
      ctx.addIssue({ code: 'custom', path: ['LARK_APP_ID'], message: 'LARK_MODE=ws needs LARK_APP_ID and LARK_APP_SECRET' });
    }
    if (env.BANLI_EVENT_RETENTION_HOURS < 24) {
      // Lark keeps resending an unacknowledged event for hours; forgetting it sooner would apply it twice.
      ctx.addIssue({ code: 'custom', path: ['BANLI_EVENT_RETENTION_HOURS'], message: 'BANLI_EVENT_RETENTION_HOURS must be at least 24' });
    }
    if (env.BANLI_RATING_CHASE_WORKDAYS > env.BANLI_RATING_EXPECTED_WORKDAYS) {
      ctx.addIssue({
        code: 'custom',
        path: ['BANLI_RATING_CHASE_WORKDAYS'],
        message: 'BANLI_RATING_CHASE_WORKDAYS must not exceed BANLI_RATING_EXPECTED_WORKDAYS',
      });
    }
    if (env.BANLI_REPLY_DUE_MONTHS > env.BANLI_EXTENSION_LIMIT_MONTHS) {
      ctx.addIssue({
        code: 'custom',
        path: ['BANLI_EXTENSION_LIMIT_MONTHS'],
        message: 'BANLI_EXTENSION_LIMIT_MONTHS must be at least BANLI_REPLY_DUE_MONTHS',
      });
    }
  });

export type Env = z.output<typeof EnvSchema>;

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  /** Where the embedded database runs: its own worker thread (default) or the service's main thread. */
  embeddedThread: 'worker' | 'main';
  /** PostgreSQL: send statements as named prepared statements (off behind a pooler that cannot keep them). */
  preparedStatements: boolean;
  timezone: string;
  logLevel: Env['LOG_LEVEL'];
  lark: {
    appId: string;
    appSecret: string;
    verificationToken: string;
    encryptKey: string;
    domain: string;
    mode: 'webhook' | 'ws';
  };
  adminOpenIds: string[];
  resultClasses: { code: string; label: string }[];
  /** Overrides of the official calendar: holidays and make-up working days. */
  calendarOverrides: CalendarOverride[];
  clocks: ClockSettings;
  /** How many times a 不满意 rating reopens a case before a rating simply closes it. */
  maxRehandlings: number;
  eventRetentionHours: number;
  sendGiveUpMinutes: number;
  inbox: {
    /** How long an instance holds an event it works on without renewing: how soon another takes over a dead one's. */
    leaseSeconds: number;
    /** Attempts at a message before the sender is told it failed. */
    attempts: number;
  };
  reminders: {
    /** HH:MM in `timezone`, on working days. */
    at: string;
    settings: ReminderSettings;
    urgentSupervision: boolean;
    /** Rules switched off. */
    off: ReminderRule[];
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and checks the configuration; throws ConfigError whose message is one line per bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? 'environment');
      const msg = i.code === 'invalid_value' && 'values' in i ? `${name} must be one of ${(i.values as unknown[]).join(', ')}` : i.message;
      return `Invalid configuration: ${name}: ${msg}`;
    });
    throw new ConfigError([...new Set(lines)].join('\n'));
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.BANLI_DATA_DIR,
    embeddedThread: e.BANLI_EMBEDDED_DB_THREAD,
    preparedStatements: e.BANLI_PG_PREPARED_STATEMENTS,
    timezone: e.BANLI_TIMEZONE,
    logLevel: e.LOG_LEVEL,
    lark: {
      appId: e.LARK_APP_ID,
      appSecret: e.LARK_APP_SECRET,
      verificationToken: e.LARK_VERIFICATION_TOKEN,
      encryptKey: e.LARK_ENCRYPT_KEY,
      domain: e.LARK_DOMAIN,
      mode: e.LARK_MODE,
    },
    adminOpenIds: e.BANLI_ADMIN_OPEN_IDS,
    resultClasses: e.BANLI_RESULT_CLASSES,
    calendarOverrides: [...e.BANLI_HOLIDAYS, ...e.BANLI_WORKDAYS],
    clocks: {
      claimReminderWorkdays: e.BANLI_CLAIM_REMINDER_WORKDAYS,
      adjustmentWindowWorkdays: e.BANLI_ADJUSTMENT_WINDOW_WORKDAYS,
      contactTargetWorkdays: e.BANLI_CONTACT_TARGET_WORKDAYS,
      assistingOpinionMonths: e.BANLI_ASSISTING_OPINION_MONTHS,
      replyDueMonths: e.BANLI_REPLY_DUE_MONTHS,
      extensionLimitMonths: e.BANLI_EXTENSION_LIMIT_MONTHS,
      ratingExpectedWorkdays: e.BANLI_RATING_EXPECTED_WORKDAYS,
      ratingChaseWorkdays: e.BANLI_RATING_CHASE_WORKDAYS,
      rehandlingMonths: e.BANLI_REHANDLING_MONTHS,
    },
    maxRehandlings: e.BANLI_MAX_REHANDLINGS,
    eventRetentionHours: e.BANLI_EVENT_RETENTION_HOURS,
    sendGiveUpMinutes: e.BANLI_SEND_GIVE_UP_MINUTES,
    inbox: { leaseSeconds: e.BANLI_INBOX_LEASE_SECONDS, attempts: e.BANLI_INBOX_ATTEMPTS },
    reminders: {
      at: e.BANLI_REMIND_AT.padStart(5, '0'),
      settings: {
        dueSoonDays: e.BANLI_REMIND_DUE_SOON_DAYS,
        supervisionAfterWorkdays: e.BANLI_SUPERVISION_AFTER_WORKDAYS,
        supervisionEveryWorkdays: e.BANLI_SUPERVISION_EVERY_WORKDAYS,
        opinionDueWithinDays: e.BANLI_OPINION_DUE_WITHIN_DAYS,
        repeatEveryWorkdays: e.BANLI_REMIND_REPEAT_WORKDAYS,
        decisionWaitWorkdays: e.BANLI_DECISION_WAIT_WORKDAYS,
        followUpEveryMonths: e.BANLI_FOLLOW_UP_MONTHS,
      },
      urgentSupervision: e.BANLI_URGENT_SUPERVISION,
      off: e.BANLI_REMINDERS_OFF,
    },
  };
}
