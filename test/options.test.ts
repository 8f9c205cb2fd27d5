import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NumberVerificationStrategy, type StrategyOptions } from '../lib/index.js';
import { startLoginApp, testKeyPair } from './helpers/login-app.js';

const verify = () => undefined;

function options(overrides: Record<string, unknown> = {}): StrategyOptions {
  return {
    applicationId: 'app-id',
    privateKey: testKeyPair().privateKeyPem,
    callbackURL: 'https://app.example/auth/callback',
    ...overrides,
  } as StrategyOptions;
}

function construct(overrides: Record<string, unknown>) {
  return () => new NumberVerificationStrategy(options(overrides), verify);
}

describe('constructor validation', () => {
  it('applies the documented defaults', () => {
    const strategy = new NumberVerificationStrategy(options(), verify);
    expect(strategy.name).toBe('number-verification');
    expect(new NumberVerificationStrategy(options({ name: 'nv' }), verify).name).toBe('nv');
  });

  it.each([
    ['applicationId', { applicationId: undefined }],
    ['applicationId', { applicationId: '' }],
    ['privateKey', { privateKey: undefined }],
    ['privateKey', { privateKey: '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----' }],
    ['privateKey', { privateKey: testKeyPair().publicKeyPem }],
    ['privateKey', { privateKey: testKeyPair().publicKey }],
    ['callbackURL', { callbackURL: undefined }],
    ['callbackURL', { callbackURL: '/auth/callback' }],
    ['callbackURL', { callbackURL: 'http://app.example/auth/callback' }],
    ['authorizationURL', { authorizationURL: 'ftp://operator.example/auth' }],
    ['tokenURL', { tokenURL: 'not a url' }],
    ['verifyURL', { verifyURL: 'http://operator.example/verify' }],
    ['loginHintFormat', { loginHintFormat: 'sip' }],
    ['timeout', { timeout: 0 }],
    ['timeout', { timeout: -1 }],
    ['timeout', { timeout: Number.NaN }],
    ['timeout', { timeout: 2500.5 }],
    ['timeout', { timeout: 3e9 }],
    ['timeout', { timeout: 2_147_483_648 }],
    ['timeout', { timeout: '1000' }],
    ['timeout', { timeout: Number.POSITIVE_INFINITY }],
    ['stateMaxAge', { stateMaxAge: 0 }],
    ['stateMaxAge', { stateMaxAge: 0.5 }],
    ['stateMaxAge', { stateMaxAge: 2_147_483_648 }],
    ['store', { store: { save: () => undefined } }],
    ['pkce', { pkce: 'yes' }],
  ])('throws a TypeError naming %s for %j', (option, overrides) => {
    expect(construct(overrides)).toThrow(TypeError);
    expect(construct(overrides)).toThrow(option);
  });

  it('throws without a verify function', () => {
    expect(
      () => new NumberVerificationStrategy(options(), undefined as unknown as typeof verify),
    ).toThrow(/verify/);
  });

  it('accepts PKCS#8 and PKCS#1 PEM, as string or Buffer, and KeyObjects', () => {
    const { privateKey, privateKeyPem } = testKeyPair();
    const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    for (const key of [privateKeyPem, pkcs1, Buffer.from(privateKeyPem), privateKey]) {
      expect(construct({ privateKey: key })).not.toThrow();
    }
  });

  it('refuses non-RSA and short RSA keys', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(construct({ privateKey: ec })).toThrow(/RSA/);
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(construct({ privateKey: short })).toThrow(/2048/);
  });

  it('never echoes the key material in its messages', () => {
    const garbage = `-----BEGIN PRIVATE KEY-----\nSECRETSECRETSECRET\n-----END PRIVATE KEY-----`;
    expect(construct({ privateKey: garbage })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('SECRETSECRETSECRET') }),
    );
  });

  it('allows plain http on loopback hosts, and elsewhere only with allowInsecureHttp', () => {
    expect(
      construct({
        callbackURL: 'http://localhost:3000/cb',
        tokenURL: 'http://127.0.0.1:4010/oauth2/token',
        verifyURL: 'http://[::1]:4010/verify',
      }),
    ).not.toThrow();
    expect(
      construct({ callbackURL: 'http://app.internal/cb', allowInsecureHttp: true }),
    ).not.toThrow();
  });
});

describe('constructor overloads', () => {
  it('binds the verify signature to passReqToCallback at compile time', () => {
    const withRequestOptions = { ...options(), passReqToCallback: true as const };
    const phoneOnly = (phoneNumber: string) => phoneNumber;
    // @ts-expect-error with passReqToCallback: true, verify takes (req, phoneNumber, done)
    expect(() => new NumberVerificationStrategy(withRequestOptions, phoneOnly)).not.toThrow();
    const withRequest = new NumberVerificationStrategy(
      withRequestOptions,
      (req, phoneNumber, done) => done(null, { id: phoneNumber, ip: req.ip }),
    );
    expect(withRequest.name).toBe('number-verification');
  });
});

describe('timeout and stateMaxAge at the edges of a Node timer, over loopback', () => {
  it('honours the largest timeout and stateMaxAge: a slow operator is waited for', async () => {
    const h = await startLoginApp({
      strategy: { timeout: 2_147_483_647, stateMaxAge: 2_147_483_647 },
    });
    try {
      h.sandbox.inject({ endpoint: 'token', delayMs: 100, times: 1 });
      h.sandbox.inject({ endpoint: 'verify', delayMs: 100, times: 1 });
      expect((await h.login('+99012345678')).outcome).toBe('success');
    } finally {
      await h.close();
    }
  });

  it('a whole-number timeout of 1 ms is a deadline, not an exception', async () => {
    const h = await startLoginApp({ strategy: { timeout: 1 } });
    try {
      h.sandbox.inject({ endpoint: 'token', delayMs: 200, times: 1 });
      const outcome = await h.login('+99012345678');
      expect(outcome.outcome).toBe('error');
      expect(outcome.error?.code).toBe('timeout');
    } finally {
      await h.close();
    }
  });
});
