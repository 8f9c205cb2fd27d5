import { randomBytes } from 'node:crypto';

/** 256 random bits, base64url: unguessable (RFC 6749 §10.10) and safe in a URL without escaping. */
export function createStateValue(): string {
  return randomBytes(32).toString('base64url');
}
