import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

// The rooms rule: only src/azure imports the Azure SDK, only src/chat/teams the Teams SDK (the
// Microsoft 365 Agents SDK; botbuilder, its archived predecessor, nowhere),
// only src/chat/slack Bolt; targets/ and checks/ stay pure over our ports.
// dependency-cruiser (.dependency-cruiser.cjs, `npm run depcruise`) checks the same rooms over the
// resolved import graph, plus the rules between our own folders and cycles.
const sdk = (except) =>
  [
    { group: ['@azure/*'], message: 'Only src/azure (and the simulator) may import the Azure SDK.' },
    { group: ['@microsoft/agents-*', 'botbuilder', 'botbuilder-*', 'botframework-*'], message: 'Only src/chat/teams may import the Teams SDK (@microsoft/agents-*).' },
    { group: ['@slack/*'], message: 'Only src/chat/slack may import Slack SDKs.' },
  ].filter((p) => !except.includes(p.group[0]));

// The TypeScript that tsconfig.json compiles; these are linted with type information.
const typed = ['src/**/*.ts', 'test/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'];

export default tseslint.config(
  { ignores: ['test/summary-reporter.js', 'node_modules/**', 'dist/**', 'bench/results/**', '.data/**', 'coverage/**', 'devTools/**', 'jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: typed,
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A promise nobody awaits loses its rejection: await it, `.catch()` it, or `void` it where
      // fire-and-forget is meant and the rejection is handled inside.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: sdk([]) }],
    },
  },
  { files: ['src/azure/**', 'src/simulator/**'], rules: { 'no-restricted-imports': ['error', { patterns: sdk(['@azure/*']) }] } },
  { files: ['src/chat/teams/**'], rules: { 'no-restricted-imports': ['error', { patterns: sdk(['@microsoft/agents-*']) }] } },
  { files: ['src/chat/slack/**'], rules: { 'no-restricted-imports': ['error', { patterns: sdk(['@slack/*']) }] } },
  {
    files: ['src/targets/**', 'src/checks/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...sdk([]), { group: ['**/store/**', '**/chat/**', 'pg', '@electric-sql/*'], message: 'targets/ and checks/ stay pure over our ports.' }] }],
    },
  },
  { files: ['test/**', 'bench/**', 'scripts/**'], rules: { 'no-restricted-imports': 'off', '@typescript-eslint/no-non-null-assertion': 'off' } },
  // Last: turns off the stylistic rules prettier owns, so the two never disagree.
  prettier,
);
