import { describe, expect, it } from 'vitest';
import { isSafeReturnTo } from '../lib/index.js';
import { startLoginApp } from './helpers/login-app.js';

describe('isSafeReturnTo', () => {
  it.each(['/', '/cart', '/cart?step=2#pay', '/a/b/../c', '/%2F%2Fevil.example'])(
    'accepts the same-origin path %j',
    (value) => expect(isSafeReturnTo(value)).toBe(true),
  );

  it.each([
    '//evil.example',
    'https://evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    'javascript:alert(1)',
    'cart',
    '',
    `/${'a'.repeat(3000)}`,
    ['/cart'],
    42,
  ])('refuses %j', (value) => expect(isSafeReturnTo(value)).toBe(false));
});

describe('returnTo carried in state', () => {
  it.each([
    ['/cart', { returnTo: '/cart', plan: 'pro' }],
    ['//evil.example', { plan: 'pro' }],
    ['https://evil.example', { plan: 'pro' }],
    ['/\\evil.example', { plan: 'pro' }],
  ])('hands back %j as info.state %j', async (returnTo, expected) => {
    const h = await startLoginApp({ authenticate: { state: { returnTo, plan: 'pro' } } });
    try {
      const outcome = await h.login('+99012345678');
      expect(outcome.info?.state).toEqual(expected);
    } finally {
      await h.close();
    }
  });
});
