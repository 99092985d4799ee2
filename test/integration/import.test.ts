import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { applyDecision, loadCaseState } from '../../src/cases/case.repository.ts';
import { timelineLine } from '../../src/domain/timeline.ts';
import { createWorkCalendar } from '../../src/domain/calendar.ts';
import { createClocks } from '../../src/domain/clocks.ts';
import type { CaseState } from '../../src/domain/types.ts';
import { decide } from '../../src/domain/workflow.ts';
import { planImport } from '../../src/import/apply.ts';
import { readImportFile } from '../../src/import/read.ts';
import { validateRows } from '../../src/import/validate.ts';
import { openDatabase, type Db } from '../../src/storage/database.ts';
import { createTestDatabase, describeOnBackends, USERS } from '../support/harness.ts';

// `npm run import` end to end: the CLI as a child process against a real database, the way the office runs it at
// the start of the year and again whenever the congress office sends a corrected list.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// The project sees shared/ beside its root (as CI does on a fresh clone).
const SAMPLES = fileURLToPath(new URL('../../../shared/samples', import.meta.url));
const NPC = path.join(SAMPLES, 'cases-2024-npc.csv');
const CPPCC = path.join(SAMPLES, 'cases-2021-cppcc.csv');

type SampleRow = Record<string, string>;
/** The sample as the office wrote it, read independently of the import code. */
const sampleRows = (file: string): SampleRow[] => parseCsv(fs.readFileSync(file), { bom: true, columns: true }) as SampleRow[];

interface Run {
  code: number | null;
  stdout: string;
  /** stderr without npm's own warnings. */
  stderr: string;
}

// Each run is a process that opens the database (and on the first run creates it): on a loaded CI machine that can
// take longer than the default 30 s.
vi.setConfig({ testTimeout: 90_000 });

// The CLI runs compiled, as `npm run import` does; build it (a no-op when dist/ is current) so this file runs alone too.
beforeAll(() => {
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-b'], { cwd: ROOT, stdio: 'inherit' });
}, 120_000);

/** `npm run import -- …` (or the compiled CLI directly, which is what npm runs after its build check, to spare npm's start-up). */
function runImport(location: { url?: string; dataDir: string }, args: string[], via: 'npm' | 'node' = 'node'): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent' };
  delete env.DATABASE_URL;
  delete env.BANLI_DATA_DIR;
  if (location.url) env.DATABASE_URL = location.url;
  else env.BANLI_DATA_DIR = location.dataDir;
  const [cmd, pre] = via === 'npm' ? ['npm', ['run', '--silent', 'import', '--']] : [process.execPath, ['dist/src/cli/import.js']];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...pre, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 80_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr: stderr.split('\n').filter((l) => !l.startsWith('npm warn')).join('\n').trim() });
    });
  });
}

const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean);

describeOnBackends('npm run import', (backend) => {
  let location: { url?: string; dataDir: string; drop(): Promise<void> };
  let work: string;

  /** Opens the database for a look and closes it again (the embedded one admits one process at a time). */
  async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    const database = await openDatabase({ url: location.url, dataDir: location.dataDir });
    try {
      return await fn(database.db);
    } finally {
      await database.close();
    }
  }
  const countIn = async (db: Db) => ({
    cases: Number((await db.selectFrom('cases').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n),
    events: Number((await db.selectFrom('case_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n),
  });
  const countRows = () => withDb(countIn);
  const casesByNo = (db: Db) => db.selectFrom('cases').selectAll().orderBy('id').execute();
  /** Every case row and the row counts, in one opening of the database. */
  const snapshot = () => withDb(async (db) => ({ rows: await casesByNo(db), counts: await countIn(db) }));

  beforeAll(async () => {
    location = await createTestDatabase(backend);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'banli-import-'));
  });
  afterAll(async () => {
    await location?.drop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('the dry run of the 2024 NPC sample lists every case and writes nothing', async () => {
    const expected = sampleRows(NPC);
    const res = await runImport(location, [NPC], 'npm');
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const out = lines(res.stdout);
    for (const [i, row] of expected.entries()) {
      expect(out).toContain(`新增 第${i + 2}行 建议 ${row['案号']}「${row['案由']}」，${row['办理类别']}，答复期限 2024-06-20`);
    }
    expect(out).toContain(`合计：新增 ${expected.length} 件，更新 0 件，未变化 0 件。`);
    expect(out.at(-1)).toBe('以上为预览（未写入）。确认无误后加 --commit 正式导入。');
    expect(await countRows()).toEqual({ cases: 0, events: 0 });
  });

  it('--commit imports it: every case unclaimed, due 3 months after assignment, each with an imported event', async () => {
    const expected = sampleRows(NPC);
    const res = await runImport(location, [NPC, '--commit'], 'npm');
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(lines(res.stdout).at(-1)).toBe('已导入。');
    await withDb(async (db) => {
      const rows = await casesByNo(db);
      expect(rows.map((r) => r.case_no)).toEqual(expected.map((r) => r['案号']));
      for (const [i, r] of rows.entries()) {
        const src = expected[i] as SampleRow;
        expect(r).toMatchObject({
          kind: '建议',
          year: 2024,
          session: src['届次'],
          title: src['案由'],
          role_label: src['办理类别'],
          role: src['办理类别'] === '分办' ? 'separate' : 'lead',
          lead_unit: src['主办单位'],
          assisting_units: src['会办单位'] ? src['会办单位'].split(';') : [],
          assigned_date: '2024-03-20',
          fixed_due_date: null,
          reply_due_date: '2024-06-20',
          disclosure: '主动公开',
          status: 'unclaimed',
          handler_open_id: null,
          round: 1,
          version: 1,
        });
      }
      const events = (await db.selectFrom('case_events').select(['case_id', 'type', 'facts']).orderBy('id').execute()).map((e) => ({
        ...e,
        note: timelineLine(e.facts),
      }));
      expect(events.map((e) => e.type)).toEqual(expected.map(() => 'imported'));
      expect(events[0]?.note).toBe('导入案件（cases-2024-npc.csv 第2行），答复期限 2024-06-20');
    });
  });

  it('the 2021 CPPCC sample: the dry run shows the fixed due dates, the commit keeps them as imported', async () => {
    const expected = sampleRows(CPPCC);
    const dry = await runImport(location, [CPPCC]);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toBe('');
    expect(lines(dry.stdout)).toContain(`合计：新增 ${expected.length} 件，更新 0 件，未变化 0 件。`);
    expect((await countRows()).cases).toBe(sampleRows(NPC).length);

    const res = await runImport(location, [CPPCC, '--commit']);
    expect(res.code).toBe(0);
    expect(res.stderr).toBe('');
    await withDb(async (db) => {
      const rows = await db.selectFrom('cases').selectAll().where('kind', '=', '提案').orderBy('id').execute();
      expect(rows.map((r) => [r.case_no, r.title, r.year, r.fixed_due_date, r.reply_due_date])).toEqual(
        // 2021-07-10 is a Saturday: a date the office fixed is kept, not rolled to a working day.
        expected.map((s) => [s['案号'], s['案由'], 2021, s['答复期限'], s['答复期限']]),
      );
      const total = sampleRows(NPC).length + expected.length;
      expect(await countIn(db)).toEqual({ cases: total, events: total });
    });
  });

  it('importing the same file again changes nothing: no new timeline events, no new versions', async () => {
    const before = await snapshot();
    const res = await runImport(location, [NPC, '--commit']);
    expect(res.code).toBe(0);
    expect(lines(res.stdout)).toEqual([`合计：新增 0 件，更新 0 件，未变化 ${sampleRows(NPC).length} 件。`, '已导入。']);
    const after = await snapshot();
    expect(after.counts).toEqual(before.counts);
    expect(after.rows.map((r) => [r.case_no, r.version, r.updated_at.toISOString()])).toEqual(
      before.rows.map((r) => [r.case_no, r.version, r.updated_at.toISOString()]),
    );
  });

  it('the same file again after the database changed is compared row by row, not taken as unchanged', async () => {
    // The last commit remembered this file; an edit made since (here by hand, as a restore or a fix in psql would)
    // must not be hidden behind that.
    const title = sampleRows(NPC).find((r) => r['案号'] === '20240562')?.['案由'] as string;
    await withDb((db) => db.updateTable('cases').set({ title: '手工改过的标题' }).where('case_no', '=', '20240562').execute());
    const res = await runImport(location, [NPC, '--commit']);
    expect(res.code).toBe(0);
    expect(lines(res.stdout)).toEqual([
      `更新 第2行 建议 20240562：案由 手工改过的标题 → ${title}`,
      `合计：新增 0 件，更新 1 件，未变化 ${sampleRows(NPC).length - 1} 件。`,
      '已导入。',
    ]);
    // Nothing changed since that commit: the next run is recognised again, and says what a full comparison says.
    const again = await runImport(location, [NPC]);
    expect(lines(again.stdout)).toEqual([`合计：新增 0 件，更新 0 件，未变化 ${sampleRows(NPC).length} 件。`, '以上为预览（未写入）。确认无误后加 --commit 正式导入。']);
  });

  it('a corrected file updates just the changed title and 答复期限, keeps the workflow state, and says so on the timeline', async () => {
    // 张三 has meanwhile claimed 20240562.
    await withDb(async (db) => {
      await db.insertInto('users').values({ open_id: USERS.zhang.openId, name: USERS.zhang.name }).execute();
      const id = (await db.selectFrom('cases').select('id').where('case_no', '=', '20240562').executeTakeFirstOrThrow()).id;
      const c = (await loadCaseState(db, id)) as CaseState;
      const actor = { ...USERS.zhang, roles: new Set<never>() };
      const d = decide(c, { type: 'claim', chatUnit: null }, actor, { today: '2024-03-21', clocks: createClocks(createWorkCalendar()), resultClasses: ['A', 'B', 'C'] });
      if (!d.ok) throw new Error(d.message);
      await db.transaction().execute((trx) => applyDecision(trx, c, d, actor));
    });
    const { rows: before, counts: beforeCounts } = await snapshot();

    const oldTitle = '关于加快推进老年社会监护服务中心相关立法及建设工作的建议';
    const newTitle = '关于加快推进老年人社会监护服务中心立法及建设的建议';
    const csv = fs
      .readFileSync(NPC, 'utf8')
      .replace(`20240562,建议,市七届人大五次会议,${oldTitle},`, `20240562,建议,市七届人大五次会议,${newTitle},`)
      .replace('20240252,建议,市七届人大五次会议,关于提升青年人群结婚率促进人口增长的建议,,分办,,,2024-03-20,,', '20240252,建议,市七届人大五次会议,关于提升青年人群结婚率促进人口增长的建议,,分办,,,2024-03-20,2024-07-31,');
    const corrected = path.join(work, 'cases-2024-npc-更正.csv');
    fs.writeFileSync(corrected, csv);
    expect(csv).toContain(newTitle);
    expect(csv).toContain('2024-03-20,2024-07-31,');

    const res = await runImport(location, [corrected, '--commit']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(lines(res.stdout)).toEqual([
      `更新 第2行 建议 20240562：案由 ${oldTitle} → ${newTitle}`,
      '更新 第3行 建议 20240252：答复期限 （空） → 2024-07-31；答复期限（计算） 2024-06-20 → 2024-07-31',
      `合计：新增 0 件，更新 2 件，未变化 ${before.length - 8 - 2} 件。`,
      '已导入。',
    ]);

    const { rows: after, counts: afterCounts } = await snapshot();
    for (const [i, a] of after.entries()) {
      const b = before[i] as (typeof before)[number];
      const { updated_at: _ua, version: va, ...restA } = a;
      const { updated_at: _ub, version: vb, ...restB } = b;
      if (a.case_no === '20240562') {
        expect(restA).toEqual({ ...restB, title: newTitle });
        // The claim made in the bot is untouched by the import.
        expect(a).toMatchObject({ status: 'in_progress', handler_open_id: USERS.zhang.openId });
        expect(va).toBe(vb + 1);
      } else if (a.case_no === '20240252') {
        expect(restA).toEqual({ ...restB, fixed_due_date: '2024-07-31', reply_due_date: '2024-07-31' });
        expect(va).toBe(vb + 1);
      } else {
        expect(a).toEqual(b);
      }
    }

    expect(afterCounts).toEqual({ cases: beforeCounts.cases, events: beforeCounts.events + 2 });
    await withDb(async (db) => {
      const events = await db
        .selectFrom('case_events')
        .innerJoin('cases', 'cases.id', 'case_events.case_id')
        .select(['cases.case_no', 'case_events.type', 'case_events.before', 'case_events.after', 'case_events.facts', 'case_events.actor_open_id'])
        .orderBy('case_events.id', 'desc')
        .limit(2)
        .execute()
        .then((rows) => rows.map(({ facts, actor_open_id, ...e }) => ({ ...e, note: timelineLine(facts), actor_open_id })));
      events.reverse();
      expect(events).toEqual([
        {
          case_no: '20240562',
          type: 'import_updated',
          before: { title: oldTitle },
          after: { title: newTitle },
          note: `导入更新（cases-2024-npc-更正.csv 第2行）：案由 ${oldTitle} → ${newTitle}`,
          actor_open_id: null,
        },
        {
          case_no: '20240252',
          type: 'import_updated',
          before: { fixed_due_date: null, reply_due_date: '2024-06-20' },
          after: { fixed_due_date: '2024-07-31', reply_due_date: '2024-07-31' },
          note: '导入更新（cases-2024-npc-更正.csv 第3行）：答复期限 （空） → 2024-07-31；答复期限（计算） 2024-06-20 → 2024-07-31',
          actor_open_id: null,
        },
      ]);
    });
  });

  it('a broken file prints every problem as row, column and reason, and writes nothing', async () => {
    const broken = path.join(work, 'cases-2025-broken.csv');
    fs.writeFileSync(
      broken,
      [
        '案号,类别,届次,案由,提出人,办理类别,主办单位,会办单位,交办日期,答复期限,公开情况',
        '20250101,建议,市七届人大六次会议,关于完善社区养老服务的建议,黄振辉,主办,市民政局,,2025-03-20,,主动公开',
        ',建议,市七届人大六次会议,关于加强殡葬管理的建议,,主办,市民政局,,2025-03-20,,主动公开',
        '20250103,建议,市七届人大六次会议,关于婚姻登记便民的建议,,主办,市民政局,,2025-02-30,,主动公开',
        '20250104,建议,市七届人大六次会议,关于社会组织培育的建议,,牵头,市民政局,,2025-03-20,,主动公开',
        '20250105,建议,市七届人大六次会议,关于儿童福利的建议,,主办,市民政局,,2025-03-20,,主动公开',
        '20250105,建议,市七届人大六次会议,关于儿童福利的建议（重复）,,主办,市民政局,,2025-03-20,,主动公开',
      ].join('\n'),
    );
    const before = await countRows();
    const res = await runImport(location, [broken, '--commit']);
    expect(res.code).toBe(1);
    expect(res.stdout.trim()).toBe('');
    const err = lines(res.stderr);
    expect(err).toEqual([
      '文件中有 4 处问题，未导入任何数据：',
      '第3行「案号」：必填，不能为空',
      '第4行「交办日期」：日期不存在“2025-02-30”：2025年2月只有28天',
      expect.stringMatching(/^第5行「办理类别」：无法识别的办理类别“牵头”，可用：.*主办/),
      '第7行「案号」：与第6行重复：2025年的建议“20250105”出现了两次',
    ]);
    await withDb(async (db) => {
      expect(await countIn(db)).toEqual(before);
      expect(await db.selectFrom('cases').select('id').where('year', '=', 2025).execute()).toEqual([]);
    });
  });

  it('an .xlsx saved from Excel (real date cells, numeric 案号) imports the same as its CSV', async () => {
    const rows = sampleRows(CPPCC);
    const headers = Object.keys(rows[0] as SampleRow);
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('2021年提案');
    sheet.addRow(headers);
    for (const r of rows) {
      sheet.addRow(
        headers.map((h) => {
          const v = r[h] ?? '';
          if ((h === '交办日期' || h === '答复期限') && v) return new Date(`${v}T00:00:00Z`);
          if (h === '案号') return Number(v);
          return v;
        }),
      );
    }
    sheet.getColumn(headers.indexOf('交办日期') + 1).numFmt = 'yyyy/m/d';
    const xlsx = path.join(work, 'cases-2021-cppcc.xlsx');
    await workbook.xlsx.writeFile(xlsx);

    const fromCsv = validateRows(await readImportFile(CPPCC));
    const fromXlsx = validateRows(await readImportFile(xlsx));
    expect(fromXlsx.problems).toEqual([]);
    expect(fromCsv.problems).toEqual([]);
    expect(fromXlsx.cases).toEqual(fromCsv.cases);
    expect(fromXlsx.cases).toHaveLength(rows.length);

    // Against the database that already holds the CSV's import, the workbook changes nothing.
    const { plan, before } = await withDb(async (db) => ({
      plan: await planImport(db, fromXlsx.cases, createClocks(createWorkCalendar())),
      before: await countIn(db),
    }));
    expect(plan.counts).toEqual({ create: 0, update: 0, unchanged: rows.length });

    // And the CLI reads it the same way.
    const res = await runImport(location, [xlsx, '--commit']);
    expect(res.code).toBe(0);
    expect(lines(res.stdout)).toEqual([`合计：新增 0 件，更新 0 件，未变化 ${rows.length} 件。`, '已导入。']);
    expect(await countRows()).toEqual(before);
  });
});
