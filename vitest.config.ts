import { defineConfig } from 'vitest/config';
import { reporters } from './vitest.shared.js';

/**
 * The suites whose behaviours every provider must keep (fail codes, error classes, replay, expiry,
 * timeouts, secrets): run a second time through `camara()` against the sandbox's CAMARA v2 side.
 */
const PROVIDER_SUITES = [
  'test/strategy/callback.test.ts',
  'test/strategy/verify-callback.test.ts',
  'test/strategy/raw-request.test.ts',
  'test/hostile/security.test.ts',
  'test/hostile/secrets.test.ts',
  'test/hostile/fault-matrix.test.ts',
];

const shared = {
  testTimeout: 30_000,
  hookTimeout: 30_000,
};

export default defineConfig({
  test: {
    reporters: reporters('unit'),
    coverage: {
      provider: 'v8',
      include: ['lib/**/*.ts'],
      exclude: ['lib/sandbox/cli.ts'],
      reporter: ['text-summary', 'text'],
    },
    projects: [
      {
        test: {
          ...shared,
          name: 'vonage',
          include: ['test/**/*.test.ts'],
          exclude: [
            'test/e2e/**',
            'test/load/**',
            'test/consumers/**',
            'test/scale/**',
            'node_modules/**',
          ],
        },
      },
      {
        test: {
          ...shared,
          name: 'camara',
          include: PROVIDER_SUITES,
          env: { TEST_PROVIDER: 'camara' },
        },
      },
    ],
  },
});
