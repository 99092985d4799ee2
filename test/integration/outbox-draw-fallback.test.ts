import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLarkClient } from '../../src/lark/client.ts';
import { enqueueMessage, type LiveCard } from '../../src/lark/outbox.ts';
import { OutboxSender } from '../../src/lark/outbox-sender.ts';
import { startLarkEmulator, type LarkEmulator } from '../../src/sandbox/lark/emulator.ts';
import { describeOnBackends, openTestDatabase } from '../support/harness.ts';

// The sender draws the live cards of a claim together (renderCards). When that fails, it draws them one by one, so
// that one card which cannot be drawn fails alone: the others go out, and the bad one is retried later.

describeOnBackends('live cards drawn one by one when drawing them together fails', (backend) => {
  let opened: Awaited<ReturnType<typeof openTestDatabase>>;
  let lark: LarkEmulator;

  beforeAll(async () => {
    opened = await openTestDatabase(backend);
    lark = await startLarkEmulator();
  });
  afterAll(async () => {
    await lark?.close();
    await opened?.close();
  });

  it('sends every card that can be drawn, and keeps the one that cannot for a retry', async () => {
    const db = opened.database.db;
    for (const [chatId, caseId] of [['oc_draw_a', 1], ['oc_draw_b', 2], ['oc_draw_c', 3]] as const) {
      await enqueueMessage(db, { chatId }, { kind: 'case_card', caseId });
    }
    const logger = pino({ level: 'silent' });
    const batches: number[] = [];
    const sender = new OutboxSender({
      db,
      client: createLarkClient({ appId: lark.appId, appSecret: lark.appSecret, domain: lark.url, logger }).client,
      logger,
      renderCards: async (cards) => {
        batches.push(cards.length);
        throw new Error('one of these cards cannot be drawn');
      },
      renderCard: async (card: LiveCard) => {
        if (card.kind === 'case_card' && card.caseId === 2) throw new Error('case 2 cannot be drawn');
        return { schema: '2.0', body: { elements: [{ tag: 'markdown', content: `案件 ${card.kind === 'case_card' ? card.caseId : ''}` }] } };
      },
      retryBaseMs: 60_000,
      pollIntervalMs: 20,
    });
    try {
      await sender.drainOnce();
    } finally {
      await sender.stop();
    }

    expect(batches.length).toBeGreaterThan(0);
    expect(lark.messagesIn('oc_draw_a')).toHaveLength(1);
    expect(lark.messagesIn('oc_draw_c')).toHaveLength(1);
    expect(lark.messagesIn('oc_draw_b')).toHaveLength(0);
    const rows = await db.selectFrom('outbox').select(['chat_key', 'status', 'attempts', 'last_error']).orderBy('id').execute();
    expect(rows.map((r) => [r.chat_key, r.status])).toEqual([
      ['oc_draw_a', 'sent'],
      ['oc_draw_b', 'pending'],
      ['oc_draw_c', 'sent'],
    ]);
    expect(rows[1]!.last_error).toContain('case 2 cannot be drawn');
    expect(rows[1]!.attempts).toBe(1);
  });
});
