// `npx tsx scripts/walkthrough-samples.ts [<name> …]`: plays docs/walkthrough.md against the real
// bot (the playground's people and group chat, the local policy, the embedded simulator) and prints
// what the bot says at each step, as the doc's `<!-- sample: <name> -->` blocks hold it. Paste from
// here when the bot's words change; test/e2e/walkthrough-doc.test.ts fails until the doc agrees.
import { walkthroughSamples } from '../test/helpers/walkthrough';

async function main() {
  const wanted = process.argv.slice(2);
  const samples = await walkthroughSamples();
  for (const [name, text] of Object.entries(samples)) {
    if (wanted.length && !wanted.includes(name)) continue;
    process.stdout.write(`<!-- sample: ${name} -->\n\n\`\`\`text\n${text}\n\`\`\`\n\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`walkthrough-samples failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
