// Prints how long the year-end report takes for a large year: 10,000 cases with their contacts, replies, ratings and
// follow-ups, read from the database, counted, and written as .xlsx and Markdown (the target: under 5 s).
// Not a test: nothing here passes or fails.
//   npm run bench:report                 (embedded database)
//   DATABASE_URL=postgres://… npm run bench:report   (a scratch database next to the one named, dropped afterwards)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildStatsCard, cardByteSize } from '../cards/index.ts';
import { loadConfig } from '../src/config.ts';
import { renderReportMarkdown, renderReportXlsx } from '../src/report/render.ts';
import { reportFigures } from '../src/report/report.service.ts';
import { openMigrated } from '../src/runtime.ts';
import { scratchDatabase } from './support.ts';

const CASES = Number(process.env.BENCH_REPORT_CASES ?? 10_000);
const scratch = await scratchDatabase('report');
const { dataDir, databaseUrl } = scratch;
const config = loadConfig({ LOG_LEVEL: 'silent', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { BANLI_DATA_DIR: dataDir }) });
const database = await openMigrated(config);
const db = database.db;
const ms = (t: number) => `${(performance.now() - t).toFixed(0)} ms`;
// The machine may be shared: CPU time says how much work it was, wall time how long it took here and now.
const cpu = (c: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(c);
  return `${((u.user + u.system) / 1000).toFixed(0)} ms CPU`;
};
try {
  let t = performance.now();
  const ROLES = [
    ['主办', 'lead'],
    ['承办', 'sole'],
    ['分办', 'separate'],
    ['会办', 'assisting'],
  ] as const;
  await db.insertInto('users').values({ open_id: 'ou_bench', name: '基准测试' }).execute();
  const handlers = Array.from({ length: 80 }, (_, i) => ({ open_id: `ou_handler_${i}`, name: `承办人${i}` }));
  await db.insertInto('users').values(handlers).execute();
  for (let start = 0; start < CASES; start += 1000) {
    const batch = Array.from({ length: Math.min(1000, CASES - start) }, (_, j) => {
      const i = start + j;
      const [label, role] = ROLES[i % 4]!;
      const status = i % 10 === 0 ? 'in_progress' : i % 10 === 1 ? 'replied' : i % 97 === 0 ? 'adjusted' : 'closed';
      return {
        kind: '建议',
        year: 2024,
        case_no: `2024${String(i).padStart(5, '0')}`,
        title: `关于进一步完善第${i}项民生服务保障体系的建议`,
        proposer: '代表',
        session: '市七届人大五次会议',
        lead_unit: '市民政局',
        assisting_units: '[]',
        role_label: label,
        role,
        unit: `第${i % 25}处`,
        assigned_date: '2024-03-20',
        reply_due_date: role === 'assisting' ? '2024-04-22' : '2024-06-20',
        disclosure: '主动公开',
        status,
        handler_open_id: `ou_handler_${i % 80}`,
      };
    });
    const ids = await db.insertInto('cases').values(batch).returning(['id', 'role', 'status']).execute();
    const replying = ids.filter((c) => c.role !== 'assisting');
    const answered = ids.filter((c) => c.status === 'closed' || c.status === 'replied');
    await db
      .insertInto('contacts')
      .values(replying.map((c) => ({ case_id: c.id, round: 1, contact_date: '2024-04-02', method: '电话', who: '', note: '', recorded_by: 'ou_bench' })))
      .execute();
    if (answered.length) {
      await db
        .insertInto('replies')
        .values(
          answered.map((c) => ({
            case_id: c.id,
            round: 1,
            kind: c.role === 'assisting' ? ('opinion' as const) : ('reply' as const),
            reply_date: c.id % 7 === 0 ? '2024-06-25' : '2024-06-10',
            result_class: c.role === 'assisting' ? null : 'ABC'[c.id % 3]!,
            disclosure: c.role === 'assisting' ? null : '主动公开',
            due_date: c.role === 'assisting' ? '2024-04-22' : '2024-06-20',
            recorded_by: 'ou_bench',
          })),
        )
        .execute();
    }
    const rated = answered.filter((c) => c.status === 'closed' && c.role !== 'assisting');
    if (rated.length) {
      await db
        .insertInto('ratings')
        .values(rated.map((c) => ({ case_id: c.id, round: 1, rating: c.id % 11 === 0 ? '基本满意' : '满意', rated_date: '2024-07-01', entered_by: 'ou_bench' })))
        .execute();
      await db
        .insertInto('follow_ups')
        .values(
          rated
            .filter((c) => c.id % 3 === 1)
            .map((c) => ({ case_id: c.id, round: 1, outcome: c.id % 2 ? ('changed' as const) : ('kept' as const), follow_up_date: '2024-10-01', note: '承诺事项因规划调整延后，已向代表说明', recorded_by: 'ou_bench' })),
        )
        .execute();
    }
  }
  console.log(`seed ${CASES} cases with contacts, replies, ratings, follow-ups (${database.kind}): ${ms(t)}`);

  const classes = config.resultClasses.map((c) => c.code);
  const total = performance.now();
  const totalCpu = process.cpuUsage();
  t = performance.now();
  const figures = await reportFigures(db, { year: 2024, asOf: '2024-12-31' }, classes);
  console.log(`read records and compute figures (${figures.total} counted, ${figures.adjustedOut.length} adjusted out): ${ms(t)}`);
  t = performance.now();
  const xlsx = await renderReportXlsx(figures);
  console.log(`write .xlsx (${(xlsx.length / 1024).toFixed(0)} KB, ${figures.bClass.length} B-class rows): ${ms(t)}`);
  t = performance.now();
  const md = renderReportMarkdown(figures);
  console.log(`write Markdown (${(Buffer.byteLength(md) / 1024).toFixed(0)} KB): ${ms(t)}`);
  const out = path.join(dataDir, 'report.xlsx');
  fs.writeFileSync(out, xlsx);
  console.log(`report of ${CASES} cases, database to .xlsx and .md: ${ms(total)} wall, ${cpu(totalCpu)} (target: under 5000 ms)`);
  console.log(`load average while measuring: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cores`);
  t = performance.now();
  const card = buildStatsCard({ title: '2024年建议办理统计', scopeLabel: '全部处室', figures });
  console.log(`stats card for ${CASES} cases: ${ms(t)}, ${(cardByteSize(card) / 1024).toFixed(1)} KB (limit 30 KB)`);
} finally {
  await database.close();
  await scratch.drop();
}
