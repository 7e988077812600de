// Card submissions (Teams Action.Execute data, the Slack modal after readForm) → parseForm and
// each target's zod schema: a refusal that names the field, never an exception, nothing mutated;
// every form the grammar allows is accepted, and what is accepted can be planned, checked,
// digested and stored without blowing up later.
import fc from 'fast-check';
import { ArmError, type ArmGateway } from '../../src/azure/port';
import { canonicalJson } from '../../src/domain/canonical';
import { findTarget, TARGETS } from '../../src/targets';
import { parseForm, type Target } from '../../src/targets/types';
import { BREAK, brokenId, cardExtras, definition, type Form, notString, VALID } from './gen-forms';
import {
  addressesItself,
  anyValue,
  expectNoPrototypePollution,
  expectRefusalMessage,
  hostileText,
  jsonObject,
  mutated,
  parsedJson,
  PROTO_KEYS,
  protoKey,
  UNIT_RUNS,
  unstorablePath,
  validIdentityId,
  validStorageId,
  validVmId,
} from './support';

const withExtras = (type: string) => fc.tuple(VALID[type]!, cardExtras(type)).map(([f, x]): Form => ({ ...x, ...f }));

/** A gateway whose every read answers 404 (and every list nothing), as for a resource that is not (yet) there. */
const NOTHING_THERE = { get: async () => Promise.reject(new ArmError('ResourceNotFound', 'not found', 404)), getOrNull: async () => undefined, list: async () => [] } as unknown as ArmGateway;

/** After parsing: prepare, plan, subject, summary, digest input and storage must all work. */
async function expectUsable(target: Target, params: Record<string, unknown>): Promise<void> {
  const prepared = target.prepare ? await target.prepare(params, NOTHING_THERE) : params;
  const plan = target.plan(prepared);
  const subject = target.subject(prepared);
  expect(addressesItself(plan.resourceId)).toBe(true);
  expect(addressesItself(target.resourceId(prepared))).toBe(true);
  if (subject.identityId) expect(addressesItself(subject.identityId)).toBe(true);
  if (subject.storageAccountId) expect(addressesItself(subject.storageAccountId)).toBe(true);
  // The checks read the container by path before they judge its name.
  if (subject.storageAccountId && subject.blobContainerName) expect(addressesItself(`${subject.storageAccountId}/blobServices/default/containers/${subject.blobContainerName}`)).toBe(true);
  for (const f of target.summary(prepared)) expect(typeof f.value).toBe('string');
  target.irreversible(prepared);
  expect(() => canonicalJson({ plan, params: prepared })).not.toThrow();
  // Stored as they are (request row, audit entry, job payload): nothing Postgres refuses.
  expect(unstorablePath({ plan, params: prepared })).toBeUndefined();
  expect(() => JSON.stringify({ plan, params: prepared })).not.toThrow();
}

/** A refusal names fields of the form (or the form itself), and each message says what to fix. */
function expectFieldRefusal(target: Target, outcome: ReturnType<typeof parseForm>, field?: string): void {
  expect(outcome.ok).toBe(false);
  if (outcome.ok) return;
  expect(outcome.errors.length).toBeGreaterThan(0);
  const names = ['', ...target.fields.map((f) => f.name)];
  for (const e of outcome.errors) {
    expect(names).toContain(e.field);
    expect(e.label.length).toBeGreaterThan(0);
    expectRefusalMessage(e.message);
    // Our own wording names the field; zod's generic one at least says what was expected.
    expect(e.message.toLowerCase().includes(e.label.toLowerCase()) || /expected|must|required|choose|invalid/i.test(e.message)).toBe(true);
  }
  if (field) expect(outcome.errors.map((e) => e.field)).toContain(field);
}

const TYPES = Object.keys(TARGETS);

describe.each(TYPES)('%s form', (type) => {
  const target = TARGETS[type]!;

  it('any value at all (JSON, Maps, Dates, null prototypes, boxed values) is refused field by field or accepted, never thrown', () => {
    fc.assert(
      fc.property(anyValue(), (data) => {
        const r = parseForm(target, data);
        if (!r.ok) expectFieldRefusal(target, r);
        expectNoPrototypePollution();
      }),
      { numRuns: 100 },
    );
  });

  it('a form of hostile strings in every field is refused naming the fields, and the submission is not modified', () => {
    const hostileForm = fc.dictionary(fc.oneof(fc.constantFrom(...target.fields.map((f) => f.name)), protoKey(), fc.string()), fc.oneof(hostileText(120), parsedJson(2)), { maxKeys: 12 });
    fc.assert(
      fc.property(
        hostileForm.map((d) => jsonObject(Object.entries(d))),
        (data) => {
          const before = JSON.stringify(data);
          const r = parseForm(target, data);
          expect(JSON.stringify(data)).toBe(before);
          if (!r.ok) expectFieldRefusal(target, r);
          expectNoPrototypePollution();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('every valid form is accepted as entered (trimmed), with Teams’ verb/targetType alongside, and can be planned', async () => {
    await fc.assert(
      fc.asyncProperty(withExtras(type), fc.constantFrom('', ' ', '\t', '\n'), async (form, pad) => {
        const padded = Object.fromEntries(Object.entries(form).map(([k, v]) => [k, typeof v === 'string' && !['verb', 'targetType', 'storagesku', 'disableCmk'].includes(k) ? `${pad}${v}${pad}` : v]));
        const r = parseForm(target, padded);
        if (!r.ok) throw new Error(`refused a valid form: ${JSON.stringify(r.errors)}\n${JSON.stringify(padded)}`);
        for (const f of target.fields) {
          const v = form[f.name];
          if (typeof v !== 'string') continue;
          expect(r.params[f.name]).toBe(f.name === 'keyVersion' && v === '' ? 'latest' : v);
        }
        await expectUsable(target, r.params);
      }),
      { numRuns: 60 },
    );
  });

  it('prototype keys alongside a valid form change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(VALID[type]!, fc.array(fc.tuple(protoKey(), parsedJson(2)), { minLength: 1, maxLength: 4 }), async (form, extra) => {
        const data = jsonObject([...Object.entries(form).filter(([, v]) => v !== undefined), ...extra]);
        const r = parseForm(target, data);
        if (!r.ok) throw new Error(`refused: ${JSON.stringify(r.errors)}`);
        expect(Object.getPrototypeOf(r.params)).toBe(Object.prototype);
        for (const k of PROTO_KEYS) expect(Object.prototype.hasOwnProperty.call(r.params, k)).toBe(false);
        await expectUsable(target, r.params);
        expectNoPrototypePollution();
      }),
      { numRuns: 60 },
    );
  });
});

// --- near-valid: one field broken, that field named -------------------------------------------------

describe.each(TYPES)('%s form: one broken field is refused, naming it', (type) => {
  const target = TARGETS[type]!;
  const fields = target.fields.map((f) => f.name).filter((f) => BREAK[type]?.[f] ?? BREAK.common![f]);

  it.each(fields)('%s', (field) => {
    fc.assert(
      fc.property(VALID[type]!, (BREAK[type]?.[field] ?? BREAK.common![field])!, (form, bad) => {
        const data = jsonObject([...Object.entries(form).filter(([k, v]) => k !== field && v !== undefined), [field, bad]]);
        expectFieldRefusal(target, parseForm(target, data), field);
      }),
      { numRuns: 40 },
    );
  });
});

describe.each(TYPES)('%s form: any value in one field', (type) => {
  const target = TARGETS[type]!;
  it.each(target.fields.map((f) => f.name))('%s: refused with a well-formed answer, or accepted and usable', async (field) => {
    const value = fc.oneof(
      hostileText(120),
      notString,
      VALID[type]!.chain((f) => (typeof f[field] === 'string' ? mutated(f[field] as string) : hostileText(20))),
    );
    await fc.assert(
      fc.asyncProperty(VALID[type]!, value, async (form, v) => {
        const r = parseForm(target, jsonObject([...Object.entries(form).filter(([k, x]) => k !== field && x !== undefined), [field, v]]));
        if (r.ok) await expectUsable(target, r.params);
        else expectFieldRefusal(target, r);
      }),
      { numRuns: 25 },
    );
  });
});

describe('chaos-experiment: templates and definitions', () => {
  const chaos = TARGETS['chaos-experiment']!;
  const base = VALID['chaos-experiment']!.map((f) => {
    const { template: _t, targetResourceId: _r, definition: _d, ...rest } = f as Form & { template?: string; targetResourceId?: string; definition?: string };
    return rest;
  });

  it('a template that is not one of ours (prototype names included) is refused on the template field', () => {
    const template = fc.oneof(
      protoKey(),
      fc
        .constant('vm-shutdown')
        .chain(mutated)
        .filter((t) => t.trim() !== 'vm-shutdown' && t.trim() !== ''),
    );
    fc.assert(
      fc.property(base, template, validVmId(), (form, t, vm) => {
        expectFieldRefusal(chaos, parseForm(chaos, jsonObject([...Object.entries(form), ['template', t], ['targetResourceId', vm]])), 'template');
      }),
      { numRuns: 150 },
    );
  });

  it('a template target that is not a VM id is refused on the target field', () => {
    fc.assert(
      fc.property(
        base,
        brokenId(validVmId()).filter((v) => typeof v !== 'string' || v.trim() !== ''),
        (form, target) => {
          const r = parseForm(chaos, jsonObject([...Object.entries(form), ['template', 'vm-shutdown'], ['targetResourceId', target]]));
          expectFieldRefusal(chaos, r, typeof target === 'string' ? 'targetResourceId' : undefined);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('any pasted JSON (or not JSON) as the definition is refused on the definition field, or accepted and usable', async () => {
    const text = fc.oneof(fc.json({ maxDepth: 5 }), hostileText(200), definition.chain(mutated));
    await fc.assert(
      fc.asyncProperty(
        base,
        text.filter((t) => t.trim() !== ''),
        async (form, d) => {
          const r = parseForm(chaos, { ...form, definition: d });
          if (r.ok) await expectUsable(chaos, r.params);
          else expectFieldRefusal(chaos, r, 'definition');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a deeply nested definition is refused on the definition field (or survives digest and storage)', async () => {
    const deep = fc.tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom('[', '{"a":')).map(([n, open]) => {
      const close = open === '[' ? ']' : '}';
      return `{"steps":[{"name":"s","branches":[{"name":"b","actions":[{"type":"delay","name":"x","deep":${open.repeat(n)}1${close.repeat(n)}}]}]}],"selectors":[{"type":"List","id":"s"}]}`;
    });
    await fc.assert(
      fc.asyncProperty(base, deep, async (form, d) => {
        const r = parseForm(chaos, { ...form, definition: d });
        if (r.ok) await expectUsable(chaos, r.params);
        else expectFieldRefusal(chaos, r, 'definition');
      }),
      { numRuns: 40 },
    );
  });
});

describe('targets are looked up by their own names only', () => {
  it('findTarget(any text) is a target of that type, or nothing (prototype names included)', () => {
    fc.assert(
      fc.property(fc.oneof(protoKey(), hostileText(30), fc.constantFrom(...TYPES)), (name) => {
        const t = findTarget(name);
        if (Object.keys(TARGETS).includes(name)) expect(t?.type).toBe(name);
        else expect(t).toBeUndefined();
      }),
      { ...UNIT_RUNS, examples: [['constructor'], ['__proto__'], ['toString']] },
    );
  });
});

describe('fields read from Azure cannot be smuggled in a submission', () => {
  const smuggled = fc.record({
    location: hostileText(40),
    currentKeyUrl: fc.constant('https://evil.vault.azure.net/keys/x'),
    currentIdentityIds: fc.array(validIdentityId(), { minLength: 1, maxLength: 3 }),
    currentIdentityType: fc.constantFrom('SystemAssigned', 'SystemAssigned,UserAssigned'),
    storageAccountId: validStorageId(),
    blobContainerName: fc.constant('smuggled'),
  });

  it.each([['fluid-relay-rotate'], ['storage-cmk'], ['chaos-identity']])('%s: prepare() replaces what the form claims about the current resource', async (type) => {
    const target = TARGETS[type]!;
    await fc.assert(
      fc.asyncProperty(VALID[type]!, smuggled, async (form, extra) => {
        const r = parseForm(target, { ...extra, ...form });
        if (!r.ok) throw new Error(`refused: ${JSON.stringify(r.errors)}`);
        const p = await target.prepare!(r.params, NOTHING_THERE);
        const body = JSON.stringify(target.plan(p).body);
        expect(body).not.toContain('evil.vault');
        expect(body).not.toContain('smuggled');
        for (const id of extra.currentIdentityIds) if (id !== form.identityId) expect(body).not.toContain(JSON.stringify(id));
        if (type === 'storage-cmk') expect(body).not.toContain('SystemAssigned');
        if (type === 'chaos-identity') expect(p.storageAccountId).toBeUndefined();
      }),
      { numRuns: 60 },
    );
  });
});
