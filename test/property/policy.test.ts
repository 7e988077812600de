// The policy file → parsePolicy / loadPolicy: any text is a Policy or a PolicyError that names
// the file and the offending key, never another exception; a valid document round-trips; an
// accepted policy answers every question (rule, requester, approver, conversation) without throwing.
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { loadPolicy, parsePolicy, type Policy, PolicyError } from '../../src/workflow/policy';
import { expectNoPrototypePollution, expectRefusalMessage, hostileText, nasty, parsedJson, PROTO_KEYS, protoKey, UNIT_RUNS } from './support';

const SOURCE = 'policy/under-test.yaml';

/** Parses; returns the Policy, or checks the refusal is a PolicyError naming the file (and `mentions`). */
function parseOrRefuse(text: string, mentions?: string): Policy | undefined {
  try {
    return parsePolicy(text, SOURCE);
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyError);
    const m = (e as Error).message;
    expect(m.startsWith(`${SOURCE}: `)).toBe(true);
    expectRefusalMessage(m.slice(SOURCE.length + 2));
    if (mentions !== undefined) expect(m).toContain(mentions);
    return undefined;
  }
}

const actor = fc.record({
  platform: fc.constantFrom('teams' as const, 'slack' as const),
  tenant: fc.oneof(fc.constantFrom('tenant-1', 'T0LOCAL01'), hostileText(20)),
  id: fc.oneof(fc.constantFrom('aad-alice', 'U0ALEX', 'aad-bob'), hostileText(30)),
});
const scope = fc.record({
  subscriptionId: fc.oneof(fc.uuid(), hostileText(40)),
  resourceGroup: fc.oneof(fc.constantFrom('rg-prod-eu', 'rg-dev'), hostileText(90)),
  targetType: fc.oneof(fc.constantFrom('fluid-relay', 'storage-cmk'), hostileText(20)),
});

/** Every question the workflow asks a policy, for any actor, scope and conversation. */
function expectAnswers(p: Policy, a: { platform: 'teams' | 'slack'; id: string; tenant?: string }, s: { subscriptionId: string; resourceGroup: string; targetType: string }, conversation: string): void {
  const rule = p.ruleFor(s);
  for (const r of rule ? [rule] : p.doc.rules) {
    expect(typeof p.includes(r.requesters, a)).toBe('boolean');
    expect(typeof p.includes(r.approvers, a)).toBe('boolean');
    expect(typeof p.allowsConversation(r, a.platform, conversation)).toBe('boolean');
    for (const d of p.describeApprovers(r)) expect(typeof d).toBe('string');
    expect(Number.isInteger(p.approvalsNeeded(r, true))).toBe(true);
  }
  expect(typeof p.admitsTenant(a.platform, a.tenant)).toBe('boolean');
  expect(typeof p.personOf(a)).toBe('string');
}

describe('parsePolicy: hostile files', () => {
  it('any text is a policy or a PolicyError naming the file, never another exception', () => {
    const yamlish = fc
      .array(
        fc.oneof(
          fc.constantFrom(
            'version: 2\n',
            'tenants: {teams: ["*"]}\n',
            'rules:\n',
            '  - name: r\n',
            '    requesters: ["*"]\n',
            '    approvers: ["*"]\n',
            '- ',
            ': ',
            '&a ',
            '*a ',
            '!!binary ',
            '---\n',
            '{',
            '[',
            '"',
            "'",
            '? ',
            '|\n',
            '>\n',
            '  ',
            '\n',
          ),
          nasty(),
          fc.string({ maxLength: 10 }),
        ),
        { maxLength: 30 },
      )
      .map((a) => a.join(''));
    fc.assert(
      fc.property(fc.oneof(hostileText(400), yamlish), (text) => {
        const p = parseOrRefuse(text);
        if (p) expectAnswers(p, { platform: 'teams', id: 'x' }, { subscriptionId: 's', resourceGroup: 'r', targetType: 't' }, 'c');
        expectNoPrototypePollution();
      }),
      UNIT_RUNS,
    );
  });

  it('any JSON document (prototype keys included) is a policy or a PolicyError naming the file', () => {
    const doc = fc.oneof(
      fc.json({ maxDepth: 5 }),
      fc.tuple(parsedJson(3), protoKey()).map(([v, k]) => `{"version":2,${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'},"rules":[{"name":"r","requesters":["*"],"approvers":["*"],${JSON.stringify(k)}:{"approvalsRequired":0}}]}`),
    );
    fc.assert(
      fc.property(doc, (text) => {
        const p = parseOrRefuse(text);
        if (p) for (const r of p.doc.rules) expect(r.approvalsRequired).toBeGreaterThanOrEqual(1);
        expectNoPrototypePollution();
      }),
      UNIT_RUNS,
    );
  });

  it('self-referencing YAML aliases and alias bombs are refused, not followed', () => {
    const bombs = [
      'version: 1\nrules: &r [*r]\n',
      'version: 1\ngroups: &g {a: *g}\nrules: [{name: r, requesters: ["*"], approvers: ["*"]}]\n',
      `a: &a ["x","x","x","x","x","x","x","x","x"]\n${Array.from(
        { length: 12 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(',')}]`,
      ).join('\n')}\nversion: 1\nrules: []\n`,
    ];
    for (const text of bombs) expect(parseOrRefuse(text)).toBeUndefined();
  });
});

// --- valid documents --------------------------------------------------------------------------

const name = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_.'), minLength: 1, maxLength: 12 });
const groupName = name.filter((n) => !(PROTO_KEYS as readonly string[]).includes(n));
const slackId = fc.string({ unit: fc.constantFrom(...'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789'), minLength: 3, maxLength: 11 });
/** An account as the policy names it: `teams:<tenant>/<object id>` or `slack:<team>/<user id>`. */
const person = fc.oneof(
  fc.tuple(fc.uuid(), fc.uuid()).map(([t, u]) => `teams:${t}/${u}`),
  fc.tuple(slackId, slackId).map(([t, u]) => `slack:T${t}/U${u}`),
);

/** Conservatively satisfiable: enough distinct people even when the requester is one of them. */
function satisfiable(groups: Record<string, string[]>, r: { approvers: string[]; approvalsRequired?: number; irreversibleExtraApprovals?: number }): boolean {
  if (r.approvers.includes('*')) return true;
  const people = new Set(r.approvers.flatMap((x) => (x.startsWith('group:') ? groups[x.slice(6)]! : [x])).map((x) => x.toLowerCase()));
  return people.size - 1 >= (r.approvalsRequired ?? 1) + (r.irreversibleExtraApprovals ?? 1);
}

const validDoc = fc.dictionary(groupName, fc.array(person, { minLength: 1, maxLength: 3 }), { maxKeys: 3 }).chain((groups) => {
  const principal = fc.oneof(person, fc.constant('*'), ...(Object.keys(groups).length ? [fc.constantFrom(...Object.keys(groups)).map((g) => `group:${g}`)] : []));
  const rule = fc.record(
    {
      name: fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== ''),
      match: fc.record(
        {
          subscriptions: fc.array(fc.oneof(fc.uuid(), fc.constant('*')), { minLength: 1, maxLength: 2 }),
          resourceGroups: fc.array(
            fc.oneof(
              name,
              name.map((n) => `${n}*`),
              fc.constant('*'),
            ),
            { minLength: 1, maxLength: 2 },
          ),
          targets: fc.array(fc.constantFrom('*', 'fluid-relay', 'storage-cmk', 'chaos-*'), { minLength: 1, maxLength: 2 }),
        },
        { requiredKeys: [] },
      ),
      requesters: fc.array(principal, { minLength: 1, maxLength: 3 }),
      approvers: fc.array(principal, { minLength: 1, maxLength: 3 }),
      approvalsRequired: fc.integer({ min: 1, max: 3 }),
      irreversibleExtraApprovals: fc.integer({ min: 0, max: 2 }),
      pendingHours: fc.double({ min: 0.5, max: 720, noNaN: true }),
      conversations: fc.array(
        fc.oneof(
          fc.constant('*'),
          name.map((c) => `teams:${c}`),
          name.map((c) => `slack:C${c}`),
        ),
        { minLength: 1, maxLength: 2 },
      ),
    },
    { requiredKeys: ['name', 'requesters', 'approvers'] },
  );
  return fc.record({
    version: fc.constant(2),
    tenants: fc.constant({ teams: ['*'], slack: ['*'] }),
    groups: fc.constant(groups),
    rules: fc.uniqueArray(
      rule.filter((r) => satisfiable(groups, r)),
      { minLength: 1, maxLength: 3, selector: (r) => r.name.toLowerCase() },
    ),
  });
});

const render = (doc: unknown) => fc.constantFrom('yaml', 'json', 'json-pretty').map((f) => (f === 'yaml' ? toYaml(doc) : f === 'json' ? JSON.stringify(doc) : JSON.stringify(doc, null, 2)));

describe('parsePolicy: valid documents round-trip', () => {
  it('YAML or JSON, every valid document is accepted as written (defaults filled in) and answers every question', () => {
    fc.assert(
      fc.property(
        validDoc.chain((d) => render(d).map((text) => ({ d, text }))),
        actor,
        scope,
        fc.string(),
        ({ d, text }, a, s, conv) => {
          const p = parsePolicy(text, SOURCE);
          expect(p.doc.groups).toEqual(d.groups);
          expect(p.doc.rules).toHaveLength(d.rules.length);
          d.rules.forEach((r, i) => {
            expect(p.doc.rules[i]).toMatchObject({ ...r, match: { subscriptions: ['*'], resourceGroups: ['*'], targets: ['*'], ...r.match } });
          });
          expectAnswers(p, a, s, conv);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('includes() is exactly: "*", the person, or a member of a named group (case-insensitive)', () => {
    fc.assert(
      fc.property(validDoc, actor, (d, a) => {
        const p = parsePolicy(JSON.stringify(d), SOURCE);
        const me = `${a.platform}:${a.tenant}/${a.id}`.toLowerCase();
        for (const r of p.doc.rules) {
          const expanded = r.approvers.flatMap((x) => (x.startsWith('group:') ? d.groups[x.slice(6)]! : [x]));
          // Nobody without a signed id; otherwise "*" or the account (or its person) named.
          expect(p.includes(r.approvers, a)).toBe(a.id.trim() !== '' && expanded.some((x) => x === '*' || x.toLowerCase() === me));
        }
        // A named person is found.
        const someone = d.rules.flatMap((r) => r.approvers).find((x) => /^(teams|slack):/.test(x));
        if (someone) {
          const [tenant, id] = someone.slice(someone.indexOf(':') + 1).split('/');
          expect(
            p.includes(
              d.rules.flatMap((r) => r.approvers),
              { platform: someone.split(':')[0] as 'teams', tenant: tenant!.toUpperCase(), id: id!.toUpperCase() },
            ),
          ).toBe(true);
        }
      }),
      { numRuns: 80 },
    );
  });

  it('globs match like the shell: * is any run of characters, everything else literally, any letter case', () => {
    // The reference is the obvious regex translation, on inputs small enough for it to stay fast.
    const ref = (pattern: string, value: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(value);
    const piece = fc.oneof(fc.constantFrom('*', 'a', 'A', '-', '.', '(', ')', '[', ']', '?', '+', '^', '$', '\\', '|', '{', '}'), fc.string({ maxLength: 2 }));
    const pattern = fc.array(piece, { maxLength: 6 }).map((a) => a.join(''));
    const value = fc
      .array(
        fc.oneof(
          piece.filter((c) => c !== '*'),
          fc.constant('a'),
        ),
        { maxLength: 10 },
      )
      .map((a) => a.join(''));
    fc.assert(
      fc.property(pattern, value, (pat, v) => {
        fc.pre(v !== ''); // an empty resource group is a subscription-wide scope: every group of it
        const p = parsePolicy(JSON.stringify({ version: 2, rules: [{ name: 'r', match: { resourceGroups: [pat] }, requesters: ['*'], approvers: ['*'] }] }), SOURCE);
        expect(Boolean(p.ruleFor({ subscriptionId: 's', resourceGroup: v, targetType: 't' }))).toBe(ref(pat, v));
      }),
      UNIT_RUNS,
    );
  });

  it('a glob with many stars cannot stall rule matching (a requester chooses the resource group name)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 30 }), fc.constantFrom('-', 'a', '.'), fc.integer({ min: 40, max: 90 }), (stars, sep, n) => {
        const p = parsePolicy(JSON.stringify({ version: 2, rules: [{ name: 'r', match: { resourceGroups: [`${`*${sep}`.repeat(stars)}x`] }, requesters: ['*'], approvers: ['*'] }] }), SOURCE);
        const started = Date.now();
        expect(p.ruleFor({ subscriptionId: 's', resourceGroup: sep.repeat(n), targetType: 't' })).toBeUndefined();
        expect(Date.now() - started).toBeLessThan(200);
      }),
      { numRuns: 20 },
    );
  });
});

// --- near-valid documents --------------------------------------------------------------------

/** Paths into a valid document, and values that are wrong there. */
const BAD_VALUES: Array<[string, fc.Arbitrary<unknown>]> = [
  ['version', fc.oneof(fc.constantFrom(0, 1, 3, '2', null, true, 1.5), hostileText(20))],
  ['groups', fc.oneof(fc.constantFrom('x', 1, null, true), fc.array(fc.string(), { minLength: 1, maxLength: 2 }))],
  ['rules', fc.oneof(fc.constantFrom('x', 1, null, {}), fc.constant([]))],
  ['rules.0', fc.constantFrom('x', 1, null, [], {})],
  ['rules.0.name', fc.constantFrom('', 1, null, [], {})],
  ['rules.0.requesters', fc.oneof(fc.constantFrom('*', 1, null, {}), fc.constant([]))],
  [
    'rules.0.approvers.0',
    fc.oneof(
      hostileText(30).filter((s) => !/^(\*|(teams|slack):[^\s/]+\/[^\s/]+|(group|person):[\w.-]{1,64})$/.test(s)),
      fc.constantFrom('bob', 'teams:', 'teams: bob', 'teams:aad-bob', 'slack:U1', 'slack:U 1', 'group:', 'group:a b', 'TEAMS:x', 1, null, {}),
    ),
  ],
  ['rules.0.approvalsRequired', fc.oneof(fc.constantFrom(0, -1, 11, 1.5, '2', null, true, Infinity), fc.integer({ min: 11 }))],
  ['rules.0.irreversibleExtraApprovals', fc.constantFrom(-1, 11, 0.5, '1', null)],
  ['rules.0.pendingHours', fc.constantFrom(0, -1, 721, 1e9, '24', null, Infinity)],
  ['rules.0.match', fc.constantFrom('x', 1, [])],
  ['rules.0.match.resourceGroups', fc.constantFrom('rg', 1, null, [1], {})],
  [
    'rules.0.conversations.0',
    fc.oneof(
      fc.constantFrom('general', 'teams:', 'teams: x', 'msteams:x', '', 1, null),
      hostileText(20).filter((s) => !/^(\*|(teams|slack):\S+)$/.test(s)),
    ),
  ],
];

function setPath(doc: unknown, path: string, value: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
  const keys = path.split('.');
  let at: Record<string, unknown> = copy;
  for (const k of keys.slice(0, -1)) {
    at[k] ??= /^\d+$/.test(keys[keys.indexOf(k) + 1] ?? '') ? [] : {};
    at = at[k] as Record<string, unknown>;
  }
  at[keys.at(-1)!] = value;
  return copy;
}

describe('parsePolicy: near-valid documents are refused, naming the key', () => {
  it.each(BAD_VALUES.map(([p, v]) => [p, v] as const))('%s', (path, bad) => {
    fc.assert(
      fc.property(validDoc, bad, fc.constantFrom('yaml', 'json'), (d, v, format) => {
        const broken = setPath(d, path, v);
        const text = format === 'yaml' ? toYaml(broken) : JSON.stringify(broken);
        // Infinity is Infinity in YAML and JSON alike; JSON.stringify writes it as null.
        const named = path.split('.').slice(0, 2).join('.');
        expect(parseOrRefuse(text, named === 'rules.0' || path === 'rules' ? 'rules' : named)).toBeUndefined();
      }),
      { numRuns: 25 },
    );
  });

  it('a group that is not defined is refused, whatever its name (prototype names included)', () => {
    fc.assert(
      fc.property(
        validDoc,
        fc.oneof(
          protoKey().filter((k) => /^[\w.-]+$/.test(k)),
          groupName,
        ),
        fc.constantFrom('requesters', 'approvers'),
        (d, g, where) => {
          if (Object.hasOwn(d.groups, g)) return;
          const broken = setPath(d, `rules.0.${where}`, [`group:${g}`]);
          expect(parseOrRefuse(JSON.stringify(broken), `group "${g}" is not defined`)).toBeUndefined();
        },
      ),
      UNIT_RUNS,
    );
  });

  it('groups named like Object.prototype members work as groups (or are refused), never as the prototype', () => {
    fc.assert(
      fc.property(protoKey(), person, person, (g, member, outsider) => {
        fc.pre(member.toLowerCase() !== outsider.toLowerCase());
        // JSON text, so the group name arrives as an own key exactly as from a file.
        const text = `{"version":2,"groups":{${JSON.stringify(g)}:[${JSON.stringify(member)}]},"rules":[{"name":"r","requesters":[${JSON.stringify(outsider)}],"approvers":[${JSON.stringify(`group:${g}`)}],"irreversibleExtraApprovals":0,"approvalsRequired":1}]}`;
        const p = parseOrRefuse(text, g === '__proto__' ? 'groups.__proto__' : undefined);
        if (!p) return;
        const rule = p.doc.rules[0]!;
        const as = (x: string) => {
          const [tenant, id] = x.slice(x.indexOf(':') + 1).split('/');
          return { platform: x.split(':')[0] as 'teams' | 'slack', tenant, id: id! };
        };
        expect(p.includes(rule.approvers, as(member))).toBe(true);
        expect(p.includes(rule.approvers, as(outsider))).toBe(false);
        expect(p.describeApprovers(rule)).toEqual([member.toLowerCase()]);
        expectNoPrototypePollution();
      }),
      { numRuns: 60 },
    );
  });
});

describe('loadPolicy: the file itself', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmk-policy-'));

  it('a missing or unreadable path is a PolicyError naming the path and POLICY_FILE', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes('\u0000')),
          fc.constantFrom('.', '/', '/dev/null/x', dir),
        ),
        (p) => {
          const path = join(dir, 'missing', p);
          try {
            loadPolicy(path);
            throw new Error('loaded a missing file');
          } catch (e) {
            expect(e).toBeInstanceOf(PolicyError);
            expectRefusalMessage((e as Error).message, /POLICY_FILE/);
            expect((e as Error).message).toContain(path);
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it('a file with any bytes is a policy or a PolicyError naming the path', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const path = join(dir, 'p.yaml');
        writeFileSync(path, bytes);
        try {
          loadPolicy(path);
        } catch (e) {
          expect(e).toBeInstanceOf(PolicyError);
          expect((e as Error).message.startsWith(`${path}: `)).toBe(true);
          expectRefusalMessage((e as Error).message);
        }
      }),
      { numRuns: 100 },
    );
  });
});
