import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TokenError } from '../../lib/index.js';
import { testKeyPair } from '../helpers/login-app.js';
import { debugOutput, findLeaks, SecretRecorder } from '../helpers/secrets.js';
import { startHostileApp, VERIFIED, type HostileHarness } from './support.js';

vi.mock('../../lib/debug.js', async () => ({
  debug: (await import('../helpers/secrets.js')).recordingDebug,
}));

// The scanner is only worth something if it learns the real secrets and finds them when planted.
describe('the secrets scanner', () => {
  let h: HostileHarness;
  beforeAll(async () => {
    h = await startHostileApp();
  });
  afterAll(() => h.close());

  it('learns the JWT, the code and the access token of a real flow, and captures debug output', async () => {
    const mark = debugOutput.length;
    const browser = h.browser();
    const callbackURL = await h.followOperator(await h.start(VERIFIED, browser));
    expect((await h.callback(callbackURL, browser)).outcome).toBe('success');
    expect(h.secrets.count('JWT')).toBe(1);
    expect(h.secrets.count('JWT signature')).toBe(1);
    expect(h.secrets.count('code')).toBe(1);
    expect(h.secrets.count('access token')).toBe(1);
    expect(h.secrets.values('code')).toEqual([callbackURL.searchParams.get('code')]);
    expect(h.secrets.values('JWT')[0]).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(h.secrets.count('private key')).toBeGreaterThan(20);
    const lines = debugOutput.slice(mark);
    expect(lines.some((line) => line.includes('redirecting +99*******78'))).toBe(true);
    expect(
      lines.every((line) => line.startsWith(`PASSPORT-NUMBER-VERIFICATION ${process.pid}: `)),
    ).toBe(true);
    for (const request of h.requests) expect(h.leaks(request)).toEqual([]);
  });

  it('finds each kind of planted secret wherever it hides', () => {
    const recorder = new SecretRecorder({
      privateKeyPem: testKeyPair().privateKeyPem,
      phoneNumbers: [VERIFIED],
    });
    const token = 'access-token-0123456789abcdef';
    const code = 'code-0123456789abcdef';
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJhcHAiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
    recorder.add('access token', token);
    recorder.add('code', code);
    recorder.add('JWT', jwt);
    const keyLine = testKeyPair().privateKeyPem.split('\n')[3] ?? '';

    const kinds = (target: Parameters<typeof findLeaks>[0], allow = {}): string[] =>
      findLeaks(target, recorder, allow).map((leak) => `${leak.kind}@${leak.where}`);

    expect(kinds({ error: new TokenError(`bad ${token}`, { code: 'x' }) })).toContain(
      'access token@String(error)',
    );
    const hidden = new TokenError('fine', { code: 'x', cause: new Error(`jwt ${jwt}`) });
    expect(kinds({ error: hidden })).toContain('JWT@cause: error.stack');
    const property = Object.assign(new Error('fine'), { request: { body: `code=${code}` } });
    expect(kinds({ error: property })).toContain('code@util.inspect(error)');
    expect(kinds({ info: { message: VERIFIED } })).toContain('phone number@JSON.stringify(info)');
    expect(kinds({ info: { phoneNumber: VERIFIED } }, { allowPhoneNumberIn: ['info'] })).toEqual(
      [],
    );
    expect(kinds({ debugOutput: [`x ${code}`] })).toEqual(['code@debug output']);
    expect(kinds({ responseBodies: [`<pre>${keyLine}</pre>`] })).toEqual([
      'private key@response body',
    ]);
    expect(kinds({ locations: [`/x?t=${encodeURIComponent(token)}`] })).toContain(
      'access token@Location',
    );
    expect(kinds({ error: new Error('nothing secret'), info: { code: 'invalid_state' } })).toEqual(
      [],
    );
  });
});
