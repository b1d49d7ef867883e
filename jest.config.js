/** Jest runs the TypeScript sources through babel-jest (type checking is `npm run build`). */
// No heap settler pulses (src/runtime/heap-settle.ts) under timing-bound tests unless a test asks.
process.env.UDPVAULT_HEAP_SETTLE ??= '0';
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': 'babel-jest' },
  testTimeout: 30000,
  maxWorkers: 2,
};
