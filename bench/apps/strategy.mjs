/** (c) This strategy with its default options, as the README's quick start sets it up. */
import { Passport } from 'passport';
import { NumberVerificationStrategy } from 'passport-number-verification';
import { passportApp } from './express-app.mjs';

export function createApp({ applicationId, privateKey, endpoints, callbackURL }) {
  const strategy = new NumberVerificationStrategy(
    { applicationId, privateKey, callbackURL, ...endpoints },
    (phoneNumber, done) => done(null, { phoneNumber }),
  );
  const passport = new Passport();
  passport.use(strategy);
  const app = passportApp(passport, 'number-verification');
  app.post('/login', passport.authenticate('number-verification'));
  return { handler: app, close: () => strategy.close() };
}
