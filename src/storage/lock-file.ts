import fs from 'node:fs';
import path from 'node:path';

// PGlite does not lock its data folder; two processes on one folder silently lose writes. A pid file guards it.

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock on a data folder or throws DataDirLockedError naming the process holding it; returns the release. */
export function lockDataDir(dir: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'banli.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new DataDirLockedError(`data directory ${dir} is in use by process ${pid}; stop it first or set BANLI_DATA_DIR`);
      }
      if (pid === process.pid) {
        throw new DataDirLockedError(`data directory ${dir} is already open in this process`);
      }
      // Stale lock from a process that died: take it over.
      fs.unlinkSync(file);
    }
  }
  throw new DataDirLockedError(`could not lock data directory ${dir}`);
}
