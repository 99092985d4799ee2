// The sandbox: Banli without a Feishu app. An in-process Lark emulator stands in for Lark; the service talks to it
// through the SDK exactly as it talks to Feishu, and what a person types in the browser reaches the service as Lark
// would deliver it: signed and encrypted, through the same webhook verification. The sandbox keeps its own
// embedded database beside the real one, so trying Banli never touches real data.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { todayIn } from '../domain/calendar.ts';
import { applyImportPlan, planImport } from '../import/apply.ts';
import { readImportFile } from '../import/read.ts';
import { validateRows } from '../import/validate.ts';
import type { RemindSummary } from '../reminders/reminder.job.ts';
import { startService, type Service } from '../runtime.ts';
import { startLarkEmulator, type Card, type ChatEntry, type ChatInfo, type LarkEmulator } from './lark/emulator.ts';
import { createEventSender, type EventSender, type MentionSpec } from './lark/events.ts';
import { sandboxRouter } from './routes.ts';
import { BOT_NAME, COORDINATORS_CHAT, PEOPLE, START_DATE, UNIT, UNIT_CHAT, personById } from './world.ts';
import { caseCount, renamePerson, seedWorld, wipeAll } from './world.repository.ts';

const TIME_ZONE = 'Asia/Shanghai';
const TZ_OFFSET = '+08:00';

/** The project's root (where package.json is), found from this file whether it runs from src/ or compiled. */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'src', 'sandbox'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('the sandbox cannot find the project folder (package.json with src/sandbox/)');
    dir = up;
  }
}

/** The sample cases shipped with the project. */
export function sampleCasesPath(): string {
  return path.join(projectRoot(), 'src', 'sandbox', 'sample-cases.csv');
}

/** The sandbox's own embedded database folder, beside the real one. */
export function sandboxDataDir(config: Config): string {
  return `${config.dataDir.replace(/[\\/]+$/, '')}-sandbox`;
}

/** A clock that runs at real speed from a chosen day (the "new day" control moves it). */
class SandboxClock {
  private offsetMs = 0;
  date = START_DATE;

  set(date: string): void {
    const realMidnight = Date.parse(`${todayIn(TIME_ZONE, new Date())}T00:00:00${TZ_OFFSET}`);
    this.offsetMs = Date.parse(`${date}T00:00:00${TZ_OFFSET}`) - realMidnight;
    this.date = date;
  }

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

export interface ClickInput {
  messageId: string;
  operatorOpenId: string;
  value: unknown;
  formValue?: Record<string, unknown>;
  name?: string;
  tag?: string;
  option?: string;
}

export interface ClickAnswer {
  toast?: { type: string; content: string };
  card?: Card;
}

export interface NewDayResult {
  date: string;
  /** What the reminder job did that morning. */
  summary: RemindSummary;
}

export class SandboxError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A running sandbox: the service, the emulator playing Lark, and what the page can do. */
export class Sandbox {
  service!: Service;
  private events!: EventSender;
  private readonly listeners = new Set<(event: string, data: unknown) => void>();
  /** Files people sent, by file_key (the emulator keeps only the bytes). */
  private readonly userFiles = new Map<string, { name: string; bytes: Buffer }>();
  /** What people typed, as they typed it (Lark's copy has @_user_N placeholders). */
  private readonly typed = new Map<string, string>();
  /** Ends each open event stream (at shutdown). */
  readonly streams = new Set<() => void>();

  constructor(
    readonly lark: LarkEmulator,
    readonly clock: SandboxClock,
    readonly logger: Logger,
  ) {
    lark.onChange((change) => this.broadcast(change.type, this.view(change.entry)));
  }

  attach(service: Service, secrets: { encryptKey: string; verificationToken: string }): void {
    this.service = service;
    this.events = createEventSender({
      url: `${service.url}/lark/webhook`,
      appId: this.lark.appId,
      encryptKey: secrets.encryptKey,
      verificationToken: secrets.verificationToken,
      tenantKey: this.lark.tenantKey,
      emulator: this.lark,
    });
  }

  get url(): string {
    return `http://localhost:${this.service.port}/sandbox`;
  }

  /** Binds the unit's chat, grants the roles and loads the sample cases into an empty database. */
  async seed(): Promise<void> {
    const db = this.service.database.db;
    const coordinator = PEOPLE.find((p) => p.role === 'coordinator')!;
    await db.transaction().execute((trx) =>
      seedWorld(trx, { chatId: UNIT_CHAT.chatId, unit: UNIT, people: PEOPLE, seededBy: coordinator.openId }),
    );
    if ((await caseCount(db)) > 0) return;
    const sheet = await readImportFile(sampleCasesPath());
    const { cases, problems } = validateRows(sheet);
    if (problems.length > 0) throw new Error(`the sample cases do not import: ${problems.length} problem(s)`);
    await db.transaction().execute(async (trx) =>
      applyImportPlan(trx, await planImport(trx, cases, this.service.clocks), coordinator.openId, 'sample-cases.csv'),
    );
  }

  state(): Record<string, unknown> {
    return {
      bot: { openId: this.lark.botOpenId, name: BOT_NAME },
      people: this.people(),
      chats: this.lark.chats(),
      p2p: Object.fromEntries(PEOPLE.map((p) => [p.openId, this.lark.p2pChatId(p.openId)])),
      today: this.clock.date,
    };
  }

  people(): Array<{ openId: string; name: string; role: string; title: string }> {
    const names = new Map(this.lark.users().map((u) => [u.openId, u.name]));
    return PEOPLE.map((p) => ({ openId: p.openId, name: names.get(p.openId) ?? p.name, role: p.role, title: p.title }));
  }

  messages(chatId: string): ChatEntry[] {
    return this.lark.chatLog(chatId).map((e) => this.view(e));
  }

  /** Sends what a person typed into a chat, as Lark would deliver it to the bot. */
  async say(chatId: string, senderOpenId: string, text: string): Promise<{ messageId: string }> {
    const chat = this.chat(chatId);
    if (!chat.members.includes(senderOpenId)) throw new SandboxError(403, '这个人不在该群中');
    const body = text.trim();
    if (body === '') throw new SandboxError(400, '消息不能为空');
    const mentions: MentionSpec[] = [];
    let content = body.replaceAll(`@${BOT_NAME}`, '').trim();
    // In a group the bot hears only messages that @mention it; the chat window adds the mention, as picking the bot
    // from Feishu's @ list would.
    if (chat.chatType === 'group') {
      mentions.push({ key: '@_user_1', openId: this.lark.botOpenId, name: BOT_NAME });
      content = `@_user_1 ${content}`;
    }
    const people = this.people().sort((a, b) => b.name.length - a.name.length);
    for (const person of people) {
      if (!content.includes(`@${person.name}`)) continue;
      const key = `@_user_${mentions.length + 1}`;
      content = content.split(`@${person.name}`).join(key);
      mentions.push({ key, openId: person.openId, name: person.name });
    }
    const messageId = `om_${randomBytes(16).toString('hex')}`;
    this.typed.set(messageId, body);
    const res = await this.events.message({
      chatId,
      chatType: chat.chatType,
      senderOpenId,
      text: content,
      mentions,
      messageId,
    });
    if (res.status !== 200) throw new SandboxError(502, `机器人没有收下这条消息（HTTP ${res.status}）`);
    return { messageId };
  }

  /** A file dropped into someone's private chat with the bot, sent as Lark's file message. */
  async sendFile(chatId: string, senderOpenId: string, fileName: string, bytes: Buffer): Promise<{ messageId: string }> {
    const chat = this.chat(chatId);
    if (chat.chatType !== 'p2p' || !chat.members.includes(senderOpenId)) throw new SandboxError(403, '文件请发到自己与办理助手的单聊');
    const name = fileName.trim();
    if (name === '' || name.length > 200) throw new SandboxError(400, '文件名不能为空');
    // Lark refuses empty files and anything over 100 MB; the sandbox takes up to 30 MB.
    if (bytes.length === 0) throw new SandboxError(400, '文件是空的');
    const fileKey = this.lark.userFile(bytes);
    this.userFiles.set(fileKey, { name, bytes });
    const messageId = `om_${randomBytes(16).toString('hex')}`;
    const res = await this.events.message({
      chatId,
      chatType: 'p2p',
      senderOpenId,
      text: '',
      messageId,
      file: { fileKey, fileName: name },
    });
    if (res.status !== 200) throw new SandboxError(502, `机器人没有收下这个文件（HTTP ${res.status}）`);
    return { messageId };
  }

  /** The bytes of a file message, whoever sent it. */
  fileOf(messageId: string): { name: string; bytes: Buffer } | undefined {
    const entry = this.lark.messageEntry(messageId);
    if (!entry || entry.msgType !== 'file') return undefined;
    if (entry.senderOpenId) {
      const key = (entry.content as { file_key?: string }).file_key ?? '';
      return this.userFiles.get(key);
    }
    const upload = this.lark.fileOf(messageId);
    return upload ? { name: upload.fileName, bytes: upload.bytes } : undefined;
  }

  /** A click on a card component, posted as Lark's card.action.trigger; the answer's card replaces the clicked one. */
  async click(input: ClickInput): Promise<ClickAnswer> {
    const entry = this.lark.messageEntry(input.messageId);
    if (!entry || entry.msgType !== 'interactive') throw new SandboxError(404, '找不到这张卡片');
    const res = await this.events.cardAction({
      operatorOpenId: input.operatorOpenId,
      openMessageId: input.messageId,
      openChatId: entry.chatId,
      value: input.value,
      ...(input.formValue ? { formValue: input.formValue } : {}),
      ...(input.name ? { name: input.name } : {}),
      ...(input.tag ? { tag: input.tag } : {}),
      ...(input.option ? { option: input.option } : {}),
    });
    // Lark shows a generic error when the answer is not a 200 within 3 s.
    if (res.status !== 200) return { toast: { type: 'error', content: '操作失败，请稍后重试' } };
    const body = (await res.json().catch(() => ({}))) as { toast?: { type: string; content: string }; card?: { type?: string; data?: Card } };
    const answer: ClickAnswer = {};
    if (body.toast) answer.toast = body.toast;
    if (body.card?.type === 'raw' && body.card.data) {
      answer.card = body.card.data;
      this.lark.applyCardAnswer(input.messageId, body.card.data);
    }
    return answer;
  }

  async rename(openId: string, name: string): Promise<void> {
    const person = personById(openId);
    if (!person) throw new SandboxError(404, '没有这个人');
    const clean = name.trim();
    if (clean === '' || Array.from(clean).length > 20) throw new SandboxError(400, '名字需为 1–20 个字');
    this.lark.addUser({ openId, name: clean });
    await renamePerson(this.service.database.db, openId, clean);
    this.broadcast('people', this.people());
  }

  /** Moves the sandbox's calendar to `date` and runs the morning reminder job as of that day. */
  async newDay(date: string): Promise<NewDayResult> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) {
      throw new SandboxError(400, '日期格式应为 YYYY-MM-DD');
    }
    if (date < this.clock.date) throw new SandboxError(400, `日期不能早于沙盒的今天（${this.clock.date}）`);
    this.clock.set(date);
    this.broadcast('day', { today: date });
    return { date, summary: await this.service.remind(date) };
  }

  /** Back to the first day: empty database, the sample cases, no messages. */
  async reset(): Promise<void> {
    await this.service.sender.stop();
    try {
      await wipeAll(this.service.database.db);
      this.lark.clearChats();
      this.typed.clear();
      this.userFiles.clear();
      this.clock.set(START_DATE);
      await this.seed();
    } finally {
      this.service.sender.start();
    }
    this.broadcast('reset', this.state());
  }

  subscribe(listener: (event: string, data: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private chat(chatId: string): ChatInfo {
    const chat = this.lark.chats().find((c) => c.chatId === chatId);
    if (!chat) throw new SandboxError(404, '没有这个会话');
    return chat;
  }

  private view(entry: ChatEntry): ChatEntry & { typed?: string; file?: { name: string; size: number } } {
    const typed = this.typed.get(entry.messageId);
    const file = entry.msgType === 'file' ? this.fileOf(entry.messageId) : undefined;
    return {
      ...entry,
      ...(typed === undefined ? {} : { typed }),
      ...(file ? { file: { name: file.name, size: file.bytes.length } } : {}),
    };
  }

  private broadcast(event: string, data: unknown): void {
    for (const listener of this.listeners) listener(event, data);
  }
}

export interface SandboxOptions {
  logger: Logger;
}

/** Starts the emulator, then the service pointed at it, with the sandbox's page; resolves once both listen. */
export async function startSandbox(config: Config, opts: SandboxOptions): Promise<Sandbox> {
  const lark = await startLarkEmulator({ users: PEOPLE.map((p) => ({ openId: p.openId, name: p.name })), botName: BOT_NAME });
  for (const chat of [UNIT_CHAT, COORDINATORS_CHAT]) lark.defineChat(chat);
  for (const person of PEOPLE) {
    lark.defineChat({ chatId: lark.p2pChatId(person.openId), name: BOT_NAME, chatType: 'p2p', members: [person.openId] });
  }
  const secrets = { encryptKey: randomBytes(16).toString('hex'), verificationToken: randomBytes(16).toString('hex') };
  const clock = new SandboxClock();
  clock.set(START_DATE);
  const sandbox = new Sandbox(lark, clock, opts.logger);
  const coordinators = PEOPLE.filter((p) => p.role === 'coordinator').map((p) => p.openId);
  const sandboxConfig: Config = {
    ...config,
    databaseUrl: undefined,
    dataDir: sandboxDataDir(config),
    timezone: TIME_ZONE,
    lark: { ...config.lark, appId: lark.appId, appSecret: lark.appSecret, domain: lark.url, mode: 'webhook', ...secrets },
    adminOpenIds: [...new Set([...config.adminOpenIds, ...coordinators])],
  };
  let service: Service;
  try {
    service = await startService(sandboxConfig, {
      logger: opts.logger,
      now: () => clock.now(),
      routers: [sandboxRouter(sandbox)],
      // The sandbox's mornings come from the "new day" control, not from the wall clock.
      scheduleReminders: false,
    });
  } catch (err) {
    await lark.close();
    throw err;
  }
  sandbox.attach(service, secrets);
  const close = service.close.bind(service);
  service.close = async () => {
    for (const end of [...sandbox.streams]) end();
    await close();
    await lark.close();
  };
  try {
    await sandbox.seed();
  } catch (err) {
    await service.close();
    throw err;
  }
  return sandbox;
}
