/**
 * The README's quick start, as a stranger runs it: both code blocks (ESM and CommonJS) are copied
 * as they are into an empty directory where the packed tarball, express, express-session and
 * passport are installed, started as real processes, and signed in through over HTTP — against
 * the sandbox they start themselves, and against the sandbox CLI through its variables.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILURES } from '../lib/index.js';
import { runCli } from '../lib/sandbox/run-cli.js';
import { parseEnvironmentBlock } from './helpers/env-block.js';
import { codeBlockAfter } from './helpers/markdown.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
/** The app's own dependencies, at the versions this repository tests with (in npm's cache). */
const APP_DEPENDENCIES = ['express', 'express-session', 'passport'].map((name) => {
  const { version } = JSON.parse(
    readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8'),
  ) as { version: string };
  return `${name}@${version}`;
});

let project: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'pnv-quickstart-'));
  // Scripts off: `npm test` has built dist/ already, and a pack must not rebuild it under a
  // running suite.
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', project], {
      cwd: root,
      encoding: 'utf8',
    }),
  ) as { filename: string }[];
  if (!packed) throw new Error('npm pack produced nothing');
  // What `npm init -y` makes: a CommonJS project.
  writeFileSync(join(project, 'package.json'), '{"name":"quickstart","private":true}\n');
  execFileSync(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      join(project, packed.filename),
      ...APP_DEPENDENCIES,
    ],
    { cwd: project, stdio: 'ignore' },
  );
  writeFileSync(join(project, 'app.mjs'), codeBlockAfter(readme, 'quickstart:esm'));
  writeFileSync(join(project, 'app.js'), codeBlockAfter(readme, 'quickstart:cjs'));
}, 180_000);

afterAll(() => {
  for (const child of children) child.kill();
  rmSync(project, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts `node <file>` in the project; resolves once it prints the URL it listens on. */
function startApp(file: string, env: Record<string, string>): Promise<string> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) =>
        !/^(VONAGE_|CALLBACK_URL$|SESSION_SECRET$|PORT$|NODE_V8_COVERAGE$|NODE_OPTIONS$)/.test(
          name,
        ),
    ),
  );
  const child = spawn(process.execPath, [file], {
    cwd: project,
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const url = /Open (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      if (url !== undefined) resolve(url);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${file} exited (${code}):\n${output}`)));
  });
}

/** A browser stand-in: follows nothing by itself, keeps the app's cookies. */
class Browser {
  private cookie = '';

  async go(url: string, form?: Record<string, string>) {
    const onApp = !url.includes('/oauth2/');
    const response = await request(url, {
      method: form === undefined ? 'GET' : 'POST',
      headers: {
        ...(onApp && this.cookie !== '' ? { cookie: this.cookie } : {}),
        ...(form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      ...(form === undefined ? {} : { body: new URLSearchParams(form).toString() }),
    });
    const setCookie = response.headers['set-cookie'];
    const first = Array.isArray(setCookie) ? setCookie[0] : setCookie;
    if (onApp && first !== undefined) this.cookie = first.split(';')[0] ?? '';
    const location = response.headers.location;
    return {
      status: response.statusCode,
      location: typeof location === 'string' ? new URL(location, url).href : undefined,
      body: await response.body.text(),
    };
  }

  /** Types the number into the login form and follows the redirects to the end. */
  async signIn(app: string, phoneNumber: string): Promise<{ url: string; body: string }> {
    const form = await this.go(`${app}/login`);
    expect(form.body).toContain('name=phoneNumber');
    let step = await this.go(`${app}/login`, { phoneNumber });
    let url = `${app}/login`;
    for (let hops = 0; step.location !== undefined && hops < 5; hops++) {
      expect(step.status).toBeGreaterThanOrEqual(300);
      url = step.location;
      step = await this.go(url);
    }
    expect(step.status).toBe(200);
    return { url, body: step.body };
  }
}

describe('the README quick start, run as pasted', () => {
  for (const [style, file] of [
    ['ESM', 'app.mjs'],
    ['CommonJS', 'app.js'],
  ] as const) {
    it(`${style}: signs in against its own sandbox, and keeps a failure's reason`, async () => {
      const port = await freePort();
      const app = await startApp(file, { PORT: String(port) });
      expect(app).toBe(`http://127.0.0.1:${port}`);
      const browser = new Browser();
      const failed = await browser.signIn(app, '+99012345677');
      expect(failed.url).toBe(`${app}/login`);
      expect(failed.body).toContain(FAILURES.not_verified.message);
      const signedIn = await browser.signIn(app, '+99012345678');
      expect(signedIn.url).toBe(`${app}/`);
      expect(signedIn.body).toBe('+99012345678');
    }, 60_000);
  }

  it('ESM: signs in against the sandbox CLI through the variables it prints', async () => {
    const port = await freePort();
    const lines: string[] = [];
    const signals = new EventEmitter();
    const cli = await runCli(
      [
        '--port',
        '0',
        '--keys-dir',
        join(project, '.sandbox-keys'),
        '--redirect-uri',
        `http://127.0.0.1:${port}/auth/callback`,
      ],
      { log: (line) => lines.push(line), signals, cwd: project },
    );
    try {
      const env = parseEnvironmentBlock(lines);
      expect(env.VONAGE_APPLICATION_ID).toBeDefined();
      const app = await startApp('app.mjs', { ...env, PORT: String(port) });
      const signedIn = await new Browser().signIn(app, '+99012345678');
      expect(signedIn.body).toBe('+99012345678');
      // The CLI's sandbox, not one inside the app, answered.
      expect(lines.some((line) => /^POST verify → 200 verified/.test(line))).toBe(true);
    } finally {
      signals.emit('SIGTERM');
      await cli?.stopped;
    }
  }, 60_000);
});
