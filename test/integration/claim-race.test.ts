import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  caseRow,
  createTestDatabase,
  describeOnBackends,
  openCaseCard,
  postClick,
  seedCases,
  startHarness,
  timelineOf,
  USERS,
  type Backend,
  type Harness,
} from '../support/harness.ts';
import { cardTexts, findButton } from '../support/lark/cards.ts';
import { startLarkEmulator, type EmulatorUser } from '../support/lark/emulator.ts';

// Many people click 认领 on the same card at the same moment. On PostgreSQL the clicks really run side by side (a
// pool of connections): each reads the case without a lock and decides to claim it, one claim is written, and the
// others' writes find the case changed (its version moved on), so their clicks are decided again on the case as it now
// is and refused. On PGlite they queue on its one connection and must come out the same.

// PGlite answers queued clicks one after another; the 50th waits for 49 transactions and comes close to the 2.5 s the
// webhook allows itself before answering "正在处理", so the embedded run uses fewer clicks. The point is PostgreSQL.
const CLICKS: Record<Backend, number> = { postgres: 50, pglite: 25 };

const crowd = (n: number): EmulatorUser[] =>
  Array.from({ length: n }, (_, i) => ({ openId: `ou_staff${String(i + 1).padStart(2, '0')}`, name: `同事${String(i + 1).padStart(2, '0')}` }));

describeOnBackends('claim race: simultaneous clicks on 认领 of one case', (backend) => {
  const CROWD = crowd(CLICKS[backend]);
  let h: Harness;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await createTestDatabase(backend);
    drop = database.drop;
    // Fifty people the bot has never seen means fifty name look-ups at once; Lark's 50/s app limit would turn some
    // into placeholder names, which is not what this test is about.
    const lark = await startLarkEmulator({ users: [...Object.values(USERS), ...CROWD], perAppQps: 500 });
    h = await startHarness({ database, today: '2024-03-22', lark });
    await seedCases(h, [{ caseNo: '20240562' }]);
  });
  afterAll(async () => {
    await h?.stop();
    await h?.lark.close();
    await drop?.();
  });

  it(`${CLICKS[backend]} staff click 认领 on 20240562 at once: exactly one becomes the handler, the others are told who has it, the timeline gets one entry`, async () => {
    const card = await openCaseCard(h, USERS.zhang, '20240562');
    const claim = findButton(card.card, '认领').value;
    const before = await caseRow(h, '20240562');
    const answers = await Promise.all(CROWD.map((person) => postClick(h, person, card, claim)));

    expect(answers.map((a) => a.status)).toEqual(CROWD.map(() => 200));
    const after = await caseRow(h, '20240562');
    const winner = CROWD.find((p) => p.openId === after.handler_open_id);
    if (!winner) throw new Error(`the handler is ${after.handler_open_id}, not one of the clickers`);
    expect(after.status).toBe('in_progress');
    expect(after.version).toBe(before.version + 1);

    expect(answers.filter((a) => a.toast?.type === 'success')).toHaveLength(1);
    expect(answers[CROWD.indexOf(winner)]?.toast).toEqual({ type: 'success', content: '已认领案件 20240562，答复期限 2024-06-20。' });
    const refusals = answers.filter((_, i) => CROWD[i] !== winner);
    expect(refusals).toHaveLength(CROWD.length - 1);
    for (const refusal of refusals) {
      expect(refusal.toast).toEqual({ type: 'error', content: `该案件已由${winner.name}认领。` });
      // Every other clicker's card is answered with the case as it now is.
      expect(cardTexts(refusal.card).join('\n')).toContain(`**承办人**：${winner.name}`);
    }

    const claims = (await timelineOf(h, '20240562')).filter((e) => e.type === 'claimed');
    expect(claims).toEqual([{ type: 'claimed', actor: winner.openId, note: '认领了案件' }]);
    const processed = await h.service.database.db
      .selectFrom('inbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('event_type', '=', 'card.action.trigger')
      .where('handled_at', 'is not', null)
      .executeTakeFirstOrThrow();
    expect(Number(processed.n)).toBe(CROWD.length);
  });
});
