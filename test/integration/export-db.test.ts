import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/storage/database.ts';
import { ask, click, createTestDatabase, openCaseCard, say, seedCases, startHarness, until, USERS } from '../support/harness.ts';
import { startLarkEmulator, type LarkEmulator } from '../support/lark/emulator.ts';

// A bureau that started on the embedded database moves to PostgreSQL the way the README says: stop the service, run
// `npm run export-db -- --to postgres://…`, start it with DATABASE_URL. Every case, timeline entry and outbox row
// must arrive unchanged, and the service must carry on there (new rows get new ids, the sender finds nothing to
// resend). The move needs a real PostgreSQL, so it runs in the PostgreSQL pass only.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SENDS = /^\/open-apis\/im\/v1\/messages/;

beforeAll(() => {
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-b'], { cwd: ROOT, stdio: 'inherit' });
}, 120_000);

function exportDb(dataDir: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, BANLI_DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  delete env.DATABASE_URL;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/src/cli/export-db.js', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every row of the tables the move must keep, in a stable order. */
async function contents(db: Db) {
  return {
    cases: await db.selectFrom('cases').selectAll().orderBy('id').execute(),
    case_events: await db.selectFrom('case_events').selectAll().orderBy('id').execute(),
    outbox: await db.selectFrom('outbox').selectAll().orderBy('id').execute(),
    users: await db.selectFrom('users').selectAll().orderBy('open_id').execute(),
    case_cards: await db.selectFrom('case_cards').selectAll().orderBy('message_id').execute(),
  };
}

async function tableCounts(db: Db): Promise<Record<string, number>> {
  const tables = (await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = 'public' order by 1`.execute(db)).rows;
  const out: Record<string, number> = {};
  for (const { name } of tables) {
    if (name.startsWith('kysely_')) continue;
    out[name] = Number((await sql<{ n: number }>`select count(*)::int as n from ${sql.table(name)}`.execute(db)).rows[0]?.n);
  }
  return out;
}

const PG_URL = process.env.TEST_DATABASE_URL;
(PG_URL ? describe : describe.skip)(`moving the embedded database to PostgreSQL (npm run export-db)${PG_URL ? '' : ' — SKIPPED: TEST_DATABASE_URL not set'}`, () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'banli-export-'));
  let target: Awaited<ReturnType<typeof createTestDatabase>>;
  let lark: LarkEmulator;
  let before: Awaited<ReturnType<typeof contents>>;
  let beforeCounts: Record<string, number>;

  beforeAll(async () => {
    target = await createTestDatabase('postgres');
    lark = await startLarkEmulator({ users: Object.values(USERS) });
    // A few days of work on the embedded database: cases imported, claimed by click and by message, progress
    // noted, a card on screen, and one message Lark refused for good (a failed outbox row must move too).
    const h = await startHarness({ database: { dataDir }, lark, today: '2024-03-21' });
    await seedCases(h, [{ caseNo: '20240701' }, { caseNo: '20240702' }, { caseNo: '20240703', roleLabel: '会办', role: 'assisting', assistingUnits: ['市财政局', '市卫健委'] }]);
    const card = await openCaseCard(h, USERS.zhang, '20240701');
    await click(h, USERS.zhang, card, '认领');
    await ask(h, USERS.li, '认领 20240702');
    await ask(h, USERS.li, '进展 20240702 已与代表电话沟通，约定下周上门');
    lark.failNext(1, { status: 400, code: 230027, msg: 'Lack of necessary permissions.', paths: SENDS });
    await say(h, USERS.wang, '帮助');
    await until('the outbox to settle', async () => {
      const pending = await h.service.database.db.selectFrom('outbox').select('id').where('status', '=', 'pending').execute();
      return pending.length === 0;
    });
    await h.stop();
    const source = await openDatabase({ dataDir });
    try {
      before = await contents(source.db);
      beforeCounts = await tableCounts(source.db);
    } finally {
      await source.close();
    }
  }, 180_000);
  afterAll(async () => {
    await lark?.close();
    await target?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('the data the move starts from has cases, timeline entries and outbox rows, sent and failed', () => {
    expect(before.cases).toHaveLength(3);
    expect(before.case_events.length).toBeGreaterThanOrEqual(6);
    expect(new Set(before.outbox.map((r) => r.status))).toEqual(new Set(['sent', 'failed']));
  });

  it('copies every case, timeline entry and outbox row unchanged, and every other table row for row', async () => {
    const res = await exportDb(dataDir, ['--to', target.url as string]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`cases：3 行`);
    expect(res.stdout).toMatch(/已完成：\d+ 张表，共 \d+ 行。/);
    const moved = await openDatabase({ url: target.url });
    try {
      expect(await contents(moved.db)).toEqual(before);
      expect(await tableCounts(moved.db)).toEqual(beforeCounts);
    } finally {
      await moved.close();
    }
  }, 60_000);

  it('the service carries on on PostgreSQL: nothing is sent again, and new rows get new ids', async () => {
    const sentBefore = lark.sent.length;
    const h = await startHarness({ database: { url: target.url, dataDir: '' }, lark, today: '2024-03-21' });
    try {
      const answer = await ask(h, USERS.wang, '认领 20240703');
      expect(answer.text).toContain('20240703');
      const db = h.service.database.db;
      const newest = await db.selectFrom('case_events').select(['id', 'type']).orderBy('id', 'desc').executeTakeFirstOrThrow();
      expect(Number(newest.id)).toBeGreaterThan(Math.max(...before.case_events.map((e) => Number(e.id))));
      await new Promise((r) => setTimeout(r, 500));
      // Only the answer to the new claim went out: the copied sent and failed rows stay as they were.
      expect(lark.sent.slice(sentBefore).map((m) => m.replyTo).filter(Boolean)).toHaveLength(1);
    } finally {
      await h.stop();
    }
  }, 60_000);

  it('refuses to copy into a database that already has data, and writes nothing', async () => {
    const res = await exportDb(dataDir, ['--to', target.url as string]);
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toMatch(/^目标数据库不是空的（表 \w+ 已有数据）/);
  }, 60_000);

  it('without --to it prints how to use it', async () => {
    const res = await exportDb(dataDir, []);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('用法：npm run export-db -- --to postgres://');
  });
});
