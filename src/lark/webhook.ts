import * as lark from '@larksuiteoapi/node-sdk';
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import type { CardResponse, ChatHandler } from '../chat/handler.ts';
import { normalizeCardAction, normalizeMessage } from './normalize.ts';
import { verifyLarkRequest } from './verify.ts';

// The door from Lark: one dispatcher serves the webhook and the long connection. Message events are acknowledged
// at once and handled after the answer; card clicks are answered with a toast and the updated card within Lark's
// 3 seconds. No handler error reaches Lark as a 5xx (which would make it retry for hours): it is logged, and the
// user is told.

const CARD_ANSWER_BUDGET_MS = 2500;

/** Only the id of an event goes to the logs: the rest carries the verification token and people's messages. */
function eventIdOf(data: unknown): unknown {
  return typeof data === 'object' && data !== null && 'event_id' in data ? data.event_id : undefined;
}

export interface DispatcherDeps {
  handler: ChatHandler;
  logger: Logger;
  /** Work still running after its event was acknowledged; shutdown waits for it. */
  track(work: Promise<unknown>): void;
}

/** The SDK dispatcher with Banli's handlers registered. */
export function createDispatcher(deps: DispatcherDeps): lark.EventDispatcher {
  const { handler, logger } = deps;
  // Messages are handled after their acknowledgement; within one chat they are handled in the order they came, so
  // "认领 562" followed at once by "进展 562 …" never finds the case unclaimed.
  const chains = new Map<string, Promise<void>>();
  const inChatOrder = (chatId: string, work: () => Promise<void>): Promise<void> => {
    const next = (chains.get(chatId) ?? Promise.resolve()).then(work);
    chains.set(chatId, next);
    void next.finally(() => {
      if (chains.get(chatId) === next) chains.delete(chatId);
    });
    return next;
  };
  const dispatcher = new lark.EventDispatcher({ loggerLevel: lark.LoggerLevel.error });
  dispatcher.register({
    'im.message.receive_v1': async (data: unknown) => {
      const msg = normalizeMessage(data);
      if (!msg) {
        logger.warn({ eventId: eventIdOf(data) }, 'ignored a malformed message event');
        return {};
      }
      deps.track(
        inChatOrder(msg.chatId, () =>
          handler.handleMessage(msg).catch(async (err: unknown) => {
            logger.error({ err, eventId: msg.eventId }, 'handling a message failed');
            await handler.reportFailure(msg).catch((e: unknown) => logger.error({ err: e }, 'could not tell the user about a failure'));
          }),
        ),
      );
      return {};
    },
    'card.action.trigger': async (data: unknown): Promise<CardResponse> => {
      const action = normalizeCardAction(data);
      if (!action) {
        logger.warn({ eventId: eventIdOf(data) }, 'ignored a malformed card callback');
        return { toast: { type: 'error', content: '无法识别这次点击，请重新获取卡片后再试。' } };
      }
      const work = handler.handleCardAction(action).catch((err: unknown): CardResponse => {
        logger.error({ err, eventId: action.eventId }, 'handling a card click failed');
        return { toast: { type: 'error', content: '操作失败，请稍后重试；如仍失败请联系管理员。' } };
      });
      deps.track(work);
      let timer: NodeJS.Timeout | undefined;
      let answeredEarly = true;
      const late = new Promise<CardResponse>((resolve) => {
        timer = setTimeout(() => {
          answeredEarly = false;
          resolve({ toast: { type: 'info', content: '正在处理，卡片稍后自动更新。' } });
        }, CARD_ANSWER_BUDGET_MS);
      });
      // Lark has already shown "正在处理" by the time a late click finishes: a refusal or failure would be lost with the
      // toast Lark no longer waits for, so the clicker is told in a private message instead.
      deps.track(
        work.then(async (r) => {
          if (answeredEarly || r.toast?.type !== 'error') return;
          await handler
            .tellLater(action.operatorOpenId, `您刚才的操作没有完成：${r.toast.content}`)
            .catch((err: unknown) => logger.error({ err }, 'could not tell the user about a late refusal'));
        }),
      );
      try {
        return await Promise.race([work, late]);
      } finally {
        clearTimeout(timer);
      }
    },
  } as Record<string, (data: unknown) => Promise<unknown>>);
  return dispatcher;
}

export interface WebhookDeps {
  dispatcher: lark.EventDispatcher;
  encryptKey: string;
  verificationToken: string;
  logger: Logger;
  now(): number;
}

/** POST /lark/webhook: verify, then dispatch. */
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
      deps.logger.error({ err }, 'webhook dispatch failed');
      res.json({});
    }
  });
  return router;
}
