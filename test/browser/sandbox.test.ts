import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.ts';

// The sandbox as a trainer uses it, in a real browser (Debian's chromium, headless): open the page, claim a case by
// typing, record the contact with the deputy through the card's form, watch the card change in place; then be
// somebody else and be refused; then start a new day. Screenshots land in test-results/sandbox/.

const CHROMIUM = process.env.BANLI_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = path.resolve('test-results', 'sandbox');

function browserMissing(): string | null {
  if (fs.existsSync(CHROMIUM)) return null;
  return `No browser: ${CHROMIUM} does not exist. Install Debian's chromium (apt-get update && apt-get install -y chromium), or set BANLI_CHROMIUM to a Chromium binary. .ci/run installs it.`;
}

describe('the sandbox in a browser', () => {
  let sandbox: Sandbox;
  let context: BrowserContext;
  let page: Page;
  let dataDir: string;
  let profile: string;

  beforeAll(async () => {
    const missing = browserMissing();
    if (missing) throw new Error(missing);
    fs.mkdirSync(SHOTS, { recursive: true });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'banli-sandbox-'));
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', BANLI_DATA_DIR: path.join(dataDir, 'data') });
    sandbox = await startSandbox(config, { logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'banli-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--lang=zh-CN',
      ],
      viewport: { width: 1360, height: 900 },
      locale: 'zh-CN',
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => {
      throw err;
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await sandbox?.service.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });

  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });

  async function becomes(name: string): Promise<void> {
    await page.click('#me');
    await page.locator('#me-menu .person', { hasText: name }).click();
    await expect.poll(() => page.textContent('#me-name')).toContain(name);
  }

  async function type(text: string): Promise<void> {
    await page.fill('#input', text);
    await page.press('#input', 'Enter');
    await expect.poll(() => page.inputValue('#input')).toBe('');
  }

  /** The newest message of the bot that contains `text`. */
  function botMessage(text: string): Locator {
    return page.locator('.msg:not(.mine)', { hasText: text }).last();
  }

  /** The text of the toast that `action` brings up (not one still showing from before). */
  async function toastAfter(action: () => Promise<void>): Promise<string> {
    const before = Number((await page.getAttribute('body', 'data-toast-seq')) ?? '0');
    await action();
    const t = page.locator(`[data-testid="toast"][data-seq="${before + 1}"]`);
    await t.waitFor({ state: 'visible', timeout: 15_000 });
    return (await t.textContent()) ?? '';
  }

  it('opens at / and shows the unit\'s group, the coordinators\' group for those in it, and the private chat', async () => {
    const res = await page.goto(`http://127.0.0.1:${sandbox.service.port}/`);
    expect(res?.url()).toMatch(/\/sandbox$/);
    await page.waitForSelector('body[data-ready="1"]');
    await becomes('张三');
    const chats = await page.locator('.chat-item .name').allTextContents();
    expect(chats).toEqual(['社会救助科 · 建议提案办理', '办理助手机器人']);
    await becomes('赵协调');
    expect(await page.locator('.chat-item .name').allTextContents()).toEqual(['社会救助科 · 建议提案办理', '办公室 · 建议提案协调', '办理助手机器人']);
    await becomes('张三');
    await page.locator('.chat-item', { hasText: '社会救助科' }).click();
  });

  it('张三 claims 20240562 by typing, and the bot answers in the group', async () => {
    await type('认领 562');
    await botMessage('已认领案件 20240562').waitFor({ timeout: 15_000 });
  });

  it('张三 opens the card, records the contact through its form, sees the toast and the card change in place', async () => {
    await type('查询 562');
    const card = page.locator('.msg', { has: page.locator('.card-header', { hasText: '20240562' }) }).last();
    await card.waitFor({ timeout: 15_000 });
    const messageId = await card.getAttribute('data-message-id');
    expect(await card.locator('.card-header').textContent()).toContain('办理中');
    await shot('01-case-card-claimed');

    await card.locator('.panel-head', { hasText: '登记面商' }).click();
    const form = card.locator('.form', { has: page.locator('.panel-head', { hasText: '登记面商' }) });
    // Submitting with the required fields empty is stopped in the card, as Feishu does.
    await form.locator('button', { hasText: '登记面商' }).click();
    await expect.poll(() => form.locator('.field-error').count()).toBeGreaterThan(0);
    await form.locator('select[data-kind="select"]').selectOption('电话');
    await form.locator('input[type="date"]').fill('2024-03-21');
    await form.locator('[data-field-name="contact_who"]').fill('黄振辉代表本人');
    await form.locator('[data-field-name="contact_note"]').fill('代表同意先行调研');
    await shot('02-contact-form');
    expect(await toastAfter(() => form.locator('button', { hasText: '登记面商' }).click())).toContain('已登记案件 20240562 与代表的沟通情况（电话，2024-03-21）');
    const same = page.locator(`.msg[data-message-id="${messageId}"]`);
    await expect.poll(() => same.textContent(), { timeout: 10_000 }).toContain('2024-03-21 电话，黄振辉代表本人：代表同意先行调研');
    expect(await same.locator('button', { hasText: '提交答复' }).count()).toBe(1);
    await shot('03-card-updated-with-toast');
  });

  it('李四 tries to change 张三\'s case from the same card and is refused, politely, with nothing changed', async () => {
    await becomes('李四');
    const card = page.locator('.msg', { has: page.locator('.card-header', { hasText: '20240562' }) }).last();
    await card.locator('.panel-head', { hasText: '更新进展' }).click();
    const form = card.locator('.form', { has: page.locator('.panel-head', { hasText: '更新进展' }) });
    await form.locator('textarea').fill('我来补充一下进展');
    const refusal = await toastAfter(() => form.locator('button', { hasText: '更新进展' }).click());
    expect(refusal).toContain('张三');
    await shot('04-refusal');
    expect(await card.textContent()).not.toContain('我来补充一下进展');
  });

  it('a new day runs the morning reminders as of that day: the unit\'s group gets its digest of unclaimed cases', async () => {
    await becomes('赵协调');
    await page.locator('.chat-item', { hasText: '社会救助科' }).click();
    // The ten sample cases nobody claimed are two working days past their assignment on 2024-03-22 already.
    await page.fill('#day-input', '2024-03-25');
    expect(await toastAfter(() => page.click('#new-day'))).toContain('2024-03-25');
    const digest = page.locator('.msg', { has: page.locator('.card-header', { hasText: '本群的待办提醒' }) }).last();
    await digest.waitFor({ timeout: 20_000 });
    const text = (await digest.textContent()) ?? '';
    expect(text).toContain('3月25日');
    expect(text).toContain('待认领');
    expect(text).toContain('20240252');
    // 20240562 was claimed: it is no longer waiting for a handler.
    expect(text).not.toContain('20240562');
    await expect.poll(() => page.inputValue('#day-input')).toBe('2024-03-26');
    await shot('05-new-day-digest');
    // A day cannot be run twice: the job ran once for it.
    await page.fill('#day-input', '2024-03-25');
    expect(await toastAfter(() => page.click('#new-day'))).toContain('已经发过');
  });
});
