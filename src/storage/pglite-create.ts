import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// Creating a PGlite database (initdb) grows its WebAssembly memory to about 800 MB, and WebAssembly memory never
// shrinks: a service that created its database at start would carry that until restarted, more than twice what the
// same database costs when merely opened. So a new database is created by a short-lived process of its own, and the
// service then opens it like any existing one.

const PGLITE_ENTRY = import.meta.resolve('@electric-sql/pglite');

/** Whether `pgdata` already holds a database (PostgreSQL writes PG_VERSION when a cluster is created). */
export function embeddedDatabaseExists(pgdata: string): boolean {
  return fs.existsSync(path.join(pgdata, 'PG_VERSION'));
}

/** Creates the embedded database in `pgdata` in a separate process, unless it exists; rejects when creating fails. */
export async function createEmbeddedDatabaseApart(pgdata: string): Promise<void> {
  if (embeddedDatabaseExists(pgdata)) return;
  fs.mkdirSync(path.dirname(pgdata), { recursive: true });
  const code = `
    const { PGlite } = await import(${JSON.stringify(PGLITE_ENTRY)});
    const db = await PGlite.create({ dataDir: ${JSON.stringify(pgdata)} });
    await db.close();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'pipe'], env: process.env });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const exit = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (exit !== 0 || !embeddedDatabaseExists(pgdata)) {
    throw new Error(`creating the embedded database in ${pgdata} failed (exit ${exit}): ${stderr.trim().split('\n').slice(-3).join(' ')}`);
  }
}
