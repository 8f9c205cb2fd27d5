import { defineConfig } from 'vitest/config';
import { reporters } from './vitest.shared.js';

// `npm run test:scale`: three app instances (separate processes) behind a balancer, on a real
// redis-server (test/scale/). Needs the build (the instances import the package by name) and
// runs alone: the scenarios measure the whole machine.
export default defineConfig({
  test: {
    reporters: reporters('scale'),
    include: ['test/scale/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 60_000,
  },
});
