import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { describe } from 'vitest';
import { loadConfig, type Config } from '../../src/config.ts';
import { timelineLine } from '../../src/domain/timeline.ts';
import { applyImportPlan, planImport } from '../../src/import/apply.ts';
import type { ImportedCase } from '../../src/import/validate.ts';
import { clocksFor, startService, type Service } from '../../src/runtime.ts';
import { openDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { cardTexts, findButton, messageText } from './lark/cards.ts';
import { startLarkEmulator, type Card, type EmulatorUser, type LarkEmulator } from './lark/emulator.ts';
import { createEventSender, type EventSender, type MessageSpec } from './lark/events.ts';

// Integration tests drive the real service over HTTP, signed like Lark, against the Lark emulator, on PGlite and on
// real PostgreSQL. Each suite gets its own database (a fresh PGlite folder, or a fresh PostgreSQL database).

export type Backend = 'pglite' | 'postgres';

const PG_URL = process.env.TEST_DATABASE_URL;
let warned = false;

/**
 * Runs the suite once per database backend (or only on those given); without TEST_DATABASE_URL the PostgreSQL run is
 * skipped, loudly.
 */
export function describeOnBackends(name: string, fn: (backend: Backend) => void, only: readonly Backend[] = ['pglite', 'postgres']): void {
  if (only.includes('pglite')) describe(`${name} [pglite]`, () => fn('pglite'));
  if (!only.includes('postgres')) return;
  if (PG_URL) {
    describe(`${name} [postgres]`, () => fn('postgres'));
  } else {
    if (!warned) {
      warned = true;
      console.warn('\n*** TEST_DATABASE_URL is not set: the PostgreSQL runs of the integration tests are SKIPPED. ***\n');
    }
    describe.skip(`${name} [postgres] — SKIPPED: TEST_DATABASE_URL not set`, () => fn('postgres'));
  }
}

/** A throw-away database for one suite; drop() removes it. */
export async function createTestDatabase(backend: Backend): Promise<{ url?: string; dataDir: string; drop(): Promise<void> }> {
  if (backend === 'pglite') {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'banli-test-'));
    return { dataDir, drop: async () => fs.rmSync(dataDir, { recursive: true, force: true }) };
  }
  if (!PG_URL) throw new Error('TEST_DATABASE_URL is not set');
  const name = `banli_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dataDir: '',
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** A scratch database of `backend`, opened and migrated, for suites that work on the storage without the service. */
export async function openTestDatabase(backend: Backend): Promise<{ database: Database; url?: string; close(): Promise<void> }> {
  const location = await createTestDatabase(backend);
  const database = await openDatabase({ url: location.url, dataDir: location.dataDir });
  await migrateToLatest(database.db);
  return {
    database,
    ...(location.url ? { url: location.url } : {}),
    close: async () => {
      await database.close();
      await location.drop();
    },
  };
}

export const USERS = {
  zhang: { openId: 'ou_zhangsan', name: '张三' },
  li: { openId: 'ou_lisi', name: '李四' },
  wang: { openId: 'ou_wangwu', name: '王五' },
  admin: { openId: 'ou_coordinator', name: '赵协调' },
  leader: { openId: 'ou_leader', name: '钱领导' },
} satisfies Record<string, EmulatorUser>;

export const GROUP = 'oc_group_elderly';

export interface HarnessOptions {
  encryptKey?: string;
  verificationToken?: string;
  /** The domain's "today"; the webhook's signature clock stays real. */
  today?: string;
  /** The domain's clock, when a test moves it from day to day (wins over `today`). */
  clock?: () => Date;
  env?: Record<string, string>;
  /** Reuse an emulator / database (for restarts and second instances). */
  lark?: LarkEmulator;
  database?: { url?: string; dataDir: string };
  /** Runs the reminder job on its schedule (off by default: tests run it by date with service.remind). */
  scheduleReminders?: boolean;
}

export interface Harness {
  service: Service;
  lark: LarkEmulator;
  events: EventSender;
  config: Config;
  database: { url?: string; dataDir: string };
  /** Stops the service (not the emulator or the database). */
  stop(): Promise<void>;
}

/** Starts the service against the emulator and a database. */
export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  if (!opts.database) throw new Error('startHarness needs a database');
  const lark = opts.lark ?? (await startLarkEmulator({ users: Object.values(USERS) }));
  const env: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    LARK_APP_ID: lark.appId,
    LARK_APP_SECRET: lark.appSecret,
    LARK_DOMAIN: lark.url,
    LARK_VERIFICATION_TOKEN: opts.verificationToken ?? 'test-verification-token',
    BANLI_ADMIN_OPEN_IDS: USERS.admin.openId,
    ...(opts.encryptKey ? { LARK_ENCRYPT_KEY: opts.encryptKey } : {}),
    ...(opts.database.url ? { DATABASE_URL: opts.database.url } : { BANLI_DATA_DIR: opts.database.dataDir }),
    ...opts.env,
  };
  const config = loadConfig(env);
  const today = opts.today;
  const service = await startService(config, {
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    pollIntervalMs: 50,
    scheduleReminders: opts.scheduleReminders ?? false,
    ...(opts.clock ? { now: opts.clock } : today ? { now: () => new Date(`${today}T10:00:00+08:00`) } : {}),
  });
  // In ws mode Lark pushes events down the service's own long connection (once the service has connected).
  const viaLongConnection = config.lark.mode === 'ws';
  const events = createEventSender({
    url: `${service.url}/lark/webhook`,
    appId: lark.appId,
    verificationToken: config.lark.verificationToken,
    encryptKey: config.lark.encryptKey,
    emulator: lark,
    ...(viaLongConnection ? { longConnection: lark } : {}),
  });
  return { service, lark, events, config, database: opts.database, stop: () => service.close() };
}

/** Puts cases straight into the database through the import code (as `npm run import -- --commit` would). */
export async function seedCases(h: Harness, cases: Array<Partial<ImportedCase> & { caseNo: string }>): Promise<Map<string, number>> {
  const full: ImportedCase[] = cases.map((c, i) => ({
    row: i + 2,
    kind: '建议',
    year: Number(c.caseNo.slice(0, 4)) || 2024,
    session: '市七届人大五次会议',
    title: `关于第${c.caseNo}号事项的建议`,
    proposer: '黄振辉',
    roleLabel: '主办',
    role: 'lead',
    leadUnit: '市民政局',
    assistingUnits: [],
    unit: null,
    assignedDate: '2024-03-20',
    fixedDueDate: null,
    disclosure: '主动公开',
    ...c,
  }));
  const db = h.service.database.db;
  const clocks = clocksFor(h.config);
  await db.transaction().execute(async (trx) => applyImportPlan(trx, await planImport(trx, full, clocks), null, 'test'));
  const rows = await db.selectFrom('cases').select(['id', 'case_no']).execute();
  return new Map(rows.map((r) => [r.case_no, r.id]));
}

let counter = 0;
/** A unique id for events and messages within a test run. */
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}_${Date.now().toString(36)}_${counter}_${randomBytes(3).toString('hex')}`;
}

// ---- Talking to the bot and clicking what it sent, as staff do (added for the chat integration tests) ----------

/** Where a message is said: a group (the bot must be @mentioned) or the one-to-one chat with the bot. */
export interface SayOptions {
  /** The group; GROUP by default. Ignored when p2p. */
  chatId?: string;
  p2p?: boolean;
  /** People @mentioned besides the bot; write each in `text` as `@名字`. */
  mention?: EmulatorUser[];
  eventId?: string;
}

/** A message as sent: its id and chat. */
export interface SaidMessage {
  messageId: string;
  chatId: string;
}

/** Sends `text` from `from` the way Lark delivers it (with @bot in groups); resolves once the webhook answered. */
export async function say(h: Harness, from: EmulatorUser, text: string, opts: SayOptions = {}): Promise<SaidMessage> {
  const chatId = opts.p2p ? h.lark.p2pChatId(from.openId) : (opts.chatId ?? GROUP);
  const mentions: Array<{ key: string; openId: string; name: string }> = [];
  let body = text;
  if (!opts.p2p) {
    mentions.push({ key: '@_user_1', openId: h.lark.botOpenId, name: '办理助手' });
    body = `@_user_1 ${body}`;
  }
  for (const person of opts.mention ?? []) {
    const key = `@_user_${mentions.length + 1}`;
    if (!body.includes(`@${person.name}`)) throw new Error(`say: "${text}" does not mention @${person.name}`);
    body = body.split(`@${person.name}`).join(key);
    mentions.push({ key, openId: person.openId, name: person.name });
  }
  const messageId = uid('om');
  const res = await h.events.message({
    chatId,
    chatType: opts.p2p ? 'p2p' : 'group',
    senderOpenId: from.openId,
    text: body,
    mentions,
    messageId,
    ...(opts.eventId ? { eventId: opts.eventId } : {}),
  });
  if (res.status !== 200) throw new Error(`say: the webhook answered HTTP ${res.status}`);
  return { messageId, chatId };
}

/** What the bot answered to a message. */
export interface BotAnswer {
  messageId: string;
  chatId: string;
  msgType: string;
  /** The text of a text message, or the visible text of a card. */
  text: string;
  /** The card, when the answer is one. */
  card?: Card;
}

/** Waits for the bot's reply to message `messageId`. */
export async function answerTo(h: Harness, messageId: string, timeoutMs = 8000): Promise<BotAnswer> {
  const sent = await h.lark.waitFor(() => h.lark.sent.find((m) => m.replyTo === messageId), timeoutMs);
  const card = sent.msgType === 'interactive' ? h.lark.latestCard(sent.messageId) : undefined;
  return {
    messageId: sent.messageId,
    chatId: sent.chatId,
    msgType: sent.msgType,
    text: messageText(sent.msgType, card ?? sent.content),
    ...(card ? { card } : {}),
  };
}

/** Says `text` and waits for the bot's answer. */
export async function ask(h: Harness, from: EmulatorUser, text: string, opts: SayOptions = {}): Promise<BotAnswer> {
  const said = await say(h, from, text, opts);
  return answerTo(h, said.messageId);
}

/** A card on someone's screen: the message that carries it. */
export interface CardOnScreen {
  messageId: string;
  chatId: string;
}

/**
 * Asks the bot for a case's card (“查询 <案号>”) and resolves once the service has recorded that the card shows the
 * case (so every later change patches it).
 */
export async function openCaseCard(h: Harness, from: EmulatorUser, caseNo: string, opts: SayOptions = {}): Promise<CardOnScreen & { card: Card }> {
  const answer = await ask(h, from, `查询 ${caseNo}`, opts);
  if (!answer.card) throw new Error(`openCaseCard: the bot answered with text: ${answer.text}`);
  const db = h.service.database.db;
  const deadline = Date.now() + 5000;
  while (!(await db.selectFrom('case_cards').select('message_id').where('message_id', '=', answer.messageId).executeTakeFirst())) {
    if (Date.now() > deadline) throw new Error(`openCaseCard: card ${answer.messageId} was never recorded as showing ${caseNo}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { messageId: answer.messageId, chatId: answer.chatId, card: answer.card };
}

// The answer to a click replaces the clicked card on screen (Lark does that; the emulator only sees patches).
const clickAnswers = new WeakMap<Harness, Map<string, { card: Card; at: number }>>();

/** The card as it looks now on screen: the newer of the last click answer on it and the last patch. */
export function cardOnScreen(h: Harness, messageId: string): Card {
  const answered = clickAnswers.get(h)?.get(messageId);
  const patch = [...h.lark.patches].reverse().find((p) => p.messageId === messageId);
  if (answered && (!patch || patch.at <= answered.at)) return answered.card;
  const card = h.lark.latestCard(messageId);
  if (!card) throw new Error(`no card ${messageId} in the emulator`);
  return card;
}

/** The visible text of a card on screen. */
export function screenText(h: Harness, messageId: string): string {
  return cardTexts(cardOnScreen(h, messageId)).join('\n');
}

/** Waits until the card on screen shows `expected` (a substring or a test on its text). */
export async function waitForCardText(h: Harness, messageId: string, expected: string | ((text: string) => boolean), timeoutMs = 8000): Promise<string> {
  const ok = typeof expected === 'string' ? (t: string) => t.includes(expected) : expected;
  return h.lark.waitFor(() => {
    const t = screenText(h, messageId);
    return ok(t) ? t : null;
  }, timeoutMs);
}

/** What a click answered: the HTTP status, the toast and the card Lark puts in place of the clicked one. */
export interface ClickAnswer {
  status: number;
  toast?: { type: string; content: string };
  card?: Card;
}

/** The `name`s of the fields in the form a submit button belongs to. */
export function formFieldNames(card: Card, formName: string): string[] {
  const names: string[] = [];
  const walk = (value: unknown, inForm: boolean): void => {
    if (Array.isArray(value)) return value.forEach((v) => walk(v, inForm));
    if (typeof value !== 'object' || value === null) return;
    const el = value as Record<string, unknown>;
    const here = inForm || (el.tag === 'form' && el.name === formName);
    if (here && el.tag !== 'button' && el.tag !== 'form' && typeof el.name === 'string') names.push(el.name);
    for (const [key, child] of Object.entries(el)) if (key !== 'behaviors' && key !== 'value') walk(child, here);
  };
  walk(card, false);
  return names;
}

/** Posts a card callback and reads the answer; records the answer card as what the clicker's card now shows. */
export async function postClick(
  h: Harness,
  who: EmulatorUser,
  on: CardOnScreen,
  value: unknown,
  formValue?: Record<string, unknown>,
  opts: { eventId?: string } = {},
): Promise<ClickAnswer> {
  const res = await h.events.cardAction({
    operatorOpenId: who.openId,
    openMessageId: on.messageId,
    openChatId: on.chatId,
    value,
    ...(formValue ? { formValue } : {}),
    ...(opts.eventId ? { eventId: opts.eventId } : {}),
  });
  const body = (await res.json().catch(() => ({}))) as { toast?: { type: string; content: string }; card?: { type?: string; data?: Card } };
  const answer: ClickAnswer = { status: res.status };
  if (body.toast) answer.toast = body.toast;
  if (body.card?.data) {
    answer.card = body.card.data;
    let screens = clickAnswers.get(h);
    if (!screens) clickAnswers.set(h, (screens = new Map()));
    screens.set(on.messageId, { card: body.card.data, at: Date.now() });
  }
  return answer;
}

/**
 * Clicks the button labelled `label` on the card as it looks now; for a form's submit button, `form` holds the
 * values keyed by the field names the card's form really has (a name not in the form throws).
 */
export async function click(
  h: Harness,
  who: EmulatorUser,
  on: CardOnScreen,
  label: string | RegExp,
  form?: Record<string, string>,
  opts: { eventId?: string } = {},
): Promise<ClickAnswer> {
  // A person looks at the card once it has settled: a card update rendered before the last click and delivered after
  // its answer shows the older state for a moment, until the update queued by that click lands too.
  await outboxSettled(h);
  const card = cardOnScreen(h, on.messageId);
  const button = findButton(card, label);
  if (form !== undefined) {
    if (!button.isSubmit || !button.formName) throw new Error(`click: "${button.text}" does not submit a form`);
    const fields = formFieldNames(card, button.formName);
    for (const key of Object.keys(form)) {
      if (!fields.includes(key)) throw new Error(`click: form ${button.formName} has no field ${key}; it has ${fields.join(', ')}`);
    }
  }
  return postClick(h, who, on, button.value, form, opts);
}

/** A case row by number. */
export async function caseRow(h: Harness, caseNo: string) {
  return h.service.database.db.selectFrom('cases').selectAll().where('case_no', '=', caseNo).executeTakeFirstOrThrow();
}

/** The timeline of a case, oldest first: event type, who did it, and its note. */
export async function timelineOf(h: Harness, caseNo: string): Promise<Array<{ type: string; actor: string | null; note: string | null }>> {
  const rows = await h.service.database.db
    .selectFrom('case_events')
    .innerJoin('cases', 'cases.id', 'case_events.case_id')
    .select(['case_events.type', 'case_events.actor_open_id', 'case_events.facts'])
    .where('cases.case_no', '=', caseNo)
    .orderBy('case_events.id')
    .execute();
  // The timeline stores facts; its line is rendered as a card would show it (with the names stored in the facts).
  return rows.map((r) => ({ type: r.type, actor: r.actor_open_id, note: timelineLine(r.facts) }));
}

/** A group message that @mentions the bot, as Lark delivers it (fresh message and event ids). */
export function toBot(h: Harness, senderOpenId: string, text: string, extra: Partial<MessageSpec> = {}): MessageSpec {
  return {
    chatId: GROUP,
    chatType: 'group',
    senderOpenId,
    text: `@_user_1 ${text}`,
    mentions: [{ key: '@_user_1', openId: h.lark.botOpenId, name: '办理助手' }],
    messageId: uid('om'),
    eventId: uid('ev'),
    ...extra,
  };
}

/** Polls until the probe gives something truthy, or fails naming what it waited for. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits (up to a few seconds) until nothing is waiting in the outbox. */
export async function outboxSettled(h: Harness, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const pending = await h.service.database.db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow();
    if (Number(pending.n) === 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Sends a file to the bot as Lark delivers it (a `file` message, no mentions); its bytes become downloadable. */
export async function sendFile(h: Harness, from: EmulatorUser, fileName: string, bytes: Buffer, opts: { p2p?: boolean; chatId?: string } = {}): Promise<SaidMessage> {
  const chatId = opts.p2p === false ? (opts.chatId ?? GROUP) : h.lark.p2pChatId(from.openId);
  const messageId = uid('om');
  const fileKey = h.lark.userFile(bytes);
  const res = await h.events.message({
    chatId,
    chatType: opts.p2p === false ? 'group' : 'p2p',
    senderOpenId: from.openId,
    text: '',
    messageId,
    file: { fileKey, fileName },
  });
  if (res.status !== 200) throw new Error(`sendFile: the webhook answered HTTP ${res.status}`);
  return { messageId, chatId };
}

/** The files the bot sent in answer to a message, in order, once `count` of them have arrived. */
export async function filesAnswering(h: Harness, messageId: string, count: number, timeoutMs = 15_000) {
  const sent = await h.lark.waitFor(() => {
    const files = h.lark.sent.filter((m) => m.replyTo === messageId && m.msgType === 'file');
    return files.length >= count ? files : null;
  }, timeoutMs);
  return sent.map((m) => {
    const file = h.lark.fileOf(m.messageId);
    if (!file) throw new Error(`file message ${m.messageId} carries no uploaded file`);
    return file;
  });
}
