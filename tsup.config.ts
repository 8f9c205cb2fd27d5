import { defineConfig, type Options } from 'tsup';

const shared = {
  tsconfig: 'tsconfig.build.json',
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  splitting: false,
  shims: false,
} satisfies Options;

const libraries = { index: 'lib/index.ts', 'sandbox/index': 'lib/sandbox/index.ts' };

// `npm run build` empties dist/ first (the two builds below run side by side, so neither cleans).
export default defineConfig([
  // ESM, plus the CLI (ESM only: the bin points at it).
  {
    ...shared,
    entry: { ...libraries, 'sandbox/cli': 'lib/sandbox/cli.ts' },
    format: ['esm'],
    dts: { entry: libraries },
  },
  // CommonJS. jose 6 is ESM-only, and require(esm) needs Node >= 20.19 and is not available in
  // Jest's module system at all, so jose is bundled into this build: `require()` works on every
  // Node that "engines" names, and in Jest 29/30.
  {
    ...shared,
    entry: libraries,
    format: ['cjs'],
    dts: { entry: libraries },
    noExternal: ['jose'],
  },
]);
