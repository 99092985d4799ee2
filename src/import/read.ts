// Reading half of the case import: a file on disk → raw text cells keyed by canonical header.
// Nothing here judges the values; validate.ts does that. The only side effect is reading the file.

import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { CsvError } from 'csv-parse';
import { parse as parseCsv } from 'csv-parse/sync';
import { toHalfWidth } from '../domain/text.ts';
import { readXlsxSheets } from './xlsx.ts';

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
  const grids = ext === '.csv' ? [csvGrid(bytes, name)] : await xlsxGrids(bytes, name);
  return sheetFromGrids(grids);
}

/** One row of a sheet as text, before headers are known; `cells[0]` is column A. */
interface GridRow {
  row: number;
  cells: string[];
}

function csvGrid(bytes: Buffer, name: string): GridRow[] {
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
  let sheets;
  try {
    sheets = readXlsxSheets(bytes);
  } catch {
    throw new ImportFileError(`无法打开 Excel 文件“${name}”：文件可能已损坏、已加密或不是 .xlsx 格式`);
  }
  if (sheets.length === 0) throw new ImportFileError(`Excel 文件“${name}”中没有工作表`);
  return sheets.map((s) => s.rows);
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
