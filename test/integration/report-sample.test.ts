import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyImportPlan, planImport } from '../../src/import/apply.ts';
import { readImportFile } from '../../src/import/read.ts';
import { validateRows } from '../../src/import/validate.ts';
import { summaryLines, type ReportFigures } from '../../src/domain/report.ts';
import { renderReportMarkdown, renderReportXlsx } from '../../src/report/render.ts';
import { reportFigures } from '../../src/report/report.service.ts';
import { clocksFor } from '../../src/runtime.ts';
import { caseRow, createTestDatabase, describeOnBackends, outboxSettled, say, startHarness, until, USERS, type Harness } from '../support/harness.ts';

// The year-end report from the 2024 NPC sample, every case driven through the chat to its reply and rating, as the
// 民政局 would have done it. Every figure below was worked out by hand from the story, not read back from the code.

const SAMPLE = fileURLToPath(new URL('../../../shared/samples/cases-2024-npc.csv', import.meta.url));

/** The story: the class each case was replied with, when, and the deputy's rating. */
const STORY: Record<string, { cls: string; replied: string; rating: '满意' | '基本满意' | '不满意' }> = {
  '20240562': { cls: 'B', replied: '2024-06-10', rating: '满意' },
  '20240252': { cls: 'B', replied: '2024-06-10', rating: '满意' },
  '20240675': { cls: 'B', replied: '2024-06-10', rating: '满意' },
  '20240542': { cls: 'A', replied: '2024-06-10', rating: '满意' },
  '20240337': { cls: 'A', replied: '2024-06-10', rating: '基本满意' },
  '20240579': { cls: 'A', replied: '2024-06-10', rating: '基本满意' },
  '20240114': { cls: 'C', replied: '2024-06-10', rating: '满意' },
  '20240261': { cls: 'A', replied: '2024-06-10', rating: '满意' },
  '20240919': { cls: 'C', replied: '2024-06-10', rating: '满意' },
  // Five days past its due date (2024-06-20): the one late reply.
  '20240886': { cls: 'A', replied: '2024-06-25', rating: '满意' },
  // 不满意 first: handled again, replied again (A) and then rated 满意.
  '20240268': { cls: 'C', replied: '2024-06-10', rating: '不满意' },
};

describeOnBackends('the 2024 NPC sample, from import to the year-end report', (backend) => {
  let h: Harness;
  let drop: () => Promise<void>;
  let figures: ReportFigures;
  beforeAll(async () => {
    const database = await createTestDatabase(backend);
    drop = database.drop;
    h = await startHarness({ database, today: '2024-07-15' });
    const { cases, problems } = validateRows(await readImportFile(SAMPLE));
    expect(problems).toEqual([]);
    const db = h.service.database.db;
    await db.transaction().execute(async (trx) => applyImportPlan(trx, await planImport(trx, cases, clocksFor(h.config)), null, 'cases-2024-npc.csv'));

    // 张三 works through every case in the group, one message after another (handled in the order sent).
    for (const [no, s] of Object.entries(STORY)) {
      await say(h, USERS.zhang, `认领 ${no}`);
      await say(h, USERS.zhang, `面商 ${no} 电话 2024-04-01 与代表电话沟通`);
      await say(h, USERS.zhang, `答复 ${no} ${s.cls} ${s.replied} 主动公开`);
      await say(h, USERS.zhang, `评价 ${no} ${s.rating}`);
    }
    await until('20240268 reopened', async () => (await caseRow(h, '20240268')).status === 'rehandling', 60_000);
    await say(h, USERS.zhang, '面商 20240268 上门 2024-07-15 再次当面沟通');
    await say(h, USERS.zhang, '答复 20240268 A 2024-07-15 主动公开');
    await say(h, USERS.zhang, '评价 20240268 满意');
    await until(
      'every case closed',
      async () => (await db.selectFrom('cases').select('status').execute()).every((r) => r.status === 'closed'),
      60_000,
    );
    await outboxSettled(h);
    figures = await reportFigures(db, { year: 2024, asOf: '2024-12-31' }, ['A', 'B', 'C']);
  }, 180_000);
  afterAll(async () => {
    await h?.stop();
    await h?.lark.close();
    await drop?.();
  });

  it('lists exactly 20240562 (主办), 20240252 and 20240675 (分办) as B, in that order, with their disclosure and title', () => {
    expect(figures.bClass).toEqual([
      { roleLabel: '主办', caseNo: '20240562', disclosure: '主动公开', title: '关于加快推进老年社会监护服务中心相关立法及建设工作的建议' },
      { roleLabel: '分办', caseNo: '20240252', disclosure: '主动公开', title: '关于提升青年人群结婚率促进人口增长的建议' },
      { roleLabel: '分办', caseNo: '20240675', disclosure: '主动公开', title: '关于进一步完善婚恋支持体系推动婚育产业发展的建议' },
    ]);
  });

  it('gives every rate as worked out by hand', () => {
    expect(figures.total).toBe(11);
    expect(figures.byRole.map((r) => [r.label, r.count])).toEqual([
      ['主办', 9],
      ['分办', 2],
    ]);
    // All 11 replied, 10 by 2024-06-20 (20240886 came on 06-25); contact before reply everywhere.
    expect(figures.replyRate).toMatchObject({ fraction: '11/11', percent: '100%' });
    expect(figures.onTimeRate).toMatchObject({ fraction: '10/11', percent: '90.9%' });
    expect(figures.contactRate).toMatchObject({ fraction: '11/11', percent: '100%' });
    // Latest ratings: 满意 for 9 (20240268's second rating included), 基本满意 for 20240337 and 20240579.
    expect(figures.satisfiedRate).toMatchObject({ fraction: '9/11', percent: '81.8%' });
    expect(figures.satisfiedOrBasicRate).toMatchObject({ fraction: '11/11', percent: '100%' });
    expect(figures.firstDissatisfied).toBe(1);
    expect(figures.assistingOnTimeRate.percent).toBe('—');
    // 20240268 counts once, with the class of its second reply (A).
    expect(figures.classMix).toEqual([
      { role: 'lead', label: '主办', counts: { A: 6, B: 1, C: 2 } },
      { role: 'separate', label: '分办', counts: { A: 0, B: 2, C: 0 } },
    ]);
    expect(figures.overdue).toBe(0);
    expect(figures.unrated).toBe(0);
    expect(figures.completedOn).toBe('2024-07-15');
    expect(summaryLines(figures)).toEqual([
      '2024年共办理建议11件，其中主办9件，分办2件。',
      '办理回复率100%（11/11），按时答复率90.9%（10/11），面商率100%（11/11）。',
      '代表满意率81.8%（9/11），含基本满意100%（11/11）；首次评价不满意1件。',
      '办理结果：主办：A类6件、B类1件、C类2件；分办：A类0件、B类2件、C类0件。',
      '截至7月15日，11件已全部办理完毕。',
    ]);
  });

  it('writes the workbook with 汇总, B类清单 (exactly 办理类别 | 案号 | 公开情况 | 案由), 全部案件 and 承诺调整 (无)', async () => {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await renderReportXlsx(figures)) as unknown as ArrayBuffer);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['汇总', 'B类清单', '全部案件', '承诺调整']);
    const rows = (name: string) => {
      const out: string[][] = [];
      wb.getWorksheet(name)!.eachRow((row) => out.push((row.values as unknown[]).slice(1).map((v) => String(v ?? ''))));
      return out;
    };
    expect(rows('B类清单')).toEqual([
      ['办理类别', '案号', '公开情况', '案由'],
      ['主办', '20240562', '主动公开', '关于加快推进老年社会监护服务中心相关立法及建设工作的建议'],
      ['分办', '20240252', '主动公开', '关于提升青年人群结婚率促进人口增长的建议'],
      ['分办', '20240675', '主动公开', '关于进一步完善婚恋支持体系推动婚育产业发展的建议'],
    ]);
    expect(rows('汇总').map((r) => r[0])).toContain('截至7月15日，11件已全部办理完毕。');
    expect(rows('汇总')).toContainEqual(['按时答复率（按期答复 ÷ 应答复）', '10', '11', '90.9%']);
    const all = rows('全部案件');
    expect(all).toHaveLength(12);
    const late = all.find((r) => r[0] === '20240886')!;
    expect(late[10]).toBe('2024-06-25');
    expect(late[12]).toBe('否');
    const reopened = all.find((r) => r[0] === '20240268')!;
    expect([reopened[15], reopened[16]]).toEqual(['不满意', '满意']);
    expect(rows('承诺调整')).toEqual([['案号', '案由', '说明日期', '调整情况'], ['无']]);
  });

  it('renders the summary and the B-class table as Markdown for the written report', () => {
    const md = renderReportMarkdown(figures);
    expect(md).toContain('| 办理类别 | 案号 | 公开情况 | 案由 |\n| --- | --- | --- | --- |\n| 主办 | 20240562 | 主动公开 | 关于加快推进老年社会监护服务中心相关立法及建设工作的建议 |');
    expect(md).toContain('| 分办 | 20240675 | 主动公开 | 关于进一步完善婚恋支持体系推动婚育产业发展的建议 |\n');
    expect(md).toContain('| 满意率（满意 ÷ 已评价） | 9/11 | 81.8% |');
    expect(md).toContain('## 承诺事项调整\n\n无');
  });
});
