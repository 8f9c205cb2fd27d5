import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsumer, packTarball, root } from './helpers/tarball.js';

/**
 * Packs the package as npm would publish it and installs the tarball into a fresh directory,
 * so `exports`, the dual ESM/CommonJS build and the `files` list are tested as users get them.
 * Needs `dist/` (npm test builds first).
 */
describe('the packed tarball', () => {
  let consumer: string;

  beforeAll(() => {
    const tarball = packTarball();
    expect(tarball.files).not.toContainEqual(expect.stringMatching(/^lib\//));
    consumer = createConsumer('consumer', [tarball.path]);
  }, 120_000);

  afterAll(() => rmSync(consumer, { recursive: true, force: true }));

  function run(file: string, source: string): string {
    writeFileSync(join(consumer, file), source);
    return execFileSync(process.execPath, [file], { cwd: consumer, encoding: 'utf8' }).trim();
  }

  it('works with require()', () => {
    const output = run(
      'check.cjs',
      `const pnv = require('passport-number-verification');
       const { createSandbox } = require('passport-number-verification/sandbox');
       console.log([typeof pnv.NumberVerificationStrategy, pnv.Strategy === pnv.NumberVerificationStrategy,
         typeof pnv.SessionStateStore, new pnv.TokenError('x', { code: 'y' }) instanceof pnv.NumberVerificationError,
         typeof createSandbox].join(' '));`,
    );
    expect(output).toBe('function true function true function');
  });

  it('works with import', () => {
    const output = run(
      'check.mjs',
      `import { NumberVerificationStrategy, Strategy, AuthorizationError, VerificationError } from 'passport-number-verification';
       import { createSandbox } from 'passport-number-verification/sandbox';
       console.log([typeof NumberVerificationStrategy, Strategy === NumberVerificationStrategy,
         typeof AuthorizationError, typeof VerificationError, typeof createSandbox].join(' '));`,
    );
    expect(output).toBe('function true function function function');
  });

  it('names its own version and Node in the back channel user-agent', () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      version: string;
    };
    // A token endpoint on loopback that prints the user-agent it received; the flow is fed to the
    // strategy through a store, so the installed build runs its real callback.
    const output = run(
      'user-agent.mjs',
      `import { createServer } from 'node:http';
       import { generateKeyPairSync } from 'node:crypto';
       import { NumberVerificationStrategy } from 'passport-number-verification';
       const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
       const server = createServer((req, res) => {
         console.log(req.headers['user-agent']);
         res.writeHead(503).end();
       }).listen(0, '127.0.0.1', () => {
         const url = 'http://127.0.0.1:' + server.address().port;
         const flow = { strategy: 'number-verification', state: 'state-of-the-flow', phoneNumber: '+99012345678', callbackURL: url + '/cb', expiresAt: Date.now() + 60000 };
         const strategy = new NumberVerificationStrategy({ applicationId: 'app', privateKey, callbackURL: url + '/cb',
           authorizationURL: url + '/auth', tokenURL: url + '/token', verifyURL: url + '/verify',
           store: { save: async () => {}, take: async () => flow } }, () => {});
         strategy.error = (err) => { console.log(err.code); server.close(); };
         strategy.fail = (info) => { console.log(info.code); server.close(); };
         strategy.authenticate({ query: { code: 'code', state: flow.state }, url: '/cb' });
       });`,
    );
    expect(output.split('\n')).toEqual([
      `passport-number-verification/${version} node/${process.versions.node}`,
      'token_request_failed',
    ]);
  });

  it('installs the number-verification-sandbox command', () => {
    const bin = join(consumer, 'node_modules', '.bin', 'number-verification-sandbox');
    const output = execFileSync(bin, ['--help'], { cwd: consumer, encoding: 'utf8' });
    expect(output).toContain('Usage: number-verification-sandbox');
  });
});
