import type { Logger } from 'pino';
import { storedUser, unknownName, upsertUser } from '../cases/case.repository.ts';
import type { Db } from '../storage/database.ts';
import { fetchUserName, type LarkClient } from './client.ts';

// open_id → name. Names come from mentions in events for free; otherwise from the contact API, cached in the users
// table and refreshed after a week. A lookup failure never blocks a command: the user gets a placeholder name.

const REFRESH_MS = 7 * 24 * 3600 * 1000;

export class NameResolver {
  constructor(
    private readonly db: Db,
    private readonly client: LarkClient | null,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
    /** Called when a lookup that ran past its time limit brings a name nobody has seen yet (cards can redraw). */
    private readonly onLateName: (openId: string) => Promise<void> = async () => {},
  ) {}

  /** Stores names seen in an event's mentions (they are authoritative and cost nothing). */
  async remember(people: readonly { openId: string; name: string }[]): Promise<void> {
    for (const p of people) if (p.name) await upsertUser(this.db, { openId: p.openId, name: p.name }, true);
  }

  /**
   * The person's name, looked up when we do not know it (or it is old). With a time limit (card clicks must be answered
   * within 3 s) a slow lookup goes on in the background and the stored name, or a placeholder, is used meanwhile;
   * cards show the stored name when they are drawn, so they catch up.
   */
  async resolve(openId: string, timeLimitMs?: number): Promise<string> {
    const row = await storedUser(this.db, openId);
    return this.resolveStored(openId, row ?? null, timeLimitMs);
  }

  /** As resolve, for a caller that has already read the person's users row (`stored`; null when there is none). */
  async resolveStored(openId: string, stored: { name: string | null; name_fetched_at: Date | null } | null, timeLimitMs?: number): Promise<string> {
    const row = stored;
    const fresh = row?.name && row.name_fetched_at && this.now().getTime() - row.name_fetched_at.getTime() < REFRESH_MS;
    if (fresh && row?.name) return row.name;
    const lookup = this.lookUp(openId, row?.name ?? null);
    if (timeLimitMs === undefined) return lookup;
    let timer: NodeJS.Timeout | undefined;
    let late = false;
    const used = row?.name ?? unknownName(openId);
    const fallback = new Promise<string>((resolve) => {
      timer = setTimeout(() => {
        late = true;
        resolve(used);
      }, timeLimitMs);
    });
    void lookup.then(
      (name) => (late && name !== used ? this.onLateName(openId) : undefined),
      () => undefined,
    ).catch((err: unknown) => this.logger.warn({ openId, error: err instanceof Error ? err.message : String(err) }, 'redrawing cards after a late name failed'));
    try {
      return await Promise.race([lookup, fallback]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async lookUp(openId: string, known: string | null): Promise<string> {
    let name: string | undefined;
    if (this.client) {
      try {
        name = await fetchUserName(this.client, openId);
      } catch (err) {
        // The SDK's error carries the request, Authorization header included: log the message only.
        this.logger.warn({ openId, error: err instanceof Error ? err.message : String(err) }, 'could not look up a user name');
      }
    }
    if (name) {
      await upsertUser(this.db, { openId, name }, true);
      return name;
    }
    await upsertUser(this.db, { openId });
    return known ?? unknownName(openId);
  }
}
