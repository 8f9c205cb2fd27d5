/**
 * One app instance of the scale test (test/scale/scale.test.ts), run in its own process: Express 5
 * + express-session on connect-redis + Passport + NumberVerificationStrategy, as docs/deployment.md
 * sets it up. Its configuration comes as JSON in SCALE_INSTANCE; it reports its port over IPC.
 *
 * Modes: `session` (the default SessionStateStore, sessions in Redis), `redis` (RedisStateStore,
 * sessions in Redis), `cookie` (CookieStateStore, no Redis and no sessions at all).
 */
import express from 'express';
import session from 'express-session';
import { RedisStore } from 'connect-redis';
import { Passport } from 'passport';
import { createClient } from 'redis';
import {
  CookieStateStore,
  NumberVerificationError,
  NumberVerificationStrategy,
  RedisStateStore,
} from 'passport-number-verification';

const config = JSON.parse(process.env.SCALE_INSTANCE ?? '{}');
const { id, mode, redisURL } = config;
const STRATEGY = 'number-verification';

async function connectRedis() {
  const client = createClient({
    url: redisURL,
    // Fail a command at once while Redis is away instead of queueing it until it is back.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 2_000,
      reconnectStrategy: (retries) => Math.min(50 * (retries + 1), 500),
    },
  });
  // A client without an error listener would crash the process when Redis restarts.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

function stateStore(redis) {
  if (mode === 'redis') return new RedisStateStore({ client: redis });
  if (mode === 'cookie') {
    return new CookieStateStore({ secrets: config.cookieSecrets, secure: false });
  }
  return undefined; // the default SessionStateStore
}

const redis = mode === 'cookie' ? undefined : await connectRedis();
const store = stateStore(redis);
const passport = new Passport();
passport.use(
  new NumberVerificationStrategy(
    {
      applicationId: config.applicationId,
      privateKey: config.privateKey,
      callbackURL: config.callbackURL,
      authorizationURL: config.authorizationURL,
      tokenURL: config.tokenURL,
      verifyURL: config.verifyURL,
      timeout: config.timeout,
      ...(store === undefined ? {} : { store }),
    },
    (phoneNumber, done) => done(null, { phoneNumber }),
  ),
);
passport.serializeUser((user, done) => done(null, user.phoneNumber));
passport.deserializeUser((phoneNumber, done) => done(null, { phoneNumber }));

const app = express();
// The balancer in front is on loopback: trust its X-Forwarded-* headers.
app.set('trust proxy', 'loopback');
app.use((req, res, next) => {
  res.setHeader('x-nv-instance', String(id));
  next();
});
app.use(express.urlencoded({ extended: false, limit: '4kb' }));
if (redis !== undefined) {
  app.use(
    session({
      store: new RedisStore({ client: redis, prefix: 'sess:' }),
      secret: config.sessionSecret,
      resave: false,
      saveUninitialized: false,
      // SameSite=Lax: the operator's redirect back is a top-level GET, which carries the cookie.
      cookie: { httpOnly: true, sameSite: 'lax', secure: false },
    }),
  );
  app.use(passport.session());
}

// What a Redis client says while Redis is away (node-redis: closed, offline, socket errors).
const REDIS_AWAY = /client is (closed|offline)|socket closed|connection|ECONNRESET|ECONNREFUSED/i;

/** The package's errors by their code; the session store's by what failed; anything else is a bug. */
function codeOf(err) {
  if (err instanceof NumberVerificationError) return err.code;
  const what = err?.code ?? err?.name ?? 'error';
  return REDIS_AWAY.test(String(err?.message)) || REDIS_AWAY.test(String(err?.code))
    ? `session_store:${what}`
    : `unexpected:${what}: ${err?.message}`;
}

app.post('/login', (req, res, next) => {
  passport.authenticate(STRATEGY, (err, user, info, status) => {
    if (err) res.status(500).json({ outcome: 'error', code: codeOf(err) });
    else res.status(status ?? 400).json({ outcome: 'fail', code: info?.code });
  })(req, res, next);
});

app.get('/auth/callback', (req, res, next) => {
  passport.authenticate(STRATEGY, (err, user, info, status) => {
    if (err) return res.status(500).json({ outcome: 'error', code: codeOf(err) });
    if (!user) return res.status(status ?? 401).json({ outcome: 'fail', code: info?.code });
    if (redis === undefined) return res.json({ outcome: 'success', user });
    req.logIn(user, (loginErr) => {
      if (loginErr) res.status(500).json({ outcome: 'error', code: codeOf(loginErr) });
      else res.json({ outcome: 'success', user });
    });
  })(req, res, next);
});

app.get('/me', (req, res) => res.json({ user: req.user ?? null }));

// The session store's own failures (Redis away while a session is read or saved) end here.
// express-session reports a failed save after the response has gone: nothing is left to send.
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- Express knows error handlers by their four parameters
app.use((err, req, res, next) => {
  if (res.headersSent) return res.end();
  res.status(500).json({ outcome: 'error', code: codeOf(err) });
});

const server = app.listen(0, '127.0.0.1', () => {
  process.send?.({ port: server.address().port });
});
server.keepAliveTimeout = 30_000;
process.on('disconnect', () => process.exit(0));
