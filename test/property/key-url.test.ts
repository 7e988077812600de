// Key URLs (forms, modals, rotate) → parseKeyUrl: a refusal with the reason, never an exception;
// every key identifier Key Vault or Managed HSM prints is accepted, and what is accepted is the
// URL the service will dereference — the checks and the ARM payload must mean the same key.
import fc from 'fast-check';
import { parseKeyUrl } from '../../src/checks/key-url';
import { canonicalKeyUrl, expectRefusalMessage, hex32, hostileText, hostOf, insertAt, keyUrlOf, keyUrlParts, mutated, nasty, UNIT_RUNS } from './support';

/** What the parser may tolerate in a key URL it accepts: host case, an explicit :443, one trailing slash. */
const canonicalSpelling = (raw: string) => {
  const m = /^https:\/\/([^/]+?)(?::443)?(\/.*?)\/?$/i.exec(raw.trim());
  return m ? `https://${m[1]!.toLowerCase()}${m[2]}` : undefined;
};

function expectSound(input: string): void {
  const r = parseKeyUrl(input);
  if (!r.ok) {
    expectRefusalMessage(r.reason);
    return;
  }
  const { ref } = r;
  expect(ref.host).toBe(`${ref.vaultName}.${ref.kind === 'vault' ? 'vault' : 'managedhsm'}.azure.net`);
  expect(ref.vaultName).toMatch(/^[a-z0-9][a-z0-9-]{1,22}[a-z0-9]$/);
  expect(ref.vaultName).not.toContain('--');
  expect(ref.keyName).toMatch(/^[a-zA-Z0-9-]{1,127}$/);
  if (ref.version !== undefined) expect(ref.version).toMatch(/^[a-fA-F0-9]{32}$/);
  expect(ref.url).toBe(`https://${ref.host}/keys/${ref.keyName}${ref.version ? `/${ref.version}` : ''}`);
  // What was typed is that URL, not something a URL parser rewrote into it (dot segments,
  // backslashes, percent escapes, full-width dots or other IDNA mappings, a missing //).
  expect(canonicalSpelling(input)).toBe(ref.url);
  // Parsing the canonical form again gives the same key.
  expect(parseKeyUrl(ref.url)).toEqual(r);
}

describe('parseKeyUrl: hostile input', () => {
  it('any text is refused with a reason or accepted as a well-formed key identifier', () => {
    fc.assert(
      fc.property(hostileText(300), (s) => expectSound(s)),
      UNIT_RUNS,
    );
  });

  it('anything shaped like a URL (random scheme, host, path) is refused with a reason or sound', () => {
    const url = fc.oneof(
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.webUrl().map((u) => u.replace(/^http:/, 'https:')),
    );
    fc.assert(
      fc.property(url, (s) => expectSound(s)),
      UNIT_RUNS,
    );
  });

  it('a valid key URL mutated anywhere (mentions, control characters, look-alikes, huge) is refused or still sound', () => {
    fc.assert(
      fc.property(keyUrlParts().map(keyUrlOf).chain(mutated), (s) => expectSound(s)),
      UNIT_RUNS,
    );
  });
});

describe('parseKeyUrl: what Key Vault prints round-trips', () => {
  it('versionless and pinned identifiers, any host case, with :443 or a trailing slash', () => {
    fc.assert(
      fc.property(keyUrlParts(), fc.constantFrom('', ' ', '\t', '\n '), (p, pad) => {
        const r = parseKeyUrl(`${pad}${keyUrlOf(p)}${pad}`);
        expect(r).toEqual({ ok: true, ref: { kind: p.kind, vaultName: p.vault, host: hostOf(p), keyName: p.key, version: p.version, url: canonicalKeyUrl(p), versionless: `https://${hostOf(p)}/keys/${p.key}` } });
      }),
      UNIT_RUNS,
    );
  });
});

describe('parseKeyUrl: near-valid URLs are refused, naming the problem', () => {
  type Case = [string, (p: ReturnType<typeof base>) => fc.Arbitrary<string>, RegExp];
  const base = (p: { kind: 'vault' | 'managedHsm'; vault: string; key: string; version?: string }) => ({ ...p, host: hostOf(p), path: `/keys/${p.key}${p.version ? `/${p.version}` : ''}` });
  const cases: Case[] = [
    ['plain http', (b) => fc.constant(`http://${b.host}${b.path}`), /https/],
    ['another scheme', (b) => fc.constantFrom('ftp', 'file', 'javascript', 'data', 'wss').map((s) => `${s}://${b.host}${b.path}`), /https|not a URL|host/],
    ['credentials', (b) => fc.constantFrom('u:p@', 'u@', ':p@').map((c) => `https://${c}${b.host}${b.path}`), /credentials/],
    ['a query string', (b) => fc.constantFrom('?', '?x=1', '?api-version=1').map((q) => `https://${b.host}${b.path}${q}`), /query string/],
    ['a fragment', (b) => fc.constantFrom('#', '#x').map((q) => `https://${b.host}${b.path}${q}`), /fragment/],
    [
      'another port',
      (b) =>
        fc
          .integer({ min: 1, max: 65535 })
          .filter((n) => n !== 443)
          .map((n) => `https://${b.host}:${n}${b.path}`),
      /port/,
    ],
    [
      'a foreign host',
      (b) => fc.constantFrom(`${b.host}.evil.example`, `evil.example`, `${b.vault}.vault.azure.net.evil.example`, `${b.vault}.vault.azure.com`, `${b.vault}.vaultazure.net`, `${b.vault}vault.azure.net`).map((h) => `https://${h}${b.path}`),
      /host|vault name/,
    ],
    ['a look-alike host', (b) => fc.constantFrom('vаult', 'vault', 'vauIt').map((v) => `https://${b.vault}.${v === 'vault' ? 'vаult' : v}.azure.net${b.path}`), /host|vault name|URL/],
    ['full-width dots in the host', (b) => fc.constant(`https://${b.host.replace(/\./g, '．')}${b.path}`), /host|spell|canonical|character/],
    ['a bad vault name', (b) => fc.constantFrom('ab', 'a--b', '-abc', 'abc-', 'a'.repeat(25), 'ab_c').map((v) => `https://${v}.vault.azure.net${b.path}`), /vault name/],
    ['no /keys/', (b) => fc.constantFrom('/secrets/', '/certificates/', '/key/', '/KEYS/', '/').map((k) => `https://${b.host}${k}${b.key}`), /path/],
    ['an empty or extra segment', (b) => fc.constantFrom(`//keys/${b.key}`, `/keys//${b.key}`, `/keys/${b.key}/${'a'.repeat(32)}/x`, '/keys', '/keys/').map((p) => `https://${b.host}${p}`), /path|key name/],
    ['dot segments', (b) => fc.constantFrom(`/keys/x/../${b.key}`, `/keys/./${b.key}`, `/x/../keys/${b.key}`, `/keys/${b.key}/.`).map((p) => `https://${b.host}${p}`), /path|spell|canonical|character/],
    ['backslashes', (b) => fc.constant(`https://${b.host}\\keys\\${b.key}`), /path|spell|canonical|character/],
    ['percent escapes', (b) => fc.constantFrom(`/keys/${b.key}%2F`, `/%6Beys/${b.key}`, `/keys/%2e%2e/${b.key}`).map((p) => `https://${b.host}${p}`), /path|key name|spell|canonical|character/],
    ['no // after the scheme', (b) => fc.constantFrom(`https:${b.host}${b.path}`, `https:/${b.host}${b.path}`, `https:\\\\${b.host}${b.path}`), /spell|canonical|URL|character/],
    ['a bad key name', (b) => fc.constantFrom('key_name', 'kéy', 'k'.repeat(128), 'a.b').map((k) => `https://${b.host}/keys/${k}`), /key name/],
    [
      'a bad version',
      (b) =>
        fc
          .oneof(
            hex32().map((h) => h.slice(1)),
            hex32().map((h) => `${h}0`),
            fc.constant('latest'),
            fc.constant('g'.repeat(32)),
          )
          .map((v) => `https://${b.host}/keys/${b.key}/${v}`),
      /key version/,
    ],
    [
      'whitespace or control characters inside',
      (b) => fc.tuple(fc.constantFrom(' ', '\t', '\u0000', '\u0007', '\u200b', '\u202e', '\u00a0'), fc.double({ min: 0.05, max: 0.95, noNaN: true })).map(([c, f]) => insertAt(`https://${b.host}${b.path}`, c, f)),
      /spaces|URL|host|vault name|path|key name|character|spell/,
    ],
    [
      'a mention or markup',
      (b) =>
        nasty()
          .filter((n) => /[<>{}$`"]/.test(n))
          .map((n) => `https://${b.host}${b.path}${n}`),
      /spaces|key name|key version|path|URL|character|spell/,
    ],
  ];

  it.each(cases.map(([name, make, why]) => [name, make, why] as const))('%s', (_name, make, why) => {
    const parts = fc.record({ kind: fc.constantFrom('vault' as const, 'managedHsm' as const), vault: keyUrlParts().map((p) => p.vault), key: keyUrlParts().map((p) => p.key) });
    fc.assert(
      fc.property(parts.map(base).chain(make), (s) => {
        const r = parseKeyUrl(s);
        expect(r.ok).toBe(false);
        if (!r.ok) expectRefusalMessage(r.reason, why);
      }),
      { numRuns: 60 },
    );
  });
});
