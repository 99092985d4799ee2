import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.ts';
import { PEOPLE, UNIT_CHAT } from '../../src/sandbox/world.ts';
import { createTestDatabase, startHarness } from '../support/harness.ts';

// The sandbox's API without a browser: what a page can ask for, what it may not, and that it only exists when no
// Feishu app is configured.

const zhang = PEOPLE.find((p) => p.name === '张三')!;
const qian = PEOPLE.find((p) => p.role === 'leader')!;

describe('the sandbox API', () => {
  let sandbox: Sandbox;
  let dir: string;
  let base: string;

  const post = (p: string, body: unknown) =>
    fetch(`${base}/sandbox/api${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'banli-sandbox-api-'));
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', BANLI_DATA_DIR: path.join(dir, 'data') });
    sandbox = await startSandbox(config, { logger: pino({ level: 'silent' }) });
    base = `http://127.0.0.1:${sandbox.service.port}`;
  }, 60_000);
  afterAll(async () => {
    await sandbox?.service.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps its data in its own folder beside the real one, with the sample cases loaded', async () => {
    expect(fs.existsSync(path.join(dir, 'data-sandbox'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'data'))).toBe(false);
    const cases = await sandbox.service.database.db.selectFrom('cases').select('case_no').execute();
    expect(cases).toHaveLength(11);
  });

  it('leads / to the page and serves it', async () => {
    const res = await fetch(`${base}/`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/sandbox');
    const page = await fetch(`${base}/sandbox`);
    expect(await page.text()).toContain('/sandbox/assets/app.js');
    expect((await fetch(`${base}/sandbox/assets/card.js`)).status).toBe(200);
    expect((await fetch(`${base}/sandbox/assets/nothing.js`)).status).toBe(404);
  });

  it('takes a message through the signed webhook and streams both it and the bot\'s answer', async () => {
    const controller = new AbortController();
    const stream = await fetch(`${base}/sandbox/api/stream`, { signal: controller.signal });
    const reader = stream.body!.getReader();
    let seen = '';
    const read = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        seen += new TextDecoder().decode(value);
        if (seen.includes('待认领')) return;
      }
    })();
    const p2p = sandbox.lark.p2pChatId(zhang.openId);
    const res = await post('/say', { chatId: p2p, from: zhang.openId, text: '查询 20240562' });
    expect(res.status).toBe(200);
    await Promise.race([read, new Promise((_, reject) => setTimeout(() => reject(new Error(`stream so far: ${seen}`)), 15_000))]);
    controller.abort();
    expect(seen).toContain('event: message');
    expect(seen).toContain('"typed":"查询 20240562"');
    const log = sandbox.messages(p2p);
    expect(log[0]?.senderOpenId).toBe(zhang.openId);
    expect(log[1]?.msgType).toBe('interactive');
    // The webhook verifies as in production: the same message unsigned and unencrypted is refused, so the sandbox's
    // got in signed and encrypted.
    const forged = await fetch(`${base}/lark/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ schema: '2.0', header: { event_id: 'forged', event_type: 'im.message.receive_v1' }, event: {} }),
    });
    expect(forged.status).toBeGreaterThanOrEqual(400);
  });

  it('refuses what a person could not do in Feishu: a group they are not in, an empty message, an earlier day', async () => {
    const zhangInOffice = await post('/say', { chatId: 'oc_sandbox_office_xietiao', from: zhang.openId, text: '待办' });
    expect(zhangInOffice.status).toBe(403);
    expect(((await zhangInOffice.json()) as { error: string }).error).toBe('这个人不在该群中');
    expect((await post('/say', { chatId: UNIT_CHAT.chatId, from: zhang.openId, text: '   ' })).status).toBe(400);
    expect((await post('/say', { chatId: UNIT_CHAT.chatId })).status).toBe(400);
    expect((await post('/new-day', { date: '2024-03-01' })).status).toBe(400);
    expect((await post('/new-day', { date: '3月1日' })).status).toBe(400);
  });

  it('renames a person for the emulator and for Banli at once', async () => {
    const res = await post(`/people/${qian.openId}`, { name: '钱局长' });
    expect(res.status).toBe(200);
    const row = await sandbox.service.database.db.selectFrom('users').select('name').where('open_id', '=', qian.openId).executeTakeFirstOrThrow();
    expect(row.name).toBe('钱局长');
    expect((await post(`/people/${qian.openId}`, { name: '' })).status).toBe(400);
  });

  it('a file dropped into the private chat reaches the bot as a file message; a report the bot sends can be downloaded', async () => {
    const zhao = PEOPLE.find((p) => p.role === 'coordinator')!;
    const p2p = sandbox.lark.p2pChatId(zhao.openId);
    const csv = fs.readFileSync(path.join(process.cwd(), 'src', 'sandbox', 'sample-cases.csv'));
    const upload = (chatId: string, from: string, body: Buffer) =>
      fetch(`${base}/sandbox/api/files?chatId=${chatId}&from=${from}&name=${encodeURIComponent('2024年建议.csv')}`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body,
      });
    expect((await upload(UNIT_CHAT.chatId, zhao.openId, csv)).status).toBe(403);
    expect((await upload(p2p, zhao.openId, Buffer.alloc(0))).status).toBe(400);
    const sent = (await (await upload(p2p, zhao.openId, csv)).json()) as { messageId: string };
    const mine = sandbox.messages(p2p).find((m) => m.messageId === sent.messageId) as { msgType: string; createTime: number; file?: { name: string; size: number } };
    expect(mine.msgType).toBe('file');
    expect(mine.file).toEqual({ name: '2024年建议.csv', size: csv.length });
    const own = await fetch(`${base}/sandbox/api/files/${sent.messageId}`);
    expect(Buffer.from(await own.arrayBuffer()).equals(csv)).toBe(true);
    // The bot reads the file (message-resource download) and answers about it.
    const preview = await sandbox.lark.waitFor(() => sandbox.messages(p2p).find((m) => !m.senderOpenId && m.createTime >= mine.createTime), 20_000);
    expect(JSON.stringify(preview.content)).toContain('2024年建议.csv');

    expect((await post('/say', { chatId: p2p, from: zhao.openId, text: '导出报告 2024' })).status).toBe(200);
    const file = await sandbox.lark.waitFor(() => sandbox.messages(p2p).find((m) => !m.senderOpenId && m.msgType === 'file'), 30_000);
    const download = await fetch(`${base}/sandbox/api/files/${file.messageId}`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toContain("filename*=UTF-8''");
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(bytes.length).toBeGreaterThan(0);
    expect((await fetch(`${base}/sandbox/api/files/om_nothing`)).status).toBe(404);
  }, 90_000);

  it('a reset empties the chats and the database and loads the samples again', async () => {
    await post('/say', { chatId: UNIT_CHAT.chatId, from: zhang.openId, text: '认领 562' });
    await sandbox.lark.waitFor(() => sandbox.messages(UNIT_CHAT.chatId).some((m) => !m.senderOpenId));
    expect((await post('/reset', {})).status).toBe(200);
    expect(sandbox.messages(UNIT_CHAT.chatId)).toEqual([]);
    const rows = await sandbox.service.database.db.selectFrom('cases').select(['case_no', 'status']).execute();
    expect(rows).toHaveLength(11);
    expect(rows.every((r) => r.status === 'unclaimed')).toBe(true);
    expect(sandbox.clock.date).toBe('2024-03-22');
  });
});

describe('with a Feishu app configured', () => {
  it('has no sandbox: its routes answer 404', async () => {
    const db = await createTestDatabase('pglite');
    const h = await startHarness({ database: db });
    try {
      for (const p of ['/', '/sandbox', '/sandbox/api/state', '/sandbox/assets/app.js']) {
        expect((await fetch(`${h.service.url}${p}`)).status, p).toBe(404);
      }
    } finally {
      await h.stop();
      await h.lark.close();
      await db.drop();
    }
  });
});
