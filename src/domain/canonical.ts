import { createHash, randomInt } from 'node:crypto';

/** JSON with object keys sorted at every depth: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(
      Object.keys(v as Record<string, unknown>)
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

// Crockford-like alphabet: no 0/O, 1/I/L, so ids survive being read aloud or retyped.
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';

export function newRequestId(): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return `CR-${s}`;
}

export const REQUEST_ID_PATTERN = /^CR-[2-9A-HJKMNP-TV-Z]{6}$/;

/** Text as PostgreSQL can store it: no U+0000, no half of a surrogate pair (people's free text, e.g. a reason). */
export function storableText(s: string): string {
  // eslint-disable-next-line no-control-regex -- U+0000 is exactly what must go
  return s.replace(/\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '');
}

/** The longest reason for a rejection we take, on every channel (the Teams card's box says 500 too). */
export const MAX_REASON_LENGTH = 500;

/**
 * Text as it may be shown: invisible format characters (bidi overrides and isolates such as
 * U+202E, U+061C, zero-width characters, U+FEFF, the soft hyphen) and control characters other
 * than newline and tab are made visible as `<U+202E>`, so a name cannot reorder or hide what a
 * card says around it.
 */
export function visibleText(s: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this shows
  return s.replace(/[\p{Cf}\u0000-\u0008\u000b-\u001f\u007f-\u009f]/gu, (c) => `<U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}>`);
}
