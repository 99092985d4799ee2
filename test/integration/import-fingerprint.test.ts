import { afterAll, beforeAll, expect, it } from 'vitest';
import { createWorkCalendar } from '../../src/domain/calendar.ts';
import { createClocks } from '../../src/domain/clocks.ts';
import { applyImportPlan, planImport } from '../../src/import/apply.ts';
import { ImportWatch, importFileDigest, unchangedSinceLastImport } from '../../src/import/fingerprint.ts';
import type { ImportedCase } from '../../src/import/validate.ts';
import type { Database, Trx } from '../../src/storage/database.ts';
import { describeOnBackends, openTestDatabase } from '../support/harness.ts';

// The command-line import remembers its last commit so that the same file imported again onto an unchanged database
// is answered without comparing row by row. It must remember exactly when nothing but the import itself changed the
// cases, whatever the import wrote, and never when something else did.

const clocks = createClocks(createWorkCalendar());
const ROWS = 30;
const batch = (title: (i: number) => string): ImportedCase[] =>
  Array.from({ length: ROWS }, (_, i) => ({
    row: i + 2, caseNo: `2024${String(i).padStart(4, '0')}`, kind: '建议', year: 2024, session: '', title: title(i),
    proposer: '', roleLabel: '主办', role: 'lead', leadUnit: '', assistingUnits: [], unit: null,
    assignedDate: '2024-03-20', fixedDueDate: null, disclosure: null,
  }));

describeOnBackends('remembering the last import', (backend) => {
  let opened: Awaited<ReturnType<typeof openTestDatabase>>;
  let database: Database;

  /** An import commit as the CLI makes it; `meanwhile` runs between the plan and the end, as a change the plan never saw. */
  const commit = (digest: string, cases: ImportedCase[], meanwhile?: (trx: Trx) => Promise<unknown>) =>
    database.db.transaction().execute(async (trx) => {
      const watch = await ImportWatch.start(trx);
      const plan = await planImport(trx, cases, clocks);
      await watch.beforeWrites(trx, plan.items.flatMap((i) => (i.action === 'update' ? [i.caseId] : [])));
      await applyImportPlan(trx, plan, null, 'batch.xlsx');
      if (meanwhile) await meanwhile(trx);
      await watch.remember(trx, digest, { rows: cases.length, warnings: [] }, plan.counts.create);
      return plan.counts;
    });

  beforeAll(async () => {
    opened = await openTestDatabase(backend);
    database = opened.database;
  }, 180_000);
  afterAll(async () => {
    await opened?.close();
  });

  it('remembers a commit that created cases, and one that updated some of them', async () => {
    const first = importFileDigest('a.xlsx', Buffer.from('first'));
    expect(await commit(first, batch((i) => `建议${i}`))).toEqual({ create: ROWS, update: 0, unchanged: 0 });
    expect(await unchangedSinceLastImport(database.db, first)).toEqual({ rows: ROWS, warnings: [] });

    const second = importFileDigest('a.xlsx', Buffer.from('second'));
    expect(await commit(second, batch((i) => (i % 7 === 0 ? `建议${i}（更正）` : `建议${i}`)))).toEqual({ create: 0, update: 5, unchanged: ROWS - 5 });
    expect(await unchangedSinceLastImport(database.db, second)).toEqual({ rows: ROWS, warnings: [] });
    // Only the last commit is remembered.
    expect(await unchangedSinceLastImport(database.db, first)).toBeUndefined();
  });

  it('forgets it once a case changes afterwards, and does not remember a commit during which another change landed', async () => {
    const digest = importFileDigest('b.xlsx', Buffer.from('b'));
    await commit(digest, batch((i) => `建议${i}`));
    expect(await unchangedSinceLastImport(database.db, digest)).toBeDefined();
    await database.db.updateTable('cases').set({ title: '在机器人里改过' }).where('case_no', '=', '20240003').execute();
    expect(await unchangedSinceLastImport(database.db, digest)).toBeUndefined();

    // A change the plan did not see (on PostgreSQL the bot may commit one while the import runs).
    await commit(digest, batch((i) => `建议${i}`), (trx) => trx.updateTable('cases').set({ proposer: '某代表' }).where('case_no', '=', '20240009').execute());
    expect(await unchangedSinceLastImport(database.db, digest)).toBeUndefined();
  });
});
