import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/lark/rate-limiter.ts';

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

// A clock the test moves by hand; sleep() parks the caller until the test advances past its wake-up time.
function fakeTime() {
  let now = 0;
  const timers: { at: number; resolve: () => void }[] = [];
  return {
    now: () => now,
    set(t: number) {
      now = t;
    },
    sleep(ms: number): Promise<void> {
      return new Promise((resolve) => timers.push({ at: now + ms, resolve }));
    },
    /** Moves to the earliest parked wake-up and lets everything it unblocks run; false when none is parked. */
    async next(): Promise<boolean> {
      await flush();
      timers.sort((a, b) => a.at - b.at);
      const t = timers.shift();
      if (!t) return false;
      now = Math.max(now, t.at);
      t.resolve();
      await flush();
      return true;
    },
  };
}

function limiter(time: ReturnType<typeof fakeTime>, perKey: number, overall: number, windowMs = 1000) {
  const rateLimiter = new RateLimiter({ perKeyPerWindow: perKey, overallPerWindow: overall, windowMs, now: time.now, sleep: time.sleep });
  return {
    limiter: rateLimiter,
    /** A send answered at once: 0 when it went, else how long it was told to wait. */
    send(key: string): number {
      const t = rateLimiter.tryTake(key);
      if (!t.ok) return t.waitMs;
      t.done();
      return 0;
    },
  };
}

describe('one chat', () => {
  it('lets five sends through at once and holds the sixth until the first leaves the window', () => {
    const time = fakeTime();
    const chats = limiter(time, 5, 50);
    expect([1, 2, 3, 4, 5].map(() => chats.send('oc_group'))).toEqual([0, 0, 0, 0, 0]);
    expect(chats.send('oc_group')).toBe(1000);
    time.set(999);
    expect(chats.send('oc_group')).toBe(1);
    time.set(1000);
    expect(chats.send('oc_group')).toBe(0);
  });

  it('slides: a slot frees exactly one window after the send that held it', () => {
    const time = fakeTime();
    const chats = limiter(time, 3, 50);
    for (const t of [0, 300, 600]) {
      time.set(t);
      expect(chats.send('oc_a')).toBe(0);
    }
    time.set(900);
    expect(chats.send('oc_a')).toBe(100); // the send at 0 leaves at 1000
    time.set(1000);
    expect(chats.send('oc_a')).toBe(0);
    expect(chats.send('oc_a')).toBe(300); // now the send at 300 is the one to wait for
  });

  it('does not count a refused attempt', () => {
    const time = fakeTime();
    const chats = limiter(time, 2, 50);
    chats.send('oc_a');
    chats.send('oc_a');
    for (let i = 0; i < 10; i++) expect(chats.send('oc_a')).toBe(1000);
    time.set(1000);
    // Had the refusals counted, the window would still be full.
    expect(chats.send('oc_a')).toBe(0);
    expect(chats.send('oc_a')).toBe(0);
    expect(chats.send('oc_a')).toBeGreaterThan(0);
  });
});

describe('many chats', () => {
  it('keeps chats apart: a full chat does not hold back another', () => {
    const time = fakeTime();
    const chats = limiter(time, 2, 50);
    chats.send('oc_a');
    chats.send('oc_a');
    expect(chats.send('oc_a')).toBe(1000);
    expect(chats.send('oc_b')).toBe(0);
    expect(chats.send('user:ou_zhang')).toBe(0);
  });

  it('caps the app as a whole across chats', () => {
    const time = fakeTime();
    const chats = limiter(time, 5, 3);
    time.set(10);
    expect(chats.send('oc_a')).toBe(0);
    time.set(20);
    expect(chats.send('oc_b')).toBe(0);
    time.set(30);
    expect(chats.send('oc_c')).toBe(0);
    time.set(40);
    expect(chats.send('oc_d')).toBe(970); // the app's oldest send (at 10) leaves at 1010
    time.set(1010);
    expect(chats.send('oc_d')).toBe(0);
  });

  it('waits for the later of the chat limit and the app limit', () => {
    const time = fakeTime();
    const chats = limiter(time, 1, 2);
    chats.send('oc_a'); // t=0
    time.set(600);
    chats.send('oc_b'); // app now full until 1000, oc_b full until 1600
    expect(chats.send('oc_b')).toBe(1000);
    expect(chats.send('oc_c')).toBe(400);
  });

  it('forgets chats that went quiet', () => {
    const time = fakeTime();
    const chats = limiter(time, 5, 100_000);
    for (let i = 0; i < 300; i++) chats.send(`oc_${i}`);
    expect(chats.limiter.trackedKeys).toBe(300);
    time.set(5000);
    chats.send('oc_new');
    expect(chats.limiter.trackedKeys).toBe(1);
  });
});

describe('take() waits instead of failing', () => {
  it('spaces seven sends to one chat at a limit of five: five now, two a window later', async () => {
    const time = fakeTime();
    const chats = limiter(time, 5, 50);
    const sentAt: number[] = [];
    const sendOne = async () => {
      const done = await chats.limiter.take('oc_a');
      sentAt.push(time.now());
      done();
    };
    const all = Promise.all(Array.from({ length: 7 }, sendOne));
    while (await time.next());
    await all;
    expect(sentAt).toEqual([0, 0, 0, 0, 0, 1000, 1000]);
  });

  it('never lets more than the limit through in any window, whatever the arrival pattern', async () => {
    const time = fakeTime();
    const chats = limiter(time, 3, 4);
    const sends: { key: string; at: number }[] = [];
    const keys = ['oc_a', 'oc_b', 'oc_a', 'oc_c', 'oc_a', 'oc_a', 'oc_b', 'oc_a', 'oc_c', 'oc_a', 'oc_b', 'oc_a'];
    const sendOne = async (key: string) => {
      const done = await chats.limiter.take(key);
      sends.push({ key, at: time.now() });
      done();
    };
    const all = Promise.all(keys.map(sendOne));
    while (await time.next());
    await all;
    expect(sends).toHaveLength(keys.length);
    for (const { at } of sends) {
      const inWindow = sends.filter((s) => s.at >= at && s.at < at + 1000);
      expect(inWindow.length).toBeLessThanOrEqual(4);
      for (const key of ['oc_a', 'oc_b', 'oc_c']) {
        expect(inWindow.filter((s) => s.key === key).length).toBeLessThanOrEqual(3);
      }
    }
    // Seven sends to oc_a at three per window need three windows.
    const aTimes = sends.filter((s) => s.key === 'oc_a').map((s) => s.at);
    expect(Math.max(...aTimes)).toBeGreaterThanOrEqual(2000);
  });
});

describe('a send still under way', () => {
  it('holds its slot however long it takes, and its window starts when the answer is back', () => {
    const time = fakeTime();
    const { limiter: rl } = limiter(time, 1, 50);
    const first = rl.tryTake('oc_a');
    if (!first.ok) throw new Error('first send must go');
    time.set(5000);
    const meanwhile = rl.tryTake('oc_a');
    expect(meanwhile.ok).toBe(false);
    // Nobody knows when it finishes, so the caller is told to look again soon rather than a whole window.
    expect(meanwhile.ok ? 0 : meanwhile.waitMs).toBe(50);
    first.done();
    time.set(5500);
    first.done(); // a second done() must not move the window again
    time.set(5999);
    const early = rl.tryTake('oc_a');
    expect(early.ok ? 0 : early.waitMs).toBe(1);
    time.set(6000);
    expect(rl.tryTake('oc_a').ok).toBe(true);
  });

  it('counts a slow send from its answer, so a fast one after it frees first', () => {
    const time = fakeTime();
    const { limiter: rl } = limiter(time, 2, 50);
    const slow = rl.tryTake('oc_a');
    const fast = rl.tryTake('oc_a');
    if (!slow.ok || !fast.ok) throw new Error('both sends must go');
    fast.done();
    time.set(300);
    slow.done();
    time.set(1000);
    const third = rl.tryTake('oc_a');
    expect(third.ok).toBe(true);
    if (third.ok) third.done();
    const fourth = rl.tryTake('oc_a');
    expect(fourth.ok ? 0 : fourth.waitMs).toBe(300); // the slow send answered at 300
  });

  it('lets take() through once the send before it reports done', async () => {
    const time = fakeTime();
    const { limiter: rl } = limiter(time, 1, 50);
    const doneFirst = await rl.take('oc_a');
    let secondAt: number | undefined;
    const second = rl.take('oc_a').then(() => {
      secondAt = time.now();
    });
    for (let i = 0; i < 10; i++) await time.next(); // ten rechecks, 500 ms, while the first is under way
    expect(secondAt).toBeUndefined();
    doneFirst(); // answered at 500
    while (secondAt === undefined && (await time.next()));
    await second;
    expect(secondAt).toBe(1500);
  });
});

describe('pause', () => {
  it('holds one chat back after Lark said it was too fast, and only that chat', () => {
    const time = fakeTime();
    const chats = limiter(time, 5, 50);
    chats.limiter.pause('oc_a', 3000);
    expect(chats.send('oc_a')).toBe(3000);
    expect(chats.send('oc_b')).toBe(0);
    time.set(2999);
    expect(chats.send('oc_a')).toBe(1);
    time.set(3000);
    expect(chats.send('oc_a')).toBe(0);
  });

  it('holds every chat back after the app limit was hit; a shorter pause does not shorten it', () => {
    const time = fakeTime();
    const chats = limiter(time, 5, 50);
    chats.limiter.pause(null, 2000);
    chats.limiter.pause(null, 500);
    expect(chats.send('oc_a')).toBe(2000);
    expect(chats.send('oc_b')).toBe(2000);
    time.set(2000);
    expect(chats.send('oc_a')).toBe(0);
  });

  it('ignores a pause of zero, a negative or a non-number', () => {
    const time = fakeTime();
    const chats = limiter(time, 5, 50);
    chats.limiter.pause('oc_a', 0);
    chats.limiter.pause('oc_a', -100);
    chats.limiter.pause(null, Number.NaN);
    expect(chats.send('oc_a')).toBe(0);
  });
});

describe('paced', () => {
  it('spreads an app-wide burst over the window instead of sending it at once', () => {
    const time = fakeTime();
    const rl = new RateLimiter({ perKeyPerWindow: 5, overallPerWindow: 4, now: time.now, sleep: time.sleep, paceOverall: true });
    const go = (key: string) => {
      const t = rl.tryTake(key);
      if (t.ok) t.done();
      return t.ok ? 0 : t.waitMs;
    };
    expect(go('oc_a')).toBe(0);
    // A second send at once is allowed (the schedule starts one gap back when idle), then one per 250 ms.
    expect(go('oc_b')).toBe(0);
    expect(go('oc_c')).toBe(250);
    time.set(250);
    expect(go('oc_c')).toBe(0);
    // A send that comes late does not push the schedule back: the next is due at 500 still.
    time.set(290);
    expect(go('oc_d')).toBe(210);
    time.set(500);
    expect(go('oc_d')).toBe(0);
    // Four in the window: the fifth waits for the first to leave it, as unpaced.
    time.set(750);
    expect(go('oc_e')).toBe(250);
    time.set(1000);
    expect(go('oc_e')).toBe(0);
  });

  it('keeps the sliding-window limit whatever the arrival pattern', async () => {
    const time = fakeTime();
    const rl = new RateLimiter({ perKeyPerWindow: 3, overallPerWindow: 5, now: time.now, sleep: time.sleep, paceOverall: true });
    const sends: { key: string; at: number }[] = [];
    const keys = Array.from({ length: 23 }, (_, i) => `oc_${'abcd'[i % 4]}`);
    const all = Promise.all(
      keys.map(async (key) => {
        const done = await rl.take(key);
        sends.push({ key, at: time.now() });
        done();
      }),
    );
    while (await time.next());
    await all;
    expect(sends).toHaveLength(keys.length);
    for (const { at } of sends) {
      const inWindow = sends.filter((s) => s.at >= at && s.at < at + 1000);
      expect(inWindow.length).toBeLessThanOrEqual(5);
      for (const key of ['oc_a', 'oc_b', 'oc_c', 'oc_d']) expect(inWindow.filter((s) => s.key === key).length).toBeLessThanOrEqual(3);
    }
    // Spread out: never three starts within one gap (200 ms); a late start may be followed by one at once.
    const starts = sends.map((s) => s.at).sort((a, b) => a - b);
    for (let i = 2; i < starts.length; i++) expect(starts[i]! - starts[i - 2]!).toBeGreaterThanOrEqual(200);
  });

  it('gives up waiting when told the wait is no longer wanted', async () => {
    const time = fakeTime();
    const rl = new RateLimiter({ perKeyPerWindow: 1, overallPerWindow: 50, now: time.now, sleep: time.sleep });
    const first = await rl.take('oc_a');
    first();
    let stopped = false;
    const second = rl.take('oc_a', () => stopped);
    stopped = true;
    while (await time.next());
    expect(await second).toBeNull();
    // The slot it did not take is still free.
    expect(rl.tryTake('oc_a').ok).toBe(true);
  });
});

describe('acquire(): a line served by priority', () => {
  it('serves higher priority first, then in order of arrival', async () => {
    const rl = new RateLimiter({ perKeyPerWindow: 5, overallPerWindow: 2, windowMs: 100 });
    for (const key of ['oc_x', 'oc_y']) {
      const t = rl.tryTake(key);
      if (t.ok) t.done();
    }
    const order: string[] = [];
    const wait = (key: string, priority: number) => rl.acquire(key, { priority }).then((done) => {
      order.push(key);
      done?.();
    });
    await Promise.all([wait('oc_a', 1), wait('oc_b', 3), wait('oc_c', 1), wait('oc_d', 3)]);
    expect(order).toEqual(['oc_b', 'oc_d', 'oc_a', 'oc_c']);
    expect(rl.waiting).toBe(0);
  });

  it('lets a waiter whose chat is full be passed by one whose chat is free', async () => {
    const rl = new RateLimiter({ perKeyPerWindow: 1, overallPerWindow: 50, windowMs: 200 });
    const first = rl.tryTake('oc_a');
    if (first.ok) first.done();
    const order: string[] = [];
    const a = rl.acquire('oc_a', { priority: 9 }).then((done) => {
      order.push('oc_a');
      done?.();
    });
    const b = rl.acquire('oc_b').then((done) => {
      order.push('oc_b');
      done?.();
    });
    await Promise.all([a, b]);
    expect(order).toEqual(['oc_b', 'oc_a']);
  });

  it('answers null to a waiter no longer wanted, once woken', async () => {
    const rl = new RateLimiter({ perKeyPerWindow: 1, overallPerWindow: 50, windowMs: 60_000 });
    const first = rl.tryTake('oc_a');
    if (first.ok) first.done();
    let stopped = false;
    const waiting = rl.acquire('oc_a', { abandoned: () => stopped });
    stopped = true;
    rl.wake();
    expect(await waiting).toBeNull();
    expect(rl.waiting).toBe(0);
  });
});

describe('bad options', () => {
  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses a limit of %s', (bad) => {
    expect(() => new RateLimiter({ perKeyPerWindow: bad, overallPerWindow: 50 })).toThrow(RangeError);
    expect(() => new RateLimiter({ perKeyPerWindow: 5, overallPerWindow: bad })).toThrow(RangeError);
  });

  it.each([0, -1000, Number.NaN])('refuses a window of %s ms', (bad) => {
    expect(() => new RateLimiter({ perKeyPerWindow: 5, overallPerWindow: 50, windowMs: bad })).toThrow(RangeError);
  });
});
