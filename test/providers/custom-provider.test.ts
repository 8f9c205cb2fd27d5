/**
 * docs/providers.md's "Writing your own provider" example, run as it stands (only its import of
 * the package name is pointed at lib/): a client_secret_basic operator, signing in against the
 * sandbox with a client secret registered for the application.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Provider } from '../../lib/index.js';
import { startLoginApp, type LoginHarness } from '../helpers/login-app.js';

const doc = readFileSync(new URL('../../docs/providers.md', import.meta.url), 'utf8');
const block =
  /<!-- provider-example:start -->\s*```ts\n([\s\S]*?)```\s*<!-- provider-example:end -->/.exec(
    doc,
  )?.[1];
const SECRET = 'sandbox-client-secret-0123456789';

interface ExampleModule {
  secretOperator(options: { clientId: string; clientSecret: string; baseURL: string }): Provider;
}

async function loadExample(): Promise<ExampleModule> {
  if (block === undefined) throw new Error('docs/providers.md has no provider example');
  const lib = fileURLToPath(new URL('../../lib/index.ts', import.meta.url));
  const file = join(mkdtempSync(join(tmpdir(), 'nv-provider-')), 'secret-operator.ts');
  writeFileSync(file, block.replace(`from 'passport-number-verification'`, `from '${lib}'`));
  return (await import(file)) as ExampleModule;
}

describe('docs/providers.md: writing your own provider', () => {
  let h: LoginHarness | undefined;
  afterAll(async () => {
    await h?.close();
  });

  it('is a complete provider in under 60 lines', () => {
    expect(block).toBeDefined();
    expect(block?.trimEnd().split('\n').length).toBeLessThan(60);
  });

  it('signs in against the sandbox with client_secret_basic, in verify mode', async () => {
    const { secretOperator } = await loadExample();
    h = await startLoginApp({
      application: { clientSecret: SECRET },
      provider: (sandbox) =>
        secretOperator({
          clientId: '8b1a3e5c-5f0a-4d5b-9a57-6f1f7a2b9c10',
          clientSecret: SECRET,
          baseURL: sandbox.url,
        }),
    });
    expect(await h.login('+99012345678')).toMatchObject({ outcome: 'success' });
    expect((await h.login('+99012345677')).info?.code).toBe('not_verified');
  });

  it('is refused with a wrong secret (invalid_client)', async () => {
    const { secretOperator } = await loadExample();
    await h?.close();
    h = await startLoginApp({
      application: { clientSecret: SECRET },
      provider: (sandbox) =>
        secretOperator({
          clientId: '8b1a3e5c-5f0a-4d5b-9a57-6f1f7a2b9c10',
          clientSecret: `${SECRET}-wrong`,
          baseURL: sandbox.url,
        }),
    });
    expect((await h.login('+99012345678')).error).toMatchObject({
      name: 'TokenError',
      code: 'invalid_client',
      status: 401,
    });
  });
});
