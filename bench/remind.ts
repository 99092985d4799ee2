// One morning's reminders at scale: 10,000 open cases over 200 chats and 1,000 handlers, the job run once, and
// every card delivered to the Lark emulator under Lark's real limits (5 messages/s per chat or person, 50/s per app).
// Prints the time to choose and queue, the time to deliver everything, the floor those limits set (messages ÷ the
// allowed rate), the ratio, and whether any message was lost or sent twice. Not a test.
//   npm run bench:remind                              (embedded database)
//   DATABASE_URL=postgres://… npm run bench:remind    (a scratch database next to the one named, dropped after)
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { addDays } from '../src/domain/calendar.ts';
import { startService } from '../src/runtime.ts';
import { startLarkEmulator } from '../test/support/lark/emulator.ts';
import { scratchDatabase } from './support.ts';

const CASES = Number(process.env.BENCH_CASES ?? 10_000);
const CHATS = Number(process.env.BENCH_CHATS ?? 200);
const HANDLERS = Number(process.env.BENCH_HANDLERS ?? 1_000);
const DAY = '2024-09-27'; // a Friday
const PER_APP = 50;
const PER_CHAT = 5;

const scratch = await scratchDatabase('remind');
const { dataDir, databaseUrl } = scratch;

const handlers = Array.from({ length: HANDLERS }, (_, i) => ({ openId: `ou_h${String(i).padStart(5, '0')}`, name: `承办人${i}` }));
const coordinator = { openId: 'ou_bench_coordinator', name: '协调员' };
const leader = { openId: 'ou_bench_leader', name: '分管领导' };
const lark = await startLarkEmulator({ perChatQps: PER_CHAT, perAppQps: PER_APP, users: [...handlers, coordinator, leader] });
const config = loadConfig({
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'silent',
  LARK_APP_ID: lark.appId,
  LARK_APP_SECRET: lark.appSecret,
  LARK_DOMAIN: lark.url,
  LARK_VERIFICATION_TOKEN: 'bench',
  BANLI_ADMIN_OPEN_IDS: coordinator.openId,
  ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { BANLI_DATA_DIR: dataDir }),
});
const service = await startService(config, {
  logger: pino({ level: 'silent' }),
  pollIntervalMs: 20,
  scheduleReminders: false,
  now: () => new Date(`${DAY}T08:50:00+08:00`),
});
const db = service.database.db;
try {
  // The office: 200 units each with its chat, 5 handlers per unit; a leader and a coordinator.
  const unitOf = (i: number) => `第${i % CHATS}处`;
  await db.insertInto('users').values([...handlers, coordinator, leader].map((u) => ({ open_id: u.openId, name: u.name }))).execute();
  await db.insertInto('user_roles').values({ open_id: leader.openId, role: 'leader', granted_by: null, granted_at: new Date() }).execute();
  await db.insertInto('chats').values(Array.from({ length: CHATS }, (_, i) => ({ chat_id: `oc_bench_${String(i).padStart(4, '0')}`, unit: unitOf(i), bound_by: null, bound_at: new Date() }))).execute();
  // The cases: due in a week (handler hears of it), 1–4 working days overdue (handler and chat), unclaimed (chat),
  // and a few exactly 5 working days overdue (督办 to the leader and the coordinator).
  const rows = Array.from({ length: CASES }, (_, i) => {
    const handler = handlers[i % HANDLERS]!;
    const unitIndex = Math.floor((i % HANDLERS) / (HANDLERS / CHATS));
    const kind = i % 500 === 0 ? 'supervised' : i % 10 < 6 ? 'due_soon' : i % 10 < 9 ? 'overdue' : 'unclaimed';
    const due = kind === 'due_soon' ? addDays(DAY, 7) : kind === 'supervised' ? '2024-09-20' : '2024-09-24';
    return {
      kind: '建议',
      year: 2024,
      case_no: `2024${String(i).padStart(5, '0')}`,
      session: '市七届人大五次会议',
      title: `关于第${i}项民生实事项目推进情况的建议`,
      proposer: '代表',
      role_label: '主办',
      role: 'lead',
      lead_unit: '市民政局',
      assisting_units: '[]',
      unit: unitOf(unitIndex),
      assigned_date: '2024-06-20',
      fixed_due_date: null,
      reply_due_date: due,
      disclosure: '主动公开',
      status: kind === 'unclaimed' ? 'unclaimed' : 'contacted',
      handler_open_id: kind === 'unclaimed' ? null : handler.openId,
      updated_at: new Date(),
    };
  });
  for (let i = 0; i < rows.length; i += 1000) await db.insertInto('cases').values(rows.slice(i, i + 1000)).execute();

  const t0 = performance.now();
  const wall0 = Date.now();
  const summary = await service.remind(DAY);
  const queuedMs = performance.now() - t0;
  const committedAt = wall0 + queuedMs;
  const total = summary.cards;
  // Poll until every row is out (sent or failed).
  let last = 0;
  for (;;) {
    const pending = Number((await db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow()).n);
    if (pending === 0) break;
    if (performance.now() - t0 > 15 * 60_000) throw new Error(`still ${pending} pending after 15 minutes`);
    last = performance.now();
    await new Promise((r) => setTimeout(r, 20));
  }
  const doneMs = performance.now() - t0;
  void last;
  const deliverMs = doneMs - queuedMs;
  const failed = Number((await db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'failed').executeTakeFirstOrThrow()).n);

  const perRecipient = new Map<string, number>();
  for (const m of lark.sent) perRecipient.set(m.chatId, (perRecipient.get(m.chatId) ?? 0) + 1);
  const busiest = Math.max(...perRecipient.values());
  const floorMs = Math.max((total / PER_APP) * 1000, (busiest / PER_CHAT) * 1000);
  const uuids = lark.sent.map((m) => m.uuid);
  const duplicates = uuids.length - new Set(uuids).size;
  const limited = lark.requests.filter((r) => r.code === 230020 || r.code === 99991400).length;

  console.log(`backend: ${service.database.kind}; ${CASES} open cases, ${CHATS} chats, ${HANDLERS} handlers; day ${DAY}`);
  console.log(`reminders chosen: ${summary.reminders} (${Object.entries(summary.byRule).map(([k, v]) => `${k} ${v}`).join(', ')}) on ${total} cards to ${summary.recipients.length} recipients`);
  console.log(`choose + queue (one transaction): ${(queuedMs / 1000).toFixed(2)} s`);
  console.log(`deliver everything after the commit: ${(deliverMs / 1000).toFixed(2)} s`);
  console.log(`floor set by Lark's limits: ${(floorMs / 1000).toFixed(2)} s (${total} messages ÷ ${PER_APP}/s per app; busiest recipient ${busiest} ÷ ${PER_CHAT}/s)`);
  console.log(`ratio delivery / floor: ${(deliverMs / floorMs).toFixed(3)}×   (target ≤ 1.1×)`);
  console.log(`ratio end to end (choose + queue + deliver) / floor: ${(doneMs / floorMs).toFixed(3)}×`);
  // Where the time went: the wait for the first message, then the pace Lark saw.
  const times = lark.sent.map((m) => m.at).sort((a, b) => a - b);
  if (times.length > 1) {
    const first = times[0]! - committedAt;
    const span = times.at(-1)! - times[0]!;
    const perSecond = new Map<number, number>();
    for (const t of times) perSecond.set(Math.floor((t - times[0]!) / 1000), (perSecond.get(Math.floor((t - times[0]!) / 1000)) ?? 0) + 1);
    const full = [...perSecond.entries()].filter(([sec]) => sec < Math.floor(span / 1000)).map(([, n]) => n).sort((a, b) => a - b);
    if (process.env.BENCH_VERBOSE) {
      console.log(`messages per second: ${[...perSecond.entries()].sort((a, b) => a[0] - b[0]).map(([, n]) => n).join(' ')}`);
      const last = [...lark.sent].sort((a, b) => a.at - b.at).slice(-15);
      console.log(`last: ${last.map((m) => `${m.receiveId}@${((m.at - times[0]!) / 1000).toFixed(2)}`).join(' ')}`);
    }
    console.log(`first message ${(first / 1000).toFixed(2)} s after the commit; first to last ${(span / 1000).toFixed(2)} s (${((times.length - 1) / (span / 1000)).toFixed(1)}/s); whole seconds: min ${full[0] ?? 0}, median ${full[Math.floor(full.length / 2)] ?? 0}, max ${full.at(-1) ?? 0} messages`);
  }
  console.log(`messages Lark received: ${lark.sent.length} of ${total}; lost: ${total - lark.sent.length + failed}; sent twice: ${duplicates}; rate-limit answers: ${limited}; failed rows: ${failed}`);
} finally {
  await service.close();
  await lark.close();
  await scratch.drop();
}
