import { MAX_NOTE_LENGTH } from '../../domain/case-rules.ts';
import type { ContactMethod, IsoDate } from '../../domain/types.ts';
import {
  checkLength,
  freeTextFrom,
  invalidDateMessage,
  leadingCase,
  leadingDate,
  readDate,
  reject,
  type CaseRef,
} from '../parse/args.ts';
import { display } from '../parse/tokens.ts';
import { caseCommand, withNames } from '../case-command.ts';

const CONTACT_METHOD_WORDS = new Map<string, ContactMethod>([
  ['电话', '电话'],
  ['上门', '上门'],
  ['座谈', '座谈'],
  ['线上', '线上'],
  ['当面', '当面'],
  ['phone', '电话'],
  ['visit', '上门'],
  ['meeting', '座谈'],
  ['online', '线上'],
  ['in-person', '当面'],
  ['face', '当面'],
  ['face-to-face', '当面'],
]);
const CONTACT_METHOD_CHOICES = '电话、上门、座谈、线上或当面';

function gluedMethod(text: string): ContactMethod | null {
  for (const [word, method] of CONTACT_METHOD_WORDS) {
    if (/^[\u4e00-\u9fff]/.test(word) && text.startsWith(word)) return method;
  }
  return null;
}

/** 面商 562 电话 [日期] [说明]: contact with the deputy. */
export const contact = caseCommand<{ type: 'contact'; case: CaseRef; method: ContactMethod; date: IsoDate; note: string }>({
  type: 'contact',
  words: ['面商', 'contact', '沟通'],
  usage: '面商 <案号> <电话|上门|座谈|线上|当面> [日期] [说明]',
  help: { description: '登记与代表委员的沟通（面商）', group: '办理' },
  parse: (args, ctx) => {
    const ref = leadingCase(args);
    let method: ContactMethod | null = null;
    let date: IsoDate | null = null;
    let i = 1;
    // Method and date may come in either order, both before the note.
    for (; i < args.length && (method === null || date === null); i++) {
      const tok = args[i]!;
      if (tok.person !== null) break;
      const m: ContactMethod | undefined = method === null ? CONTACT_METHOD_WORDS.get(tok.text.toLowerCase()) : undefined;
      if (m !== undefined) {
        method = m;
        continue;
      }
      const d: IsoDate | null = date === null ? readDate(tok.text, ctx.today, 'past') : null;
      if (d !== null) {
        date = d;
        continue;
      }
      break;
    }
    const noteFrom = args[i];
    if (method === null) {
      // "电话沟通了，代表同意" — the method glued to the note; the note keeps the whole sentence.
      const glued = noteFrom && noteFrom.person === null ? gluedMethod(noteFrom.text) : null;
      if (glued === null) {
        if (noteFrom === undefined || noteFrom.person !== null) reject(`请写明沟通方式：${CONTACT_METHOD_CHOICES}。`);
        reject(`“${display(noteFrom)}”不是可识别的沟通方式，请写：${CONTACT_METHOD_CHOICES}。`);
      }
      method = glued;
    }
    if (date === null && noteFrom !== undefined && noteFrom.person === null) {
      // "5月1日与代表电话沟通" — a date glued to the note; again the note keeps the whole sentence.
      const lead = leadingDate(noteFrom.text);
      if (lead !== null) {
        date = readDate(lead, ctx.today, 'past') ?? reject(invalidDateMessage(lead));
      }
    }
    const note = noteFrom === undefined ? '' : freeTextFrom(ctx, noteFrom.start);
    checkLength(note, MAX_NOTE_LENGTH, '说明');
    return { type: 'contact', case: ref, method, date: date ?? ctx.today, note };
  },
  action: async (cmd, ctx) => ({ type: 'contact', date: cmd.date, method: cmd.method, who: '', note: await withNames(ctx, cmd.note) }),
});
