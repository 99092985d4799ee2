// What a card button does when clicked. Each kind of button is one module listed in ./registry.ts.

import type { CallbackAction, CallbackValueOf } from '../../../cards/callback.ts';
import type { CaseServiceContext } from '../../cases/case.service.ts';
import type { Actor, IsoDate } from '../../domain/types.ts';
import type { IncomingCardAction } from '../../lark/normalize.ts';
import type { LiveCard } from '../../lark/outbox.ts';
import type { Trx } from '../../storage/database.ts';
import type { ChatContext } from '../command.ts';

/** What a card click answers: a toast, and the card as it should now look. */
export interface CardResponse {
  toast?: { type: 'success' | 'error' | 'info' | 'warning'; content: string };
  card?: { type: 'raw'; data: object };
}

/** One click being handled, inside the transaction its effects and answer commit in. */
export interface ClickContext {
  trx: Trx;
  chat: ChatContext;
  today: IsoDate;
  click: IncomingCardAction;
  actor: Actor;
  /** The section the card's chat is bound to (null in a private chat or an unbound one). */
  chatUnit: string | null;
  service: CaseServiceContext;
  /** The submitted form's fields by bare name (see readFormFields), empty for a plain button. */
  form: Record<string, string>;
  /** Names looked up by `prepare`, by open_id. */
  names: ReadonlyMap<string, string>;
}

export interface CardActionModule<A extends CallbackAction> {
  /** The `action` values of the buttons this module answers. */
  actions: readonly A[];
  /**
   * People whose names the click needs (e.g. the colleague picked in a handover form), looked up before the
   * transaction and within the click's time budget, so no contact-API call holds a row lock.
   */
  people?(value: CallbackValueOf<A>, click: IncomingCardAction, form: Record<string, string>): string[];
  handle(value: CallbackValueOf<A>, ctx: ClickContext): Promise<CardResponse>;
  /**
   * The live card to patch the clicked card with when the answer came too late for Lark to redraw it (Lark showed
   * "正在处理" instead). Without it, a late answer leaves the clicked card as it was.
   */
  lateCard?(value: CallbackValueOf<A>): LiveCard | null;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCardAction = CardActionModule<any>;

/** Declares a card-action module (only gives it its type). */
export function defineCardAction<A extends CallbackAction>(module: CardActionModule<A>): CardActionModule<A> {
  return module;
}

export const toastError = (content: string): CardResponse => ({ toast: { type: 'error', content } });
