import { defineConfig } from 'vitest/config';
import { reporters } from './vitest.shared.js';

// `npm run test:load`: load and soak of the example app against the sandbox (test/load/). Needs
// the build (the example imports the package by name), runs alone, with `--expose-gc` so memory
// is measured after full collections, and with the strategy's debug output enabled (and scanned).
export default defineConfig({
  test: {
    reporters: reporters('load'),
    include: ['test/load/**/*.test.ts'],
    fileParallelism: false,
    execArgv: ['--expose-gc'],
    env: {
      NODE_DEBUG: 'passport-number-verification',
      // glibc keeps freed memory in per-thread arenas: with few arenas and a low trim threshold, RSS
      // follows what the process really holds instead of its high-water mark.
      MALLOC_ARENA_MAX: '2',
      MALLOC_TRIM_THRESHOLD_: '131072',
    },
    testTimeout: 600_000,
    hookTimeout: 60_000,
  },
});
