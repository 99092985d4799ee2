// A message as a list of tokens. The transport has already removed the @bot mention and replaced every other
// mention by `<at:OPEN_ID>`. Words that steer parsing are read from a full-width → half-width copy of the text; free
// text (notes, reasons, unit names) is cut from the text as typed, so Chinese punctuation such as `，` survives.

import { toHalfWidth } from '../../domain/text.ts';

export interface Token {
  /** After full-width normalisation; the whole `<at:…>` for a person. */
  text: string;
  /** Offset in the source text; normalisation keeps offsets, so free text can be cut from the original. */
  start: number;
  person: string | null;
}

/** The message split into tokens, with the text as typed kept for free text. */
export interface TokenizedText {
  /** The message as typed (minus zero-width characters), same length as the normalised copy. */
  source: string;
  tokens: Token[];
}

const TOKEN_RE = /<at:([^<>\s]+)>|(?:(?!<at:[^<>\s]+>)\S)+/g;

/** Splits a message into tokens; a leading `/` (as in `/认领`) is dropped. */
export function tokenizeMessage(text: string): TokenizedText {
  const source = String(text ?? '').replace(/[\u200B-\u200D\u2060\uFEFF]/g, '');
  return { source, tokens: stripLeadingSlash(tokenize(toHalfWidth(source))) };
}

function tokenize(norm: string): Token[] {
  const raw: Token[] = [];
  for (const m of norm.matchAll(TOKEN_RE)) {
    raw.push({ text: m[0], start: m.index, person: m[1] ?? null });
  }
  // "第 562 号" typed with spaces is still one case number.
  const tokens: Token[] = [];
  for (let i = 0; i < raw.length; i++) {
    const tok = raw[i]!;
    const next = raw[i + 1];
    const after = raw[i + 2];
    if (tok.text === '第' && next && /^\d+号?$/.test(next.text)) {
      const withSuffix = !next.text.endsWith('号') && after?.text === '号';
      tokens.push({ text: `第${next.text}${withSuffix ? '号' : ''}`, start: tok.start, person: null });
      i += withSuffix ? 2 : 1;
    } else if (/^第?\d+$/.test(tok.text) && next?.text === '号') {
      tokens.push({ text: `${tok.text}号`, start: tok.start, person: null });
      i += 1;
    } else {
      tokens.push(tok);
    }
  }
  return tokens;
}

function stripLeadingSlash(tokens: Token[]): Token[] {
  const first = tokens[0];
  if (first === undefined || first.person !== null || !first.text.startsWith('/')) return tokens;
  const text = first.text.replace(/^\/+/, '');
  const rest = tokens.slice(1);
  if (text === '') return rest;
  return [{ text, start: first.start + (first.text.length - text.length), person: null }, ...rest];
}

/** A token as quoted back to the user: a mention as @某人, anything else through `quote`. */
export function display(tok: Token): string {
  return tok.person !== null ? '@某人' : quote(tok.text);
}

/**
 * Typed text made safe to quote in an answer: angle brackets become full-width, so typed markup such as
 * `<at user_id="all">` cannot make the bot mention anyone when the answer is sent.
 */
export function quote(text: string): string {
  return text.replace(/</g, '＜').replace(/>/g, '＞');
}
