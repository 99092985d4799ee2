// The subset of Card JSON 2.0 that Banli's builders produce, as strict zod schemas. Lark rejects unknown properties
// in JSON 2.0 ("传入不支持的属性将报错"), so every object here is strict: a property we did not look up in the
// JSON 2.0 component docs is an error here too, before Lark sees it.
//
// Rules from the docs that the schemas encode:
// - a form container sits only at the root of body.elements and never inside another form, panel or column;
// - inside a form every interactive component has a `name`, and buttons have `form_action_type`; those names are
//   unique across the whole card, and every form has a submit button;
// - outside forms, our cards only use buttons (with a callback value) as interactive components;
// - a card holds at most 200 elements (text objects included) and 30 KB of JSON;
// - header text tags: at most 3; button and placeholder texts: at most 100 characters; input max_length 1–1000.

import { z } from 'zod';
import { callbackValueSchema } from './callback.ts';

/** Lark's size limit for a card's JSON. */
export const CARD_MAX_BYTES = 30 * 1024;
/** Lark's limit on elements and components in one JSON 2.0 card ("一张卡片最多支持 200 个元素"). */
export const CARD_MAX_ELEMENTS = 200;
/** Containers may nest at most five deep ("容器类组件最多支持嵌套五层组件"). */
export const CARD_MAX_CONTAINER_DEPTH = 5;
/**
 * What builders aim for. The card JSON travels as a string inside the message body, where every quote gains a
 * backslash, so the builders keep well below the limit rather than at it.
 */
export const CARD_TARGET_BYTES = 24 * 1024;

const elementId = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,19}$/, 'element_id: a letter, then letters/digits/_, ≤20');
const px = String.raw`-?\d{1,2}(px)?`;
const box = z.string().regex(new RegExp(`^${px}( ${px}){0,3}$`), 'expected 1–4 values like "8px" or "4px 0"');
// The panel header rejects the two-value form ("invalid panel header padding").
const headerBox = z.string().regex(new RegExp(`^${px}( ${px} ${px} ${px})?$`), 'expected 1 or 4 values');
const spacing = z.string().regex(/^(small|medium|large|extra_large|\d{1,2}px)$/, 'expected small|medium|large|extra_large|Npx');
const hAlign = z.enum(['left', 'center', 'right']);
const vAlign = z.enum(['top', 'center', 'bottom']);
const direction = z.enum(['vertical', 'horizontal']);
const componentWidth = z.union([z.enum(['default', 'fill']), z.string().regex(/^\d{3,4}px$/)]);
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');
const colour = z.string().min(1);

const plainText = z.strictObject({ tag: z.literal('plain_text'), content: z.string() });
const shortPlainText = z.strictObject({ tag: z.literal('plain_text'), content: z.string().max(100) });
const confirm = z.strictObject({ title: plainText, text: plainText });
const callbackBehavior = z.strictObject({ type: z.literal('callback'), value: callbackValueSchema });
const common = { element_id: elementId.optional(), margin: box.optional() };

const textSize = z.enum([
  'heading-0',
  'heading-1',
  'heading-2',
  'heading-3',
  'heading-4',
  'heading',
  'normal',
  'notation',
  'xxxx-large',
  'xxx-large',
  'xx-large',
  'x-large',
  'large',
  'medium',
  'small',
  'x-small',
]);

const markdown = z.strictObject({
  tag: z.literal('markdown'),
  content: z.string(),
  text_size: textSize.optional(),
  text_align: hAlign.optional(),
  ...common,
});

const div = z.strictObject({
  tag: z.literal('div'),
  width: z.union([z.enum(['fill', 'auto']), z.string().regex(/^\d{2,3}px$/)]).optional(),
  text: z.strictObject({
    tag: z.enum(['plain_text', 'lark_md']),
    content: z.string(),
    text_size: textSize.optional(),
    text_color: colour.optional(),
    text_align: hAlign.optional(),
    lines: z.number().int().min(1).optional(),
  }),
  ...common,
});

const hr = z.strictObject({ tag: z.literal('hr'), ...common });

const buttonFields = {
  tag: z.literal('button'),
  text: shortPlainText,
  type: z
    .enum(['default', 'primary', 'danger', 'text', 'primary_text', 'danger_text', 'primary_filled', 'danger_filled', 'laser'])
    .optional(),
  size: z.enum(['tiny', 'small', 'medium', 'large']).optional(),
  width: componentWidth.optional(),
  disabled: z.boolean().optional(),
  confirm: confirm.optional(),
  // Every button of ours calls back with { action, caseId, ... }; a button without one would do nothing.
  behaviors: z.array(callbackBehavior).length(1),
  ...common,
};
const freeButton = z.strictObject(buttonFields);
const formButton = z.strictObject({
  ...buttonFields,
  name: z.string().min(1),
  form_action_type: z.enum(['submit', 'reset']),
});

const formFieldFields = {
  name: z.string().min(1),
  required: z.boolean().optional(),
  disabled: z.boolean().optional(),
  placeholder: shortPlainText.optional(),
  width: componentWidth.optional(),
  ...common,
};

const input = z.strictObject({
  tag: z.literal('input'),
  ...formFieldFields,
  default_value: z.string().optional(),
  max_length: z.number().int().min(1).max(1000).optional(),
  input_type: z.enum(['text', 'multiline_text', 'password']).optional(),
  rows: z.number().int().min(1).optional(),
  auto_resize: z.boolean().optional(),
  max_rows: z.number().int().min(1).optional(),
  label: plainText.optional(),
  label_position: z.enum(['top', 'left']).optional(),
});

const datePicker = z.strictObject({
  tag: z.literal('date_picker'),
  ...formFieldFields,
  initial_date: isoDate.optional(),
});

const selectStatic = z
  .strictObject({
    tag: z.literal('select_static'),
    ...formFieldFields,
    type: z.enum(['default', 'text']).optional(),
    options: z.array(z.strictObject({ text: plainText, value: z.string().min(1) })).min(1),
    initial_option: z.string().optional(),
    initial_index: z.number().int().min(0).optional(),
  })
  .superRefine((select, ctx) => {
    const values = select.options.map((option) => option.value);
    // Duplicate values break the dropdown on the client ("否则将导致用户侧交互异常").
    if (new Set(values).size !== values.length) {
      ctx.addIssue({ code: 'custom', message: 'option values must be unique', path: ['options'] });
    }
    if (select.initial_option !== undefined && !values.includes(select.initial_option)) {
      ctx.addIssue({ code: 'custom', message: 'initial_option is not one of the options', path: ['initial_option'] });
    }
  });

const selectPerson = z.strictObject({
  tag: z.literal('select_person'),
  ...formFieldFields,
  type: z.enum(['default', 'text']).optional(),
  options: z.array(z.strictObject({ value: z.string().min(1) })).optional(),
  initial_option: z.string().optional(),
});

const containerLayout = {
  direction: direction.optional(),
  vertical_spacing: spacing.optional(),
  horizontal_spacing: spacing.optional(),
  vertical_align: vAlign.optional(),
  horizontal_align: hAlign.optional(),
  padding: box.optional(),
  ...common,
};

// A JSON value as a chart spec may hold it: VChart specs in cards carry no functions.
const jsonValue: z.ZodType = z.lazy(() =>
  z.union([z.string(), z.number().finite(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
);

const chart = z.strictObject({
  tag: z.literal('chart'),
  aspect_ratio: z.enum(['1:1', '2:1', '4:3', '16:9']).optional(),
  color_theme: z.enum(['brand', 'rainbow', 'complementary', 'converse', 'primary']).optional(),
  chart_spec: z.record(z.string(), jsonValue).refine((spec) => typeof spec.type === 'string', 'chart_spec needs a type'),
  preview: z.boolean().optional(),
  height: z.string().regex(/^(auto|\d{1,4}px)$/).optional(),
  ...common,
});

const tableColumnName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,49}$/);
const table = z
  .strictObject({
    tag: z.literal('table'),
    page_size: z.number().int().min(1).max(10).optional(),
    row_height: z.enum(['low', 'middle', 'high']).optional(),
    freeze_first_column: z.boolean().optional(),
    header_style: z
      .strictObject({
        text_align: hAlign.optional(),
        text_size: z.enum(['normal', 'heading']).optional(),
        background_style: z.enum(['none', 'grey']).optional(),
        text_color: z.enum(['default', 'grey']).optional(),
        bold: z.boolean().optional(),
        lines: z.number().int().min(1).optional(),
      })
      .optional(),
    columns: z
      .array(
        z.strictObject({
          name: tableColumnName,
          display_name: z.string().optional(),
          width: z.union([z.literal('auto'), z.string().regex(/^\d{2,3}px$/)]).optional(),
          horizontal_align: hAlign.optional(),
          vertical_align: vAlign.optional(),
          data_type: z.enum(['text', 'lark_md', 'markdown', 'number', 'date']),
        }),
      )
      .min(1)
      .max(50),
    rows: z.array(z.record(tableColumnName, z.union([z.string(), z.number().finite()]))),
    ...common,
  })
  .superRefine((t, ctx) => {
    const names = new Set(t.columns.map((c) => c.name));
    t.rows.forEach((row, i) => {
      for (const key of Object.keys(row)) if (!names.has(key)) ctx.addIssue({ code: 'custom', message: `row ${i}: no column ${key}`, path: ['rows', i] });
    });
  });

function columnSetOf(child: z.ZodType) {
  const column = z.strictObject({
    tag: z.literal('column'),
    elements: z.array(child),
    width: z.union([z.enum(['auto', 'weighted']), z.string().regex(/^\d{2,3}px$/)]).optional(),
    weight: z.number().int().min(1).max(5).optional(),
    background_style: colour.optional(),
    ...containerLayout,
  });
  return z.strictObject({
    tag: z.literal('column_set'),
    columns: z.array(column).min(1),
    flex_mode: z.enum(['none', 'stretch', 'flow', 'bisect', 'trisect']).optional(),
    horizontal_spacing: spacing.optional(),
    horizontal_align: hAlign.optional(),
    background_style: colour.optional(),
    ...common,
  });
}

function collapsiblePanelOf(child: z.ZodType) {
  return z.strictObject({
    tag: z.literal('collapsible_panel'),
    expanded: z.boolean().optional(),
    background_color: colour.optional(),
    header: z.strictObject({
      title: z.strictObject({ tag: z.enum(['plain_text', 'markdown']), content: z.string() }),
      background_color: colour.optional(),
      vertical_align: vAlign.optional(),
      padding: headerBox.optional(),
      width: z.enum(['fill', 'auto', 'auto_when_fold']).optional(),
      icon_position: z.enum(['left', 'right', 'follow_text']).optional(),
      icon_expanded_angle: z.number().optional(),
    }),
    border: z.strictObject({ color: colour.optional(), corner_radius: z.string().optional() }).optional(),
    elements: z.array(child),
    ...containerLayout,
  });
}

// Outside forms: display elements, layout containers and callback buttons.
const freeElement: z.ZodType = z.lazy(() =>
  z.discriminatedUnion('tag', [
    markdown,
    div,
    hr,
    columnSetOf(freeElement),
    collapsiblePanelOf(freeElement),
    freeButton,
    chart,
    table,
  ]),
);

// Anywhere inside a form (also nested in its columns and panels): the form fields join in, and buttons need a name.
const formElement: z.ZodType = z.lazy(() =>
  z.discriminatedUnion('tag', [
    markdown,
    div,
    hr,
    columnSetOf(formElement),
    collapsiblePanelOf(formElement),
    formButton,
    input,
    datePicker,
    selectStatic,
    selectPerson,
  ]),
);

const form = z.strictObject({
  tag: z.literal('form'),
  name: z.string().min(1),
  elements: z.array(formElement).min(1),
  ...containerLayout,
});

const rootElement = z.discriminatedUnion('tag', [
  markdown,
  div,
  hr,
  columnSetOf(freeElement),
  collapsiblePanelOf(freeElement),
  freeButton,
  chart,
  table,
  form,
]);

const textTag = z.strictObject({
  tag: z.literal('text_tag'),
  text: plainText,
  color: z
    .enum(['neutral', 'blue', 'turquoise', 'lime', 'orange', 'violet', 'indigo', 'wathet', 'green', 'yellow', 'red', 'purple', 'carmine'])
    .optional(),
  element_id: elementId.optional(),
});

const headerText = z.strictObject({ tag: z.enum(['plain_text', 'lark_md']), content: z.string() });

const header = z.strictObject({
  title: headerText,
  subtitle: headerText.optional(),
  template: z
    .enum(['blue', 'wathet', 'turquoise', 'green', 'yellow', 'orange', 'red', 'carmine', 'violet', 'purple', 'indigo', 'grey', 'default'])
    .optional(),
  text_tag_list: z.array(textTag).max(3).optional(),
  padding: box.optional(),
});

/** The whole card: `schema: '2.0'`, a shared card (`update_multi: true`), an optional header and the body. */
export const cardSchema = z.strictObject({
  schema: z.literal('2.0'),
  config: z.strictObject({
    update_multi: z.literal(true),
    enable_forward: z.boolean().optional(),
    width_mode: z.enum(['default', 'compact', 'fill']).optional(),
    summary: z.strictObject({ content: z.string() }).optional(),
  }),
  header: header.optional(),
  body: z.strictObject({
    elements: z.array(rootElement),
    direction: direction.optional(),
    padding: box.optional(),
    vertical_spacing: spacing.optional(),
    horizontal_spacing: spacing.optional(),
    vertical_align: vAlign.optional(),
    horizontal_align: hAlign.optional(),
  }),
});

/** UTF-8 bytes of the card's JSON, the measure Lark's 30 KB limit applies to. */
export function cardByteSize(card: unknown): number {
  return Buffer.byteLength(JSON.stringify(card) ?? '', 'utf8');
}

/** How many elements the card holds by Lark's count: every object with a `tag`, text objects included. */
export function cardElementCount(card: unknown): number {
  let count = 0;
  visit(card, (node) => {
    if (typeof node.tag === 'string') count += 1;
  });
  return count;
}

/** Whether the card is within the subset we send and Lark's limits; if not, one line per problem. */
export function validateCard(card: unknown): { ok: true } | { ok: false; issues: string[] } {
  const issues: string[] = [];
  const parsed = cardSchema.safeParse(card);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) issues.push(`${formatPath(issue.path)}: ${issue.message}`);
  } else {
    issues.push(...crossElementIssues(card));
  }
  const bytes = cardByteSize(card);
  if (bytes > CARD_MAX_BYTES) issues.push(`card: ${bytes} bytes, over the ${CARD_MAX_BYTES}-byte limit`);
  const elements = cardElementCount(card);
  if (elements > CARD_MAX_ELEMENTS) issues.push(`card: ${elements} elements, over the ${CARD_MAX_ELEMENTS}-element limit`);
  return issues.length === 0 ? { ok: true } : { ok: false, issues };
}

const CONTAINER_TAGS: ReadonlySet<string> = new Set(['form', 'column_set', 'collapsible_panel']);

// Rules that span elements, so a per-element schema cannot see them.
function crossElementIssues(card: unknown): string[] {
  const issues: string[] = [];
  const names = new Map<string, number>();
  const elementIds = new Map<string, number>();
  let deepest = 0;
  const walk = (node: unknown, depth: number): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item, depth);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    let childDepth = depth;
    if (typeof record.tag === 'string') {
      if (typeof record.name === 'string') names.set(record.name, (names.get(record.name) ?? 0) + 1);
      if (typeof record.element_id === 'string') {
        elementIds.set(record.element_id, (elementIds.get(record.element_id) ?? 0) + 1);
      }
      if (CONTAINER_TAGS.has(record.tag)) {
        childDepth = depth + 1;
        deepest = Math.max(deepest, childDepth);
      }
      if (record.tag === 'form' && !hasSubmitButton(record.elements)) {
        issues.push(`form "${String(record.name)}": no button with form_action_type "submit"`);
      }
    }
    for (const value of Object.values(record)) walk(value, childDepth);
  };
  walk(card, 0);
  for (const [name, count] of names) {
    if (count > 1) issues.push(`name "${name}" is used ${count} times; names must be unique across the card`);
  }
  for (const [id, count] of elementIds) {
    if (count > 1) issues.push(`element_id "${id}" is used ${count} times; it must be unique across the card`);
  }
  if (deepest > CARD_MAX_CONTAINER_DEPTH) {
    issues.push(`containers nest ${deepest} deep, over the limit of ${CARD_MAX_CONTAINER_DEPTH}`);
  }
  return issues;
}

function hasSubmitButton(elements: unknown): boolean {
  let found = false;
  visit(elements, (node) => {
    if (node.tag === 'button' && node.form_action_type === 'submit') found = true;
  });
  return found;
}

function visit(node: unknown, fn: (record: Record<string, unknown>) => void): void {
  if (Array.isArray(node)) {
    for (const item of node) visit(item, fn);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const record = node as Record<string, unknown>;
  fn(record);
  for (const value of Object.values(record)) visit(value, fn);
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? 'card' : path.map((key) => String(key)).join('.');
}
