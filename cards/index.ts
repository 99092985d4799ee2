// The cards Banli sends: pure builders from a view model to Card JSON 2.0, and the callback contract they share
// with the service.

export { buildCaseCard, caseTemplate, dueWording } from './case-card.ts';
export { buildCaseListCard, MAX_LIST_ROWS } from './case-list.ts';
export { buildHelpCard } from './help.ts';
export { buildRequestDecisionCard } from './request-decision.ts';
export { buildNoticeCard, MAX_NOTICE_CHARS } from './notice.ts';
export { buildStatsCard, MAX_TABLE_ROWS, type StatsView } from './stats-card.ts';
export { buildImportPreviewCard, importProblemLines, type ImportPreviewView, type ImportProblemView } from './import-preview.ts';
export {
  ACTION_NAMES,
  FORM_FIELDS,
  fieldName,
  formContainerName,
  formOfAction,
  parseCallbackValue,
  readFormFields,
  type ActionName,
  type CallbackValue,
  type FormField,
  type FormName,
} from './callback.ts';
export {
  CARD_MAX_BYTES,
  CARD_MAX_ELEMENTS,
  CARD_TARGET_BYTES,
  cardByteSize,
  cardElementCount,
  validateCard,
} from './schema.ts';
export type { Card, CardElement, HeaderTemplate } from './components.ts';
export { CASE_ACTIONS } from './view-models.ts';
export type * from './view-models.ts';
