// Claim clicks under load: 300 clicks on 认领, each on the card of its own case, 50 in flight at a time, signed and
// encrypted like Lark's callbacks. Each click is stored in the inbox, handled and answered inline (toast and redrawn
// card). Printed: clicks/s, p50/p99 of the answer, how many answers were the "正在处理" fallback, and the CPU time the
// run cost: this process (the service and the clicking thread) and the PostgreSQL server processes of the bench's
// database. The clicks are made from a worker thread (./click-client.ts), as Lark's servers are not inside Banli.
//   npm run bench:clicks                               (PGlite, in its worker thread and on the main thread)
//   DATABASE_URL=postgres://… npm run bench:clicks     (PostgreSQL too)
// BENCH_CLICKS (300) and BENCH_CONCURRENCY (50) change the load; BENCH_PROFILE=<dir> writes a CPU profile of the
// service's thread during the run. Not a test: nothing here passes or fails.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { applyImportPlan, planImport } from '../src/import/apply.ts';
import type { ImportedCase } from '../src/import/validate.ts';
import { clocksFor } from '../src/runtime.ts';
import { createEventSender } from '../test/support/lark/events.ts';
import type { ClickClientInput, ClickClientOutput } from './click-client.ts';
import { figures, profiled, runPool, show, startBanli, type Backend } from './support.ts';

const CLICKS = Number(process.env.BENCH_CLICKS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const ENCRYPT_KEY = 'bench-encrypt-key';
const TOKEN = 'bench-verification-token';
const STAFF = Array.from({ length: 50 }, (_, i) => ({ openId: `ou_staff_${i}`, name: `同事${i}` }));

async function measure(backend: Backend): Promise<void> {
  const banli = await startBanli(backend, { LARK_ENCRYPT_KEY: ENCRYPT_KEY, LARK_VERIFICATION_TOKEN: TOKEN }, STAFF);
  const { service, lark, config } = banli;
  const db = service.database.db;
  try {
    const cases: ImportedCase[] = Array.from({ length: CLICKS + 50 }, (_, i) => ({
      row: i + 2,
      caseNo: `2024${String(i).padStart(4, '0')}`,
      kind: '建议',
      year: 2024,
      session: '市七届人大五次会议',
      title: `关于第${i}项民生事项的建议`,
      proposer: '代表',
      roleLabel: '主办',
      role: 'lead',
      leadUnit: '市民政局',
      assistingUnits: [],
      unit: null,
      assignedDate: '2024-03-20',
      fixedDueDate: null,
      disclosure: '主动公开',
    }));
    await db.transaction().execute(async (trx) => applyImportPlan(trx, await planImport(trx, cases, clocksFor(config)), null, 'bench'));
    const ids = new Map((await db.selectFrom('cases').select(['id', 'case_no']).execute()).map((r) => [r.case_no, r.id]));
    const events = createEventSender({ url: `${service.url}/lark/webhook`, appId: lark.appId, verificationToken: TOKEN, encryptKey: ENCRYPT_KEY, emulator: lark });

    // Every case's card is in a chat, as after "查询 <案号>"; each of the 50 people has talked to the bot before
    // (their names are known). The first 50 cases warm the service up.
    const chatOf = (i: number) => `oc_bench_${i % 10}`;
    const cards: string[] = [];
    await runPool(cases.length, 10, async (i) => {
      const person = STAFF[i % STAFF.length]!;
      const messageId = `om_show_${i}`;
      await events.message({
        chatId: chatOf(i),
        chatType: 'group',
        senderOpenId: person.openId,
        text: `@_user_1 查询 ${cases[i]!.caseNo}`,
        mentions: [{ key: '@_user_1', openId: lark.botOpenId, name: '办理助手' }],
        messageId,
      });
      cards[i] = (await lark.waitFor((l) => l.sent.find((s) => s.replyTo === messageId && s.msgType === 'interactive'), 60_000)).messageId;
    });
    const click = async (i: number) => {
      const res = await events.cardAction({
        operatorOpenId: STAFF[i % STAFF.length]!.openId,
        openMessageId: cards[i]!,
        openChatId: chatOf(i),
        value: { action: 'claim', caseId: ids.get(cases[i]!.caseNo)! },
      });
      const body = (await res.json()) as { toast?: { type: string; content: string } };
      return { status: res.status, toast: body.toast };
    };
    await runPool(50, 10, (i) => click(CLICKS + i).then(() => undefined));

    const input: ClickClientInput = {
      url: `${service.url}/lark/webhook`,
      appId: lark.appId,
      verificationToken: TOKEN,
      encryptKey: ENCRYPT_KEY,
      concurrency: CONCURRENCY,
      clicks: Array.from({ length: CLICKS }, (_, i) => ({
        operatorOpenId: STAFF[i % STAFF.length]!.openId,
        openMessageId: cards[i]!,
        openChatId: chatOf(i),
        value: { action: 'claim', caseId: ids.get(cases[i]!.caseNo)! },
      })),
    };
    const database = backend === 'postgres' ? new URL(config.databaseUrl!).pathname.slice(1) : undefined;
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const pg0 = database ? postgresCpuMs(database) : 0;
    const w = (globalThis as any).__pgliteWorker; const e0 = w?.performance.eventLoopUtilization(); const m0 = performance.eventLoopUtilization(); // TEMP
    const run = await profiled(`clicks-${backend}`, () => clickFromWorker(input));
    if (w) console.log('TEMP worker ELU', w.performance.eventLoopUtilization(e0).utilization.toFixed(2), 'main ELU', performance.eventLoopUtilization(m0).utilization.toFixed(2)); // TEMP
    const cpu = process.cpuUsage(cpu0);
    const serviceBusyMs = performance.eventLoopUtilization(elu0).active;
    const pgMs = database ? postgresCpuMs(database) - pg0 : 0;
    const answers = run.answers;
    const f = figures(run.latencies, run.totalMs);
    const success = answers.filter((a) => a.toast?.type === 'success').length;
    const late = answers.filter((a) => a.toast?.content.includes('正在处理')).length;
    const claimed = await db.selectFrom('cases').select('id').where('handler_open_id', 'is not', null).execute();
    console.log(`\nclaim clicks [${backend}], ${CLICKS} clicks each on its own case, ${CONCURRENCY} at a time`);
    console.log(`  ${show(f)}`);
    console.log(
      `  CPU: this process ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms (${((cpu.user + cpu.system) / 1000 / CLICKS).toFixed(1)} ms a click)` +
        (database ? `, PostgreSQL server ${pgMs.toFixed(0)} ms (${(pgMs / CLICKS).toFixed(1)} ms a click)` : ''),
    );
    console.log(
      `  busy: the service's main thread ${serviceBusyMs.toFixed(0)} ms (${(serviceBusyMs / CLICKS).toFixed(1)} ms a click), ` +
        `the clicking thread ${run.busyMs.toFixed(0)} ms (${(run.busyMs / CLICKS).toFixed(1)} ms a click)`,
    );
    console.log(`  answers: ${success} 已认领 inline, ${late} "正在处理" (finished from the inbox), ${CLICKS - success - late} other; cases claimed: ${claimed.length}/${CLICKS + 50}`);
    const target = backend === 'postgres' ? 'p99 ≤ 150 ms and ≥ 300 clicks/s' : 'p99 ≤ 500 ms';
    console.log(`  target: ${target}`);
  } finally {
    await banli.stop();
  }
}

const list = (process.env.BENCH_BACKENDS ?? '').split(',').map((s) => s.trim()).filter(Boolean) as Backend[];
const chosen: Backend[] = list.length > 0 ? list : process.env.DATABASE_URL ? ['postgres', 'pglite', 'pglite-main-thread'] : ['pglite', 'pglite-main-thread'];
for (const backend of chosen) await measure(backend);

/** Runs the clicks from a worker thread and returns what it measured. */
function clickFromWorker(input: ClickClientInput): Promise<ClickClientOutput> {
  const self = fileURLToPath(import.meta.url);
  const worker = new Worker(path.join(path.dirname(self), `click-client${path.extname(self)}`), { workerData: input });
  return new Promise((resolve, reject) => {
    worker.once('message', (out: ClickClientOutput) => {
      resolve(out);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

/** CPU time (ms) so far of the PostgreSQL server processes serving `database` (Linux: their /proc entries). */
function postgresCpuMs(database: string): number {
  const tick = 100; // USER_HZ
  let ms = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.startsWith('postgres:') || !cmdline.includes(` ${database} `)) continue;
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ms += ((Number(fields[11]) + Number(fields[12])) * 1000) / tick;
    } catch {
      // The process ended meanwhile.
    }
  }
  return ms;
}
