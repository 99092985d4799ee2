// Reads the cell text of an .xlsx workbook, and nothing else: no styles beyond "is this number a date", no formulas
// beyond their cached results, no drawing, no validation lists. An import needs each sheet as rows of text, and a
// full spreadsheet model (exceljs) spends seconds and a hundred MB building what it never looks at.
//
// An .xlsx is a zip of XML parts (ECMA-376): xl/workbook.xml lists the sheets, xl/_rels/workbook.xml.rels says which
// part each one is, xl/sharedStrings.xml holds the text cells point to, xl/styles.xml the number formats (a date is
// a number with a date format), and each xl/worksheets/sheetN.xml its rows.

import { inflateRawSync } from 'node:zlib';

/** One row of a sheet as text; `cells[0]` is column A. */
export interface XlsxRow {
  row: number;
  cells: string[];
}

export interface XlsxSheet {
  name: string;
  rows: XlsxRow[];
}

/** The workbook cannot be read as an .xlsx (not a zip, a part missing or malformed). */
export class XlsxFormatError extends Error {
  override name = 'XlsxFormatError';
}

/** Every worksheet of the workbook, in the workbook's order, as text rows (rows without any cell left out). */
export function readXlsxSheets(bytes: Uint8Array): XlsxSheet[] {
  const zip = new Zip(bytes);
  const rootRels = relationships(zip.text('_rels/.rels') ?? '', '');
  const workbookPath = rootRels.find((r) => r.type.endsWith('/officeDocument'))?.target ?? 'xl/workbook.xml';
  const workbook = zip.text(workbookPath);
  if (workbook === undefined) throw new XlsxFormatError(`no ${workbookPath}`);
  const base = workbookPath.slice(0, workbookPath.lastIndexOf('/') + 1);
  const rels = relationships(zip.text(`${base}_rels/${workbookPath.slice(base.length)}.rels`) ?? '', base);
  const partOf = (type: string) => rels.find((r) => r.type.endsWith(type))?.target;

  const strings = sharedStrings(zip.text(partOf('/sharedStrings') ?? `${base}sharedStrings.xml`) ?? '');
  const dateStyles = dateStyleIds(zip.text(partOf('/styles') ?? `${base}styles.xml`) ?? '');
  const workbookPr = /<(?:\w+:)?workbookPr\b([^>]*)>/.exec(workbook);
  const date1904 = /^(1|true)$/.test(attributes(workbookPr?.[1] ?? '').get('date1904') ?? '');

  const sheets: XlsxSheet[] = [];
  for (const m of workbook.matchAll(/<(?:\w+:)?sheet\b([^>]*?)\/?>/g)) {
    const attrs = attributes(m[1] ?? '');
    const relId = [...attrs].find(([k]) => k === 'r:id' || k.endsWith(':id'))?.[1];
    const rel = rels.find((r) => r.id === relId);
    // Chart sheets and dialog sheets have no cells.
    if (!rel || !rel.type.endsWith('/worksheet')) continue;
    const xml = zip.text(rel.target);
    if (xml === undefined) throw new XlsxFormatError(`no ${rel.target}`);
    sheets.push({ name: decodeXml(attrs.get('name') ?? ''), rows: sheetRows(xml, strings, dateStyles, date1904) });
  }
  return sheets;
}

// ---- zip ----

interface ZipEntry {
  method: number;
  compressedSize: number;
  localOffset: number;
}

/** The entries of a zip archive, read from its central directory; an entry is inflated when asked for. */
class Zip {
  readonly #bytes: Buffer;
  readonly #entries = new Map<string, ZipEntry>();

  constructor(bytes: Uint8Array) {
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#bytes = b;
    // The end-of-central-directory record: 22 bytes plus a comment of up to 65,535 bytes, at the very end.
    let eocd = -1;
    for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 0xffff); i--) {
      if (b.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new XlsxFormatError('not a zip archive');
    const count = b.readUInt16LE(eocd + 10);
    let p = b.readUInt32LE(eocd + 16);
    if (count === 0xffff || p === 0xffffffff) throw new XlsxFormatError('zip64 archives are not supported');
    for (let i = 0; i < count; i++) {
      if (p + 46 > b.length || b.readUInt32LE(p) !== 0x02014b50) throw new XlsxFormatError('broken zip directory');
      const nameLength = b.readUInt16LE(p + 28);
      const name = b.toString('utf8', p + 46, p + 46 + nameLength);
      this.#entries.set(name, { method: b.readUInt16LE(p + 10), compressedSize: b.readUInt32LE(p + 20), localOffset: b.readUInt32LE(p + 42) });
      p += 46 + nameLength + b.readUInt16LE(p + 30) + b.readUInt16LE(p + 32);
    }
  }

  /** An entry's content as UTF-8 text, or undefined when there is no such entry (names are matched case-insensitively). */
  text(name: string): string | undefined {
    const entry = this.#entries.get(name) ?? this.#entryIgnoringCase(name);
    if (!entry) return undefined;
    const b = this.#bytes;
    const at = entry.localOffset;
    if (at + 30 > b.length || b.readUInt32LE(at) !== 0x04034b50) throw new XlsxFormatError(`broken zip entry ${name}`);
    const start = at + 30 + b.readUInt16LE(at + 26) + b.readUInt16LE(at + 28);
    const data = b.subarray(start, start + entry.compressedSize);
    if (entry.method === 0) return data.toString('utf8');
    if (entry.method === 8) return inflateRawSync(data).toString('utf8');
    throw new XlsxFormatError(`zip method ${entry.method} is not supported`);
  }

  #entryIgnoringCase(name: string): ZipEntry | undefined {
    const wanted = name.toLowerCase();
    for (const [n, e] of this.#entries) if (n.toLowerCase() === wanted) return e;
    return undefined;
  }
}

// ---- XML helpers ----

/** The attributes of a start tag (the text between its name and its `>`), by qualified name. */
function attributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) out.set(m[1] as string, m[2] ?? m[3] ?? '');
  return out;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** XML character references and entities. */
function decodeXml(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (_, e: string) =>
    e[0] === '#' ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : (ENTITIES[e] as string),
  );
}

/** A string item's text: XML decoded, then Excel's own escapes for control characters (`_x000D_`). */
function decodeText(text: string): string {
  const out = decodeXml(text);
  return out.includes('_x') ? out.replace(/_x([0-9A-F]{4})_/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))) : out;
}

/** The text of every `<t>` inside a string item (plain or rich text), phonetic guides (`<rPh>`) left out. */
function runsText(xml: string): string {
  const body = xml.includes('<rPh') ? xml.replace(/<rPh\b[\s\S]*?<\/rPh>/g, '') : xml;
  let text = '';
  for (const m of body.matchAll(/<(?:\w+:)?t(?:\s[^>]*)?(?:\/>|>([\s\S]*?)<\/(?:\w+:)?t>)/g)) text += m[1] ?? '';
  return decodeText(text);
}

interface Relationship {
  id: string;
  type: string;
  /** The part's path inside the zip. */
  target: string;
}

/** The relationships of a part, targets resolved against `base` (the folder of the part they belong to). */
function relationships(xml: string, base: string): Relationship[] {
  const out: Relationship[] = [];
  for (const m of xml.matchAll(/<(?:\w+:)?Relationship\b([^>]*?)\/?>/g)) {
    const a = attributes(m[1] ?? '');
    const target = decodeXml(a.get('Target') ?? '');
    out.push({ id: a.get('Id') ?? '', type: a.get('Type') ?? '', target: resolvePart(base, target) });
  }
  return out;
}

function resolvePart(base: string, target: string): string {
  const parts = (target.startsWith('/') ? target.slice(1) : base + target).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '..') out.pop();
    else if (p !== '.' && p !== '') out.push(p);
  }
  return out.join('/');
}

function sharedStrings(xml: string): string[] {
  const out: string[] = [];
  for (const m of xml.matchAll(/<(?:\w+:)?si\b[^>]*?(?:\/>|>([\s\S]*?)<\/(?:\w+:)?si>)/g)) out.push(runsText(m[1] ?? ''));
  return out;
}

// Built-in number formats that show a date or a time (ECMA-376 18.8.30, with the East Asian ones).
const BUILTIN_DATE_FORMATS = new Set([14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 45, 46, 47, 50, 51, 52, 53, 54, 55, 56, 57, 58]);

/** Whether a custom number format shows a date or time: a date part outside quoted text and [colour/locale] tags. */
function isDateFormat(code: string): boolean {
  return /[ymdhMsb]/.test(code.replace(/\[[^\]]*]/g, '').replace(/"[^"]*"/g, ''));
}

/** The cell style indexes (`s` of a cell) whose number format is a date. */
function dateStyleIds(xml: string): Set<number> {
  const custom = new Map<number, string>();
  for (const m of xml.matchAll(/<(?:\w+:)?numFmt\b([^>]*?)\/?>/g)) {
    const a = attributes(m[1] ?? '');
    custom.set(Number(a.get('numFmtId')), decodeXml(a.get('formatCode') ?? ''));
  }
  const out = new Set<number>();
  const xfs = /<(?:\w+:)?cellXfs\b[^>]*>([\s\S]*?)<\/(?:\w+:)?cellXfs>/.exec(xml)?.[1] ?? '';
  let index = 0;
  for (const m of xfs.matchAll(/<(?:\w+:)?xf\b([^>]*?)\/?>/g)) {
    const id = Number(attributes(m[1] ?? '').get('numFmtId') ?? 0);
    const code = custom.get(id);
    if (code !== undefined ? isDateFormat(code) : BUILTIN_DATE_FORMATS.has(id)) out.add(index);
    index++;
  }
  return out;
}

// ---- sheets ----

/** Column index (A = 0) of a cell reference such as `AB12`. */
function columnIndex(ref: string): number {
  let n = 0;
  for (let i = 0; i < ref.length; i++) {
    const c = ref.charCodeAt(i);
    if (c < 65 || c > 90) break;
    n = n * 26 + (c - 64);
  }
  return n - 1;
}

/** An Excel date serial as the date it shows, YYYY-MM-DD (1900 or 1904 date system). */
function serialDate(serial: number, date1904: boolean): string {
  const date = new Date(Math.round((serial - 25569 + (date1904 ? 1462 : 0)) * 86_400_000));
  return isoDate(date);
}

function isoDate(date: Date): string {
  if (Number.isNaN(date.getTime())) return '无效日期';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

const ROW = /<(?:\w+:)?row\b([^>]*?)(?:\/>|>([\s\S]*?)<\/(?:\w+:)?row>)/g;
const CELL = /<(?:\w+:)?c\b([^>]*?)(?:\/>|>([\s\S]*?)<\/(?:\w+:)?c>)/g;
const VALUE = /<(?:\w+:)?v(?:\s[^>]*)?>([\s\S]*?)<\/(?:\w+:)?v>/;
const INLINE = /<(?:\w+:)?is\b[^>]*>([\s\S]*?)<\/(?:\w+:)?is>/;

/** The attributes of a cell that matter here: its reference (r), type (t) and style (s). */
interface CellAttributes {
  r?: string;
  t?: string;
  s?: string;
}

const CELL_ATTRIBUTE = /(?:^|\s)([rts])\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

// Read for every cell, so kept to the three names (a general attribute map costs a tenth of the whole read).
function cellAttributes(text: string): CellAttributes {
  const out: CellAttributes = {};
  CELL_ATTRIBUTE.lastIndex = 0;
  for (let m = CELL_ATTRIBUTE.exec(text); m; m = CELL_ATTRIBUTE.exec(text)) out[m[1] as 'r' | 't' | 's'] = m[2] ?? m[3] ?? '';
  return out;
}

/** A cell's text, as a person sees it in Excel: numbers in full, dates as YYYY-MM-DD, formulas by their last result. */
function cellText(attrs: CellAttributes, body: string, strings: string[], dateStyles: Set<number>, date1904: boolean): string {
  const type = attrs.t ?? 'n';
  if (type === 'inlineStr') {
    const is = INLINE.exec(body);
    return is ? runsText(is[1] ?? '') : '';
  }
  const v = VALUE.exec(body)?.[1];
  if (v === undefined) return '';
  switch (type) {
    case 's':
      return strings[Number(v)] ?? '';
    case 'str':
    case 'e':
      return decodeXml(v);
    case 'b':
      return Number(v) !== 0 ? 'TRUE' : 'FALSE';
    case 'd':
      return isoDate(new Date(decodeXml(v)));
    default: {
      const n = parseFloat(v);
      if (Number.isNaN(n)) return '';
      return dateStyles.has(Number(attrs.s ?? 0)) ? serialDate(n, date1904) : String(n);
    }
  }
}

function sheetRows(xml: string, strings: string[], dateStyles: Set<number>, date1904: boolean): XlsxRow[] {
  const byNumber = new Map<number, string[]>();
  let rowNumber = 0;
  const dataStart = xml.search(/<(?:\w+:)?sheetData\b/);
  ROW.lastIndex = dataStart < 0 ? xml.length : dataStart;
  for (let m = ROW.exec(xml); m; m = ROW.exec(xml)) {
    const r = /\br="(\d+)"/.exec(m[1] ?? '');
    rowNumber = r ? Number(r[1]) : rowNumber + 1;
    const cells: string[] = [];
    let col = -1;
    const body = m[2] ?? '';
    CELL.lastIndex = 0;
    for (let c = CELL.exec(body); c; c = CELL.exec(body)) {
      const attrs = cellAttributes(c[1] ?? '');
      const ref = attrs.r;
      col = ref ? columnIndex(ref) : col + 1;
      if (col < 0) continue;
      const text = cellText(attrs, c[2] ?? '', strings, dateStyles, date1904);
      if (text !== '') cells[col] = text;
    }
    if (cells.length > 0) byNumber.set(rowNumber, cells);
  }
  applyMerges(xml, byNumber);
  return [...byNumber.keys()].sort((a, b) => a - b).map((row) => {
    const cells = byNumber.get(row) as string[];
    return { row, cells: Array.from(cells, (c) => c ?? '') };
  });
}

/** Every cell of a merged range shows the range's top-left value (a date merged down several rows applies to each). */
function applyMerges(xml: string, byNumber: Map<number, string[]>): void {
  for (const m of xml.matchAll(/<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"/g)) {
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
