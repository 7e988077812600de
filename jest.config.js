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
  // jwks-rsa (inside the Agents SDK's token check) requires jose 6, which ships only as an ES module:
  // Node loads it with require(), Jest's module loader cannot. Under Jest it gets the project's
  // jose 5 CommonJS build instead, which has the same importJWK/exportSPKI it uses to turn a
  // published key into PEM (the signature check itself is jsonwebtoken's).
  moduleNameMapper: { '^jose$': '<rootDir>/node_modules/jose/dist/node/cjs/index.js' },
  // PGlite and the HTTPS simulator take a few seconds to start on 2 cores.
  testTimeout: 30000,
  // One empty PGlite database for the whole run, which tests start new stores from (test/helpers/pglite.ts).
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};
