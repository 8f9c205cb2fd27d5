/**
 * Verify v2 silent auth returns its result in the redirect's URL fragment
 * (`#request_id=…&code=…`), which a server never sees. The callback's GET answers this tiny page;
 * its script (served from the callback URL itself, so a CSP of `script-src 'self'` allows it, and
 * no inline script is needed) copies the fragment into a form and posts it back to the callback.
 */
import type { Request } from 'express';
import { escapeHtml } from './html.js';

/** `GET <callbackURL>?asset=…` serves the script. */
export const SCRIPT_ASSET = 'fragment.js';

/** The only fragment parameters posted on: Vonage's result, nothing else. */
const FRAGMENT_FIELDS = ['request_id', 'code', 'error', 'error_description'];

const SCRIPT = `(function () {
  var form = document.getElementById('verify-fragment');
  var fragment = new URLSearchParams(window.location.hash.slice(1));
  // The code must not stay in the address bar or the history.
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
  ${JSON.stringify(FRAGMENT_FIELDS)}.forEach(function (name) {
    var value = fragment.get(name);
    if (value === null) return;
    var input = document.createElement('input');
    input.type = 'hidden';
    input.name = name;
    input.value = value;
    form.appendChild(input);
  });
  form.submit();
})();
`;

const COMMON_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function send(req: Request, status: number, headers: Record<string, string>, body: string): void {
  const res = req.res;
  if (res === undefined) {
    throw new TypeError(
      'VerifySilentAuthStrategy answers the callback page itself and needs Express (req.res)',
    );
  }
  res.writeHead(status, {
    ...COMMON_HEADERS,
    ...headers,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** The script, same-origin, cacheable for a short while. */
export function sendFragmentScript(req: Request): void {
  send(
    req,
    200,
    { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=300' },
    SCRIPT,
  );
}

/**
 * The page that turns the fragment into a POST to `callbackURL`, carrying `state` (from the
 * redirect URL's query) so the POST finds this browser's pending flow.
 */
export function sendFragmentPage(
  req: Request,
  callbackURL: string,
  state: string | undefined,
): void {
  const scriptURL = new URL(callbackURL);
  scriptURL.searchParams.set('asset', SCRIPT_ASSET);
  const stateInput =
    state === undefined ? '' : `<input type="hidden" name="state" value="${escapeHtml(state)}">`;
  const html = `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Signing you in…</title></head><body><form id="verify-fragment" method="post" action="${escapeHtml(callbackURL)}">${stateInput}<p>Signing you in…</p><noscript><p>Please turn on JavaScript to finish signing in.</p></noscript></form><script src="${escapeHtml(scriptURL.href)}"></script></body></html>`;
  send(
    req,
    200,
    {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `default-src 'none'; script-src ${scriptURL.origin}; form-action ${new URL(callbackURL).origin}; base-uri 'none'; frame-ancestors 'none'`,
    },
    html,
  );
}
