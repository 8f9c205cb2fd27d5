import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Packs the package as npm would publish it and installs the tarball into a fresh directory,
 * so `exports`, the dual ESM/CommonJS build and the `files` list are tested as users get them.
 * Needs `dist/` (npm test builds first).
 */
describe('the packed tarball', () => {
  let consumer: string;

  beforeAll(() => {
    consumer = mkdtempSync(join(tmpdir(), 'pnv-consumer-'));
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', consumer], {
        cwd: root,
        encoding: 'utf8',
      }),
    ) as { filename: string; files: { path: string }[] }[];
    if (!packed) throw new Error('npm pack produced nothing');
    expect(packed.files.map((file) => file.path)).not.toContainEqual(
      expect.stringMatching(/^lib\//),
    );
    writeFileSync(join(consumer, 'package.json'), '{"name":"consumer","private":true}');
    execFileSync(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', join(consumer, packed.filename)],
      { cwd: consumer, stdio: 'ignore' },
    );
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
