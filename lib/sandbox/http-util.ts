import { randomUUID } from 'node:crypto';
import { escapeHtml } from '../html.js';
import type { IncomingMessage } from 'node:http';

/** Largest request body the sandbox reads (64 KiB); anything bigger is answered 413. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Beyond this many bytes an oversized body is no longer drained but the connection is dropped:
 * draining lets an honest client read the 413, but nobody gets to stream gigabytes at us.
 */
const MAX_DRAIN_BYTES = 8 * 1024 * 1024;

/** What a handler decides; the server writes it (possibly through an injected fault). */
export interface SandboxResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Reported in the request event. */
  outcome: string;
  /** Already redacted. */
  phoneNumber?: string;
}

export interface ReadBody {
  body: Buffer;
  tooLarge: boolean;
}

/** Reads the request body up to {@link MAX_BODY_BYTES}, draining (not keeping) the rest. */
export async function readBody(req: IncomingMessage): Promise<ReadBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_DRAIN_BYTES) {
      req.destroy();
      break;
    }
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  return { body: Buffer.concat(chunks), tooLarge: size > MAX_BODY_BYTES };
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  return contentType.split(';', 1)[0]?.trim().toLowerCase();
}

export function jsonResponse(
  status: number,
  payload: unknown,
  outcome: string,
  headers: Record<string, string> = {},
): SandboxResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: Buffer.from(JSON.stringify(payload)),
    outcome,
  };
}

/** CAMARA `ErrorInfo` (`{status, code, message}`, all required) — the error body of every NV version. */
export function errorInfo(
  status: number,
  code: string,
  message: string,
  outcome: string,
  headers: Record<string, string> = {},
): SandboxResponse {
  return jsonResponse(status, { status, code, message }, outcome, headers);
}

/** RFC 7807 problem details (`application/problem+json`), as Vonage's API gateway answers some errors. */
export function problemDetails(
  status: number,
  title: string,
  detail: string,
  outcome: string,
): SandboxResponse {
  const response = jsonResponse(status, { type: 'about:blank', title, status, detail }, outcome);
  response.headers['content-type'] = 'application/problem+json';
  return response;
}

/** RFC 6749 §5.2 token error body. */
export function oauthError(
  status: number,
  error: string,
  description: string,
  headers: Record<string, string> = {},
): SandboxResponse {
  return jsonResponse(status, { error, error_description: description }, error, {
    pragma: 'no-cache',
    ...headers,
  });
}

export { escapeHtml };

/**
 * The page shown to the user when the authorization server must not redirect
 * (RFC 6749 §4.1.2.1: missing, invalid or mismatching `client_id` / `redirect_uri`).
 */
export function htmlErrorPage(
  status: number,
  message: string,
  outcome: string,
  headers: Record<string, string> = {},
): SandboxResponse {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>Sign-in error</title></head><body><h1>Sign-in error</h1><p>${escapeHtml(message)}</p></body></html>`;
  return {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
    },
    body: Buffer.from(html),
    outcome,
  };
}

export function redirectResponse(location: string, outcome: string): SandboxResponse {
  return {
    status: 302,
    headers: { location, 'cache-control': 'no-store' },
    body: Buffer.alloc(0),
    outcome,
  };
}

/** Where Vonage's RFC 7807 `type` links point: `…/api-errors/verify-v2#<code>` (Vonage's error catalogue). */
const VERIFY_ERRORS = 'https://developer.vonage.com/api-errors/verify-v2';

/**
 * An RFC 7807 problem body as Vonage's Verify v2 answers it: `type` (catalogue link ending in the
 * error code), `title`, `detail`, `instance` (a trace id), plus any extra members.
 */
export function problem(
  status: number,
  code: string,
  title: string,
  detail: string,
  outcome: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): SandboxResponse {
  const body = {
    type: `${VERIFY_ERRORS}#${code}`,
    title,
    detail,
    instance: randomUUID(),
    ...extra,
  };
  return {
    ...jsonResponse(status, body, outcome, headers),
    headers: {
      'content-type': 'application/problem+json',
      'cache-control': 'no-store',
      ...headers,
    },
  };
}
