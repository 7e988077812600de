// `npm run policy:check -- <file>`: validates a policy file offline, exactly as start-up does
// (schema, references, unique rule names, rules that can never gather enough distinct approvers),
// then prints how each rule reads and anything worth a second look.
import { loadPolicy, PolicyError } from '../src/workflow/policy';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: npm run policy:check -- <policy file>\n');
  process.exit(2);
}
try {
  const policy = loadPolicy(file);
  const lines = policy.doc.rules.map(
    (r) =>
      `  - ${r.name}: ${r.approvalsRequired} approval(s) (+${r.irreversibleExtraApprovals} when irreversible), expires after ${r.pendingHours} h; requesters ${r.requesters.join(', ')}; approvers ${policy.describeApprovers(r).join(', ')}`,
  );
  const warnings = policy.warnings().map((w) => `  ! ${w.path}: ${w.message}`);
  process.stdout.write(
    `${file}: valid, ${policy.doc.rules.length} rule(s), ${Object.keys(policy.doc.people).length} people; every rule matching a place the change touches applies:\n${lines.join('\n')}\n${warnings.length ? `warnings:\n${warnings.join('\n')}\n` : ''}policy hash ${policy.hash}\n`,
  );
} catch (e) {
  if (e instanceof PolicyError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
