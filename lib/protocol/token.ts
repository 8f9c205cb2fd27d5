import type { KeyObject } from 'node:crypto';
import { TokenError } from '../errors.js';
import { createApplicationJWT } from './client-auth.js';
import { postToOperator, type BackChannelOptions } from './http.js';
import { bodyField, describeFailure, operatorString } from './operator-body.js';

export interface TokenRequest {
  tokenURL: URL;
  applicationId: string;
  privateKey: KeyObject;
  code: string;
  /** Must be identical to the authorization request's `redirect_uri` (RFC 6749 §4.1.3). */
  redirectUri: string;
  /** RFC 7636 §4.5: the flow's PKCE verifier, when the authorization request carried a challenge. */
  codeVerifier?: string | undefined;
}

/**
 * Exchanges the authorization code for an access token (RFC 6749 §4.1.3). Vonage authenticates the
 * client with its application JWT as a Bearer token, not with CAMARA's `private_key_jwt`.
 * Throws {@link TokenError}: the OAuth `error` as `code` when the operator sent one (RFC 6749 §5.2),
 * else `token_request_failed` / `invalid_token_response`, or a transport code.
 */
export async function exchangeCode(
  request: TokenRequest,
  options: BackChannelOptions,
): Promise<string> {
  const jwt = await createApplicationJWT(request.applicationId, request.privateKey);
  const response = await postToOperator(
    {
      url: request.tokenURL,
      headers: {
        authorization: `Bearer ${jwt}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: request.code,
        redirect_uri: request.redirectUri,
        ...(request.codeVerifier === undefined ? {} : { code_verifier: request.codeVerifier }),
      }).toString(),
      label: 'Token request',
      makeError: (message, errorOptions) => new TokenError(message, errorOptions),
    },
    options,
  );
  const { status, json } = response;
  if (status < 200 || status > 299) {
    const error = operatorString(json, 'error');
    const description = operatorString(json, 'error_description');
    throw new TokenError(`Token request failed: ${describeFailure(status, error, description)}`, {
      code: error ?? 'token_request_failed',
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
