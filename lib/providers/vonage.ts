import type { KeyObject } from 'node:crypto';
import {
  optionalBoolean,
  optionalString,
  parseEndpoint,
  requireObject,
  requireString,
} from '../option-checks.js';
import {
  buildAuthorizationURL,
  loginHint,
  type LoginHintFormat,
} from '../protocol/authorization-url.js';
import { createApplicationJWT, parseSigningKey } from '../protocol/client-auth.js';
import { pkceParameters } from '../protocol/pkce.js';
import { requestAccessToken } from '../protocol/token.js';
import { verifyPhoneNumber } from '../protocol/verify.js';
import type { Provider } from './types.js';

/** `vonage({...})`: Vonage's Number Verification (CAMARA v0.3.1 based, "legacy" at Vonage). */
export interface VonageOptions {
  /** Vonage application ID, sent as `client_id` and as the JWT's `application_id` claim. */
  applicationId: string;
  /** The application's RSA private key: PEM (PKCS#8 or PKCS#1) string or Buffer, or a KeyObject. */
  privateKey: string | Buffer | KeyObject;
  /** Default `https://oidc.idp.vonage.com/oauth2/auth`. */
  authorizationURL?: string;
  /** Default `https://api-eu.vonage.com/oauth2/token`. */
  tokenURL?: string;
  /** Default `https://api-eu.vonage.com/camara/number-verification/v031/verify`. */
  verifyURL?: string;
  /** Default `openid dpv:FraudPreventionAndDetection#number-verification-verify-read`. */
  scope?: string;
  /** How the number is sent as `login_hint`: `'tel'` (`tel:+44…`, default) or `'e164'` (`+44…`). */
  loginHintFormat?: LoginHintFormat;
  /** PKCE (RFC 7636, S256). Default `false`: Vonage documents none; turn on once it does. */
  pkce?: boolean;
  /** Allow plain `http:` endpoints on hosts other than loopback. */
  allowInsecureHttp?: boolean;
}

export const VONAGE_DEFAULTS = {
  authorizationURL: 'https://oidc.idp.vonage.com/oauth2/auth',
  tokenURL: 'https://api-eu.vonage.com/oauth2/token',
  verifyURL: 'https://api-eu.vonage.com/camara/number-verification/v031/verify',
  scope: 'openid dpv:FraudPreventionAndDetection#number-verification-verify-read',
  loginHintFormat: 'tel',
} as const;

/**
 * Vonage's dialect: purpose and API scope joined by `#`, the client authenticated by its
 * application JWT as `Authorization: Bearer` (not CAMARA's private_key_jwt), `POST /verify` of
 * CAMARA NV v0.3.1. Vonage has no share endpoint.
 */
export function vonage(options: VonageOptions): Provider {
  return createVonageProvider(options, 'vonage()');
}

/** @internal `owner` names who took the options: `vonage()` or the strategy (flat options). */
export function createVonageProvider(options: VonageOptions, owner: string): Provider {
  const o = requireObject(options, owner);
  const allowHttp = optionalBoolean(o.allowInsecureHttp, 'allowInsecureHttp', owner) ?? false;
  const endpoint = (option: 'authorizationURL' | 'tokenURL' | 'verifyURL'): URL =>
    parseEndpoint(
      optionalString(o[option], option, owner) ?? VONAGE_DEFAULTS[option],
      option,
      owner,
      allowHttp,
    );
  const applicationId = requireString(o.applicationId, 'applicationId', owner);
  // Vonage signs application JWTs with RS256 only.
  const privateKey = parseSigningKey(o.privateKey, owner, ['RS256']).key;
  const authorizationURL = endpoint('authorizationURL');
  const tokenURL = endpoint('tokenURL');
  const verifyURL = endpoint('verifyURL');
  const scope = optionalString(o.scope, 'scope', owner) ?? VONAGE_DEFAULTS.scope;
  const hintFormat = o.loginHintFormat ?? VONAGE_DEFAULTS.loginHintFormat;
  if (hintFormat !== 'tel' && hintFormat !== 'e164') {
    throw new TypeError(`${owner} requires loginHintFormat to be 'tel' or 'e164'`);
  }
  return {
    name: 'vonage',
    pkce: optionalBoolean(o.pkce, 'pkce', owner) ?? false,
    authorizationURL(request) {
      return buildAuthorizationURL(authorizationURL, {
        client_id: applicationId,
        response_type: 'code',
        scope,
        redirect_uri: request.redirectUri,
        state: request.state,
        login_hint:
          request.phoneNumber === undefined
            ? undefined
            : loginHint(request.phoneNumber, hintFormat),
        ...pkceParameters(request.codeChallenge),
      });
    },
    async exchangeCode(request, channel) {
      const jwt = await createApplicationJWT(applicationId, privateKey);
      return requestAccessToken(
        tokenURL,
        request,
        { headers: { authorization: `Bearer ${jwt}` } },
        channel,
      );
    },
    verify(request, channel) {
      return verifyPhoneNumber(verifyURL, request, channel);
    },
  };
}
