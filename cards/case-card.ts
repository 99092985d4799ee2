// The case card: one shared card per case in the unit's chat, updated in place after every click. It shows the
// facts, where the case stands, what is waiting for a decision, the history, and the actions the service offers.

import { CONTACT_METHODS, DISCLOSURES, RATINGS, proposerTitle, repliesToDeputy, type Rating } from '../src/domain/types.ts';
import { isDueSoon } from '../src/domain/case-rules.ts';
import { fieldName, formContainerName } from './callback.ts';
import {
  BULLET,
  callbackButton,
  card,
  clip,
  coloured,
  escapeMd,
  hr,
  md,
  panel,
  plain,
  row,
  submitButton,
  type Card,
  type CardElement,
  type DatePicker,
  type HeaderTemplate,
  type Input,
  type TextTag,
  type TextTagColor,
} from './components.ts';
import { CARD_TARGET_BYTES, cardByteSize } from './schema.ts';
import type { CaseAction, CaseCardView } from './view-models.ts';

/** How the remaining time reads: "剩余 N 个工作日", "今天到期", "已逾期 N 个工作日", or '' when no clock runs. */
export function dueWording(workdaysLeft: number | null): string {
  if (workdaysLeft === null) return '';
  if (workdaysLeft === 0) return '今天到期';
  return workdaysLeft > 0 ? `剩余 ${workdaysLeft} 个工作日` : `已逾期 ${-workdaysLeft} 个工作日`;
}

/** Days left at or below which a case counts as due soon (orange). */

/**
 * The header colour of a case: adjusted grey, closed green; otherwise overdue red, due within 5 working days
 * orange, unclaimed yellow (someone has to pick it up), anything else blue.
 */
export function caseTemplate(view: Pick<CaseCardView, 'status' | 'workdaysLeft'>): HeaderTemplate {
  if (view.status === 'adjusted') return 'grey';
  if (view.status === 'closed') return 'green';
  if (view.workdaysLeft !== null && view.workdaysLeft < 0) return 'red';
  if (isDueSoon(view.workdaysLeft)) return 'orange';
  if (view.status === 'unclaimed') return 'yellow';
  return 'blue';
}

/** The due date with its wording, coloured when overdue or due soon; markdown. */
export function dueMarkdown(replyDueDate: string, workdaysLeft: number | null): string {
  const wording = dueWording(workdaysLeft);
  if (wording === '') return replyDueDate;
  const text = `${replyDueDate}（${wording}）`;
  if (workdaysLeft !== null && workdaysLeft < 0) return coloured(`**${text}**`, 'red');
  if (isDueSoon(workdaysLeft)) return coloured(text, 'orange');
  return text;
}

// How much of the history and free text a card shows. A card over budget is rebuilt at the next level down, so a
// case with a long history still fits into Lark's 30 KB.
interface Detail {
  timeline: number;
  text: number;
  list: number;
}

const DETAIL_LEVELS: readonly Detail[] = [
  { timeline: 10, text: 300, list: 5 },
  { timeline: 6, text: 150, list: 3 },
  { timeline: 3, text: 60, list: 2 },
  { timeline: 0, text: 30, list: 1 },
];

/** The case card for `view`: only the actions in `view.actions`, every button carrying the case id. */
export function buildCaseCard(view: CaseCardView): Card {
  let built = renderCaseCard(view, DETAIL_LEVELS[0]!);
  for (const detail of DETAIL_LEVELS.slice(1)) {
    if (cardByteSize(built) <= CARD_TARGET_BYTES) break;
    built = renderCaseCard(view, detail);
  }
  return built;
}

function renderCaseCard(view: CaseCardView, detail: Detail): Card {
  const template = caseTemplate(view);
  const elements: CardElement[] = [];
  if (view.notice) elements.push(md(coloured(`**${escapeMd(clip(view.notice, 200))}**`, 'blue')));
  elements.push(md(`**案由**：${escapeMd(clip(view.title, Math.max(detail.text, 60)))}`));
  elements.push(factColumns(view));
  elements.push(md(progressLines(view, detail).join('\n')));
  const pending = pendingLines(view, detail);
  if (pending.length > 0) elements.push(md(pending.join('\n')));
  elements.push(timelinePanel(view, detail));
  const actions = actionElements(view);
  if (actions.length > 0) elements.push(hr(), ...actions);

  const header = {
    title: plain(`${view.kind} ${view.caseNo}`),
    subtitle: plain(clip(view.title, 60)),
    template,
    text_tag_list: headerTags(view, template),
  };
  return card(header, elements, `${view.kind} ${view.caseNo} ${view.statusLabel} ${view.title}`);
}

const TAG_COLOUR: Record<HeaderTemplate, TextTagColor> = {
  blue: 'blue',
  wathet: 'wathet',
  turquoise: 'turquoise',
  green: 'green',
  yellow: 'yellow',
  orange: 'orange',
  red: 'red',
  carmine: 'carmine',
  violet: 'violet',
  purple: 'purple',
  indigo: 'indigo',
  grey: 'neutral',
  default: 'neutral',
};

function headerTags(view: CaseCardView, template: HeaderTemplate): TextTag[] {
  const tags: TextTag[] = [
    { tag: 'text_tag', text: plain(clip(view.statusLabel, 10)), color: TAG_COLOUR[template] },
    { tag: 'text_tag', text: plain(clip(view.roleLabel, 10)), color: 'neutral' },
  ];
  if (view.round > 1) tags.push({ tag: 'text_tag', text: plain(`第${view.round}轮`), color: 'violet' });
  return tags;
}

function fact(label: string, valueMarkdown: string): string {
  return `**${label}**：${valueMarkdown}`;
}

function factColumns(view: CaseCardView): CardElement {
  const assisting = view.assistingUnits.length > 0 ? view.assistingUnits.join('、') : '无';
  const left = [
    fact('届次', escapeMd(clip(view.session, 40))),
    fact('提出人', escapeMd(clip(view.proposer, 40))),
    fact('办理类别', escapeMd(clip(view.roleLabel, 10))),
    fact('主办单位', escapeMd(clip(view.leadUnit, 40))),
    fact('会办单位', escapeMd(clip(assisting, 80))),
  ];
  const right = [
    fact('承办处室', escapeMd(clip(view.unit ?? '未指定', 40))),
    fact('承办人', view.handlerName === null ? coloured('待认领', 'orange') : escapeMd(clip(view.handlerName, 20))),
    fact('交办日期', view.assignedDate),
    fact(view.role === 'assisting' ? '意见报送期限' : '答复期限', dueMarkdown(view.replyDueDate, view.workdaysLeft)),
  ];
  return {
    tag: 'column_set',
    flex_mode: 'stretch',
    horizontal_spacing: '12px',
    columns: [
      { tag: 'column', width: 'weighted', weight: 1, elements: [md(left.join('\n'))] },
      { tag: 'column', width: 'weighted', weight: 1, elements: [md(right.join('\n'))] },
    ],
  };
}

// Shows the newest `max` items of a list, newest first, and how many older ones were left out.
function listLines<T>(items: readonly T[], max: number, line: (item: T) => string, newestFirst: (a: T, b: T) => number): string[] {
  const sorted = [...items].sort(newestFirst);
  const lines = sorted.slice(0, max).map((item) => `${BULLET}${line(item)}`);
  if (sorted.length > max) lines.push(`${BULLET}${coloured(`另有 ${sorted.length - max} 条较早记录`, 'grey')}`);
  return lines;
}

function progressLines(view: CaseCardView, detail: Detail): string[] {
  const text = (value: string): string => escapeMd(clip(value, detail.text));
  const short = (value: string): string => escapeMd(clip(value, 40));
  const lines: string[] = [];
  lines.push(
    fact(
      '最新进展',
      view.lastProgress === null
        ? coloured('暂无', 'grey')
        : `${view.lastProgress.at} ${short(view.lastProgress.by)}：${text(view.lastProgress.note)}`,
    ),
  );
  const lead = repliesToDeputy(view.role);
  // Assisting units may talk to the deputy too; only lead roles must, so only they see "尚未登记".
  if (view.contacts.length > 0) {
    lines.push(fact('面商', `${view.contacts.length} 次`));
    lines.push(
      ...listLines(
        view.contacts,
        detail.list,
        (c) => `${c.date} ${short(c.method)}，${short(c.who)}${c.note.trim() ? `：${text(c.note)}` : ''}`,
        (a, b) => b.date.localeCompare(a.date),
      ),
    );
  } else if (lead) {
    lines.push(fact('面商', coloured('尚未登记', 'grey')));
  }
  if (view.replies.length > 0) {
    lines.push(fact('答复', ''));
    lines.push(
      ...listLines(
        view.replies,
        detail.list,
        (r) => `第${r.round}轮 ${r.date}，${short(r.resultClass)}，${short(r.disclosure)}`,
        (a, b) => b.round - a.round || b.date.localeCompare(a.date),
      ),
    );
  } else if (lead) {
    lines.push(fact('答复', coloured('尚未答复', 'grey')));
  }
  if (view.opinion !== null) {
    const note = view.opinion.note.trim() ? `：${text(view.opinion.note)}` : '';
    lines.push(fact('会办意见', `${view.opinion.date} 已报送${note}`));
  } else if (!lead) {
    lines.push(fact('会办意见', coloured('尚未报送', 'grey')));
  }
  if (view.ratings.length > 0) {
    lines.push(fact('评价', ''));
    lines.push(
      ...listLines(
        view.ratings,
        detail.list,
        (r) => `第${r.round}轮 ${ratingMarkdown(r.rating)}（${short(r.enteredBy)} 录入）`,
        (a, b) => b.round - a.round,
      ),
    );
  }
  return lines;
}

function ratingMarkdown(rating: Rating): string {
  return rating === '不满意' ? coloured(rating, 'red') : rating;
}

function pendingLines(view: CaseCardView, detail: Detail): string[] {
  const lines: string[] = [];
  const ext = view.pendingExtension;
  if (ext) {
    lines.push(
      coloured(`**延期申请待审批**：${escapeMd(clip(ext.requestedBy, 20))} 申请延至 ${ext.until}`, 'orange') +
        `，理由：${escapeMd(clip(ext.reason, detail.text))}`,
    );
  }
  const adj = view.pendingAdjustment;
  if (adj) {
    lines.push(
      coloured(`**调整申请待审批**：${escapeMd(clip(adj.requestedBy, 20))} 申请调整`, 'orange') +
        `，理由：${escapeMd(clip(adj.reason, detail.text))}`,
    );
  }
  return lines;
}

function timelinePanel(view: CaseCardView, detail: Detail): CardElement {
  const total = view.timeline.length;
  const shown = view.timeline.slice(0, detail.timeline);
  const lines = shown.map(
    (entry) =>
      `${BULLET}${coloured(entry.at, 'grey')} ${escapeMd(clip(entry.actorName ?? '系统', 20))}：${escapeMd(clip(entry.text, Math.min(detail.text, 200)))}`,
  );
  if (total === 0) lines.push(coloured('暂无记录', 'grey'));
  else if (total > shown.length) lines.push(coloured(`另有 ${total - shown.length} 条较早记录`, 'grey'));
  return panel(`办理记录（共 ${total} 条）`, [md(lines.join('\n'))]);
}

// Actions in the order the view lists them; neighbouring plain buttons share one row.
function actionElements(view: CaseCardView): CardElement[] {
  const out: CardElement[] = [];
  let buttons: CardElement[] = [];
  const flush = (): void => {
    if (buttons.length > 0) out.push(row(buttons));
    buttons = [];
  };
  for (const action of dedupe(view.actions)) {
    if (action === 'claim' || action === 'release') {
      buttons.push(plainActionButton(view, action));
      continue;
    }
    flush();
    out.push(action === 'rate' ? ratingRow(view) : actionForm(view, action));
  }
  flush();
  return out;
}

function dedupe<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

function plainActionButton(view: CaseCardView, action: 'claim' | 'release'): CardElement {
  const value = { action, caseId: view.caseId };
  if (action === 'claim') return callbackButton('认领', value, { type: 'primary_filled' });
  return callbackButton('放弃认领', value, {
    type: 'danger',
    confirm: { title: `放弃认领 ${view.caseNo}？`, text: '放弃后本件回到待认领状态，需要其他同事重新认领。' },
  });
}

function ratingRow(view: CaseCardView): CardElement {
  const buttons = RATINGS.map((rating) =>
    callbackButton(
      rating,
      { action: 'rate', caseId: view.caseId, rating },
      rating === '不满意'
        ? {
            type: 'danger',
            confirm: {
              title: `确认${proposerTitle(view.kind)}评价为不满意？`,
              text: view.dissatisfiedReopens
                ? `录入后 ${view.caseNo} 将重新办理，并产生新的答复期限。`
                : `本件已重新办理过，录入后 ${view.caseNo} 将办结，评价如实记录。`,
            },
          }
        : { type: rating === '满意' ? 'primary' : 'default' },
    ),
  );
  return row([md('**录入评价**'), ...buttons]);
}

type FormAction = Exclude<CaseAction, 'claim' | 'release' | 'rate'>;

const FORM_TITLES: Record<FormAction, string> = {
  progress: '更新进展',
  contact: '登记面商',
  reply: '提交答复',
  opinion: '报送会办意见',
  extend: '申请延期',
  adjust: '申请调整',
  handover: '转交',
  follow_up: '承诺事项回头看',
};

function actionForm(view: CaseCardView, action: FormAction): CardElement {
  const fields = formFields(view, action);
  if (fields === null) {
    return md(`**${FORM_TITLES[action]}**：${coloured('尚未配置答复结果类别，请联系协调员。', 'grey')}`);
  }
  const submit = submitButton(`${action}_submit`, FORM_TITLES[action], { action, caseId: view.caseId });
  return {
    tag: 'form',
    name: formContainerName(action),
    elements: [panel(FORM_TITLES[action], [...fields, submit])],
  };
}

function textInput(
  name: string,
  placeholder: string,
  options: { multiline?: boolean; required?: boolean; maxLength: number },
): Input {
  const element: Input = {
    tag: 'input',
    name,
    placeholder: plain(placeholder),
    max_length: options.maxLength,
    required: options.required ?? true,
    width: 'fill',
  };
  if (options.multiline) {
    element.input_type = 'multiline_text';
    element.rows = 3;
  }
  return element;
}

function select(name: string, placeholder: string, options: { label: string; value: string }[]): CardElement {
  return {
    tag: 'select_static',
    name,
    placeholder: plain(placeholder),
    options: options.map((option) => ({ text: plain(clip(option.label, 40)), value: option.value })),
    required: true,
    width: 'fill',
  };
}

function datePicker(name: string, placeholder: string, initialDate?: string): DatePicker {
  const picker: DatePicker = { tag: 'date_picker', name, placeholder: plain(placeholder), required: true, width: 'fill' };
  if (initialDate && /^\d{4}-\d{2}-\d{2}$/.test(initialDate)) picker.initial_date = initialDate;
  return picker;
}

const words = (list: readonly string[]): { label: string; value: string }[] => list.map((w) => ({ label: w, value: w }));

// The fields of each form, named `<form>_<field>` (see callback.ts); null when the form cannot be offered.
function formFields(view: CaseCardView, action: FormAction): CardElement[] | null {
  switch (action) {
    case 'progress':
      return [textInput(fieldName('progress', 'note'), '本次办理进展', { multiline: true, maxLength: 1000 })];
    case 'contact':
      return [
        select(fieldName('contact', 'method'), '面商方式', words(CONTACT_METHODS)),
        datePicker(fieldName('contact', 'date'), '面商日期', view.today),
        textInput(fieldName('contact', 'who'), '面商对象，如：某某代表本人', { maxLength: 50 }),
        textInput(fieldName('contact', 'note'), '面商情况（选填）', { multiline: true, required: false, maxLength: 1000 }),
      ];
    case 'reply': {
      if (view.resultClasses.length === 0) return null;
      const classes = dedupeBy(view.resultClasses, (c) => c.code).map((c) => ({ label: `${c.code} ${c.label}`, value: c.code }));
      return [
        select(fieldName('reply', 'result_class'), '答复结果类别', classes),
        datePicker(fieldName('reply', 'date'), '答复日期', view.today),
        select(fieldName('reply', 'disclosure'), '公开情况', words(DISCLOSURES)),
      ];
    }
    case 'opinion':
      return [
        datePicker(fieldName('opinion', 'date'), '报送日期', view.today),
        textInput(fieldName('opinion', 'note'), '会办意见要点（选填）', { multiline: true, required: false, maxLength: 1000 }),
      ];
    case 'extend':
      return [
        md(`当前${view.role === 'assisting' ? '意见报送' : '答复'}期限 ${view.replyDueDate}，延期需协调员批准。`, { text_size: 'notation' }),
        datePicker(fieldName('extend', 'until'), '申请延至'),
        textInput(fieldName('extend', 'reason'), '延期理由', { multiline: true, maxLength: 1000 }),
      ];
    case 'adjust':
      return [
        md('不属于本单位职责的，可申请调整，由协调员决定。', { text_size: 'notation' }),
        textInput(fieldName('adjust', 'reason'), '调整理由', { multiline: true, maxLength: 1000 }),
      ];
    case 'follow_up':
      return [
        md('B类答复承诺的事项：核实落实情况后登记。选“已落实”后不再提醒回头看；选“调整”表示承诺有变化并已向代表委员说明。', { text_size: 'notation' }),
        select(fieldName('follow_up', 'outcome'), '跟进结果', [
          { label: '仍在落实中', value: 'checked' },
          { label: '已落实', value: 'kept' },
          { label: '调整（已向代表委员说明）', value: 'changed' },
        ]),
        textInput(fieldName('follow_up', 'note'), '落实情况', { multiline: true, maxLength: 1000 }),
      ];
    case 'handover':
      return [
        md('转交给本群的其他同事继续办理。', { text_size: 'notation' }),
        { tag: 'select_person', name: fieldName('handover', 'to'), placeholder: plain('转交给'), required: true, width: 'fill' },
      ];
  }
}

function dedupeBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = key(item);
    if (seen.has(k) || k === '') return false;
    seen.add(k);
    return true;
  });
}
