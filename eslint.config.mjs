import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The rooms rule: only src/azure imports the Azure SDK, only src/chat/teams botbuilder,
// only src/chat/slack Bolt; targets/ and checks/ stay pure over our ports.
const sdk = (except) => [
  { group: ['@azure/*'], message: 'Only src/azure (and the simulator) may import the Azure SDK.' },
  { group: ['botbuilder', 'botbuilder-*', 'botframework-*'], message: 'Only src/chat/teams may import botbuilder.' },
  { group: ['@slack/*'], message: 'Only src/chat/slack may import Slack SDKs.' },
].filter((p) => !except.includes(p.group[0]));

export default tseslint.config(
  { ignores: ['test/summary-reporter.js', 'node_modules/**', 'dist/**', '.data/**', 'coverage/**', 'devTools/**', 'jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: sdk([]) }],
    },
  },
  { files: ['src/azure/**', 'src/simulator/**'], rules: { 'no-restricted-imports': ['error', { patterns: sdk(['@azure/*']) }] } },
  { files: ['src/chat/teams/**'], rules: { 'no-restricted-imports': ['error', { patterns: sdk(['botbuilder']) }] } },
  { files: ['src/chat/slack/**'], rules: { 'no-restricted-imports': ['error', { patterns: sdk(['@slack/*']) }] } },
  {
    files: ['src/targets/**', 'src/checks/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...sdk([]), { group: ['**/store/**', '**/chat/**', 'pg', '@electric-sql/*'], message: 'targets/ and checks/ stay pure over our ports.' }] }],
    },
  },
  { files: ['test/**', 'bench/**', 'scripts/**'], rules: { 'no-restricted-imports': 'off', '@typescript-eslint/no-non-null-assertion': 'off' } },
);
