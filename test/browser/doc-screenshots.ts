// Takes the screenshots of docs/images/ for the staff guide (docs/使用指南.md) from the sandbox, in headless
// Chromium: `npm run docs:screenshots`. Each card is shot as the sandbox draws it, after the steps a person takes
// to get it.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { chromium, type Locator, type Page } from 'playwright-core';
import { loadConfig } from '../../src/config.ts';
import { projectRoot, startSandbox } from '../../src/sandbox/sandbox.ts';

const CHROMIUM = process.env.BANLI_CHROMIUM ?? '/usr/bin/chromium';
const OUT = path.join(projectRoot(), 'docs', 'images');

async function main(): Promise<void> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`No browser at ${CHROMIUM}: apt-get install -y chromium`);
  fs.mkdirSync(OUT, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'banli-docshots-'));
  const sandbox = await startSandbox(loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', BANLI_DATA_DIR: path.join(dir, 'data') }), {
    logger: pino({ level: 'silent' }),
  });
  const context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--lang=zh-CN'],
    viewport: { width: 1360, height: 900 },
    deviceScaleFactor: 1,
    locale: 'zh-CN',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  try {
    await page.goto(`http://127.0.0.1:${sandbox.service.port}/sandbox`);
    await page.waitForSelector('body[data-ready="1"]');
    await story(page);
  } finally {
    await context.close();
    await sandbox.service.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function becomes(page: Page, name: string): Promise<void> {
  await page.click('#me');
  await page.locator('#me-menu .person', { hasText: name }).click();
}

async function openChat(page: Page, name: string): Promise<void> {
  await page.locator('.chat-item', { hasText: name }).click();
  await page.waitForTimeout(300);
}

async function type(page: Page, text: string): Promise<void> {
  const before = await page.locator('.msg').count();
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
  // The person's message, then the bot's answer.
  const deadline = Date.now() + 20_000;
  while ((await page.locator('.msg').count()) < before + 2) {
    if (Date.now() > deadline) throw new Error(`no answer to "${text}"`);
    await page.waitForTimeout(100);
  }
  await page.waitForTimeout(400);
}

function lastCard(page: Page, header?: string): Locator {
  const cards = header ? page.locator('.card', { has: page.locator('.card-header', { hasText: header }) }) : page.locator('.card');
  return cards.last();
}

async function shoot(locator: Locator, name: string): Promise<void> {
  // A card taller than the window is shot in a window tall enough to hold it whole.
  const box = await locator.boundingBox();
  const tall = box !== null && box.height > 700;
  if (tall) await locator.page().setViewportSize({ width: 1360, height: Math.ceil(box.height) + 400 });
  await locator.scrollIntoViewIfNeeded();
  await locator.screenshot({ path: path.join(OUT, `${name}.png`) });
  if (tall) await locator.page().setViewportSize({ width: 1360, height: 900 });
  console.log(`docs/images/${name}.png`);
}

async function story(page: Page): Promise<void> {
  await becomes(page, '张三');
  await openChat(page, '社会救助科');

  await type(page, '帮助');
  await shoot(lastCard(page), 'card-help');

  await type(page, '待办');
  await shoot(lastCard(page), 'card-todo');

  await type(page, '查询 562');
  await shoot(lastCard(page, '20240562'), 'card-case-unclaimed');

  const card = lastCard(page, '20240562');
  await card.locator('button', { hasText: '认领' }).first().click();
  await page.waitForSelector('[data-testid="toast"]');
  await page.waitForTimeout(600);
  await page.screenshot({ path: path.join(OUT, 'sandbox-claimed-toast.png') });

  await card.locator('.panel-head', { hasText: '登记面商' }).click();
  const form = card.locator('.form', { has: page.locator('.panel-head', { hasText: '登记面商' }) });
  await form.locator('select').first().selectOption('电话');
  await form.locator('input[type="date"]').fill('2024-03-21');
  await form.locator('[data-field-name="contact_who"]').fill('黄振辉代表本人');
  await form.locator('[data-field-name="contact_note"]').fill('代表同意先行调研');
  await shoot(card, 'card-case-contact-form');
  await form.locator('button', { hasText: '登记面商' }).click();
  await page.waitForTimeout(1500);
  await shoot(card, 'card-case-contacted');
  await page.screenshot({ path: path.join(OUT, 'sandbox-overview.png') });

  await type(page, '延期 562 2024-08-20 需会同住建部门实地调研');
  await becomes(page, '赵协调');
  for (const chat of ['办理助手', '办公室']) {
    await openChat(page, chat);
    const decision = page.locator('.card', { has: page.locator('.card-header', { hasText: '延期' }) }).last();
    if ((await decision.count()) > 0) {
      await shoot(decision, 'card-extension-decision');
      break;
    }
  }

  await becomes(page, '张三');
  await openChat(page, '办理助手');
  await type(page, '我的');
  await shoot(lastCard(page), 'card-mine');

  await becomes(page, '赵协调');
  await openChat(page, '办理助手');
  await type(page, '统计 2024');
  await shoot(lastCard(page), 'card-stats');

  await openChat(page, '社会救助科');
  await page.fill('#day-input', '2024-03-25');
  await page.click('#new-day');
  const digest = page.locator('.card', { has: page.locator('.card-header', { hasText: '待办提醒' }) }).last();
  await digest.waitFor({ timeout: 20_000 });
  await page.waitForTimeout(500);
  await shoot(digest, 'card-digest');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
