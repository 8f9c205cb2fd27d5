import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { debug } from '../debug.js';
import { DiscoveryError } from '../errors.js';
import { parseEndpoint } from '../option-checks.js';
import { postToOperator } from '../protocol/http.js';
import { bodyField, describeFailure } from '../protocol/operator-body.js';

/** What the CAMARA provider takes from an OpenID Provider's metadata (OIDC Discovery §3). */
export interface ProviderMetadata {
  issuer: string;
  authorizationEndpoint: URL;
  tokenEndpoint: URL;
  /** `token_endpoint_auth_signing_alg_values_supported`, when the document lists it. */
  signingAlgorithms: readonly string[] | undefined;
}

export interface DiscoveryOptions {
  /** Deadline in ms for the request, body included. Default 10 000. */
  timeout?: number;
  dispatcher?: Dispatcher | undefined;
  /** Allow plain `http:` on hosts other than loopback (issuer and the endpoints it names). */
  allowInsecureHttp?: boolean;
  /** The `x-correlator` sent; default a fresh UUID. */
  correlator?: string;
}

export const DISCOVERY_TIMEOUT = 10_000;

/** One document per issuer for the life of the process; a failed read is forgotten, so it is retried. */
const cache = new Map<string, Promise<ProviderMetadata>>();

/**
 * Reads `{issuer}/.well-known/openid-configuration` once per issuer (OIDC Discovery §4; bodies over
 * 1 MiB refused, one deadline) and checks it can serve the CAMARA security profile: the same
 * issuer (§4.3), S256 PKCE (RFC 8414 `code_challenge_methods_supported`) and `private_key_jwt`
 * client authentication. Throws {@link DiscoveryError} naming what is missing.
 */
export function discoverProvider(
  issuer: string,
  options: DiscoveryOptions = {},
): Promise<ProviderMetadata> {
  let metadata = cache.get(issuer);
  if (metadata === undefined) {
    metadata = readMetadata(issuer, options);
    cache.set(issuer, metadata);
    metadata.catch(() => cache.delete(issuer));
  }
  return metadata;
}

async function readMetadata(issuer: string, options: DiscoveryOptions): Promise<ProviderMetadata> {
  const allowHttp = options.allowInsecureHttp === true;
  const owner = 'camara.discover()';
  const url = parseEndpoint(
    `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
    'issuer',
    owner,
    allowHttp,
  );
  const correlator = options.correlator ?? randomUUID();
  const makeError = (message: string, code: string, status?: number): DiscoveryError =>
    new DiscoveryError(`OIDC discovery for ${issuer}: ${message}`, { code, status, correlator });
  const { status, json } = await postToOperator(
    {
      url,
      method: 'GET',
      headers: { accept: 'application/json' },
      label: `OIDC discovery for ${issuer}`,
      makeError: (message, errorOptions) =>
        new DiscoveryError(message, { ...errorOptions, correlator }),
    },
    { timeout: options.timeout ?? DISCOVERY_TIMEOUT, dispatcher: options.dispatcher, correlator },
  );
  if (status < 200 || status > 299) {
    throw makeError(`request failed: ${describeFailure(status)}`, 'discovery_failed', status);
  }
  const field = (name: string): unknown => bodyField(json, name);
  const authorization = field('authorization_endpoint');
  const token = field('token_endpoint');
  if (typeof authorization !== 'string' || typeof token !== 'string') {
    throw makeError(
      'the answer is not JSON naming authorization_endpoint and token_endpoint',
      'invalid_discovery_document',
      status,
    );
  }
  // OIDC Discovery §4.3: the issuer in the document must be exactly the one asked for,
  // or an impersonating document could redirect users and codes elsewhere.
  if (field('issuer') !== issuer) {
    throw makeError(
      `the document names another issuer (${JSON.stringify(String(field('issuer')).slice(0, 100))})`,
      'issuer_mismatch',
      status,
    );
  }
  // CAMARA ICM: PKCE with S256; RFC 8414 §2: no list means no PKCE support announced.
  if (!listIncludes(field('code_challenge_methods_supported'), 'S256')) {
    throw makeError(
      'code_challenge_methods_supported does not include S256 (PKCE), which CAMARA requires',
      'pkce_unsupported',
      status,
    );
  }
  // CAMARA ICM "Client Authentication": private_key_jwt. OIDC Discovery §3: the default when the
  // list is absent is client_secret_basic.
  if (!listIncludes(field('token_endpoint_auth_methods_supported'), 'private_key_jwt')) {
    throw makeError(
      'token_endpoint_auth_methods_supported does not include private_key_jwt, which CAMARA requires',
      'client_authentication_unsupported',
      status,
    );
  }
  const algorithms = field('token_endpoint_auth_signing_alg_values_supported');
  const endpoint = (value: string, name: string): URL => {
    try {
      return parseEndpoint(value, name, owner, allowHttp);
    } catch (err) {
      throw makeError((err as Error).message, 'invalid_discovery_document', status);
    }
  };
  const metadata: ProviderMetadata = {
    issuer,
    authorizationEndpoint: endpoint(authorization, 'authorization_endpoint'),
    tokenEndpoint: endpoint(token, 'token_endpoint'),
    signingAlgorithms: Array.isArray(algorithms)
      ? algorithms.filter((a): a is string => typeof a === 'string')
      : undefined,
  };
  debug('discovered %s: authorization and token endpoints read', issuer);
  return metadata;
}

function listIncludes(list: unknown, value: string): boolean {
  return Array.isArray(list) && list.includes(value);
}
