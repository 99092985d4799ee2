// Reading the cards and messages the bot sent, the way a person in the chat would: which buttons are
// there, what they carry back when clicked, and what text is on screen.

type Json = Record<string, unknown>;

/** A button found in a card, with what Lark would send back when it is clicked. */
export interface CardButton {
  /** The label on the button (`text.content`). */
  text: string;
  /** The callback value (`behaviors: [{ type: 'callback', value }]`, or the JSON 1.0 `value`). */
  value: unknown;
  /** The component's `name` (Lark sends it back as `action.name`). */
  name?: string;
  /** Submits its enclosing form (`form_action_type: 'submit'`, JSON 1.0 `action_type: 'form_submit'`). */
  isSubmit: boolean;
  /** Resets its enclosing form. */
  isReset: boolean;
  /** The `name` of the form the button sits in, if any. */
  formName?: string;
  disabled: boolean;
  /** The raw component, for assertions on anything else. */
  element: Json;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The top-level components of a card: `body.elements` (JSON 2.0) or `elements` (JSON 1.0). */
export function cardElements(card: unknown): unknown[] {
  if (!isObject(card)) return [];
  if (isObject(card.body)) return asArray(card.body.elements);
  return asArray(card.elements);
}

function buttonOf(element: Json, formName: string | undefined): CardButton {
  const text = isObject(element.text) && typeof element.text.content === 'string' ? element.text.content : '';
  const callback = asArray(element.behaviors).find((b) => isObject(b) && b.type === 'callback');
  const value = isObject(callback) ? callback.value : element.value;
  const button: CardButton = {
    text,
    value,
    isSubmit: element.form_action_type === 'submit' || element.action_type === 'form_submit',
    isReset: element.form_action_type === 'reset' || element.action_type === 'form_reset',
    disabled: element.disabled === true,
    element,
  };
  if (typeof element.name === 'string') button.name = element.name;
  if (formName !== undefined) button.formName = formName;
  return button;
}

/**
 * Every button in a card, in reading order, including those nested in forms, column sets, collapsible
 * panels and interactive containers.
 */
export function findButtons(card: unknown): CardButton[] {
  const found: CardButton[] = [];
  const visit = (elements: unknown[], formName: string | undefined): void => {
    for (const element of elements) {
      if (!isObject(element)) continue;
      if (element.tag === 'button') {
        found.push(buttonOf(element, formName));
        continue;
      }
      const innerForm = element.tag === 'form' && typeof element.name === 'string' ? element.name : formName;
      // Containers keep children under different keys: column_set.columns, column/form/panel/container
      // .elements, and the JSON 1.0 `action` block's .actions.
      visit(asArray(element.columns), innerForm);
      visit(asArray(element.elements), innerForm);
      visit(asArray(element.actions), innerForm);
    }
  };
  visit(cardElements(card), undefined);
  return found;
}

/** The one button whose label equals (or matches) `label`; throws, listing the labels there are, if not exactly one. */
export function findButton(card: unknown, label: string | RegExp): CardButton {
  const buttons = findButtons(card);
  const matching = buttons.filter((b) => (typeof label === 'string' ? b.text === label : label.test(b.text)));
  if (matching.length !== 1) {
    const labels = buttons.map((b) => b.text).join(', ') || '(none)';
    throw new Error(`expected exactly one button ${String(label)}, found ${matching.length}; buttons: ${labels}`);
  }
  return matching[0] as CardButton;
}

const TEXT_TAGS = new Set(['plain_text', 'lark_md', 'markdown']);

/** The visible text of a card: every markdown / plain_text / lark_md `content`, in document order. */
export function cardTexts(card: unknown): string[] {
  const texts: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item);
      return;
    }
    if (!isObject(value)) return;
    if (typeof value.tag === 'string' && TEXT_TAGS.has(value.tag) && typeof value.content === 'string') {
      texts.push(value.content);
    }
    for (const [key, child] of Object.entries(value)) {
      // Callback values are data the user never sees.
      if (key === 'value' || key === 'behaviors') continue;
      walk(child);
    }
  };
  // Header first, then body, whatever order the keys were written in.
  if (isObject(card)) {
    walk(card.header);
    for (const [key, child] of Object.entries(card)) if (key !== 'header') walk(child);
  }
  return texts;
}

/** The visible text of a message's parsed content, whatever its type (text, post, interactive). */
export function messageText(msgType: string, content: unknown): string {
  if (!isObject(content)) return '';
  if (msgType === 'text') return typeof content.text === 'string' ? content.text : '';
  if (msgType === 'interactive') return cardTexts(content).join('\n');
  if (msgType === 'post') {
    const parts: string[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) return value.forEach(walk);
      if (!isObject(value)) return;
      if (typeof value.title === 'string' && value.title) parts.push(value.title);
      if (typeof value.text === 'string') parts.push(value.text);
      for (const child of Object.values(value)) if (typeof child === 'object') walk(child);
    };
    walk(content);
    return parts.join('\n');
  }
  return '';
}
