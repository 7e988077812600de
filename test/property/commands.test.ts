// Command text (Teams message / Slack slash command) → parseCommand: hostile text gets a usage
// answer naming what to fix, never an exception; every command in the grammar is understood.
import fc from 'fast-check';
import { type Command, isVerb, parseCommand } from '../../src/chat/commands';
import { DEFAULT_TARGETS } from '../../src/targets';

const SUPPORTED_TARGETS = DEFAULT_TARGETS.commands();
import { REQUEST_ID_PATTERN } from '../../src/domain/canonical';
import { addressesItself, brokenResourceId, expectRefusalMessage, hostileText, homoglyph, insertAt, mutated, nasty, requestId, UNIT_RUNS, validExperimentId, validFluidRelayId, validIdentityId, validStorageId } from './support';

const KINDS = ['help', 'new', 'status', 'check-request', 'check-resource', 'list', 'cancel', 'audit', 'evidence', 'rotate', 'rotate-key', 'usage', 'watch', 'watch-list', 'unwatch', 'scan-now'];
const RESOURCE_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/[^/]+\/[^/]+\/[^/]+$/i;

/** Whatever parseCommand returns is one of the commands, with arguments the handlers can trust. */
function expectWellFormed(c: Command): void {
  expect(KINDS).toContain(c.kind);
  switch (c.kind) {
    case 'usage':
      expectRefusalMessage(c.problem);
      // It names what to fix without echoing unbounded input back into the chat.
      expect(c.problem.length).toBeLessThanOrEqual(400);
      // The verb it names for `help <verb>` is one that has help.
      if (c.verb !== undefined) expect(isVerb(c.verb)).toBe(true);
      break;
    case 'help':
      if (c.verb !== undefined) expect(isVerb(c.verb)).toBe(true);
      break;
    case 'status':
    case 'cancel':
    case 'audit':
    case 'evidence':
    case 'check-request':
      expect(c.id).toMatch(REQUEST_ID_PATTERN);
      break;
    case 'rotate':
    case 'check-resource':
      expect(c.resourceId).toMatch(RESOURCE_ID);
      expect(c.resourceId.length).toBeLessThanOrEqual(1024);
      expect(addressesItself(c.resourceId)).toBe(true);
      break;
    case 'rotate-key':
      // A key identifier without its version, and a version that is one (or latest).
      expect(c.keyUrl).toMatch(/^https:\/\/[^\s/]+\/keys\/[^\s/]+$/);
      if (c.version !== undefined) expect(c.version).toMatch(/^([0-9a-f]{32}|latest)$/);
      // A scope is a subscription or a resource group in one, and addresses only itself.
      if (c.scope !== undefined) {
        // The same scopes `watch` takes (below): a subscription id, or a resource group in one.
        expect(c.scope).toMatch(/^\/subscriptions\/[0-9a-f-]{36}(\/resourceGroups\/[-\w.()]{1,90})?$/);
        expect(addressesItself(c.scope)).toBe(true);
      }
      break;
    case 'new':
      expect(SUPPORTED_TARGETS.map((t) => DEFAULT_TARGETS.forCommand(t)!.type)).toContain(c.target);
      for (const id of [c.source]) {
        if (id === undefined) continue;
        expect(id).toMatch(RESOURCE_ID);
        expect(id.length).toBeLessThanOrEqual(1024);
        expect(addressesItself(id)).toBe(true);
      }
      break;
    case 'list':
      expect(['pending', 'mine']).toContain(c.which);
      break;
    case 'watch':
    case 'unwatch':
      // A scope the store and the policy can trust: `all`, a subscription or a resource group id.
      expect(c.scope).toMatch(/^(all|\/subscriptions\/[0-9a-f-]{36}(\/resourceGroups\/[-\w.()]{1,90})?)$/);
      break;
    case 'watch-list':
    case 'scan-now':
      break;
  }
}

const WHITESPACE = [' ', '  ', '\t', '\n', '\r\n', '\u00a0', '\u3000', ' \t '];
/** Joins words the way people and clients do: runs of any whitespace, padding at both ends. */
const spaced = (words: string[]) =>
  fc
    .tuple(fc.array(fc.constantFrom(...WHITESPACE), { minLength: words.length + 1, maxLength: words.length + 1 }), fc.boolean(), fc.boolean())
    .map(([gaps, lead, trail]) => `${lead ? gaps[0] : ''}${words.map((w, i) => (i ? gaps[i] : '') + w).join('')}${trail ? gaps[words.length] : ''}`);
const anyCase = (w: string) => fc.mixedCase(fc.constant(w));
const trailingSlash = (id: string) => fc.boolean().map((b) => (b ? `${id}/` : id));

/** A command from the grammar, with the Command it must parse to. */
const grammar: fc.Arbitrary<{ words: fc.Arbitrary<string[]>; expected: Command }> = fc.oneof(
  fc.constantFrom('help', '?').map((v) => ({ words: anyCase(v).map((w) => [w]), expected: { kind: 'help' } as Command })),
  fc.constantFrom('pending' as const, 'mine' as const).map((which) => ({ words: fc.tuple(anyCase('list'), anyCase(which)), expected: { kind: 'list', which } as Command })),
  fc.tuple(fc.constantFrom('status' as const, 'cancel' as const, 'audit' as const, 'evidence' as const), requestId()).map(([verb, id]) => ({
    words: fc.tuple(anyCase(verb), anyCase(id)),
    expected: { kind: verb, id } as Command,
  })),
  requestId().map((id) => ({ words: fc.tuple(anyCase('check'), anyCase(id)), expected: { kind: 'check-request', id } as Command })),
  validFluidRelayId().map((id) => ({ words: fc.tuple(anyCase('check'), trailingSlash(id)), expected: { kind: 'check-resource', resourceId: id } as Command })),
  fc.oneof(validFluidRelayId(), validStorageId(), validExperimentId(), validIdentityId()).map((id) => ({
    words: fc.tuple(anyCase('rotate'), trailingSlash(id)),
    expected: { kind: 'rotate', resourceId: id } as Command,
  })),
  fc.constantFrom(...SUPPORTED_TARGETS).map((t) => ({ words: fc.tuple(anyCase('new'), anyCase(t)), expected: { kind: 'new', target: t } as Command })),
  validStorageId().map((id) => ({ words: fc.tuple(anyCase('new'), anyCase('storage-cmk'), fc.constant(id)), expected: { kind: 'new', target: 'storage-cmk', source: id } as Command })),
  validExperimentId().map((id) => ({ words: fc.tuple(anyCase('new'), anyCase('chaos-experiment'), fc.constant('--from'), fc.constant(id)), expected: { kind: 'new', target: 'chaos-experiment', source: id } as Command })),
);

describe('parseCommand: hostile text', () => {
  it('any text gives a command or a usage answer, never an exception', () => {
    fc.assert(
      fc.property(hostileText(300), (text) => {
        expectWellFormed(parseCommand(text));
      }),
      UNIT_RUNS,
    );
  });

  it('a verb followed by hostile words is still well-formed (mentions, control characters, huge words)', () => {
    const verb = fc.constantFrom('status', 'cancel', 'audit', 'evidence', 'check', 'rotate', 'new', 'list', 'help', 'NEW', 'Check');
    fc.assert(
      fc.property(verb, fc.array(hostileText(80), { minLength: 1, maxLength: 4 }), (v, rest) => {
        expectWellFormed(parseCommand([v, ...rest].join(' ')));
      }),
      UNIT_RUNS,
    );
  });

  it('an unknown verb is named back, clipped, with the way to get help', () => {
    fc.assert(
      fc.property(
        fc
          .oneof(
            hostileText(40),
            fc.integer({ min: 500, max: 50_000 }).map((n) => 'x'.repeat(n)),
          )
          .filter((w) => {
            const first = w.trim().split(/\s+/)[0] ?? '';
            return first !== '' && !['help', '?', 'new', 'status', 'list', 'cancel', 'audit', 'evidence', 'rotate', 'check'].includes(first.toLowerCase());
          }),
        (word) => {
          const c = parseCommand(`${word} CR-7KQ2MX`);
          expect(c.kind).toBe('usage');
          expectWellFormed(c);
          expect((c as { problem: string }).problem).toMatch(/I don't know "/);
        },
      ),
      UNIT_RUNS,
    );
  });
});

describe('parseCommand: the grammar round-trips', () => {
  it('every command of the grammar, in any spacing and letter case, parses to what it says', () => {
    fc.assert(
      fc.property(
        grammar.chain(({ words, expected }) => words.chain(spaced).map((text) => ({ text, expected }))),
        ({ text, expected }) => {
          const c = parseCommand(text);
          expect(c).toEqual(expected);
          expectWellFormed(c);
        },
      ),
      UNIT_RUNS,
    );
  });
});

describe('parseCommand: near-valid commands are refused, naming the argument', () => {
  /** A request id made invalid: look-alike, inserted character (not whitespace), cut, doubled. */
  const brokenRequestId = requestId()
    .chain((id) =>
      fc.oneof(
        fc.nat().map((n) => homoglyph(id, n) ?? `${id}0`),
        fc
          .tuple(
            nasty().filter((n) => !/\s/.test(n)),
            fc.double({ min: 0, max: 1, noNaN: true }),
          )
          .map(([n, f]) => insertAt(id, n, f)),
        fc.integer({ min: 1, max: id.length - 1 }).map((n) => id.slice(0, n)),
        fc.constant(`${id}${id}`),
        fc.constant(id.replace('-', '_')),
        fc.constant(id.replace(/[2-9]/, 'O')),
      ),
    )
    .filter((s) => !/\s/.test(s) && !REQUEST_ID_PATTERN.test(s.toUpperCase()));

  it.each([['status'], ['cancel'], ['audit'], ['evidence']])('%s <broken request id> → usage naming request ids', (verb) => {
    fc.assert(
      fc.property(brokenRequestId, (id) => {
        const c = parseCommand(`${verb} ${id}`);
        expect(c.kind).toBe('usage');
        expectWellFormed(c);
        expect((c as { problem: string }).problem).toMatch(/request id/);
      }),
      UNIT_RUNS,
    );
  });

  const anyValidId = fc.oneof(validFluidRelayId(), validStorageId(), validExperimentId());
  const brokenId = anyValidId.chain(brokenResourceId).filter((s) => !/\s/.test(s) && s !== '');

  it('rotate <broken resource id> → usage naming the resource id', () => {
    fc.assert(
      fc.property(brokenId, (id) => {
        const c = parseCommand(`rotate ${id}`);
        expect(c).toEqual({ kind: 'usage', verb: 'rotate', problem: expect.stringMatching(/resource id/) });
        expectWellFormed(c);
      }),
      UNIT_RUNS,
    );
  });

  it('rotate-key <key url> [--version <v> | --latest] [--in <scope>]: the key, the version from the URL or a flag, a subscription or resource group; anything else after it → usage naming the flags', () => {
    const hex = fc.stringMatching(/^[0-9a-f]{32}$/);
    const url = fc
      .tuple(
        fc.stringMatching(/^[a-z][a-z0-9-]{1,21}[a-z0-9]$/).filter((v) => !v.includes('--')),
        fc.stringMatching(/^[A-Za-z0-9-]{1,40}$/),
      )
      .map(([v, k]) => `https://${v}.vault.azure.net/keys/${k}`);
    fc.assert(
      fc.property(url, hex, fc.uuid(), fc.stringMatching(/^[A-Za-z0-9._()-]{0,89}[A-Za-z0-9_()-]$/), hostileText(), (u, v, subId, rg, junk) => {
        const sub = `/subscriptions/${subId}`;
        expect(parseCommand(`rotate-key ${u}`)).toEqual({ kind: 'rotate-key', keyUrl: u });
        expect(parseCommand(`rotate-key ${u}/${v.toUpperCase()}`)).toEqual({ kind: 'rotate-key', keyUrl: u, version: v });
        expect(parseCommand(`rotate-key ${u} --version ${v.toUpperCase()}`)).toEqual({ kind: 'rotate-key', keyUrl: u, version: v });
        expect(parseCommand(`rotate-key ${u} --latest`)).toEqual({ kind: 'rotate-key', keyUrl: u, version: 'latest' });
        // --in names where to look, before or after the version; one version flag only.
        expect(parseCommand(`rotate-key ${u} --in ${sub}/ --version ${v}`)).toEqual({ kind: 'rotate-key', keyUrl: u, version: v, scope: sub });
        expect(parseCommand(`rotate-key ${u} --latest --in ${sub}/resourceGroups/${rg}`)).toEqual({ kind: 'rotate-key', keyUrl: u, version: 'latest', scope: `${sub}/resourceGroups/${rg}` });
        expect(parseCommand(`rotate-key ${u} --version ${v} --latest`)).toMatchObject({ kind: 'usage', verb: 'rotate-key' });
        expect(parseCommand(`rotate-key ${u} --in ${sub}/resourceGroups/${rg}/providers/Microsoft.Storage/storageAccounts/x`)).toMatchObject({ kind: 'usage', verb: 'rotate-key' });
        expect(parseCommand(`rotate-key ${u} --in ${sub} --in ${sub}`)).toMatchObject({ kind: 'usage', verb: 'rotate-key' });
        const odd = parseCommand(`rotate-key ${u} ${junk}`);
        expectWellFormed(odd);
        if (odd.kind === 'usage') expect(odd.problem).toMatch(/--version <32-character version>.*--latest/);
        expectWellFormed(parseCommand(`rotate-key ${junk}`));
      }),
      UNIT_RUNS,
    );
    // Not a Key Vault key: refused when the command is given, with the reason, not later in the form.
    expect(parseCommand('rotate-key https://kv-cmk.evil.example.com/keys/k')).toEqual({ kind: 'usage', verb: 'rotate-key', problem: expect.stringMatching(/not a Key Vault/) });
    expect(parseCommand('rotate-key https://kv-cmk.vault.azure.net/secrets/k')).toEqual({ kind: 'usage', verb: 'rotate-key', problem: expect.stringMatching(/\/keys\/\{name\}/) });
  });

  it('check <broken resource id> → usage naming both accepted forms', () => {
    fc.assert(
      fc.property(brokenId, (id) => {
        const c = parseCommand(`check ${id}`);
        expect(c).toEqual({ kind: 'usage', verb: 'check', problem: expect.stringMatching(/request id .*resource id/) });
        expectWellFormed(c);
      }),
      UNIT_RUNS,
    );
  });

  it('new storage-cmk <broken storage id> and new chaos-experiment --from <broken id> → usage naming the id', () => {
    const storage = validStorageId()
      .chain(brokenResourceId)
      .filter((s) => !/\s/.test(s) && s !== '');
    const experiment = validExperimentId()
      .chain(brokenResourceId)
      .filter((s) => !/\s/.test(s) && s !== '');
    fc.assert(
      fc.property(storage, experiment, (s, e) => {
        const a = parseCommand(`new storage-cmk ${s}`);
        expect(a).toEqual({ kind: 'usage', verb: 'new', problem: expect.stringMatching(/resource id of a storage account/) });
        const b = parseCommand(`new chaos-experiment --from ${e}`);
        expect(b).toEqual({ kind: 'usage', verb: 'new', problem: expect.stringMatching(/resource id of an existing experiment/) });
        expectWellFormed(a);
        expectWellFormed(b);
      }),
      UNIT_RUNS,
    );
  });

  it('new <mutated target> → usage listing the supported targets', () => {
    const target = fc
      .constantFrom(...SUPPORTED_TARGETS)
      .chain(mutated)
      .filter((t) => t.trim() !== '' && !/\s/.test(t) && !(SUPPORTED_TARGETS as readonly string[]).includes(t.toLowerCase()));
    fc.assert(
      fc.property(target, (t) => {
        const c = parseCommand(`new ${t}`);
        expect(c).toEqual({ kind: 'usage', verb: 'new', problem: expect.stringMatching(/Supported: `new fluid-relay`/) });
        expectWellFormed(c);
      }),
      UNIT_RUNS,
    );
  });
});
