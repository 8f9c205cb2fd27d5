/**
 * The example application: Express 5 + express-session + Passport with the Number Verification
 * strategy. This is the file to copy from; start.mjs only decides which operator it talks to.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { URLSearchParams } from 'node:url';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import {
  isSafeReturnTo,
  NumberVerificationError,
  NumberVerificationStrategy,
  VerifySilentAuthStrategy,
} from 'passport-number-verification';
import { codeEntryPage, codeRequestPage, errorPage, loginPage, profilePage } from './views.mjs';

/**
 * What the login page says for each fail code (`info.code`). The strategy's own `info.message`
 * is a fine default; an application usually wants its own voice and its own next step.
 */
export const FAILURE_MESSAGES = {
  invalid_phone_number:
    'That does not look like a mobile number. Type it in international format, starting with + and the country code.',
  not_verified:
    'The number you typed is not the one on the SIM in this phone. Check it, or use the phone that holds it.',
  not_on_mobile_network:
    'We could not reach your phone through your mobile network. Turn off Wi-Fi, use mobile data, and try again.',
  access_denied:
    'Your mobile operator did not confirm the number. Try again, or have a code sent to you instead.',
  invalid_state:
    'This sign-in attempt expired or was started in another browser. Please start again.',
  invalid_grant: 'This sign-in attempt expired or was already used. Please start again.',
  user_rejected: 'This number is verified, but it is not allowed to sign in here.',
  code_required: 'We could not sign you in silently, so we sent you a code.',
  invalid_code: 'That code is not right. Check it and try again.',
  too_many_attempts: 'Too many wrong codes. Please start again to get a new code.',
  expired: 'This sign-in attempt expired. Please start again.',
  verification_in_progress:
    'A sign-in for this number is already running. Finish it, or wait a few minutes and try again.',
};

/** Fail codes after which the code form stays open (the pending sign-in is still there). */
const CODE_FORM_CODES = new Set(['code_required', 'invalid_code']);

/** Verify v2's own callback: silent auth returns here, and the code form posts here. */
export const VERIFY_CALLBACK_PATH = '/auth/verify/callback';

/**
 * Whether a POST comes from a page of another site (a forged form that would sign the visitor in
 * as someone else, or out). The same rule as Go's http.CrossOriginProtection: browsers say where a
 * request comes from in Sec-Fetch-Site; older ones send Origin, compared with the Host it was sent
 * to. A request with neither does not come from a browser page.
 */
function isCrossSitePost(req) {
  if (req.method !== 'POST') return false;
  const site = req.get('sec-fetch-site');
  if (site !== undefined) return site !== 'same-origin' && site !== 'none';
  const origin = req.get('origin');
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== req.get('host');
  } catch {
    return true; // Origin: null (a sandboxed frame, a privacy redirect) or garbage
  }
}

/**
 * `returnTo` comes from the browser, so it is only ever used as a same-origin path (`/cart`, never
 * `//evil.example` or `/\evil.example`). The strategy already drops an unsafe one from
 * `info.state`; checking again here keeps the login form and the redirect honest on their own.
 */
const safeReturnTo = (value) => (isSafeReturnTo(value) ? value : undefined);

/** In-memory users keyed by verified number. A real app looks the number up in its database. */
function createUserStore() {
  const byId = new Map();
  const byPhoneNumber = new Map();
  return {
    findOrCreate(phoneNumber) {
      let user = byPhoneNumber.get(phoneNumber);
      if (!user) {
        user = { id: randomUUID(), phoneNumber, createdAt: new Date(), signIns: 0 };
        byId.set(user.id, user);
        byPhoneNumber.set(phoneNumber, user);
      }
      user.signIns += 1;
      return user;
    },
    get(id) {
      return byId.get(id);
    },
  };
}

/**
 * One log record as one JSON line: whatever an operator put in a message (CR, LF, U+2028), it
 * cannot start a line of its own in the site's log.
 */
function jsonLine(record) {
  return JSON.stringify(record).replace(
    /[\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16)}`,
  );
}

/** The Vonage options as they are, or the common ones beside `provider` (e.g. `camara(...)`). */
function withProvider(strategyOptions, provider) {
  if (provider === undefined) return strategyOptions;
  const vonageOnly = ['applicationId', 'privateKey', 'authorizationURL', 'tokenURL', 'verifyURL'];
  const common = Object.entries(strategyOptions).filter(([name]) => !vonageOnly.includes(name));
  return { ...Object.fromEntries(common), provider };
}

/**
 * Builds the app.
 * @param options the NumberVerificationStrategy options (applicationId, privateKey, callbackURL,
 *   and in sandbox mode the sandbox's endpoints), plus:
 *   - `strategy`: `'number-verification'` (default) or `'verify'` (Verify v2 silent auth with a
 *     fallback to a code); "Send me a code instead" uses Verify v2 in both;
 *   - `provider`: a provider for the Number Verification strategy (e.g. `camara(...)`), instead of
 *     the Vonage endpoints among the options;
 *   - `verifyOptions`: more VerifySilentAuthStrategy options (`channelTimeout`, `locale`, ...; in
 *     sandbox mode all of `sandbox.verifyStrategyOptions`, with its `verifyBaseURL`);
 *   - `outbox`: in sandbox mode, `sandbox.outbox` — the code page shows the codes "sent";
 *   - `sandbox`: show the sandbox's test numbers on the login page;
 *   - `sessionSecret`: signs the session cookie (default: random, so sessions end on restart);
 *   - `sessionStore`: an express-session store (default: MemoryStore, for examples only);
 *   - `log`: where errors are reported, one JSON line each (default console.error).
 */
export function createApp(options) {
  const {
    sandbox = false,
    sessionSecret = randomBytes(32).toString('hex'),
    sessionStore,
    log = console.error,
    strategy = 'number-verification',
    verifyOptions = {},
    outbox,
    provider,
    ...strategyOptions
  } = options;
  const verifyMode = strategy === 'verify';
  const users = createUserStore();
  const callbackPath = new URL(strategyOptions.callbackURL).pathname;
  const secureCookies = strategyOptions.callbackURL.startsWith('https:');

  // A Passport instance of its own rather than the global singleton, so that several apps (tests,
  // the demo) can live in one process. In a real app `import passport from 'passport'` is fine.
  const passport = new Passport();
  passport.use(
    new NumberVerificationStrategy(withProvider(strategyOptions, provider), async (phoneNumber) => {
      // Called only once the operator has confirmed that the device holds `phoneNumber`.
      // An async verify returns the user (or false to refuse); it must not also call `done`.
      return users.findOrCreate(phoneNumber);
    }),
  );
  // Verify v2: silent authentication first, then a code by SMS. Registered in both modes: it is
  // also what "Send me a code instead" uses.
  const verifyStrategy = new VerifySilentAuthStrategy(
    {
      applicationId: strategyOptions.applicationId,
      privateKey: strategyOptions.privateKey,
      callbackURL: new URL(VERIFY_CALLBACK_PATH, strategyOptions.callbackURL).href,
      brand: 'Silent login',
      fallback: ['sms'],
      ...verifyOptions,
    },
    async (phoneNumber) => users.findOrCreate(phoneNumber),
  );
  passport.use(verifyStrategy);
  passport.serializeUser((user, done) => done(null, user.id));
  passport.deserializeUser((id, done) => done(null, users.get(id) ?? false));

  const app = express();
  app.disable('x-powered-by');
  // Behind a TLS-terminating tunnel or proxy (needed for real Vonage), trust it so that
  // `req.secure` is right and the Secure session cookie is sent.
  if (secureCookies) app.set('trust proxy', 'loopback');
  app.use(express.urlencoded({ extended: false, limit: '4kb' }));
  app.use(
    session({
      name: 'sid',
      secret: sessionSecret,
      ...(sessionStore ? { store: sessionStore } : {}),
      resave: false,
      // The strategy saves the session itself before redirecting to the operator.
      saveUninitialized: false,
      // SameSite=Lax: the operator's redirect back is a top-level GET, which still carries the
      // cookie; cross-site POSTs (a forged login or logout) do not. The default MemoryStore is
      // for examples only: use a real store (Redis, a database) in production.
      cookie: { httpOnly: true, sameSite: 'lax', secure: secureCookies, maxAge: 3_600_000 },
    }),
  );
  app.use(passport.session());
  // A page for a signed-in user must not outlive the sign-out in the browser's cache (Back).
  app.use((req, res, next) => {
    if (req.user) res.set('Cache-Control', 'no-store');
    next();
  });

  const render = (res, status, html) => res.status(status).type('html').send(html);

  app.use((req, res, next) => {
    if (!isCrossSitePost(req)) return next();
    render(
      res,
      403,
      errorPage({
        status: 403,
        heading: 'That did not work',
        detail: 'This form can only be sent from this site. Please go back and try again.',
        sandbox,
      }),
    );
  });

  app.get('/', (req, res) => res.redirect(req.user ? '/profile' : '/login'));

  app.get('/login', (req, res) => {
    if (req.user) return res.redirect('/profile');
    const failed = typeof req.query.failed === 'string' ? req.query.failed : undefined;
    // Only known codes turn into text: the query string never reaches the page verbatim.
    const message = failed && Object.hasOwn(FAILURE_MESSAGES, failed) && FAILURE_MESSAGES[failed];
    render(
      res,
      200,
      loginPage({
        message,
        phoneNumber: req.session.lastPhoneNumber,
        returnTo: safeReturnTo(req.query.returnTo),
        signedOut: req.query.signedOut === '1',
        sandbox,
        verifyMode,
      }),
    );
  });

  /** Turns the strategy's outcome into a response, for both legs of the flow. */
  const finish = (req, res, next) => (err, user, info) => {
    if (err) return next(err);
    if (!user && CODE_FORM_CODES.has(info?.code)) {
      // Verify v2 fell back to a code: the form posts it with the pending sign-in's flowState.
      req.session.codeForm = {
        flowState: info.flowState,
        channel: info.channel,
        failed: info.code,
      };
      return res.redirect(303, '/login/code/enter');
    }
    if (!user) {
      delete req.session.codeForm;
      // `info` is what the strategy passed to fail(): { code, message }, plus `state` once the
      // callback consumed the sign-in (the first leg's returnTo comes from the form instead).
      const code = info?.code ?? 'unknown';
      const params = new URLSearchParams({ failed: code });
      const returnTo = safeReturnTo(info?.state?.returnTo ?? req.body?.returnTo);
      if (returnTo) params.set('returnTo', returnTo);
      return res.redirect(303, `/login?${params}`);
    }
    // req.login regenerates the session (no session fixation) and stores the user's id in it.
    req.login(user, (loginErr) => {
      if (loginErr) return next(loginErr);
      // info.state is the `state` given on the first leg, kept server-side through the round trip.
      res.redirect(303, safeReturnTo(info?.state?.returnTo) ?? '/profile');
    });
  };

  // First leg: validates the number and redirects the browser to the operator.
  app.post('/login', (req, res, next) => {
    if (typeof req.body?.phoneNumber === 'string') {
      req.session.lastPhoneNumber = req.body.phoneNumber.slice(0, 32);
    }
    const returnTo = safeReturnTo(req.body?.returnTo);
    passport.authenticate(
      verifyMode ? verifyStrategy.name : 'number-verification',
      { appState: returnTo ? { returnTo } : {} },
      finish(req, res, next),
    )(req, res, next);
  });

  // Second leg: the operator redirects back here with ?code&state (or ?error&state).
  app.get(callbackPath, (req, res, next) => {
    passport.authenticate('number-verification', finish(req, res, next))(req, res, next);
  });

  // Verify v2 callback. GET: the strategy answers a small page that posts the URL fragment back.
  // POST: the fragment's result, or the code form.
  app.get(VERIFY_CALLBACK_PATH, passport.authenticate(verifyStrategy.name));
  app.post(VERIFY_CALLBACK_PATH, (req, res, next) => {
    passport.authenticate(verifyStrategy.name, finish(req, res, next))(req, res, next);
  });

  // "Send me a code instead": Verify v2 straight to the SMS code, in both modes.
  app.get('/login/code', (req, res) =>
    render(res, 200, codeRequestPage({ phoneNumber: req.session.lastPhoneNumber, sandbox })),
  );
  app.post('/login/code', (req, res, next) => {
    if (typeof req.body?.phoneNumber === 'string') {
      req.session.lastPhoneNumber = req.body.phoneNumber.slice(0, 32);
    }
    passport.authenticate(
      verifyStrategy.name,
      { skipSilentAuth: true, appState: {} },
      finish(req, res, next),
    )(req, res, next);
  });
  app.get('/login/code/enter', (req, res) => {
    const form = req.session.codeForm;
    if (!form) return res.redirect(303, '/login');
    const number = String(req.session.lastPhoneNumber ?? '').replace(/[^+\d]/g, '');
    render(
      res,
      200,
      codeEntryPage({
        action: VERIFY_CALLBACK_PATH,
        flowState: form.flowState,
        channel: form.channel,
        message: FAILURE_MESSAGES[form.failed],
        // Sandbox only: the codes the sandbox "sent", since no SMS leaves this machine.
        outbox: outbox && number ? outbox(number).slice(-3).reverse() : undefined,
        sandbox,
      }),
    );
  });

  app.get('/profile', (req, res) => {
    if (!req.user) {
      return res.redirect(`/login?${new URLSearchParams({ returnTo: req.originalUrl })}`);
    }
    render(res, 200, profilePage({ user: req.user, sandbox }));
  });

  // POST, not GET: a link or an image elsewhere must not be able to sign the user out.
  app.post('/logout', (req, res, next) => {
    req.logout((err) => (err ? next(err) : res.redirect(303, '/login?signedOut=1')));
  });

  app.use((req, res) =>
    render(
      res,
      404,
      errorPage({
        status: 404,
        heading: 'Page not found',
        detail: 'There is nothing here.',
        sandbox,
      }),
    ),
  );

  // Errors (this.error in the strategy, a broken session store, ...): log the code for the
  // operator of the site, show the user a short sentence, never a stack trace.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- Express recognises error handlers by their 4 parameters.
  app.use((err, req, res, _next) => {
    const operatorProblem = err instanceof NumberVerificationError;
    // Express's own 4xx errors (a body too large, malformed form data) are the client's doing.
    const clientProblem = !operatorProblem && err?.status >= 400 && err?.status < 500;
    log(
      jsonLine({
        level: 'error',
        method: req.method,
        path: req.path,
        error: err?.name ?? 'Error',
        ...(operatorProblem ? { code: err.code, status: err.status } : {}),
        message: String(err?.message ?? ''),
      }),
    );
    const status = operatorProblem ? 502 : clientProblem ? err.status : 500;
    let detail = 'Something went wrong on our side. Please try again.';
    if (operatorProblem) {
      detail =
        'We could not complete the check with your mobile operator. Please try again in a moment, or have a code sent to you instead.';
    } else if (clientProblem) {
      detail = 'That request could not be handled. Please go back and try again.';
    }
    render(
      res,
      status,
      errorPage({
        status,
        heading: clientProblem ? 'That did not work' : 'Sign-in is not available right now',
        detail,
        sandbox,
      }),
    );
  });

  return app;
}
