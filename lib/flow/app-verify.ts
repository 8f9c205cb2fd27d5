import type { Request } from 'express';
import { isPromiseLike } from '../guards.js';
import type { VerifyCallback, VerifyFunction, VerifyFunctionWithRequest } from '../options.js';

/** What the app's verify decided: Passport's `done(err, user, info)` arguments. */
export interface AppVerdict {
  err: unknown;
  user: unknown;
  info: Record<string, unknown> | undefined;
}

/**
 * Calls the app's verify with the verified number; the first of `done` or the returned promise
 * decides, once. A throw or a rejection becomes `err`, never an unhandled rejection.
 */
export function runAppVerify(
  verify: VerifyFunction | VerifyFunctionWithRequest,
  passReqToCallback: boolean,
  req: Request,
  phoneNumber: string,
): Promise<AppVerdict> {
  return new Promise((resolve) => {
    let settled = false;
    const done: VerifyCallback = (err, user, info) => {
      if (settled) return;
      settled = true;
      resolve({ err, user, info });
    };
    try {
      const result = passReqToCallback
        ? (verify as VerifyFunctionWithRequest)(req, phoneNumber, done)
        : (verify as VerifyFunction)(phoneNumber, done);
      if (isPromiseLike(result)) {
        result.then(
          (user) => done(null, user),
          (err: unknown) => done(err ?? new Error('verify rejected without a reason')),
        );
      }
    } catch (err) {
      done(err);
    }
  });
}
