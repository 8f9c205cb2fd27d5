import { randomUUID } from 'node:crypto';

/** CAMARA NV 2.1.0 `XCorrelator`: what an operator accepts in the `x-correlator` header. */
export const X_CORRELATOR_PATTERN = /^[a-zA-Z0-9\-_:;./<>{}]{1,256}$/;

/**
 * The `x-correlator` of a sign-in: the app's own value (e.g. its request ID), checked against the
 * CAMARA pattern so the operator does not refuse it, or a fresh UUID.
 */
export function correlatorFrom(value: unknown, owner: string): string {
  if (value === undefined) return randomUUID();
  if (typeof value !== 'string' || !X_CORRELATOR_PATTERN.test(value)) {
    throw new TypeError(
      `${owner}: the correlator option must be 1 to 256 characters of A-Z a-z 0-9 - _ : ; . / < > { }`,
    );
  }
  return value;
}
