import { createHash, timingSafeEqual } from 'node:crypto';
import { lark } from './sdk.ts';

// Request verification for Lark's webhook, as a pure function of the raw bytes, the headers and a clock. The SDK's
// own express adapter answers a bad signature with 200 and checks nothing on plaintext events, so we do it here.

export interface VerifyOptions {
  encryptKey: string;
  verificationToken: string;
  /** Milliseconds since the epoch, injectable for tests. */
  now: number;
  /** Oldest request accepted, in seconds (Lark's own guidance: 5 minutes). */
  maxAgeSeconds?: number;
}

export type VerifyResult =
  | { ok: true; payload: Record<string, unknown> }
  | { ok: false; status: 400 | 401; reason: string };

const fail = (status: 400 | 401, reason: string): VerifyResult => ({ ok: false, status, reason });

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function tokenOf(payload: Record<string, unknown>): unknown {
  if (typeof payload.token === 'string') return payload.token;
  return isObject(payload.header) ? payload.header.token : undefined;
}

/** Checks a webhook request and returns its (decrypted) JSON payload, or why it must be refused. */
export function verifyLarkRequest(
  rawBody: Buffer,
  headers: Record<string, string | string[] | undefined>,
  opts: VerifyOptions,
): VerifyResult {
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return fail(400, 'body is not JSON');
  }
  if (!isObject(body)) return fail(400, 'body is not a JSON object');

  // Without a secret nobody's request can be told from a forgery (one could click 同意 as a coordinator): refuse all.
  if (!opts.encryptKey && !opts.verificationToken) return fail(401, 'webhook not configured: set LARK_ENCRYPT_KEY or LARK_VERIFICATION_TOKEN');

  let payload: Record<string, unknown> = body;
  let signed = false;
  if (opts.encryptKey) {
    if (typeof body.encrypt !== 'string') return fail(401, 'an encrypted body is required');
    const timestamp = header(headers, 'x-lark-request-timestamp');
    const nonce = header(headers, 'x-lark-request-nonce');
    const signature = header(headers, 'x-lark-signature');
    if (timestamp !== undefined || nonce !== undefined || signature !== undefined) {
      if (!timestamp || nonce === undefined || !signature) return fail(401, 'incomplete signature headers');
      const expected = createHash('sha256').update(timestamp + nonce + opts.encryptKey).update(rawBody).digest('hex');
      if (!safeEqualHex(expected, signature.toLowerCase())) return fail(401, 'bad signature');
      const ts = Number(timestamp);
      const maxAge = (opts.maxAgeSeconds ?? 300) * 1000;
      if (!Number.isFinite(ts) || Math.abs(opts.now - ts * 1000) > maxAge) return fail(401, 'stale or future timestamp');
      signed = true;
    }
    try {
      const decrypted: unknown = JSON.parse(new lark.AESCipher(opts.encryptKey).decrypt(body.encrypt));
      if (!isObject(decrypted)) return fail(401, 'decrypted payload is not an object');
      payload = decrypted;
    } catch {
      return fail(401, 'cannot decrypt body');
    }
    // Lark signs every event and callback; only the URL check may come without headers, and it still has to
    // decrypt with our key and carry our token.
    if (!signed && payload.type !== 'url_verification') return fail(401, 'missing signature');
  } else if ('encrypt' in body) {
    return fail(401, 'encrypted body but no LARK_ENCRYPT_KEY configured');
  }

  if (opts.verificationToken) {
    const token = tokenOf(payload);
    if (typeof token !== 'string' || !safeEqualHex(token, opts.verificationToken)) return fail(401, 'bad verification token');
  }
  return { ok: true, payload };
}
