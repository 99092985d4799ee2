// The timeline of a case as typed facts: what happened, with the dates, people and numbers involved. The Chinese
// line a card shows is rendered from the facts when it is shown, so a name learned later or a change of wording
// reaches old entries too, and the report can count what happened without reading sentences.

import { proposerTitle, type CaseKind, type ContactMethod, type Disclosure, type FollowUpOutcome, type IsoDate, type Person, type Rating } from './types.ts';

/** One timeline entry. People are kept with the name known when it happened; a newer name wins when rendering. */
export type TimelineFact =
  | { type: 'imported'; source: string; row: number; replyDueDate: IsoDate }
  | { type: 'import_updated'; source: string; row: number; changes: { label: string; before: unknown; after: unknown }[] }
  | { type: 'claimed' }
  /** `from`: the handler whose claim someone else withdrew; absent when the handler gave it up. */
  | { type: 'released'; from?: Person }
  /** `from`: the handler it was taken from by someone else; absent when the handler handed it over, or nobody had it
   *  (`assigned`: a coordinator named the handler of an unclaimed case). */
  | { type: 'handed_over'; to: Person; from?: Person; assigned?: true }
  | { type: 'progress'; note: string }
  | { type: 'contacted'; date: IsoDate; method: ContactMethod; who: string; note: string }
  | { type: 'replied'; kind: CaseKind; round: number; resultClass: string; disclosure: Disclosure; date: IsoDate }
  | { type: 'opinion_sent'; note: string }
  /** `reopenedUntil`: a 不满意 rating that reopened the case, with the new due date. */
  | { type: 'rated'; kind: CaseKind; rating: Rating; reopenedUntil?: IsoDate }
  | { type: 'extension_requested'; until: IsoDate; reason: string }
  | { type: 'extension_approved'; from: IsoDate; to: IsoDate }
  | { type: 'extension_refused'; note: string }
  | { type: 'adjustment_requested'; reason: string }
  | { type: 'adjustment_approved'; note: string }
  | { type: 'adjustment_refused'; note: string }
  /** A follow-up (回头看) of a B-class promise: still in progress (checked), kept, or changed and explained. */
  | { type: 'followed_up'; kind: CaseKind; outcome: FollowUpOutcome; note: string }
  /** An entry written before the timeline kept facts, whose sentence could not be read back into them. */
  | { type: 'legacy'; was: string; text: string };

export type TimelineFactType = TimelineFact['type'];

/** Current names by open_id; people not in it are shown with the name stored in the fact. */
export type NameLookup = (person: Person) => string;

const storedName: NameLookup = (p) => p.name;

function fmt(v: unknown): string {
  if (v === null || v === undefined || v === '') return '（空）';
  if (Array.isArray(v)) return v.length ? v.join('、') : '（空）';
  return String(v);
}

const withNote = (note: string) => (note ? `：${note}` : '');

/** The Chinese line of a timeline entry (the actor is shown beside it, so it names only the other people). */
export function timelineLine(f: TimelineFact, name: NameLookup = storedName): string {
  switch (f.type) {
    case 'imported':
      return `导入案件（${f.source} 第${f.row}行），答复期限 ${f.replyDueDate}`;
    case 'import_updated':
      return `导入更新（${f.source} 第${f.row}行）：${f.changes.map((c) => `${c.label} ${fmt(c.before)} → ${fmt(c.after)}`).join('；')}`;
    case 'claimed':
      return '认领了案件';
    case 'released':
      return f.from ? `取消了${name(f.from)}的认领` : '放弃了案件';
    case 'handed_over':
      if (f.assigned) return `指定${name(f.to)}承办`;
      return f.from ? `将案件由${name(f.from)}转交给${name(f.to)}` : `将案件转交给${name(f.to)}`;
    case 'progress':
      return f.note;
    case 'contacted':
      return `${f.date} ${f.method}沟通${f.who ? `（${f.who}）` : ''}${withNote(f.note)}`;
    case 'replied':
      return `${f.round > 1 ? '再次' : ''}答复${proposerTitle(f.kind)}：${f.resultClass}类，${f.disclosure}，答复日期 ${f.date}`;
    case 'opinion_sent':
      return `已向主办单位报送会办意见${withNote(f.note)}`;
    case 'rated':
      return f.reopenedUntil
        ? `${proposerTitle(f.kind)}评价：不满意，案件重新办理，再次答复期限 ${f.reopenedUntil}`
        : `${proposerTitle(f.kind)}评价：${f.rating}`;
    case 'extension_requested':
      return `申请延期至 ${f.until}：${f.reason}`;
    case 'extension_approved':
      return `同意延期，答复期限由 ${f.from} 调整为 ${f.to}`;
    case 'extension_refused':
      return `不同意延期${withNote(f.note)}`;
    case 'adjustment_requested':
      return `申请调整：${f.reason}`;
    case 'adjustment_approved':
      return `同意调整，案件调整出本单位${withNote(f.note)}`;
    case 'adjustment_refused':
      return `不同意调整${withNote(f.note)}，请按原交办办理`;
    case 'followed_up':
      return f.outcome === 'kept'
        ? `承诺事项已落实：${f.note}`
        : f.outcome === 'changed'
          ? `承诺事项调整，已向${proposerTitle(f.kind)}说明：${f.note}`
          : `回头看承诺事项：${f.note}`;
    case 'legacy':
      return f.text;
  }
}

/** Every person a fact names, for looking up their current names. */
export function peopleIn(f: TimelineFact): Person[] {
  switch (f.type) {
    case 'released':
      return f.from ? [f.from] : [];
    case 'handed_over':
      return f.from ? [f.from, f.to] : [f.to];
    default:
      return [];
  }
}
