import type { Permission } from './store.js';

/**
 * Scope forms accepted on GET /oauth2/auth:
 * - Vonage: `openid dpv:<Purpose>#number-verification-verify-read` (purpose and API scope joined by `#`);
 * - CAMARA ICM (§Purpose): `openid dpv:<Purpose> number-verification:verify`
 *   and/or `number-verification:device-phone-number:read`, space-separated.
 * `openid` is required (OIDC Core §3.1.2.1) and there must be exactly one `dpv:` purpose (CAMARA ICM).
 */
const VONAGE_VERIFY = 'number-verification-verify-read';
// A Map, not an object literal: a scope named `__proto__` must not find anything.
const CAMARA_SCOPES: ReadonlyMap<string, Permission> = new Map([
  ['number-verification:verify', 'verify'],
  ['number-verification:device-phone-number:read', 'share'],
]);
const PURPOSE = /^dpv:[A-Za-z][A-Za-z0-9]*$/;

export type ScopeResult =
  | {
      ok: true;
      permissions: ReadonlySet<Permission>;
      /** CAMARA's space-separated form (then `login_hint` is optional, as CAMARA ICM allows). */
      camara: boolean;
    }
  | { ok: false; description: string };

export function parseScope(scope: string): ScopeResult {
  // RFC 6749 §3.3: space-delimited, case-sensitive.
  const tokens = scope.split(' ');
  if (tokens.some((t) => t.length === 0)) {
    return { ok: false, description: 'scope must be separated by single spaces' };
  }
  if (!tokens.includes('openid')) return { ok: false, description: 'scope must include openid' };
  const permissions = new Set<Permission>();
  let purposes = 0;
  let camara = false;
  for (const token of tokens) {
    if (token === 'openid') continue;
    const hash = token.indexOf('#');
    if (token.startsWith('dpv:') && hash !== -1) {
      const purpose = token.slice(0, hash);
      if (!PURPOSE.test(purpose) || token.slice(hash + 1) !== VONAGE_VERIFY) {
        return { ok: false, description: `unsupported scope ${token}` };
      }
      purposes += 1;
      permissions.add('verify');
    } else if (PURPOSE.test(token)) {
      purposes += 1;
    } else {
      const permission = CAMARA_SCOPES.get(token);
      if (permission === undefined) return { ok: false, description: `unsupported scope ${token}` };
      permissions.add(permission);
      camara = true;
    }
  }
  if (purposes !== 1) {
    return { ok: false, description: 'scope must name exactly one dpv: purpose' };
  }
  if (permissions.size === 0) {
    return { ok: false, description: 'scope names no Number Verification scope' };
  }
  return { ok: true, permissions, camara };
}
