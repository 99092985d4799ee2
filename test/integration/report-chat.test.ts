import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cardTexts, findButtons } from '../support/lark/cards.ts';
import {
  answerTo,
  ask,
  caseRow,
  click,
  createTestDatabase,
  describeOnBackends,
  filesAnswering,
  openCaseCard,
  outboxSettled,
  postClick,
  say,
  sendFile,
  startHarness,
  USERS,
  waitForCardText,
  type Harness,
} from '../support/harness.ts';

// The office gets its batch in and its report out without leaving Feishu: a coordinator drops the year's file into a
// private chat, checks the preview and confirms it; asks for 统计; and gets the year-end report as files.

const SAMPLE = fileURLToPath(new URL('../../../shared/samples/cases-2024-npc.csv', import.meta.url));
const sampleCsv = () => fs.readFileSync(SAMPLE);

function text(card: unknown): string {
  return cardTexts(card).join('\n');
}

describeOnBackends('import and report in chat', (backend) => {
  let h: Harness;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    database = await createTestDatabase(backend);
    h = await startHarness({ database, today: '2024-03-25' });
  });
  afterAll(async () => {
    await h?.stop();
    await h?.lark.close();
    await database?.drop();
  });

  it('张三, who is not a coordinator, sends the file: he is told only coordinators import, and nothing is read', async () => {
    const sent = await sendFile(h, USERS.zhang, '2024年建议.csv', sampleCsv());
    expect((await answerTo(h, sent.messageId)).text).toBe('只有协调员可以导入案件。如需导入，请联系协调员。');
    expect(h.lark.requests.some((r) => r.path.includes(`/messages/${sent.messageId}/resources/`))).toBe(false);
    expect(await h.service.database.db.selectFrom('cases').select('id').execute()).toHaveLength(0);
  });

  it('the coordinator drops the 2024 sample into the private chat, sees 11 new cases, and 确认导入 brings them in', async () => {
    const sent = await sendFile(h, USERS.admin, '2024年建议.csv', sampleCsv());
    const preview = await answerTo(h, sent.messageId);
    expect(preview.card).toBeDefined();
    expect(preview.text).toContain('导入预览');
    expect(preview.text).toContain('新增 **11** 件，更新 **0** 件，未变化 **0** 件');
    expect(findButtons(preview.card!).map((b) => b.text)).toEqual(['确认导入', '取消']);
    expect(await h.service.database.db.selectFrom('cases').select('id').execute()).toHaveLength(0);

    const confirmed = await click(h, USERS.admin, preview, '确认导入');
    expect(confirmed.toast).toEqual({ type: 'success', content: '已导入“2024年建议.csv”：新增 11 件，更新 0 件，未变化 0 件。' });
    expect(text(confirmed.card)).toContain('已导入');
    expect(findButtons(confirmed.card!)).toEqual([]);
    expect(await h.service.database.db.selectFrom('cases').select('id').execute()).toHaveLength(11);

    // A second click on the same preview (a double click) does nothing more: one imported event per case.
    await postClick(h, USERS.admin, preview, findButtons(preview.card!)[0]!.value);
    expect(await h.service.database.db.selectFrom('cases').select('id').execute()).toHaveLength(11);
    expect(await h.service.database.db.selectFrom('case_events').select('id').where('type', '=', 'imported').execute()).toHaveLength(11);
  });

  it('a corrected file updates one case: 取消 discards it, the next preview is confirmed and the live case card is redrawn', async () => {
    const card = await openCaseCard(h, USERS.zhang, '20240562');
    expect(text(card.card)).toContain('2024-06-20');
    const corrected = sampleCsv().toString('utf8').replace('20240562,建议,市七届人大五次会议,关于加快推进老年社会监护服务中心相关立法及建设工作的建议,,主办,市民政局,,2024-03-20,,主动公开', '20240562,建议,市七届人大五次会议,关于加快推进老年社会监护服务中心相关立法及建设工作的建议,,主办,市民政局,,2024-03-20,2024-07-31,主动公开');
    expect(corrected).not.toBe(sampleCsv().toString('utf8'));

    const first = await sendFile(h, USERS.admin, '2024年建议（更正）.csv', Buffer.from(corrected, 'utf8'));
    const preview1 = await answerTo(h, first.messageId);
    expect(preview1.text).toContain('新增 **0** 件，更新 **1** 件，未变化 **10** 件');
    expect(preview1.text).toContain('更新 第2行 建议 20240562：答复期限 （空） → 2024-07-31');
    const cancelled = await click(h, USERS.admin, preview1, '取消');
    expect(cancelled.toast).toEqual({ type: 'info', content: '已取消导入“2024年建议（更正）.csv”，未写入任何数据。' });
    expect((await caseRow(h, '20240562')).reply_due_date).toBe('2024-06-20');
    const late = await postClick(h, USERS.admin, preview1, findButtons(preview1.card!)[0]!.value);
    expect(late.toast?.content).toBe('“2024年建议（更正）.csv”的导入已取消，如需导入请重新发送文件。');

    const second = await sendFile(h, USERS.admin, '2024年建议（更正）.csv', Buffer.from(corrected, 'utf8'));
    const preview2 = await answerTo(h, second.messageId);
    const done = await click(h, USERS.admin, preview2, '确认导入');
    expect(done.toast?.content).toBe('已导入“2024年建议（更正）.csv”：新增 0 件，更新 1 件，未变化 10 件。');
    expect((await caseRow(h, '20240562')).reply_due_date).toBe('2024-07-31');
    await waitForCardText(h, card.messageId, '2024-07-31');
  });

  it('a broken file lists every problem by row and column and can never be confirmed', async () => {
    const broken = [
      '案号,类别,案由,办理类别,交办日期',
      '20249001,建议,关于一的建议,主办,2024-13-01',
      '20249002,议案,关于二的建议,主办,2024-03-20',
      '20249003,建议,,牵头,2024-03-20',
    ].join('\n');
    const sent = await sendFile(h, USERS.admin, '有问题的文件.csv', Buffer.from(broken, 'utf8'));
    const preview = await answerTo(h, sent.messageId);
    expect(preview.text).toContain('导入预览：文件有问题');
    expect(preview.text).toContain('第2行「交办日期」');
    expect(preview.text).toContain('第3行「类别」');
    expect(preview.text).toContain('第4行「案由」');
    expect(preview.text).toContain('第4行「办理类别」');
    expect(findButtons(preview.card!)).toEqual([]);
    // Nothing was stored that a forged click could confirm.
    expect(await h.service.database.db.selectFrom('pending_imports').select('id').where('message_id', '=', sent.messageId).execute()).toEqual([]);
    const forged = await postClick(h, USERS.admin, preview, { action: 'confirm_import', importId: 999_999 });
    expect(forged.toast?.content).toBe('找不到这次导入，请重新发送文件。');
    expect(await h.service.database.db.selectFrom('cases').select('id').where('case_no', 'like', '20249%').execute()).toEqual([]);
  });

  it('answers a file that is not a spreadsheet, an empty one, an unreadable one and one over 20 MB, in words that say what to do', async () => {
    const pdf = await sendFile(h, USERS.admin, '报告.pdf', Buffer.from('%PDF-1.4'));
    expect((await answerTo(h, pdf.messageId)).text).toBe('无法导入“报告.pdf”：只支持 .xlsx 和 .csv 文件，请发送 .xlsx 或 .csv 文件。');
    const xls = await sendFile(h, USERS.admin, '老格式.xls', Buffer.from('x'));
    expect((await answerTo(h, xls.messageId)).text).toContain('请在 Excel/WPS 中另存为 .xlsx 或“CSV UTF-8”后再发送');
    const empty = await sendFile(h, USERS.admin, '空.csv', Buffer.alloc(0));
    expect((await answerTo(h, empty.messageId)).text).toBe('文件“空.csv”是空的，请检查后重新发送。');
    const notXlsx = await sendFile(h, USERS.admin, '改了扩展名.xlsx', Buffer.from('this is not a zip'));
    const bad = await answerTo(h, notXlsx.messageId);
    expect(bad.text).toContain('无法导入');
    expect(bad.text).toContain('文件可能已损坏、已加密或不是 .xlsx 格式');
    const huge = await sendFile(h, USERS.admin, '太大.csv', Buffer.alloc(20 * 1024 * 1024 + 1, 0x41));
    expect((await answerTo(h, huge.messageId)).text).toBe('无法导入“太大.csv”：文件超过 20 MB。请删去无关的工作表、图片后再发送，或分成几个文件导入。');
  });

  it('Lark fails the download: the coordinator is told to send the file again, and nothing is stored', async () => {
    h.lark.failNext(1, { status: 500, paths: /\/resources\// });
    const sent = await sendFile(h, USERS.admin, '2024年建议.csv', sampleCsv());
    expect((await answerTo(h, sent.messageId)).text).toBe('没能从飞书下载“2024年建议.csv”，请稍后重新发送。如仍失败，请联系管理员检查应用的 im:resource 权限。');
    expect(await h.service.database.db.selectFrom('pending_imports').select('id').where('message_id', '=', sent.messageId).execute()).toEqual([]);
  });

  it('a preview survives a restart, and lapses after a day', async () => {
    const extra = '案号,类别,案由,办理类别,交办日期\n20249101,建议,关于重启后导入的建议,主办,2024-03-20\n';
    const sent = await sendFile(h, USERS.admin, '补充.csv', Buffer.from(extra, 'utf8'));
    const preview = await answerTo(h, sent.messageId);
    await h.stop();
    h = await startHarness({ database, lark: h.lark, today: '2024-03-25' });
    const ok = await click(h, USERS.admin, preview, '确认导入');
    expect(ok.toast?.content).toBe('已导入“补充.csv”：新增 1 件，更新 0 件，未变化 0 件。');

    const later = await sendFile(h, USERS.admin, '过期.csv', Buffer.from(extra.replace('20249101', '20249102'), 'utf8'));
    const stale = await answerTo(h, later.messageId);
    await h.service.database.db.updateTable('pending_imports').set({ expires_at: new Date(Date.now() - 1000) }).where('message_id', '=', later.messageId).execute();
    const lapsed = await click(h, USERS.admin, stale, '确认导入');
    expect(lapsed.toast?.content).toBe('“过期.csv”的导入预览已超过24小时失效，请重新发送文件。');
    expect(text(lapsed.card)).toContain('导入预览已失效');
    expect(await h.service.database.db.selectFrom('cases').select('id').where('case_no', '=', '20249102').execute()).toEqual([]);
  });

  it('in a group (all-group-messages scope), files from anyone but a coordinator are left alone; a coordinator\'s is previewed', async () => {
    const before = h.lark.sent.length;
    await sendFile(h, USERS.zhang, '会议纪要.docx', Buffer.from('x'), { p2p: false });
    await sendFile(h, USERS.zhang, '名单.csv', sampleCsv(), { p2p: false });
    await sendFile(h, USERS.admin, '会议材料.pdf', Buffer.from('%PDF'), { p2p: false });
    await outboxSettled(h);
    expect(h.lark.sent.length).toBe(before);
    const sent = await sendFile(h, USERS.admin, '2024年建议.csv', sampleCsv(), { p2p: false });
    const preview = await answerTo(h, sent.messageId);
    // The original file would undo the corrected 答复期限 of 20240562: previewed in the group, then cancelled.
    expect(preview.chatId).toBe(sent.chatId);
    expect(preview.text).toContain('新增 **0** 件，更新 **1** 件，未变化 **10** 件');
    expect((await click(h, USERS.admin, preview, '取消')).toast?.type).toBe('info');
    expect((await caseRow(h, '20240562')).reply_due_date).toBe('2024-07-31');
  });

  it('统计 shows the bound unit to anyone there, everything to the coordinator privately, and tells 张三 how to get a scope', async () => {
    const refused = await ask(h, USERS.zhang, '统计 2024');
    expect(refused.text).toContain('本群尚未绑定处室');
    await ask(h, USERS.admin, '绑定 养老服务处');
    await ask(h, USERS.zhang, '认领 20240542');
    const unit = await ask(h, USERS.zhang, '统计 2024 建议');
    expect(unit.card).toBeDefined();
    expect(unit.text).toContain('2024年建议办理统计');
    expect(unit.text).toContain('养老服务处');
    expect(unit.text).toContain('共 **1** 件');
    const all = await ask(h, USERS.admin, '统计 2024', { p2p: true });
    expect(all.text).toContain('全部处室');
    expect(all.text).toContain('共 **12** 件');
    // Nothing is due yet on 2024-03-25: an empty denominator shows "—".
    expect(all.text).toContain('办理回复率 **—**（0/0）');
    const bad = await ask(h, USERS.admin, '统计 明年', { p2p: true });
    expect(bad.text).toContain('看不懂“明年”');
  });

  it('导出报告 sends the coordinator the .xlsx and the Markdown, and refuses anyone else', async () => {
    const refused = await ask(h, USERS.zhang, '导出报告 2024');
    expect(refused.text).toBe('只有协调员可以导出年度报告。如需报告，请联系协调员。');
    const asked = await say(h, USERS.admin, '导出报告 2024 建议', { p2p: true });
    const [xlsx, md] = await filesAnswering(h, asked.messageId, 2);
    const note = await h.lark.waitFor(() => h.lark.sent.find((m) => m.replyTo === asked.messageId && m.msgType === 'text'));
    expect((note.content as { text: string }).text).toBe(
      '已生成2024年建议办理情况报告（12 件，B类 0 件），发送 Excel 和 Markdown 两个文件：2024年建议办理情况报告.xlsx、2024年建议办理情况报告.md。',
    );
    expect(xlsx!.fileName).toBe('2024年建议办理情况报告.xlsx');
    expect(md!.fileName).toBe('2024年建议办理情况报告.md');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx!.bytes as unknown as ArrayBuffer);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['汇总', 'B类清单', '全部案件', '承诺调整']);
    expect((wb.getWorksheet('B类清单')!.getRow(1).values as unknown[]).slice(1)).toEqual(['办理类别', '案号', '公开情况', '案由']);
    expect(md!.bytes.toString('utf8')).toContain('2024年共办理建议12件，其中主办10件，分办2件。');
  });
});
