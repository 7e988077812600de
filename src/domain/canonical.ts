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
