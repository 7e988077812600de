// docs/walkthrough.md shows what the bot says: every `<!-- sample: <name> -->` block in it is held to
// what the real bot answers when the walkthrough is played against it (test/helpers/walkthrough.ts:
// the playground's people and group chat, the local policy, the embedded simulator). When the bot's
// words change this fails; `npx tsx scripts/walkthrough-samples.ts` prints the new samples.
import { readFileSync } from 'node:fs';
import { helpText } from '../../src/chat/commands';
import { docSamples, normalize, sampleMismatch, walkthroughSamples, type Samples } from '../helpers/walkthrough';

const DOC = readFileSync('docs/walkthrough.md', 'utf8');
const samples = docSamples(DOC);

describe('docs/walkthrough.md', () => {
  let said: Samples;
  beforeAll(async () => {
    said = await walkthroughSamples();
  }, 120000);

  it('shows a sample of every step the walkthrough plays', () => {
    expect(samples.map((s) => s.name).sort()).toEqual(Object.keys(said).sort());
  });

  it.each(samples.map((s) => [s.name, s.line, s.text] as const))('sample "%s" (line %d) is what the bot says', (name, _line, text) => {
    expect(said[name]).toBeDefined();
    expect(sampleMismatch(text, said[name]!)).toBeUndefined();
  });

  it('shows the help in full, exactly as src/chat/commands.ts writes it', () => {
    const help = samples.find((s) => s.name === 'help');
    expect(help?.text).toBe(helpText());
    expect(said.help).toBe(helpText());
  });
});

describe('a doc sample against what the bot said', () => {
  const said = ['Title', 'Waiting for 2 more approvals.', 'Request: CR-…', '[Approve]', '[Refresh]'].join('\n');

  it('matches line for line, or with "…" for lines left out', () => {
    expect(sampleMismatch(said, said)).toBeUndefined();
    expect(sampleMismatch('Title\n…\n[Approve]\n…', said)).toBeUndefined();
    expect(sampleMismatch('…\n[Refresh]', said)).toBeUndefined();
  });

  it('fails on a changed line, a line the bot no longer says, lines out of order, or a tail left out without "…"', () => {
    expect(sampleMismatch(said.replace('2 more', '1 more'), said)).toMatch(/expected "Waiting for 1 more approvals\."/);
    expect(sampleMismatch('Title\n…\n[Cancel request]', said)).toMatch(/"\[Cancel request\]" is not in what the bot said/);
    expect(sampleMismatch('…\n[Refresh]\n…\n[Approve]', said)).toMatch(/"\[Approve\]" is not in/);
    expect(sampleMismatch('Title\nWaiting for 2 more approvals.', said)).toMatch(/the bot said more: "Request: CR-…"/);
  });

  it('reads the samples from the doc, and writes run-dependent values as the doc does', () => {
    expect(docSamples('x\n<!-- sample: one -->\n\n```text\na\nb\n```\n')).toEqual([{ name: 'one', line: 2, text: 'a\nb' }]);
    expect(normalize('CR-7KQ2MX done (correlation id 0a1b2c3d-0000-4000-8000-000000000001), expires 2026-12-07 10:00 UTC', ['CR-7KQ2MX'])).toBe('CR-… done (correlation id <guid>), expires <time>');
  });
});
