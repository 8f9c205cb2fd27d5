import type { KeyObject } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { DiscoveryError } from '../errors.js';
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
import { createClientAssertion, parseSigningKey } from '../protocol/client-auth.js';
import { pkceParameters } from '../protocol/pkce.js';
import { requestAccessToken } from '../protocol/token.js';
import { getDevicePhoneNumber, verifyPhoneNumber } from '../protocol/verify.js';
import { discoverProvider, type ProviderMetadata } from './discovery.js';
import type { BackChannel, Provider, VerificationMode } from './types.js';

/** `camara({...})`: any operator speaking CAMARA Number Verification v2 with the ICM security profile. */
export interface CamaraOptions {
  /** The `client_id` the operator gave the application. */
  clientId: string;
  /** Signs the private_key_jwt assertion: RSA ≥ 2048 bits (RS256) or EC P-256 (ES256); PEM or KeyObject. */
  privateKey: string | Buffer | KeyObject;
  /** JWS `kid` of the key, when the operator holds several for the client. */
  keyId?: string;
  /** OIDC issuer: the endpoints are read from its discovery document at the first sign-in. */
  issuer?: string;
  /** The authorization endpoint, instead of `issuer` (then `tokenURL` too). */
  authorizationURL?: string;
  /** The token endpoint, instead of `issuer` (then `authorizationURL` too). */
  tokenURL?: string;
  /** CAMARA `apiRoot`: verify is `{apiRoot}/number-verification/v2/verify`. */
  apiRoot: string;
  /**
   * Default `openid dpv:FraudPreventionAndDetection number-verification:verify`, or
   * `openid dpv:FraudPreventionAndDetection number-verification:device-phone-number:read` in share mode.
   */
  scope?: string;
  /** PKCE (RFC 7636, S256). Default `true`: the CAMARA profile expects it. */
  pkce?: boolean;
  /** OIDC `prompt`. Default `'none'` (CAMARA NV 2.x: no user interaction); `false` sends none. */
  prompt?: string | false;
  /** `login_hint` form in verify mode: `'tel'` (`tel:+44…`, CAMARA ICM, default) or `'e164'`. */
  loginHintFormat?: LoginHintFormat;
  /** Allow plain `http:` endpoints on hosts other than loopback. */
  allowInsecureHttp?: boolean;
}

/** `camara.discover(issuer, options)`: endpoints come from the issuer's discovery document. */
export type CamaraDiscoverOptions = Omit<
  CamaraOptions,
  'issuer' | 'authorizationURL' | 'tokenURL'
> & {
  /** Deadline in ms for reading the discovery document. Default 10 000. */
  timeout?: number;
  dispatcher?: Dispatcher;
};

export const CAMARA_SCOPES = {
  verify: 'openid dpv:FraudPreventionAndDetection number-verification:verify',
  share: 'openid dpv:FraudPreventionAndDetection number-verification:device-phone-number:read',
} as const satisfies Record<VerificationMode, string>;

const OWNER = 'camara()';

type Endpoints = Pick<ProviderMetadata, 'authorizationEndpoint' | 'tokenEndpoint'>;

/**
 * CAMARA NV v2 (2.1.0) with the ICM security profile: `private_key_jwt` client authentication
 * (OIDC Core §9, RFC 7523 §2.2), PKCE S256, `prompt=none`, purpose and API scope separated by a
 * space, `POST {apiRoot}/number-verification/v2/verify` and `GET …/device-phone-number`.
 */
export function camara(options: CamaraOptions): Provider {
  const o = requireObject(options, OWNER);
  const allowHttp = optionalBoolean(o.allowInsecureHttp, 'allowInsecureHttp', OWNER) ?? false;
  const issuer = optionalString(o.issuer, 'issuer', OWNER);
  const authorizationURL = optionalString(o.authorizationURL, 'authorizationURL', OWNER);
  const tokenURL = optionalString(o.tokenURL, 'tokenURL', OWNER);
  let endpoints: Endpoints | Promise<Endpoints> | undefined;
  if (authorizationURL !== undefined && tokenURL !== undefined && issuer === undefined) {
    endpoints = {
      authorizationEndpoint: parseEndpoint(authorizationURL, 'authorizationURL', OWNER, allowHttp),
      tokenEndpoint: parseEndpoint(tokenURL, 'tokenURL', OWNER, allowHttp),
    };
  } else if (issuer === undefined || authorizationURL !== undefined || tokenURL !== undefined) {
    throw new TypeError(`${OWNER} requires either issuer or both authorizationURL and tokenURL`);
  }
  const clientId = requireString(o.clientId, 'clientId', OWNER);
  const signingKey = parseSigningKey(o.privateKey, OWNER);
  const keyId = optionalString(o.keyId, 'keyId', OWNER);
  const root = requireString(o.apiRoot, 'apiRoot', OWNER).replace(/\/+$/, '');
  const verifyURL = parseEndpoint(
    `${root}/number-verification/v2/verify`,
    'apiRoot',
    OWNER,
    allowHttp,
  );
  const shareURL = new URL(`${root}/number-verification/v2/device-phone-number`);
  const scope = optionalString(o.scope, 'scope', OWNER);
  const prompt =
    o.prompt === false ? undefined : (optionalString(o.prompt, 'prompt', OWNER) ?? 'none');
  const hintFormat = o.loginHintFormat ?? 'tel';
  if (hintFormat !== 'tel' && hintFormat !== 'e164') {
    throw new TypeError(`${OWNER} requires loginHintFormat to be 'tel' or 'e164'`);
  }

  /** The endpoints; with only `issuer`, read once from its discovery document (then cached). */
  const resolve = async (channel: BackChannel): Promise<Endpoints> => {
    if (endpoints !== undefined) return endpoints;
    const discovering = discoverProvider(issuer ?? '', { ...channel, allowInsecureHttp: allowHttp })
      .then((metadata) => checkSigningAlgorithm(metadata, signingKey.alg))
      .catch((err: unknown) => {
        endpoints = undefined;
        throw err;
      });
    endpoints = discovering;
    return discovering;
  };

  return {
    name: 'camara',
    pkce: optionalBoolean(o.pkce, 'pkce', OWNER) ?? true,
    async authorizationURL(request, channel) {
      const { authorizationEndpoint } = await resolve(channel);
      return buildAuthorizationURL(authorizationEndpoint, {
        client_id: clientId,
        response_type: 'code',
        scope: scope ?? CAMARA_SCOPES[request.mode],
        redirect_uri: request.redirectUri,
        state: request.state,
        // CAMARA ICM: login_hint is optional in the authorization-code flow; share mode has none.
        login_hint:
          request.phoneNumber === undefined
            ? undefined
            : loginHint(request.phoneNumber, hintFormat),
        prompt,
        ...pkceParameters(request.codeChallenge),
      });
    },
    async exchangeCode(request, channel) {
      const { tokenEndpoint } = await resolve(channel);
      const form = await createClientAssertion({
        clientId,
        audience: tokenEndpoint.href,
        signingKey,
        keyId,
      });
      return requestAccessToken(tokenEndpoint, request, { form }, channel);
    },
    verify(request, channel) {
      return verifyPhoneNumber(verifyURL, request, channel);
    },
    share(accessToken, channel) {
      return getDevicePhoneNumber(shareURL, accessToken, channel);
    },
  };
}

/**
 * Reads the issuer's discovery document now, so that a document this package cannot use
 * (another issuer, no S256, no private_key_jwt) stops the app at start-up, not at the first login.
 */
camara.discover = async function discover(
  issuer: string,
  options: CamaraDiscoverOptions,
): Promise<Provider> {
  const o = requireObject(options, 'camara.discover()');
  const { timeout, dispatcher, ...providerOptions } = o as CamaraDiscoverOptions;
  requireString(issuer, 'issuer', 'camara.discover()');
  const allowInsecureHttp = providerOptions.allowInsecureHttp === true;
  const metadata = await discoverProvider(issuer, {
    ...(timeout === undefined ? {} : { timeout }),
    dispatcher,
    allowInsecureHttp,
  });
  const signingKey = parseSigningKey(providerOptions.privateKey, 'camara.discover()');
  checkSigningAlgorithm(metadata, signingKey.alg);
  return camara({
    ...providerOptions,
    authorizationURL: metadata.authorizationEndpoint.href,
    tokenURL: metadata.tokenEndpoint.href,
  });
};

/** RFC 8414 §2: when the document lists assertion algorithms, ours must be among them. */
function checkSigningAlgorithm(metadata: ProviderMetadata, alg: string): ProviderMetadata {
  const listed = metadata.signingAlgorithms;
  if (listed !== undefined && !listed.includes(alg)) {
    throw new DiscoveryError(
      `OIDC discovery for ${metadata.issuer}: token_endpoint_auth_signing_alg_values_supported does not include ${alg}, the algorithm of the privateKey`,
      { code: 'client_authentication_unsupported' },
    );
  }
  return metadata;
}
