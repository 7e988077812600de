// Graceful shutdown under load loses no acknowledged request. While submissions and approvals
// pour in, the bot gets SIGTERM: it stops taking requests (503, so Teams retries elsewhere),
// answers those in flight, lets running jobs finish for SHUTDOWN_GRACE_MS and hands the rest back
// to the queue. Started again, it finishes them: every submission that was answered 200 became a
// request, every approval answered 200 counts, and each approved request is written exactly once.
import { childBotRig, type ChildBotRig } from '../helpers/child-bot';
import { cardText, clickData } from '../helpers/connector';
import { fluidRelayForm } from '../helpers/forms';
import { ALICE, BOB, cardAction, post } from '../helpers/teams';

let rig: ChildBotRig;
beforeAll(async () => (rig = await childBotRig('cmk-shutdown-')));
afterAll(() => rig?.close());

const start = () => rig.start({ SHUTDOWN_GRACE_MS: '300', LOG_LEVEL: 'info' });

const form = (name: string) => fluidRelayForm(name);

const safePost = (url: string, activity: unknown) => post(url, activity).catch(() => ({ status: 0, body: undefined })); // refused connection: not acknowledged
const requestIdOn = (formMsg: string) => /Request: (CR-[A-Z0-9]{6})/.exec(cardText(rig.connector.messages.get(formMsg)))?.[1];

it('SIGTERM under load: every acknowledged submission and approval is carried out once after the restart', async () => {
  const { sim, connector } = rig;
  const url = (await start()).url;
  const bot = () => rig.bot!;
  // Requests waiting for approval, to approve during the load.
  const waiting: Array<{ name: string; formMsg: string; requestId: string }> = [];
  for (let i = 0; i < 4; i++) {
    const name = `fr-sd-w${i}-${Math.random().toString(36).slice(2, 6)}`;
    await post(url, cardAction(connector.url, ALICE, 'form.submit', form(name), `form-${name}`));
    const card = await connector.waitFor((a) => a.id === `form-${name}` && /Waiting for 1 more approval/.test(cardText(a.activity)), 30_000, 'waiting card');
    waiting.push({ name, formMsg: `form-${name}`, requestId: /Request: (CR-[A-Z0-9]{6})/.exec(cardText(card.activity))![1]! });
  }
  // Azure is slow today: work is in flight when the signal comes.
  sim.setLatency(120);
  const fresh = Array.from({ length: 12 }, (_, i) => `fr-sd-n${i}-${Math.random().toString(36).slice(2, 6)}`);
  const deliveries: Array<Promise<{ kind: 'submit' | 'approve'; key: string; status: number }>> = [];
  for (let i = 0; i < fresh.length; i++) {
    const name = fresh[i]!;
    deliveries.push(safePost(url, cardAction(connector.url, ALICE, 'form.submit', form(name), `form-${name}`)).then((r) => ({ kind: 'submit' as const, key: name, status: r.status })));
    const w = waiting[i % waiting.length]!;
    if (i < waiting.length) deliveries.push(safePost(url, cardAction(connector.url, BOB, 'request.approve', clickData(connector, w.formMsg), w.formMsg)).then((r) => ({ kind: 'approve' as const, key: w.name, status: r.status })));
    if (i === 5) setTimeout(() => bot().child.kill('SIGTERM'), 0);
    await new Promise((r) => setTimeout(r, 15));
  }
  const answered = await Promise.all(deliveries);
  const code = await bot().exited;
  expect(code).toBe(0);
  expect(bot().output()).toMatch(/SIGTERM: finishing in-flight work/);
  const acked = answered.filter((a) => a.status === 200);
  const refused = answered.filter((a) => a.status !== 200);
  // The load straddled the signal: some were taken, the rest refused (never half-taken).
  expect(acked.length).toBeGreaterThan(0);
  expect(refused.every((a) => a.status === 503 || a.status === 0)).toBe(true);

  sim.setLatency(0);
  await start();
  for (const a of acked.filter((x) => x.kind === 'submit')) {
    await connector.waitFor((x) => x.id === `form-${a.key}` && /Request: CR-/.test(cardText(x.activity)), 30_000, `request from acknowledged submission ${a.key}`);
  }
  for (const a of acked.filter((x) => x.kind === 'approve')) {
    const w = waiting.find((x) => x.name === a.key)!;
    await connector.waitFor((x) => x.kind === 'update' && x.id === w.formMsg && /Created and verified/.test(cardText(x.activity)), 30_000, `approved request ${w.requestId} done`);
    expect(sim.requests.filter((r) => r.method === 'PUT' && r.path.endsWith(`/${w.name}`))).toHaveLength(1);
  }
  // Refused submissions left nothing behind.
  for (const a of refused.filter((x) => x.kind === 'submit')) expect(requestIdOn(`form-${a.key}`)).toBeUndefined();
  await bot().kill('SIGTERM');
}, 150_000);
