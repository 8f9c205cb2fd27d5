import { defineConfig } from 'vitest/config';
import { reporters } from './vitest.shared.js';

export default defineConfig({
  test: {
    reporters: reporters('unit'),
    include: ['test/**/*.test.ts'],
    exclude: [
      'test/e2e/**',
      'test/load/**',
      'test/consumers/**',
      'test/scale/**',
      'node_modules/**',
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    coverage: {
      provider: 'v8',
      include: ['lib/**/*.ts'],
      exclude: ['lib/sandbox/cli.ts'],
      reporter: ['text-summary', 'text'],
    },
  },
});
