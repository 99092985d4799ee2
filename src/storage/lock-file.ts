import fs from 'node:fs';
import path from 'node:path';

// PGlite does not lock its data folder; two processes on one folder silently lose writes. A pid file guards it.
//
// Taking over the lock of a dead process is the delicate part: a process that read the dead pid a moment ago may,
// by the time it removes "the stale file", remove the fresh lock of whoever took over first. Renaming the stale file
// away and putting it back on a mismatch does not close this: while it is away, a third process can lock the
// folder. So a takeover first announces itself with a file named by its own pid, and proceeds only if no other
// live process has announced one. Of any two announcers, the later one to look sees the earlier one's file (or,
// once that one has finished, its fresh lock), so at most one live process ever removes a stale lock, and nothing
// else replaces a stale lock while it looks.

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

const LOCK = 'banli.lock';
const TAKEOVER = `${LOCK}.takeover-`;
// How long to keep yielding to other processes that are taking over at the same moment before giving up.
const CONTENTION_MS = 3000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/** The pid named by the lock file: 'none' if there is no file, null if it names no usable pid (a stale lock). */
function readHolder(file: string): number | null | 'none' {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 'none';
    throw err;
  }
  // Never treat 0 or a negative number as a process: kill(0) and kill(-n) address process groups.
  return /^[1-9][0-9]*$/.test(text) ? Number(text) : null;
}

// The lock is created by linking a finished file into place, so no reader ever sees an empty lock from a live
// process that has created the file but not yet written its pid (an empty lock would read as stale).
function createLock(dir: string, file: string): boolean {
  const draft = path.join(dir, `${LOCK}.new-${process.pid}`);
  fs.writeFileSync(draft, String(process.pid));
  try {
    fs.linkSync(draft, file);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(draft, { force: true });
  }
}

function otherLiveTakeover(dir: string): number | undefined {
  for (const name of fs.readdirSync(dir)) {
    if (!name.startsWith(TAKEOVER)) continue;
    const pid = Number(name.slice(TAKEOVER.length));
    // A takeover file of a dead process is left where it is: deleting it could race with a new process given the
    // same pid, and it costs nothing.
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) return pid;
  }
  return undefined;
}

function refuse(dir: string, holder: number): never {
  if (holder === process.pid) throw new DataDirLockedError(`data directory ${dir} is already open in this process`);
  throw new DataDirLockedError(`data directory ${dir} is in use by process ${holder}; stop it first or set BANLI_DATA_DIR`);
}

// Removes the stale lock if this process is the only live one taking over, else returns the pid of another taker.
// Throws DataDirLockedError if, by the time it looks, a live process holds the lock.
function takeOverStale(dir: string, file: string): number | undefined {
  const mine = path.join(dir, `${TAKEOVER}${process.pid}`);
  fs.writeFileSync(mine, '');
  try {
    const other = otherLiveTakeover(dir);
    if (other !== undefined) return other;
    // From here until our takeover file is gone, no other live process removes the lock, so what we read now is
    // what we remove.
    const holder = readHolder(file);
    if (holder === 'none') return undefined;
    if (holder !== null && (holder === process.pid || alive(holder))) refuse(dir, holder);
    fs.rmSync(file, { force: true });
    return undefined;
  } finally {
    fs.rmSync(mine, { force: true });
  }
}

/** Takes the lock on a data folder or throws DataDirLockedError naming the process holding it; returns the release. */
export function lockDataDir(dir: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK);
  const deadline = Date.now() + CONTENTION_MS;
  let lastContender: number | undefined;
  while (Date.now() < deadline) {
    if (createLock(dir, file)) {
      let released = false;
      return () => {
        if (released) return;
        released = true;
        // Only our own lock is removed: nobody replaces a lock whose holder is alive, so it cannot change under us.
        try {
          if (readHolder(file) === process.pid) fs.rmSync(file, { force: true });
        } catch {
          // A lock we cannot read or remove any more is not ours to fix during shutdown.
        }
      };
    }
    const holder = readHolder(file);
    if (holder === 'none') continue;
    if (holder !== null && (holder === process.pid || alive(holder))) refuse(dir, holder);
    const contender = takeOverStale(dir, file);
    if (contender !== undefined) {
      lastContender = contender;
      // Two takers that see each other both step back; a random pause lets one of them go first next time.
      sleepSync(2 + Math.random() * 20);
    }
  }
  throw new DataDirLockedError(
    lastContender === undefined
      ? `could not lock data directory ${dir}`
      : `could not lock data directory ${dir}: process ${lastContender} is taking over its stale lock`,
  );
}
