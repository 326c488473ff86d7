/** Jest runs every package's tests from source: @weft/* maps to packages/<name>/src. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/examples', '<rootDir>/test'],
  testMatch: ['**/test/**/*.test.ts', '<rootDir>/examples/**/*.test.ts'],
  // `@weft/<pkg>` → packages/<pkg>/src/index.ts; a subpath entry `@weft/<pkg>/<entry>` → packages/<pkg>/src/<entry>/index.ts.
  moduleNameMapper: {
    '^@weft/([^/]+)$': '<rootDir>/packages/$1/src/index.ts',
    '^@weft/([^/]+)/([^/]+)$': '<rootDir>/packages/$1/src/$2/index.ts',
  },
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }],
  },
  testTimeout: 60_000,
};
