import { isCoordinator } from '../../domain/types.ts';
import { enqueueFile } from '../../lark/outbox.ts';
import { reportFiles, reportFigures } from '../../report/report.service.ts';
import { reject } from '../parse/args.ts';
import { yearAndKind } from '../parse/year-kind.ts';
import { defineCommand, text } from '../command.ts';

/** 导出报告 <年份> [建议|提案]: coordinator; the year-end report as an .xlsx and a Markdown file, into this chat. */
export const exportReport = defineCommand<{ type: 'export_report'; year: number; kind: '建议' | '提案' | null }>({
  type: 'export_report',
  words: ['导出报告', '报告', 'report'],
  usage: '导出报告 <年份> [建议|提案]',
  help: { description: '生成年度办理情况报告（Excel 和 Markdown 文件）', group: '协调员', coordinatorOnly: true },
  parse: (args) => {
    const { year, kind } = yearAndKind('导出报告', args);
    if (year === null) reject('请写明年份，如：导出报告 2024 建议。');
    return { type: 'export_report', year, kind };
  },
  run: async (cmd, ctx) => {
    if (!isCoordinator(ctx.actor)) return text('只有协调员可以导出年度报告。如需报告，请联系协调员。');
    const figures = await reportFigures(ctx.trx, { year: cmd.year, kind: cmd.kind, asOf: ctx.today }, ctx.service.resultClasses);
    const files = await reportFiles(figures);
    // The files go through the outbox in this transaction: queued with the answer, sent once, kept through an outage.
    const target = { replyTo: ctx.messageId, chatId: ctx.chatId };
    await enqueueFile(ctx.trx, target, files.xlsx);
    await enqueueFile(ctx.trx, target, files.markdown);
    const what = `${cmd.year}年${cmd.kind ?? '建议提案'}`;
    if (figures.total === 0) return text(`${what}暂无案件，已生成空报告：${files.xlsx.fileName}、${files.markdown.fileName}。`);
    return text(`已生成${what}办理情况报告（${figures.total} 件，B类 ${figures.bClass.length} 件），发送 Excel 和 Markdown 两个文件：${files.xlsx.fileName}、${files.markdown.fileName}。`);
  },
});
