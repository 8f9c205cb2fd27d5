import { createHash } from 'node:crypto';

/** CAMARA NV v1.0.0+ `PhoneNumber` pattern: E.164 with a mandatory leading `+`. */
export const E164_PATTERN = /^\+[1-9][0-9]{4,14}$/;

// Separators people type: any Unicode white space (tabs, no-break spaces), any Unicode dash
// (category Pd) plus the minus sign, dots and parentheses.
const SEPARATORS = /[\s\p{Pd}\u2212.()]/gu;

/**
 * Normalises what a user typed into E.164 (`+447700900001`), or returns `undefined`.
 * Only strings are accepted: arrays and objects from extended query parsing are rejected,
 * and non-ASCII digits are rejected rather than converted.
 */
export function normalizePhoneNumber(input: unknown): string | undefined {
  if (typeof input !== 'string' || input.length > 64) return undefined;
  const compact = input.replace(SEPARATORS, '');
  return E164_PATTERN.test(compact) ? compact : undefined;
}

/** `+447700900001` → `+44*******01`: enough to correlate log lines, not enough to identify anyone. */
export function redactPhoneNumber(phoneNumber: string): string {
  if (phoneNumber.length <= 5) return '*'.repeat(phoneNumber.length);
  return `${phoneNumber.slice(0, 3)}${'*'.repeat(phoneNumber.length - 5)}${phoneNumber.slice(-2)}`;
}

/** CAMARA `hashedPhoneNumber`: hex SHA-256 of the E.164 number including its `+`. */
export function hashPhoneNumber(phoneNumber: string): string {
  return createHash('sha256').update(phoneNumber).digest('hex');
}
