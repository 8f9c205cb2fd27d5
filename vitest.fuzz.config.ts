import { defineConfig } from 'vitest/config';
import { reporters } from './vitest.shared.js';

// `npm run test:fuzz`: the property-based fuzzing of test/hostile/fuzz.test.ts with FUZZ_RUNS
// (50,000) runs per property instead of the 2,000 that `npm test` does.
export default defineConfig({
  test: {
    reporters: reporters('fuzz'),
    include: ['test/hostile/fuzz.test.ts', 'test/hostile/verify-fuzz.test.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 60_000,
  },
});
