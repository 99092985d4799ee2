// Prints figures for the paths staff feel: importing a year's batch, claims through the webhook until the answer
// reaches Lark, and rendering a case card. Not a test: nothing here passes or fails.
//   npm run bench                 (embedded database)
//   DATABASE_URL=postgres://… npm run bench   (creates and drops a scratch database next to the one named)
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { buildCaseCard } from '../cards/index.ts';
import { loadCaseCardView } from '../src/cases/case.view.ts';
import { loadConfig } from '../src/config.ts';
import { applyImportPlan, planImport } from '../src/import/apply.ts';
import type { ImportedCase } from '../src/import/validate.ts';
import { clocksFor, startService } from '../src/runtime.ts';
import { startLarkEmulator } from '../test/support/lark/emulator.ts';
import { createEventSender } from '../test/support/lark/events.ts';
import { pct, scratchDatabase } from './support.ts';

const CASES = Number(process.env.BENCH_CASES ?? 1000);
const CLAIMS = Number(process.env.BENCH_CLAIMS ?? 200);


const scratch = await scratchDatabase('import');
const { dataDir, databaseUrl } = scratch;
const lark = await startLarkEmulator({ perChatQps: 1000, perAppQps: 10_000 });
const config = loadConfig({
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'silent',
  LARK_APP_ID: lark.appId,
  LARK_APP_SECRET: lark.appSecret,
  LARK_DOMAIN: lark.url,
  LARK_VERIFICATION_TOKEN: 'bench',
  ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { BANLI_DATA_DIR: dataDir }),
});
const service = await startService(config, { logger: pino({ level: 'silent' }), pollIntervalMs: 20, now: () => new Date('2024-03-21T10:00:00+08:00') });
const db = service.database.db;
try {
  const prefix = String(9000 + Math.floor(Math.random() * 999));
  const cases: ImportedCase[] = Array.from({ length: CASES }, (_, i) => ({
    row: i + 2,
    caseNo: `${prefix}${String(i).padStart(4, '0')}`,
    kind: '建议',
    year: 2024,
    session: '市七届人大五次会议',
    title: `关于第${i}项民生事项的建议`,
    proposer: '代表',
    roleLabel: i % 5 === 0 ? '会办' : '主办',
    role: i % 5 === 0 ? 'assisting' : 'lead',
    leadUnit: '市民政局',
    assistingUnits: ['市财政局'],
    unit: null,
    assignedDate: '2024-03-20',
    fixedDueDate: null,
    disclosure: '主动公开',
  }));
  let t = performance.now();
  await db.transaction().execute(async (trx) => applyImportPlan(trx, await planImport(trx, cases, clocksFor(config)), null, 'bench'));
  console.log(`import ${CASES} cases (one transaction): ${(performance.now() - t).toFixed(0)} ms`);
  t = performance.now();
  await db.transaction().execute(async (trx) => planImport(trx, cases, clocksFor(config)));
  console.log(`re-import dry run of ${CASES} unchanged cases: ${(performance.now() - t).toFixed(0)} ms`);

  const events = createEventSender({ url: `${service.url}/lark/webhook`, appId: lark.appId, verificationToken: 'bench', emulator: lark });
  const latencies: number[] = [];
  const start = performance.now();
  for (let i = 0; i < CLAIMS; i++) {
    const caseNo = cases[i]?.caseNo ?? '';
    const sentBefore = lark.sent.length;
    const t0 = performance.now();
    await events.message({ chatId: `oc_bench_${i % 50}`, chatType: 'p2p', senderOpenId: `ou_bench_${i % 7}`, text: `认领 ${caseNo}` });
    await lark.waitFor(() => lark.sent.length > sentBefore || null, 10_000);
    latencies.push(performance.now() - t0);
  }
  const total = performance.now() - start;
  latencies.sort((a, b) => a - b);
  console.log(
    `claim by message → answer delivered to Lark, ${CLAIMS} sequential over 50 chats: ${(CLAIMS / (total / 1000)).toFixed(1)}/s, ` +
      `p50 ${pct(latencies, 50).toFixed(1)} ms, p95 ${pct(latencies, 95).toFixed(1)} ms, max ${pct(latencies, 100).toFixed(1)} ms`,
  );

  const ids = (await db.selectFrom('cases').select('id').limit(100).execute()).map((r) => r.id);
  t = performance.now();
  let bytes = 0;
  for (const id of ids) {
    const view = await loadCaseCardView(db, id, { today: '2024-03-21', clocks: service.clocks, timeZone: 'Asia/Shanghai', resultClasses: config.resultClasses, maxRehandlings: config.maxRehandlings });
    bytes += Buffer.byteLength(JSON.stringify(view ? buildCaseCard(view) : {}));
  }
  console.log(`render ${ids.length} case cards from the database: ${((performance.now() - t) / ids.length).toFixed(2)} ms each, ${(bytes / ids.length / 1024).toFixed(1)} KB each`);
  console.log(`database: ${service.database.kind}`);
} finally {
  await service.close();
  await lark.close();
  await scratch.drop();
}
