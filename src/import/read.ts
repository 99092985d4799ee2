// Reading half of the case import: a file on disk → raw text cells keyed by canonical header.
// Nothing here judges the values; validate.ts does that. The only side effect is reading the file.

import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { Readable } from 'node:stream';
import type { Cell, CellValue, stream as ExcelStream } from 'exceljs';
import { toHalfWidth } from '../domain/text.ts';

/** Shared with chat (see src/domain/text.ts); kept here for the importer's callers. */
export { toHalfWidth } from '../domain/text.ts';

export interface ImportProblem {
  /** 1-based row number in the file, as a user sees it in Excel. */
  row: number;
  /** The canonical header (or, for an unknown column, the header as written). */
  column: string;
  /** Simplified Chinese. */
  reason: string;
}

export interface RawRow {
  /** 1-based row number in the file, as a user sees it in Excel. */
  row: number;
  /** Keyed by canonical header; only headers present in the file appear. */
  cells: Record<string, string>;
}

export interface RawSheet {
  rows: RawRow[];
  headerRow: number;
  warnings: ImportProblem[];
}

/** The file as a whole cannot be imported; the message is Chinese and meant for the user. */
export class ImportFileError extends Error {
  override name = 'ImportFileError';
}

export const REQUIRED_HEADERS = ['案号', '类别', '案由', '办理类别', '交办日期'] as const;
export const OPTIONAL_HEADERS = ['届次', '提出人', '主办单位', '会办单位', '答复期限', '公开情况', '承办处室'] as const;
export type ImportHeader = (typeof REQUIRED_HEADERS)[number] | (typeof OPTIONAL_HEADERS)[number];

const HEADER_BY_NAME: ReadonlyMap<string, ImportHeader> = new Map<string, ImportHeader>([
  ...REQUIRED_HEADERS.map((h) => [h, h] as const),
  ...OPTIONAL_HEADERS.map((h) => [h, h] as const),
  ['承办科室', '承办处室'],
  ['承办部门', '承办处室'],
]);

/** How a problem reads to a user: `第5行「交办日期」：…`. */
export function describeProblem(problem: ImportProblem): string {
  return `第${problem.row}行「${problem.column}」：${problem.reason}`;
}

/** Reads an .xlsx or .csv file into raw text cells keyed by canonical header; throws ImportFileError (with a Chinese
 *  message) for an unreadable file, an unsupported extension, or a missing required header (list every missing one). */
export async function readImportFile(path: string): Promise<RawSheet> {
  const { name, bytes } = await readImportFileBytes(path);
  return readImportBytes(name, bytes);
}

/** The bytes of an .xlsx or .csv file, unread; throws ImportFileError for an unsupported extension or a file that cannot
 *  be read. */
export async function readImportFileBytes(path: string): Promise<{ name: string; bytes: Buffer }> {
  const name = basename(path);
  const ext = extname(path).toLowerCase();
  if (ext !== '.xlsx' && ext !== '.csv') {
    const hint = ext === '.xls' || ext === '.et' || ext === '.wps' ? '请在 Excel/WPS 中另存为 .xlsx 或“CSV UTF-8”后再导入' : '只支持 .xlsx 和 .csv 文件';
    throw new ImportFileError(`不支持的文件类型“${ext || '（无扩展名）'}”：${hint}`);
  }
  try {
    return { name, bytes: await readFile(path) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? '文件不存在' : code === 'EACCES' || code === 'EPERM' ? '没有读取权限' : code === 'EISDIR' ? '这是一个文件夹' : '读取失败';
    throw new ImportFileError(`无法读取文件“${name}”：${why}`);
  }
}

/** The file types an import accepts, by extension. */
export function importFileType(fileName: string): '.xlsx' | '.csv' | null {
  const ext = extname(fileName).toLowerCase();
  return ext === '.xlsx' || ext === '.csv' ? ext : null;
}

/** Reads the bytes of an .xlsx or .csv file named `name` (a file sent in chat, or read from disk), as readImportFile. */
export async function readImportBytes(name: string, bytes: Buffer): Promise<RawSheet> {
  const ext = importFileType(name);
  if (!ext) {
    const other = extname(name).toLowerCase();
    const hint = other === '.xls' || other === '.et' || other === '.wps' ? '请在 Excel/WPS 中另存为 .xlsx 或“CSV UTF-8”后再导入' : '只支持 .xlsx 和 .csv 文件';
    throw new ImportFileError(`不支持的文件类型“${other || '（无扩展名）'}”：${hint}`);
  }
  if (bytes.length === 0) throw new ImportFileError(`文件“${name}”是空的`);
  const grids = ext === '.csv' ? [await csvGrid(bytes, name)] : await xlsxGrids(bytes, name);
  return sheetFromGrids(grids);
}

/** One row of a sheet as text, before headers are known; `cells[0]` is column A. */
interface GridRow {
  row: number;
  cells: string[];
}

async function csvGrid(bytes: Buffer, name: string): Promise<GridRow[]> {
  // Loaded here, as exceljs is for .xlsx: the service carries neither until someone imports a file.
  const [{ CsvError }, { parse: parseCsv }] = await Promise.all([import('csv-parse'), import('csv-parse/sync')]);
  let records: string[][];
  try {
    records = parseCsv(decodeCsv(bytes), {
      bom: true,
      relax_column_count: true,
      relax_quotes: true,
      // Empty lines are kept so that record i is row i + 1, as Excel numbers the rows when it opens the file.
      skip_empty_lines: false,
      record_delimiter: ['\r\n', '\n', '\r'],
    }) as string[][];
  } catch (err) {
    if (err instanceof CsvError) {
      const line = typeof err['lines'] === 'number' ? `（第${err['lines']}行附近）` : '';
      const why = err.code === 'CSV_QUOTE_NOT_CLOSED' ? '有引号没有闭合' : '格式无法解析';
      throw new ImportFileError(`CSV 文件“${name}”${why}${line}`);
    }
    throw err;
  }
  return records.map((cells, i) => ({ row: i + 1, cells }));
}

// Excel on Chinese Windows saves "CSV (逗号分隔)" as GBK; rather than reading it as mojibake (which would surface as
// a confusing "missing header"), fall back to GB18030 when the bytes are not valid UTF-8.
function decodeCsv(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('gb18030').decode(bytes);
  }
}

async function xlsxGrids(bytes: Buffer, name: string): Promise<GridRow[][]> {
  let grids: GridRow[][];
  try {
    grids = await readXlsxGrids(bytes);
  } catch {
    throw new ImportFileError(`无法打开 Excel 文件“${name}”：文件可能已损坏、已加密或不是 .xlsx 格式`);
  }
  if (grids.length === 0) throw new ImportFileError(`Excel 文件“${name}”中没有工作表`);
  return grids;
}

// ---- .xlsx through exceljs's streaming reader ----
// Rows are read as they stream out of the zip and turned into text at once; no workbook model is built. Styles are
// read only for their number formats (a date is a number with a date format); hyperlinks are left out.

type WorkbookReader = ExcelStream.xlsx.WorkbookReader;
const WORKBOOK_READER: string = 'exceljs/lib/stream/xlsx/workbook-reader.js';
type WorksheetEvent = { eventType: string; value: unknown };

/** Every worksheet as text rows (rows without any cell left out), in the order the workbook file stores them. */
async function readXlsxGrids(bytes: Buffer): Promise<GridRow[][]> {
  // Loaded on first use: an idle service never pays for exceljs. The streaming reader's own module, not exceljs's
  // index: that would also load the writers and the workbook model (about 0.25 s and 10 MB more).
  const { default: WorkbookReader } = (await import(WORKBOOK_READER)) as { default: typeof ExcelStream.xlsx.WorkbookReader };
  const reader = new WorkbookReader(Readable.from([bytes]), {
    worksheets: 'emit',
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
    entries: 'ignore',
  });
  const merges = collectMerges(reader);
  const grids: GridRow[][] = [];
  for await (const worksheet of reader) {
    const byNumber = new Map<number, string[]>();
    for await (const row of worksheet) {
      const cells: string[] = [];
      row.eachCell({ includeEmpty: false }, (cell, col) => {
        const text = cellText(cell);
        if (text !== '') cells[col - 1] = text;
      });
      if (cells.length > 0) byNumber.set(row.number, cells);
    }
    applyMerges(merges.get(worksheet) ?? [], byNumber);
    grids.push(
      [...byNumber.keys()].sort((a, b) => a - b).map((row) => ({ row, cells: Array.from(byNumber.get(row) as string[], (c) => c ?? '') })),
    );
  }
  // A zip cut short inside an entry fails the stream (FILE_ENDED); one cut between entries ends quietly, and then the
  // workbook part it lacks (exceljs writes it last) shows it.
  if (!(reader as unknown as { model?: unknown }).model) throw new Error('no xl/workbook.xml');
  return grids;
}

/** A cell's text, as a person sees it in Excel: numbers in full, dates as YYYY-MM-DD, formulas by their last result. */
function cellText(cell: Cell): string {
  const value: CellValue = cell.value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isNaN(value) ? '' : String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return dateText(value);
  if ('richText' in value) return value.richText.map((run) => run.text ?? '').join('');
  if ('error' in value) return value.error;
  if ('formula' in value || 'sharedFormula' in value) {
    // The cell's value drops a result that is 0 or NaN; `cell.result` keeps it. A cell of a shared formula other than
    // its first has an empty formula and comes as a plain object that keeps its result.
    const result: unknown = cell.result ?? value.result;
    if (typeof result === 'number') {
      // exceljs reads every cached result that is not text as a number: an error result (#DIV/0!) comes back NaN.
      if (Number.isNaN(result)) return FORMULA_ERROR;
      return isDateFormat(cell.numFmt) ? dateText(serialDate(result, cell)) : String(result);
    }
    return typeof result === 'string' ? result : '';
  }
  // A hyperlink's text may itself be rich text.
  if ('hyperlink' in value) return typeof value.text === 'string' ? value.text : '';
  return '';
}

/** What a formula whose cached result is an Excel error shows: exceljs's streaming reader keeps no error code. */
const FORMULA_ERROR = '#公式错误';

/** Whether a number format shows a date or time (exceljs's own rule for plain cells, applied to formula results). */
function isDateFormat(format: string | undefined): boolean {
  return !!format && /[ymdhMsb]/.test(format.replace(/\[[^\]]*]/g, '').replace(/"[^"]*"/g, ''));
}

function serialDate(serial: number, cell: Cell): Date {
  const date1904 = (cell.worksheet.workbook as unknown as { properties?: { model?: { date1904?: boolean } } }).properties?.model?.date1904 === true;
  return new Date(Math.round((serial - 25569 + (date1904 ? 1462 : 0)) * 86_400_000));
}

// exceljs turns an Excel date serial into a Date at that wall-clock time in UTC; reading the UTC fields gives the
// date the user typed, whatever timezone this process runs in.
function dateText(date: Date): string {
  if (Number.isNaN(date.getTime())) return '无效日期';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

/** The merged ranges (`A1:B2`) of each worksheet the reader emits, known once the worksheet has been read.
 *  exceljs's streaming reader passes over `<mergeCell>` elements, so each worksheet part's bytes are also searched for
 *  the `<mergeCells>` list, which follows the rows; only that tail of the part is looked at. */
function collectMerges(reader: WorkbookReader): WeakMap<object, string[]> {
  const merges = new WeakMap<object, string[]>();
  const internal = reader as unknown as { _parseWorksheet(iterator: AsyncIterable<Buffer>, sheetNo: string): Iterable<WorksheetEvent> };
  const parseWorksheet = internal._parseWorksheet.bind(reader);
  internal._parseWorksheet = function* (iterator, sheetNo) {
    const refs: string[] = [];
    for (const event of parseWorksheet(mergeRefs(iterator, refs), sheetNo)) {
      if (event.eventType === 'worksheet' && typeof event.value === 'object' && event.value) merges.set(event.value, refs);
      yield event;
    }
  };
  return merges;
}

const MERGE_LIST = Buffer.from('<mergeCells');

/** Passes a worksheet part's chunks through unchanged, adding the ref of every `<mergeCell>` in it to `refs`. */
async function* mergeRefs(chunks: AsyncIterable<Buffer>, refs: string[]): AsyncGenerator<Buffer> {
  const tail: Buffer[] = [];
  let previous: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    yield chunk;
    if (tail.length > 0) {
      tail.push(chunk);
      continue;
    }
    const at = chunk.indexOf(MERGE_LIST);
    if (at >= 0) {
      tail.push(chunk.subarray(at));
      continue;
    }
    // The marker may straddle two chunks.
    const seam = Buffer.concat([previous, chunk.subarray(0, MERGE_LIST.length - 1)]);
    const seamAt = seam.indexOf(MERGE_LIST);
    if (seamAt >= 0) tail.push(seam.subarray(seamAt, previous.length), chunk);
    else previous = chunk.subarray(Math.max(0, chunk.length - (MERGE_LIST.length - 1)));
  }
  if (tail.length === 0) return;
  for (const m of Buffer.concat(tail).toString('utf8').matchAll(/<mergeCell\b[^>]*?\bref="([A-Z]+\d+:[A-Z]+\d+)"/g)) refs.push(m[1] as string);
}

/** Every cell of a merged range shows the range's top-left value (a date merged down several rows applies to each). */
function applyMerges(refs: string[], byNumber: Map<number, string[]>): void {
  for (const ref of refs) {
    const m = /^([A-Z]+)(\d+):([A-Z]+)(\d+)$/.exec(ref);
    if (!m) continue;
    const [c1, r1, c2, r2] = [columnIndex(m[1] as string), Number(m[2]), columnIndex(m[3] as string), Number(m[4])];
    const value = byNumber.get(r1)?.[c1];
    if (value === undefined || value === '') continue;
    // A range over whole columns is someone's formatting, not data: only rows that exist take its value then.
    const small = (r2 - r1 + 1) * (c2 - c1 + 1) <= 100_000;
    for (let r = r1; r <= r2; r++) {
      let cells = byNumber.get(r);
      if (!cells) {
        if (!small) continue;
        cells = [];
        byNumber.set(r, cells);
      }
      for (let c = c1; c <= c2; c++) cells[c] = value;
    }
  }
}

/** Column index (A = 0) of column letters such as `AB`. */
function columnIndex(letters: string): number {
  let n = 0;
  for (let i = 0; i < letters.length; i++) n = n * 26 + (letters.charCodeAt(i) - 64);
  return n - 1;
}

function headerKey(text: string): string {
  return toHalfWidth(text).replace(/\s+/g, '');
}

function isCaseNoHeaderRow(row: GridRow): boolean {
  return row.cells.some((c) => headerKey(c) === '案号');
}

/** Picks the first sheet with a 案号 header row (else the first sheet, to report what it lacks) and maps its rows. */
function sheetFromGrids(grids: GridRow[][]): RawSheet {
  const grid = grids.find((g) => g.some(isCaseNoHeaderRow)) ?? grids[0] ?? [];
  const header = grid.find(isCaseNoHeaderRow) ?? likeliestHeaderRow(grid);
  if (!header) throw new ImportFileError(`缺少必填列：${REQUIRED_HEADERS.join('、')}（未找到表头行）`);

  const columns = new Map<ImportHeader, number>();
  const warnings: ImportProblem[] = [];
  header.cells.forEach((text, index) => {
    const key = headerKey(text);
    if (key === '') return;
    const canonical = HEADER_BY_NAME.get(key);
    if (!canonical) {
      warnings.push({ row: header.row, column: text.trim(), reason: `未识别的列（第${columnLetter(index)}列），已忽略` });
      return;
    }
    const earlier = columns.get(canonical);
    if (earlier !== undefined) {
      throw new ImportFileError(
        `第${header.row}行表头中「${canonical}」出现了两次（第${columnLetter(earlier)}列和第${columnLetter(index)}列），请删除多余的一列`,
      );
    }
    columns.set(canonical, index);
  });
  const missing = REQUIRED_HEADERS.filter((h) => !columns.has(h));
  if (missing.length > 0) {
    throw new ImportFileError(`缺少必填列：${missing.join('、')}（表头在第${header.row}行）`);
  }

  const rows: RawRow[] = [];
  for (const gridRow of grid) {
    if (gridRow.row <= header.row) continue;
    const cells: Record<string, string> = {};
    let blank = true;
    for (const [canonical, index] of columns) {
      const text = gridRow.cells[index] ?? '';
      cells[canonical] = text;
      if (text.trim() !== '') blank = false;
    }
    if (!blank) rows.push({ row: gridRow.row, cells });
  }
  return { rows, headerRow: header.row, warnings };
}

// Without a 案号 column, the row naming the most known headers is the one the user meant as the header, so the
// error can list exactly what that row lacks.
function likeliestHeaderRow(grid: GridRow[]): GridRow | undefined {
  let best: GridRow | undefined;
  let bestCount = 0;
  for (const row of grid.slice(0, 20)) {
    const count = row.cells.filter((c) => HEADER_BY_NAME.has(headerKey(c))).length;
    if (count > bestCount) {
      best = row;
      bestCount = count;
    }
  }
  return best;
}

function columnLetter(index: number): string {
  let n = index + 1;
  let letters = '';
  while (n > 0) {
    const rem = (n - 1) % 26;
    letters = String.fromCharCode(65 + rem) + letters;
    n = Math.floor((n - 1) / 26);
  }
  return letters;
}
