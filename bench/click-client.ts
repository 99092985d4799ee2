// The clicking side of bench/clicks.ts, in a worker thread of its own: Lark's servers are not inside Banli, so the
// signing, encrypting and HTTP of 50 clickers must not take the service's thread from it. Receives the clicks to
// make, signs and encrypts them all before the clock starts (that is Lark's work, not Banli's), posts them to the
// webhook with `concurrency` in flight over kept-alive connections, and sends back each answer and its latency.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { createEventSender } from '../src/sandbox/lark/events.ts';
import { runPool } from './support.ts';

export interface ClickClientInput {
  url: string;
  appId: string;
  verificationToken: string;
  encryptKey: string;
  concurrency: number;
  clicks: Array<{ operatorOpenId: string; openMessageId: string; openChatId: string; value: Record<string, unknown> }>;
}

export interface ClickClientOutput {
  latencies: number[];
  totalMs: number;
  answers: Array<{ status: number; toast?: { type: string; content: string } }>;
  /** How long this thread's event loop was busy during the clicks (ms). */
  busyMs: number;
}

const input = workerData as ClickClientInput;
const events = createEventSender({ url: input.url, appId: input.appId, verificationToken: input.verificationToken, encryptKey: input.encryptKey });
const requests = input.clicks.map((c) => events.cardActionRequest(c));
const agent = new http.Agent({ keepAlive: true, maxSockets: input.concurrency });

/** One POST to the webhook; resolves with the status and the body. */
function post(req: { headers: Record<string, string>; body: string }): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request(input.url, { method: 'POST', agent, headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(req.body);
  });
}

const answers: ClickClientOutput['answers'] = [];
const elu0 = performance.eventLoopUtilization();
const run = await runPool(requests.length, input.concurrency, async (i) => {
  const res = await post(requests[i]!);
  const body = (res.status === 200 ? JSON.parse(res.text) : {}) as { toast?: { type: string; content: string } };
  answers[i] = { status: res.status, ...(body.toast ? { toast: body.toast } : {}) };
});
agent.destroy();
const busyMs = performance.eventLoopUtilization(elu0).active;
parentPort!.postMessage({ latencies: run.latencies, totalMs: run.totalMs, answers, busyMs } satisfies ClickClientOutput);
