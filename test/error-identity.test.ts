import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as source from '../lib/index.js';

type Package = typeof source;

// Both shipped copies, as an app gets them when it `import`s the package while a library it uses
// `require`s it (npm test builds dist/ first).
const esm = (await import(new URL('../dist/index.js', import.meta.url).href)) as Package;
const cjs = createRequire(import.meta.url)('../dist/index.cjs') as Package;

const CLASSES = [
  'NumberVerificationError',
  'AuthorizationError',
  'TokenError',
  'VerificationError',
] as const;

describe('error classes across the ESM and CommonJS copies', () => {
  it('are distinct class objects in the two builds (so the brand is what matches)', () => {
    expect(cjs.TokenError).not.toBe(esm.TokenError);
  });

  it.each(CLASSES)('%s from one copy is an instance of the same class in the other', (name) => {
    for (const [from, to] of [
      [cjs, esm],
      [esm, cjs],
      [source, cjs],
    ] as const) {
      const error = new from[name]('message', { code: 'some_code' });
      expect(error instanceof to[name]).toBe(true);
      expect(error instanceof to.NumberVerificationError).toBe(true);
      expect(error instanceof Error).toBe(true);
    }
  });

  it('keeps sibling classes apart', () => {
    const error = new cjs.TokenError('message', { code: 'timeout' });
    expect(error instanceof esm.VerificationError).toBe(false);
    expect(error instanceof esm.AuthorizationError).toBe(false);
    expect(new cjs.NumberVerificationError('m', { code: 'c' }) instanceof esm.TokenError).toBe(
      false,
    );
  });

  it('rejects values that are not our errors', () => {
    for (const value of [new Error('x'), { code: 'timeout' }, null, undefined, 'TokenError', 42]) {
      expect(value instanceof esm.TokenError).toBe(false);
      expect(value instanceof cjs.NumberVerificationError).toBe(false);
    }
    // A look-alike without the brand does not pass either.
    const lookAlike = Object.create(Error.prototype) as Error;
    expect(lookAlike instanceof esm.NumberVerificationError).toBe(false);
  });

  it("leaves an application's own subclasses with ordinary instanceof", () => {
    class AppError extends esm.TokenError {}
    const appError = new AppError('message', { code: 'timeout' });
    expect(appError instanceof AppError).toBe(true);
    expect(appError instanceof cjs.TokenError).toBe(true);
    expect(new esm.TokenError('message', { code: 'timeout' }) instanceof AppError).toBe(false);
    expect(appError.name).toBe('AppError');
  });
});
