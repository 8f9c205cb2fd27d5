/**
 * The CLI's demo application: kept across restarts in the keys directory, replaced by `--fresh`,
 * and announced with a block of environment variables that a strategy can be built from as is.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import supertest from 'supertest';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { NumberVerificationStrategy } from '../../lib/index.js';
import { DEFAULT_REDIRECT_URI, runCli, type CliHandle } from '../../lib/sandbox/run-cli.js';
import { parseEnvironmentBlock } from '../helpers/env-block.js';

const workDir = mkdtempSync(join(tmpdir(), 'nv-sandbox-demo-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

interface Started {
  handle: CliHandle;
  lines: string[];
  /** The `export NAME=value` lines, as a map. */
  env: Record<string, string>;
  stop: () => Promise<void>;
}

async function start(argv: string[], keysDir: string): Promise<Started> {
  const lines: string[] = [];
  const signals = new EventEmitter();
  const handle = await runCli(['--port', '0', '--keys-dir', keysDir, ...argv], {
    log: (line) => lines.push(line),
    signals,
    cwd: workDir,
  });
  if (handle === undefined) throw new Error('the CLI did not start');
  const env = parseEnvironmentBlock(lines);
  return {
    handle,
    lines,
    env,
    stop: async () => {
      signals.emit('SIGTERM');
      await handle.stopped;
    },
  };
}

describe('CLI demo application', () => {
  it('is kept across restarts, and --fresh makes a new one', async () => {
    const first = await start([], 'kept');
    await first.stop();
    const id = first.env.VONAGE_APPLICATION_ID ?? '';
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.lines).toContain(`Application ID: ${id} (demo application, new)`);
    const keyPath = join(workDir, 'kept', `${id}.pem`);
    expect(first.env.VONAGE_PRIVATE_KEY_PATH).toBe(keyPath);
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    const key = readFileSync(keyPath, 'utf8');
    // The user's own repository does not pick the key up.
    expect(readFileSync(join(workDir, 'kept', '.gitignore'), 'utf8')).toBe('*\n');

    const second = await start([], 'kept');
    await second.stop();
    expect(second.env.VONAGE_APPLICATION_ID).toBe(id);
    expect(second.lines.join('\n')).toContain('kept from an earlier run; --fresh makes a new one');
    expect(readFileSync(keyPath, 'utf8')).toBe(key);

    const fresh = await start(['--fresh'], 'kept');
    await fresh.stop();
    expect(fresh.env.VONAGE_APPLICATION_ID).not.toBe(id);
    const third = await start([], 'kept');
    await third.stop();
    expect(third.env.VONAGE_APPLICATION_ID).toBe(fresh.env.VONAGE_APPLICATION_ID);
  });

  it('replaces a damaged keys directory instead of failing', async () => {
    const first = await start([], 'damaged');
    await first.stop();
    writeFileSync(join(workDir, 'damaged', 'demo-application.json'), '{not json');
    const second = await start([], 'damaged');
    await second.stop();
    expect(second.env.VONAGE_APPLICATION_ID).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.env.VONAGE_APPLICATION_ID).not.toBe(first.env.VONAGE_APPLICATION_ID);
  });

  it("accepts the README quick start's callback URL by default", async () => {
    const started = await start([], 'default');
    await started.stop();
    expect(DEFAULT_REDIRECT_URI).toBe('http://127.0.0.1:3000/auth/callback');
    expect(started.lines).toContain(`Redirect URIs:  ${DEFAULT_REDIRECT_URI}`);
    expect(started.env.CALLBACK_URL).toBe(DEFAULT_REDIRECT_URI);
  });

  it('prints variables a strategy signs in with, against the running CLI', async () => {
    const app = express();
    const server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    const callback = `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth/callback`;
    const cli = await start(['--redirect-uri', callback], 'signin');
    try {
      const { env } = cli;
      expect(Object.keys(env).sort()).toEqual([
        'CALLBACK_URL',
        'VONAGE_APPLICATION_ID',
        'VONAGE_AUTHORIZATION_URL',
        'VONAGE_PRIVATE_KEY_PATH',
        'VONAGE_TOKEN_URL',
        'VONAGE_VERIFY_URL',
      ]);
      const passport = new Passport();
      passport.use(
        new NumberVerificationStrategy(
          {
            applicationId: env.VONAGE_APPLICATION_ID ?? '',
            privateKey: readFileSync(env.VONAGE_PRIVATE_KEY_PATH ?? ''),
            callbackURL: env.CALLBACK_URL ?? '',
            authorizationURL: env.VONAGE_AUTHORIZATION_URL,
            tokenURL: env.VONAGE_TOKEN_URL,
            verifyURL: env.VONAGE_VERIFY_URL,
          },
          (phoneNumber, done) => done(null, { phoneNumber }),
        ),
      );
      app.use(express.urlencoded({ extended: false }));
      app.use(session({ secret: 'test', resave: false, saveUninitialized: false }));
      const report: express.RequestHandler = (req, res, next) => {
        passport.authenticate('number-verification', (err: unknown, user: unknown) =>
          err ? next(err) : res.json({ user }),
        )(req, res, next);
      };
      app.post('/login', report);
      app.get('/auth/callback', report);
      const agent = supertest.agent(server);
      const first = await agent.post('/login').type('form').send({ phoneNumber: '+99012345678' });
      expect(first.status).toBe(302);
      const operator = await request(first.headers.location as string, { method: 'GET' });
      await operator.body.dump();
      expect(operator.statusCode).toBe(302);
      const back = new URL(operator.headers.location as string);
      const done = await agent.get(`${back.pathname}${back.search}`).expect(200);
      expect(done.body).toEqual({ user: { phoneNumber: '+99012345678' } });
      expect(cli.lines.some((line) => /^POST verify → 200 verified/.test(line))).toBe(true);
    } finally {
      await cli.stop();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
