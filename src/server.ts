import express, { type Express, type Router } from 'express';
import type { Logger } from 'pino';
import type { Metrics } from './metrics/metrics.ts';
import type { Database } from './storage/database.ts';

/** What /readyz checks besides the database: each must be true before a load balancer sends traffic here. */
export type ReadinessChecks = () => Record<string, boolean>;

/** The HTTP surface: health, readiness, metrics and the Lark webhook. Handlers never see the workflow, only the transport. */
export function createHttpApp(deps: { database: Database; logger: Logger; routers: Router[]; readiness: ReadinessChecks; metrics: Metrics }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  // Liveness: the process answers and the database can be reached.
  app.get('/healthz', async (_req, res) => {
    const up = await deps.database.ping();
    res.status(up ? 200 : 503).json({ status: up ? 'ok' : 'unavailable', database: deps.database.kind });
  });
  // Readiness: this instance can take Lark's traffic now (schema migrated, sender running, not shutting down).
  app.get('/readyz', async (_req, res) => {
    const checks = { ...deps.readiness(), database: await deps.database.ping() };
    const ready = Object.values(checks).every(Boolean);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_req, res) => {
    try {
      const { contentType, body } = await deps.metrics.render();
      res.type(contentType).send(body);
    } catch (err) {
      deps.logger.error({ err }, 'rendering /metrics failed');
      res.status(500).type('text/plain').send('metrics unavailable\n');
    }
  });
  for (const r of deps.routers) app.use(r);
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  return app;
}
