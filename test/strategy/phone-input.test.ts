import { afterEach, describe, expect, it } from 'vitest';
import { NumberVerificationStrategy } from '../../lib/index.js';
import { startLoginApp, testKeyPair, type LoginHarness } from '../helpers/login-app.js';

let h: LoginHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const loginHint = (redirect: URL): string | null => redirect.searchParams.get('login_hint');

describe('phone-number input on the first leg, over loopback', () => {
  it('drops a (0) right after the country code: the operator gets the right number', async () => {
    h = await startLoginApp();
    expect(loginHint(await h.start('+44 (0) 7400 123456'))).toBe('tel:+447400123456');
    expect(loginHint(await h.start('+990 (0) 12345678'))).toBe('tel:+99012345678');
  });

  it('reads national input with defaultCountry, and keeps +E.164 (test numbers too) unchanged', async () => {
    h = await startLoginApp({ strategy: { defaultCountry: 'GB' } });
    expect(loginHint(await h.start('07400 123456'))).toBe('tel:+447400123456');
    expect(loginHint(await h.start('+99012345678'))).toBe('tel:+99012345678');
    expect((await h.login('+99012345678')).outcome).toBe('success');
    for (const input of ['12', '07400 12345a', '07700 900001']) {
      expect((await h.startOutcome({ phoneNumber: input })).info?.code).toBe(
        'invalid_phone_number',
      );
    }
  });

  it('refuses national input without defaultCountry: its country cannot be known', async () => {
    h = await startLoginApp();
    expect((await h.startOutcome({ phoneNumber: '07400 123456' })).info?.code).toBe(
      'invalid_phone_number',
    );
  });

  it.each(['gb', 'XX', 'United Kingdom', 44])(
    'refuses defaultCountry %j at construction',
    (defaultCountry) => {
      expect(
        () =>
          new NumberVerificationStrategy(
            {
              applicationId: 'app',
              privateKey: testKeyPair().privateKeyPem,
              callbackURL: 'https://app.example/cb',
              defaultCountry: defaultCountry as 'GB',
            },
            () => undefined,
          ),
      ).toThrow(/defaultCountry/);
    },
  );
});
