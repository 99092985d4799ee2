// The card buttons Banli answers, in one list.
//
// How to add a button:
//   1. Give its value a schema in CALLBACK_VALUES (cards/callback.ts): `{ action: z.literal('import_confirm'),
//      importId: … }`. A value carries what its action needs; it need not name a case.
//   2. Write one module here, e.g. ./import-confirm.ts:
//        export const importConfirm = defineCardAction<'import_confirm'>({
//          actions: ['import_confirm'],
//          handle: async (value, ctx) => ({ toast: { type: 'success', content: '…' }, card: … }),
//        });
//      `handle` runs inside the click's transaction (ctx.trx); it is called once per click (redeliveries and double
//      clicks get the first answer again) and must answer within Lark's 3 s.
//   3. Add it to CARD_ACTIONS below.

import type { AnyCardAction } from './action.ts';
import { caseButtons } from './case-buttons.ts';
import { decisionButtons } from './decisions.ts';
import { reminderButtons } from './reminder-buttons.ts';
import { showButton } from './show.ts';
import { importDecision } from './import-decision.ts';

export const CARD_ACTIONS: readonly AnyCardAction[] = [caseButtons, showButton, decisionButtons, importDecision, reminderButtons];

const BY_ACTION = new Map<string, AnyCardAction>(CARD_ACTIONS.flatMap((m) => m.actions.map((a: string) => [a, m] as const)));

/** The module answering buttons with this `action`. */
export function cardActionOf(action: string): AnyCardAction | undefined {
  return BY_ACTION.get(action);
}
