// The clicking side of bench/clicks.ts, in a worker thread of its own: Lark's servers are not inside Banli, so the
// signing, encrypting and HTTP of 50 clickers must not take the service's thread from it. Receives the clicks to
// make, posts them to the webhook with `concurrency` in flight, and sends back each answer and its latency.
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
const answers: ClickClientOutput['answers'] = [];
const elu0 = performance.eventLoopUtilization();
const run = await runPool(input.clicks.length, input.concurrency, async (i) => {
  const res = await events.cardAction(input.clicks[i]!);
  const body = (await res.json()) as { toast?: { type: string; content: string } };
  answers[i] = { status: res.status, ...(body.toast ? { toast: body.toast } : {}) };
});
const busyMs = performance.eventLoopUtilization(elu0).active;
parentPort!.postMessage({ latencies: run.latencies, totalMs: run.totalMs, answers, busyMs } satisfies ClickClientOutput);
