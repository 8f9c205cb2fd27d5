import type { ServerResponse } from 'node:http';
import type { Request } from 'express';
import { NumberVerificationError } from '../errors.js';

/** RFC 6265 §4.1.1: a cookie name is an RFC 7230 token. */
export function isCookieName(name: unknown): name is string {
  return typeof name === 'string' && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name);
}

/** The value of cookie `name` in a `Cookie` request header, if any. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  return readCookies(header).get(name);
}

/** Every cookie in a `Cookie` request header, by name. */
export function readCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of header?.split(';') ?? []) {
    const separator = part.indexOf('=');
    const name = part.slice(0, separator).trim();
    // Of two same-named cookies the first has the longest path (RFC 6265 §5.4): the most specific.
    if (separator > 0 && !cookies.has(name)) cookies.set(name, part.slice(separator + 1).trim());
  }
  return cookies;
}

/**
 * Adds a `Set-Cookie` header to the request's response, keeping those already set. Works on Express
 * responses and on plain `node:http` ones (set `req.res = res` there: Express does it itself).
 */
export function appendSetCookie(req: Request, store: string, cookie: string): void {
  const res: unknown = (req as { res?: unknown }).res;
  if (!isServerResponse(res) || res.headersSent) {
    throw new NumberVerificationError(
      `${store} needs the response as req.res (Express sets it; with node:http set req.res = res) with its headers not sent yet`,
      { code: 'response_required' },
    );
  }
  const previous = res.getHeader('set-cookie');
  const cookies =
    previous === undefined ? [] : Array.isArray(previous) ? previous : [String(previous)];
  res.setHeader('set-cookie', [...cookies, cookie]);
}

function isServerResponse(value: unknown): value is ServerResponse {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ServerResponse).getHeader === 'function' &&
    typeof (value as ServerResponse).setHeader === 'function'
  );
}
