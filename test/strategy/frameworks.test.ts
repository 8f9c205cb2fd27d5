import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { express, frameworkVersions, Passport } from '../helpers/frameworks.js';

// The compatibility matrix (.ci/matrix.mjs) runs this suite with PNV_EXPRESS / PNV_PASSPORT set:
// this test proves the run really used the versions its table reports.
describe('the Express and Passport the strategy tests run against', () => {
  it('are the majors the environment asks for (default: the ones package.json names)', () => {
    const expressMajor = process.env.PNV_EXPRESS || '5';
    const passportMinor = process.env.PNV_PASSPORT || '0.7';
    expect(frameworkVersions.express.startsWith(`${expressMajor}.`)).toBe(true);
    expect(frameworkVersions.passport.startsWith(`${passportMinor}.`)).toBe(true);
    expect(typeof express.urlencoded).toBe('function');
    expect(typeof new Passport().authenticate).toBe('function');
  });
});

describe('the suites the matrix runs', () => {
  it('take Express and Passport only from the switch (type imports aside)', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const offenders = ['test/strategy', 'test/state', 'test/helpers']
      .flatMap((dir) => readdirSync(join(root, dir)).map((file) => join(dir, file)))
      .filter((file) => file.endsWith('.ts') && !file.endsWith('frameworks.ts'))
      .filter((file) =>
        /^import (?!type\b)[^;]*from '(express|passport)';/m.test(
          readFileSync(join(root, file), 'utf8'),
        ),
      );
    expect(offenders).toEqual([]);
  });
});
