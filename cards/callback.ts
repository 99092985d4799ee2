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

/** Every value a button's callback can carry in `action`. */
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

const DECISION_ACTIONS: readonly ActionName[] = [
  'approve_extension',
  'refuse_extension',
  'approve_adjustment',
  'refuse_adjustment',
];

/** What `behaviors[0].value` of every button holds; it comes back as `event.action.value`. */
export interface CallbackValue {
  action: ActionName;
  caseId: number;
  /** Only for action 'rate'. */
  rating?: Rating;
  /** Only for the approve_/refuse_ decisions. */
  requestId?: number;
}

const positiveId = z.number().int().positive();

export const callbackValueSchema = z
  .strictObject({
    action: z.enum(ACTION_NAMES as [ActionName, ...ActionName[]]),
    caseId: positiveId,
    rating: z.enum(RATINGS as [Rating, ...Rating[]]).optional(),
    requestId: positiveId.optional(),
  })
  .superRefine((value, ctx) => {
    if ((value.action === 'rate') !== (value.rating !== undefined)) {
      ctx.addIssue({ code: 'custom', message: 'rating is required for action "rate" and only for it', path: ['rating'] });
    }
    if (DECISION_ACTIONS.includes(value.action) !== (value.requestId !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'requestId is required for approve_/refuse_ actions and only for them',
        path: ['requestId'],
      });
    }
  });

/** The callback value of a clicked button, or null when it is not one of ours. */
export function parseCallbackValue(value: unknown): CallbackValue | null {
  const parsed = callbackValueSchema.safeParse(value);
  return parsed.success ? (parsed.data as CallbackValue) : null;
}

/** The forms the cards carry, and the bare names of their fields (what the service reads). */
export const FORM_FIELDS = {
  progress: ['note'],
  contact: ['method', 'date', 'who', 'note'],
  reply: ['result_class', 'date', 'disclosure'],
  opinion: ['date', 'note'],
  extend: ['until', 'reason'],
  adjust: ['reason'],
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
export function formOfAction(action: ActionName): FormName | null {
  if (DECISION_ACTIONS.includes(action)) return 'decision';
  return action in FORM_FIELDS ? (action as FormName) : null;
}

/**
 * The submitted fields of the form behind `action`, keyed by their bare names (note, date, result_class, …):
 * strings trimmed, dates cut to YYYY-MM-DD, empty and missing fields left out. `formValue` is the callback's
 * `event.action.form_value`.
 */
export function readFormFields(action: ActionName, formValue: unknown): Record<string, string> {
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
