import type { SandboxContext, SandboxRequest } from './context.js';
import { authenticateClient } from './client-auth.js';
import { jsonResponse, mediaType, oauthError, type SandboxResponse } from './http-util.js';
import { checkCodeVerifier } from './pkce.js';
import { authenticateAssertion, usesClientAssertion } from './private-key-jwt.js';
import { randomSecret } from './store.js';
import { redactPhoneNumber } from '../phone-number.js';

/** RFC 6749 §5.2: a client that authenticated with the Authorization header gets 401 + WWW-Authenticate. */
function invalidClient(description: string): SandboxResponse {
  return oauthError(401, 'invalid_client', description, {
    'www-authenticate': 'Bearer realm="oauth2/token", error="invalid_client"',
  });
}

/**
 * POST /oauth2/token — authorization-code grant (RFC 6749 §4.1.3). The client authenticates either
 * as Vonage's do (application JWT as a Bearer credential) or as CAMARA's (`private_key_jwt`, which
 * also requires PKCE).
 */
export async function handleToken(
  ctx: SandboxContext,
  req: SandboxRequest,
): Promise<SandboxResponse> {
  const isForm = mediaType(req.headers['content-type']) === 'application/x-www-form-urlencoded';
  const form = new URLSearchParams(isForm ? req.body.toString('utf8') : '');
  const byAssertion = usesClientAssertion(form);
  if (byAssertion && req.headers.authorization !== undefined) {
    // RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
    return oauthError(400, 'invalid_request', 'use one client authentication method, not two');
  }
  const client = byAssertion
    ? await authenticateAssertion(ctx, form, `${ctx.baseUrl()}${req.url.pathname}`)
    : await authenticateClient(ctx, req.headers.authorization);
  if (!client.ok) {
    return byAssertion
      ? oauthError(401, 'invalid_client', client.description)
      : invalidClient(client.description);
  }

  if (!isForm) {
    return oauthError(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded');
  }
  // RFC 6749 §3.2: parameters MUST NOT be included more than once.
  for (const name of new Set(form.keys())) {
    if (form.getAll(name).length > 1) {
      return oauthError(400, 'invalid_request', `${name} is repeated`);
    }
  }
  const grantType = form.get('grant_type');
  if (grantType === null) return oauthError(400, 'invalid_request', 'grant_type is required');
  if (grantType !== 'authorization_code') {
    return oauthError(400, 'unsupported_grant_type', 'only authorization_code is supported');
  }
  const code = form.get('code');
  const redirectUri = form.get('redirect_uri');
  if (code === null || code === '') return oauthError(400, 'invalid_request', 'code is required');
  if (redirectUri === null) {
    return oauthError(400, 'invalid_request', 'redirect_uri is required');
  }

  const grant = ctx.store.codes.get(code);
  if (grant === undefined) {
    return oauthError(400, 'invalid_grant', 'the code is unknown or expired');
  }
  if (grant.used) {
    // RFC 6749 §4.1.2: a code used twice is denied and the tokens it gave are revoked.
    for (const token of grant.tokens) ctx.store.tokens.delete(token);
    grant.tokens = [];
    return oauthError(400, 'invalid_grant', 'the code was already used');
  }
  // Any presentation burns the code, so it cannot be retried with other parameters.
  grant.used = true;
  if (grant.applicationId !== client.application.applicationId) {
    return oauthError(400, 'invalid_grant', 'the code was issued to another application');
  }
  if (grant.redirectUri !== redirectUri) {
    return oauthError(400, 'invalid_grant', 'redirect_uri differs from the authorization request');
  }
  // CAMARA ICM: PKCE is required of CAMARA clients.
  if (byAssertion && grant.codeChallenge === undefined) {
    return oauthError(
      400,
      'invalid_grant',
      'PKCE is required: the code was issued without code_challenge',
    );
  }
  const pkceMismatch = checkCodeVerifier(grant.codeChallenge, form.get('code_verifier'));
  if (pkceMismatch !== undefined) return oauthError(400, 'invalid_grant', pkceMismatch);

  const accessToken = randomSecret();
  ctx.store.tokens.set(accessToken, {
    applicationId: grant.applicationId,
    permissions: grant.permissions,
    device: grant.device,
    expiresAt: ctx.clock() + ctx.tokenTtlSeconds * 1000,
  });
  grant.tokens.push(accessToken);
  const response = jsonResponse(
    200,
    { access_token: accessToken, token_type: 'Bearer', expires_in: ctx.tokenTtlSeconds },
    'token_issued',
    { pragma: 'no-cache' },
  );
  return { ...response, phoneNumber: redactPhoneNumber(grant.device.requestedNumber) };
}
