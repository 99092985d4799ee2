import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as Lark from '@larksuiteoapi/node-sdk';
import { lark } from './lark/sdk.ts';
import type { Router } from 'express';
import type { Logger } from 'pino';
import { buildCaseCard, buildRequestDecisionCard } from '../cards/index.ts';
import { loadCaseCardView, loadRequestView } from './cases/case.view.ts';
import { ChatHandler } from './chat/handler.ts';
import type { Config } from './config.ts';
import { createWorkCalendar, todayIn } from './domain/calendar.ts';
import type { Clocks } from './domain/clocks.ts';
import { createLarkClient, fetchBotOpenId, type LarkClient } from './lark/client.ts';
import { downloadMessageFile } from './lark/files.ts';
import { NameResolver } from './lark/names.ts';
import { rememberCaseCard, rememberRequestCard, type LiveCard } from './lark/outbox.ts';
import { openCaseIdsOf } from './cases/case.repository.ts';
import { caseChanged } from './cases/case-changed.ts';
import { OutboxSender } from './lark/outbox-sender.ts';
import { Inbox } from './inbox/inbox.ts';
import { createDispatcher, webhookRouter } from './lark/webhook.ts';
import { createLogger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics/metrics.ts';
import { createHttpApp } from './server.ts';
import { clocksFor, openMigrated } from './setup.ts';
import type { Database } from './storage/database.ts';
import { loadReminderCard, jobRanOn, rememberReminderCardMessage } from './reminders/reminder.repository.ts';
import { REMIND_JOB, renderReminderCard, renderReminderCards, runReminderJob, type ReminderDeps, type RemindSummary } from './reminders/reminder.job.ts';
import { ReminderScheduler } from './reminders/reminder.scheduler.ts';

export { clocksFor, openMigrated } from './setup.ts';

// Wires the service together: database, clocks, Lark client, outbox sender, handlers, HTTP (or long connection).

export interface Service {
  config: Config;
  database: Database;
  logger: Logger;
  clocks: Clocks;
  /** http://host:port of the listening server. */
  url: string;
  port: number;
  sender: OutboxSender;
  handler: ChatHandler;
  inbox: Inbox;
  metrics: Metrics;
  /** Runs the daily reminder job as of `date` (YYYY-MM-DD): once per date whatever the instances; a dry run writes nothing. */
  remind(date: string, opts?: { dryRun?: boolean }): Promise<RemindSummary>;
  /** Stops taking requests, finishes work in flight, delivers nothing half-way, closes the database. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Overrides the clock, for tests. */
  now?: () => Date;
  /** Outbox polling interval (ms). */
  pollIntervalMs?: number;
  /** More HTTP routes, served after /healthz and the webhook (the sandbox's page and API). */
  routers?: Router[];
  /** Runs the reminder job at BANLI_REMIND_AT and catches up at start (default true; tests drive it by date). */
  scheduleReminders?: boolean;
}

/** Starts Banli; resolves once it listens (and, in ws mode, has started the long connection). */
export async function startService(config: Config, opts: StartOptions = {}): Promise<Service> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const now = opts.now ?? (() => new Date());
  const clocks = clocksFor(config);
  const year = Number(todayIn(config.timezone, now()).slice(0, 4));
  const calendar = createWorkCalendar(config.calendarOverrides);
  for (const y of [year, year + 1]) {
    if (!calendar.knowsYear(y)) {
      logger.warn({ year: y }, 'the official holiday calendar of this year is not known: working days fall back to Monday-Friday; set BANLI_HOLIDAYS and BANLI_WORKDAYS');
    }
  }
  if (!config.lark.appId || !config.lark.appSecret) logger.warn('LARK_APP_ID / LARK_APP_SECRET are not set: Banli runs, but cannot send anything to Lark');
  if (!config.lark.encryptKey && !config.lark.verificationToken) {
    logger.warn('neither LARK_ENCRYPT_KEY nor LARK_VERIFICATION_TOKEN is set: the webhook refuses every request until one is');
  }

  const database = await openMigrated(config);
  const { db } = database;
  const metrics = createMetrics({ db, logger });
  const larkClient: LarkClient = createLarkClient({ ...config.lark, logger });
  let kickSender = () => {};
  // A name that arrives after a click was answered redraws the cards of the cases that person handles.
  const names = new NameResolver(db, config.lark.appId ? larkClient : null, logger, () => new Date(), async (openId) => {
    await db.transaction().execute(async (trx) => {
      for (const caseId of await openCaseIdsOf(trx, openId)) {
        await caseChanged(trx, { caseId, source: { kind: 'name', openId } });
      }
    });
    kickSender();
  });
  const today = () => todayIn(config.timezone, now());
  const viewContext = () => ({ today: today(), clocks, timeZone: config.timezone, resultClasses: config.resultClasses, maxRehandlings: config.maxRehandlings });

  let botOpenId: string | undefined;
  const learnBot = async () => {
    if (botOpenId || !config.lark.appId) return;
    try {
      botOpenId = await fetchBotOpenId(larkClient.client);
      if (botOpenId) logger.info({ botOpenId }, 'bot identity known');
    } catch (err) {
      logger.warn({ err }, 'could not read the bot identity yet; will retry');
    }
  };

  const reminderDeps: ReminderDeps = {
    db,
    calendar,
    clocks,
    timeZone: config.timezone,
    settings: config.reminders.settings,
    urgentSupervision: config.reminders.urgentSupervision,
    off: config.reminders.off,
    adminOpenIds: config.adminOpenIds,
    logger: logger.child({ component: 'reminders' }),
    today,
  };

  const renderCard = async (card: LiveCard): Promise<object | null> => {
    if (card.kind === 'reminder_card') return renderReminderCard(reminderDeps, card.cardId);
    if (card.kind === 'request_card') {
      const view = await loadRequestView(db, card.requestKind, card.requestId, { clocks });
      return view ? buildRequestDecisionCard(view) : null;
    }
    const view = await loadCaseCardView(db, card.caseId, viewContext(), card.notice);
    return view ? buildCaseCard(view) : null;
  };
  const sender = new OutboxSender({
    db,
    soleUser: database.kind === 'pglite',
    client: larkClient.client,
    logger: logger.child({ component: 'outbox' }),
    renderCard,
    // A morning's digests are drawn a claim at a time, in a few queries for all of them.
    renderCards: async (cards) => {
      const reminderIds = cards.flatMap((c) => (c.kind === 'reminder_card' ? [c.cardId] : []));
      const reminders = reminderIds.length > 0 ? await renderReminderCards(reminderDeps, reminderIds) : new Map<number, object | null>();
      const out: (object | null)[] = [];
      for (const card of cards) out.push(card.kind === 'reminder_card' ? (reminders.get(card.cardId) ?? null) : await renderCard(card));
      return out;
    },
    onCardSent: (trx, messageId, card, chatId) =>
      card.kind === 'case_card'
        ? rememberCaseCard(trx, messageId, card.caseId, chatId)
        : card.kind === 'reminder_card'
          ? rememberReminderCardMessage(trx, card.cardId, messageId)
          : rememberRequestCard(trx, messageId, card.requestKind, card.requestId),
    onDelivered: async (row, messageId, content) => {
      if (content.kind !== 'reminder_card' || row.receive_id_type !== 'open_id' || !row.receive_id) return;
      // Rows carry whether to buzz; one queued before they did is looked up.
      if (!(content.urgent ?? (await loadReminderCard(db, content.cardId))?.urgent)) return;
      // 加急 (buzz) the leader's 督办 card; needs the im:message.urgent scope.
      const res = (await larkClient.client.im.message.urgentApp({
        path: { message_id: messageId },
        params: { user_id_type: 'open_id' },
        data: { user_id_list: [row.receive_id] },
      })) as { code?: number; msg?: string } | undefined;
      if (res && typeof res.code === 'number' && res.code !== 0) throw new Error(`urgent_app refused: code ${res.code} ${res.msg ?? ''}`);
      logger.info({ messageId, openId: row.receive_id }, 'reminders: supervision card buzzed (加急)');
    },
    giveUpAfterMs: config.sendGiveUpMinutes * 60_000,
    clearTokenCache: () => larkClient.clearTokenCache(),
    onSendFailure: (verdict) => metrics.sendFailed(verdict),
    ...(opts.pollIntervalMs ? { pollIntervalMs: opts.pollIntervalMs } : {}),
  });

  kickSender = () => sender.kick();
  const handler = new ChatHandler({
    db,
    logger: logger.child({ component: 'chat' }),
    clocks,
    timeZone: config.timezone,
    resultClasses: config.resultClasses,
    maxRehandlings: config.maxRehandlings,
    adminOpenIds: config.adminOpenIds,
    today,
    names,
    botOpenId: () => botOpenId,
    kick: () => sender.kick(),
    remindAt: config.reminders.at,
    files: { download: (messageId, fileKey, maxBytes) => downloadMessageFile(larkClient.client, messageId, fileKey, maxBytes) },
  });

  const inFlight = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  const inbox = new Inbox({
    db,
    soleUser: database.kind === 'pglite',
    handlers: handler,
    logger: logger.child({ component: 'inbox' }),
    leaseMs: config.inbox.leaseSeconds * 1000,
    maxAttempts: config.inbox.attempts,
    track,
    metrics,
  });
  const dispatcher = createDispatcher({ inbox });

  const routers = config.lark.mode === 'webhook'
    ? [webhookRouter({ dispatcher, encryptKey: config.lark.encryptKey, verificationToken: config.lark.verificationToken, logger, now: () => Date.now() })]
    : [];
  let stopping = false;
  // openMigrated() returned, so the schema is current; the rest becomes true as the service comes up (the inbox once
  // what a previous run left unfinished has been taken up).
  let inboxStarted = false;
  const readiness = () => ({ migrations: true, sender: sender.running, inbox: inboxStarted, accepting: !stopping });
  const app = createHttpApp({ database, logger, routers: [...routers, ...(opts.routers ?? [])], readiness, metrics });
  const server = http.createServer(app);
  // server.close() only drops the keep-alive connections idle at that moment; one whose request finishes later would
  // hold shutdown until the client lets go (seconds), so it is closed as soon as its response is out.
  server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.on('finish', () => {
      if (stopping) setImmediate(() => server.closeIdleConnections());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  }).catch(async (err: unknown) => {
    await database.close();
    throw err;
  });
  const port = (server.address() as AddressInfo).port;

  let ws: Lark.WSClient | undefined;
  if (config.lark.mode === 'ws') {
    ws = new lark.WSClient({ appId: config.lark.appId, appSecret: config.lark.appSecret, domain: config.lark.domain, loggerLevel: lark.LoggerLevel.warn });
    await ws.start({ eventDispatcher: dispatcher });
    logger.info('long connection to Lark started');
  }

  sender.start();
  const remind = async (date: string, o: { dryRun?: boolean; trigger?: string } = {}): Promise<RemindSummary> => {
    const summary = await runReminderJob(reminderDeps, date, { dryRun: o.dryRun ?? false, trigger: o.trigger ?? 'manual' });
    if (summary.status === 'sent') sender.kick();
    return summary;
  };
  const scheduler = opts.scheduleReminders === false
    ? null
    : new ReminderScheduler({
        at: config.reminders.at,
        timeZone: config.timezone,
        now,
        logger: logger.child({ component: 'reminders' }),
        run: (date, trigger) => remind(date, { trigger }),
        ranOn: (date) => jobRanOn(db, REMIND_JOB, date),
      });
  scheduler?.start();
  // What a previous run acknowledged and did not finish is handled first.
  await inbox.start();
  inboxStarted = true;
  void learnBot();
  const botTimer = setInterval(() => void learnBot(), 60_000);
  botTimer.unref();
  // Lark resends an unacknowledged event for hours; remembering each for a few days covers every resend.
  const pruneTimer = setInterval(() => {
    const cutoff = new Date(Date.now() - config.eventRetentionHours * 3600_000);
    inbox.prune(cutoff).catch((err: unknown) => logger.warn({ err }, 'pruning the inbox failed'));
  }, 3600_000);
  pruneTimer.unref();

  logger.info({ port, database: database.kind, mode: config.lark.mode }, 'banli started');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(botTimer);
      clearInterval(pruneTimer);
      stopping = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (ws) ws.close({ force: true });
      await stopped;
      await scheduler?.stop();
      await inbox.stop();
      await Promise.allSettled([...inFlight]);
      await sender.stop();
      await database.close();
      logger.info('banli stopped');
    })());

  return { config, database, logger, clocks, url: `http://127.0.0.1:${port}`, port, sender, handler, inbox, metrics, remind: (date, o) => remind(date, o ?? {}), close };
}
