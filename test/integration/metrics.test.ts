import { afterAll, beforeAll, expect, it } from 'vitest';
import { ask, click, createTestDatabase, describeOnBackends, openCaseCard, say, seedCases, startHarness, until, USERS, type Harness } from '../support/harness.ts';

// What the operators' monitoring sees: /readyz for the load balancer, /metrics for Prometheus. The counters are
// scraped before and after real traffic (messages, a click, a send Lark refuses once) and must have moved by exactly
// what happened.

const SENDS = /^\/open-apis\/im\/v1\/messages/;

/** The value of one sample of the Prometheus text exposition, e.g. `banli_events_received_total{kind="message"}`. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no ${series} in\n${text}`);
  return Number(line.slice(series.length + 1));
}

/** A labelled counter that has not been incremented yet is absent: that reads as zero. */
const sampleOrZero = (text: string, series: string) => (text.includes(`\n${series} `) ? sample(text, series) : 0);

describeOnBackends('/readyz and /metrics', (backend) => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let h: Harness;
  const scrape = async () => {
    const res = await fetch(`${h.service.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  };

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    h = await startHarness({ database: db, today: '2024-03-21' });
    await seedCases(h, [{ caseNo: '20240601' }, { caseNo: '20240602' }]);
    // Creating the embedded database alone can take a minute on a loaded machine.
  }, 180_000);
  afterAll(async () => {
    await h?.stop();
    await h?.lark.close();
    await db?.drop();
  });

  it('/readyz is ready once migrated, with the sender and the inbox running, beside /healthz', async () => {
    const ready = await fetch(`${h.service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { migrations: true, sender: true, inbox: true, accepting: true, database: true } });
    expect((await fetch(`${h.service.url}/healthz`)).status).toBe(200);
  });

  it('after two messages, a click and a send Lark refused once, the counters moved by exactly that', async () => {
    const before = await scrape();
    for (const series of ['banli_inbox_depth', 'banli_outbox_depth', 'banli_outbox_failed', 'process_resident_memory_bytes']) {
      expect(Number.isFinite(sample(before, series))).toBe(true);
    }
    const received = (t: string, kind: string) => sample(t, `banli_events_received_total{kind="${kind}"}`);
    const handledOk = (t: string, kind: string) => sample(t, `banli_events_handled_total{kind="${kind}",outcome="ok"}`);
    const latencyCount = (t: string, kind: string) => sample(t, `banli_event_handling_seconds_count{kind="${kind}"}`);
    const sendFailures = (t: string) => sampleOrZero(t, 'banli_outbox_send_failures_total{verdict="retry"}');

    // Lark answers the first send with a server error: it is retried, and the failure is counted.
    h.lark.failNext(1, { status: 500, paths: SENDS });
    const card = await openCaseCard(h, USERS.zhang, '20240601');
    const answer = await click(h, USERS.zhang, card, '认领');
    expect(answer.toast?.type).toBe('success');
    await ask(h, USERS.li, '查询 20240602');

    const after = await until('the outbox to drain', async () => {
      const t = await scrape();
      return sample(t, 'banli_outbox_depth') === 0 ? t : null;
    });
    expect(received(after, 'message') - received(before, 'message')).toBe(2);
    expect(handledOk(after, 'message') - handledOk(before, 'message')).toBe(2);
    expect(latencyCount(after, 'message') - latencyCount(before, 'message')).toBe(2);
    expect(received(after, 'card_action') - received(before, 'card_action')).toBe(1);
    expect(handledOk(after, 'card_action') - handledOk(before, 'card_action')).toBe(1);
    expect(sample(after, 'banli_event_handling_seconds_sum{kind="card_action"}')).toBeGreaterThan(0);
    expect(sendFailures(after) - sendFailures(before)).toBe(1);
    expect(sample(after, 'banli_inbox_depth')).toBe(0);
    expect(sample(after, 'banli_outbox_failed')).toBe(0);
  });

  it('a message Lark refuses for good shows as failed in the outbox figures', async () => {
    h.lark.failNext(1, { status: 400, code: 230027, msg: 'Lack of necessary permissions.', paths: SENDS });
    const before = await scrape();
    await say(h, USERS.wang, '帮助');
    const after = await until('the refused message to be marked failed', async () => {
      const t = await scrape();
      return sample(t, 'banli_outbox_failed') === 1 ? t : null;
    });
    const permanent = 'banli_outbox_send_failures_total{verdict="permanent"}';
    expect(sampleOrZero(after, permanent) - sampleOrZero(before, permanent)).toBe(1);
  });

  it('/readyz turns 503 once the sender stops, so a load balancer moves traffic away', async () => {
    await h.service.sender.stop();
    const res = await fetch(`${h.service.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'not ready', checks: { sender: false } });
    h.service.sender.start();
    expect((await fetch(`${h.service.url}/readyz`)).status).toBe(200);
  });
});
