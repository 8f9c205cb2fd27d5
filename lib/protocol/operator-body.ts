import { cutOperatorText } from '../errors.js';

/** A field of an operator's JSON object body, or `undefined` when the body is not an object. */
export function bodyField(body: unknown, field: string): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  return Object.hasOwn(body, field) ? (body as Record<string, unknown>)[field] : undefined;
}

/** A non-empty string field of an operator's JSON body, cut to a safe length, or `undefined`. */
export function operatorString(body: unknown, field: string): string | undefined {
  const value = bodyField(body, field);
  return typeof value === 'string' && value !== '' ? cutOperatorText(value) : undefined;
}

/** `HTTP 401 (invalid_client): description` — the operator's own words, already cut. */
export function describeFailure(status: number, code?: string, detail?: string): string {
  return `HTTP ${status}${code ? ` (${code})` : ''}${detail ? `: ${detail}` : ''}`;
}
