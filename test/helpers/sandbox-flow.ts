import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { codeChallengeS256, createCodeVerifier } from '../../lib/protocol/pkce.js';
import type { Sandbox } from '../../lib/sandbox/index.js';
import { JWT_BEARER_ASSERTION } from '../../lib/sandbox/private-key-jwt.js';
import type { TestApplication } from './application-keys.js';
import { signApplicationJwt } from './application-jwt.js';

/** Vonage's scope form (purpose and API scope joined by `#`). */
export const VONAGE_SCOPE =
  'openid dpv:FraudPreventionAndDetection#number-verification-verify-read';
/** CAMARA's space-separated forms. */
export const CAMARA_VERIFY_SCOPE =
  'openid dpv:FraudPreventionAndDetection number-verification:verify';
export const CAMARA_SHARE_SCOPE =
  'openid dpv:FraudPreventionAndDetection number-verification:device-phone-number:read';

export interface AuthorizeOptions {
  phoneNumber: string;
  scope?: string;
  state?: string;
  redirectUri?: string;
  /** Extra or overriding query parameters; `null` removes one. */
  params?: Record<string, string | null>;
}

export interface AuthorizeResult {
  status: number;
  /** The redirect target, when the sandbox redirected. */
  location?: URL;
  code?: string;
  state?: string;
  error?: string;
}

/** The authorization URL the strategy would build. */
export function authorizationUrl(
  sandbox: Sandbox,
  app: TestApplication,
  options: AuthorizeOptions,
): URL {
  const url = new URL(sandbox.endpoints.authorizationURL);
  const params: Record<string, string | null> = {
    client_id: app.applicationId,
    response_type: 'code',
    scope: options.scope ?? VONAGE_SCOPE,
    redirect_uri: options.redirectUri ?? app.redirectUri,
    login_hint: `tel:${options.phoneNumber}`,
    state: options.state ?? 'state-0123456789',
    ...options.params,
  };
  for (const [name, value] of Object.entries(params)) {
    if (value !== null) url.searchParams.set(name, value);
  }
  return url;
}

/** Plays the device's browser on GET /oauth2/auth, without following the redirect. */
export async function authorize(
  sandbox: Sandbox,
  app: TestApplication,
  options: AuthorizeOptions,
): Promise<AuthorizeResult> {
  const response = await fetch(authorizationUrl(sandbox, app, options), { redirect: 'manual' });
  await response.arrayBuffer();
  const header = response.headers.get('location');
  if (header === null) return { status: response.status };
  const location = new URL(header);
  const result: AuthorizeResult = { status: response.status, location };
  const code = location.searchParams.get('code');
  const state = location.searchParams.get('state');
  const error = location.searchParams.get('error');
  if (code !== null) result.code = code;
  if (state !== null) result.state = state;
  if (error !== null) result.error = error;
  return result;
}

export interface ExchangeOptions {
  redirectUri?: string;
  /** Bearer credential; default a fresh application JWT. */
  jwt?: string;
  /** Raw form body instead of the usual one. */
  body?: string;
  contentType?: string;
  /** RFC 7636 `code_verifier` to add to the usual form. */
  codeVerifier?: string;
}

/** POST /oauth2/token the way Vonage's SDKs do. */
export async function exchangeCode(
  sandbox: Sandbox,
  app: TestApplication,
  code: string,
  options: ExchangeOptions = {},
): Promise<Response> {
  const jwt =
    options.jwt ??
    (await signApplicationJwt({ applicationId: app.applicationId, privateKey: app.privateKey }));
  const body =
    options.body ??
    new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: options.redirectUri ?? app.redirectUri,
      ...(options.codeVerifier === undefined ? {} : { code_verifier: options.codeVerifier }),
    }).toString();
  return fetch(sandbox.endpoints.tokenURL, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${jwt}`,
      'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
    },
    body,
  });
}

/** Runs redirect → code → token and returns the access token. */
export async function obtainAccessToken(
  sandbox: Sandbox,
  app: TestApplication,
  phoneNumber: string,
  scope: string = VONAGE_SCOPE,
): Promise<string> {
  const { code } = await authorize(sandbox, app, { phoneNumber, scope });
  if (code === undefined) throw new Error(`no code issued for ${scope}`);
  const response = await exchangeCode(sandbox, app, code);
  if (response.status !== 200) throw new Error(`token endpoint answered ${response.status}`);
  const { access_token: accessToken } = (await response.json()) as { access_token: string };
  return accessToken;
}

export interface VerifyOptions {
  url?: string;
  body?: unknown;
  rawBody?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** POST a verify request (Vonage path by default) with the access token. */
export async function callVerify(
  sandbox: Sandbox,
  accessToken: string | undefined,
  options: VerifyOptions = {},
): Promise<Response> {
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/json',
    ...options.headers,
  };
  if (accessToken !== undefined) headers.authorization = `Bearer ${accessToken}`;
  return fetch(options.url ?? sandbox.endpoints.verifyURL, {
    method: 'POST',
    headers,
    body: options.rawBody ?? JSON.stringify(options.body ?? {}),
  });
}

/**
 * A CAMARA `private_key_jwt` assertion for the sandbox's token endpoint, signed with the
 * application's key; `claims` override (undefined removes one), `header` adds to `{ alg }`.
 */
export async function clientAssertion(
  sandbox: Sandbox,
  app: TestApplication,
  claims: Record<string, unknown> = {},
  header: { alg?: string; kid?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload = Object.fromEntries(
    Object.entries({
      iss: app.applicationId,
      sub: app.applicationId,
      aud: sandbox.camaraEndpoints.tokenURL,
      jti: randomUUID(),
      iat: now,
      exp: now + 300,
      ...claims,
    }).filter(([, value]) => value !== undefined),
  );
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', ...header }).sign(app.privateKey);
}

/**
 * A fresh CAMARA code (with PKCE unless `pkce` is false), then the token request authenticated by
 * `assertion`, with `extra` form fields.
 */
export async function assertionTokenRequest(
  sandbox: Sandbox,
  app: TestApplication,
  assertion: string,
  extra: Record<string, string> = {},
  pkce = true,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const verifier = createCodeVerifier();
  const challenge = { code_challenge: codeChallengeS256(verifier), code_challenge_method: 'S256' };
  const { code } = await authorize(sandbox, app, {
    phoneNumber: '+99012345678',
    scope: CAMARA_VERIFY_SCOPE,
    params: pkce ? challenge : {},
  });
  const response = await fetch(sandbox.camaraEndpoints.tokenURL, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: code ?? '',
      redirect_uri: app.redirectUri,
      ...(pkce ? { code_verifier: verifier } : {}),
      client_assertion_type: JWT_BEARER_ASSERTION,
      client_assertion: assertion,
      ...extra,
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
