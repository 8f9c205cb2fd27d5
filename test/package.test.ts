import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsumer, packTarball } from './helpers/tarball.js';

/**
 * Packs the package as npm would publish it and installs the tarball into a fresh directory,
 * so `exports`, the dual ESM/CommonJS build and the `files` list are tested as users get them.
 * Needs `dist/` (npm test builds first).
 */
describe('the packed tarball', () => {
  let consumer: string;

  beforeAll(() => {
    const tarball = packTarball();
    expect(tarball.files).not.toContainEqual(expect.stringMatching(/^lib\//));
    consumer = createConsumer('consumer', [tarball.path]);
  }, 120_000);

  afterAll(() => rmSync(consumer, { recursive: true, force: true }));

  function run(file: string, source: string): string {
    writeFileSync(join(consumer, file), source);
    return execFileSync(process.execPath, [file], { cwd: consumer, encoding: 'utf8' }).trim();
  }

  it('works with require()', () => {
    const output = run(
      'check.cjs',
      `const pnv = require('passport-number-verification');
       const { createSandbox } = require('passport-number-verification/sandbox');
       console.log([typeof pnv.NumberVerificationStrategy, pnv.Strategy === pnv.NumberVerificationStrategy,
         typeof pnv.SessionStateStore, new pnv.TokenError('x', { code: 'y' }) instanceof pnv.NumberVerificationError,
         typeof createSandbox].join(' '));`,
    );
    expect(output).toBe('function true function true function');
  });

  it('works with import', () => {
    const output = run(
      'check.mjs',
      `import { NumberVerificationStrategy, Strategy, AuthorizationError, VerificationError } from 'passport-number-verification';
       import { createSandbox } from 'passport-number-verification/sandbox';
       console.log([typeof NumberVerificationStrategy, Strategy === NumberVerificationStrategy,
         typeof AuthorizationError, typeof VerificationError, typeof createSandbox].join(' '));`,
    );
    expect(output).toBe('function true function function function');
  });

  it('installs the number-verification-sandbox command', () => {
    const bin = join(consumer, 'node_modules', '.bin', 'number-verification-sandbox');
    const output = execFileSync(bin, ['--help'], { cwd: consumer, encoding: 'utf8' });
    expect(output).toContain('Usage: number-verification-sandbox');
  });
});
