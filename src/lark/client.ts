import type * as Lark from '@larksuiteoapi/node-sdk';
import { lark } from './sdk.ts';
import type { Logger } from 'pino';

// The SDK client, with a token cache we can clear when Lark says the tenant token is no longer valid.

class ClearableCache {
  #entries = new Map<string, { value: unknown; expire: number | undefined }>();

  async set(key: string | symbol, value: unknown, expire?: number, options?: { namespace?: string }): Promise<boolean> {
    this.#entries.set(this.#key(key, options), { value, expire });
    return true;
  }

  async get(key: string | symbol, options?: { namespace?: string }): Promise<unknown> {
    const k = this.#key(key, options);
    const e = this.#entries.get(k);
    if (!e) return undefined;
    if (e.expire !== undefined && e.expire < Date.now()) {
      this.#entries.delete(k);
      return undefined;
    }
    return e.value;
  }

  clear(): void {
    this.#entries.clear();
  }

  #key(key: string | symbol, options?: { namespace?: string }): string {
    return `${options?.namespace ?? ''}|${String(key)}`;
  }
}

export interface LarkClient {
  client: Lark.Client;
  clearTokenCache(): void;
}

// Lark can invalidate a tenant token before it expires; the SDK keeps using its cached copy until told otherwise.
/** Lark's answers for a tenant token that is invalid or expired: clear the cache and ask again. */
export const TOKEN_CODES: ReadonlySet<number> = new Set([99991661, 99991663, 99991668]);

function isTokenError(err: unknown): boolean {
  const code = (err as { response?: { data?: { code?: unknown } } } | null)?.response?.data?.code;
  return typeof code === 'number' && TOKEN_CODES.has(code);
}

/** An SDK client pointed at LARK_DOMAIN (the real Feishu or the emulator), logging through pino. */
export function createLarkClient(opts: { appId: string; appSecret: string; domain: string; logger: Logger }): LarkClient {
  const cache = new ClearableCache();
  const log = opts.logger.child({ component: 'lark-sdk' });
  // The SDK logs whole request errors, Authorization header included: keep only their messages.
  const text = (m: unknown[]) =>
    m.map((x) => (typeof x === 'string' ? x : x instanceof Error ? x.message : typeof x === 'object' && x && 'message' in x ? String(x.message) : String(x))).join(' ');
  const client = new lark.Client({
    appId: opts.appId || 'unset',
    appSecret: opts.appSecret || 'unset',
    domain: opts.domain,
    cache: cache as unknown as Lark.Cache,
    loggerLevel: lark.LoggerLevel.warn,
    logger: {
      error: (...m: unknown[]) => log.error({ sdk: text(m) }, 'lark sdk error'),
      warn: (...m: unknown[]) => log.warn({ sdk: text(m) }, 'lark sdk warning'),
      info: (...m: unknown[]) => log.info({ sdk: text(m) }, 'lark sdk'),
      debug: (...m: unknown[]) => log.debug({ sdk: text(m) }, 'lark sdk'),
      trace: (...m: unknown[]) => log.trace({ sdk: text(m) }, 'lark sdk'),
    },
  });
  return { client, clearTokenCache: () => cache.clear() };
}

/** The bot's own open_id (to tell mentions of the bot and its own messages apart), or undefined when unreachable. */
export async function fetchBotOpenId(client: Lark.Client): Promise<string | undefined> {
  const res = (await client.request({ method: 'GET', url: '/open-apis/bot/v3/info' })) as { code?: number; bot?: { open_id?: string } };
  return res.code === 0 ? res.bot?.open_id : undefined;
}

/** A user's display name from the contact API, or undefined when Lark will not tell us. */
export async function fetchUserName(lc: LarkClient, openId: string): Promise<string | undefined> {
  const get = () => lc.client.contact.v3.user.get({ path: { user_id: openId }, params: { user_id_type: 'open_id' } });
  let res: Awaited<ReturnType<typeof get>>;
  try {
    res = await get();
  } catch (err) {
    // A name missed here is written into the case timeline for good, so renew a rejected token and ask once more.
    if (!isTokenError(err)) throw err;
    lc.clearTokenCache();
    res = await get();
  }
  return res.code === 0 ? res.data?.user?.name || undefined : undefined;
}
