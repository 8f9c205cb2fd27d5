/**
 * What a Verify callback POST asks for: the fragment's silent-auth result, or a code the user
 * typed, read from the form against the pending flow it names. Pure: the strategy acts on it.
 */
import { debug } from './debug.js';
import { cutOperatorText } from './errors.js';
import { singleString, type Query } from './flow/callback.js';
import { isSilent, type VerifyFlow } from './verify-flow.js';

export type CallbackRequest =
  /** Another browser's request id: refused, the flow is spent. */
  | { kind: 'foreign' }
  /** Silent auth did not complete (no result, an error, no usable code): fall back. */
  | { kind: 'silent_failed' }
  /** A fragment replayed after the fallback: refused, the code form stays usable. */
  | { kind: 'replayed' }
  /** Nothing worth a check was typed: the attempt is not spent, the flow stays. */
  | { kind: 'unusable_code' }
  /** One check of this code with Verify. */
  | { kind: 'check'; code: string };

/** Codes the user types: Vonage sends 4–10 digits; anything else is refused without a call. */
const TYPED_CODE = /^[0-9A-Za-z]{4,10}$/;
/** A silent-auth code from the fragment: opaque, bounded. */
const FRAGMENT_CODE = /^[A-Za-z0-9_-]{1,128}$/;

export function readCallbackRequest(body: Query, flow: VerifyFlow): CallbackRequest {
  const requestId = singleString(body, 'request_id');
  const error = singleString(body, 'error');
  const code = singleString(body, 'code');
  // The fragment must be this browser's request: another browser's request id is refused.
  if (requestId !== undefined && requestId !== flow.requestId) {
    debug('fragment refused: the request id of another flow');
    return { kind: 'foreign' };
  }
  if (isSilent(flow)) {
    const usable = code !== undefined && FRAGMENT_CODE.test(code);
    if (requestId === undefined || error !== undefined || !usable) {
      debug('silent auth did not complete: %s', cutOperatorText(error ?? 'no code'));
      return { kind: 'silent_failed' };
    }
    return { kind: 'check', code };
  }
  if (requestId !== undefined || error !== undefined) {
    debug('fragment refused: replayed after the fallback');
    return { kind: 'replayed' };
  }
  return code !== undefined && TYPED_CODE.test(code)
    ? { kind: 'check', code }
    : { kind: 'unusable_code' };
}
