import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeProblem, ImportFileError, readImportFile, toHalfWidth } from '../../src/import/read.ts';
import { validateRows } from '../../src/import/validate.ts';

const SAMPLES = new URL('../../../shared/samples/', import.meta.url);
const NPC_SAMPLE = new URL('cases-2024-npc.csv', SAMPLES).pathname;
const CPPCC_SAMPLE = new URL('cases-2021-cppcc.csv', SAMPLES).pathname;
const HEADER = '案号,类别,届次,案由,提出人,办理类别,主办单位,会办单位,交办日期,答复期限,公开情况';

let dir: string;
let savedTz: string | undefined;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'banli-import-read-'));
  // West of UTC, reading an Excel date with local-time getters would land on the previous day.
  savedTz = process.env['TZ'];
  process.env['TZ'] = 'America/New_York';
});
afterAll(async () => {
  if (savedTz === undefined) delete process.env['TZ'];
  else process.env['TZ'] = savedTz;
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function readError(path: string): Promise<ImportFileError> {
  const error = await readImportFile(path).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImportFileError);
  return error as ImportFileError;
}

describe('the sample files', () => {
  it('reads the 2024 NPC batch row by row, with Excel row numbers and canonical headers', async () => {
    const sheet = await readImportFile(NPC_SAMPLE);
    expect(sheet.headerRow).toBe(1);
    expect(sheet.warnings).toEqual([]);
    expect(sheet.rows).toHaveLength(11);
    expect(sheet.rows.map((r) => r.row)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const last = sheet.rows[10];
    expect(last?.cells).toEqual({
      案号: '20240268', 类别: '建议', 届次: '市七届人大五次会议', 案由: '关于加强未成年保护的建议', 提出人: '黄振辉',
      办理类别: '主办', 主办单位: '市民政局', 会办单位: '', 交办日期: '2024-03-20', 答复期限: '', 公开情况: '主动公开',
    });
  });

  it('keeps commas inside the quoted titles of the 2021 CPPCC batch', async () => {
    const sheet = await readImportFile(CPPCC_SAMPLE);
    expect(sheet.rows).toHaveLength(8);
    const row3 = sheet.rows.find((r) => r.row === 3);
    expect(row3?.cells['案由']).toBe('关于补齐短板,提升“民生微实事”项目质效的提案');
    expect(row3?.cells['会办单位']).toBe('市委组织部;市财政局');
    expect(sheet.rows.find((r) => r.row === 8)?.cells['提出人']).toBe('民建深圳市委会');
  });
});

describe('an .xlsx kept by the office', () => {
  async function officeWorkbook(): Promise<string> {
    const workbook = new ExcelJS.Workbook();
    // A first sheet without a 案号 header (instructions) must be passed over.
    workbook.addWorksheet('填表说明').addRow(['请按模板填写，日期格式 2024-03-20']);
    const ws = workbook.addWorksheet('台账');
    ws.addRow(['2024年市人大代表建议办理台账']);
    ws.mergeCells('A1:L1');
    ws.addRow([]);
    ws.addRow([' 案由 ', '\u3000案号\u3000', '办理类别', '类别', '交办日期 ', '答复期限', '会办单位', '备注', '承办科室', '公开情况', '主办单位', '提出人']);
    ws.addRow([
      { richText: [{ text: '关于加快推进老年社会监护服务中心' }, { text: '相关立法及建设工作的建议', font: { bold: true } }] },
      20240562, '主办', '建议', new Date(Date.UTC(2024, 2, 20)), new Date(Date.UTC(2024, 5, 20, 15, 30)),
      '市市场监管局；市港澳办', '重点件', '养老服务处', '主动公开',
      { formula: '"市"&"民政局"', result: '市民政局' }, '黄振辉',
    ]);
    ws.addRow([]);
    ws.addRow(['关于加强未成年保护的建议', '２０２４０２６８', '分办', '人大建议', '２０２４－０３－２０', '', '', '', '', '', '', '']);
    // 交办日期 merged down two rows, as offices often do for a batch assigned on one day.
    ws.addRow(['关于构建养老机构综合监管机制的建议', '20240542', '主办', '建议', new Date(Date.UTC(2024, 2, 21)), '', '', '', '', '', '', '']);
    ws.addRow(['关于加快完善养老服务体系的建议', '20240261', '主办', '建议', null, '', '', '', '', '', '', '']);
    ws.mergeCells('E7:E8');
    const path = join(dir, 'office.xlsx');
    await workbook.xlsx.writeFile(path);
    return path;
  }

  it('finds the header under a title row, in any order and with spaces, and reports unknown columns', async () => {
    const sheet = await readImportFile(await officeWorkbook());
    expect(sheet.headerRow).toBe(3);
    expect(sheet.warnings).toEqual([{ row: 3, column: '备注', reason: '未识别的列（第H列），已忽略' }]);
    expect(sheet.rows.map((r) => r.row)).toEqual([4, 6, 7, 8]);
  });

  it('turns numbers, date cells, rich text and formula results into text', async () => {
    const sheet = await readImportFile(await officeWorkbook());
    const first = sheet.rows[0]?.cells;
    expect(first?.['案号']).toBe('20240562');
    expect(first?.['交办日期']).toBe('2024-03-20');
    expect(first?.['答复期限']).toBe('2024-06-20');
    expect(first?.['案由']).toBe('关于加快推进老年社会监护服务中心相关立法及建设工作的建议');
    expect(first?.['主办单位']).toBe('市民政局');
    expect(first?.['承办处室']).toBe('养老服务处');
    expect(first).not.toHaveProperty('备注');
    expect(sheet.rows[3]?.cells['交办日期']).toBe('2024-03-21');
  });

  it('validates into cases with half-width case numbers and dates', async () => {
    const { cases, problems } = validateRows(await readImportFile(await officeWorkbook()));
    expect(problems).toEqual([]);
    expect(cases.map((c) => [c.row, c.caseNo, c.kind, c.year, c.role, c.assignedDate])).toEqual([
      [4, '20240562', '建议', 2024, 'lead', '2024-03-20'],
      [6, '20240268', '建议', 2024, 'separate', '2024-03-20'],
      [7, '20240542', '建议', 2024, 'lead', '2024-03-21'],
      [8, '20240261', '建议', 2024, 'lead', '2024-03-21'],
    ]);
    expect(cases[0]).toMatchObject({
      assistingUnits: ['市市场监管局', '市港澳办'], unit: '养老服务处', fixedDueDate: '2024-06-20',
      proposer: '黄振辉', leadUnit: '市民政局', disclosure: '主动公开', session: '',
    });
    expect(cases[1]).toMatchObject({ unit: null, fixedDueDate: null, disclosure: null, assistingUnits: [] });
  });

  it('refuses a file that is not really an .xlsx', async () => {
    const error = await readError(await fileWith('broken.xlsx', 'this is not a zip'));
    expect(error.message).toBe('无法打开 Excel 文件“broken.xlsx”：文件可能已损坏、已加密或不是 .xlsx 格式');
    // A zip that is no workbook, and a workbook cut short, are refused the same way.
    const zipped = new ExcelJS.Workbook();
    zipped.addWorksheet('台账').addRow(['案号']);
    const bytes = new Uint8Array((await zipped.xlsx.writeBuffer()) as ArrayBuffer);
    const cut = await readError(await fileWith('cut.xlsx', bytes.subarray(0, Math.floor(bytes.length / 2))));
    expect(cut.message).toBe('无法打开 Excel 文件“cut.xlsx”：文件可能已损坏、已加密或不是 .xlsx 格式');
  });

  it('reads every kind of cell as Excel shows it, in the 1904 date system and with inline strings too', async () => {
    const header = ['案号', '类别', '案由', '办理类别', '交办日期', '答复期限', '提出人', '主办单位', '会办单位', '公开情况', '届次', '承办处室'];
    for (const [name, options] of [
      ['shared.xlsx', { date1904: false, stream: false }],
      ['date1904.xlsx', { date1904: true, stream: false }],
      ['inline.xlsx', { date1904: false, stream: true }],
    ] as const) {
      const path = join(dir, name);
      const workbook = options.stream ? new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: false, useStyles: true }) : new ExcelJS.Workbook();
      if (options.date1904) workbook.properties.date1904 = true;
      const ws = workbook.addWorksheet('台账');
      ws.addRow(header);
      ws.addRow([
        20240001, '建议', 'A & B <c> "q"', '主办', new Date(Date.UTC(2024, 2, 20)), new Date(Date.UTC(2024, 5, 20, 23, 59)),
        true, { formula: '1/0', result: { error: '#DIV/0!' } }, { text: '市财政局', hyperlink: 'https://example.invalid/' }, 1e21, 0.5, -5,
      ]);
      ws.getCell('K2').numFmt = 'h:mm';
      ws.getCell('L2').numFmt = '0.00"元"';
      ws.addRow([20240002, '建议', { richText: [{ text: '富' }, { text: '文本', font: { bold: true } }] }, '主办', 45371, '', false, '𠀀', 'line1\nline2', '  spaced  ']);
      ws.getCell('E3').numFmt = 'yyyy"年"m"月"d"日"';
      if (workbook instanceof ExcelJS.stream.xlsx.WorkbookWriter) {
        (ws as ExcelJS.Worksheet & { commit(): void }).commit();
        await workbook.commit();
      } else {
        await workbook.xlsx.writeFile(path);
      }
      const sheet = await readImportFile(path);
      expect(sheet.rows.map((r) => r.cells), name).toEqual([
        {
          案号: '20240001', 类别: '建议', 案由: 'A & B <c> "q"', 办理类别: '主办', 交办日期: '2024-03-20', 答复期限: '2024-06-20',
          // exceljs's streaming reader keeps no error code of a formula's cached result (it reads it as NaN).
          提出人: 'TRUE', 主办单位: '#公式错误', 会办单位: '市财政局', 公开情况: '1e+21', 届次: options.date1904 ? '1904-01-01' : '1899-12-30', 承办处室: '-5',
        },
        {
          // Of an inline rich text, exceljs's streaming reader keeps only the last run (Excel and WPS write shared strings).
          案号: '20240002', 类别: '建议', 案由: options.stream ? '文本' : '富文本', 办理类别: '主办', 交办日期: options.date1904 ? '2028-03-21' : '2024-03-20', 答复期限: '',
          提出人: 'FALSE', 主办单位: '𠀀', 会办单位: 'line1\nline2', 公开情况: '  spaced  ', 届次: '', 承办处室: '',
        },
      ]);
    }
  });
});

describe('a .csv saved by Excel', () => {
  it('reads UTF-8 with a BOM and CRLF, quotes with commas, doubled quotes and line breaks', async () => {
    const path = await fileWith(
      'bom-crlf.csv',
      '\uFEFF' +
        [
          HEADER,
          '20240562,建议,市七届人大五次会议,"关于加快推进老年社会监护服务中心相关立法及建设工作的建议",,主办,市民政局,,2024/3/20,,主动公开',
          '20240542,建议,,"关于构建""养老机构""综合监管机制,的建议",,主办,市民政局,"市市场监管局,市港澳办",2024年3月20日,,',
          '20240337,建议,,"第一行',
          '第二行",,主办,,,20240320,,',
          '',
          ',,,,,,,,,,',
          '20240114,建议,,关于建立居民小区物业管理公司参与居家养老服务的建议,,主办,,,2024.3.20,,',
        ].join('\r\n') +
        '\r\n',
    );
    const sheet = await readImportFile(path);
    expect(sheet.headerRow).toBe(1);
    expect(sheet.rows.map((r) => r.row)).toEqual([2, 3, 4, 7]);
    expect(sheet.rows[0]?.cells['案号']).toBe('20240562');
    expect(sheet.rows[1]?.cells['案由']).toBe('关于构建"养老机构"综合监管机制,的建议');
    expect(sheet.rows[1]?.cells['会办单位']).toBe('市市场监管局,市港澳办');
    expect(sheet.rows[2]?.cells['案由']).toBe('第一行\r\n第二行');

    const { cases, problems } = validateRows(sheet);
    expect(problems).toEqual([]);
    expect(cases.map((c) => c.assignedDate)).toEqual(['2024-03-20', '2024-03-20', '2024-03-20', '2024-03-20']);
    expect(cases[2]?.title).toBe('第一行 第二行');
  });

  it('reads a GBK file saved by Excel on Chinese Windows', async () => {
    const gbk = Buffer.from(
      'b0b8bac52cc0e0b1f02cb0b8d3c92cb0ecc0edc0e0b1f02cbdbbb0ecc8d5c6da0d0a32303234303236382cbda8d2e92cb9d8d3dabcd3c7bfceb4b3c9c4eab1a3bba4b5c4bda8d2e92cd6f7b0ec2c323032342d30332d32300d0a',
      'hex',
    );
    const sheet = await readImportFile(await fileWith('gbk.csv', gbk));
    expect(sheet.rows).toEqual([
      { row: 2, cells: { 案号: '20240268', 类别: '建议', 案由: '关于加强未成年保护的建议', 办理类别: '主办', 交办日期: '2024-03-20' } },
    ]);
  });

  it('accepts a title line, full-width headers and the 承办部门 alias', async () => {
    const path = await fileWith(
      'title.csv',
      '2021年政协提案汇总表,,,,,\n类别,案 由,办理类别,　交办日期,案号,承办部门\n提案,关于完善养老服务实现“老有颐养”的提案,主办,2021-03-10,20210375,养老服务处\n',
    );
    const sheet = await readImportFile(path);
    expect(sheet.headerRow).toBe(2);
    expect(sheet.rows).toEqual([
      {
        row: 3,
        cells: { 类别: '提案', 案由: '关于完善养老服务实现“老有颐养”的提案', 办理类别: '主办', 交办日期: '2021-03-10', 案号: '20210375', 承办处室: '养老服务处' },
      },
    ]);
  });

  it('says where a quote is left open', async () => {
    const error = await readError(await fileWith('open-quote.csv', `${HEADER}\n20240562,建议,,"关于…,,主办,,,2024-03-20,,\n`));
    expect(error.message).toMatch(/^CSV 文件“open-quote\.csv”有引号没有闭合（第\d+行附近）$/);
  });
});

describe('files that cannot be imported', () => {
  it('lists every missing required header', async () => {
    const error = await readError(await fileWith('missing.csv', '案号,案由,届次\n20240562,关于…,市七届人大五次会议\n'));
    expect(error.message).toBe('缺少必填列：类别、办理类别、交办日期（表头在第1行）');
  });

  it('lists what the likeliest header row lacks when there is no 案号 column', async () => {
    const error = await readError(await fileWith('no-case-no.csv', '台账\n编号,类别,案由,办理类别,交办日期\n1,建议,关于…,主办,2024-03-20\n'));
    expect(error.message).toBe('缺少必填列：案号（表头在第2行）');
  });

  it('says so when no header row can be found at all', async () => {
    const error = await readError(await fileWith('no-header.csv', 'a,b,c\n1,2,3\n'));
    expect(error.message).toBe('缺少必填列：案号、类别、案由、办理类别、交办日期（未找到表头行）');
  });

  it('refuses a header that appears twice, through an alias too', async () => {
    const error = await readError(await fileWith('twice.csv', `${HEADER},承办处室,承办科室\n`));
    expect(error.message).toBe('第1行表头中「承办处室」出现了两次（第L列和第M列），请删除多余的一列');
  });

  it('refuses unsupported extensions, with a hint for old Excel files', async () => {
    expect((await readError(await fileWith('cases.xls', 'x'))).message).toBe(
      '不支持的文件类型“.xls”：请在 Excel/WPS 中另存为 .xlsx 或“CSV UTF-8”后再导入',
    );
    expect((await readError(await fileWith('cases.txt', HEADER))).message).toBe('不支持的文件类型“.txt”：只支持 .xlsx 和 .csv 文件');
  });

  it('says a file is missing or empty', async () => {
    expect((await readError(join(dir, 'nowhere.csv'))).message).toBe('无法读取文件“nowhere.csv”：文件不存在');
    expect((await readError(await fileWith('empty.csv', ''))).message).toBe('文件“empty.csv”是空的');
  });
});

describe('helpers', () => {
  it('turns full-width ASCII forms half-width but leaves CJK quotes and the full stop alone', () => {
    expect(toHalfWidth('２０２４－０３－２０\u3000ＡＢ／ｃ')).toBe('2024-03-20 AB/c');
    expect(toHalfWidth('关于“一老一小”，。')).toBe('关于“一老一小”,。');
  });

  it('describes a problem the way a user reads it', () => {
    expect(describeProblem({ row: 5, column: '交办日期', reason: '无法识别的日期“2024-13-01”，请使用 2024-03-20 格式' })).toBe(
      '第5行「交办日期」：无法识别的日期“2024-13-01”，请使用 2024-03-20 格式',
    );
  });
});
