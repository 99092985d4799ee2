import path from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { projectRoot, SandboxError, type Sandbox } from './sandbox.ts';

// The sandbox's HTTP side: the page (static files, no build step), a small JSON API for what a person does in the
// chat window, and a server-sent event stream of everything that appears or changes in the chats.

const sayBody = z.object({ chatId: z.string().min(1), from: z.string().min(1), text: z.string().max(4000) });
const clickBody = z.object({
  messageId: z.string().min(1),
  operator: z.string().min(1),
  value: z.unknown(),
  formValue: z.record(z.string(), z.unknown()).optional(),
  name: z.string().optional(),
  tag: z.string().optional(),
  option: z.string().optional(),
});
const renameBody = z.object({ name: z.string() });
const newDayBody = z.object({ date: z.string() });
const fileQuery = z.object({ chatId: z.string().min(1), from: z.string().min(1), name: z.string().min(1) });

type Handler = (req: Request, res: Response) => Promise<unknown>;

function json(handler: Handler) {
  return (req: Request, res: Response, next: NextFunction) => {
    handler(req, res)
      .then((body) => {
        if (!res.headersSent) res.json(body ?? { ok: true });
      })
      .catch((err: unknown) => {
        if (err instanceof SandboxError) return res.status(err.status).json({ error: err.message });
        if (err instanceof z.ZodError) return res.status(400).json({ error: '请求内容不完整', issues: err.issues });
        next(err);
      });
  };
}

/** GET / leads to the sandbox; /sandbox serves the chat window, /sandbox/api/* what it does. */
export function sandboxRouter(sandbox: Sandbox): Router {
  const router = express.Router();
  const root = projectRoot();
  const publicDir = path.join(root, 'src', 'sandbox', 'public');

  router.get('/', (_req, res) => res.redirect(302, '/sandbox'));
  router.get('/sandbox', (_req, res) => res.sendFile(path.join(publicDir, 'index.html')));
  router.use('/sandbox/assets', express.static(publicDir, { index: false, fallthrough: false }));

  const api = express.Router();
  api.use(express.json({ limit: '1mb' }));
  api.get('/state', json(async () => sandbox.state()));
  api.get('/chats/:chatId/messages', json(async (req) => ({ messages: sandbox.messages(String(req.params.chatId)) })));
  api.post(
    '/say',
    json(async (req) => {
      const body = sayBody.parse(req.body);
      return sandbox.say(body.chatId, body.from, body.text);
    }),
  );
  api.post(
    '/click',
    json(async (req) => {
      const body = clickBody.parse(req.body);
      return sandbox.click({
        messageId: body.messageId,
        operatorOpenId: body.operator,
        value: body.value,
        ...(body.formValue ? { formValue: body.formValue } : {}),
        ...(body.name ? { name: body.name } : {}),
        ...(body.tag ? { tag: body.tag } : {}),
        ...(body.option ? { option: body.option } : {}),
      });
    }),
  );
  api.post(
    '/people/:openId',
    json(async (req) => {
      await sandbox.rename(String(req.params.openId), renameBody.parse(req.body).name);
      return { people: sandbox.people() };
    }),
  );
  api.post(
    '/files',
    express.raw({ type: () => true, limit: '30mb' }),
    json(async (req) => {
      const q = fileQuery.parse(req.query);
      return sandbox.sendFile(q.chatId, q.from, q.name, Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
    }),
  );
  api.get('/files/:messageId', (req, res) => {
    const file = sandbox.fileOf(String(req.params.messageId));
    if (!file) {
      res.status(404).json({ error: '找不到这个文件' });
      return;
    }
    res.setHeader('content-type', 'application/octet-stream');
    res.setHeader('content-disposition', `attachment; filename="download"; filename*=UTF-8''${encodeURIComponent(file.name)}`);
    res.end(file.bytes);
  });
  api.post('/new-day', json(async (req) => sandbox.newDay(newDayBody.parse(req.body).date)));
  api.post(
    '/reset',
    json(async () => {
      await sandbox.reset();
      return sandbox.state();
    }),
  );
  api.get('/stream', (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    const unsubscribe = sandbox.subscribe((event, data) => {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    });
    // Proxies and browsers drop a silent stream; a comment every 20 s keeps it open.
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 20_000);
    const stop = () => {
      clearInterval(keepAlive);
      unsubscribe();
      sandbox.streams.delete(end);
    };
    // Shutdown ends the open streams, or the HTTP server would wait for the browser to go away.
    const end = () => {
      stop();
      res.end();
    };
    sandbox.streams.add(end);
    req.on('close', stop);
  });
  router.use('/sandbox/api', api);
  return router;
}
