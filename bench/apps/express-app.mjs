/** What the three benchmark apps share, so they differ only in the login code under test. */
import express from 'express';
import session from 'express-session';

/** An Express app with a form body parser and express-session's default MemoryStore. */
export function expressApp() {
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.use(session({ secret: 'bench', resave: false, saveUninitialized: false }));
  return app;
}

/** Passport in the session, and a callback route that logs the user in (new session id). */
export function passportApp(passport, strategyName) {
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user, done) => done(null, user));
  const app = expressApp();
  app.use(passport.initialize());
  app.use(passport.session());
  app.get('/callback', (req, res, next) =>
    passport.authenticate(strategyName, (err, user) => {
      if (err) return next(err);
      if (!user) return res.status(401).json({ ok: false });
      req.login(user, (loginErr) => (loginErr ? next(loginErr) : res.json({ ok: true })));
    })(req, res, next),
  );
  return app;
}
