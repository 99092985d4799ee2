import type { CaseKind } from '../../domain/types.ts';
import { reject } from './args.ts';
import { display, type Token } from './tokens.ts';

// `[年份] [建议|提案]` of 统计 and 导出报告, in either order.

const KIND_WORDS: ReadonlyMap<string, CaseKind> = new Map<string, CaseKind>([
  ['建议', '建议'],
  ['人大建议', '建议'],
  ['代表建议', '建议'],
  ['提案', '提案'],
  ['政协提案', '提案'],
  ['委员提案', '提案'],
]);

/** A year (2024 or 2024年) and a kind, each at most once; `name` is the command's word, for messages. */
export function yearAndKind(name: string, args: Token[]): { year: number | null; kind: CaseKind | null } {
  let year: number | null = null;
  let kind: CaseKind | null = null;
  for (const tok of args) {
    if (tok.person !== null) reject(`“${name}”后面不需要@某人。`);
    const y = /^(\d{4})年?(度)?$/.exec(tok.text)?.[1];
    if (y !== undefined) {
      if (year !== null) reject(`一次只能${name}一个年份，请分开发送。`);
      year = Number(y);
      if (year < 2000 || year > 2100) reject(`“${display(tok)}”不像年份，请写四位年份，如 2024。`);
      continue;
    }
    const k = KIND_WORDS.get(tok.text);
    if (k !== undefined) {
      if (kind !== null && kind !== k) reject('建议和提案只能选一个；两者都要时不写类别即可。');
      kind = k;
      continue;
    }
    reject(`看不懂“${display(tok)}”。请写年份（如 2024）和类别（建议 或 提案），都可省略类别。`);
  }
  return { year, kind };
}
