import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Banli as a real process (`node --import tsx src/main.ts`), for tests that kill it the way an OOM killer or a power
// cut would.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface BanliProcess {
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  exited: Promise<number | null>;
  /** Resolves with the port once it logged "banli started". */
  port(timeoutMs?: number): Promise<number>;
  url(): Promise<string>;
}

/** Starts the service with exactly `env` (plus PATH); DATABASE_URL from the test's own environment is not passed. */
export function startBanliProcess(env: Record<string, string>): BanliProcess {
  const full: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env: full, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const port = async (timeoutMs = 30_000): Promise<number> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const line of out.split('\n')) {
        try {
          const log = JSON.parse(line) as { msg?: string; port?: number };
          if (log.msg === 'banli started' && log.port) return log.port;
        } catch {
          // not a log line
        }
      }
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the service did not start:\n${out}`);
  };
  return { child, output: () => out, exited, port, url: async () => `http://127.0.0.1:${await port()}` };
}
