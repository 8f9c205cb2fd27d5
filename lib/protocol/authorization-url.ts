/** `tel` → `login_hint=tel:+447700900001` (CAMARA ICM, Vonage Node/Java SDKs); `e164` → `+447700900001`. */
export type LoginHintFormat = 'tel' | 'e164';

/** CAMARA ICM §login_hint: `tel:+E164`; Vonage's Python SDK sends the bare `+E164`. */
export function loginHint(phoneNumber: string, format: LoginHintFormat): string {
  return format === 'tel' ? `tel:${phoneNumber}` : phoneNumber;
}

/**
 * The authorization request URL (RFC 6749 §4.1.1). `parameters` are added in their order, leaving
 * out `undefined` ones; parameters already in `endpoint` are kept unless `parameters` names them.
 * Everything is percent-encoded with encodeURIComponent, so `#` is `%23`, `+` is `%2B` and a space
 * is `%20`, which every server decodes the same way (a `+` for a space depends on form decoding).
 */
export function buildAuthorizationURL(
  endpoint: URL,
  parameters: Record<string, string | undefined>,
): URL {
  const own = Object.entries(parameters).filter(
    (entry): entry is [string, string] => entry[1] !== undefined,
  );
  const kept = [...endpoint.searchParams].filter(([name]) => !Object.hasOwn(parameters, name));
  const url = new URL(endpoint);
  url.search = [...kept, ...own]
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&');
  url.hash = '';
  return url;
}
