// The card coordinators get for an extension or adjustment request: the request and 同意/不同意 while it is pending,
// the outcome (and no buttons) once it is decided.

import { fieldName, formContainerName, type ActionName } from './callback.ts';
import {
  card,
  clip,
  coloured,
  escapeMd,
  md,
  plain,
  row,
  submitButton,
  type Card,
  type CardElement,
  type HeaderTemplate,
} from './components.ts';
import type { RequestDecisionView } from './view-models.ts';

const KIND_LABEL: Record<RequestDecisionView['kind'], string> = { extension: '延期申请', adjustment: '调整申请' };
const STATUS_LABEL: Record<RequestDecisionView['status'], string> = { pending: '待审批', approved: '已同意', refused: '未同意', withdrawn: '已撤销' };
const STATUS_TEMPLATE: Record<RequestDecisionView['status'], HeaderTemplate> = {
  pending: 'orange',
  approved: 'green',
  refused: 'grey',
  withdrawn: 'grey',
};

/** The decision card for one request; buttons carry caseId and requestId. */
export function buildRequestDecisionCard(view: RequestDecisionView): Card {
  const kindLabel = KIND_LABEL[view.kind];
  const lines = [
    `**案号**：${escapeMd(view.caseNo)}`,
    `**案由**：${escapeMd(clip(view.title, 200))}`,
    `**申请人**：${escapeMd(clip(view.requestedBy, 20))}`,
  ];
  if (view.kind === 'extension' && view.until) lines.push(`**申请延至**：${view.until}`);
  lines.push(`**当前答复期限**：${view.currentDue}`);
  if (view.limit) lines.push(`**最迟可延至**：${view.limit}`);
  lines.push(`**理由**：${escapeMd(clip(view.reason, 1000))}`);

  const elements: CardElement[] = [md(lines.join('\n'))];
  if (view.status === 'pending') elements.push(decisionForm(view));
  else elements.push(md(outcomeLines(view).join('\n')));

  return card(
    {
      title: plain(`${kindLabel} · ${view.caseNo}`),
      subtitle: plain(clip(view.title, 60)),
      template: STATUS_TEMPLATE[view.status],
      text_tag_list: [
        { tag: 'text_tag', text: plain(STATUS_LABEL[view.status]), color: view.status === 'pending' ? 'orange' : 'neutral' },
      ],
    },
    elements,
    `${kindLabel} ${view.caseNo} ${STATUS_LABEL[view.status]}`,
  );
}

function decisionForm(view: RequestDecisionView): CardElement {
  const approve: ActionName = view.kind === 'extension' ? 'approve_extension' : 'approve_adjustment';
  const refuse: ActionName = view.kind === 'extension' ? 'refuse_extension' : 'refuse_adjustment';
  const ids = { caseId: view.caseId, requestId: view.requestId };
  return {
    tag: 'form',
    name: formContainerName('decision'),
    elements: [
      {
        tag: 'input',
        name: fieldName('decision', 'note'),
        placeholder: plain('审批意见（选填）'),
        input_type: 'multiline_text',
        rows: 2,
        max_length: 1000,
        required: false,
        width: 'fill',
      },
      row([
        submitButton('decision_approve', '同意', { action: approve, ...ids }, { type: 'primary_filled' }),
        submitButton('decision_refuse', '不同意', { action: refuse, ...ids }, {
          type: 'danger',
          confirm: {
            title: `不同意${KIND_LABEL[view.kind]}？`,
            text: view.kind === 'extension' ? `${view.caseNo} 将按原期限 ${view.currentDue} 办理。` : `${view.caseNo} 将继续由本单位办理。`,
          },
        }),
      ]),
    ],
  };
}

function outcomeLines(view: RequestDecisionView): string[] {
  const verdict = view.status === 'approved' ? coloured('**已同意**', 'green') : coloured(`**${STATUS_LABEL[view.status]}**`, 'grey');
  const by = view.decidedBy ? `（${escapeMd(clip(view.decidedBy, 20))}）` : '';
  const lines = [`**审批结果**：${verdict}${by}`];
  if (view.decisionNote?.trim()) lines.push(`**${view.status === 'withdrawn' ? '说明' : '审批意见'}**：${escapeMd(clip(view.decisionNote, 1000))}`);
  return lines;
}
