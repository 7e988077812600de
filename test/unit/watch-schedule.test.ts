// Scheduled watchdog scans with several replicas: each replica's timer asks for the scan of the
// current interval slot, and the job key makes it one scan per slot, whenever in the slot each asks.
import type { Store } from '../../src/store/store';
import type { DurableQueue } from '../../src/workflow/durable';
import { JobRegistry } from '../../src/workflow/job-registry';
import type { Policy } from '../../src/workflow/policy';
import { Watchdog } from '../../src/workflow/watchdog';

function replica(now: () => Date): Watchdog {
  const w = new Watchdog({ store: {} as Store, arm: {} as never, policy: () => ({}) as Policy, queue: {} as DurableQueue, registry: new JobRegistry(), notifiers: {}, scanner: async () => ({ findings: [], stands: () => false }), now });
  // The timer is not what is tested: the interval only names the slot.
  w.start(60 * 60_000);
  w.stop();
  return w;
}

it('two replicas asking at different minutes of one hour slot ask for the same scan; the next slot is another', () => {
  const t = Date.UTC(2026, 11, 6, 9, 0, 0);
  let a = t + 5 * 60_000;
  let b = t + 47 * 60_000;
  const first = replica(() => new Date(a)).scheduledScan();
  const second = replica(() => new Date(b)).scheduledScan();
  expect(first.key).toBe(second.key);
  expect(first.lane).toBe('watch:scan');
  a = t + 65 * 60_000;
  b = t + 119 * 60_000;
  const next = replica(() => new Date(a)).scheduledScan();
  expect(next.key).not.toBe(first.key);
  expect(replica(() => new Date(b)).scheduledScan().key).toBe(next.key);
});
