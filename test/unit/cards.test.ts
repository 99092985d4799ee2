import { describe, expect, it } from 'vitest';
import { findButtons } from '../support/lark/cards.ts';
import {
  buildCaseCard,
  buildCaseListCard,
  buildHelpCard,
  buildNoticeCard,
  buildRequestDecisionCard,
  CARD_MAX_BYTES,
  CARD_MAX_ELEMENTS,
  CASE_ACTIONS,
  cardByteSize,
  cardElementCount,
  caseTemplate,
  dueWording,
  MAX_LIST_ROWS,
  parseCallbackValue,
  readFormFields,
  validateCard,
  type CallbackValue,
  type CaseAction,
  type CaseCardView,
  type CaseListView,
  type RequestDecisionView,
} from '../../cards/index.ts';

// --- helpers: walk a card the way Lark would read it ------------------------------------------------------------

type Json = Record<string, unknown>;

function nodes(card: unknown): Json[] {
  const out: Json[] = [];
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) n.forEach(walk);
    else if (typeof n === 'object' && n !== null) {
      out.push(n as Json);
      Object.values(n).forEach(walk);
    }
  };
  walk(card);
  return out;
}

interface FoundButton {
  label: string;
  value: CallbackValue | undefined;
  confirm: boolean;
  submit: boolean;
  name: string | undefined;
}

function buttons(card: unknown): FoundButton[] {
  return nodes(card)
    .filter((n) => n.tag === 'button')
    .map((b) => {
      const behaviors = b.behaviors as { type: string; value?: CallbackValue }[] | undefined;
      return {
        label: (b.text as { content: string }).content,
        value: behaviors?.[0]?.value,
        confirm: b.confirm !== undefined,
        submit: b.form_action_type === 'submit',
        name: b.name as string | undefined,
      };
    });
}

function actionsOf(card: unknown): string[] {
  return [...new Set(buttons(card).map((b) => b.value?.action ?? '(none)'))];
}

/** Every form on the card, with the names of its fields and its submit buttons' actions. */
function forms(card: unknown): { name: string; fields: string[]; submits: string[] }[] {
  return nodes(card)
    .filter((n) => n.tag === 'form')
    .map((f) => {
      const inner = nodes(f.elements);
      return {
        name: f.name as string,
        fields: inner.filter((n) => n.tag !== 'button' && typeof n.name === 'string').map((n) => n.name as string),
        submits: buttons(f.elements).filter((b) => b.submit).map((b) => b.value?.action ?? '(none)'),
      };
    });
}

/** What a reader sees: markdown contents, plain texts and header texts, joined. */
function visibleText(card: unknown): string {
  return nodes(card)
    .filter((n) => typeof n.content === 'string')
    .map((n) => n.content as string)
    .join('\n');
}

function expectSendable(card: unknown): void {
  const result = validateCard(card);
  expect(result.ok ? [] : result.issues).toEqual([]);
  expect(cardByteSize(card)).toBeLessThan(CARD_MAX_BYTES);
  expect(cardElementCount(card)).toBeLessThanOrEqual(CARD_MAX_ELEMENTS);
  expect((card as { config: { update_multi: boolean } }).config.update_multi).toBe(true);
}

// --- fixtures ------------------------------------------------------------------------------------------------------

const RESULT_CLASSES = [
  { code: 'A', label: '已解决或采纳' },
  { code: 'B', label: '正在解决或列入计划' },
  { code: 'C', label: '因条件限制留作参考' },
];

function caseView(overrides: Partial<CaseCardView> = {}): CaseCardView {
  return {
    caseId: 562,
    caseNo: '20240562',
    kind: '建议',
    session: '市七届人大五次会议',
    title: '关于加强社区养老服务设施建设的建议',
    proposer: '王芳',
    roleLabel: '主办',
    role: 'lead',
    status: 'in_progress',
    statusLabel: '办理中',
    round: 1,
    leadUnit: '市民政局',
    assistingUnits: ['市财政局', '市卫健委'],
    unit: '养老服务处',
    handlerName: '张三',
    assignedDate: '2024-03-01',
    replyDueDate: '2024-06-03',
    workdaysLeft: 20,
    lastProgress: null,
    contacts: [],
    replies: [],
    opinion: null,
    ratings: [],
    pendingExtension: null,
    pendingAdjustment: null,
    timeline: [{ at: '2024-03-04 09:30', actorName: '张三', text: '认领了案件' }],
    actions: ['progress', 'contact', 'extend', 'adjust', 'handover', 'release'],
    resultClasses: RESULT_CLASSES,
    today: '2024-05-06',
    dissatisfiedReopens: true,
    ...overrides,
  };
}

const STATES: Record<string, Partial<CaseCardView>> = {
  unclaimed: { status: 'unclaimed', statusLabel: '待认领', handlerName: null, actions: ['claim', 'adjust'], timeline: [] },
  in_progress: {},
  contacted: {
    status: 'contacted',
    statusLabel: '已面商',
    contacts: [{ date: '2024-03-12', method: '上门', who: '王芳代表', note: '实地查看了三个社区' }],
    actions: ['progress', 'contact', 'reply', 'extend', 'handover', 'release'],
  },
  replied: {
    status: 'replied',
    statusLabel: '已答复待评价',
    workdaysLeft: null,
    contacts: [{ date: '2024-03-12', method: '上门', who: '王芳代表', note: '' }],
    replies: [{ round: 1, date: '2024-05-20', resultClass: 'B', disclosure: '主动公开' }],
    actions: ['rate', 'progress'],
  },
  rehandling: {
    status: 'rehandling',
    statusLabel: '重新办理',
    round: 2,
    replies: [{ round: 1, date: '2024-05-20', resultClass: 'B', disclosure: '主动公开' }],
    ratings: [{ round: 1, rating: '不满意', enteredBy: '李秘书' }],
    actions: ['progress', 'contact', 'reply'],
  },
  closed: {
    status: 'closed',
    statusLabel: '已办结',
    workdaysLeft: null,
    replies: [{ round: 1, date: '2024-05-20', resultClass: 'A', disclosure: '主动公开' }],
    ratings: [{ round: 1, rating: '满意', enteredBy: '李秘书' }],
    actions: [],
  },
  assisting: {
    role: 'assisting',
    roleLabel: '会办',
    leadUnit: '市住建局',
    assistingUnits: ['市民政局'],
    actions: ['opinion', 'progress', 'handover'],
  },
  overdue: { workdaysLeft: -3, actions: ['progress', 'contact', 'extend', 'release'] },
  adjusted: { status: 'adjusted', statusLabel: '已调整', workdaysLeft: null, actions: [] },
};

// --- the case card -----------------------------------------------------------------------------------------------

describe('buildCaseCard', () => {
  for (const [state, overrides] of Object.entries(STATES)) {
    it(`${state}: sendable, offers exactly the listed actions, every button names the case`, () => {
      const view = caseView(overrides);
      const card = buildCaseCard(view);
      expectSendable(card);
      expect(actionsOf(card).sort()).toEqual([...new Set(view.actions)].sort());
      for (const b of buttons(card)) expect(b.value?.caseId).toBe(562);
      expect(card.header.title.content).toBe('建议 20240562');
      expect(visibleText(card)).toContain('关于加强社区养老服务设施建设的建议');
    });
  }

  it('each form holds its own fields under card-wide unique names and submits its own action', () => {
    const card = buildCaseCard(caseView({ status: 'contacted', actions: ['progress', 'contact', 'reply', 'opinion', 'extend', 'adjust', 'handover'] }));
    expectSendable(card);
    expect(forms(card)).toEqual([
      { name: 'form_progress', fields: ['progress_note'], submits: ['progress'] },
      { name: 'form_contact', fields: ['contact_method', 'contact_date', 'contact_who', 'contact_note'], submits: ['contact'] },
      { name: 'form_reply', fields: ['reply_result_class', 'reply_date', 'reply_disclosure'], submits: ['reply'] },
      { name: 'form_opinion', fields: ['opinion_date', 'opinion_note'], submits: ['opinion'] },
      { name: 'form_extend', fields: ['extend_until', 'extend_reason'], submits: ['extend'] },
      { name: 'form_adjust', fields: ['adjust_reason'], submits: ['adjust'] },
      { name: 'form_handover', fields: ['handover_to'], submits: ['handover'] },
    ]);
  });

  it('the contact and reply forms offer the domain words, the configured classes and today as the date', () => {
    const card = buildCaseCard(caseView({ status: 'contacted', actions: ['contact', 'reply'] }));
    const byName = new Map(nodes(card).filter((n) => typeof n.name === 'string').map((n) => [n.name as string, n]));
    const optionValues = (name: string) => (byName.get(name)?.options as { value: string }[]).map((o) => o.value);
    expect(optionValues('contact_method')).toEqual(['电话', '上门', '座谈', '线上', '当面']);
    expect(optionValues('reply_result_class')).toEqual(['A', 'B', 'C']);
    expect(optionValues('reply_disclosure')).toEqual(['主动公开', '依申请公开', '不予公开']);
    expect(byName.get('contact_date')?.initial_date).toBe('2024-05-06');
    expect(byName.get('reply_date')?.tag).toBe('date_picker');
    expect(byName.get('contact_who')?.tag).toBe('input');
  });

  it('张三 sees 认领 as the main button on an unclaimed case, and 放弃认领 asks before it acts', () => {
    const unclaimed = buildCaseCard(caseView(STATES.unclaimed));
    expect(buttons(unclaimed).filter((b) => !b.submit).map((b) => b.label)).toEqual(['认领']);
    expect(buttons(unclaimed)[0]?.label).toBe('认领');
    expect(visibleText(unclaimed)).toContain('待认领');
    const claimed = buildCaseCard(caseView({ actions: ['release'] }));
    const release = buttons(claimed);
    expect(release).toHaveLength(1);
    expect(release[0]).toMatchObject({ label: '放弃认领', confirm: true, value: { action: 'release', caseId: 562 } });
  });

  it('the rating comes as three buttons, each with its rating, and 不满意 asks for confirmation', () => {
    const card = buildCaseCard(caseView(STATES.replied));
    const rate = buttons(card).filter((b) => b.value?.action === 'rate');
    expect(rate.map((b) => [b.label, b.value?.rating, b.confirm])).toEqual([
      ['满意', '满意', false],
      ['基本满意', '基本满意', false],
      ['不满意', '不满意', true],
    ]);
  });

  it('says how much time is left, on the day and when overdue, and colours the header to match', () => {
    const left = buildCaseCard(caseView({ workdaysLeft: 12 }));
    expect(visibleText(left)).toContain('2024-06-03（剩余 12 个工作日）');
    expect(left.header.template).toBe('blue');
    const today = buildCaseCard(caseView({ workdaysLeft: 0 }));
    expect(visibleText(today)).toContain('今天到期');
    expect(today.header.template).toBe('orange');
    const overdue = buildCaseCard(caseView({ workdaysLeft: -3 }));
    expect(visibleText(overdue)).toContain('已逾期 3 个工作日');
    expect(overdue.header.template).toBe('red');
    const replied = buildCaseCard(caseView(STATES.replied));
    expect(visibleText(replied)).not.toMatch(/剩余|到期|逾期/);
  });

  it('colours: closed green, adjusted grey, unclaimed yellow, due within 5 working days orange', () => {
    expect(caseTemplate({ status: 'closed', workdaysLeft: null })).toBe('green');
    expect(caseTemplate({ status: 'adjusted', workdaysLeft: null })).toBe('grey');
    expect(caseTemplate({ status: 'unclaimed', workdaysLeft: 30 })).toBe('yellow');
    expect(caseTemplate({ status: 'unclaimed', workdaysLeft: -1 })).toBe('red');
    expect(caseTemplate({ status: 'in_progress', workdaysLeft: 5 })).toBe('orange');
    expect(caseTemplate({ status: 'in_progress', workdaysLeft: 6 })).toBe('blue');
    expect([dueWording(null), dueWording(0), dueWording(1), dueWording(-2)]).toEqual([
      '',
      '今天到期',
      '剩余 1 个工作日',
      '已逾期 2 个工作日',
    ]);
  });

  it('shows the facts: proposer, role, units, handler, dates, contacts, replies, ratings and the round', () => {
    const card = buildCaseCard(caseView(STATES.rehandling));
    const text = visibleText(card);
    for (const fact of ['王芳', '主办', '市民政局', '市财政局、市卫健委', '养老服务处', '张三', '2024-03-01', '市七届人大五次会议']) {
      expect(text).toContain(fact);
    }
    expect(text).toContain('第1轮 2024-05-20，B，主动公开');
    expect(text).toContain('李秘书');
    expect(card.header.text_tag_list?.map((t) => t.text.content)).toEqual(['重新办理', '主办', '第2轮']);
  });

  it('an assisting case shows the opinion, not contacts or replies', () => {
    const text = visibleText(buildCaseCard(caseView({ ...STATES.assisting, opinion: { date: '2024-03-20', note: '建议纳入年度计划' } })));
    expect(text).toContain('会办意见');
    expect(text).toContain('2024-03-20 已报送：建议纳入年度计划');
    expect(text).not.toContain('面商');
    expect(text).not.toContain('尚未答复');
    const withContact = visibleText(
      buildCaseCard(caseView({ ...STATES.assisting, contacts: [{ date: '2024-03-15', method: '电话', who: '王芳代表', note: '' }] })),
    );
    expect(withContact).toContain('2024-03-15 电话，王芳代表');
  });

  it('shows pending extension and adjustment requests while they wait for the coordinator', () => {
    const card = buildCaseCard(
      caseView({
        pendingExtension: { requestId: 8, until: '2024-08-30', reason: '需财政配套资金', requestedBy: '张三' },
        pendingAdjustment: { requestId: 9, reason: '主要涉及住建职责', requestedBy: '张三' },
      }),
    );
    expectSendable(card);
    const text = visibleText(card);
    expect(text).toContain('延期申请待审批');
    expect(text).toContain('2024-08-30');
    expect(text).toContain('需财政配套资金');
    expect(text).toContain('调整申请待审批');
    expect(text).toContain('主要涉及住建职责');
    expect(visibleText(buildCaseCard(caseView()))).not.toContain('待审批');
  });

  it('shows the notice on top', () => {
    const card = buildCaseCard(caseView({ notice: '已由张三认领' }));
    expect((card.body.elements[0] as { content: string }).content).toContain('已由张三认领');
  });

  it('a case with 200 timeline entries and very long text stays under 30 KB and says what it left out', () => {
    const long = '很长的办理说明'.repeat(400);
    const view = caseView({
      title: '关于'.repeat(2000),
      lastProgress: { at: '2024-05-01 10:00', by: '张三', note: long },
      contacts: Array.from({ length: 30 }, (_, i) => ({ date: `2024-04-${String((i % 28) + 1).padStart(2, '0')}`, method: '电话', who: '王芳代表', note: long })),
      pendingExtension: { requestId: 8, until: '2024-08-30', reason: long, requestedBy: '张三' },
      timeline: Array.from({ length: 200 }, (_, i) => ({ at: '2024-05-01 10:00', actorName: i % 2 ? '张三' : null, text: `第${200 - i}条 ${'*<>'.repeat(300)}` })),
      actions: [...CASE_ACTIONS],
    });
    const card = buildCaseCard(view);
    expectSendable(card);
    const text = visibleText(card);
    const shown = (text.match(/第\d+条/g) ?? []).length;
    expect(shown).toBeGreaterThan(0);
    expect(text).toContain(`另有 ${200 - shown} 条较早记录`);
    expect(text).toContain('办理记录（共 200 条）');
    expect(text).toContain('…');
    expect(actionsOf(card).sort()).toEqual([...CASE_ACTIONS].sort());
  });

  it('offering every action at once still fits Lark’s element limit', () => {
    const card = buildCaseCard(caseView({ actions: [...CASE_ACTIONS], round: 2, notice: '提示', pendingAdjustment: { requestId: 1, reason: 'x', requestedBy: '张三' } }));
    expectSendable(card);
    expect(actionsOf(card).sort()).toEqual([...CASE_ACTIONS].sort());
  });

  it('user text cannot @ everyone or inject formatting', () => {
    const card = buildCaseCard(
      caseView({
        title: '<at id=all></at> **粗体** [链接](https://x)',
        timeline: [{ at: '2024-05-01 10:00', actorName: '<at id=all></at>', text: '<font color=red>x</font>' }],
      }),
    );
    const markdown = nodes(card).filter((n) => n.tag === 'markdown').map((n) => n.content as string).join('\n');
    expect(markdown).not.toContain('<at');
    expect(markdown).not.toContain('<font color=red>');
    expect(markdown).not.toContain('**粗体**');
    expect(markdown).toContain('&#60;at id=all&#62;');
  });

  it('an action listed twice is offered once, and a reply form without result classes is not offered', () => {
    const twice = buildCaseCard(caseView({ actions: ['progress', 'progress', 'release', 'release'] }));
    expectSendable(twice);
    expect(forms(twice).map((f) => f.name)).toEqual(['form_progress']);
    expect(buttons(twice).filter((b) => b.value?.action === 'release')).toHaveLength(1);
    const noClasses = buildCaseCard(caseView({ actions: ['reply'], resultClasses: [] }));
    expectSendable(noClasses);
    expect(forms(noClasses)).toEqual([]);
    expect(visibleText(noClasses)).toContain('尚未配置答复结果类别');
  });
});

// --- the list card ------------------------------------------------------------------------------------------------

function listView(count: number, more = 0): CaseListView {
  return {
    title: '本处室待办案件',
    subtitle: '按答复期限排序',
    emptyText: '暂无待办案件。',
    items: Array.from({ length: count }, (_, i) => ({
      caseId: 1000 + i,
      caseNo: `2024${String(i).padStart(4, '0')}`,
      title: `关于第${i}个社区养老服务设施建设的建议，内容很长很长很长很长`,
      statusLabel: '办理中',
      handlerName: i % 2 ? '张三' : null,
      replyDueDate: '2024-06-03',
      workdaysLeft: 3 - i,
    })),
    more,
  };
}

describe('buildCaseListCard', () => {
  it('an empty list shows emptyText and no buttons', () => {
    const card = buildCaseListCard(listView(0));
    expectSendable(card);
    expect(visibleText(card)).toContain('暂无待办案件。');
    expect(buttons(card)).toEqual([]);
  });

  it('a short list has one 查看 button per case, carrying its id', () => {
    const view = listView(5);
    const card = buildCaseListCard(view);
    expectSendable(card);
    expect(buttons(card).map((b) => [b.label, b.value])).toEqual(
      view.items.map((item) => ['查看', { action: 'show', caseId: item.caseId }]),
    );
    const text = visibleText(card);
    expect(text).toContain('20240000');
    expect(text).toContain('剩余 3 个工作日');
    expect(text).toContain('今天到期');
    expect(text).toContain('已逾期 1 个工作日');
    expect(text).not.toContain('未列出');
  });

  it('40 cases and 5 more: shows what fits and says how many were left out', () => {
    const view = listView(40, 5);
    const card = buildCaseListCard(view);
    expectSendable(card);
    const shown = buttons(card);
    expect(shown).toHaveLength(MAX_LIST_ROWS);
    expect(shown.map((b) => b.value?.caseId)).toEqual(view.items.slice(0, MAX_LIST_ROWS).map((i) => i.caseId));
    expect(visibleText(card)).toContain(`另有 ${40 - MAX_LIST_ROWS + 5} 件未列出`);
  });

  it('long titles are shortened', () => {
    const view = listView(1);
    view.items[0]!.title = '长'.repeat(500);
    const text = visibleText(buildCaseListCard(view));
    expect(text).toContain('…');
    expect(text).not.toContain('长'.repeat(30));
  });
});

// --- help, decisions, notices ---------------------------------------------------------------------------------------

describe('buildHelpCard', () => {
  const commands = [
    { usage: '认领 20240562', description: '认领一件案件', group: '办理' },
    { usage: '我的案件', description: '列出我承办的案件' },
    { usage: '导入', description: '导入本年度交办清单', group: '协调员', coordinatorOnly: true },
    { usage: '绑定 养老服务处', description: '把本群绑定到处室', group: '协调员', coordinatorOnly: true },
  ];

  it('a handler sees the handler commands, grouped, and no coordinator commands', () => {
    const card = buildHelpCard({ isCoordinator: false, chatUnit: '养老服务处', commands });
    expectSendable(card);
    const text = visibleText(card);
    expect(text).toContain('**办理**');
    expect(text).toContain('**常用命令**');
    expect(text).toContain('认领 20240562');
    expect(text).not.toContain('导入本年度交办清单');
    expect(text).toContain('养老服务处');
    expect(buttons(card)).toEqual([]);
  });

  it('a coordinator also sees the coordinator commands under their heading', () => {
    const text = visibleText(buildHelpCard({ isCoordinator: true, chatUnit: null, commands }));
    expect(text).toContain('**协调员**');
    expect(text).toContain('导入本年度交办清单');
    expect(text).toContain('本群尚未绑定处室');
  });
});

function decisionView(overrides: Partial<RequestDecisionView> = {}): RequestDecisionView {
  return {
    kind: 'extension',
    requestId: 31,
    caseId: 562,
    caseNo: '20240562',
    title: '关于加强社区养老服务设施建设的建议',
    requestedBy: '张三',
    reason: '需财政配套资金',
    until: '2024-08-30',
    currentDue: '2024-06-03',
    limit: '2024-09-01',
    status: 'pending',
    ...overrides,
  };
}

describe('buildRequestDecisionCard', () => {
  it('a pending extension offers 同意 and 不同意 with a note, carrying case and request ids', () => {
    const card = buildRequestDecisionCard(decisionView());
    expectSendable(card);
    expect(forms(card)).toEqual([{ name: 'form_decision', fields: ['decision_note'], submits: ['approve_extension', 'refuse_extension'] }]);
    const [approve, refuse] = buttons(card);
    expect(approve).toMatchObject({ label: '同意', confirm: false, value: { action: 'approve_extension', caseId: 562, requestId: 31 } });
    expect(refuse).toMatchObject({ label: '不同意', confirm: true, value: { action: 'refuse_extension', caseId: 562, requestId: 31 } });
    const text = visibleText(card);
    for (const fact of ['20240562', '张三', '需财政配套资金', '2024-08-30', '2024-06-03', '2024-09-01']) expect(text).toContain(fact);
  });

  it('a pending adjustment decides with the adjustment actions', () => {
    const card = buildRequestDecisionCard(decisionView({ kind: 'adjustment', until: undefined, limit: undefined }));
    expectSendable(card);
    expect(actionsOf(card)).toEqual(['approve_adjustment', 'refuse_adjustment']);
    expect(card.header.title.content).toContain('调整申请');
  });

  it('once decided it shows the outcome and offers nothing', () => {
    const approved = buildRequestDecisionCard(decisionView({ status: 'approved', decidedBy: '李秘书', decisionNote: '同意延期' }));
    expectSendable(approved);
    expect(buttons(approved)).toEqual([]);
    expect(visibleText(approved)).toContain('已同意');
    expect(visibleText(approved)).toContain('李秘书');
    expect(approved.header.template).toBe('green');
    const refused = buildRequestDecisionCard(decisionView({ status: 'refused', decidedBy: '李秘书' }));
    expect(buttons(refused)).toEqual([]);
    expect(visibleText(refused)).toContain('未同意');
  });
});

describe('buildNoticeCard', () => {
  it('shows the text literally and cuts very long text', () => {
    const card = buildNoticeCard('导入完成', '共导入 42 件\n*3 件* 需核对');
    expectSendable(card);
    expect(visibleText(card)).toContain('共导入 42 件\n&#42;3 件&#42; 需核对');
    const long = buildNoticeCard('提示', '<'.repeat(10_000), 'red');
    expectSendable(long);
    expect(long.header.template).toBe('red');
    expect(visibleText(long)).toContain('…');
  });
});

// --- the callback contract ----------------------------------------------------------------------------------------

describe('callbacks', () => {
  it('readFormFields gives the service bare field names and plain dates', () => {
    expect(
      readFormFields('contact', {
        contact_method: '上门',
        contact_date: '2024-04-01 +0800',
        contact_who: ' 王芳代表 ',
        contact_note: '',
        progress_note: 'not this form',
      }),
    ).toEqual({ method: '上门', date: '2024-04-01', who: '王芳代表' });
    expect(readFormFields('refuse_extension', { decision_note: '理由不充分' })).toEqual({ note: '理由不充分' });
    expect(readFormFields('adjust', { reason: '不属于本单位职责' })).toEqual({ reason: '不属于本单位职责' });
    expect(readFormFields('extend', { extend_until: '2024-08-30 +0800', extend_reason: '资金' })).toEqual({ until: '2024-08-30', reason: '资金' });
    expect(readFormFields('claim', { progress_note: 'x' })).toEqual({});
    expect(readFormFields('progress', null)).toEqual({});
  });

  it('parseCallbackValue accepts our values and rejects anything else', () => {
    expect(parseCallbackValue({ action: 'rate', caseId: 5, rating: '满意' })).toEqual({ action: 'rate', caseId: 5, rating: '满意' });
    expect(parseCallbackValue({ action: 'rate', caseId: 5 })).toBeNull();
    expect(parseCallbackValue({ action: 'approve_extension', caseId: 5 })).toBeNull();
    expect(parseCallbackValue({ action: 'claim', caseId: '5' })).toBeNull();
    expect(parseCallbackValue({ action: 'delete', caseId: 5 })).toBeNull();
  });
});

// --- validateCard rejects what Lark would reject ---------------------------------------------------------------------

function minimalCard(elements: unknown[]): Json {
  return { schema: '2.0', config: { update_multi: true }, header: { title: { tag: 'plain_text', content: 't' } }, body: { elements } };
}

const okButton = (value: unknown = { action: 'claim', caseId: 1 }): Json => ({
  tag: 'button',
  text: { tag: 'plain_text', content: '认领' },
  behaviors: [{ type: 'callback', value }],
});

function issuesOf(card: unknown): string[] {
  const result = validateCard(card);
  return result.ok ? [] : result.issues;
}

describe('validateCard', () => {
  it('accepts a minimal card', () => {
    expect(validateCard(minimalCard([{ tag: 'markdown', content: 'x' }, okButton()]))).toEqual({ ok: true });
  });

  it('rejects an unknown property', () => {
    const issues = issuesOf(minimalCard([{ tag: 'markdown', content: 'x', colour: 'red' }]));
    expect(issues.join('\n')).toMatch(/body\.elements\.0.*colour/);
  });

  it('rejects an unknown property at the root and in the header', () => {
    expect(issuesOf({ ...minimalCard([]), elements: [] }).join()).toContain('elements');
    const card = minimalCard([]);
    (card.header as Json).title = { tag: 'plain_text', content: 't', size: 3 };
    expect(issuesOf(card).join()).toContain('size');
  });

  it('rejects a wrong tag', () => {
    const issues = issuesOf(minimalCard([{ tag: 'markdwon', content: 'x' }]));
    expect(issues.join('\n')).toMatch(/body\.elements\.0\.tag/);
  });

  it('rejects a button without a value, or without behaviors', () => {
    const noValue = okButton();
    noValue.behaviors = [{ type: 'callback' }];
    expect(issuesOf(minimalCard([noValue])).join()).toMatch(/behaviors\.0\.value/);
    const noBehaviors = okButton();
    delete noBehaviors.behaviors;
    expect(issuesOf(minimalCard([noBehaviors])).join()).toMatch(/behaviors/);
    expect(issuesOf(minimalCard([okButton({ action: 'claim' })])).join()).toMatch(/caseId/);
    expect(issuesOf(minimalCard([okButton({ action: 'rate', caseId: 1 })])).join()).toMatch(/rating/);
  });

  it('rejects a non-shared card and a card without schema 2.0', () => {
    expect(issuesOf({ ...minimalCard([]), config: { update_multi: false } })).not.toEqual([]);
    expect(issuesOf({ ...minimalCard([]), schema: '1.0' })).not.toEqual([]);
  });

  it('rejects a form anywhere but the root, and form fields outside a form', () => {
    const form = { tag: 'form', name: 'f', elements: [{ ...okButton(), name: 'b', form_action_type: 'submit' }] };
    expect(validateCard(minimalCard([form]))).toEqual({ ok: true });
    const inPanel = { tag: 'collapsible_panel', header: { title: { tag: 'plain_text', content: 'p' } }, elements: [form] };
    expect(issuesOf(minimalCard([inPanel]))).not.toEqual([]);
    expect(issuesOf(minimalCard([{ tag: 'input', name: 'x' }]))).not.toEqual([]);
  });

  it('rejects a form without a submit button, duplicate names, and unnamed form fields', () => {
    const noSubmit = { tag: 'form', name: 'f', elements: [{ tag: 'input', name: 'a' }] };
    expect(issuesOf(minimalCard([noSubmit])).join()).toContain('submit');
    const submit = (name: string) => ({ ...okButton(), name, form_action_type: 'submit' });
    const dup = [
      { tag: 'form', name: 'f1', elements: [{ tag: 'input', name: 'note' }, submit('s1')] },
      { tag: 'form', name: 'f2', elements: [{ tag: 'input', name: 'note' }, submit('s2')] },
    ];
    expect(issuesOf(minimalCard(dup)).join()).toContain('"note"');
    expect(issuesOf(minimalCard([{ tag: 'form', name: 'f', elements: [{ tag: 'input' }, submit('s')] }])).join()).toContain('name');
  });

  it('rejects more than 3 header tags and more than 200 elements or 30 KB', () => {
    const tag = { tag: 'text_tag', text: { tag: 'plain_text', content: 'x' } };
    const card = minimalCard([]);
    (card.header as Json).text_tag_list = [tag, tag, tag, tag];
    expect(issuesOf(card)).not.toEqual([]);
    const many = minimalCard(Array.from({ length: 201 }, () => ({ tag: 'hr' })));
    expect(issuesOf(many).join()).toContain('element');
    const huge = minimalCard([{ tag: 'markdown', content: '汉'.repeat(11_000) }]);
    expect(issuesOf(huge).join()).toContain('bytes');
  });

  it('rejects select options with duplicate values', () => {
    const option = { text: { tag: 'plain_text', content: 'A' }, value: 'A' };
    const form = {
      tag: 'form',
      name: 'f',
      elements: [{ tag: 'select_static', name: 's', options: [option, option] }, { ...okButton(), name: 'b', form_action_type: 'submit' }],
    };
    expect(issuesOf(minimalCard([form])).join()).toContain('unique');
  });
});

describe('every builder in every state', () => {
  it('only ever emits buttons whose value names a case', () => {
    const cards: unknown[] = [
      ...Object.values(STATES).map((s) => buildCaseCard(caseView(s))),
      buildCaseListCard(listView(40, 3)),
      buildRequestDecisionCard(decisionView()),
      buildRequestDecisionCard(decisionView({ kind: 'adjustment' })),
    ];
    let count = 0;
    for (const card of cards) {
      for (const b of buttons(card)) {
        count += 1;
        expect(parseCallbackValue(b.value), `${b.label}: ${JSON.stringify(b.value)}`).not.toBeNull();
        expect(b.value?.caseId).toBeGreaterThan(0);
      }
    }
    expect(count).toBeGreaterThan(40);
  });

  it('the case card offers nothing it was not asked to', () => {
    for (const action of CASE_ACTIONS) {
      const card = buildCaseCard(caseView({ actions: [action] as CaseAction[] }));
      expectSendable(card);
      expect(actionsOf(card)).toEqual([action]);
    }
  });
});

describe('the 不满意 button says what it will do', () => {
  const confirmOf = (card: object) => {
    const b = findButtons(card).find((x) => x.text === '不满意');
    return (b?.element as { confirm?: { title: { content: string }; text: { content: string } } } | undefined)?.confirm;
  };

  it('in the first round it warns the case will be handled again; in the last round that it will close', () => {
    const first = confirmOf(buildCaseCard(caseView({ status: 'replied', actions: ['rate'], dissatisfiedReopens: true })));
    expect(first?.text.content).toContain('将重新办理');
    const last = confirmOf(buildCaseCard(caseView({ status: 'replied', round: 2, actions: ['rate'], dissatisfiedReopens: false })));
    expect(last?.text.content).toContain('将办结');
    expect(last?.text.content).not.toContain('重新办理，并产生');
  });

  it('a proposal asks about the 委员, a suggestion about the 代表; an assisting case shows its opinion deadline', () => {
    expect(confirmOf(buildCaseCard(caseView({ kind: '提案', status: 'replied', actions: ['rate'] })))?.title.content).toContain('委员');
    expect(confirmOf(buildCaseCard(caseView({ kind: '建议', status: 'replied', actions: ['rate'] })))?.title.content).toContain('代表');
    const assisting = JSON.stringify(buildCaseCard(caseView({ role: 'assisting', roleLabel: '会办', actions: ['opinion'] })));
    expect(assisting).toContain('意见报送期限');
  });
});
