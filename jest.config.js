/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Transpile only (isolatedModules in tsconfig.json: ts-jest then transpiles each file on its
    // own): `npm run typecheck` is the type gate, so tests stay fast.
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  // PGlite and the HTTPS simulator take a few seconds to start on 2 cores.
  testTimeout: 30000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};
