import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyImportPlan, planImport } from '../../src/import/apply.ts';
import type { ImportedCase } from '../../src/import/validate.ts';
import { clocksFor } from '../../src/runtime.ts';
import {
  caseRow,
  createTestDatabase,
  describeOnBackends,
  GROUP,
  openCaseCard,
  outboxSettled,
  seedCases,
  startHarness,
  uid,
  USERS,
  waitForCardText,
  type Harness,
} from '../support/harness.ts';
import { cardTexts, findButton } from '../support/lark/cards.ts';

// Every change to a case redraws the cards that show it, whoever made the change: here an import that moves a due
// date, and a click whose answer came too late for Lark to redraw the clicked card itself.

describeOnBackends('case changed: live cards follow every change', (backend) => {
  let h: Harness;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await createTestDatabase(backend);
    drop = database.drop;
    h = await startHarness({ database, today: '2024-03-22' });
    await seedCases(h, [{ caseNo: '20240562' }, { caseNo: '20240563' }]);
  });
  afterAll(async () => {
    await h?.stop();
    await h?.lark.close();
    await drop?.();
  });

  it('the office re-imports 20240562 with 答复期限 2024-07-31: the card in the group shows the new date without anyone asking', async () => {
    const card = await openCaseCard(h, USERS.zhang, '20240562');
    expect(cardTexts(card.card).join('\n')).toContain('2024-06-20');
    const corrected: ImportedCase = {
      row: 2,
      kind: '建议',
      year: 2024,
      caseNo: '20240562',
      session: '市七届人大五次会议',
      title: '关于第20240562号事项的建议',
      proposer: '黄振辉',
      roleLabel: '主办',
      role: 'lead',
      leadUnit: '市民政局',
      assistingUnits: [],
      unit: null,
      assignedDate: '2024-03-20',
      fixedDueDate: '2024-07-31',
      disclosure: '主动公开',
    };
    const db = h.service.database.db;
    await db.transaction().execute(async (trx) => applyImportPlan(trx, await planImport(trx, [corrected], clocksFor(h.config)), null, '更正.csv'));
    h.service.sender.kick();
    const shown = await waitForCardText(h, card.messageId, (t) => t.includes('2024-07-31'));
    expect(shown).toContain('导入更新（更正.csv 第2行）');
  });

  it('李四 clicks 认领 on 20240563 while the database is busy: Lark shows "正在处理", and the card is redrawn once the claim is done', async () => {
    const card = await openCaseCard(h, USERS.li, '20240563');
    await outboxSettled(h);
    const db = h.service.database.db;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    // The claim reads the case, then its write waits while the table is held.
    const holder = db.transaction().execute(async (trx) => {
      await sql`lock table cases in exclusive mode`.execute(trx);
      locked();
      await held;
    });
    await isLocked;
    const timer = setTimeout(release, 3500);
    try {
      const res = await h.events.cardAction({
        operatorOpenId: USERS.li.openId,
        openMessageId: card.messageId,
        openChatId: GROUP,
        value: findButton(card.card, '认领').value,
        eventId: uid('ev_click'),
      });
      const body = (await res.json()) as { toast?: { content: string }; card?: unknown };
      expect(body.toast?.content).toContain('正在处理');
      expect(body.card).toBeUndefined();
    } finally {
      await holder;
      clearTimeout(timer);
    }
    await waitForCardText(h, card.messageId, (t) => t.includes('**承办人**：李四'));
    expect((await caseRow(h, '20240563')).handler_open_id).toBe(USERS.li.openId);
    expect(h.lark.patches.some((p) => p.messageId === card.messageId)).toBe(true);
  });
});
