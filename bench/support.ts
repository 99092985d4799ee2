import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import pino from 'pino';
import { loadConfig, type Config } from '../src/config.ts';
import { startService, type Service } from '../src/runtime.ts';
import { startLarkEmulator, type EmulatorUser, type LarkEmulator } from '../test/support/lark/emulator.ts';

// What the benches share: a Banli on a scratch database (a temporary PGlite folder, or a scratch PostgreSQL database
// next to the one DATABASE_URL names), the Lark emulator, and the arithmetic of the figures.

export type Backend = 'pglite' | 'pglite-main-thread' | 'postgres';

/** The backends to measure: PGlite always; PostgreSQL when DATABASE_URL is set. */
export function backends(): Backend[] {
  const list = (process.env.BENCH_BACKENDS ?? '').split(',').map((s) => s.trim()).filter(Boolean) as Backend[];
  if (list.length > 0) return list;
  return process.env.DATABASE_URL ? ['postgres', 'pglite'] : ['pglite'];
}

export function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

export interface Figures {
  n: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
}

export function figures(latencies: number[], totalMs: number): Figures {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    n: sorted.length,
    seconds: totalMs / 1000,
    perSecond: sorted.length / (totalMs / 1000),
    p50: pct(sorted, 50),
    p99: pct(sorted, 99),
    max: sorted[sorted.length - 1] ?? 0,
  };
}

export const show = (f: Figures) => `${f.perSecond.toFixed(0)}/s, p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms, max ${f.max.toFixed(1)} ms (${f.n} in ${f.seconds.toFixed(2)} s)`;

/** Runs `total` jobs with `concurrency` in flight; returns each job's latency (ms) and the wall time. */
export async function runPool(total: number, concurrency: number, job: (i: number) => Promise<void>): Promise<{ latencies: number[]; totalMs: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const t0 = performance.now();
        await job(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies, totalMs: performance.now() - started };
}

export interface BenchBanli {
  service: Service;
  lark: LarkEmulator;
  config: Config;
  stop(): Promise<void>;
}

/** Starts Banli on a scratch database of `backend`, against the Lark emulator. */
export async function startBanli(backend: Backend, env: Record<string, string>, users: EmulatorUser[] = []): Promise<BenchBanli> {
  const lark = await startLarkEmulator({ users, perChatQps: 10_000, perAppQps: 100_000 });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'banli-bench-'));
  const scratch = `banli_bench_${process.pid}_${Date.now().toString(36)}`;
  let url: string | undefined;
  if (backend === 'postgres') {
    if (!process.env.DATABASE_URL) throw new Error('the postgres bench needs DATABASE_URL');
    await admin(`create database ${scratch}`);
    const u = new URL(process.env.DATABASE_URL);
    u.pathname = `/${scratch}`;
    url = u.toString();
  }
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    LARK_APP_ID: lark.appId,
    LARK_APP_SECRET: lark.appSecret,
    LARK_DOMAIN: lark.url,
    ...(url ? { DATABASE_URL: url } : { BANLI_DATA_DIR: dataDir }),
    ...(backend === 'pglite-main-thread' ? { BANLI_EMBEDDED_DB_THREAD: 'main' } : {}),
    ...env,
  });
  const service = await startService(config, { logger: pino({ level: 'silent' }), now: () => new Date('2024-03-21T10:00:00+08:00') });
  return {
    service,
    lark,
    config,
    stop: async () => {
      await service.close();
      await lark.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (url) await admin(`drop database if exists ${scratch} with (force)`);
    },
  };
}

async function admin(q: string): Promise<void> {
  const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await c.connect();
  try {
    await c.query(q);
  } finally {
    await c.end();
  }
}

/** A throw-away database for one bench run: a temporary PGlite folder, and with DATABASE_URL also a scratch
 *  PostgreSQL database beside it (databaseUrl); drop() removes both. */
export async function scratchDatabase(name: string): Promise<{ dataDir: string; databaseUrl: string | undefined; drop(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `banli-bench-${name}-`));
  const scratchDb = `banli_bench_${name}_${process.pid}`;
  const adminQuery = async (q: string): Promise<void> => {
    const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await c.connect();
    await c.query(q);
    await c.end();
  };
  let databaseUrl: string | undefined;
  if (process.env.DATABASE_URL) {
    await adminQuery(`create database ${scratchDb}`);
    const u = new URL(process.env.DATABASE_URL);
    u.pathname = `/${scratchDb}`;
    databaseUrl = u.toString();
  }
  return {
    dataDir,
    databaseUrl,
    drop: async () => {
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (databaseUrl) await adminQuery(`drop database if exists ${scratchDb} with (force)`);
    },
  };
}

/** With BENCH_PROFILE=<dir>, runs `fn` under the V8 CPU profiler of this thread and writes `<dir>/<name>.cpuprofile`
 *  (open it in Chrome DevTools, or summarise it with `node bench/profile-summary.mjs <file>`). */
export async function profiled<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const dir = process.env.BENCH_PROFILE;
  if (!dir) return fn();
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}
