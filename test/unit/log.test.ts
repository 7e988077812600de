// Structured logs: one JSON object per line (pino), the request or job it belongs to on every
// line written inside it, secrets redacted at any depth.
import { createLog, redact, withLogContext } from '../../src/log';

function capture(level: Parameters<typeof createLog>[0] = 'info') {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLog(level, (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  return { log, lines };
}

it('writes JSON lines with level, time, message and the context of the request it belongs to', async () => {
  const { log, lines } = capture();
  await withLogContext({ requestId: 'req-1' }, async () => {
    await new Promise((r) => setTimeout(r, 1));
    log('warn', 'ARM call failed', { correlationId: 'c-1', status: 503 });
  });
  log('info', 'outside');
  log('debug', 'below the level');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatchObject({ level: 'warn', msg: 'ARM call failed', requestId: 'req-1', correlationId: 'c-1', status: 503 });
  expect(typeof lines[0]!.time).toBe('string');
  expect(lines[1]).not.toHaveProperty('requestId');
});

it('redacts secrets by key at any depth, and bearer tokens and Slack tokens inside strings', () => {
  const { log, lines } = capture();
  // Made-up values, assembled so that nothing here looks like a real credential.
  const slackToken = ['xox', 'b-', 'fake-not-a-token'].join('');
  log('error', 'oops', { headers: { Authorization: 'Bearer abc', cookie: 'x' }, nested: [{ MicrosoftAppPassword: 'p4ss' }], note: `sent Bearer eyJhbGciOi.payload.sig to ${slackToken}` });
  const text = JSON.stringify(lines[0]);
  expect(text).not.toMatch(/abc"|p4ss|eyJhbGciOi|fake-not-a-token/);
  expect(lines[0]).toMatchObject({ headers: { Authorization: '[redacted]', cookie: '[redacted]' }, nested: [{ MicrosoftAppPassword: '[redacted]' }] });
  expect(redact({ a: { b: { c: 'fine' } } })).toEqual({ a: { b: { c: 'fine' } } });
});

it('writes nothing when silent', () => {
  const { log, lines } = capture('silent');
  log('error', 'x');
  expect(lines).toHaveLength(0);
});
