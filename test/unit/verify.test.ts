import { describe, expect, it } from 'vitest';
import { verifyLarkRequest } from '../../src/lark/verify.ts';
import { encryptForLark, signLark } from '../support/lark/events.ts';

// Verification is a pure function of bytes, headers and a clock, so every refusal can be shown without a server.

const KEY = 'encrypt-key-for-tests';
const TOKEN = 'verification-token';
const NOW = Date.UTC(2026, 10, 21, 2, 0, 0);
const ts = String(Math.floor(NOW / 1000));

function encrypted(payload: object, opts: { timestamp?: string; key?: string } = {}) {
  const body = JSON.stringify({ encrypt: encryptForLark(opts.key ?? KEY, JSON.stringify(payload)) });
  const timestamp = opts.timestamp ?? ts;
  const nonce = 'n0nce';
  return {
    raw: Buffer.from(body),
    headers: { 'x-lark-request-timestamp': timestamp, 'x-lark-request-nonce': nonce, 'x-lark-signature': signLark(timestamp, nonce, opts.key ?? KEY, body) },
  };
}

const event = { schema: '2.0', header: { event_id: 'e1', event_type: 'im.message.receive_v1', token: TOKEN }, event: {} };

describe('verifyLarkRequest with an encrypt key', () => {
  const opts = { encryptKey: KEY, verificationToken: TOKEN, now: NOW };

  it('accepts a signed, encrypted event and returns the decrypted payload', () => {
    const { raw, headers } = encrypted(event);
    const r = verifyLarkRequest(raw, headers, opts);
    expect(r).toEqual({ ok: true, payload: event });
  });

  it('refuses a forged signature', () => {
    const { raw, headers } = encrypted(event);
    const r = verifyLarkRequest(raw, { ...headers, 'x-lark-signature': 'a'.repeat(64) }, opts);
    expect(r).toMatchObject({ ok: false, status: 401, reason: 'bad signature' });
  });

  it('refuses a body changed after signing', () => {
    const { headers } = encrypted(event);
    const other = encrypted({ ...event, header: { ...event.header, event_id: 'e2' } });
    expect(verifyLarkRequest(other.raw, headers, opts)).toMatchObject({ ok: false, status: 401 });
  });

  it('refuses a request older than 5 minutes, and one from the future', () => {
    const old = encrypted(event, { timestamp: String(Math.floor(NOW / 1000) - 301) });
    expect(verifyLarkRequest(old.raw, old.headers, opts)).toMatchObject({ ok: false, status: 401, reason: 'stale or future timestamp' });
    const future = encrypted(event, { timestamp: String(Math.floor(NOW / 1000) + 301) });
    expect(verifyLarkRequest(future.raw, future.headers, opts)).toMatchObject({ ok: false, status: 401 });
    const recent = encrypted(event, { timestamp: String(Math.floor(NOW / 1000) - 299) });
    expect(verifyLarkRequest(recent.raw, recent.headers, opts).ok).toBe(true);
  });

  it('refuses an event without signature headers, but takes the URL check that decrypts and carries the token', () => {
    const { raw } = encrypted(event);
    expect(verifyLarkRequest(raw, {}, opts)).toMatchObject({ ok: false, reason: 'missing signature' });
    const check = encrypted({ type: 'url_verification', challenge: 'c', token: TOKEN });
    expect(verifyLarkRequest(check.raw, {}, opts)).toMatchObject({ ok: true, payload: { challenge: 'c' } });
    const wrongToken = encrypted({ type: 'url_verification', challenge: 'c', token: 'nope' });
    expect(verifyLarkRequest(wrongToken.raw, {}, opts)).toMatchObject({ ok: false, reason: 'bad verification token' });
  });

  it('refuses plaintext, a body encrypted with another key, and a wrong token inside a good signature', () => {
    expect(verifyLarkRequest(Buffer.from(JSON.stringify(event)), {}, opts)).toMatchObject({ ok: false, status: 401 });
    const otherKey = encrypted(event, { key: 'another-key' });
    expect(verifyLarkRequest(otherKey.raw, otherKey.headers, opts)).toMatchObject({ ok: false, status: 401 });
    const badToken = encrypted({ ...event, header: { ...event.header, token: 'stolen' } });
    expect(verifyLarkRequest(badToken.raw, badToken.headers, opts)).toMatchObject({ ok: false, reason: 'bad verification token' });
  });

  it('answers 400 to what is not a JSON object', () => {
    expect(verifyLarkRequest(Buffer.from('not json'), {}, opts)).toMatchObject({ ok: false, status: 400 });
    expect(verifyLarkRequest(Buffer.from('[1,2]'), {}, opts)).toMatchObject({ ok: false, status: 400 });
  });
});

describe('verifyLarkRequest with neither secret configured', () => {
  it('refuses everything: without a secret a forgery cannot be told apart', () => {
    const r = verifyLarkRequest(Buffer.from(JSON.stringify(event)), {}, { encryptKey: '', verificationToken: '', now: NOW });
    expect(r).toMatchObject({ ok: false, status: 401 });
  });
});

describe('verifyLarkRequest with only a verification token', () => {
  const opts = { encryptKey: '', verificationToken: TOKEN, now: NOW };

  it('checks the token in the v2 header and in v1/url_verification bodies', () => {
    expect(verifyLarkRequest(Buffer.from(JSON.stringify(event)), {}, opts).ok).toBe(true);
    expect(verifyLarkRequest(Buffer.from(JSON.stringify({ type: 'url_verification', token: TOKEN, challenge: 'x' })), {}, opts).ok).toBe(true);
    const wrong = { ...event, header: { ...event.header, token: 'wrong' } };
    expect(verifyLarkRequest(Buffer.from(JSON.stringify(wrong)), {}, opts)).toMatchObject({ ok: false, status: 401 });
    const missing = { schema: '2.0', header: { event_id: 'e' }, event: {} };
    expect(verifyLarkRequest(Buffer.from(JSON.stringify(missing)), {}, opts)).toMatchObject({ ok: false, status: 401 });
  });

  it('refuses an encrypted body it cannot decrypt', () => {
    const { raw } = encrypted(event);
    expect(verifyLarkRequest(raw, {}, opts)).toMatchObject({ ok: false, status: 401 });
  });
});
