import { VerificationError, type FailureCode } from './errors.js';

/** Which Verify v2 call failed: the same status means different things on each. */
export type VerifyLeg = 'start' | 'check' | 'next';

/**
 * The Verify v2 answers that are the user's situation (a `fail` with this code) rather than a
 * fault (`undefined`: an `error`), read from Vonage's API reference and error catalogue. 429 stays
 * an error.
 */
export function verifyFailure(err: unknown, leg: VerifyLeg): FailureCode | undefined {
  if (!(err instanceof VerificationError)) return undefined;
  const { status, code } = err;
  if (leg === 'start') {
    // 409 `concurrent`; Vonage's Node SDK fixture reports the same conflict as a 422 `conflict`.
    const conflict =
      status === 409 || (status === 422 && (code === 'conflict' || code === 'concurrent'));
    return conflict ? 'verification_in_progress' : undefined;
  }
  // "Request was not found or it has been verified already": expired, or ended.
  if (status === 404) return 'expired';
  // 400 `invalid-code`: the request stays open for another try.
  if (leg === 'check' && status === 400) return 'invalid_code';
  // 410 `expired`: "An incorrect code has been provided too many times. Workflow terminated."
  if (leg === 'check' && status === 410) return 'too_many_attempts';
  return undefined;
}
