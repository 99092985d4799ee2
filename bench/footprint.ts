// Prints what a bureau's small server has to carry: the resident memory of the running service on each database,
// idle after start and after importing the samples, next to PGlite's own footprint measured in the same run; and the
// time and peak memory of importing 10,000 rows (first import, the same file again, and the same rows in another
// file, which is compared row by row) on each database.
// Not a test: nothing here passes or fails. Run after a build:
//   npm run bench:footprint                        (PostgreSQL at postgres://postgres@127.0.0.1:5432/postgres, or
//   BENCH_ADMIN_URL=postgres://… npm run bench:footprint    creates and drops scratch databases there)
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('../../', import.meta.url)); // dist/bench/ → the project
const SAMPLES = ['cases-2024-npc.csv', 'cases-2021-cppcc.csv'].map((f) => path.resolve(ROOT, '../shared/samples', f));
const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 10_000);
// The node flags and allocator setting `npm start` and the README's systemd unit use.
const NODE_FLAGS = ['--max-semi-space-size=1'];
const NODE_ENV_EXTRA = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '32768' };

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'banli-footprint-'));
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const secs = (r: { ms: number; cpuMs: number }) => `${(r.ms / 1000).toFixed(2)} s wall (${(r.cpuMs / 1000).toFixed(2)} s CPU)`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** VmRSS or VmHWM (kB) of one process, 0 once it is gone. */
function procKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The process and all its descendants. */
function tree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, ppid] of parent) if (ppid === out[i]) out.push(pid);
  return out;
}

/** CPU time (user + system) a process has used so far, in ms: on a shared machine this says more than wall time. */
function cpuMsOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

const treeRssKb = (root: number) => tree(root).reduce((n, pid) => n + procKb(pid, 'VmRSS'), 0);

/**
 * The resident memory of the tree once idle: watched for a minute, then until it holds within 1 MB for 15 seconds.
 * V8 gives memory back in a collection of its own some 10-40 seconds after a process stops allocating; a reading
 * taken as soon as the figure held still for a few seconds came before it, 7-10 MB high for the service.
 */
async function idleRssKb(root: number): Promise<number> {
  let last = treeRssKb(root);
  let still = 0;
  for (let i = 0; i < 120 && (i < 60 || still < 15); i++) {
    await sleep(1000);
    const now = treeRssKb(root);
    still = Math.abs(now - last) < 1024 ? still + 1 : 0;
    last = now;
  }
  return last;
}

/** The environment of a child: the service's allocator settings unless `asCli` (the CLIs run with plain node). */
function nodeEnv(extra: Record<string, string>, asCli = false): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...(asCli ? {} : NODE_ENV_EXTRA), LOG_LEVEL: 'warn', ...extra };
  if (!extra.DATABASE_URL) delete env.DATABASE_URL;
  return env;
}

interface Started {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

/** The service as `npm start` runs it, on a free port; resolves once /readyz says ready. */
async function startService(dbEnv: Record<string, string>): Promise<Started> {
  const port = 30_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(process.execPath, [...NODE_FLAGS, 'dist/src/main.js'], {
    cwd: ROOT,
    // A configured Feishu app (without one, npm start is the sandbox); its domain answers nothing, so the service
    // idles as a real one between messages.
    env: nodeEnv({ ...dbEnv, PORT: String(port), HOST: '127.0.0.1', LARK_APP_ID: 'cli_0123456789abcdef', LARK_APP_SECRET: 'bench', LARK_DOMAIN: 'http://127.0.0.1:9', LARK_VERIFICATION_TOKEN: 'bench' }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited: ${err}`);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error('the service did not become ready');
    await sleep(200);
  }
  return {
    child,
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** `npm run import -- FILE --commit` as its compiled CLI; wall time and peak resident memory of its processes. */
async function runImport(dbEnv: Record<string, string>, file: string): Promise<{ ms: number; cpuMs: number; peakKb: number; out: string }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['dist/src/cli/import.js', file, '--commit'], { cwd: ROOT, env: nodeEnv(dbEnv, true), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const peaks = new Map<number, number>();
  const cpu = new Map<number, number>();
  const timer = setInterval(() => {
    for (const pid of tree(child.pid as number)) {
      peaks.set(pid, Math.max(peaks.get(pid) ?? 0, procKb(pid, 'VmHWM')));
      cpu.set(pid, Math.max(cpu.get(pid) ?? 0, cpuMsOf(pid)));
    }
  }, 20);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`import failed (${code}): ${out}`);
  return { ms, cpuMs: [...cpu.values()].reduce((a, b) => a + b, 0), peakKb: [...peaks.values()].reduce((a, b) => a + b, 0), out };
}

/** PGlite alone: a process that opens the same data folder, runs one query and idles; its resident memory. */
async function pgliteAloneKb(dataDir: string): Promise<number> {
  const code = `
    const { PGlite } = await import(${JSON.stringify(import.meta.resolve('@electric-sql/pglite'))});
    const db = await PGlite.create({ dataDir: ${JSON.stringify(path.join(dataDir, 'pgdata'))} });
    await db.query('select 1');
    process.stdout.write('open\\n');
    process.on('SIGTERM', async () => { await db.close(); process.exit(0); });
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, [...NODE_FLAGS, '--input-type=module', '-e', code], { env: nodeEnv({}), stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`PGlite alone exited (${c})`)));
  });
  const kb = await idleRssKb(child.pid as number);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return kb;
}

async function writeBatch(file: string, rows: number, titleSuffix = '', sheetName = '2024年建议'): Promise<void> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet(sheetName);
  ws.addRow(['案号', '类别', '届次', '案由', '提出人', '办理类别', '主办单位', '会办单位', '交办日期', '答复期限', '公开情况']);
  for (let i = 0; i < rows; i++) {
    ws.addRow([
      `2024${String(i).padStart(5, '0')}`,
      '建议',
      '市七届人大五次会议',
      `关于第${i}项民生事项的建议${titleSuffix}`,
      `代表${i % 300}`,
      i % 5 === 0 ? '会办' : '主办',
      '市民政局',
      i % 3 === 0 ? '市财政局;市卫健委' : '',
      '2024-03-20',
      '',
      '主动公开',
    ]);
  }
  await wb.xlsx.writeFile(file);
}

async function withScratchDb<T>(name: string, fn: (url: string) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString());
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

const lines: string[] = [];
const say = (line: string) => {
  lines.push(line);
  console.log(line);
};

try {
  for (const f of SAMPLES) if (!fs.existsSync(f)) throw new Error(`sample not found: ${f}`);
  const batch = path.join(work, `batch-${ROWS}.xlsx`);
  await writeBatch(batch, ROWS);
  // The same rows in a file that is not byte for byte the same: the import compares them row by row.
  const resaved = path.join(work, `batch-${ROWS}-resaved.xlsx`);
  await writeBatch(resaved, ROWS, '', '台账');
  say(`node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; service started as: node ${NODE_FLAGS.join(' ')} dist/src/main.js (${Object.entries(NODE_ENV_EXTRA).map(([k, v]) => `${k}=${v}`).join(' ')})`);

  // ---- Embedded database (PGlite) ----
  {
    const dataDir = path.join(work, 'data');
    const env = { BANLI_DATA_DIR: dataDir };
    let s = await startService(env);
    const firstStart = await idleRssKb(s.child.pid as number);
    await s.stop();
    s = await startService(env);
    const restart = await idleRssKb(s.child.pid as number);
    await s.stop();
    // The embedded database admits one process: the office imports with the service stopped.
    for (const f of SAMPLES) await runImport(env, f);
    s = await startService(env);
    const afterImport = await idleRssKb(s.child.pid as number);
    await s.stop();
    const alone = await pgliteAloneKb(dataDir);
    say('');
    say('PGlite (embedded), resident memory of the service process(es), idle:');
    say(`  PGlite alone on the same data, same node flags: ${mb(alone)}   (target: service ≤ 1.2 × this = ${mb(alone * 1.2)})`);
    say(`  after the first start (database created): ${mb(firstStart)}   ratio ${(firstStart / alone).toFixed(2)}`);
    say(`  after a restart:                           ${mb(restart)}   ratio ${(restart / alone).toFixed(2)}`);
    say(`  after importing the samples, restarted:   ${mb(afterImport)}   ratio ${(afterImport / alone).toFixed(2)}`);

    const first = await runImport(env, batch);
    const again = await runImport(env, batch);
    say(`  import ${ROWS} rows (.xlsx, --commit): ${secs(first)}, peak ${mb(first.peakKb)}   (targets: ≤ 5 s, < 400 MB)`);
    say(`  the same file again (unchanged):     ${secs(again)}, peak ${mb(again.peakKb)}   (target: ≤ 2 s)`);
    if (!again.out.includes(`未变化 ${ROWS} 件`)) say(`  !! re-import did not report ${ROWS} unchanged`);
    const compared = await runImport(env, resaved);
    say(`  the same rows, another file (compared row by row): ${secs(compared)}, peak ${mb(compared.peakKb)}`);
    if (!compared.out.includes(`未变化 ${ROWS} 件`)) say(`  !! the resaved file did not report ${ROWS} unchanged`);
  }

  // ---- PostgreSQL ----
  await withScratchDb(`banli_footprint_${process.pid}`, async (url) => {
    const env = { DATABASE_URL: url };
    const s = await startService(env);
    const afterStart = await idleRssKb(s.child.pid as number);
    for (const f of SAMPLES) await runImport(env, f);
    const afterImport = await idleRssKb(s.child.pid as number);
    await s.stop();
    say('');
    say('PostgreSQL, resident memory of the service process(es), idle (target: ≤ 120 MB):');
    say(`  after start:                  ${mb(afterStart)}`);
    say(`  after importing the samples:  ${mb(afterImport)}`);
    const first = await runImport(env, batch);
    const again = await runImport(env, batch);
    say(`  import ${ROWS} rows (.xlsx, --commit): ${secs(first)}, peak ${mb(first.peakKb)}   (targets: ≤ 5 s, < 400 MB)`);
    say(`  the same file again (unchanged):     ${secs(again)}, peak ${mb(again.peakKb)}   (target: ≤ 2 s)`);
    if (!again.out.includes(`未变化 ${ROWS} 件`)) say(`  !! re-import did not report ${ROWS} unchanged`);
    const compared = await runImport(env, resaved);
    say(`  the same rows, another file (compared row by row): ${secs(compared)}, peak ${mb(compared.peakKb)}`);
    if (!compared.out.includes(`未变化 ${ROWS} 件`)) say(`  !! the resaved file did not report ${ROWS} unchanged`);
  });
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
