import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { startLoginApp, type LoginAppOptions } from '../helpers/login-app.js';

const VERIFIED = '+99012345678';

async function loginWith(options: LoginAppOptions) {
  const h = await startLoginApp(options);
  try {
    return await h.login(VERIFIED);
  } finally {
    await h.close();
  }
}

describe('the application verify function', () => {
  it('accepts an async verify that resolves to the user', async () => {
    const outcome = await loginWith({
      verify: async (phoneNumber) => ({ id: `u-${phoneNumber}` }),
    });
    expect(outcome).toMatchObject({ outcome: 'success', user: { id: `u-${VERIFIED}` } });
  });

  it.each([false, null, undefined])(
    'fails with user_rejected when an async verify resolves to %s',
    async (result) => {
      const outcome = await loginWith({ verify: async () => result });
      expect(outcome).toMatchObject({ outcome: 'fail', info: { code: 'user_rejected' } });
    },
  );

  it('passes the info of done(null, false, info) to fail unchanged', async () => {
    const outcome = await loginWith({
      verify: (_, done) => done(null, false, { code: 'no_account', message: 'Sign up first' }),
    });
    expect(outcome).toMatchObject({
      outcome: 'fail',
      info: { code: 'no_account', message: 'Sign up first' },
    });
  });

  it('merges the info of done(null, user, info) into success info', async () => {
    const outcome = await loginWith({ verify: (_, done) => done(null, { id: 1 }, { scope: 'x' }) });
    expect(outcome.info).toEqual({
      scope: 'x',
      phoneNumber: VERIFIED,
      correlator: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });

  it('reports a rejection as an error', async () => {
    const outcome = await loginWith({
      verify: async () => {
        throw new Error('database unavailable');
      },
    });
    expect(outcome).toMatchObject({ outcome: 'error', error: { message: 'database unavailable' } });
  });

  it('reports a synchronous throw and done(err) as errors', async () => {
    const thrown = await loginWith({
      verify: () => {
        throw new Error('thrown');
      },
    });
    expect(thrown.error?.message).toBe('thrown');
    const viaDone = await loginWith({ verify: (_, done) => done(new Error('via done')) });
    expect(viaDone.error?.message).toBe('via done');
  });

  it('decides once: done first wins over the promise, and a second done is ignored', async () => {
    let calls = 0;
    const outcome = await loginWith({
      verify: async (_phoneNumber, done) => {
        calls += 1;
        done(null, { id: 'from-done' });
        done(new Error('second call'));
        return { id: 'from-promise' };
      },
    });
    expect(calls).toBe(1);
    expect(outcome).toMatchObject({ outcome: 'success', user: { id: 'from-done' } });
  });

  it('hands the request first with passReqToCallback', async () => {
    let seenRequest: Request | undefined;
    const outcome = await loginWith({
      verifyWithRequest: (req, phoneNumber, done) => {
        seenRequest = req;
        done(null, { id: phoneNumber, path: req.path });
      },
    });
    expect(outcome).toMatchObject({
      outcome: 'success',
      user: { id: VERIFIED, path: '/auth/callback' },
    });
    expect(seenRequest?.query).toHaveProperty('code');
  });
});
