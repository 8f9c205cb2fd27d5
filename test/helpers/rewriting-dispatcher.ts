import { Agent, type Dispatcher } from 'undici';

/** One back-channel request as the strategy sent it. */
export interface SentRequest {
  method: string;
  path: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** `undefined`: no body. */
  body: string | undefined;
}

/**
 * An undici dispatcher for the strategy's `dispatcher` option that records each request as the
 * strategy sent it, then sends what `rewrite` makes of it: what an app's own dispatcher (an
 * egress proxy, an interceptor) between the strategy and the operator could do.
 */
export function rewritingDispatcher(
  sent: SentRequest[],
  rewrite: (request: SentRequest) => SentRequest,
): Dispatcher {
  return new Agent().compose((dispatch) => (opts, handler) => {
    const original: SentRequest = {
      method: opts.method,
      path: opts.path,
      headers: plainHeaders(opts.headers),
      body: textBody(opts.body),
    };
    sent.push(original);
    const { headers, body } = rewrite(original);
    return dispatch({ ...opts, headers, body }, handler);
  });
}

// lib/protocol/http.ts always passes headers as a plain object and bodies as strings; anything
// else means the strategy changed how it calls undici, and this helper must follow.
function plainHeaders(headers: Dispatcher.DispatchOptions['headers']): Record<string, string> {
  if (headers === undefined || headers === null) return {};
  if (Array.isArray(headers) || typeof headers !== 'object' || Symbol.iterator in headers) {
    throw new TypeError('rewritingDispatcher expects headers as a plain object');
  }
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string') result[name.toLowerCase()] = value;
  }
  return result;
}

function textBody(body: Dispatcher.DispatchOptions['body']): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body !== 'string') throw new TypeError('rewritingDispatcher expects string bodies');
  return body;
}
