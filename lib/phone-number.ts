import { createHash } from 'node:crypto';
import {
  isSupportedCountry,
  parsePhoneNumberFromString,
  type CountryCode,
} from 'libphonenumber-js/min';

export type { CountryCode };

/** CAMARA NV v1.0.0+ `PhoneNumber` pattern: E.164 with a mandatory leading `+`. */
export const E164_PATTERN = /^\+[1-9][0-9]{4,14}$/;

// Separators people type: any Unicode white space (tabs, no-break spaces), any Unicode dash
// (category Pd) plus the minus sign, dots and parentheses.
const SEPARATORS = /[\s\p{Pd}\u2212.()]/gu;

// A trunk prefix written as `(0)` right after the country code (`+44 (0) 7700 900001`, common in
// the UK and Germany) is not dialled internationally: it must go, not become a digit.
const TRUNK_ZERO = /^(\+[\s\p{Pd}\u2212.]*(?:\d[\s\p{Pd}\u2212.]*){1,3})\(\s*0\s*\)/u;

// National input: ASCII digits and the separators above, nothing else (no letters, no extensions).
const NATIONAL_INPUT = /^[0-9\s\p{Pd}\u2212.()]+$/u;

/**
 * Normalises what a user typed into E.164 (`+447700900001`), or returns `undefined`.
 * Only strings are accepted: arrays and objects from extended query parsing are rejected,
 * and non-ASCII digits are rejected rather than converted.
 * - Input starting with `+` passes the E.164 gate as it is, once separators and a `(0)` right after
 *   the country code are dropped: the `+990` test numbers work though no country uses them.
 * - Input without `+` is read as a national number of `defaultCountry` (ISO 3166 alpha-2) by
 *   libphonenumber-js, and kept only when it is a valid number there; without `defaultCountry` it is
 *   refused, since its country cannot be known.
 */
export function normalizePhoneNumber(
  input: unknown,
  defaultCountry?: CountryCode,
): string | undefined {
  if (typeof input !== 'string' || input.length > 64) return undefined;
  const text = input.trim();
  const compact = text.replace(TRUNK_ZERO, '$1').replace(SEPARATORS, '');
  if (compact.startsWith('+')) return E164_PATTERN.test(compact) ? compact : undefined;
  if (defaultCountry === undefined || !NATIONAL_INPUT.test(text)) return undefined;
  const parsed = parsePhoneNumberFromString(text, defaultCountry);
  if (parsed === undefined || !parsed.isValid()) return undefined;
  return E164_PATTERN.test(parsed.number) ? parsed.number : undefined;
}

/** Whether `value` is an ISO 3166 alpha-2 code libphonenumber-js has numbering metadata for. */
export function isPhoneCountry(value: unknown): value is CountryCode {
  return typeof value === 'string' && isSupportedCountry(value);
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
