import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, startHarness } from '../support/harness.ts';

// The service as an operator runs it: a real process on the embedded database, stopped with SIGTERM; and the
// long-connection mode, which must not open the webhook door.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// `npm start` runs the compiled service; build it (a no-op when dist/ is current) so this file also runs on its own.
beforeAll(() => {
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-b'], { cwd: ROOT, stdio: 'inherit' });
}, 120_000);

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function run(dataDir: string): Running {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', BANLI_DATA_DIR: dataDir, LOG_LEVEL: 'info', LARK_VERIFICATION_TOKEN: 't' };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, ['--max-semi-space-size=1', 'dist/src/main.js'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

// A first start creates the database; on a loaded CI machine that alone can take most of a minute.
async function portOf(r: Running, timeoutMs = 180_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const line of r.output().split('\n')) {
      try {
        const log = JSON.parse(line) as { msg?: string; port?: number };
        if (log.msg === 'banli started' && log.port) return log.port;
      } catch {
        // not a log line
      }
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`the service did not start:\n${r.output()}`);
}

describe('the service process on the embedded database', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'banli-process-'));
  // Without LARK_APP_ID, npm start is the sandbox, which keeps its database beside the configured folder.
  const sandboxDir = `${dataDir}-sandbox`;
  afterAll(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(sandboxDir, { recursive: true, force: true });
  });

  it('starts compiled with plain node and no set-up, answers /healthz, refuses a second process on its folder, and stops cleanly on SIGTERM', async () => {
    const first = run(dataDir);
    try {
      const port = await portOf(first); // the sandbox also starts its Lark emulator and loads the sample cases
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok', database: 'pglite' });
      const firstLine = JSON.parse(first.output().split('\n')[0] ?? '{}') as { msg?: string };
      expect(firstLine.msg).toMatch(/^sandbox mode .*http:\/\/localhost:0\/sandbox/);
      expect((await fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual' })).headers.get('location')).toBe('/sandbox');
      expect(fs.readFileSync(path.join(sandboxDir, 'banli.lock'), 'utf8').trim()).toBe(String(first.child.pid));

      const second = run(dataDir);
      expect(await second.exited).not.toBe(0);
      expect(second.output()).toContain(`in use by process ${first.child.pid}`);

      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(first.output()).toContain('banli stopped');
      expect(fs.existsSync(path.join(sandboxDir, 'banli.lock'))).toBe(false);
    } finally {
      first.child.kill('SIGKILL');
    }
  }, 300_000);
});

describe('LARK_MODE=ws', () => {
  it('serves /healthz but has no webhook: events come through the long connection only', async () => {
    const db = await createTestDatabase('pglite');
    const h = await startHarness({ database: db, env: { LARK_MODE: 'ws' } });
    try {
      expect(h.config.lark.mode).toBe('ws');
      expect((await fetch(`${h.service.url}/healthz`)).status).toBe(200);
      const res = await h.events.urlVerification('c');
      expect(res.status).toBe(404);
    } finally {
      await h.stop();
      await h.lark.close();
      await db.drop();
    }
    // Creating the embedded database takes most of this on a loaded machine.
  }, 180_000);
});
