import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { NumberVerificationStrategy } from '../../lib/index.js';
import { testKeyPair } from '../helpers/login-app.js';

type Action = [name: 'success' | 'fail' | 'redirect' | 'pass' | 'error', ...args: unknown[]];

/** Runs the strategy as Passport does (Object.create + bound actions) on a bare request object. */
function authenticate(req: Partial<Request>): Promise<Action> {
  const strategy = new NumberVerificationStrategy(
    {
      applicationId: 'app',
      privateKey: testKeyPair().privateKey,
      callbackURL: 'https://app.example/cb',
    },
    (phoneNumber, done) => done(null, { phoneNumber }),
  );
  return new Promise((resolve) => {
    const perRequest = Object.create(strategy) as NumberVerificationStrategy;
    for (const name of ['success', 'fail', 'redirect', 'pass', 'error'] as const) {
      perRequest[name] = (...args: unknown[]) => resolve([name, ...args]);
    }
    perRequest.authenticate(req as Request);
  });
}

describe('requests without Express (no req.query)', () => {
  it('reads the first leg from the raw URL and redirects', async () => {
    const [action, location] = await authenticate({
      url: '/login?phoneNumber=%2B447700900001',
      session: {} as Request['session'],
    });
    expect(action).toBe('redirect');
    expect(new URL(location as string).searchParams.get('login_hint')).toBe('tel:+447700900001');
  });

  it('treats a repeated raw state as absent', async () => {
    const [action, info, status] = await authenticate({
      url: '/cb?code=c&state=a&state=a',
      session: {} as Request['session'],
    });
    expect(action).toBe('fail');
    expect(info).toMatchObject({ code: 'invalid_state' });
    expect(status).toBe(403);
  });
});
