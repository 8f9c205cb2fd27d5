/**
 * (a) The floor: the least a developer can write for Vonage Number Verification without Passport.
 * Random state in the session, redirect, state check, an RS256 application JWT with the key parsed
 * once, two keep-alive undici POSTs (token, then /verify), session regenerated on login.
 * No deadlines, no body cap, no error mapping: that is what makes it the floor.
 */
import { createPrivateKey, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { request } from 'undici';
import { expressApp } from './express-app.mjs';

export function createApp({ applicationId, privateKey, endpoints, callbackURL }) {
  const key = createPrivateKey(privateKey);
  const app = expressApp();

  app.post('/login', (req, res) => {
    const state = randomBytes(32).toString('base64url');
    req.session.nv = { state, phoneNumber: req.body.phoneNumber };
    const url = new URL(endpoints.authorizationURL);
    url.search = new URLSearchParams({
      client_id: applicationId,
      response_type: 'code',
      scope: 'openid dpv:FraudPreventionAndDetection#number-verification-verify-read',
      redirect_uri: callbackURL,
      state,
      login_hint: `tel:${req.body.phoneNumber}`,
    }).toString();
    res.redirect(url.href);
  });

  app.get('/callback', async (req, res, next) => {
    try {
      const pending = req.session.nv;
      delete req.session.nv;
      if (!pending || pending.state !== req.query.state || !req.query.code) {
        return res.status(401).json({ ok: false });
      }
      const now = Math.floor(Date.now() / 1000);
      const jwt = await new SignJWT({ application_id: applicationId })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .setJti(randomUUID())
        .sign(key);
      const token = await request(endpoints.tokenURL, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${jwt}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: req.query.code,
          redirect_uri: callbackURL,
        }).toString(),
      });
      const { access_token: accessToken } = await token.body.json();
      const verify = await request(endpoints.verifyURL, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ phoneNumber: pending.phoneNumber }),
      });
      const { devicePhoneNumberVerified } = await verify.body.json();
      if (devicePhoneNumberVerified !== true) return res.status(401).json({ ok: false });
      // A new session id on login (session fixation), as Passport's req.login does.
      req.session.regenerate((err) => {
        if (err) return next(err);
        req.session.user = { phoneNumber: pending.phoneNumber };
        res.json({ ok: true });
      });
    } catch (err) {
      next(err);
    }
  });
  return { handler: app };
}
