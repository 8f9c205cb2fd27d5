import { PKCE_METHOD } from './pkce.js';

/** `tel` → `login_hint=tel:+447700900001` (CAMARA ICM, Vonage Node/Java SDKs); `e164` → `+447700900001`. */
export type LoginHintFormat = 'tel' | 'e164';

export interface AuthorizationRequest {
  authorizationURL: URL;
  applicationId: string;
  scope: string;
  redirectUri: string;
  state: string;
  phoneNumber: string;
  loginHintFormat: LoginHintFormat;
  /** RFC 7636 §4.3: the S256 challenge of the flow's verifier, when PKCE is on. */
  codeChallenge?: string | undefined;
}

const OWN_PARAMETERS = new Set([
  'client_id',
  'response_type',
  'scope',
  'redirect_uri',
  'state',
  'login_hint',
  'code_challenge',
  'code_challenge_method',
]);

/**
 * The authorization request URL (RFC 6749 §4.1.1, with CAMARA ICM's `login_hint`). Parameters
 * already in `authorizationURL` are kept unless we set them. Everything is percent-encoded with
 * encodeURIComponent, so `#` is `%23`, `+` is `%2B` and a space is `%20`, which every server decodes
 * the same way (a `+` for a space depends on form decoding).
 */
export function buildAuthorizationURL(request: AuthorizationRequest): string {
  const loginHint =
    request.loginHintFormat === 'tel' ? `tel:${request.phoneNumber}` : request.phoneNumber;
  const kept = [...request.authorizationURL.searchParams].filter(
    ([name]) => !OWN_PARAMETERS.has(name),
  );
  const parameters: [string, string][] = [
    ...kept,
    ['client_id', request.applicationId],
    ['response_type', 'code'],
    ['scope', request.scope],
    ['redirect_uri', request.redirectUri],
    ['state', request.state],
    ['login_hint', loginHint],
  ];
  if (request.codeChallenge !== undefined) {
    parameters.push(
      ['code_challenge', request.codeChallenge],
      ['code_challenge_method', PKCE_METHOD],
    );
  }
  const url = new URL(request.authorizationURL);
  url.search = parameters
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&');
  url.hash = '';
  return url.toString();
}
