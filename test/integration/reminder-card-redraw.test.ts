import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addMute, enqueueReminderCardUpdates, rememberReminderCardMessage } from '../../src/reminders/reminder.repository.ts';
import { describeOnBackends, openTestDatabase } from '../support/harness.ts';

// A case changes while the reminder card listing it is on its way to Lark. The change marks the card for a redraw
// once Lark has it; but if the sender records the card's message id in the very moment the change's statement runs,
// the mark finds the card sent (the row lock it waited for says so), while the statement's own snapshot still saw it
// unsent. That card "slipped" between the two and must be patched all the same. The race needs two connections
// writing at once: PostgreSQL only (the embedded database is one connection, so its statements never interleave).

describeOnBackends(
  'a reminder card recorded as sent while a case it lists changes',
  (backend) => {
    let opened: Awaited<ReturnType<typeof openTestDatabase>>;

    beforeAll(async () => {
      opened = await openTestDatabase(backend);
    });
    afterAll(async () => {
      await opened?.close();
    });

    it('is patched once its message id is known, not left showing the case as it was', async () => {
      const db = opened.database.db;
      const { id: caseId } = await db
        .insertInto('cases')
        .values({
          kind: '建议',
          year: 2024,
          case_no: '20240801',
          session: '市七届人大五次会议',
          title: '关于第20240801号事项的建议',
          proposer: '黄振辉',
          lead_unit: '市民政局',
          role_label: '主办',
          role: 'lead',
          assisting_units: JSON.stringify([]),
          assigned_date: '2024-03-20',
          reply_due_date: '2024-06-20',
          status: 'unclaimed',
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const { id: cardId } = await db
        .insertInto('reminder_cards')
        .values({ run_date: '2024-03-22', kind: 'supervision', recipient: 'chat:oc_race', part: 1, parts: 1, case_id: caseId, message_id: null })
        .returning('id')
        .executeTakeFirstOrThrow();

      // The sender records the message id Lark returned, and has not committed yet.
      const sender = new pg.Client({ connectionString: opened.url });
      await sender.connect();
      try {
        await sender.query('begin');
        await sender.query(`update reminder_cards set message_id = 'om_slipped' where id = $1`, [cardId]);

        // The case changes meanwhile: its statement waits for the card's row.
        let done = false;
        const queued = enqueueReminderCardUpdates(db, caseId).finally(() => {
          done = true;
        });
        await new Promise((r) => setTimeout(r, 300));
        expect(done).toBe(false);

        await sender.query('commit');
        expect(await queued).toBe(1);
      } finally {
        await sender.end();
      }

      const patches = await db.selectFrom('outbox').select(['op', 'patch_message_id', 'chat_key']).where('op', '=', 'patch').execute();
      expect(patches).toEqual([{ op: 'patch', patch_message_id: 'om_slipped', chat_key: 'oc_race' }]);
      // Not marked for a redraw on arrival either: it has arrived, and the patch is queued.
      const card = await db.selectFrom('reminder_cards').select(['message_id', 'redraw']).where('id', '=', cardId).executeTakeFirstOrThrow();
      expect(card).toEqual({ message_id: 'om_slipped', redraw: false });
    });
  },
  ['postgres'],
);

// 静音 while one's digest is waiting in the outbox (or on its way to Lark): the card was drawn before the mute, so it
// is marked, and patched once Lark has returned its message id; another person's card is left alone.
describeOnBackends('a mute while the muted person\'s reminder card is on its way', (backend) => {
  let opened: Awaited<ReturnType<typeof openTestDatabase>>;

  beforeAll(async () => {
    opened = await openTestDatabase(backend);
  });
  afterAll(async () => {
    await opened?.close();
  });

  it('marks the card, and patches it once its message id is recorded', async () => {
    const db = opened.database.db;
    const card = (recipient: string) =>
      db
        .insertInto('reminder_cards')
        .values({ run_date: '2024-03-22', kind: 'digest', recipient, part: 1, parts: 1, case_id: null, message_id: null })
        .returning('id')
        .executeTakeFirstOrThrow()
        .then((r) => r.id);
    const mine = await card('user:ou_mute');
    const theirs = await card('user:ou_other');

    expect(await addMute(db, 'ou_mute', null)).toBe(true);
    const redraw = async (id: number) => (await db.selectFrom('reminder_cards').select('redraw').where('id', '=', id).executeTakeFirstOrThrow()).redraw;
    expect(await redraw(mine)).toBe(true);
    expect(await redraw(theirs)).toBe(false);
    // Muting again changes nothing.
    expect(await addMute(db, 'ou_mute', null)).toBe(false);

    await rememberReminderCardMessage(db, mine, 'om_digest_mine');
    await rememberReminderCardMessage(db, theirs, 'om_digest_theirs');
    const patches = await db.selectFrom('outbox').select(['patch_message_id', 'chat_key']).where('op', '=', 'patch').execute();
    expect(patches).toEqual([{ patch_message_id: 'om_digest_mine', chat_key: 'user:ou_mute' }]);
  });
});
