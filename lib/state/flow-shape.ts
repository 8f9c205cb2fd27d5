import { isRecord } from '../guards.js';
import type { PendingFlow } from './store.js';

/**
 * Whether a value read back from outside the process (a cookie, Redis) has the fields the callback
 * relies on; fields that other features add pass through untouched.
 */
export function isPendingFlow(value: unknown): value is PendingFlow {
  return (
    isRecord(value) &&
    typeof value.state === 'string' &&
    typeof value.strategy === 'string' &&
    (value.phoneNumber === undefined || typeof value.phoneNumber === 'string') &&
    typeof value.callbackURL === 'string' &&
    typeof value.expiresAt === 'number' &&
    (value.appState === undefined || isRecord(value.appState))
  );
}
