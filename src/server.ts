import express, { type Express, type Router } from 'express';
import type { Logger } from 'pino';
import type { Database } from './storage/database.ts';

/** The HTTP surface: health check and the Lark webhook. Handlers never see the workflow, only the transport. */
export function createHttpApp(deps: { database: Database; logger: Logger; routers: Router[] }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  app.get('/healthz', async (_req, res) => {
    const up = await deps.database.ping();
    res.status(up ? 200 : 503).json({ status: up ? 'ok' : 'unavailable', database: deps.database.kind });
  });
  for (const r of deps.routers) app.use(r);
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  return app;
}
