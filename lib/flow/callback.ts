import type { Request } from 'express';
import { AuthorizationError, cleanOperatorText, isOAuthErrorCode } from '../errors.js';
import { isRecord } from '../guards.js';

export type Query = Record<string, unknown>;

/** The OAuth authorization response (RFC 6749 §4.1.2 and §4.1.2.1), each value checked. */
export interface CallbackParameters {
  code: string | undefined;
  state: string | undefined;
  error: string | undefined;
  errorDescription: string | undefined;
}

/** The parsed query: Express's, or the raw URL's when no query parser ran. */
export function readQuery(req: Request): Query {
  const query: unknown = req.query;
  if (isRecord(query)) return query;
  const parsed: Query = {};
  for (const [name, value] of new URL(req.url ?? '/', 'http://localhost').searchParams) {
    const previous = parsed[name];
    parsed[name] = previous === undefined ? value : [previous, value].flat();
  }
  return parsed;
}

/** Any of `code`, `error` or `state` makes a request the callback rather than a first leg. */
export function isCallback(query: Query): boolean {
  return (
    Object.hasOwn(query, 'code') || Object.hasOwn(query, 'error') || Object.hasOwn(query, 'state')
  );
}

/**
 * Whether the request is for the path of `callbackURL`. Express's `originalUrl` keeps the mount
 * path of a router; behind a proxy that rewrites paths the answer is false, and the request is
 * handled as before.
 */
export function isCallbackPath(req: Request, callbackURL: string): boolean {
  const requested = req.originalUrl ?? req.url ?? '/';
  return new URL(requested, 'http://localhost').pathname === new URL(callbackURL).pathname;
}

/** Each parameter counts only as one non-empty string; repeated, nested or empty values count as absent. */
export function readCallbackParameters(query: Query): CallbackParameters {
  return {
    code: singleString(query, 'code'),
    state: singleString(query, 'state'),
    error: oauthError(singleString(query, 'error')),
    errorDescription: operatorText(singleString(query, 'error_description')),
  };
}

/**
 * The error for a callback that carries no code (RFC 6749 §4.1.2.1): the operator's `error`, or
 * `invalid_request` when it sent neither. `access_denied` is the caller's to turn into a fail.
 */
export function callbackError(params: CallbackParameters): AuthorizationError {
  if (params.error === undefined) {
    return new AuthorizationError('The operator redirected back with neither a code nor an error', {
      code: 'invalid_request',
    });
  }
  return new AuthorizationError(
    `The operator refused the authorization request (${params.error})${params.errorDescription ? `: ${params.errorDescription}` : ''}`,
    { code: params.error, description: params.errorDescription },
  );
}

/** One non-empty string value of a record (query or body), else `undefined`. */
export function singleString(record: Query, name: string): string | undefined {
  const value = Object.hasOwn(record, name) ? record[name] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** RFC 6749 §4.1.2.1: an `error` with characters outside its charset (CR, LF, `"`…) is malformed. */
function oauthError(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return isOAuthErrorCode(value) ? cleanOperatorText(value) : 'invalid_request';
}

function operatorText(value: string | undefined): string | undefined {
  return value === undefined ? undefined : cleanOperatorText(value);
}
