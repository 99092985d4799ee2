import type { Logger } from 'pino';
import { unknownName, upsertUser } from '../cases/case.repository.ts';
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
  ) {}

  /** Stores names seen in an event's mentions (they are authoritative and cost nothing). */
  async remember(people: readonly { openId: string; name: string }[]): Promise<void> {
    for (const p of people) if (p.name) await upsertUser(this.db, { openId: p.openId, name: p.name }, true);
  }

  /** The person's name, looked up when we do not know it (or it is old). */
  async resolve(openId: string): Promise<string> {
    const row = await this.db.selectFrom('users').select(['name', 'name_fetched_at']).where('open_id', '=', openId).executeTakeFirst();
    const fresh = row?.name && row.name_fetched_at && this.now().getTime() - row.name_fetched_at.getTime() < REFRESH_MS;
    if (fresh && row?.name) return row.name;
    let name: string | undefined;
    if (this.client) {
      try {
        name = await fetchUserName(this.client, openId);
      } catch (err) {
        this.logger.warn({ err, openId }, 'could not look up a user name');
      }
    }
    if (name) {
      await upsertUser(this.db, { openId, name }, true);
      return name;
    }
    await upsertUser(this.db, { openId });
    return row?.name ?? unknownName(openId);
  }
}
