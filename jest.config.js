/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }] },
  testTimeout: 30000,
  // e2e suites start real processes and browsers; two workers match the 2-core target machine
  maxWorkers: 2,
  // Suites stop their servers, browsers and child processes in afterAll; this only keeps a stray
  // keep-alive socket from holding a finished run open.
  forceExit: true,
};
