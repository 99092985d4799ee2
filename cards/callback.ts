// The contract between the cards and the service that receives card.action.trigger callbacks: what a button's
// callback value holds, and what the form fields are called.
//
// Lark requires every named component in a form to be unique across the whole card, not just within its form
// (form-container docs: "该字段必填且需在卡片全局内唯一，否则数据会发送失败"). A case card carries several forms
// that each have a `note` (progress, contact, opinion), a `date` (contact, reply) or a `reason` (extend, adjust),
// so on the card every field is named `<form>_<field>`; `readFormFields` gives the service the bare field names back.

import { z } from 'zod';
import { RATINGS, type Rating } from '../src/domain/types.ts';
import { CASE_ACTIONS, type CaseAction } from './view-models.ts';

/** The case-card and decision-card actions (see CALLBACK_VALUES for every button value). */
export type ActionName =
  | CaseAction
  | 'show'
  | 'approve_extension'
  | 'refuse_extension'
  | 'approve_adjustment'
  | 'refuse_adjustment';

export const ACTION_NAMES: readonly ActionName[] = [
  ...CASE_ACTIONS,
  'show',
  'approve_extension',
  'refuse_extension',
  'approve_adjustment',
  'refuse_adjustment',
];

const DECISION_ACTIONS: readonly string[] = [
  'approve_extension',
  'refuse_extension',
  'approve_adjustment',
  'refuse_adjustment',
];

const positiveId = z.number().int().positive();
const caseValue = <A extends string>(action: A) => z.strictObject({ action: z.literal(action), caseId: positiveId });

/**
 * What `behaviors[0].value` of every button holds, by its `action`; it comes back as `event.action.value`. A value
 * names what it acts on: a case for the case-card buttons, a request for the decision buttons; a button of another
 * card (an import preview, a digest) carries whatever its action needs and need not name a case.
 *
 * To add a button: add its value schema here (and a handler in src/chat/card-actions/registry.ts).
 */
export const CALLBACK_VALUES = {
  ...(Object.fromEntries(CASE_ACTIONS.filter((a) => a !== 'rate').map((a) => [a, caseValue(a)])) as {
    [A in Exclude<CaseAction, 'rate'>]: ReturnType<typeof caseValue<A>>;
  }),
  rate: z.strictObject({ action: z.literal('rate'), caseId: positiveId, rating: z.enum(RATINGS as [Rating, ...Rating[]]) }),
  show: caseValue('show'),
  approve_extension: z.strictObject({ action: z.literal('approve_extension'), caseId: positiveId, requestId: positiveId }),
  refuse_extension: z.strictObject({ action: z.literal('refuse_extension'), caseId: positiveId, requestId: positiveId }),
  approve_adjustment: z.strictObject({ action: z.literal('approve_adjustment'), caseId: positiveId, requestId: positiveId }),
  refuse_adjustment: z.strictObject({ action: z.literal('refuse_adjustment'), caseId: positiveId, requestId: positiveId }),
  // The import preview's buttons name the stored import, not a case.
  confirm_import: z.strictObject({ action: z.literal('confirm_import'), importId: positiveId }),
  cancel_import: z.strictObject({ action: z.literal('cancel_import'), importId: positiveId }),
  // Buttons on a reminder card (a digest or a 督办 card): the click acts on the case and redraws that card, never
  // replaces it with the case's card.
  reminder_claim: z.strictObject({ action: z.literal('reminder_claim'), caseId: positiveId, cardId: positiveId }),
  reminder_show: z.strictObject({ action: z.literal('reminder_show'), caseId: positiveId, cardId: positiveId }),
} satisfies Record<string, z.ZodType<{ action: string }>>;

export type CallbackAction = keyof typeof CALLBACK_VALUES;

/** Any button value of ours, loosely typed for building and reading cards; handlers get CallbackValueOf<A>. */
export interface CallbackValue {
  action: CallbackAction;
  caseId?: number;
  rating?: Rating;
  requestId?: number;
  [field: string]: unknown;
}
/** The value of one action's buttons. */
export type CallbackValueOf<A extends keyof typeof CALLBACK_VALUES> = z.infer<(typeof CALLBACK_VALUES)[A]>;

/** Checks a button value against the schema of its action, naming the field at fault. */
export const callbackValueSchema = z.unknown().superRefine((value, ctx) => {
  const action = typeof value === 'object' && value !== null && 'action' in value ? value.action : undefined;
  if (typeof action !== 'string' || !Object.hasOwn(CALLBACK_VALUES, action)) {
    ctx.addIssue({ code: 'custom', message: `unknown button action; known: ${Object.keys(CALLBACK_VALUES).join(', ')}`, path: ['action'] });
    return;
  }
  const parsed = (CALLBACK_VALUES as Record<string, z.ZodType>)[action]?.safeParse(value);
  for (const issue of parsed?.error?.issues ?? []) {
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)) });
  }
});

/** The callback value of a clicked button, or null when it is not one of ours. */
export function parseCallbackValue(value: unknown): CallbackValue | null {
  if (typeof value !== 'object' || value === null || !('action' in value) || typeof value.action !== 'string') return null;
  if (!Object.hasOwn(CALLBACK_VALUES, value.action)) return null;
  const schema = (CALLBACK_VALUES as Record<string, z.ZodType<{ action: string }>>)[value.action];
  const parsed = schema?.safeParse(value);
  return parsed?.success ? (parsed.data as CallbackValue) : null;
}

/** The forms the cards carry, and the bare names of their fields (what the service reads). */
export const FORM_FIELDS = {
  progress: ['note'],
  contact: ['method', 'date', 'who', 'note'],
  reply: ['result_class', 'date', 'disclosure'],
  opinion: ['date', 'note'],
  extend: ['until', 'reason'],
  adjust: ['reason'],
  follow_up: ['outcome', 'note'],
  handover: ['to'],
  decision: ['note'],
} as const;

export type FormName = keyof typeof FORM_FIELDS;
export type FormField<F extends FormName> = (typeof FORM_FIELDS)[F][number];

// Fields filled by a date_picker; Lark sends them as "2024-04-01 +0800".
const DATE_FIELDS: ReadonlySet<string> = new Set(['contact_date', 'reply_date', 'opinion_date', 'extend_until']);

/** The card-wide unique component name of a form field, e.g. ('contact', 'note') → 'contact_note'. */
export function fieldName<F extends FormName>(form: F, field: FormField<F>): string {
  return `${form}_${field}`;
}

/** The card-wide unique name of a form container. */
export function formContainerName(form: FormName): string {
  return `form_${form}`;
}

/** The form whose submit button sends this action, or null for plain buttons. */
export function formOfAction(action: string): FormName | null {
  if (DECISION_ACTIONS.includes(action)) return 'decision';
  return action in FORM_FIELDS ? (action as FormName) : null;
}

/**
 * The submitted fields of the form behind `action`, keyed by their bare names (note, date, result_class, …):
 * strings trimmed, dates cut to YYYY-MM-DD, empty and missing fields left out. `formValue` is the callback's
 * `event.action.form_value`.
 */
export function readFormFields(action: string, formValue: unknown): Record<string, string> {
  const form = formOfAction(action);
  if (form === null || typeof formValue !== 'object' || formValue === null) return {};
  const raw = formValue as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const field of FORM_FIELDS[form] as readonly string[]) {
    const name = `${form}_${field}`;
    // The bare name is accepted too, for callers (and tests) written against the field names alone.
    const value = raw[name] ?? raw[field];
    if (typeof value !== 'string') continue;
    let text = value.trim();
    if (DATE_FIELDS.has(name)) text = /^\d{4}-\d{2}-\d{2}/.exec(text)?.[0] ?? text;
    if (text !== '') out[field] = text;
  }
  return out;
}
