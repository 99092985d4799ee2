import { sql, type Kysely } from 'kysely';

// The timeline keeps typed facts (src/domain/timeline.ts) instead of Chinese sentences; the sentence is rendered when
// the timeline is shown. Existing entries are read back into facts from their sentence and their before/after
// snapshot; an entry whose sentence does not read back is kept word for word as a 'legacy' fact.
//
// Self-contained on purpose: a migration must mean the same thing forever, whatever the code around it becomes.

type Fact = Record<string, unknown> & { type: string };

interface Row {
  id: string | number;
  type: string;
  note: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  kind: string;
}

const person = (openId: unknown, name: string): { openId: string; name: string } => ({ openId: typeof openId === 'string' ? openId : '', name });

/** The facts an old entry stated, or null when its sentence is not one the old code wrote. */
export function factsOf(r: Row): Fact | null {
  const note = r.note ?? '';
  const after = r.after ?? {};
  const before = r.before ?? {};
  let m: RegExpExecArray | null;
  switch (r.type) {
    case 'claimed':
      return note === '认领了案件' ? { type: 'claimed' } : null;
    case 'released':
      if (note === '放弃了案件') return { type: 'released' };
      m = /^取消了(.+)的认领$/.exec(note);
      return m ? { type: 'released', from: person(before['handler'], m[1]!) } : null;
    case 'handed_over':
      m = /^指定(.+)承办$/.exec(note);
      if (m) return { type: 'handed_over', to: person(after['handler'], m[1]!), assigned: true };
      m = /^将案件由(.+)转交给(.+)$/.exec(note);
      if (m) return { type: 'handed_over', from: person(before['handler'], m[1]!), to: person(after['handler'], m[2]!) };
      m = /^将案件转交给(.+)$/.exec(note);
      return m ? { type: 'handed_over', to: person(after['handler'], m[1]!) } : null;
    case 'progress':
      return { type: 'progress', note };
    case 'contacted':
      m = /^(\d{4}-\d{2}-\d{2}) (电话|上门|座谈|线上|当面)沟通(?:（([^）]*)）)?(?:：([\s\S]*))?$/.exec(note);
      return m ? { type: 'contacted', date: m[1], method: m[2], who: m[3] ?? '', note: m[4] ?? '' } : null;
    case 'replied':
      m = /^(再次)?答复(?:代表|委员)：(.+)类，(主动公开|依申请公开|不予公开)，答复日期 (\d{4}-\d{2}-\d{2})$/.exec(note);
      return m ? { type: 'replied', kind: r.kind, round: m[1] ? 2 : 1, resultClass: m[2], disclosure: m[3], date: m[4] } : null;
    case 'opinion_sent':
      m = /^已向主办单位报送会办意见(?:：([\s\S]*))?$/.exec(note);
      return m ? { type: 'opinion_sent', note: m[1] ?? '' } : null;
    case 'rated':
      m = /^(?:代表|委员)评价：不满意，案件重新办理，再次答复期限 (\d{4}-\d{2}-\d{2})$/.exec(note);
      if (m) return { type: 'rated', kind: r.kind, rating: '不满意', reopenedUntil: m[1] };
      m = /^(?:代表|委员)评价：(满意|基本满意|不满意)$/.exec(note);
      return m ? { type: 'rated', kind: r.kind, rating: m[1] } : null;
    case 'extension_requested':
      m = /^申请延期至 (\d{4}-\d{2}-\d{2})：([\s\S]*)$/.exec(note);
      return m ? { type: 'extension_requested', until: m[1], reason: m[2] } : null;
    case 'extension_approved':
      m = /^同意延期，答复期限由 (\d{4}-\d{2}-\d{2}) 调整为 (\d{4}-\d{2}-\d{2})$/.exec(note);
      return m ? { type: 'extension_approved', from: m[1], to: m[2] } : null;
    case 'extension_refused':
      m = /^不同意延期(?:：([\s\S]*))?$/.exec(note);
      return m ? { type: 'extension_refused', note: m[1] ?? '' } : null;
    case 'adjustment_requested':
      m = /^申请调整：([\s\S]*)$/.exec(note);
      return m ? { type: 'adjustment_requested', reason: m[1] } : null;
    case 'adjustment_approved':
      m = /^同意调整，案件调整出本单位(?:：([\s\S]*))?$/.exec(note);
      return m ? { type: 'adjustment_approved', note: m[1] ?? '' } : null;
    case 'adjustment_refused':
      m = /^不同意调整(?:：([\s\S]*))?，请按原交办办理$/.exec(note);
      return m ? { type: 'adjustment_refused', note: m[1] ?? '' } : null;
    case 'imported':
      m = /^导入案件（(.+) 第(\d+)行），答复期限 (\d{4}-\d{2}-\d{2})$/.exec(note);
      return m ? { type: 'imported', source: m[1], row: Number(m[2]), replyDueDate: m[3] } : null;
    case 'import_updated': {
      m = /^导入更新（(.+) 第(\d+)行）：/.exec(note);
      if (!m) return null;
      // The sentence lists "label before → after"; the snapshot holds the values, the sentence the labels.
      const labels = note.slice(m[0].length).split('；').map((part) => part.split(' ')[0] ?? '');
      const fields = Object.keys(after);
      if (labels.length !== fields.length) return null;
      const changes = fields.map((field, i) => ({ label: labels[i], before: before[field] ?? null, after: after[field] ?? null }));
      return { type: 'import_updated', source: m[1], row: Number(m[2]), changes };
    }
    default:
      return null;
  }
}

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('case_events').addColumn('facts', 'jsonb').execute();
  const rows = (
    await sql<Row>`
      select e.id, e.type, e.note, e.before, e.after, c.kind
      from case_events e join cases c on c.id = e.case_id order by e.id`.execute(db)
  ).rows;
  for (const r of rows) {
    const facts = factsOf(r) ?? { type: 'legacy', was: r.type, text: r.note ?? '' };
    await sql`update case_events set facts = ${JSON.stringify(facts)}::jsonb where id = ${r.id}`.execute(db);
  }
  await sql`alter table case_events alter column facts set not null`.execute(db);
  await db.schema.alterTable('case_events').dropColumn('note').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('case_events').addColumn('note', 'text').execute();
  // The sentence of a legacy entry is all a fact-less timeline can keep; typed facts keep their type only.
  await sql`update case_events set note = facts->>'text' where facts->>'type' = 'legacy'`.execute(db);
  await db.schema.alterTable('case_events').dropColumn('facts').execute();
}
