import { E164_PATTERN, redactPhoneNumber } from '../phone-number.js';
import type { SandboxContext, SandboxRequest } from './context.js';
import { htmlErrorPage, redirectResponse, type SandboxResponse } from './http-util.js';
import { readCodeChallenge } from './pkce.js';
import { parseScope } from './scopes.js';
import { randomSecret } from './store.js';
import { resolveDevice } from './virtual-operator.js';

/**
 * Shortest `state` accepted in strict mode: short values are guessable and defeat CSRF protection
 * (RFC 6749 §10.12). Vonage's service takes any `state`, or none, as its SDKs rely on.
 */
export const MIN_STATE_LENGTH = 8;

export interface AuthorizationOptions {
  /** Injected fault: answer `?error=<this>` once client and redirect URI are known to be valid. */
  forcedError?: string | undefined;
}

/** The single value of a query parameter; `null` when absent, `undefined` when repeated (RFC 6749 §3.1). */
function single(params: URLSearchParams, name: string): string | null | undefined {
  const values = params.getAll(name);
  if (values.length > 1) return undefined;
  return values[0] ?? null;
}

function errorRedirect(
  redirectUri: string,
  error: string,
  description: string,
  state: string | null | undefined,
): SandboxResponse {
  // RFC 6749 §4.1.2.1: error, error_description and state go to the redirect URI's query.
  const location = new URL(redirectUri);
  location.searchParams.set('error', error);
  location.searchParams.set('error_description', description);
  if (typeof state === 'string') location.searchParams.set('state', state);
  return redirectResponse(location.href, error);
}

/** GET /oauth2/auth — OIDC authorization-code request (RFC 6749 §4.1.1), as Vonage serves it. */
export function handleAuthorization(
  ctx: SandboxContext,
  req: SandboxRequest,
  options: AuthorizationOptions = {},
): SandboxResponse {
  const params = req.url.searchParams;
  const clientId = single(params, 'client_id');
  const redirectUri = single(params, 'redirect_uri');
  // RFC 6749 §4.1.2.1: with a bad client_id or redirect_uri the server MUST NOT redirect.
  if (typeof clientId !== 'string') {
    return htmlErrorPage(400, 'The request has no valid client_id.', 'invalid_client');
  }
  const application = ctx.applications.get(clientId);
  if (application === undefined) {
    return htmlErrorPage(400, 'The client_id is not a registered application.', 'invalid_client');
  }
  if (typeof redirectUri !== 'string' || !application.redirectUris.has(redirectUri)) {
    return htmlErrorPage(
      400,
      'The redirect_uri is missing or does not exactly match one registered for this application.',
      'invalid_redirect_uri',
    );
  }

  for (const name of [
    'response_type',
    'scope',
    'state',
    'login_hint',
    'code_challenge',
    'code_challenge_method',
  ]) {
    if (single(params, name) === undefined) {
      return errorRedirect(redirectUri, 'invalid_request', `${name} is repeated`, null);
    }
  }
  const state = params.get('state');
  const responseType = params.get('response_type');
  if (responseType === null) {
    return errorRedirect(redirectUri, 'invalid_request', 'response_type is required', state);
  }
  if (responseType !== 'code') {
    return errorRedirect(
      redirectUri,
      'unsupported_response_type',
      'only response_type=code is supported',
      state,
    );
  }
  const scope = params.get('scope');
  if (scope === null)
    return errorRedirect(redirectUri, 'invalid_request', 'scope is required', state);
  const scopes = parseScope(scope);
  if (!scopes.ok) return errorRedirect(redirectUri, 'invalid_scope', scopes.description, state);
  if (ctx.strict && (state === null || state.length < MIN_STATE_LENGTH)) {
    return errorRedirect(
      redirectUri,
      'invalid_request',
      `state is required and must be at least ${MIN_STATE_LENGTH} characters`,
      state,
    );
  }
  // CAMARA ICM §login_hint: `tel:+E164`; Vonage's Python SDK sends a bare `+E164`. With CAMARA
  // scopes it is optional (share mode names no number): the device is then `deviceNumber`.
  const loginHint = params.get('login_hint');
  const hinted = loginHint?.startsWith('tel:') ? loginHint.slice(4) : loginHint;
  const phoneNumber = hinted ?? (scopes.camara ? ctx.deviceNumber : null);
  if (phoneNumber === null || phoneNumber === undefined || !E164_PATTERN.test(phoneNumber)) {
    return errorRedirect(
      redirectUri,
      'invalid_request',
      'login_hint must be tel:+E164 or +E164 (encode + as %2B)',
      state,
    );
  }
  const pkce = readCodeChallenge(params);
  if (!pkce.ok) return errorRedirect(redirectUri, 'invalid_request', pkce.description, state);
  if (options.forcedError !== undefined) {
    const response = errorRedirect(
      redirectUri,
      options.forcedError,
      'The operator could not authenticate the user (injected fault).',
      state,
    );
    return { ...response, outcome: 'fault' };
  }

  const code = randomSecret();
  ctx.store.codes.set(code, {
    applicationId: application.applicationId,
    redirectUri,
    permissions: scopes.permissions,
    device: resolveDevice(phoneNumber, ctx.devices),
    expiresAt: ctx.clock() + ctx.codeTtlMs,
    ...(pkce.challenge === undefined ? {} : { codeChallenge: pkce.challenge }),
    used: false,
    tokens: [],
  });
  const location = new URL(redirectUri);
  location.searchParams.set('code', code);
  // RFC 6749 §4.1.2: `state` is returned exactly when the request carried one.
  if (state !== null) location.searchParams.set('state', state);
  return {
    ...redirectResponse(location.href, 'code_issued'),
    phoneNumber: redactPhoneNumber(phoneNumber),
  };
}
