/**
 * The sandbox as a one-line dev dependency: `createSandbox()` with no application makes a demo
 * application, and `strategyOptions({ callbackURL })` is all the strategy needs to sign in
 * (`verifyStrategyOptions({ callbackURL })` for the Verify v2 strategy).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import supertest from 'supertest';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  NumberVerificationStrategy,
  VerifySilentAuthStrategy,
  type VerifyStrategyOptions,
} from '../../lib/index.js';
import { createSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { testKeyPair } from '../helpers/login-app.js';
import { startVerifyApp } from '../helpers/verify-app.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function listeningSandbox(): Promise<Sandbox> {
  const sandbox = await createSandbox();
  closers.push(() => sandbox.close());
  await sandbox.listen(0, '127.0.0.1');
  return sandbox;
}

/** An Express app whose strategy is built from nothing but `sandbox.strategyOptions`. */
async function appOn(sandbox: Sandbox): Promise<{ agent: supertest.Agent; callbackURL: string }> {
  const app = express();
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  const callbackURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth/callback`;
  const passport = new Passport();
  passport.use(
    new NumberVerificationStrategy({ ...sandbox.strategyOptions({ callbackURL }) }, (phone, done) =>
      done(null, { phoneNumber: phone }),
    ),
  );
  app.use(express.urlencoded({ extended: false }));
  app.use(session({ secret: 'test', resave: false, saveUninitialized: false }));
  const report: express.RequestHandler = (req, res, next) => {
    passport.authenticate('number-verification', (err: unknown, user: unknown, info: unknown) =>
      err ? next(err) : res.json({ user, info }),
    )(req, res, next);
  };
  app.post('/login', report);
  app.get('/auth/callback', report);
  return { agent: supertest.agent(server), callbackURL };
}

/** First leg, the operator's redirect, and the callback: what the callback answered. */
async function signIn(agent: supertest.Agent, phoneNumber: string): Promise<unknown> {
  const first = await agent.post('/login').type('form').send({ phoneNumber }).expect(302);
  const operator = await request(first.headers.location as string, { method: 'GET' });
  await operator.body.dump();
  expect(operator.statusCode).toBe(302);
  const back = new URL(operator.headers.location as string);
  const callback = await agent.get(`${back.pathname}${back.search}`).expect(200);
  return callback.body;
}

describe('createSandbox() with no application', () => {
  it('signs in with strategyOptions({ callbackURL }) and nothing else', async () => {
    const sandbox = await listeningSandbox();
    const { agent } = await appOn(sandbox);
    expect(await signIn(agent, '+99012345678')).toMatchObject({
      user: { phoneNumber: '+99012345678' },
      info: { phoneNumber: '+99012345678' },
    });
    expect(await signIn(agent, '+99012345677')).toMatchObject({
      user: false,
      info: { code: 'not_verified' },
    });
  });

  it('returns exactly the six strategy options, for the demo application', async () => {
    const sandbox = await listeningSandbox();
    const callbackURL = 'http://127.0.0.1:3000/auth/callback';
    const options = sandbox.strategyOptions({ callbackURL });
    expect(Object.keys(options).sort()).toEqual([
      'applicationId',
      'authorizationURL',
      'callbackURL',
      'privateKey',
      'tokenURL',
      'verifyURL',
    ]);
    expect(options).toMatchObject({ callbackURL, ...sandbox.endpoints });
    expect(options.applicationId).toBe(sandbox.demoApplication?.applicationId);
    expect(options.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('registers each callback URL, and only those, as a redirect URI', async () => {
    const sandbox = await listeningSandbox();
    const { agent, callbackURL } = await appOn(sandbox);
    const first = await agent.post('/login').type('form').send({ phoneNumber: '+99012345678' });
    const location = new URL(first.headers.location as string);
    expect(location.searchParams.get('redirect_uri')).toBe(callbackURL);
    // The same request for a redirect URI nobody registered: an error page, never a redirect.
    location.searchParams.set('redirect_uri', `${callbackURL}/other`);
    const refused = await request(location, { method: 'GET' });
    await refused.body.dump();
    expect(refused.statusCode).toBe(400);
    expect(refused.headers.location).toBeUndefined();
  });

  // verifyStrategyOptions (below) refuses the same way.
  const METHODS = ['strategyOptions', 'verifyStrategyOptions'] as const;

  it.each(METHODS)('refuses %s before listen, and for a malformed callback URL', async (method) => {
    const sandbox = await createSandbox();
    closers.push(() => sandbox.close());
    const options = (callbackURL: string) => () => sandbox[method]({ callbackURL });
    expect(options('http://127.0.0.1:1/cb')).toThrow(/not listening/);
    await sandbox.listen(0, '127.0.0.1');
    expect(options('not a url')).toThrow(TypeError);
    expect(options('http://a.example/cb#x')).toThrow(TypeError);
  });

  it.each(METHODS)('has no demo application for %s when given applications', async (method) => {
    const { publicKeyPem } = testKeyPair();
    const sandbox = await createSandbox({
      applications: [
        { applicationId: 'app', publicKey: publicKeyPem, redirectUris: ['http://127.0.0.1/cb'] },
      ],
    });
    closers.push(() => sandbox.close());
    await sandbox.listen(0, '127.0.0.1');
    expect(sandbox.demoApplication).toBeUndefined();
    expect(() => sandbox[method]({ callbackURL: 'http://127.0.0.1/cb' })).toThrow(
      new RegExp(`^${method} needs the demo application`),
    );
  });

  it('uses a given demo application (its ID and key) and its redirect URIs', async () => {
    const { privateKeyPem, privateKey } = testKeyPair();
    const sandbox = await createSandbox({
      demoApplication: {
        applicationId: 'kept-app',
        privateKey,
        redirectUris: ['http://127.0.0.1:9/cb'],
      },
    });
    closers.push(() => sandbox.close());
    await sandbox.listen(0, '127.0.0.1');
    expect(sandbox.demoApplication).toEqual({
      applicationId: 'kept-app',
      privateKey: privateKeyPem,
    });
    // The given redirect URI is registered from the start: the operator redirects to it.
    const auth = new URL(sandbox.endpoints.authorizationURL);
    for (const [name, value] of Object.entries({
      client_id: 'kept-app',
      response_type: 'code',
      scope: 'openid dpv:FraudPreventionAndDetection#number-verification-verify-read',
      redirect_uri: 'http://127.0.0.1:9/cb',
      state: 'state-of-at-least-8',
      login_hint: 'tel:+99012345678',
    }))
      auth.searchParams.set(name, value);
    const answer = await request(auth, { method: 'GET' });
    await answer.body.dump();
    expect(answer.statusCode).toBe(302);
    expect(answer.headers.location).toMatch(/^http:\/\/127\.0\.0\.1:9\/cb\?code=/);
  });
});

describe('createSandbox() with no application, for Verify v2', () => {
  it('signs in with verifyStrategyOptions({ callbackURL }) and nothing else', async () => {
    const app = await startVerifyApp({ demoApplication: true });
    closers.push(() => app.close());
    // Silent authentication: the SIM holds the number.
    const silent = await app.silent('+99012345678');
    expect(silent.outcome).toMatchObject({
      outcome: 'success',
      user: { id: '+99012345678' },
      info: { phoneNumber: '+99012345678' },
    });
    // The SIM holds another number: the SMS fallback, then the code the sandbox "sent".
    const browser = app.browser();
    const fallback = await app.silent('+99012345677', browser);
    expect(fallback.outcome?.info).toMatchObject({ code: 'code_required', channel: 'sms' });
    const [message] = app.sandbox.outbox('+99012345677');
    expect(message).toMatchObject({ channel: 'sms', brand: 'Sandbox' });
    const state = String(fallback.outcome?.info?.flowState);
    const signedIn = await app.post({ state, code: String(message?.code) }, browser);
    expect(signedIn.outcome).toMatchObject({
      outcome: 'success',
      user: { id: '+99012345677' },
    });
  });

  it('returns exactly the five options, for the demo application', async () => {
    const sandbox = await listeningSandbox();
    const callbackURL = 'http://127.0.0.1:3000/auth/verify/callback';
    const options: VerifyStrategyOptions = sandbox.verifyStrategyOptions({ callbackURL });
    expect(Object.keys(options).sort()).toEqual([
      'applicationId',
      'brand',
      'callbackURL',
      'privateKey',
      'verifyBaseURL',
    ]);
    expect(options).toMatchObject({
      applicationId: sandbox.demoApplication?.applicationId,
      privateKey: sandbox.demoApplication?.privateKey,
      callbackURL,
      verifyBaseURL: sandbox.verify2Endpoints.verifyBaseURL,
      brand: 'Sandbox',
    });
    expect(sandbox.verifyStrategyOptions({ callbackURL, brand: 'Acme' }).brand).toBe('Acme');
    const strategy = new VerifySilentAuthStrategy(options, (phone, done) => done(null, phone));
    expect(strategy.name).toBe('vonage-verify');
    await strategy.close();
  });
});
