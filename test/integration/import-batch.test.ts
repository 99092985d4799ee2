import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createWorkCalendar } from '../../src/domain/calendar.ts';
import { createClocks } from '../../src/domain/clocks.ts';
import { applyImportPlan, ImportConflictError, planImport } from '../../src/import/apply.ts';
import type { ImportedCase } from '../../src/import/validate.ts';
import type { Database } from '../../src/storage/database.ts';
import { describeOnBackends, openTestDatabase } from '../support/harness.ts';

// A year's batch is written in chunks of rows per statement (here 500, smaller than the default for new cases, so
// that this batch needs three). These stories cross the chunk boundaries:
// every row lands once, an unchanged file writes nothing, a corrected file updates exactly the changed rows (each
// with its timeline entry), and a case changed in the bot after the plan stops the whole import.

const clocks = createClocks(createWorkCalendar());

const ROWS = 1_234;
const batch = (title: (i: number) => string = (i) => `关于第${i}项民生事项的建议`): ImportedCase[] =>
  Array.from({ length: ROWS }, (_, i) => ({
    row: i + 2,
    caseNo: `2024${String(i).padStart(4, '0')}`,
    kind: '建议',
    year: 2024,
    session: '市七届人大五次会议',
    title: title(i),
    proposer: `代表${i}`,
    roleLabel: i % 5 === 0 ? '会办' : '主办',
    role: i % 5 === 0 ? 'assisting' : 'lead',
    leadUnit: '市民政局',
    assistingUnits: i % 3 === 0 ? ['市财政局', '市卫健委'] : [],
    unit: null,
    assignedDate: '2024-03-20',
    fixedDueDate: null,
    disclosure: '主动公开',
  }));

describeOnBackends('importing a batch larger than one statement', (backend) => {
  let opened: Awaited<ReturnType<typeof openTestDatabase>>;
  let database: Database;
  const count = async (table: 'cases' | 'case_events', type?: string) => {
    let q = database.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n'));
    if (type) q = (q as typeof q).where(sql.ref('type'), '=', type);
    return Number((await q.executeTakeFirstOrThrow()).n);
  };
  const importAll = (cases: ImportedCase[]) =>
    database.db.transaction().execute(async (trx) => {
      const plan = await planImport(trx, cases, clocks);
      const progress: number[] = [];
      await applyImportPlan(trx, plan, null, 'batch.xlsx', (done) => progress.push(done), { create: 500, update: 500 });
      return { plan, progress };
    });

  beforeAll(async () => {
    opened = await openTestDatabase(backend);
    database = opened.database;
    // Creating the embedded database alone can take a minute on a loaded machine.
  }, 180_000);
  afterAll(async () => {
    await opened?.close();
  });

  it(`creates all ${ROWS} cases, each with its own imported entry, reporting progress chunk by chunk`, async () => {
    const { plan, progress } = await importAll(batch());
    expect(plan.counts).toEqual({ create: ROWS, update: 0, unchanged: 0 });
    expect(progress).toEqual([500, 1000, ROWS]);
    expect(await count('cases')).toBe(ROWS);
    expect(await count('case_events', 'imported')).toBe(ROWS);
    const mismatched = await sql<{ n: number }>`
      select count(*)::int as n from case_events e join cases c on c.id = e.case_id
      where (e.facts->>'row')::int <> c.case_no::int - 20240000 + 2`.execute(database.db);
    expect(mismatched.rows[0]?.n).toBe(0);
    const c = await database.db.selectFrom('cases').selectAll().where('case_no', '=', '20240003').executeTakeFirstOrThrow();
    expect(c).toMatchObject({ assisting_units: ['市财政局', '市卫健委'], reply_due_date: '2024-06-20', status: 'unclaimed', version: 1 });
  });

  it('the same file again changes nothing and writes nothing', async () => {
    const { plan, progress } = await importAll(batch());
    expect(plan.counts).toEqual({ create: 0, update: 0, unchanged: ROWS });
    expect(progress).toEqual([]);
    expect(await count('case_events')).toBe(ROWS);
  });

  it('a corrected file updates exactly the rows it changed, across chunks, each change on that case’s timeline', async () => {
    const changed = (i: number) => i % 2 === 1;
    const cases = batch((i) => (changed(i) ? `关于第${i}项民生事项的建议（修订）` : `关于第${i}项民生事项的建议`));
    // One row also moves its assignment date: its due date follows, and the rest of its row is left alone.
    const moved = cases[7] as ImportedCase;
    cases[7] = { ...moved, assignedDate: '2024-04-01', fixedDueDate: null };
    const { plan } = await importAll(cases);
    expect(plan.counts).toEqual({ create: 0, update: ROWS / 2, unchanged: ROWS / 2 });
    expect(await count('case_events', 'import_updated')).toBe(ROWS / 2);
    const revised = await database.db.selectFrom('cases').select(['case_no', 'title', 'version']).where('title', 'like', '%（修订）').execute();
    expect(revised).toHaveLength(ROWS / 2);
    expect(revised.every((r) => changed(Number(r.case_no) - 20240000) && r.version === 2)).toBe(true);
    const untouched = await database.db.selectFrom('cases').select('version').where('case_no', '=', '20240002').executeTakeFirstOrThrow();
    expect(untouched.version).toBe(1);
    const row7 = await database.db.selectFrom('cases').selectAll().where('case_no', '=', '20240007').executeTakeFirstOrThrow();
    expect(row7).toMatchObject({ assigned_date: '2024-04-01', reply_due_date: '2024-07-01', title: '关于第7项民生事项的建议（修订）', proposer: '代表7', lead_unit: '市民政局' });
    const entry = await database.db.selectFrom('case_events').select(['before', 'after', 'facts']).where('type', '=', 'import_updated').where('case_id', '=', row7.id).executeTakeFirstOrThrow();
    expect(entry.before).toEqual({ title: '关于第7项民生事项的建议', assigned_date: '2024-03-20', reply_due_date: '2024-06-20' });
    expect(entry.after).toEqual({ title: '关于第7项民生事项的建议（修订）', assigned_date: '2024-04-01', reply_due_date: '2024-07-01' });
    expect(entry.facts).toMatchObject({ type: 'import_updated', source: 'batch.xlsx', row: 9 });
  });

  it('a case changed in the bot after the plan was made stops the import, and nothing of it is written', async () => {
    const cases = batch((i) => `关于第${i}项民生事项的建议（二次修订）`);
    const before = await count('case_events');
    await expect(
      database.db.transaction().execute(async (trx) => {
        const plan = await planImport(trx, cases, clocks);
        // Someone claims case 1,100 (in the third chunk) between the plan and the write.
        await trx.updateTable('cases').set({ version: sql<number>`version + 1` }).where('case_no', '=', '20241100').execute();
        await applyImportPlan(trx, plan, null, 'batch.xlsx');
      }),
    ).rejects.toThrow(ImportConflictError);
    expect(await count('case_events')).toBe(before);
    expect(await database.db.selectFrom('cases').select('id').where('title', 'like', '%二次修订%').execute()).toEqual([]);
  });
});
