/** Jest runs the TypeScript sources through babel-jest (type checking is `npm run build`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': 'babel-jest' },
  testTimeout: 30000,
  maxWorkers: 2,
};
