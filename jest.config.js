/**
 * Tests import TypeScript sources directly. ts-jest transpiles each file on its own
 * (isolatedModules) for speed; `npm test` runs tsc first for the type check.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true, module: 'commonjs', esModuleInterop: true, resolveJsonModule: true, target: 'es2022' } }] },
  testTimeout: 60000,
  // Most suites wait on a database, a child process or a browser, so more workers than cores pays off (2 cores here: jest's default of one worker took 26 minutes).
  maxWorkers: process.env.CANE_TEST_WORKERS ? Number(process.env.CANE_TEST_WORKERS) : 3,
};
