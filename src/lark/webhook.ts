import type * as Lark from '@larksuiteoapi/node-sdk';
import { lark } from './sdk.ts';
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import type { Inbox } from '../inbox/inbox.ts';
import { verifyLarkRequest } from './verify.ts';

// The door from Lark: one dispatcher serves the webhook and the long connection, and hands every event to the inbox.
// A message is acknowledged once it is stored (handling follows from the inbox); a card click is stored, handled and
// answered with a toast and the updated card within Lark's 3 seconds. No handler error reaches Lark as a 5xx (which
// would make it retry for hours): it is logged, and the user is told.

/** The SDK dispatcher with Banli's handlers registered. */
export function createDispatcher(deps: { inbox: Inbox }): Lark.EventDispatcher {
  const dispatcher = new lark.EventDispatcher({ loggerLevel: lark.LoggerLevel.error });
  dispatcher.register({
    'im.message.receive_v1': async (data: unknown) => {
      await deps.inbox.receiveMessage(data);
      return {};
    },
    'card.action.trigger': (data: unknown) => deps.inbox.receiveClick(data),
  } as Record<string, (data: unknown) => Promise<unknown>>);
  return dispatcher;
}

export interface WebhookDeps {
  dispatcher: Lark.EventDispatcher;
  encryptKey: string;
  verificationToken: string;
  logger: Logger;
  now(): number;
}

/** POST /lark/webhook: verify (no database involved), then dispatch; answered only once the event is stored. */
export function webhookRouter(deps: WebhookDeps): Router {
  const router = express.Router();
  router.post('/lark/webhook', express.raw({ type: () => true, limit: '2mb' }), async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const verdict = verifyLarkRequest(raw, req.headers, {
      encryptKey: deps.encryptKey,
      verificationToken: deps.verificationToken,
      now: deps.now(),
    });
    if (!verdict.ok) {
      deps.logger.warn({ reason: verdict.reason, ip: req.ip }, 'refused a webhook request');
      res.status(verdict.status).json({ code: verdict.status, msg: verdict.reason });
      return;
    }
    const payload = verdict.payload;
    if (payload.type === 'url_verification') {
      res.json({ challenge: payload.challenge });
      return;
    }
    try {
      const result = await deps.dispatcher.invoke(payload, { needCheck: false });
      res.json(typeof result === 'object' && result !== null ? result : {});
    } catch (err) {
      // Not stored: a 5xx makes Lark deliver the event again (clicks are never resent, so their toast says so).
      deps.logger.error({ err }, 'webhook dispatch failed');
      res.status(503).json({ code: 503, msg: 'event not stored, please resend' });
    }
  });
  return router;
}
