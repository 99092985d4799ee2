import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The ConfigError message loadConfig throws for env (fails the test when it does not throw one). */
function configErrorOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  it('an empty environment gives a runnable webhook service on the embedded database in ./data', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      databaseUrl: undefined,
      dataDir: './data',
      embeddedThread: 'worker',
      timezone: 'Asia/Shanghai',
      logLevel: 'info',
      adminOpenIds: [],
      calendarOverrides: [],
      eventRetentionHours: 72,
      sendGiveUpMinutes: 30,
      inbox: { leaseSeconds: 30, attempts: 3 },
    });
    expect(c.lark).toEqual({ appId: '', appSecret: '', verificationToken: '', encryptKey: '', domain: 'https://open.feishu.cn', mode: 'webhook' });
    expect(c.resultClasses).toEqual([
      { code: 'A', label: '已解决或采纳' },
      { code: 'B', label: '正在解决或列入计划' },
      { code: 'C', label: '因条件限制留作参考' },
    ]);
    // The clocks of DOMAIN.md.
    expect(c.clocks).toEqual({
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
  });

  it('reads every setting it is given', () => {
    const c = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgresql://banli@db.internal:5432/banli',
      BANLI_TIMEZONE: 'Asia/Urumqi',
      LOG_LEVEL: 'debug',
      LARK_MODE: 'ws',
      LARK_APP_ID: 'cli_a1',
      LARK_APP_SECRET: 's3cret',
      LARK_DOMAIN: 'https://open.larksuite.com/',
      BANLI_ADMIN_OPEN_IDS: ' ou_a , ou_b ,',
      BANLI_RESULT_CLASSES: 'A:已解决,B:列入计划,C:留作参考,D:其他',
      BANLI_HOLIDAYS: '2027-02-06..2027-02-08',
      BANLI_WORKDAYS: '2027-02-14',
      BANLI_ADJUSTMENT_WINDOW_WORKDAYS: '2',
      BANLI_REPLY_DUE_MONTHS: '4',
    });
    expect(c.port).toBe(8080);
    expect(c.databaseUrl).toBe('postgresql://banli@db.internal:5432/banli');
    expect(c.timezone).toBe('Asia/Urumqi');
    expect(c.logLevel).toBe('debug');
    expect(c.lark).toMatchObject({ mode: 'ws', appId: 'cli_a1', domain: 'https://open.larksuite.com' });
    expect(c.adminOpenIds).toEqual(['ou_a', 'ou_b']);
    expect(c.resultClasses.map((r) => r.code)).toEqual(['A', 'B', 'C', 'D']);
    expect(c.calendarOverrides).toEqual([
      { date: '2027-02-06', work: false },
      { date: '2027-02-07', work: false },
      { date: '2027-02-08', work: false },
      { date: '2027-02-14', work: true },
    ]);
    expect(c.clocks.adjustmentWindowWorkdays).toBe(2);
    expect(c.clocks.replyDueMonths).toBe(4);
  });

  it('an empty variable (PORT= in an env file) counts as unset', () => {
    const c = loadConfig({ PORT: '', DATABASE_URL: '', BANLI_TIMEZONE: '', LOG_LEVEL: ' ', LARK_MODE: '', BANLI_REPLY_DUE_MONTHS: '' });
    expect(c).toMatchObject({ port: 3000, databaseUrl: undefined, timezone: 'Asia/Shanghai', logLevel: 'info' });
    expect(c.lark.mode).toBe('webhook');
    expect(c.clocks.replyDueMonths).toBe(3);
  });
});

describe('loadConfig: each bad variable is one clear line naming it', () => {
  const cases: Array<[string, Record<string, string>, string]> = [
    ['PORT=abc', { PORT: 'abc' }, 'port number'],
    ['PORT=70000', { PORT: '70000' }, '0-65535'],
    ['DATABASE_URL=mysql://…', { DATABASE_URL: 'mysql://banli@localhost/banli' }, 'postgres://'],
    ['BANLI_TIMEZONE=Mars/Base', { BANLI_TIMEZONE: 'Mars/Base' }, 'IANA time zone'],
    ['LOG_LEVEL=loud', { LOG_LEVEL: 'loud' }, 'fatal, error, warn, info, debug, trace, silent'],
    ['LARK_MODE=socket', { LARK_MODE: 'socket' }, 'webhook, ws'],
    ['BANLI_HOLIDAYS=2027-02-30', { BANLI_HOLIDAYS: '2027-02-30' }, '"2027-02-30" is not a real date'],
    ['BANLI_WORKDAYS backwards range', { BANLI_WORKDAYS: '2027-01-05..2027-01-01' }, 'ends before it starts'],
    ['BANLI_RESULT_CLASSES=bad', { BANLI_RESULT_CLASSES: 'bad' }, 'A:已解决或采纳'],
    ['BANLI_ADJUSTMENT_WINDOW_WORKDAYS=2.5', { BANLI_ADJUSTMENT_WINDOW_WORKDAYS: '2.5' }, 'whole number'],
    ['BANLI_REPLY_DUE_MONTHS=0', { BANLI_REPLY_DUE_MONTHS: '0' }, 'greater than 0'],
  ];

  it.each(cases)('%s', (_label, env, hint) => {
    const message = configErrorOf(env);
    const name = Object.keys(env)[0] as string;
    expect(message.split('\n')).toHaveLength(1);
    expect(message.startsWith(`Invalid configuration: ${name}: `)).toBe(true);
    expect(message).toContain(hint);
  });

  it('LARK_MODE=ws without an app id names LARK_APP_ID and says what ws needs', () => {
    const message = configErrorOf({ LARK_MODE: 'ws' });
    expect(message).toBe('Invalid configuration: LARK_APP_ID: LARK_MODE=ws needs LARK_APP_ID and LARK_APP_SECRET');
    // With the id but no secret it is still refused.
    expect(configErrorOf({ LARK_MODE: 'ws', LARK_APP_ID: 'cli_a1' })).toContain('LARK_APP_SECRET');
  });

  it('settings that contradict each other name the one to change', () => {
    expect(configErrorOf({ BANLI_REPLY_DUE_MONTHS: '7' })).toBe(
      'Invalid configuration: BANLI_EXTENSION_LIMIT_MONTHS: BANLI_EXTENSION_LIMIT_MONTHS must be at least BANLI_REPLY_DUE_MONTHS',
    );
    expect(configErrorOf({ BANLI_RATING_CHASE_WORKDAYS: '25' })).toContain('BANLI_RATING_CHASE_WORKDAYS must not exceed BANLI_RATING_EXPECTED_WORKDAYS');
  });

  it('several bad variables give one line each, all at once', () => {
    const lines = configErrorOf({ PORT: 'abc', LOG_LEVEL: 'loud', BANLI_HOLIDAYS: '2027-02-30' }).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => l.split(':')[1]?.trim())).toEqual(['PORT', 'LOG_LEVEL', 'BANLI_HOLIDAYS']);
  });
});

describe('npm start with a bad PORT', () => {
  it('exits non-zero and prints the one line that names PORT', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'banli-config-'));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, PORT: 'abc', BANLI_DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
      delete env.DATABASE_URL;
      const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
        child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`npm start did not exit within 90 s; it may have started listening.\n${stdout}\n${stderr}`));
        }, 90_000);
        child.on('error', reject);
        child.on('close', (c) => {
          clearTimeout(timer);
          resolve({ code: c, stdout, stderr });
        });
      });
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      // npm adds its own "npm warn/error" lines; what Banli itself printed is the rest, and it is exactly one line.
      const ours = stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('npm '));
      expect(ours).toEqual(['Invalid configuration: PORT: PORT must be a port number (0-65535)']);
      expect(stdout).not.toContain('banli started');
      // It stopped before touching the data folder.
      expect(fs.readdirSync(dataDir)).toEqual([]);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
    // npm start first checks the build (tsc -b), which takes a while on a loaded machine.
  }, 120_000);
});
