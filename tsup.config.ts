import { defineConfig } from 'tsup';

// ESM and CommonJS side by side; jose 6 is ESM-only, so the CommonJS build relies on
// Node's require(esm) (Node >= 20.19, see "engines").
export default defineConfig({
  entry: {
    index: 'lib/index.ts',
    'sandbox/index': 'lib/sandbox/index.ts',
    'sandbox/cli': 'lib/sandbox/cli.ts',
  },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'lib/index.ts', 'sandbox/index': 'lib/sandbox/index.ts' } },
  tsconfig: 'tsconfig.build.json',
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  clean: true,
  splitting: false,
  shims: false,
});
