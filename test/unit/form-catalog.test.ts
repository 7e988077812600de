// The form pickers are remembered per subscription for a while: one set of ARM reads serves every
// form opened meanwhile (and concurrent opens share it); a failed load is not remembered.
import type { ArmGateway } from '../../src/azure/port';
import { FormCatalog } from '../../src/workflow/catalog';

function fakeArm() {
  const calls: string[] = [];
  let fail = false;
  const arm = {
    async list(path: string) {
      calls.push(path);
      if (fail) throw new Error('ARM is down');
      if (path === '/subscriptions') return [{ subscriptionId: 'sub-1', displayName: 'One', state: 'Enabled' }];
      return [];
    },
  } as unknown as ArmGateway;
  return { arm, calls, failNext: (v: boolean) => (fail = v) };
}

it('reads once per subscription within the time to live, shared by concurrent opens', async () => {
  let now = 0;
  const { arm, calls } = fakeArm();
  const catalog = new FormCatalog(arm, 30_000, () => now);
  const [a, b] = await Promise.all([catalog.choices(), catalog.choices()]);
  expect(a).toBe(b);
  const once = calls.length;
  expect(once).toBeGreaterThan(1);
  now += 29_000;
  await catalog.choices();
  expect(calls.length).toBe(once);
  now += 2_000;
  await catalog.choices();
  expect(calls.length).toBe(2 * once);
});

it('does not remember a failed load, and with a time to live of 0 reads every time', async () => {
  const { arm, calls, failNext } = fakeArm();
  const catalog = new FormCatalog(arm, 30_000);
  failNext(true);
  await expect(catalog.choices()).rejects.toThrow(/ARM is down/);
  failNext(false);
  await expect(catalog.choices()).resolves.toMatchObject({ subscriptionId: 'sub-1' });
  const uncached = new FormCatalog(arm, 0);
  const before = calls.length;
  await uncached.choices();
  await uncached.choices();
  expect(calls.length - before).toBeGreaterThan(2);
});

it('says it holds the pickers only once their reads have answered, while they are fresh, and never with a time to live of 0', async () => {
  let now = 0;
  const { arm } = fakeArm();
  const catalog = new FormCatalog(arm, 30_000, () => now);
  expect(catalog.cached()).toBe(false);
  const loading = catalog.choices();
  // On their way: a form made now would wait on ARM.
  expect(catalog.cached()).toBe(false);
  await loading;
  expect(catalog.cached()).toBe(true);
  expect(catalog.cached('SUB-OTHER')).toBe(false);
  now += 31_000;
  expect(catalog.cached()).toBe(false);
  const uncached = new FormCatalog(arm, 0);
  await uncached.choices();
  expect(uncached.cached()).toBe(false);
});
