import { EventEmitter } from 'node:events';
import { request, type Dispatcher } from 'undici';
import { debug } from '../debug.js';
import type { NumberVerificationError, NumberVerificationErrorOptions } from '../errors.js';
import { PACKAGE_VERSION } from '../version.js';

/** Sent on every back-channel request: operators ask for it in support cases. */
export const USER_AGENT = `passport-number-verification/${PACKAGE_VERSION} node/${process.versions.node}`;

/** Largest operator response body read; anything bigger is refused, never buffered. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface BackChannelOptions {
  /** One deadline, in ms, for the whole exchange: connecting, sending, headers and the full body. */
  timeout: number;
  dispatcher?: Dispatcher | undefined;
  /**
   * CAMARA `x-correlator` sent with the request, so the operator's support can find the call; an
   * echo that differs is logged in the debug output (CAMARA API Design Guide, x-correlator).
   */
  correlator?: string | undefined;
}

export interface BackChannelRequest {
  url: URL;
  /** Default `POST`; CAMARA share and OIDC discovery `GET`, Verify v2 cancels with `DELETE`. */
  method?: 'GET' | 'POST' | 'DELETE';
  headers: Record<string, string>;
  /** Omitted for requests without a body (Verify v2 `next_workflow`, `DELETE`). */
  body?: string;
  /** Describes the leg in messages, e.g. "Token request". */
  label: string;
  /** Makes the leg's error class (TokenError or VerificationError). */
  makeError: (message: string, options: NumberVerificationErrorOptions) => NumberVerificationError;
}

export interface BackChannelResponse {
  status: number;
  /** The parsed body when the response is declared JSON and parses; otherwise `undefined`. */
  json: unknown;
}

/**
 * Sends one request to the operator (a POST unless `method` says otherwise) and reads the JSON
 * answer. Never retried: the authorization code is single-use, and operators may spend an access
 * token on its first use (the sandbox's strict mode does). Transport failures become the leg's error class with
 * code `timeout`, `network_error` or `response_too_large`; the request itself (with its secrets)
 * never appears in them.
 */
export async function postToOperator(
  req: BackChannelRequest,
  options: BackChannelOptions,
): Promise<BackChannelResponse> {
  // The deadline: a timer cleared as soon as the exchange ends (AbortSignal.timeout kept every
  // timer and signal alive for the whole timeout, thousands at once under load), aborting through
  // an EventEmitter, which undici accepts as a signal at a seventh of an AbortSignal's cost.
  const signal = new EventEmitter();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    signal.emit('abort');
  }, options.timeout);
  const { correlator } = options;
  let status: number | undefined;
  let received: { text: string | undefined; contentType: string | string[] | undefined };
  try {
    const response = await request(req.url, {
      method: req.method ?? 'POST',
      headers: {
        'user-agent': USER_AGENT,
        ...req.headers,
        ...(correlator === undefined ? {} : { 'x-correlator': correlator }),
      },
      body: req.body,
      signal,
      dispatcher: options.dispatcher,
    });
    status = response.statusCode;
    checkCorrelatorEcho(req.label, correlator, response.headers['x-correlator']);
    received = {
      text: await readCapped(response.body, response.headers['content-length']),
      contentType: response.headers['content-type'],
    };
  } catch (err) {
    if (timedOut) {
      throw req.makeError(`${req.label} timed out after ${options.timeout} ms`, {
        code: 'timeout',
        status,
      });
    }
    throw req.makeError(`${req.label} failed: ${describeNetworkError(err)}`, {
      code: 'network_error',
      status,
      cause: err,
    });
  } finally {
    clearTimeout(timer);
  }
  if (received.text === undefined) {
    throw req.makeError(`${req.label}: response larger than ${MAX_RESPONSE_BYTES} bytes refused`, {
      code: 'response_too_large',
      status,
    });
  }
  return { status, json: parseJson(received.text, received.contentType) };
}

/** CAMARA: the operator echoes the request's x-correlator; a different value is worth a debug line. */
function checkCorrelatorEcho(
  label: string,
  sent: string | undefined,
  echoed: string | string[] | undefined,
): void {
  if (sent === undefined || echoed === undefined || echoed === sent) return;
  // JSON-quoted and cut: the header is the operator's text and must not forge log lines.
  debug('%s: operator echoed x-correlator %j for %s', label, String(echoed).slice(0, 256), sent);
}

/** Reads the body up to {@link MAX_RESPONSE_BYTES}; `undefined` (body discarded) when larger. */
async function readCapped(
  body: Dispatcher.ResponseData['body'],
  contentLength: string | string[] | undefined,
): Promise<string | undefined> {
  if (typeof contentLength === 'string') {
    const declared = Number(contentLength);
    if (declared > MAX_RESPONSE_BYTES) {
      body.destroy();
      return undefined;
    }
    // A declared length bounds what the parser delivers (RFC 9112 §6.3): read it in one go.
    if (Number.isSafeInteger(declared)) return body.text();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_RESPONSE_BYTES) {
      body.destroy();
      return undefined;
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// RFC 6749 §5.1 and CAMARA both answer `application/json`; problem+json (RFC 7807) also counts.
function parseJson(text: string, contentType: string | string[] | undefined): unknown {
  const type = (Array.isArray(contentType) ? contentType[0] : contentType)?.toLowerCase() ?? '';
  if (!/^application\/([\w.-]+\+)?json\b/.test(type)) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return 'unknown error';
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? `${code} (${err.message})` : err.message;
}
