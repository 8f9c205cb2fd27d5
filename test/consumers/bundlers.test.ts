import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsumer, packTarball, root } from '../helpers/tarball.js';

/**
 * Server apps are bundled too (esbuild, webpack), usually minified. An Express app using the
 * package from the packed tarball is bundled three ways, then each bundle runs on its own, in a
 * directory with no node_modules, and must sign in, refuse, and name its errors as unbundled.
 */
describe('an Express app bundled with esbuild and webpack (minified)', () => {
  let consumer: string;
  let shipped: string;

  beforeAll(() => {
    consumer = createConsumer('bundler-consumer', [
      packTarball().path,
      'express@5',
      'express-session@1',
      'passport@0.7',
      'esbuild@0.27',
      'webpack@5',
    ]);
    for (const file of ['bundled-app.mjs', 'bundle.cjs']) {
      copyFileSync(join(root, 'test/consumers/fixtures', file), join(consumer, file));
    }
    execFileSync(process.execPath, ['bundle.cjs'], { cwd: consumer, stdio: 'pipe' });
    // Only the bundles ship: nothing can be resolved from a node_modules beside them.
    shipped = mkdtempSync(join(tmpdir(), 'pnv-bundles-'));
    cpSync(join(consumer, 'out'), shipped, { recursive: true });
  }, 300_000);

  afterAll(() => {
    rmSync(consumer, { recursive: true, force: true });
    rmSync(shipped, { recursive: true, force: true });
  });

  it.each(['esbuild.cjs', 'esbuild.mjs', 'webpack.cjs'])(
    '%s: signs in, refuses an unverified number, and names a TokenError',
    (bundle) => {
      const output = execFileSync(process.execPath, [bundle], {
        cwd: shipped,
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      expect(JSON.parse(output.trim().split('\n').at(-1) ?? 'null')).toEqual([
        { signedIn: '+99012345678' },
        { failed: 'not_verified' },
        // `err.name` survives minification: the README's checklist has apps log it.
        { error: 'TokenError', code: 'temporarily_unavailable', known: true },
      ]);
    },
    60_000,
  );
});
