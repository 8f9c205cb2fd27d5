import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { exposureWarning, runCli } from '../../lib/sandbox/run-cli.js';
import { createTestApplication, sandboxApplication } from '../helpers/application-keys.js';
import { assertionTokenRequest, clientAssertion } from '../helpers/sandbox-flow.js';

const fixture = (name: string): Buffer =>
  readFileSync(new URL(`fixtures/${name}`, import.meta.url));
const workDir = mkdtempSync(join(tmpdir(), 'nv-sandbox-cli-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function httpsGet(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTPS', () => {
  it('serves over TLS when given a key and certificate', async () => {
    const app = createTestApplication();
    const sandbox = await createSandbox({
      strict: true,
      applications: [sandboxApplication(app)],
      tls: { key: fixture('localhost-key.pem'), cert: fixture('localhost-cert.pem') },
    });
    await sandbox.listen(0, '127.0.0.1');
    try {
      expect(sandbox.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(sandbox.endpoints.tokenURL.startsWith('https://')).toBe(true);
      const response = await httpsGet(`${sandbox.url}/nope`, fixture('localhost-cert.pem'));
      expect(response.status).toBe(404);
    } finally {
      await sandbox.close();
    }
  });
});

describe('CLI', () => {
  it('creates a demo application, prints it, and stops on SIGTERM', async () => {
    const lines: string[] = [];
    const signals = new EventEmitter();
    const handle = await runCli(['--port', '0', '--keys-dir', 'keys'], {
      log: (line) => lines.push(line),
      signals,
      cwd: workDir,
    });
    expect(handle).toBeDefined();
    const output = lines.join('\n');
    const id = /Application ID: (\S+)/.exec(output)?.[1] ?? '';
    const keyPath = /Private key: +(\S+)/.exec(output)?.[1] ?? '';
    expect(keyPath).toBe(join(workDir, 'keys', `${id}.pem`));
    expect(readFileSync(keyPath, 'utf8')).toContain('BEGIN PRIVATE KEY');
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    for (const label of ['Authorization', 'Token', 'Verify']) {
      expect(output).toMatch(new RegExp(`${label}: +http://127\\.0\\.0\\.1:\\d+/`));
    }
    const url = handle?.sandbox.url ?? '';
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(lines.some((l) => l.startsWith('GET other → 404 not_found'))).toBe(true);
    signals.emit('SIGTERM');
    await handle?.stopped;
    await expect(fetch(`${url}/nope`)).rejects.toThrow();
  });

  it('registers the applications given on the command line', async () => {
    const app = createTestApplication();
    const keyFile = join(workDir, 'app.pub.pem');
    writeFileSync(keyFile, app.publicKeyPem);
    const lines: string[] = [];
    const signals = new EventEmitter();
    const handle = await runCli(
      [
        '--port',
        '0',
        '--application-id',
        app.applicationId,
        '--public-key',
        'app.pub.pem',
        '--redirect-uri',
        app.redirectUri,
      ],
      { log: (line) => lines.push(line), signals, cwd: workDir },
    );
    expect(lines).toContain(`Application ID: ${app.applicationId}`);
    expect(lines.some((l) => l.startsWith('Private key'))).toBe(false);
    signals.emit('SIGINT');
    await handle?.stopped;
  });

  it('--key-id registers the key ID: an assertion naming another kid is refused', async () => {
    const app = createTestApplication();
    writeFileSync(join(workDir, 'kid.pub.pem'), app.publicKeyPem);
    const signals = new EventEmitter();
    const handle = await runCli(
      ['--port', '0', '--application-id', app.applicationId, '--public-key', 'kid.pub.pem'].concat([
        '--key-id',
        'key-2026',
        '--redirect-uri',
        app.redirectUri,
      ]),
      { log: () => undefined, signals, cwd: workDir },
    );
    try {
      const sandbox = handle?.sandbox as Sandbox;
      const named = async (kid: string) =>
        assertionTokenRequest(sandbox, app, await clientAssertion(sandbox, app, {}, { kid }));
      expect((await named('key-2026')).status).toBe(200);
      expect(await named('key-2025')).toMatchObject({
        status: 401,
        body: { error: 'invalid_client', error_description: expect.stringMatching(/kid/) },
      });
    } finally {
      signals.emit('SIGTERM');
      await handle?.stopped;
    }
  });

  it.each([
    [['--port', 'abc']],
    [['--application-id', 'x']],
    [['--public-key', 'k.pem']],
    [['--key-id', 'k1']],
    [['--tls-key', 'k.pem']],
    [['--unknown']],
  ])('rejects %j', async (argv) => {
    await expect(
      runCli(argv, { log: () => undefined, signals: new EventEmitter(), cwd: workDir }),
    ).rejects.toThrow();
  });

  it('--help prints the usage', async () => {
    const lines: string[] = [];
    expect(
      await runCli(['--help'], {
        log: (l) => lines.push(l),
        signals: new EventEmitter(),
        cwd: workDir,
      }),
    ).toBeUndefined();
    expect(lines.join('\n')).toContain('Usage: number-verification-sandbox');
  });
});

describe('CLI beyond loopback', () => {
  it.each([
    ['0.0.0.0', '4010', '0.0.0.0:4010'],
    ['::', '4010', '[::]:4010'],
    ['192.168.1.20', '80', '192.168.1.20:80'],
  ])('warns for --host %s and names the real address', (host, port, shown) => {
    const [first = '', second = ''] = exposureWarning(host, port);
    expect(first).toContain(`listening on ${shown}, beyond loopback`);
    expect(`${first} ${second}`).toMatch(/confirms ANY number outside \+990/);
    expect(second).toMatch(/never let it face a network/);
  });

  it.each(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'])(
    'stays quiet for the loopback host %s',
    (host) => {
      expect(exposureWarning(host, '4010')).toEqual([]);
    },
  );

  it('prints nothing of the kind when it listens on loopback', async () => {
    const lines: string[] = [];
    const signals = new EventEmitter();
    const handle = await runCli(['--port', '0', '--host', '127.0.0.1', '--keys-dir', 'keys'], {
      log: (line) => lines.push(line),
      signals,
      cwd: workDir,
    });
    expect(lines.some((line) => line.includes('Authorization:'))).toBe(true);
    expect(lines.some((line) => line.startsWith('WARNING'))).toBe(false);
    signals.emit('SIGTERM');
    await handle?.stopped;
  });
});
