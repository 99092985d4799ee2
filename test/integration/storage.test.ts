import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDecision, loadCaseState, StaleCaseError } from '../../src/cases/case.repository.ts';
import { act, inCaseTransaction } from '../../src/cases/case.service.ts';
import { createWorkCalendar } from '../../src/domain/calendar.ts';
import { createClocks } from '../../src/domain/clocks.ts';
import type { Actor, CaseState } from '../../src/domain/types.ts';
import { decide, type CaseAction, type Decision, type Outcome } from '../../src/domain/workflow.ts';
import { DataDirLockedError } from '../../src/storage/lock-file.ts';
import { openDatabase, type Database, type Db } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import type { LarkEmulator } from '../support/lark/emulator.ts';
import { createTestDatabase, describeOnBackends, GROUP, seedCases, startHarness, uid, USERS, type Backend } from '../support/harness.ts';

// The storage layer on both backends: schema migrations, how values come back, optimistic concurrency and its retry,
// the embedded database's folder (persistence and its lock), and the service's health check and shutdown.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MIGRATIONS = fs
  .readdirSync(path.join(ROOT, 'migrations'))
  .filter((f) => /\.ts$/.test(f))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();

const clocks = createClocks(createWorkCalendar());
const ctx = { today: '2024-03-25', clocks, resultClasses: ['A', 'B', 'C'] };
const actorOf = (u: { openId: string; name: string }, coordinator = false): Actor => ({
  ...u,
  roles: new Set(coordinator ? (['coordinator'] as const) : []),
});
const 张三 = actorOf(USERS.zhang);
const 李四 = actorOf(USERS.li);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A promise whose settling can be observed without awaiting it. */
function watch<T>(p: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  const promise = p.finally(() => {
    done = true;
  });
  promise.catch(() => {});
  return { promise, settled: () => done };
}

async function insertCase(db: Db, caseNo: string, over: { assigned?: string; due?: string } = {}): Promise<number> {
  const row = await db
    .insertInto('cases')
    .values({
      kind: '建议',
      year: Number(caseNo.slice(0, 4)),
      case_no: caseNo,
      session: '市七届人大五次会议',
      title: `关于第${caseNo}号事项的建议`,
      proposer: '黄振辉',
      lead_unit: '市民政局',
      role_label: '主办',
      role: 'lead',
      assisting_units: JSON.stringify([]),
      assigned_date: over.assigned ?? '2024-03-20',
      reply_due_date: over.due ?? '2024-06-20',
      status: 'unclaimed',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function ensureUsers(db: Db): Promise<void> {
  for (const u of Object.values(USERS)) {
    await db.insertInto('users').values({ open_id: u.openId, name: u.name }).onConflict((oc) => oc.column('open_id').doNothing()).execute();
  }
}

async function counts(db: Db, caseId: number): Promise<Record<string, number>> {
  const n = async (table: 'case_events' | 'contacts' | 'replies' | 'ratings' | 'extension_requests' | 'adjustment_requests') =>
    Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('case_id', '=', caseId).executeTakeFirstOrThrow()).n);
  return {
    case_events: await n('case_events'),
    contacts: await n('contacts'),
    replies: await n('replies'),
    ratings: await n('ratings'),
    extension_requests: await n('extension_requests'),
    adjustment_requests: await n('adjustment_requests'),
  };
}

function allowed(o: Outcome): Decision {
  if (!o.ok) throw new Error(`refused (${o.code}): ${o.message}`);
  return o;
}

/** Runs a child process to completion. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The environment of a child process using this test database (and not the caller's). */
function childEnv(location: { url?: string; dataDir: string }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent' };
  delete env.DATABASE_URL;
  delete env.BANLI_DATA_DIR;
  if (location.url) env.DATABASE_URL = location.url;
  else env.BANLI_DATA_DIR = location.dataDir;
  return env;
}

/** Takes `n` connections of the database's pool and holds them until release() — requests needing one must wait. */
async function holdConnections(db: Db, n: number): Promise<{ release(): void; done: Promise<unknown> }> {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const acquired: Promise<void>[] = [];
  const holds: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    let got!: () => void;
    acquired.push(new Promise<void>((r) => (got = r)));
    holds.push(
      db.transaction().execute(async (trx) => {
        await sql`select 1`.execute(trx);
        got();
        await gate;
      }),
    );
  }
  await Promise.all(acquired);
  return { release, done: Promise.allSettled(holds) };
}

// openDatabase's pool size for PostgreSQL (PGlite is a single connection).
const poolSize = (backend: Backend) => (backend === 'pglite' ? 1 : 10);

describeOnBackends('storage', (backend) => {
  let location: { url?: string; dataDir: string; drop(): Promise<void> };
  let database: Database;
  let lark: LarkEmulator | undefined;

  const open = () => openDatabase({ url: location.url, dataDir: location.dataDir });

  beforeAll(async () => {
    location = await createTestDatabase(backend);
    database = await open();
  });
  afterAll(async () => {
    await database?.close();
    await lark?.close();
    await location?.drop();
  });

  describe('schema and values', () => {
    it('migrations apply once; running them again is a no-op recorded in kysely_migration', async () => {
      expect(MIGRATIONS.length).toBeGreaterThan(0);
      expect(await migrateToLatest(database.db)).toEqual(MIGRATIONS);
      expect(await migrateToLatest(database.db)).toEqual([]);
      const recorded = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(database.db);
      expect(recorded.rows.map((r) => r.name)).toEqual(MIGRATIONS);
      const tables = await sql<{ table_name: string }>`
        select table_name from information_schema.tables where table_schema = 'public' order by table_name`.execute(database.db);
      expect(tables.rows.map((r) => r.table_name)).toEqual(
        expect.arrayContaining(['cases', 'case_events', 'contacts', 'replies', 'ratings', 'outbox', 'inbox', 'users']),
      );
    });

    it('date columns come back as the YYYY-MM-DD typed, whatever the process timezone; counts come back as numbers', async () => {
      const tz = process.env.TZ;
      // UTC+14: a driver turning dates into local midnights would shift them a day.
      process.env.TZ = 'Pacific/Kiritimati';
      try {
        const id = await insertCase(database.db, '20249001', { assigned: '2024-12-31', due: '2025-03-31' });
        const row = await database.db.selectFrom('cases').select(['assigned_date', 'reply_due_date', 'fixed_due_date']).where('id', '=', id).executeTakeFirstOrThrow();
        expect(row).toEqual({ assigned_date: '2024-12-31', reply_due_date: '2025-03-31', fixed_due_date: null });
        const raw = await sql<{ d: unknown; n: unknown }>`select date '2024-02-29' as d, count(*) as n from cases`.execute(database.db);
        expect(raw.rows[0]).toEqual({ d: '2024-02-29', n: 1 });
        const state = await loadCaseState(database.db, id);
        expect(state).toMatchObject({ assignedDate: '2024-12-31', replyDueDate: '2025-03-31', contactCount: 0, version: 1 });
        expect(typeof state?.contactCount).toBe('number');
      } finally {
        if (tz === undefined) delete process.env.TZ;
        else process.env.TZ = tz;
      }
    });
  });

  describe('prepared statements', () => {
    it('a statement is prepared once per connection and answers alike; when the table under it changes it is answered all the same', async () => {
      const db = database.db;
      await sql`create table prepared_probe (id int primary key, name text)`.execute(db);
      await sql`insert into prepared_probe values (1, '甲'), (2, '乙')`.execute(db);
      const read = async () => (await sql`select * from prepared_probe where id = ${2}`.execute(db)).rows;
      for (let i = 0; i < 8; i++) expect(await read()).toEqual([{ id: 2, name: '乙' }]);
      if (backend === 'postgres') {
        // Every connection of the pool knows it by name after using it.
        const named = await sql<{ n: number }>`select count(*)::int as n from pg_prepared_statements where statement like '%prepared_probe%'`.execute(db);
        expect(named.rows[0]!.n).toBeGreaterThan(0);
      }
      // Another instance's migration adds a column: the cached plan's row no longer fits ("cached plan must not change
      // result type"), and the statement is run afresh, outside a transaction and, on the next try, inside one.
      await sql`alter table prepared_probe add column unit text default '民政局'`.execute(db);
      for (let i = 0; i < 3; i++) expect(await read()).toEqual([{ id: 2, name: '乙', unit: '民政局' }]);
      const inTransaction = () => db.transaction().execute(async (trx) => (await sql`select * from prepared_probe where id = ${1}`.execute(trx)).rows);
      await sql`alter table prepared_probe add column note text`.execute(db);
      const first = await inTransaction().catch((err: unknown) => err);
      if (first instanceof Error) expect(first.message).toMatch(/cached plan/);
      expect(await inTransaction()).toEqual([{ id: 1, name: '甲', unit: '民政局', note: null }]);
      await sql`drop table prepared_probe`.execute(db);
    });
  });

  describe('optimistic concurrency', () => {
    let caseId: number;
    beforeAll(async () => {
      await ensureUsers(database.db);
      caseId = await insertCase(database.db, '20240562');
    });

    it('a decision taken on an old version throws StaleCaseError and writes nothing', async () => {
      const v1 = (await loadCaseState(database.db, caseId)) as CaseState;
      // 张三 claims: version 1 → 2, with its timeline event.
      const newVersion = await applyDecision(database.db, v1, allowed(decide(v1, { type: 'claim', chatUnit: null }, 张三, ctx)), 张三);
      expect(newVersion).toBe(2);
      const before = await counts(database.db, caseId);
      expect(before.case_events).toBe(1);

      // 李四 decided on version 1 (the case looked unclaimed to him) and records a contact on it.
      const stale: CaseState = { ...v1, status: 'in_progress', handler: USERS.li };
      const contact: CaseAction = { type: 'contact', date: '2024-03-22', method: '电话', who: '', note: '' };
      const d = allowed(decide(stale, contact, 李四, ctx));
      await expect(applyDecision(database.db, stale, d, 李四)).rejects.toBeInstanceOf(StaleCaseError);

      expect(await counts(database.db, caseId)).toEqual(before);
      const row = await database.db.selectFrom('cases').selectAll().where('id', '=', caseId).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ version: 2, status: 'in_progress', handler_open_id: USERS.zhang.openId });
    });

    it('inCaseTransaction runs a stale decision again, and the second run sees the case as it is now', async () => {
      const id = await insertCase(database.db, '20240252');
      const claim: CaseAction = { type: 'claim', chatUnit: null };
      // 李四 saw the case unclaimed …
      const seenByLi = (await loadCaseState(database.db, id)) as CaseState;
      // … but 张三's claim landed first.
      await inCaseTransaction(database.db, async (trx) => {
        const c = (await loadCaseState(trx, id)) as CaseState;
        await applyDecision(trx, c, allowed(decide(c, claim, 张三, ctx)), 张三);
      });

      const seen: CaseState[] = [];
      const outcome = await inCaseTransaction(database.db, async (trx) => {
        const c = seen.length === 0 ? seenByLi : ((await loadCaseState(trx, id)) as CaseState);
        seen.push(c);
        const o = decide(c, claim, 李四, ctx);
        if (o.ok) await applyDecision(trx, c, o, 李四);
        return o;
      });
      expect(seen.map((c) => [c.status, c.handler?.name ?? null, c.version])).toEqual([
        ['unclaimed', null, 1],
        ['in_progress', '张三', 2],
      ]);
      expect(outcome).toMatchObject({ ok: false, code: 'already_claimed', message: '该案件已由张三认领。' });
      const events = await database.db.selectFrom('case_events').select(['type', 'actor_open_id']).where('case_id', '=', id).execute();
      expect(events).toEqual([{ type: 'claimed', actor_open_id: USERS.zhang.openId }]);
    });

    it('张三 and 李四 claim at the same moment: one gets it, the other is told who has it', async () => {
      const id = await insertCase(database.db, '20240675');
      const claim: CaseAction = { type: 'claim', chatUnit: null };
      // On PostgreSQL both transactions read the case before either writes; PGlite runs them one after the other.
      let arrived = 0;
      let openBarrier!: () => void;
      const barrier = new Promise<void>((r) => (openBarrier = r));
      let attempts = 0;
      const attempt = (who: Actor) =>
        inCaseTransaction(database.db, async (trx) => {
          attempts += 1;
          const c = (await loadCaseState(trx, id)) as CaseState;
          if (backend === 'postgres' && c.status === 'unclaimed') {
            if (++arrived === 2) openBarrier();
            await Promise.race([barrier, sleep(5000)]);
          }
          const o = decide(c, claim, who, ctx);
          if (o.ok) await applyDecision(trx, c, o, who);
          return o;
        });
      const [a, b] = await Promise.all([attempt(张三), attempt(李四)]);
      const winner = a.ok ? '张三' : '李四';
      const loser = a.ok ? b : a;
      expect([a.ok, b.ok].filter(Boolean)).toHaveLength(1);
      expect(loser).toMatchObject({ ok: false, code: 'already_claimed', message: `该案件已由${winner}认领。` });
      // PostgreSQL: the loser's first run went stale and was run again.
      if (backend === 'postgres') expect(attempts).toBe(3);
      const row = await database.db.selectFrom('cases').select(['handler_open_id', 'version']).where('id', '=', id).executeTakeFirstOrThrow();
      expect(row).toEqual({ handler_open_id: winner === '张三' ? USERS.zhang.openId : USERS.li.openId, version: 2 });
      expect((await counts(database.db, id)).case_events).toBe(1);
    });

    it('twenty progress notes on one case at the same moment are all written: after two lost races a click reads the case under its lock', async () => {
      const id = await insertCase(database.db, '20240781');
      const service = { ...ctx, maxRehandlings: 1, adminOpenIds: [] };
      await inCaseTransaction(database.db, (trx) => act(trx, service, id, { type: 'claim', chatUnit: null }, 张三));
      const notes = Array.from({ length: 20 }, (_, i) => `第${i + 1}条进展`);
      const outcomes = await Promise.all(notes.map((note) => inCaseTransaction(database.db, (trx) => act(trx, service, id, { type: 'progress', note }, 张三))));
      expect(outcomes.map((o) => o.outcome.ok)).toEqual(notes.map(() => true));
      const row = await database.db.selectFrom('cases').select('version').where('id', '=', id).executeTakeFirstOrThrow();
      expect(row.version).toBe(1 + 1 + notes.length);
      expect((await counts(database.db, id)).case_events).toBe(1 + notes.length);
    });

    it('a decision on a case handed to someone the database has never seen creates their user row', async () => {
      const id = await insertCase(database.db, '20240542');
      const newcomer = { openId: 'ou_newcomer_0001', name: '孙七' };
      const c = (await loadCaseState(database.db, id)) as CaseState;
      const d = allowed(decide(c, { type: 'handover', to: newcomer }, actorOf(USERS.admin, true), ctx));
      await inCaseTransaction(database.db, (trx) => applyDecision(trx, c, d, actorOf(USERS.admin, true)));
      const row = await database.db.selectFrom('cases').select('handler_open_id').where('id', '=', id).executeTakeFirstOrThrow();
      expect(row.handler_open_id).toBe(newcomer.openId);
      // The row exists for the foreign key; the name itself is stored only by whoever learned it (mention, contact API),
      // so a placeholder never overwrites a real name.
      const user = await database.db.selectFrom('users').select('name').where('open_id', '=', newcomer.openId).executeTakeFirst();
      expect(user).toEqual({ name: null });
    });
  });

  // Only the embedded database has a folder of its own (PostgreSQL keeps its data in its server).
  if (backend === 'pglite') {
    describe('the embedded database folder', () => {
      it('keeps its data across a restart (close, then open the same folder)', async () => {
        const id = await insertCase(database.db, '20240337');
        await database.close();
        expect(fs.existsSync(path.join(location.dataDir, 'banli.lock'))).toBe(false);
        database = await open();
        expect(await migrateToLatest(database.db)).toEqual([]);
        const row = await database.db.selectFrom('cases').select(['case_no', 'assigned_date']).where('id', '=', id).executeTakeFirst();
        expect(row).toEqual({ case_no: '20240337', assigned_date: '2024-03-20' });
      });

      it('refuses a second open of the folder in this process while the first is open, and the first keeps working', async () => {
        const lockFile = path.join(location.dataDir, 'banli.lock');
        expect(fs.readFileSync(lockFile, 'utf8').trim()).toBe(String(process.pid));
        await expect(open()).rejects.toThrow(DataDirLockedError);
        await expect(open()).rejects.toThrow(/already open in this process/);
        expect(fs.readFileSync(lockFile, 'utf8').trim()).toBe(String(process.pid));
        expect(await database.ping()).toBe(true);
      });

      it('refuses another process (npm run migrate) on the folder, naming the process that holds it', async () => {
        const res = await run('npx', ['tsx', 'src/cli/migrate.ts'], childEnv(location));
        expect(res.code).toBe(1);
        expect(res.stderr).toContain(`in use by process ${process.pid}`);
        // The refused process left our lock alone.
        expect(fs.readFileSync(path.join(location.dataDir, 'banli.lock'), 'utf8').trim()).toBe(String(process.pid));
        expect(await database.ping()).toBe(true);
      });

      it('takes over the lock left by a process that died', async () => {
        await database.close();
        const dead = spawn(process.execPath, ['-e', '']);
        const deadPid = dead.pid as number;
        await new Promise((r) => dead.on('exit', r));
        const lockFile = path.join(location.dataDir, 'banli.lock');
        fs.writeFileSync(lockFile, String(deadPid));
        database = await open();
        expect(fs.readFileSync(lockFile, 'utf8').trim()).toBe(String(process.pid));
        expect(await database.ping()).toBe(true);
      });

      it('refuses a folder whose lock belongs to a live process', async () => {
        await database.close();
        const alive = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
        const lockFile = path.join(location.dataDir, 'banli.lock');
        try {
          fs.writeFileSync(lockFile, String(alive.pid));
          await expect(open()).rejects.toThrow(`in use by process ${alive.pid}`);
        } finally {
          alive.kill();
          await new Promise((r) => alive.on('exit', r));
          fs.rmSync(lockFile, { force: true });
        }
        database = await open();
      });
    });
  }

  describe('the running service', () => {
    // The service opens the same database; the direct handle steps aside (PGlite allows one opener).
    beforeAll(async () => {
      await database.close();
    });

    it('GET /healthz answers 200 while the database is up', async () => {
      const h = await startHarness({ database: location, today: '2024-03-21' });
      lark = h.lark;
      try {
        const res = await fetch(`${h.service.url}/healthz`);
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ status: 'ok', database: backend });
      } finally {
        await h.stop();
      }
    });

    it('SIGTERM-style close() lets an in-flight request finish, and takes no new ones', async () => {
      const h = await startHarness({ database: location, today: '2024-03-21', ...(lark ? { lark } : {}) });
      const hold = await holdConnections(h.service.database.db, poolSize(backend));
      const health = watch(fetch(`${h.service.url}/healthz`));
      await sleep(200);
      expect(health.settled()).toBe(false); // waiting for a connection

      const closing = watch(h.service.close());
      await sleep(200);
      expect(closing.settled()).toBe(false); // waiting for the request
      await expect(fetch(`${h.service.url}/healthz`)).rejects.toThrow();

      hold.release();
      const res = await health.promise;
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok', database: backend });
      // The answered request's keep-alive connection must not hold shutdown until the client drops it.
      const answeredAt = Date.now();
      await closing.promise;
      expect(Date.now() - answeredAt).toBeLessThan(2500);
      await hold.done;
      expect(await h.service.database.ping()).toBe(false);
    });

    it('a message is acknowledged only once it is stored, and close() finishes it before the database closes', async () => {
      const h = await startHarness({ database: location, today: '2024-03-21', ...(lark ? { lark } : {}) });
      const ids = await seedCases(h, [{ caseNo: '20240579' }]);
      const caseId = ids.get('20240579') as number;
      const hold = await holdConnections(h.service.database.db, poolSize(backend));
      const acked = watch(
        h.events.message({
          chatId: GROUP,
          chatType: 'group',
          senderOpenId: USERS.wang.openId,
          text: '@_user_1 认领 20240579',
          mentions: [{ key: '@_user_1', openId: h.lark.botOpenId, name: 'Banli' }],
          messageId: uid('om'),
        }),
      );
      // Nothing can be written while every connection is taken, so Lark has no answer yet (it would resend).
      await sleep(300);
      expect(acked.settled()).toBe(false);
      const closing = watch(h.service.close());
      await sleep(300);
      expect(closing.settled()).toBe(false);
      hold.release();
      expect((await acked.promise).status).toBe(200);
      await closing.promise;
      await hold.done;

      // After shutdown, the claim is in the database with its answer queued or sent.
      const after = await open();
      try {
        const row = await after.db.selectFrom('cases').select(['handler_open_id', 'status']).where('id', '=', caseId).executeTakeFirstOrThrow();
        expect(row).toEqual({ handler_open_id: USERS.wang.openId, status: 'in_progress' });
        const out = await after.db.selectFrom('outbox').select(['content', 'status']).where('op', '=', 'reply').execute();
        expect(out.map((o) => JSON.stringify(o.content)).join('\n')).toContain('已认领案件 20240579');
      } finally {
        await after.close();
      }
    });

    it('GET /healthz answers 503 once the database is gone under the running service', async () => {
      const h = await startHarness({ database: location, today: '2024-03-21', ...(lark ? { lark } : {}) });
      try {
        expect((await fetch(`${h.service.url}/healthz`)).status).toBe(200);
        if (backend === 'postgres') {
          // The database is dropped under the service (its connections are terminated).
          const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
          await admin.connect();
          try {
            const name = new URL(location.url as string).pathname.slice(1);
            await admin.query(`drop database ${name} with (force)`);
          } finally {
            await admin.end();
          }
        } else {
          await h.service.database.close();
        }
        const res = await fetch(`${h.service.url}/healthz`);
        expect(res.status).toBe(503);
        expect(await res.json()).toEqual({ status: 'unavailable', database: backend });
      } finally {
        // Shutting down must still work with the database gone.
        await h.stop();
      }
    });
  });
});
