// A sliding one-second window per key, the shape of Lark's "N 次/秒" limits.

export class SlidingWindow {
  private readonly hits = new Map<string, number[]>();

  constructor(private readonly windowMs = 1000) {}

  /** Counts a hit for `key` unless `limit` hits already fall in the window; says how long until a slot frees. */
  take(key: string, limit: number, now: number): { ok: true } | { ok: false; retryAfterMs: number } {
    const recent = (this.hits.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (recent.length >= limit) {
      this.hits.set(key, recent);
      const oldest = recent[0] ?? now;
      return { ok: false, retryAfterMs: Math.max(1, oldest + this.windowMs - now) };
    }
    recent.push(now);
    this.hits.set(key, recent);
    return { ok: true };
  }

  clear(): void {
    this.hits.clear();
  }
}
