// Webhook acknowledgement: Banli (verify over the raw body, store the event in the inbox, answer) against the bare
// SDK (EventDispatcher + adaptExpress, a no-op handler, nothing stored), in one run, on the same machine. Each event
// is signed and encrypted and has a new event id: group messages that do not @mention the bot (the everyday traffic
// with the group-message scope), so Banli stores each one, acknowledges it, and then finishes it from the inbox.
//   npm run bench:ack                                  (PGlite)
//   DATABASE_URL=postgres://… npm run bench:ack        (PostgreSQL and PGlite)
// BENCH_EVENTS (2000) and BENCH_CONCURRENCY (20) change the load. Not a test: nothing here passes or fails.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as lark from '@larksuiteoapi/node-sdk';
import express from 'express';
import { encryptForLark, signLark } from '../test/support/lark/events.ts';
import { backends, figures, runPool, show, startBanli, type Backend, type Figures } from './support.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);
const WARMUP = 200;
const ENCRYPT_KEY = 'bench-encrypt-key';
const TOKEN = 'bench-verification-token';

interface Prepared {
  eventIds: string[];
  requests: Array<{ body: string; headers: Record<string, string> }>;
}

/** Signed, encrypted schema-2.0 message events, each with a new event id (built before the clock starts). */
function prepare(n: number, appId: string): Prepared {
  const eventIds: string[] = [];
  const requests = Array.from({ length: n }, (_, i) => {
    const eventId = `ev_bench_${randomBytes(8).toString('hex')}`;
    eventIds.push(eventId);
    const now = Date.now();
    const event = {
      schema: '2.0',
      header: { event_id: eventId, event_type: 'im.message.receive_v1', create_time: String(now), token: TOKEN, app_id: appId, tenant_key: 'tenant_bench' },
      event: {
        sender: { sender_id: { open_id: `ou_bench_${i % 37}` }, sender_type: 'user', tenant_key: 'tenant_bench' },
        message: {
          message_id: `om_bench_${randomBytes(8).toString('hex')}`,
          create_time: String(now),
          chat_id: `oc_bench_${i % 50}`,
          chat_type: 'group',
          message_type: 'text',
          content: JSON.stringify({ text: `第${i}条群消息：今天下午三点开会讨论答复函` }),
        },
      },
    };
    const body = JSON.stringify({ encrypt: encryptForLark(ENCRYPT_KEY, JSON.stringify(event)) });
    const timestamp = String(Math.floor(now / 1000));
    const nonce = randomBytes(8).toString('hex');
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'x-lark-request-timestamp': timestamp,
        'x-lark-request-nonce': nonce,
        'x-lark-signature': signLark(timestamp, nonce, ENCRYPT_KEY, body),
      },
    };
  });
  return { eventIds, requests };
}

async function fire(url: string, prepared: Prepared): Promise<{ latencies: number[]; totalMs: number; bad: number }> {
  let bad = 0;
  const r = await runPool(prepared.requests.length, CONCURRENCY, async (i) => {
    const req = prepared.requests[i]!;
    const res = await fetch(url, { method: 'POST', headers: req.headers, body: req.body });
    await res.arrayBuffer();
    if (res.status !== 200) bad += 1;
  });
  return { ...r, bad };
}

/** The bare SDK: its dispatcher (which decrypts and checks the signature) behind adaptExpress, doing nothing. */
async function startBareSdk(): Promise<{ url: string; handled: () => number; close(): Promise<void> }> {
  let handled = 0;
  const dispatcher = new lark.EventDispatcher({ encryptKey: ENCRYPT_KEY, verificationToken: TOKEN, loggerLevel: lark.LoggerLevel.error }).register({
    'im.message.receive_v1': async () => {
      handled += 1;
      return {};
    },
  });
  const app = express();
  app.post('/webhook', lark.adaptExpress(dispatcher, { autoChallenge: true }));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/webhook`, handled: () => handled, close: () => new Promise((r) => server.close(() => r())) };
}

async function measure(backend: Backend): Promise<void> {
  const sdk = await startBareSdk();
  const banli = await startBanli(backend, { LARK_ENCRYPT_KEY: ENCRYPT_KEY, LARK_VERIFICATION_TOKEN: TOKEN });
  const db = banli.service.database.db;
  try {
    const banliUrl = `${banli.service.url}/lark/webhook`;
    // Warm both up (JIT, connections, the first inserts), then measure the SDK and Banli one after the other.
    await fire(sdk.url, prepare(WARMUP, banli.lark.appId));
    await fire(banliUrl, prepare(WARMUP, banli.lark.appId));
    const forSdk = prepare(EVENTS, banli.lark.appId);
    const forBanli = prepare(EVENTS, banli.lark.appId);
    const handledBefore = sdk.handled();
    const s = await fire(sdk.url, forSdk);
    const b = await fire(banliUrl, forBanli);
    const drainStart = Date.now();
    const stored = await db.selectFrom('inbox').select('event_id').where('event_id', 'in', forBanli.eventIds).execute();
    let unfinished = EVENTS;
    while (unfinished > 0 && Date.now() - drainStart < 120_000) {
      unfinished = (await db.selectFrom('inbox').select('id').where('handled_at', 'is', null).execute()).length;
      if (unfinished > 0) await new Promise((r) => setTimeout(r, 100));
    }
    const sf: Figures = figures(s.latencies, s.totalMs);
    const bf: Figures = figures(b.latencies, b.totalMs);
    console.log(`\nwebhook acknowledgement [${backend}], ${EVENTS} signed+encrypted events, ${CONCURRENCY} concurrent`);
    console.log(`  bare SDK (EventDispatcher + adaptExpress, no-op): ${show(sf)}; non-200: ${s.bad}; handler ran ${sdk.handled() - handledBefore}×`);
    console.log(`  Banli (verify, store in inbox, answer):            ${show(bf)}; non-200: ${b.bad}; stored before the answer: ${stored.length}/${EVENTS}`);
    console.log(`  ratios Banli/SDK: throughput ${(bf.perSecond / sf.perSecond).toFixed(2)}× (target ≥ 0.9×), p99 ${(bf.p99 / sf.p99).toFixed(2)}× (target ≤ 1.2×), p50 ${(bf.p50 / sf.p50).toFixed(2)}×`);
    console.log(`  the inbox was empty again (every event finished) ${((Date.now() - drainStart) / 1000).toFixed(1)} s after the last answer${unfinished ? ` — ${unfinished} still unfinished` : ''}`);
  } finally {
    await sdk.close();
    await banli.stop();
  }
}

for (const backend of backends()) await measure(backend);
