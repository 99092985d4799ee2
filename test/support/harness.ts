import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { describe } from 'vitest';
import { loadConfig, type Config } from '../../src/config.ts';
import { applyImportPlan, planImport } from '../../src/import/apply.ts';
import type { ImportedCase } from '../../src/import/validate.ts';
import { clocksFor, startService, type Service } from '../../src/runtime.ts';
import { startLarkEmulator, type EmulatorUser, type LarkEmulator } from './lark/emulator.ts';
import { createEventSender, type EventSender } from './lark/events.ts';

// Integration tests drive the real service over HTTP, signed like Lark, against the Lark emulator, on PGlite and on
// real PostgreSQL. Each suite gets its own database (a fresh PGlite folder, or a fresh PostgreSQL database).

export type Backend = 'pglite' | 'postgres';

const PG_URL = process.env.TEST_DATABASE_URL;
let warned = false;

/** Runs the suite once per database backend; without TEST_DATABASE_URL the PostgreSQL run is skipped, loudly. */
export function describeOnBackends(name: string, fn: (backend: Backend) => void): void {
  describe(`${name} [pglite]`, () => fn('pglite'));
  if (PG_URL) {
    describe(`${name} [postgres]`, () => fn('postgres'));
  } else {
    if (!warned) {
      warned = true;
      console.warn('\n*** TEST_DATABASE_URL is not set: the PostgreSQL runs of the integration tests are SKIPPED. ***\n');
    }
    describe.skip(`${name} [postgres] — SKIPPED: TEST_DATABASE_URL not set`, () => fn('postgres'));
  }
}

/** A throw-away database for one suite; drop() removes it. */
export async function createTestDatabase(backend: Backend): Promise<{ url?: string; dataDir: string; drop(): Promise<void> }> {
  if (backend === 'pglite') {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'banli-test-'));
    return { dataDir, drop: async () => fs.rmSync(dataDir, { recursive: true, force: true }) };
  }
  if (!PG_URL) throw new Error('TEST_DATABASE_URL is not set');
  const name = `banli_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dataDir: '',
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export const USERS = {
  zhang: { openId: 'ou_zhangsan', name: '张三' },
  li: { openId: 'ou_lisi', name: '李四' },
  wang: { openId: 'ou_wangwu', name: '王五' },
  admin: { openId: 'ou_coordinator', name: '赵协调' },
  leader: { openId: 'ou_leader', name: '钱领导' },
} satisfies Record<string, EmulatorUser>;

export const GROUP = 'oc_group_elderly';

export interface HarnessOptions {
  encryptKey?: string;
  verificationToken?: string;
  /** The domain's "today"; the webhook's signature clock stays real. */
  today?: string;
  env?: Record<string, string>;
  /** Reuse an emulator / database (for restarts and second instances). */
  lark?: LarkEmulator;
  database?: { url?: string; dataDir: string };
}

export interface Harness {
  service: Service;
  lark: LarkEmulator;
  events: EventSender;
  config: Config;
  database: { url?: string; dataDir: string };
  /** Stops the service (not the emulator or the database). */
  stop(): Promise<void>;
}

/** Starts the service against the emulator and a database. */
export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  if (!opts.database) throw new Error('startHarness needs a database');
  const lark = opts.lark ?? (await startLarkEmulator({ users: Object.values(USERS) }));
  const env: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    LARK_APP_ID: lark.appId,
    LARK_APP_SECRET: lark.appSecret,
    LARK_DOMAIN: lark.url,
    LARK_VERIFICATION_TOKEN: opts.verificationToken ?? 'test-verification-token',
    BANLI_ADMIN_OPEN_IDS: USERS.admin.openId,
    ...(opts.encryptKey ? { LARK_ENCRYPT_KEY: opts.encryptKey } : {}),
    ...(opts.database.url ? { DATABASE_URL: opts.database.url } : { BANLI_DATA_DIR: opts.database.dataDir }),
    ...opts.env,
  };
  const config = loadConfig(env);
  const today = opts.today;
  const service = await startService(config, {
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    pollIntervalMs: 50,
    ...(today ? { now: () => new Date(`${today}T10:00:00+08:00`) } : {}),
  });
  const events = createEventSender({
    url: `${service.url}/lark/webhook`,
    appId: lark.appId,
    verificationToken: config.lark.verificationToken,
    encryptKey: config.lark.encryptKey,
    emulator: lark,
  });
  return { service, lark, events, config, database: opts.database, stop: () => service.close() };
}

/** Puts cases straight into the database through the import code (as `npm run import -- --commit` would). */
export async function seedCases(h: Harness, cases: Array<Partial<ImportedCase> & { caseNo: string }>): Promise<Map<string, number>> {
  const full: ImportedCase[] = cases.map((c, i) => ({
    row: i + 2,
    kind: '建议',
    year: Number(c.caseNo.slice(0, 4)) || 2024,
    session: '市七届人大五次会议',
    title: `关于第${c.caseNo}号事项的建议`,
    proposer: '黄振辉',
    roleLabel: '主办',
    role: 'lead',
    leadUnit: '市民政局',
    assistingUnits: [],
    unit: null,
    assignedDate: '2024-03-20',
    fixedDueDate: null,
    disclosure: '主动公开',
    ...c,
  }));
  const db = h.service.database.db;
  const clocks = clocksFor(h.config);
  await db.transaction().execute(async (trx) => applyImportPlan(trx, await planImport(trx, full, clocks), null, 'test'));
  const rows = await db.selectFrom('cases').select(['id', 'case_no']).execute();
  return new Map(rows.map((r) => [r.case_no, r.id]));
}

let counter = 0;
/** A unique id for events and messages within a test run. */
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}_${Date.now().toString(36)}_${counter}_${randomBytes(3).toString('hex')}`;
}
