const PROBE_ORIGIN = 'http://return-to.invalid';

/**
 * True for a same-origin relative path such as `/cart?step=2`: the only kind of `returnTo` safe to
 * redirect to after login. Refuses `//evil.example` and `/\evil.example` (both leave the origin in
 * browsers), absolute URLs, backslashes and control characters (browsers drop tabs and newlines,
 * turning `/\t/evil.example` into `//evil.example`).
 */
export function isSafeReturnTo(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 2048) return false;
  if (!value.startsWith('/') || value.startsWith('//')) return false;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what we refuse
  if (/[\\\u0000-\u001f\u007f]/.test(value)) return false;
  try {
    return new URL(value, PROBE_ORIGIN).origin === PROBE_ORIGIN;
  } catch {
    return false;
  }
}
