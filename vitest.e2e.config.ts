import { defineConfig } from 'vitest/config';
import { reporters } from './vitest.shared.js';

// Browser tests of the example app (npm run test:e2e). Kept apart from the unit and integration
// suite: they need a built package and the system Chromium.
export default defineConfig({
  test: {
    reporters: reporters('e2e'),
    include: ['test/e2e/**/*.test.mjs'],
    globalSetup: ['test/e2e/global-setup.mjs'],
    // One browser at a time: the files share nothing, but Chromium is the heavy part.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
