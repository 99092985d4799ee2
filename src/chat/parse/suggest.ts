// "Did you mean": the registered command closest to text we did not understand.

import type { AnyCommand } from '../command.ts';
import { COMMANDS } from '../registry.ts';
import { display, type Token } from './tokens.ts';

/** What the user typed, as quoted back in "没有看懂…" (at most 30 characters). */
export function notUnderstoodEcho(tokens: Token[]): string {
  const echo = tokens.map(display).join(' ');
  return [...echo].length > 30 ? `${[...echo].slice(0, 30).join('')}…` : echo;
}

const isCjk = (s: string): boolean => /[\u4e00-\u9fff]/.test(s);

/** The command the user most likely meant, or null when nothing comes close. */
export function closestCommand(tokens: Token[]): AnyCommand | null {
  const first = tokens[0];
  if (first === undefined || first.person !== null) return null;
  // The word the user meant as a command, without a case number glued to it ("认岭20240562").
  const word = [...(first.text.toLowerCase().replace(/[第\d].*$/, '') || first.text.toLowerCase())].slice(0, 20).join('');

  // "?" is left out: every one-character word is one edit away from it.
  const candidates = COMMANDS.flatMap((command: AnyCommand) =>
    command.words.filter((name) => name !== '?').map((name) => ({ command, name: name.toLowerCase() })),
  );
  const distances = candidates.map((c) => ({ ...c, distance: editDistance(word, c.name) }));
  const nearest = (limit: (name: string) => number): AnyCommand | null => {
    let best: { command: AnyCommand; distance: number } | null = null;
    for (const c of distances) {
      if (c.distance <= limit(c.name) && (best === null || c.distance < best.distance)) best = c;
    }
    return best?.command ?? null;
  };

  // A one-character slip ("认岭", "relase") is the strongest hint.
  const typo = nearest(() => 1);
  if (typo !== null) return typo;

  // "我想认领20240562": a command word somewhere in the text; the longest one names the intent best.
  const whole = tokens.map(display).join(' ');
  const contained = candidates
    .filter(({ name }) => isCjk(name) && whole.includes(name))
    .sort((a, b) => b.name.length - a.name.length)[0];
  if (contained !== undefined) return contained.command;

  const near = nearest((name) => (isCjk(name) ? Math.floor([...name].length / 2) : Math.max(1, Math.floor(name.length / 3))));
  if (near !== null) return near;

  const initial = [...word][0];
  if (initial !== undefined && isCjk(initial)) {
    for (const command of COMMANDS as readonly AnyCommand[]) {
      if (command.words.some((name) => name.startsWith(initial))) return command;
    }
  }
  return null;
}

function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = row;
  }
  return prev[y.length]!;
}
