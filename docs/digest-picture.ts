// Draws docs/digest.png: a sample digest card rendered by the real card builder, laid out in HTML roughly as the
// Feishu client shows Card JSON 2.0, and photographed with headless chromium. Run: npx tsx docs/digest-picture.ts
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDigestCard } from '../cards/reminders.ts';

const card = buildDigestCard({
  cardId: 1,
  date: '2024-09-27',
  audience: 'chat',
  part: 1,
  parts: 1,
  items: [
    { caseId: 1, caseNo: '20240562', title: '关于加快推进老年社会监护服务中心相关立法及建设工作的建议', rule: 'overdue', replyDueDate: '2024-09-20', workdaysLeft: -5, handlerName: '张三', done: null },
    { caseId: 2, caseNo: '20240337', title: '关于进一步扩大深港跨境养老服务合作的建议', rule: 'overdue', replyDueDate: '2024-09-24', workdaysLeft: -3, handlerName: '王五', done: null },
    { caseId: 3, caseNo: '20240579', title: '关于将喘息服务作为失能、半失能老人常态化服务的建议', rule: 'due_soon', replyDueDate: '2024-10-08', workdaysLeft: 2, handlerName: '李四', done: null },
    { caseId: 4, caseNo: '20240252', title: '关于提升青年人群结婚率促进人口增长的建议', rule: 'unclaimed', replyDueDate: '2024-12-10', workdaysLeft: 48, handlerName: null, done: '已认领' },
    { caseId: 5, caseNo: '20240114', title: '关于建立居民小区物业管理公司参与居家养老服务的建议', rule: 'unclaimed', replyDueDate: '2024-12-10', workdaysLeft: 48, handlerName: null, done: null },
    { caseId: 6, caseNo: '20240675', title: '关于进一步完善婚恋支持体系推动婚育产业发展的建议', rule: 'unrated', replyDueDate: null, workdaysLeft: null, handlerName: '张三', done: null },
    { caseId: 7, caseNo: '20240542', title: '关于构建养老机构综合监管机制的建议', rule: 'follow_up', replyDueDate: null, workdaysLeft: null, handlerName: '张三', done: null },
  ],
});

const COLOURS: Record<string, string> = { red: '#f54a45', orange: '#ff8800', green: '#34c724', grey: '#8f959e', blue: '#3370ff' };
const HEADER: Record<string, string> = { red: '#fde2e2', orange: '#feead2', green: '#d9f5d6', blue: '#e1eaff', yellow: '#faf1d1', grey: '#eff0f1' };
const esc = (t: string) => t.replace(/&(?!#\d+;)/g, '&amp;');
function markdown(text: string): string {
  return esc(text)
    .replace(/<font color='(\w+)'>([\s\S]*?)<\/font>/g, (_, c: string, t: string) => `<span style="color:${COLOURS[c] ?? c}">${t}</span>`)
    .replace(/\*\*([\s\S]*?)\*\*/g, '<b>$1</b>')
    .replace(/~~([\s\S]*?)~~/g, '<s>$1</s>')
    .replace(/\n/g, '<br>');
}
type El = Record<string, any>;
function render(el: El): string {
  switch (el.tag) {
    case 'markdown':
      return `<div class="md">${markdown(el.content)}</div>`;
    case 'column_set':
      return `<div class="cols">${el.columns.map((c: El) => `<div class="col" style="flex:${c.width === 'auto' ? '0 0 auto' : c.weight ?? 1}">${c.elements.map(render).join('')}</div>`).join('')}</div>`;
    case 'button':
      return `<span class="btn ${el.type}">${esc(el.text.content)}</span>`;
    default:
      return '';
  }
}
const c = card as unknown as El;
const html = `<!doctype html><meta charset="utf-8"><style>
body{margin:0;padding:24px;background:#f2f3f5;font:14px/1.6 "Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;color:#1f2329}
.card{width:560px;background:#fff;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.12);overflow:hidden}
.head{padding:12px 16px;background:${HEADER[c.header.template] ?? '#e1eaff'}}.title{font-size:16px;font-weight:600}.sub{color:#646a73;font-size:12px}
.body{padding:8px 16px 16px}.md{margin:8px 0}.cols{display:flex;gap:8px;align-items:center;margin:6px 0}.col{min-width:0}
.btn{display:inline-block;margin-left:6px;padding:2px 10px;border-radius:6px;font-size:12px;border:1px solid #d0d3d6;white-space:nowrap}
.btn.primary{background:#3370ff;color:#fff;border-color:#3370ff}.btn.primary_text{color:#3370ff;border-color:transparent}
</style><div class="card"><div class="head"><div class="title">${esc(c.header.title.content)}</div><div class="sub">${esc(c.header.subtitle?.content ?? '')}</div></div>
<div class="body">${c.body.elements.map(render).join('')}</div></div>`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'digest-'));
const file = path.join(dir, 'digest.html');
fs.writeFileSync(file, html);
const out = fileURLToPath(new URL('./digest.png', import.meta.url));
execFileSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--screenshot=${out}`, '--window-size=610,760', `file://${file}`], { stdio: 'ignore' });
console.log(`wrote ${out}`);
