import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, UnknownRow } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildCaseCard } from '../../cards/index.ts';
import { loadCaseCardView } from '../../src/cases/case.view.ts';
import { CLICK_EVENT, markHandled, storeEvents } from '../../src/inbox/inbox.repository.ts';
import {
  createTestDatabase,
  describeOnBackends,
  GROUP,
  openCaseCard,
  outboxSettled,
  seedCases,
  startHarness,
  timelineOf,
  uid,
  USERS,
  type Backend,
  type Harness,
} from '../support/harness.ts';
import { cardTexts, findButton } from '../support/lark/cards.ts';

// A click must be answered within Lark's 3 s, by a service that may be answering fifty at once: the claim click is
// kept lean. 张三 clicks 认领 on a case card; we count every SQL statement the click runs from the moment it reaches
// the chat handler to its commit, with a counter plugged into the Kysely instance the handler works through.
// The counter sees every statement Kysely sends; the transaction's BEGIN and COMMIT do not pass through it and are
// added by hand. Receiving the event (the inbox's insert, batched with other requests' by group commit, and its
// double-click check) happens before the handler is called and is not counted here; finishing the inbox row with
// the answer (the inbox's settle) happens inside the click's transaction and is counted.

const MAX_STATEMENTS = 10;

class StatementCounter implements KyselyPlugin {
  readonly statements: string[] = [];
  transformQuery(args: PluginTransformQueryArgs) {
    this.statements.push(args.node.kind);
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

describeOnBackends('a lean claim click', (backend: Backend) => {
  let h: Harness;
  let drop: () => Promise<void>;
  let caseId: number;

  beforeAll(async () => {
    const database = await createTestDatabase(backend);
    drop = database.drop;
    h = await startHarness({ database, today: '2024-03-22' });
    caseId = (await seedCases(h, [{ caseNo: '20240562' }])).get('20240562')!;
  });
  afterAll(async () => {
    await h?.stop();
    await h?.lark.close();
    await drop?.();
  });

  it(`张三 claims 20240562 from its card in at most ${MAX_STATEMENTS} statements; the card on 李四's screen is patched, the clicked one is not`, async () => {
    const mine = await openCaseCard(h, USERS.zhang, '20240562');
    const theirs = await openCaseCard(h, USERS.li, '20240562', { p2p: true });
    await outboxSettled(h);
    const patchesBefore = h.lark.patches.length;

    // The click as the inbox stores it before Lark is answered (that insert is batched with other requests by group
    // commit, and is not part of the count), and the inbox's own settle, which finishes the row with the answer.
    const click = {
      eventId: uid('ev'),
      operatorOpenId: USERS.zhang.openId,
      messageId: mine.messageId,
      chatId: GROUP,
      value: findButton(mine.card, '认领').value,
      formValue: null,
      name: null,
      option: null,
    };
    const stored = await storeEvents(
      h.service.database.db,
      [{ eventId: click.eventId, eventType: CLICK_EVENT, chatKey: GROUP, payload: {}, clickKey: null, leaseOwner: 'statement-count' }],
      60_000,
    );
    const inboxId = stored.get(click.eventId)!.id;

    const counter = new StatementCounter();
    const counted = h.service.handler.withDb(h.service.database.db.withPlugin(counter));
    const answer = await counted.handleCardAction(click, async (trx, r) => {
      await markHandled(trx, inboxId, r);
      return { answeredInline: true };
    });

    const statements = counter.statements.length + 2; // + BEGIN and COMMIT
    expect(statements, `statements: BEGIN, ${counter.statements.join(', ')}, COMMIT`).toBeLessThanOrEqual(MAX_STATEMENTS);

    // The answer card is the case as the claim left it, drawn without reading the case again, and it is the same card
    // a fresh read draws.
    expect(answer.toast).toEqual({ type: 'success', content: expect.stringContaining('认领') });
    const drawnFresh = await loadCaseCardView(h.service.database.db, caseId, {
      today: '2024-03-22',
      clocks: h.service.clocks,
      timeZone: h.config.timezone,
      resultClasses: h.config.resultClasses,
      maxRehandlings: h.config.maxRehandlings,
    });
    expect(answer.card?.data).toEqual(buildCaseCard(drawnFresh!));
    expect(cardTexts(answer.card!.data as never).join('\n')).toContain('张三');
    expect((await timelineOf(h, '20240562')).map((e) => e.type)).toContain('claimed');

    // 李四's copy is redrawn by a patch; 张三's card is redrawn by Lark from the answer, so no patch is queued for it.
    h.service.sender.kick();
    await outboxSettled(h);
    const patches = h.lark.patches.slice(patchesBefore);
    expect(patches.map((p) => p.messageId)).toEqual([theirs.messageId]);
    const queuedForClicked = await h.service.database.db
      .selectFrom('outbox')
      .select('id')
      .where('op', '=', 'patch')
      .where('patch_message_id', '=', mine.messageId)
      .execute();
    expect(queuedForClicked).toEqual([]);
  });
});
