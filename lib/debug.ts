import { debuglog } from 'node:util';

/**
 * Debug output, enabled with `NODE_DEBUG=passport-number-verification`.
 * Callers pass only redacted phone numbers and never tokens, codes, JWTs or keys.
 */
export const debug = debuglog('passport-number-verification');
