import { afterEach, describe, expect, it, vi } from 'vitest';
import { codeChallengeS256 } from '../../lib/protocol/pkce.js';
import { startHostileApp, VERIFIED, type HostileHarness } from '../hostile/support.js';

vi.mock('../../lib/debug.js', async () => ({
  debug: (await import('../helpers/secrets.js')).recordingDebug,
}));

let h: HostileHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/**
 * The attack of issue 9: a code leaks from the victim's redirect (a proxy log, an extension); the
 * attacker starts a sign-in of their own for the victim's number and delivers the victim's code with
 * the attacker's own, valid `state`.
 */
async function redeemLeakedCode(harness: HostileHarness) {
  const victim = harness.browser();
  const leaked = await harness.followOperator(await harness.start(VERIFIED, victim));
  const attacker = harness.browser();
  const attackerRedirect = await harness.start(VERIFIED, attacker);
  const forged = new URL(harness.callbackURL);
  forged.searchParams.set('code', leaked.searchParams.get('code') ?? '');
  forged.searchParams.set('state', attackerRedirect.searchParams.get('state') ?? '');
  return harness.callback(forged, attacker);
}

describe('PKCE (RFC 7636, S256) over real HTTP against the sandbox', () => {
  it('without pkce a leaked code signs the attacker in as the victim', async () => {
    h = await startHostileApp({ strategy: { pkce: false } });
    const outcome = await redeemLeakedCode(h);
    expect(outcome.outcome).toBe('success');
    expect(outcome.user).toEqual({ id: VERIFIED });
  });

  it('with pkce: true the leaked code is refused as invalid_grant', async () => {
    h = await startHostileApp({ strategy: { pkce: true } });
    const outcome = await redeemLeakedCode(h);
    expect(outcome.outcome).toBe('fail');
    expect(outcome.info?.code).toBe('invalid_grant');
  });

  it('sends an S256 challenge on the redirect and its verifier on the token request', async () => {
    h = await startHostileApp({ strategy: { pkce: true } });
    const browser = h.browser();
    const redirect = await h.start(VERIFIED, browser);
    const challenge = redirect.searchParams.get('code_challenge');
    expect(redirect.searchParams.get('code_challenge_method')).toBe('S256');
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await h.callback(await h.followOperator(redirect), browser)).outcome).toBe('success');
    const [verifier] = h.secrets.values('PKCE verifier');
    expect(h.secrets.count('PKCE verifier')).toBe(1);
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(codeChallengeS256(verifier ?? '')).toBe(challenge);
    // A second flow gets a fresh verifier.
    const next = await h.start(VERIFIED, browser);
    expect(next.searchParams.get('code_challenge')).not.toBe(challenge);
  });

  it('keeps the verifier out of every error, info, redirect and debug line, also on failures', async () => {
    h = await startHostileApp({ strategy: { pkce: true } });
    await redeemLeakedCode(h);
    h.sandbox.inject({
      endpoint: 'token',
      status: 400,
      body: { error: 'invalid_grant' },
      times: 1,
    });
    expect((await h.login(VERIFIED)).outcome).toBe('fail');
    h.sandbox.inject({ endpoint: 'token', status: 500, times: 1 });
    expect((await h.login(VERIFIED)).outcome).toBe('error');
    expect(h.secrets.count('PKCE verifier')).toBe(3);
    for (const request of h.requests) expect(h.leaks(request)).toEqual([]);
  });

  it('sends no PKCE parameters by default (Vonage documents none)', async () => {
    h = await startHostileApp();
    const redirect = await h.start(VERIFIED);
    expect(redirect.searchParams.has('code_challenge')).toBe(false);
    expect(redirect.searchParams.has('code_challenge_method')).toBe(false);
    expect((await h.login(VERIFIED)).outcome).toBe('success');
    expect(h.secrets.count('PKCE verifier')).toBe(0);
  });
});
