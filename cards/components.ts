// The Card JSON 2.0 shapes the builders produce, and small constructors for them. Only properties documented for
// JSON 2.0 appear here (open.feishu.cn/document/feishu-cards/card-json-v2-structure and the component pages);
// schema.ts checks the same subset at run time.

import type { CallbackValue } from './callback.ts';

export interface PlainText {
  tag: 'plain_text';
  content: string;
}

export type HeaderTemplate =
  | 'blue'
  | 'wathet'
  | 'turquoise'
  | 'green'
  | 'yellow'
  | 'orange'
  | 'red'
  | 'carmine'
  | 'violet'
  | 'purple'
  | 'indigo'
  | 'grey'
  | 'default';

export type TextTagColor =
  | 'neutral'
  | 'blue'
  | 'turquoise'
  | 'lime'
  | 'orange'
  | 'violet'
  | 'indigo'
  | 'wathet'
  | 'green'
  | 'yellow'
  | 'red'
  | 'purple'
  | 'carmine';

export interface TextTag {
  tag: 'text_tag';
  text: PlainText;
  color?: TextTagColor;
}

export interface CardHeader {
  title: PlainText;
  subtitle?: PlainText;
  template?: HeaderTemplate;
  text_tag_list?: TextTag[];
}

export type TextSize = 'heading' | 'normal' | 'notation';

export interface Markdown {
  tag: 'markdown';
  content: string;
  text_size?: TextSize;
  text_align?: 'left' | 'center' | 'right';
  margin?: string;
}

export interface Div {
  tag: 'div';
  text: PlainText & { text_size?: TextSize; text_color?: string; text_align?: 'left' | 'center' | 'right' };
  margin?: string;
}

export interface Hr {
  tag: 'hr';
  margin?: string;
}

export interface Column {
  tag: 'column';
  elements: CardElement[];
  width?: 'auto' | 'weighted';
  weight?: number;
  vertical_align?: 'top' | 'center' | 'bottom';
}

export interface ColumnSet {
  tag: 'column_set';
  columns: Column[];
  flex_mode?: 'none' | 'stretch' | 'flow' | 'bisect' | 'trisect';
  horizontal_spacing?: string;
  margin?: string;
}

export interface Confirm {
  title: PlainText;
  text: PlainText;
}

export type ButtonType =
  | 'default'
  | 'primary'
  | 'danger'
  | 'text'
  | 'primary_text'
  | 'danger_text'
  | 'primary_filled'
  | 'danger_filled';

export interface CallbackBehavior {
  type: 'callback';
  value: CallbackValue;
}

export interface Button {
  tag: 'button';
  text: PlainText;
  type?: ButtonType;
  size?: 'tiny' | 'small' | 'medium' | 'large';
  width?: 'default' | 'fill';
  disabled?: boolean;
  confirm?: Confirm;
  behaviors: [CallbackBehavior];
  /** Only inside a form. */
  name?: string;
  /** Only inside a form. */
  form_action_type?: 'submit' | 'reset';
}

export interface Input {
  tag: 'input';
  name: string;
  placeholder?: PlainText;
  default_value?: string;
  max_length?: number;
  required?: boolean;
  input_type?: 'text' | 'multiline_text';
  rows?: number;
  width?: 'default' | 'fill';
}

export interface DatePicker {
  tag: 'date_picker';
  name: string;
  placeholder?: PlainText;
  initial_date?: string;
  required?: boolean;
  width?: 'default' | 'fill';
}

export interface SelectOption {
  text: PlainText;
  value: string;
}

export interface SelectStatic {
  tag: 'select_static';
  name: string;
  placeholder?: PlainText;
  options: SelectOption[];
  initial_option?: string;
  required?: boolean;
  width?: 'default' | 'fill';
}

export interface SelectPerson {
  tag: 'select_person';
  name: string;
  placeholder?: PlainText;
  required?: boolean;
  width?: 'default' | 'fill';
}

export interface CollapsiblePanel {
  tag: 'collapsible_panel';
  header: { title: PlainText };
  elements: CardElement[];
  expanded?: boolean;
  border?: { color?: string; corner_radius?: string };
  vertical_spacing?: string;
  padding?: string;
  margin?: string;
}

export interface Form {
  tag: 'form';
  name: string;
  elements: CardElement[];
  margin?: string;
}

/** A chart: a VChart spec (plain JSON, no functions). */
export interface Chart {
  tag: 'chart';
  aspect_ratio?: '1:1' | '2:1' | '4:3' | '16:9';
  color_theme?: 'brand' | 'rainbow' | 'complementary' | 'converse' | 'primary';
  chart_spec: Record<string, unknown> & { type: string };
  height?: string;
  margin?: string;
}

export interface TableColumn {
  name: string;
  display_name: string;
  data_type: 'text' | 'lark_md' | 'number';
  width?: string;
  horizontal_align?: 'left' | 'center' | 'right';
}

/** A paged table (Card JSON 2.0 `table`). */
export interface Table {
  tag: 'table';
  page_size?: number;
  row_height?: 'low' | 'middle' | 'high';
  header_style?: { bold?: boolean; background_style?: 'none' | 'grey'; text_align?: 'left' | 'center' | 'right' };
  columns: TableColumn[];
  rows: Record<string, string | number>[];
  margin?: string;
}

export type CardElement =
  | Chart
  | Table
  | Markdown
  | Div
  | Hr
  | ColumnSet
  | CollapsiblePanel
  | Button
  | Input
  | DatePicker
  | SelectStatic
  | SelectPerson
  | Form;

export interface Card {
  schema: '2.0';
  config: { update_multi: true; width_mode?: 'default' | 'compact' | 'fill'; summary?: { content: string } };
  header: CardHeader;
  body: { elements: CardElement[] };
}

/** A plain_text object. */
export function plain(content: string): PlainText {
  return { tag: 'plain_text', content };
}

// Characters that markdown (or Lark's HTML-ish tags such as <at>) would interpret; the docs ask for &#NN; entities.
const MARKDOWN_SPECIAL = /[\\`*_~<>[\]()#$|&!]/g;

/** User text made safe to embed in a markdown element: shown literally, never as formatting, links or @mentions. */
export function escapeMd(text: string): string {
  return text.replace(MARKDOWN_SPECIAL, (ch) => `&#${ch.codePointAt(0)};`);
}

/** Text on one line, at most `max` characters (code points), ending in "…" when it was cut. */
export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(flat);
  if (chars.length <= max) return flat;
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** A markdown element. */
export function md(content: string, options: Omit<Markdown, 'tag' | 'content'> = {}): Markdown {
  return { tag: 'markdown', content, ...options };
}

/** A divider. */
export function hr(): Hr {
  return { tag: 'hr' };
}

/**
 * Starts a line of a list. A plain character rather than markdown's "- ": a markdown list item would swallow the
 * line after it (lazy continuation), and our lists sit between ordinary lines.
 */
export const BULLET = '• ';

/** Markdown text in one of the colours markdown's <font> tag accepts. */
export function coloured(text: string, colour: 'red' | 'orange' | 'green' | 'grey' | 'blue'): string {
  return `<font color='${colour}'>${text}</font>`;
}

export interface ButtonOptions {
  type?: ButtonType;
  size?: Button['size'];
  confirm?: { title: string; text: string };
}

/** A button whose click calls back with `value`. */
export function callbackButton(label: string, value: CallbackValue, options: ButtonOptions = {}): Button {
  const button: Button = {
    tag: 'button',
    text: plain(label),
    type: options.type ?? 'default',
    behaviors: [{ type: 'callback', value }],
  };
  if (options.size) button.size = options.size;
  if (options.confirm) button.confirm = { title: plain(options.confirm.title), text: plain(options.confirm.text) };
  return button;
}

/** A form's submit button: the click sends `value` together with the form's fields. */
export function submitButton(name: string, label: string, value: CallbackValue, options: ButtonOptions = {}): Button {
  return {
    ...callbackButton(label, value, { type: 'primary_filled', ...options }),
    name,
    form_action_type: 'submit',
  };
}

/** Elements side by side, wrapping on narrow screens. */
export function row(elements: CardElement[]): ColumnSet {
  return {
    tag: 'column_set',
    flex_mode: 'flow',
    horizontal_spacing: '8px',
    columns: elements.map((element) => ({ tag: 'column', width: 'auto', vertical_align: 'center', elements: [element] })),
  };
}

/** A collapsible panel, collapsed unless asked otherwise. */
export function panel(title: string, elements: CardElement[], expanded = false): CollapsiblePanel {
  return {
    tag: 'collapsible_panel',
    expanded,
    header: { title: plain(title) },
    border: { color: 'grey', corner_radius: '5px' },
    vertical_spacing: '8px',
    padding: '8px',
    elements,
  };
}

/** A card shared by everyone who sees it, so an update after a click shows for the whole chat. */
export function card(header: CardHeader, elements: CardElement[], summary?: string): Card {
  const result: Card = { schema: '2.0', config: { update_multi: true }, header, body: { elements } };
  if (summary !== undefined) result.config.summary = { content: clip(summary, 60) };
  return result;
}
