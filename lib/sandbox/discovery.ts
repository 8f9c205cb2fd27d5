import type { SandboxContext } from './context.js';
import { jsonResponse, type SandboxResponse } from './http-util.js';

/**
 * GET /.well-known/openid-configuration (OIDC Discovery §4, RFC 8414): the sandbox as a CAMARA
 * authorization server. `issuer` is the sandbox's own URL, so `camara.discover(sandbox.url, …)`
 * needs no other set-up; it announces what the CAMARA security profile asks for: S256 PKCE and
 * `private_key_jwt` with RS256 or ES256.
 */
export function handleDiscovery(
  ctx: SandboxContext,
  paths: { auth: string; token: string },
): SandboxResponse {
  const issuer = ctx.baseUrl();
  return jsonResponse(
    200,
    {
      issuer,
      authorization_endpoint: `${issuer}${paths.auth}`,
      token_endpoint: `${issuer}${paths.token}`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code'],
      scopes_supported: [
        'openid',
        'dpv:FraudPreventionAndDetection',
        'number-verification:verify',
        'number-verification:device-phone-number:read',
      ],
      prompt_values_supported: ['none'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256', 'ES256'],
    },
    'discovery',
  );
}
