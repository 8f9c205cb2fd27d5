import { execFileSync } from 'node:child_process';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsumer, packTarball, root } from '../helpers/tarball.js';

const tsc = join(root, 'node_modules/typescript/bin/tsc');

/** One fixture app, compiled as each kind of TypeScript project resolves packages. */
const PROJECTS = {
  node10: { file: 'app.ts', module: 'commonjs', moduleResolution: 'node10' },
  'node16 (CommonJS)': { file: 'app.cts', module: 'node16', moduleResolution: 'node16' },
  'node16 (ESM)': { file: 'app.mts', module: 'node16', moduleResolution: 'node16' },
  bundler: { file: 'app.ts', module: 'esnext', moduleResolution: 'bundler' },
} as const;

describe('TypeScript consumers of the packed tarball (strict, no casts)', () => {
  let consumer: string;

  beforeAll(() => {
    consumer = createConsumer('ts-consumer', [
      packTarball().path,
      'passport@0.7',
      'express@5',
      '@types/passport@1',
      '@types/express@5',
      '@types/node@20',
    ]);
    const fixture = join(root, 'test/consumers/fixtures/typescript/app.ts');
    for (const file of ['app.ts', 'app.mts', 'app.cts'])
      copyFileSync(fixture, join(consumer, file));
  });

  afterAll(() => rmSync(consumer, { recursive: true, force: true }));

  it.each(Object.entries(PROJECTS))('compiles under moduleResolution %s', (name, project) => {
    const tsconfig = `tsconfig.${name.replace(/\W+/g, '-')}.json`;
    writeFileSync(
      join(consumer, tsconfig),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          // The shipped declarations are checked too, with the @types packages they import.
          skipLibCheck: false,
          esModuleInterop: true,
          target: 'ES2022',
          module: project.module,
          moduleResolution: project.moduleResolution,
          types: ['node'],
        },
        files: [project.file],
      }),
    );
    const output = compile(tsconfig);
    expect(output).toBe('');
  });

  it('reports a wrong option type, so the runs above are real checks', () => {
    writeFileSync(
      join(consumer, 'wrong.ts'),
      `import passport from 'passport';\nimport 'passport-number-verification';\n` +
        `passport.authenticate('number-verification', { appState: 'returnTo=/cart' });\n`,
    );
    writeFileSync(
      join(consumer, 'tsconfig.wrong.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          esModuleInterop: true,
          target: 'ES2022',
          module: 'node16',
          moduleResolution: 'node16',
          types: ['node'],
        },
        files: ['wrong.ts'],
      }),
    );
    const output = compile('tsconfig.wrong.json');
    expect(output).toMatch(/^wrong\.ts\(3,\d+\): error TS\d+/);
    expect(output).toContain("Type 'string' is not assignable to type 'Record<string, unknown>'");
  });

  function compile(tsconfig: string): string {
    try {
      return execFileSync(process.execPath, [tsc, '-p', tsconfig], {
        cwd: consumer,
        encoding: 'utf8',
      }).trim();
    } catch (error) {
      return String((error as { stdout?: string }).stdout ?? error);
    }
  }
});
