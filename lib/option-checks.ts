/**
 * Option checks shared by the strategy and the providers: each fails fast with a TypeError that
 * names its owner (`NumberVerificationStrategy`, `camara()`, …) and the option.
 */

export function requireString(value: unknown, option: string, owner: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(`${owner} requires a non-empty ${option} option`);
  }
  return value;
}

export function optionalString(value: unknown, option: string, owner: string): string | undefined {
  return value === undefined ? undefined : requireString(value, option, owner);
}

export function optionalBoolean(
  value: unknown,
  option: string,
  owner: string,
): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new TypeError(`${owner} requires ${option} to be a boolean`);
  }
  return value;
}

export function requireObject(value: unknown, owner: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`${owner} requires an options object`);
  }
  return value as Record<string, unknown>;
}

/**
 * An absolute http(s) URL. Plain `http:` only for loopback hosts or with `allowHttp`: the code and
 * the access token would otherwise cross the network in clear text.
 */
export function parseEndpoint(
  value: string,
  option: string,
  owner: string,
  allowHttp: boolean,
): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${owner} requires ${option} to be an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`${owner} requires ${option} to be an http(s) URL`);
  }
  if (url.protocol === 'http:' && !allowHttp && !isLoopback(url.hostname)) {
    throw new TypeError(
      `${owner} requires ${option} to use https (plain http is allowed for loopback hosts, or with allowInsecureHttp: true)`,
    );
  }
  return url;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}
