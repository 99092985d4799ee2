import { describe, expect, it } from 'vitest';
import { KNOWN_ROLE_LABELS } from '../../src/domain/roles.ts';
import { disclosureFromLabel } from '../../src/domain/types.ts';
import { describeProblem, readImportFile } from '../../src/import/read.ts';
import type { RawSheet } from '../../src/import/read.ts';
import { validateRows } from '../../src/import/validate.ts';

const SAMPLES = new URL('../../../shared/samples/', import.meta.url);

/** A valid NPC suggestion as an office would type it; tests change one thing at a time. */
const GOOD: Record<string, string> = {
  案号: '20240562', 类别: '建议', 届次: '市七届人大五次会议', 案由: '关于加快推进老年社会监护服务中心相关立法及建设工作的建议',
  提出人: '黄振辉', 办理类别: '主办', 主办单位: '市民政局', 会办单位: '', 交办日期: '2024-03-20', 答复期限: '', 公开情况: '主动公开',
};

/** Rows start at 2, under the header, as in Excel. */
function sheetOf(...changes: Record<string, string>[]): RawSheet {
  return { headerRow: 1, warnings: [], rows: changes.map((change, i) => ({ row: i + 2, cells: { ...GOOD, ...change } })) };
}

function one(change: Record<string, string>) {
  const { cases, problems } = validateRows(sheetOf(change));
  return { theCase: cases[0], problems: problems.map(describeProblem) };
}

describe('the sample files', () => {
  it('the 2024 NPC batch validates with no problems', async () => {
    const { cases, problems } = validateRows(await readImportFile(new URL('cases-2024-npc.csv', SAMPLES).pathname));
    expect(problems).toEqual([]);
    expect(cases).toHaveLength(11);
    expect(cases[0]).toEqual({
      row: 2, caseNo: '20240562', kind: '建议', year: 2024, session: '市七届人大五次会议',
      title: '关于加快推进老年社会监护服务中心相关立法及建设工作的建议', proposer: '', roleLabel: '主办', role: 'lead',
      leadUnit: '市民政局', assistingUnits: [], unit: null, assignedDate: '2024-03-20', fixedDueDate: null, disclosure: '主动公开',
    });
    expect(cases.find((c) => c.caseNo === '20240252')).toMatchObject({ roleLabel: '分办', role: 'separate', leadUnit: '' });
    expect(cases.find((c) => c.caseNo === '20240542')?.assistingUnits).toEqual(['市市场监管局']);
    expect(cases.find((c) => c.caseNo === '20240268')?.proposer).toBe('黄振辉');
    expect(cases.every((c) => c.fixedDueDate === null)).toBe(true);
  });

  it('the 2021 CPPCC batch validates with titles, units and fixed due dates intact', async () => {
    const { cases, problems } = validateRows(await readImportFile(new URL('cases-2021-cppcc.csv', SAMPLES).pathname));
    expect(problems).toEqual([]);
    expect(cases).toHaveLength(8);
    const byNo = new Map(cases.map((c) => [c.caseNo, c]));
    expect(byNo.get('20210552')).toMatchObject({
      kind: '提案', year: 2021, title: '关于补齐短板,提升“民生微实事”项目质效的提案', proposer: '黄海燕',
      assistingUnits: ['市委组织部', '市财政局'], assignedDate: '2021-03-10', fixedDueDate: '2021-07-10',
    });
    expect(byNo.get('20210026')?.assistingUnits).toEqual(['市发展改革委', '市财政局', '市城管局', '市卫生健康委']);
    expect(byNo.get('20210179')).toMatchObject({ session: '市政协七届一次会议', proposer: '民建深圳市委会', assistingUnits: [] });
    expect(byNo.get('20210407')?.title).toBe('关于优化全市老年人日间照料中心建设 提高社区“嵌入式”养老服务质量的提案');
  });
});

describe('案号', () => {
  it('accepts 第…号, full-width digits and surrounding spaces', () => {
    expect(one({ 案号: '第20240562号' }).theCase?.caseNo).toBe('20240562');
    expect(one({ 案号: '\u3000２０２４０５６２ ' }).theCase?.caseNo).toBe('20240562');
  });

  it('refuses an empty or non-numeric case number', () => {
    expect(one({ 案号: ' ' }).problems).toEqual(['第2行「案号」：必填，不能为空']);
    expect(one({ 案号: '2024-0562' }).problems).toEqual(['第2行「案号」：案号“2024-0562”只能包含数字']);
    expect(one({ 案号: '2.02406E+07' }).problems).toEqual([
      '第2行「案号」：案号“2.02406E+07”被显示成了科学计数法，请把该列设为文本格式并填写完整的案号',
    ]);
  });

  it('takes the year from the case number, else from the assignment date', () => {
    expect(one({ 案号: '20210571', 交办日期: '2024-03-20' }).theCase?.year).toBe(2021);
    expect(one({ 案号: '562', 交办日期: '2023-05-01' }).theCase?.year).toBe(2023);
    expect(one({ 案号: '12345678', 交办日期: '2022-05-01' }).theCase?.year).toBe(2022);
  });
});

describe('类别, 办理类别 and 公开情况', () => {
  it('maps the kind aliases', () => {
    const kinds = ['建议', '人大建议', '代表建议', '提案', '政协提案', ' 提 案 '].map((k) => one({ 类别: k }).theCase?.kind);
    expect(kinds).toEqual(['建议', '建议', '建议', '提案', '提案', '提案']);
    expect(one({ 类别: '议案' }).problems).toEqual(['第2行「类别」：无法识别的类别“议案”，应为“建议”或“提案”']);
    expect(one({ 类别: '' }).problems).toEqual(['第2行「类别」：必填，不能为空']);
  });

  it('keeps the role label as imported and maps it to a role', () => {
    expect(one({ 办理类别: ' 汇办 ' }).theCase).toMatchObject({ roleLabel: '汇办', role: 'assisting' });
    expect(one({ 办理类别: '独办' }).theCase).toMatchObject({ roleLabel: '独办', role: 'sole' });
  });

  it('lists the known labels for an unknown role label', () => {
    expect(one({ 办理类别: '牵头' }).problems).toEqual([
      `第2行「办理类别」：无法识别的办理类别“牵头”，可用：${KNOWN_ROLE_LABELS.join('、')}`,
    ]);
    expect(one({ 办理类别: 'toString' }).problems).toHaveLength(1);
    for (const label of ['constructor', '__proto__', 'hasOwnProperty']) {
      expect(one({ 办理类别: label }).problems).toEqual([
        `第2行「办理类别」：无法识别的办理类别“${label}”，可用：${KNOWN_ROLE_LABELS.join('、')}`,
      ]);
    }
    expect(one({ 办理类别: '' }).problems).toEqual(['第2行「办理类别」：必填，不能为空']);
  });

  it('maps disclosure, with 公开 and 不公开 as shorthands and empty as unknown', () => {
    const values = ['主动公开', '依申请公开', '不予公开', '公开', '不公开', ''].map((d) => one({ 公开情况: d }).theCase?.disclosure);
    expect(values).toEqual(['主动公开', '依申请公开', '不予公开', '主动公开', '不予公开', null]);
    expect(one({ 公开情况: '部分公开' }).problems).toEqual([
      '第2行「公开情况」：无法识别的公开情况“部分公开”，可用：主动公开、依申请公开、不予公开',
    ]);
  });

  it('reads disclosure typed with spaces or in full width, and refuses names found on Object.prototype', () => {
    expect(one({ 公开情况: ' 主动 公开 ' }).theCase?.disclosure).toBe('主动公开');
    expect(one({ 公开情况: '依申请' }).theCase?.disclosure).toBe('依申请公开');
    expect(one({ 公开情况: 'ＰＵＢＬＩＣ' }).theCase?.disclosure).toBe('主动公开');
    expect(one({ 公开情况: 'constructor' }).problems).toEqual([
      '第2行「公开情况」：无法识别的公开情况“constructor”，可用：主动公开、依申请公开、不予公开',
    ]);
  });
});

describe('disclosureFromLabel', () => {
  it.each([
    ['主动公开', '主动公开'],
    ['依申请公开', '依申请公开'],
    ['不予公开', '不予公开'],
    ['公开', '主动公开'],
    ['依申请', '依申请公开'],
    ['不公开', '不予公开'],
    [' 不公开 ', '不予公开'],
    ['Public', '主动公开'],
    ['on-request', '依申请公开'],
    ['NOT-PUBLIC', '不予公开'],
  ] as const)('"%s" → %s', (label, disclosure) => {
    expect(disclosureFromLabel(label)).toBe(disclosure);
  });

  it.each(['', '部分公开', '公开 公开', 'constructor', 'toString', '__proto__'])('"%s" is not a disclosure', (label) => {
    expect(disclosureFromLabel(label)).toBeNull();
  });
});

describe('units', () => {
  it('splits assisting units on every separator offices use, without repeats', () => {
    const units = one({ 会办单位: '市教育局;市财政局；市港澳办、市卫生健康委,市城管局，市教育局\n市住房建设局 ; ' }).theCase?.assistingUnits;
    expect(units).toEqual(['市教育局', '市财政局', '市港澳办', '市卫生健康委', '市城管局', '市住房建设局']);
  });

  it('takes 承办处室 as our internal unit when given', () => {
    expect(one({ 承办处室: ' 养老服务处 ' }).theCase?.unit).toBe('养老服务处');
    expect(one({ 承办处室: '' }).theCase?.unit).toBeNull();
    expect(one({}).theCase?.unit).toBeNull();
  });
});

describe('dates', () => {
  it('accepts the spellings offices use', () => {
    const spellings = ['2024-03-20', '2024/3/20', '2024.3.20', '2024年3月20日', '2024 年 3 月 20 日', '20240320', '２０２４－０３－２０', '2024/3/20 0:00'];
    expect(spellings.map((d) => one({ 交办日期: d }).theCase?.assignedDate)).toEqual(spellings.map(() => '2024-03-20'));
    expect(one({ 交办日期: '2024-02-29' }).theCase?.assignedDate).toBe('2024-02-29');
  });

  it('refuses dates that do not exist or cannot be read', () => {
    expect(one({ 交办日期: '2024-13-01' }).problems).toEqual(['第2行「交办日期」：无法识别的日期“2024-13-01”，请使用 2024-03-20 格式']);
    expect(one({ 交办日期: '2024-02-30' }).problems).toEqual(['第2行「交办日期」：日期不存在“2024-02-30”：2024年2月只有29天']);
    expect(one({ 交办日期: '2023-02-29' }).problems).toEqual(['第2行「交办日期」：日期不存在“2023-02-29”：2023年2月只有28天']);
    expect(one({ 交办日期: '3/20/2024' }).problems).toEqual(['第2行「交办日期」：无法识别的日期“3/20/2024”，请使用 2024-03-20 格式']);
    expect(one({ 交办日期: '2024-03/20' }).problems).toHaveLength(1);
    expect(one({ 交办日期: '1024-03-20' }).problems).toEqual(['第2行「交办日期」：日期“1024-03-20”的年份不合理，请使用 2024-03-20 格式']);
    expect(one({ 交办日期: '' }).problems).toEqual(['第2行「交办日期」：必填，不能为空']);
  });

  it('takes a due date when given, never before the assignment date', () => {
    expect(one({ 答复期限: '2024年6月20日' }).theCase?.fixedDueDate).toBe('2024-06-20');
    expect(one({ 答复期限: '2024-03-20' }).theCase?.fixedDueDate).toBe('2024-03-20');
    expect(one({ 答复期限: '' }).theCase?.fixedDueDate).toBeNull();
    expect(one({ 答复期限: '2024-03-19' }).problems).toEqual(['第2行「答复期限」：答复期限“2024-03-19”早于交办日期“2024-03-20”']);
    expect(one({ 答复期限: '2024-06-31' }).problems).toEqual(['第2行「答复期限」：日期不存在“2024-06-31”：2024年6月只有30天']);
  });
});

describe('text', () => {
  it('requires a title and limits its length', () => {
    expect(one({ 案由: '' }).problems).toEqual(['第2行「案由」：必填，不能为空']);
    expect(one({ 案由: '议'.repeat(500) }).problems).toEqual([]);
    expect(one({ 案由: '议'.repeat(501) }).problems).toEqual(['第2行「案由」：内容过长（501 字），最多 500 字']);
    expect(one({ 提出人: '张'.repeat(201) }).problems).toEqual(['第2行「提出人」：内容过长（201 字），最多 200 字']);
  });

  it('joins a title typed over several lines', () => {
    expect(one({ 案由: ' 关于优化全市老年人日间照料中心建设\r\n提高社区“嵌入式”养老服务质量的提案 ' }).theCase?.title).toBe(
      '关于优化全市老年人日间照料中心建设 提高社区“嵌入式”养老服务质量的提案',
    );
  });
});

describe('a batch with mistakes', () => {
  it('names the first row when a case appears twice in the same kind and year', () => {
    const { cases, problems } = validateRows(
      sheetOf({}, { 案号: '20240252' }, { 类别: '提案' }, { 案号: '第２０２４０５６２号', 案由: '另一条' }),
    );
    expect(problems).toEqual([{ row: 5, column: '案号', reason: '与第2行重复：2024年的建议“20240562”出现了两次' }]);
    expect(cases.map((c) => c.row)).toEqual([2, 3, 4]);
  });

  it('collects every problem of every row, and keeps only the clean rows as cases', () => {
    const { cases, problems } = validateRows(
      sheetOf(
        { 案号: '', 交办日期: '2024-13-01' },
        {},
        { 类别: '议案', 办理类别: '牵头', 答复期限: '2024-01-01', 公开情况: '部分公开' },
      ),
    );
    expect(problems.map((p) => [p.row, p.column])).toEqual([
      [2, '案号'],
      [2, '交办日期'],
      [4, '类别'],
      [4, '办理类别'],
      [4, '答复期限'],
      [4, '公开情况'],
    ]);
    expect(describeProblem(problems[1]!)).toBe('第2行「交办日期」：无法识别的日期“2024-13-01”，请使用 2024-03-20 格式');
    expect(cases.map((c) => c.row)).toEqual([3]);
  });
});
