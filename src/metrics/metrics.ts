import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Db } from '../storage/database.ts';
import { inboxDepth, outboxCounts, remindersSent } from './metrics.repository.ts';

// What the operators' Prometheus scrapes from /metrics. Counters of this process (events received and handled, how
// long handling took, failed send attempts) live in memory; depths and totals that must agree across instances and
// survive restarts (inbox, outbox, reminders) are read from the database at each scrape.

/** The kind of event, as a label: a chat message or a card click. */
export type EventKind = 'message' | 'card_action';

export interface Metrics {
  registry: Registry;
  /** A verified event from Lark (webhook or long connection), before it is handled. */
  eventReceived(kind: EventKind): void;
  /** An event's handling ended; seconds from its arrival. */
  eventHandled(kind: EventKind, outcome: 'ok' | 'failed', seconds: number): void;
  /** A send to Lark failed (it may be retried). */
  sendFailed(verdict: 'retry' | 'token' | 'permanent'): void;
  /** The Prometheus text exposition. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** A registry of Banli's metrics; `db` answers the durable gauges at scrape time. */
export function createMetrics(opts: { db: Db; logger: Logger; defaultMetrics?: boolean }): Metrics {
  const registry = new Registry();
  // Resident memory, heap, event-loop lag, open handles: what an operator checks first on a small server.
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const received = new Counter({
    name: 'banli_events_received_total',
    help: 'Verified events received from Lark, by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const handled = new Counter({
    name: 'banli_events_handled_total',
    help: 'Events whose handling ended, by kind and outcome',
    labelNames: ['kind', 'outcome'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'banli_event_handling_seconds',
    help: 'Time from receiving an event to the end of its handling, by kind',
    labelNames: ['kind'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const sendFailures = new Counter({
    name: 'banli_outbox_send_failures_total',
    help: 'Failed attempts to send a message to Lark, by what was done about it (retry, renew the token, give up)',
    labelNames: ['verdict'] as const,
    registers: [registry],
  });
  for (const kind of ['message', 'card_action'] as const) {
    received.inc({ kind }, 0);
    latency.zero({ kind });
    for (const outcome of ['ok', 'failed'] as const) handled.inc({ kind, outcome }, 0);
  }

  // One database round for all the durable figures per scrape, whichever gauge asks first.
  let pending: Promise<{ outbox: { pending: number; failed: number }; inbox: number; reminders: number | null }> | null = null;
  const durable = () =>
    (pending ??= (async () => {
      try {
        return { outbox: await outboxCounts(opts.db), inbox: await inboxDepth(opts.db), reminders: await remindersSent(opts.db) };
      } finally {
        setImmediate(() => (pending = null));
      }
    })());
  const fromDb = (read: (d: Awaited<ReturnType<typeof durable>>) => number | null) =>
    async function (this: Gauge) {
      try {
        const v = read(await durable());
        if (v !== null) this.set(v);
      } catch (err) {
        // The scrape still answers (process figures, counters); the stale value shows the database was not read.
        opts.logger.warn({ err }, 'metrics: reading the database failed');
      }
    };
  new Gauge({ name: 'banli_inbox_depth', help: 'Events acknowledged to Lark and not handled yet', registers: [registry], collect: fromDb((d) => d.inbox) });
  new Gauge({ name: 'banli_outbox_depth', help: 'Messages waiting to be sent to Lark', registers: [registry], collect: fromDb((d) => d.outbox.pending) });
  new Gauge({ name: 'banli_outbox_failed', help: 'Messages given up on (marked failed) and never sent', registers: [registry], collect: fromDb((d) => d.outbox.failed) });
  new Gauge({ name: 'banli_reminders_sent', help: 'Reminders sent, as recorded in the database (all instances)', registers: [registry], collect: fromDb((d) => d.reminders) });

  return {
    registry,
    eventReceived: (kind) => received.inc({ kind }),
    eventHandled: (kind, outcome, seconds) => {
      handled.inc({ kind, outcome });
      latency.observe({ kind }, seconds);
    },
    sendFailed: (verdict) => sendFailures.inc({ verdict }),
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}
