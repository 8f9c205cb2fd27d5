/**
 * (b) passport-oauth2 configured for Vonage Number Verification the way a user would do it.
 * passport-oauth2 knows neither Vonage's client authentication nor the /verify call, so five pieces
 * of glue are needed:
 *   1. the application JWT: the token request must carry `Authorization: Bearer <RS256 JWT>`
 *      (fresh per request), which passport-oauth2 cannot send, so its internal `_oauth2._request`
 *      is wrapped to add it;
 *   2. `login_hint`: an `authorizationParams` override turns the typed number into `tel:+…`;
 *   3. the number itself: kept in the session by the /login route, read back in the callback;
 *   4. the `/verify` call: made by hand in the verify callback (`passReqToCallback`), with the
 *      access token passport-oauth2 obtained, over Node's built-in `fetch` (keep-alive; an app
 *      built on passport-oauth2 has no HTTP client of its own to reach for);
 *   5. `skipUserProfile: true`: there is no userinfo endpoint to fetch a profile from.
 * State is passport-oauth2's own (`state: true`, kept in the session).
 */
import { createPrivateKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { Passport } from 'passport';
import OAuth2Strategy from 'passport-oauth2';
import { passportApp } from './express-app.mjs';

export function createApp({ applicationId, privateKey, endpoints, callbackURL }) {
  const key = createPrivateKey(privateKey);
  const applicationJwt = () => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ application_id: applicationId })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .setJti(randomUUID())
      .sign(key);
  };

  const strategy = new OAuth2Strategy(
    {
      authorizationURL: endpoints.authorizationURL,
      tokenURL: endpoints.tokenURL,
      clientID: applicationId,
      callbackURL,
      scope: 'openid dpv:FraudPreventionAndDetection#number-verification-verify-read',
      state: true,
      skipUserProfile: true, // glue 5
      passReqToCallback: true,
    },
    // glue 4: the /verify call, with the number kept by glue 3.
    (req, accessToken, _refreshToken, _params, _profile, done) => {
      const phoneNumber = req.session.phoneNumber;
      fetch(endpoints.verifyURL, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ phoneNumber }),
      })
        .then((response) => response.json())
        .then(
          (body) => done(null, body.devicePhoneNumberVerified === true ? { phoneNumber } : false),
          done,
        );
    },
  );
  // glue 2: login_hint from the per-request options.
  strategy.authorizationParams = (options) => ({ login_hint: `tel:${options.phoneNumber}` });
  // glue 1: the application JWT on the token request.
  const sendRequest = strategy._oauth2._request.bind(strategy._oauth2);
  strategy._oauth2._request = (method, url, headers, body, accessToken, callback) => {
    applicationJwt().then(
      (jwt) =>
        sendRequest(
          method,
          url,
          { ...headers, Authorization: `Bearer ${jwt}` },
          body,
          accessToken,
          callback,
        ),
      callback,
    );
  };

  const passport = new Passport();
  passport.use('vonage', strategy);
  const app = passportApp(passport, 'vonage');
  app.post('/login', (req, res, next) => {
    req.session.phoneNumber = req.body.phoneNumber; // glue 3
    passport.authenticate('vonage', { phoneNumber: req.body.phoneNumber })(req, res, next);
  });
  return { handler: app };
}
