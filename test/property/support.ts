// Shared generators and assertions for the hostile-input properties (#7).
// Grammar generators build valid inputs (which must be accepted: the round-trip half of each
// property); the mutators turn a valid input into a near-valid hostile one (which must be refused).
import fc from 'fast-check';

// Reproduce a reported failure: FC_SEED=<seed> [FC_PATH=<path>] npm test -- test/property/<file>
// CI runs one fixed seed, so a landing is never decided by the draw; local runs draw anew and
// print the seed of any failure.
const seed = process.env.FC_SEED ?? (process.env.CI ? '20261201' : undefined);
if (seed) fc.configureGlobal({ seed: Number(seed), ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}) });

/** fast-check settings for the pure (unit) properties: reproducible from the printed seed. */
export const UNIT_RUNS = { numRuns: 150 } as const;

// --- hostile text -----------------------------------------------------------------------------

/** Characters and fragments that have broken chat bots and URL parsers before. */
export const NASTY = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<@U0ALEX>',
  '<https://evil.example|your bank>',
  '<at>cmk-bot</at>',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '\u0000',
  '\u0007',
  '\u001b[31m',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u200b',
  '\u200e',
  '\u202e',
  '\u2028',
  '\ufeff',
  '\ud800',
  '\udfff',
  '\t',
  '\r\n',
  '\\',
  '/',
  '//',
  '/../',
  '/./',
  '%2F',
  '%00',
  '%',
  '?',
  '#',
  '&',
  '*',
  '{{$root}}',
  '${root}',
  '`',
  '"',
  "'; DROP TABLE change_requests; --",
  '𝐚',
  '👍🏽',
  'é',
  'е', // Cyrillic e
  'K', // Kelvin sign
  'ſ', // long s
] as const;

export const nasty = () => fc.constantFrom(...NASTY);

/** Any text a user or a forged client might send, from plain ASCII to lone surrogates. */
export function hostileText(maxLength = 200): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength }) },
    { weight: 2, arbitrary: fc.array(fc.oneof(nasty(), fc.string({ maxLength: 8 })), { maxLength: 12 }).map((a) => a.join('')) },
    { weight: 1, arbitrary: fc.tuple(nasty(), fc.integer({ min: 1000, max: 100_000 })).map(([s, n]) => s.repeat(Math.ceil(n / s.length)).slice(0, n)) },
  );
}

// --- mutations of valid input ----------------------------------------------------------------

/** Latin letters and their Cyrillic/Greek look-alikes. */
export const HOMOGLYPHS: Record<string, string> = { a: 'а', c: 'с', e: 'е', i: 'і', o: 'о', p: 'р', s: 'ѕ', x: 'х', y: 'у', A: 'А', B: 'В', E: 'Е', K: 'К', M: 'М', O: 'О', P: 'Р', T: 'Т', '-': '‐', '.': '．', '/': '∕' };

/** Replaces one character that has a look-alike; undefined when the string has none. */
export function homoglyph(s: string, at: number): string | undefined {
  const idx = [...s].map((c, i) => (HOMOGLYPHS[c] ? i : -1)).filter((i) => i >= 0);
  if (!idx.length) return undefined;
  const chars = [...s];
  const i = idx[at % idx.length]!;
  chars[i] = HOMOGLYPHS[chars[i]!]!;
  return chars.join('');
}

/** Inserts `piece` at a position (as a fraction of the length). */
export const insertAt = (s: string, piece: string, frac: number) => {
  const i = Math.floor(frac * (s.length + 1));
  return s.slice(0, i) + piece + s.slice(i);
};

/**
 * Near-valid variants of a valid string: something inserted, a look-alike, a huge repeat,
 * a prototype key, a mention. Not all are invalid for every grammar; callers that need an invalid
 * value filter with their own knowledge of the grammar, or use a targeted mutator.
 */
export function mutated(valid: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.tuple(nasty(), fc.double({ min: 0, max: 1, noNaN: true })).map(([n, f]) => insertAt(valid, n, f)),
    fc.nat().map((n) => homoglyph(valid, n) ?? `${valid}\u0000`),
    fc.integer({ min: 2, max: 3000 }).map((n) => valid.repeat(n)),
    nasty(),
    fc.constant(''),
    hostileText(60),
  );
}

// --- valid grammar ---------------------------------------------------------------------------

const chars = (alphabet: string, minLength: number, maxLength: number) => fc.string({ unit: fc.constantFrom(...alphabet), minLength, maxLength });
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const HEX = '0123456789abcdef';
const ALNUM = `${LOWER}${LOWER.toUpperCase()}${DIGITS}`;

export const guid = () => fc.uuid();
export const hex32 = () => fc.tuple(chars(HEX, 32, 32), fc.boolean()).map(([h, up]) => (up ? h.toUpperCase() : h));
/** Resource group: letters, digits, - _ . ( ), 1-90, not ending in a period. */
export const resourceGroupName = () => chars(`${ALNUM}-_.()`, 1, 90).filter((s) => !s.endsWith('.') && !/^\.+$/.test(s));
/** Fluid Relay server name: 3-50 letters, digits, hyphens, alphanumeric at both ends. */
export const serverName = () => fc.tuple(chars(ALNUM, 1, 1), chars(`${ALNUM}-`, 1, 48), chars(ALNUM, 1, 1)).map((p) => p.join(''));
export const identityName = () => fc.tuple(chars(ALNUM, 1, 1), chars(`${ALNUM}-_`, 2, 60)).map((p) => p.join(''));
export const storageName = () => chars(`${LOWER}${DIGITS}`, 3, 24);
export const experimentName = () => chars(`${ALNUM}-_.`, 1, 63).filter((s) => !/^\.+$/.test(s));
export const vmName = () => fc.tuple(chars(ALNUM, 1, 1), chars(`${ALNUM}-`, 0, 40)).map((p) => p.join(''));
export const region = () => fc.constantFrom('eastus', 'westus', 'westeurope', 'northeurope', 'eastus2', 'uksouth', 'japaneast');
export const requestId = () => chars('23456789ABCDEFGHJKMNPQRSTVWXYZ', 6, 6).map((s) => `CR-${s}`);

export const identityId = (sub: string, rg: string, name: string) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
export const fluidRelayId = (sub: string, rg: string, name: string) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.FluidRelay/fluidRelayServers/${name}`;
export const storageId = (sub: string, rg: string, name: string) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Storage/storageAccounts/${name}`;
export const experimentId = (sub: string, rg: string, name: string) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Chaos/experiments/${name}`;
export const vmId = (sub: string, rg: string, name: string) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;

export const validIdentityId = () => fc.tuple(guid(), resourceGroupName(), identityName()).map(([s, r, n]) => identityId(s, r, n));
export const validFluidRelayId = () => fc.tuple(guid(), resourceGroupName(), serverName()).map(([s, r, n]) => fluidRelayId(s, r, n));
export const validStorageId = () => fc.tuple(guid(), resourceGroupName(), storageName()).map(([s, r, n]) => storageId(s, r, n));
export const validExperimentId = () => fc.tuple(guid(), resourceGroupName(), experimentName()).map(([s, r, n]) => experimentId(s, r, n));
export const validVmId = () => fc.tuple(guid(), resourceGroupName(), vmName()).map(([s, r, n]) => vmId(s, r, n));

/** Vault (or HSM) name: 3-24 lower-case letters, digits and single hyphens, alphanumeric at both ends. */
export const vaultName = () =>
  fc
    .tuple(chars(`${LOWER}${DIGITS}`, 1, 1), chars(`${LOWER}${DIGITS}-`, 1, 22), chars(`${LOWER}${DIGITS}`, 1, 1))
    .map((p) => p.join(''))
    .filter((s) => !s.includes('--'));
export const keyName = () => chars(`${ALNUM}-`, 1, 127);

export interface KeyUrlParts {
  kind: 'vault' | 'managedHsm';
  vault: string;
  key: string;
  version?: string;
  /** Spelling variations that must not matter: host case, explicit :443, a trailing slash. */
  upperHost: boolean;
  port443: boolean;
  trailingSlash: boolean;
}

export const keyUrlParts = (): fc.Arbitrary<KeyUrlParts> =>
  fc.record(
    {
      kind: fc.constantFrom('vault' as const, 'managedHsm' as const),
      vault: vaultName(),
      key: keyName(),
      version: hex32(),
      upperHost: fc.boolean(),
      port443: fc.boolean(),
      trailingSlash: fc.boolean(),
    },
    { requiredKeys: ['kind', 'vault', 'key', 'upperHost', 'port443', 'trailingSlash'] },
  );

export const hostOf = (p: Pick<KeyUrlParts, 'kind' | 'vault'>) => `${p.vault}.${p.kind === 'vault' ? 'vault' : 'managedhsm'}.azure.net`;

export function keyUrlOf(p: KeyUrlParts): string {
  const host = p.upperHost ? hostOf(p).toUpperCase() : hostOf(p);
  return `https://${host}${p.port443 ? ':443' : ''}/keys/${p.key}${p.version ? `/${p.version}` : ''}${p.trailingSlash ? '/' : ''}`;
}

export const canonicalKeyUrl = (p: KeyUrlParts) => `https://${hostOf(p)}/keys/${p.key}${p.version ? `/${p.version}` : ''}`;

// --- assertions ------------------------------------------------------------------------------

/** Text that betrays an internal fault rather than a refusal a person can act on. */
export const STACK_TRACE =
  /\n\s*at\s|\bat (?:Object|Module|async|new|process)\b|\(node:|node_modules|\.ts:\d+:\d+|\.js:\d+:\d+|Cannot read propert|is not a function|is not iterable|Maximum call stack|undefined is not|Unexpected token|\[object Object\]/;

/** A refusal message: non-empty, no stack trace or JS error text, and (when given) naming what to fix. */
export function expectRefusalMessage(message: unknown, mentions?: RegExp): void {
  expect(typeof message).toBe('string');
  const m = message as string;
  expect(m.trim().length).toBeGreaterThan(0);
  expect(m).not.toMatch(STACK_TRACE);
  if (mentions) expect(m).toMatch(mentions);
}

/** Nothing was added to Object.prototype by a parser (prototype pollution). */
export function expectNoPrototypePollution(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(OBJECT_PROTOTYPE_KEYS);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}
const OBJECT_PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

/** JSON text parsed, so `__proto__` keys are own properties exactly as they arrive over HTTP. */
export const jsonObject = (entries: Array<[string, unknown]>) => JSON.parse(`{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`) as Record<string, unknown>;

/** Prototype-pollution keys, as a JSON body carries them. */
export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'] as const;
export const protoKey = () => fc.constantFrom(...PROTO_KEYS);

/** Arbitrary JSON values as they come out of JSON.parse (so `__proto__` is an own key). */
export const parsedJson = (maxDepth = 4) => fc.json({ maxDepth }).map((t) => JSON.parse(t) as unknown);

/** Any value a deserialiser could hand a parser, JSON or not. */
export const anyValue = () => fc.oneof(parsedJson(), fc.anything({ maxDepth: 3, withNullPrototype: true, withObjectString: true, withBoxedValues: true, withSparseArray: true, withDate: true, withMap: true, withSet: true }));

// --- resource ids ------------------------------------------------------------------------------

/**
 * A resource id the bot accepted must address exactly the resource it names when it becomes an ARM
 * URL (the gateway builds `endpoint + id + ?api-version=…`): no query or fragment, no dot segments,
 * nothing the URL parser rewrites, drops or percent-decodes into something else.
 */
export function addressesItself(id: string): boolean {
  let u: URL;
  try {
    u = new URL(`https://management.azure.com${id}`);
  } catch {
    return false;
  }
  if (u.search || u.hash || u.host !== 'management.azure.com') return false;
  let decoded: string;
  try {
    decoded = decodeURIComponent(u.pathname);
  } catch {
    return false;
  }
  return decoded === id && !id.split('/').some((s) => /^\.+$/.test(s));
}

/** Characters that no Azure resource name may contain and that URL parsing treats specially. */
export const ID_BREAKERS = ['?', '#', '%', '%2F', '%2e%2e', '\\', '<', '>', '&', '*', '\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\ud800', '\udc00'] as const;

/** The fixed words of a resource id, and misspellings or look-alikes of them. */
const FIXED_WORD_MUTATIONS: Record<string, string[]> = {
  subscriptions: ['subscription', 'subscriptionѕ', 'ѕubscriptions', 'subscriptions_'],
  resourceGroups: ['resourceGroup', 'resourceGrоups', 'resource-groups', 'rg'],
  providers: ['provider', 'prоviders', 'providerz'],
};

/**
 * Invalid-by-construction variants of a valid resource id: a breaker character inserted, a dot
 * segment, an empty segment, a segment dropped or added, a fixed word misspelled or a look-alike.
 */
export function brokenResourceId(valid: string): fc.Arbitrary<string> {
  const segs = valid.split('/');
  return fc.oneof(
    fc.tuple(fc.constantFrom(...ID_BREAKERS), fc.integer({ min: 2, max: segs.length - 1 }), fc.double({ min: 0, max: 1, noNaN: true })).map(([b, i, f]) => {
      const s = [...segs];
      s[i] = insertAt(s[i]!, b, f);
      return s.join('/');
    }),
    fc.tuple(fc.constantFrom('.', '..', '...'), fc.integer({ min: 2, max: segs.length - 1 })).map(([d, i]) => {
      const s = [...segs];
      s[i] = d;
      return s.join('/');
    }),
    fc.integer({ min: 1, max: segs.length - 1 }).map((i) => [...segs.slice(0, i), '', ...segs.slice(i)].join('/')),
    fc.integer({ min: 1, max: segs.length - 1 }).map((i) => [...segs.slice(0, i), ...segs.slice(i + 1)].join('/')),
    fc.constantFrom('extra', 'providers', 'x/y').map((e) => `${valid}/${e}`),
    fc.tuple(fc.constantFrom(...Object.keys(FIXED_WORD_MUTATIONS)), fc.nat()).map(([w, n]) => {
      const alts = FIXED_WORD_MUTATIONS[w]!;
      return segs.map((s, i) => (i > 0 && s === w ? alts[n % alts.length]! : s)).join('/');
    }),
    fc.constant(valid.replace(/^\//, '')),
    fc.constant(`https://management.azure.com${valid}`),
    fc.integer({ min: 1100, max: 20_000 }).map((n) => `${valid}${'a'.repeat(n)}`),
  );
}

// --- storable text -----------------------------------------------------------------------------

/** U+0000, or half of a surrogate pair: text Postgres (text and jsonb) refuses. */
// eslint-disable-next-line no-control-regex -- U+0000 is exactly what this looks for
export const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The path of the first string (or key) in `value` that Postgres cannot store, if any. */
export function unstorablePath(value: unknown, path = '$'): string | undefined {
  const stack: Array<[unknown, string]> = [[value, path]];
  while (stack.length) {
    const [v, p] = stack.pop()!;
    if (typeof v === 'string') {
      if (UNSTORABLE.test(v)) return p;
    } else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
        if (UNSTORABLE.test(k)) return `${p}[key ${JSON.stringify(k)}]`;
        stack.push([child, `${p}.${k}`]);
      }
    }
  }
  return undefined;
}
