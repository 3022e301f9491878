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
};
