import { defineConfig } from 'vitest/config';
import { reporters } from './vitest.shared.js';

// `npm run test:consumers`: the packed tarball as users get it — Jest (CommonJS), TypeScript under
// each moduleResolution, esbuild and webpack bundles (minified), attw, publint and
// `npm publish --dry-run`. Needs the build and the npm registry (it installs Jest, bundlers,
// TypeScript types and older Node versions into temporary projects).
export default defineConfig({
  test: {
    reporters: reporters('consumers'),
    include: ['test/consumers/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
