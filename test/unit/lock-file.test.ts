import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from '../../src/storage/lock-file.ts';

// The lock that keeps two processes off one PGlite folder: taking it, refusing it, taking over from a process that
// died, and eight processes racing for one stale lock.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MODULE = path.join(ROOT, 'src/storage/lock-file.ts');

let dir: string;
const sleepers: ChildProcess[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'banli-lock-'));
});

afterEach(async () => {
  await Promise.all(sleepers.splice(0).map((p) => stop(p)));
  fs.rmSync(dir, { recursive: true, force: true });
});

function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.once('exit', () => resolve());
    p.kill();
  });
}

function lockFile(): string {
  return path.join(dir, 'banli.lock');
}

function holder(): string {
  return fs.readFileSync(lockFile(), 'utf8');
}

/** A live process that is not this one (and not a child that could be mistaken for it). */
async function liveOtherPid(): Promise<number> {
  const p = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
  sleepers.push(p);
  await new Promise((resolve) => p.once('spawn', resolve));
  expect(p.pid).toBeTypeOf('number');
  return p.pid as number;
}

/** The pid of a process that has exited, confirmed by probing it. */
async function deadPid(): Promise<number> {
  const p = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = p.pid as number;
  await new Promise((resolve) => p.once('exit', resolve));
  for (let candidate = pid; candidate > 1; candidate--) {
    try {
      process.kill(candidate, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return candidate;
    }
  }
  throw new Error('found no dead pid');
}

describe('lockDataDir on its own', () => {
  it('locks a fresh folder (creating it), writing our pid, and the release removes the lock and nothing else', () => {
    const nested = path.join(dir, 'data', 'deeper');
    const release = lockDataDir(nested);
    expect(fs.readFileSync(path.join(nested, 'banli.lock'), 'utf8')).toBe(String(process.pid));
    // No scratch files are left behind next to the lock.
    expect(fs.readdirSync(nested)).toEqual(['banli.lock']);
    fs.writeFileSync(path.join(nested, 'keep.txt'), 'data');
    release();
    expect(fs.readdirSync(nested)).toEqual(['keep.txt']);
    // Released means free: the folder can be locked again at once.
    const again = lockDataDir(nested);
    expect(fs.readFileSync(path.join(nested, 'banli.lock'), 'utf8')).toBe(String(process.pid));
    again();
  });

  it('refuses a second lock of the folder in this process and keeps the first', () => {
    const release = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    expect(() => lockDataDir(dir)).toThrow(/already open in this process/);
    expect(holder()).toBe(String(process.pid));
    release();
  });

  it('refuses a folder whose lock names a live process, naming it, and leaves that lock alone', async () => {
    const pid = await liveOtherPid();
    fs.writeFileSync(lockFile(), `${pid}\n`);
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    expect(() => lockDataDir(dir)).toThrow(`data directory ${dir} is in use by process ${pid}`);
    expect(holder()).toBe(`${pid}\n`);
    expect(fs.readdirSync(dir)).toEqual(['banli.lock']);
  });

  it('takes over the lock of a process that died', async () => {
    const pid = await deadPid();
    fs.writeFileSync(lockFile(), String(pid));
    const release = lockDataDir(dir);
    expect(holder()).toBe(String(process.pid));
    expect(fs.readdirSync(dir)).toEqual(['banli.lock']);
    release();
    expect(fs.existsSync(lockFile())).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['not a number', 'banli'],
    ['zero (kill(0) would probe our own process group)', '0'],
    ['negative', '-1'],
    ['fraction', '12.5'],
  ])('treats a lock whose content is %s as stale', (_label, content) => {
    fs.writeFileSync(lockFile(), content);
    const release = lockDataDir(dir);
    expect(holder()).toBe(String(process.pid));
    release();
  });

  it('release removes only our own lock, and a second release does nothing', async () => {
    const release = lockDataDir(dir);
    // Someone removed our lock and another process locked the folder since (e.g. an operator cleaned up by hand).
    const other = await liveOtherPid();
    fs.writeFileSync(lockFile(), String(other));
    release();
    expect(holder()).toBe(String(other));
    fs.rmSync(lockFile());
    release();
    expect(fs.existsSync(lockFile())).toBe(false);
  });

  it('steps back while another live process is taking over the stale lock, naming that process', async () => {
    fs.writeFileSync(lockFile(), String(await deadPid()));
    const taker = await liveOtherPid();
    fs.writeFileSync(path.join(dir, `banli.lock.takeover-${taker}`), '');
    const started = Date.now();
    expect(() => lockDataDir(dir)).toThrow(`process ${taker} is taking over its stale lock`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    // The stale lock was not touched: it is the other taker's to remove.
    expect(fs.existsSync(lockFile())).toBe(true);
    expect(holder()).not.toBe(String(process.pid));
  });

  it('ignores the takeover marker of a process that died mid-takeover', async () => {
    fs.writeFileSync(lockFile(), String(await deadPid()));
    const crashed = await deadPid();
    fs.writeFileSync(path.join(dir, `banli.lock.takeover-${crashed}`), '');
    const release = lockDataDir(dir);
    expect(holder()).toBe(String(process.pid));
    release();
  });
});

// A child process that loads the lock module, then on each "go" tries to lock the folder, reports the outcome, and
// holds the lock until told to release it.
const CHILD = `
import readline from 'node:readline';
import { lockDataDir, DataDirLockedError } from ${JSON.stringify(MODULE)};
let release;
readline.createInterface({ input: process.stdin }).on('line', (cmd) => {
  if (cmd === 'go') {
    try {
      release = lockDataDir(process.env.LOCK_DIR);
      console.log('won');
    } catch (err) {
      console.log(err instanceof DataDirLockedError ? 'refused: ' + err.message : 'error: ' + String(err));
    }
  } else if (cmd === 'release') {
    release?.();
    release = undefined;
    console.log('released');
  }
});
console.log('ready');
`;

interface Racer {
  pid: number;
  send(cmd: string): void;
  next(): Promise<string>;
  proc: ChildProcess;
}

function startRacer(lockDir: string): Racer {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    cwd: ROOT,
    env: { ...process.env, LOCK_DIR: lockDir },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  sleepers.push(proc);
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else lines.push(line);
  });
  proc.once('exit', (code) => {
    for (const w of waiting.splice(0)) w(`exited ${code}`);
  });
  return {
    pid: proc.pid as number,
    proc,
    send: (cmd) => proc.stdin!.write(`${cmd}\n`),
    next: () => {
      const line = lines.shift();
      if (line !== undefined) return Promise.resolve(line);
      if (proc.exitCode !== null) return Promise.resolve(`exited ${proc.exitCode}`);
      return new Promise((resolve) => waiting.push(resolve));
    },
  };
}

describe('separate processes racing for one stale lock', () => {
  it('eight processes take over the lock of a dead process at the same moment: exactly one wins, round after round', async () => {
    const racers = Array.from({ length: 8 }, () => startRacer(dir));
    expect(await Promise.all(racers.map((r) => r.next()))).toEqual(Array(8).fill('ready'));
    const stale = await deadPid();
    for (let round = 0; round < 20; round++) {
      fs.writeFileSync(lockFile(), String(stale));
      for (const r of racers) r.send('go');
      const outcomes = await Promise.all(racers.map((r) => r.next()));
      const winners = racers.filter((_, i) => outcomes[i] === 'won');
      expect(winners, `round ${round}: ${outcomes.join(' | ')}`).toHaveLength(1);
      const winner = winners[0]!;
      expect(holder()).toBe(String(winner.pid));
      for (const [i, outcome] of outcomes.entries()) {
        if (racers[i] === winner) continue;
        expect(outcome).toBe(`refused: data directory ${dir} is in use by process ${winner.pid}; stop it first or set BANLI_DATA_DIR`);
      }
      for (const r of racers) r.send('release');
      expect(await Promise.all(racers.map((r) => r.next()))).toEqual(Array(8).fill('released'));
      // The winner's release removed its lock; no takeover markers or drafts remain.
      expect(fs.readdirSync(dir)).toEqual([]);
    }
  }, 15_000);
});
