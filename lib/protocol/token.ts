import { TokenError } from '../errors.js';
import type { TokenRequest } from '../providers/types.js';
import { postToOperator, type BackChannelOptions } from './http.js';
import { bodyField, readOperatorFailure } from './operator-body.js';

/** How a client proves who it is at the token endpoint: headers, form parameters, or both. */
export interface ClientAuthentication {
  /** e.g. `authorization: Basic …` (client_secret_basic) or Vonage's `Bearer <application JWT>`. */
  headers?: Record<string, string>;
  /** e.g. `client_assertion_type` + `client_assertion` (private_key_jwt). */
  form?: Record<string, string>;
}

/**
 * Exchanges the authorization code for an access token (RFC 6749 §4.1.3, with RFC 7636 §4.5's
 * `code_verifier` when PKCE is on), authenticating the client as `client` says.
 * Throws {@link TokenError}: the OAuth `error` as `code` when the operator sent one (RFC 6749 §5.2),
 * else a CAMARA ErrorInfo `code`, else `token_request_failed` / `invalid_token_response`, or a
 * transport code.
 */
export async function requestAccessToken(
  tokenURL: URL,
  grant: TokenRequest,
  client: ClientAuthentication,
  options: BackChannelOptions,
): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code: grant.code,
    redirect_uri: grant.redirectUri,
    ...(grant.codeVerifier === undefined ? {} : { code_verifier: grant.codeVerifier }),
    ...client.form,
  });
  const response = await postToOperator(
    {
      url: tokenURL,
      headers: {
        ...client.headers,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
      label: 'Token request',
      makeError: (message, errorOptions) => new TokenError(message, errorOptions),
    },
    options,
  );
  const { status, json } = response;
  if (status < 200 || status > 299) {
    const failure = readOperatorFailure(status, json, 'token_request_failed');
    throw new TokenError(`Token request failed: ${failure.description}`, {
      code: failure.code,
      status,
    });
  }
  // RFC 6749 §5.1: a successful answer is judged by its access_token alone.
  const accessToken = bodyField(json, 'access_token');
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new TokenError(
      `Token response (HTTP ${status}) is not JSON with a non-empty access_token`,
      { code: 'invalid_token_response', status },
    );
  }
  return accessToken;
}
