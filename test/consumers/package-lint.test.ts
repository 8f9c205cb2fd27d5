import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { packTarball, root, type Tarball } from '../helpers/tarball.js';

function run(command: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('the packed tarball, as registries and tools see it', () => {
  let tarball: Tarball;
  beforeAll(() => {
    tarball = packTarball();
  });

  it('holds the builds, their declarations and maps, the CLI, README, CHANGELOG and LICENSE only', () => {
    expect(tarball.files.sort()).toEqual([
      'CHANGELOG.md',
      'LICENSE',
      'README.md',
      'dist/index.cjs',
      'dist/index.cjs.map',
      'dist/index.d.cts',
      'dist/index.d.ts',
      'dist/index.js',
      'dist/index.js.map',
      'dist/sandbox/cli.js',
      'dist/sandbox/cli.js.map',
      'dist/sandbox/index.cjs',
      'dist/sandbox/index.cjs.map',
      'dist/sandbox/index.d.cts',
      'dist/sandbox/index.d.ts',
      'dist/sandbox/index.js',
      'dist/sandbox/index.js.map',
      'package.json',
    ]);
  });

  it('has types for every entry point under node10, node16 (CJS and ESM) and bundler (attw)', () => {
    const { status, output } = run(join(root, 'node_modules/.bin/attw'), [tarball.path]);
    console.log(output);
    expect(output).not.toMatch(/💀|❌|⚠️|🐛|🎭|🥴/u);
    expect(status, output).toBe(0);
  });

  it('passes publint --strict', () => {
    const { status, output } = run(join(root, 'node_modules/.bin/publint'), [
      '--strict',
      tarball.path,
    ]);
    expect(output).toContain('All good!');
    expect(status, output).toBe(0);
  });

  it('publishes (dry run) without a warning about the package', () => {
    const { status, output } = run('npm', ['publish', '--dry-run', tarball.path]);
    // Only the dry run's own note that nobody is logged in may remain.
    const warnings = output
      .split('\n')
      .filter((line) => /\bwarn\b/i.test(line) && !/requires you to be logged in/.test(line));
    expect(output).toContain('passport-number-verification');
    expect(warnings).toEqual([]);
    expect(status, output).toBe(0);
  });
});
