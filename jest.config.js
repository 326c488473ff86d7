/** Jest runs every package's tests from source: @weft/* maps to packages/<name>/src. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/examples', '<rootDir>/test'],
  testMatch: ['**/test/**/*.test.ts', '<rootDir>/examples/**/*.test.ts'],
  moduleNameMapper: { '^@weft/(.*)$': '<rootDir>/packages/$1/src/index.ts' },
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }],
  },
  testTimeout: 60_000,
};
