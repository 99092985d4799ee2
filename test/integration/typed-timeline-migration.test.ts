import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import * as initial from '../../migrations/2026-11-21-0001-initial.ts';
import * as followUps from '../../migrations/2026-11-29-0001-follow-ups.ts';
import * as typedTimeline from '../../migrations/2026-11-29-0005-typed-timeline.ts';
import { timelineLine, type TimelineFact } from '../../src/domain/timeline.ts';
import { openDatabase, type Database } from '../../src/storage/database.ts';
import { createTestDatabase, describeOnBackends } from '../support/harness.ts';

// A department that ran Banli before the timeline kept facts upgrades: every old entry reads the same afterwards,
// now drawn from facts, and an entry nobody can read back is kept word for word.

describeOnBackends('upgrading the timeline to typed facts', (backend) => {
  let database: Database;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const location = await createTestDatabase(backend);
    drop = location.drop;
    database = await openDatabase({ url: location.url, dataDir: location.dataDir });
    await initial.up(database.db);
    await followUps.up(database.db);
  });
  afterAll(async () => {
    await database?.close();
    await drop?.();
  });

  it('old sentences become facts that render the same sentence; an unreadable one is kept as it was', async () => {
    const db = database.db;
    await sql`insert into users (open_id, name) values ('ou_zhangsan', '张三'), ('ou_lisi', '李四')`.execute(db);
    const { rows } = await sql<{ id: number }>`
      insert into cases (kind, year, case_no, session, title, proposer, role_label, role, lead_unit, assisting_units,
        assigned_date, reply_due_date, status, updated_at)
      values ('提案', 2024, '20240562', '市政协七届五次会议', '关于养老的提案', '黄振辉', '主办', 'lead', '市民政局', '[]'::jsonb,
        '2024-03-20', '2024-06-20', 'replied', now())
      returning id`.execute(db);
    const caseId = rows[0]!.id;
    const old: Array<[string, string | null, object | null, object | null, string]> = [
      ['imported', null, null, { reply_due_date: '2024-06-20' }, '导入案件（cases-2024.csv 第2行），答复期限 2024-06-20'],
      ['claimed', 'ou_zhangsan', {}, { handler: 'ou_zhangsan' }, '认领了案件'],
      ['handed_over', 'ou_zhangsan', { handler: 'ou_zhangsan' }, { handler: 'ou_lisi' }, '将案件转交给李四'],
      ['contacted', 'ou_lisi', {}, {}, '2024-04-08 电话沟通（黄振辉委员）：介绍了办理思路'],
      ['replied', 'ou_lisi', { status: 'contacted' }, { status: 'replied' }, '答复委员：B类，依申请公开，答复日期 2024-04-09'],
      ['progress', 'ou_lisi', {}, {}, '手工补录的一段话'],
      ['claimed', 'ou_lisi', {}, {}, '（系统迁移前的旧记录）'],
    ];
    for (const [type, actor, before, after, note] of old) {
      await sql`insert into case_events (case_id, actor_open_id, type, before, after, note)
        values (${caseId}, ${actor}, ${type}, ${before ? JSON.stringify(before) : null}::jsonb, ${after ? JSON.stringify(after) : null}::jsonb, ${note})`.execute(db);
    }

    await typedTimeline.up(db);

    const converted = (await sql<{ type: string; facts: TimelineFact }>`select type, facts from case_events order by id`.execute(db)).rows;
    expect(converted.map((e) => timelineLine(e.facts))).toEqual(old.map((o) => o[4]));
    expect(converted.map((e) => e.facts.type)).toEqual(['imported', 'claimed', 'handed_over', 'contacted', 'replied', 'progress', 'legacy']);
    expect(converted[2]?.facts).toEqual({ type: 'handed_over', to: { openId: 'ou_lisi', name: '李四' } });
    expect(converted[4]?.facts).toMatchObject({ type: 'replied', kind: '提案', resultClass: 'B', date: '2024-04-09' });
    const columns = (await sql<{ column_name: string }>`select column_name from information_schema.columns where table_name = 'case_events'`.execute(db)).rows;
    expect(columns.map((c) => c.column_name)).not.toContain('note');
  });
});
