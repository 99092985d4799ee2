import { type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode, type UnknownRow } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CardResponse } from '../../src/chat/handler.ts';
import { GroupCommit } from '../../src/inbox/group-commit.ts';
import { Inbox, type InboxHandlers } from '../../src/inbox/inbox.ts';
import { AlreadyHandledError, CLICK_EVENT, MESSAGE_EVENT, markHandled, takeDue } from '../../src/inbox/inbox.repository.ts';
import type { IncomingMessage } from '../../src/lark/normalize.ts';
import { openDatabase, type Database } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';

// The inbox on its own (embedded database, in memory): concurrent stores share one INSERT, a chat's messages are
// taken one at a time in arrival order, leases keep two instances off one row until the holder dies, and a message
// that keeps failing is given up with a word to its sender instead of blocking its chat.

/** Counts the statements sent. */
class CountStatements implements KyselyPlugin {
  statements = 0;
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.statements += 1;
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

const message = (eventId: string, chatId: string, text = 'hello') => ({
  schema: '2.0',
  event_id: eventId,
  sender: { sender_id: { open_id: 'ou_zhangsan' }, sender_type: 'user' },
  message: { message_id: `om_${eventId}`, chat_id: chatId, chat_type: 'p2p', message_type: 'text', content: JSON.stringify({ text }) },
});

const event = (eventId: string, chatKey: string) => ({ eventId, eventType: MESSAGE_EVENT, chatKey, payload: message(eventId, chatKey), clickKey: null, leaseOwner: null });

describe('the inbox', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://' });
    await migrateToLatest(database.db);
  });
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    await database.db.deleteFrom('inbox').execute();
  });

  it('50 events arriving at once are stored with one statement, in arrival order; a duplicate among them is the same row', async () => {
    const counter = new CountStatements();
    const writer = new GroupCommit(database.db.withPlugin(counter), 30_000);
    const ids = Array.from({ length: 50 }, (_, i) => `ev_batch_${i}`);
    const stored = await Promise.all([...ids.map((id) => writer.store(event(id, 'oc_a'))), writer.store(event('ev_batch_7', 'oc_a'))]);
    expect(counter.statements).toBe(1);
    expect(stored.slice(0, 50).every((s) => s.fresh)).toBe(true);
    // The second delivery of ev_batch_7 gets the same row, and knows it is not the first.
    expect(stored[50]).toMatchObject({ id: stored[7]!.id, fresh: false, handled: false });
    const rows = await database.db.selectFrom('inbox').select(['id', 'event_id']).orderBy('id').execute();
    expect(rows.map((r) => r.event_id)).toEqual(ids);
  });

  it('the insert finds each new click its double: an earlier click with the same key in the same batch or stored before, within the window', async () => {
    const writer = new GroupCommit(database.db, 30_000, 300);
    const click = (eventId: string, clickKey: string) => ({ eventId, eventType: CLICK_EVENT, chatKey: 'oc_c', payload: {}, clickKey, leaseOwner: 'me' });
    // Two clicks on the same button in one batch, and one on another button.
    const [a, b, other] = await Promise.all([writer.store(click('c1', 'key_a')), writer.store(click('c2', 'key_a')), writer.store(click('c3', 'key_b'))]);
    expect(a!.twin).toBeUndefined();
    expect(b!.twin).toBe(a!.id);
    expect(other!.twin).toBeUndefined();
    // A third click soon after, in a batch of its own: its double is the latest one before it.
    const c = await writer.store(click('c4', 'key_a'));
    expect(c.twin).toBe(b!.id);
    // Past the window it is a new click.
    await new Promise((r) => setTimeout(r, 400));
    expect((await writer.store(click('c5', 'key_a'))).twin).toBeUndefined();
  });

  it('a redelivery after the event was handled finds it handled, with its stored answer', async () => {
    const writer = new GroupCommit(database.db, 30_000);
    const first = await writer.store(event('ev_again', 'oc_a'));
    const answer: CardResponse = { toast: { type: 'success', content: '已认领案件 20240562。' } };
    await database.db.transaction().execute((trx) => markHandled(trx, first.id, answer));
    const again = await writer.store(event('ev_again', 'oc_a'));
    expect(again).toEqual({ id: first.id, eventId: 'ev_again', fresh: false, handled: true, answer });
    await expect(markHandled(database.db, first.id, null)).rejects.toBeInstanceOf(AlreadyHandledError);
  });

  it("a chat's messages are taken one at a time, oldest first; another instance gets other chats, and a dead holder's rows once its lease runs out", async () => {
    const writer = new GroupCommit(database.db, 30_000);
    for (const [id, chat] of [['m1', 'oc_x'], ['m2', 'oc_x'], ['m3', 'oc_y'], ['m4', 'oc_x']] as const) await writer.store(event(id, chat));
    const a = await takeDue(database.db, 'instance-a', 300, 10);
    // Only the head of each chat: m1 (oc_x) and m3 (oc_y); m2 waits for m1 whoever holds it.
    expect(a.map((r) => r.event_id)).toEqual(['m1', 'm3']);
    expect(await takeDue(database.db, 'instance-b', 300, 10)).toEqual([]);
    await markHandled(database.db, a[1]!.id, null);
    expect(await takeDue(database.db, 'instance-b', 300, 10)).toEqual([]);

    // instance-a dies holding m1: once its lease has run out, instance-b takes m1 over (a second attempt).
    await new Promise((r) => setTimeout(r, 400));
    const b = await takeDue(database.db, 'instance-b', 30_000, 10);
    expect(b.map((r) => [r.event_id, r.attempts, r.lease_owner])).toEqual([['m1', 2, 'instance-b']]);
    // The dead instance's late commit would find it taken over and roll back; the new holder finishes it.
    await markHandled(database.db, b[0]!.id, null);
    await expect(markHandled(database.db, a[0]!.id, null)).rejects.toBeInstanceOf(AlreadyHandledError);
    expect((await takeDue(database.db, 'instance-b', 30_000, 10)).map((r) => r.event_id)).toEqual(['m2']);
  });

  it('a message that keeps failing is tried 3 times, then its sender is told and it is finished, and the chat moves on', async () => {
    const handled: string[] = [];
    const failures: string[] = [];
    const handlers: InboxHandlers = {
      async handleMessage(msg: IncomingMessage, settle) {
        if (msg.text === 'boom') throw new Error('the database said no');
        await database.db.transaction().execute(async (trx) => {
          await settle(trx);
          handled.push(msg.text);
        });
      },
      async reportFailure(msg, settle) {
        await database.db.transaction().execute(async (trx) => {
          await settle(trx);
          failures.push(msg.text);
        });
      },
      async handleCardAction() {
        throw new Error('no clicks here');
      },
      async tellLater() {},
    };
    const inbox = new Inbox({ db: database.db, soleUser: true, handlers, logger: pino({ level: 'silent' }), leaseMs: 5000, maxAttempts: 3, pollMs: 50, track: () => {} });
    await inbox.start();
    try {
      await inbox.receiveMessage(message('ev_boom', 'oc_z', 'boom'));
      await inbox.receiveMessage(message('ev_after', 'oc_z', 'after'));
      const deadline = Date.now() + 10_000;
      while (handled.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await inbox.stop();
    }
    expect(failures).toEqual(['boom']);
    expect(handled).toEqual(['after']);
    const boom = await database.db.selectFrom('inbox').selectAll().where('event_id', '=', 'ev_boom').executeTakeFirstOrThrow();
    expect(boom.attempts).toBe(3);
    expect(boom.handled_at).not.toBeNull();
    expect(boom.last_error).toContain('the database said no');
  });
});
