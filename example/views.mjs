/**
 * Server-rendered pages of the example. Plain template strings: every value that comes from a
 * request, a user or an operator goes through `escapeHtml` (or `html`) before it reaches markup.
 */

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (char) => ESCAPES[char]);
}

/** The sandbox's Vonage Virtual Operator numbers, shown on the login page in sandbox mode. */
export const SANDBOX_NUMBERS = [
  { number: '+99012345678', outcome: 'even last digit: the device holds it, you are signed in' },
  { number: '+99012345677', outcome: 'odd last digit: the device holds another number' },
  { number: '+99011111199', outcome: 'ends in 99: the device is not on the mobile network' },
];

const STYLE = `
  :root { color-scheme: light; --accent: #6c2bd9; --muted: #5b5b6b; --line: #e3e1ea; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
         background: #f5f3fa; color: #1d1b26; }
  header { background: #1d1b26; color: #fff; padding: 14px 24px; display: flex; gap: 12px;
           align-items: center; }
  header a { color: #fff; text-decoration: none; font-weight: 600; }
  .badge { font-size: 12px; background: #f5b301; color: #1d1b26; border-radius: 999px;
           padding: 2px 10px; font-weight: 600; }
  main { max-width: 560px; margin: 40px auto; padding: 0 16px; }
  .card { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 28px;
          box-shadow: 0 6px 24px rgba(29, 27, 38, .06); }
  h1 { font-size: 24px; margin: 0 0 8px; }
  p.lead { color: var(--muted); margin-top: 0; }
  label { display: block; font-weight: 600; margin: 20px 0 6px; }
  input[type=tel] { width: 100%; font: inherit; padding: 10px 12px; border: 1px solid #c9c5d6;
                    border-radius: 8px; }
  button { font: inherit; font-weight: 600; border: 0; border-radius: 8px; padding: 10px 18px;
           background: var(--accent); color: #fff; cursor: pointer; }
  button.link { background: none; color: var(--accent); padding: 0; text-decoration: underline; }
  .primary { width: 100%; margin-top: 16px; }
  .alert { border-radius: 8px; padding: 12px 14px; margin: 16px 0; background: #fdecec;
           border: 1px solid #f3b7b7; color: #7a1d1d; }
  .success { background: #e8f7ee; border-color: #a9dfbd; color: #14532d; }
  .fallback { margin-top: 18px; font-size: 14px; color: var(--muted); }
  table { width: 100%; border-collapse: collapse; margin-top: 8px; font-size: 14px; }
  a { color: var(--accent); }
  td { padding: 6px 4px; border-top: 1px solid var(--line); vertical-align: middle; }
  td:last-child { white-space: nowrap; text-align: right; }
  code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; }
  dt { color: var(--muted); } dd { margin: 0; font-weight: 600; }
  details { margin-top: 24px; font-size: 14px; color: var(--muted); }
`;

function page({ title, body, sandbox }) {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)} · Silent login example</title>
  <style>${STYLE}</style>
</head>
<body>
  <header>
    <a href="/">Silent login example</a>
    ${sandbox ? '<span class="badge">sandbox operator</span>' : ''}
  </header>
  <main>${body}</main>
</body>
</html>`;
}

/** Login page: the number field, what silent login is, and (sandbox only) the test numbers. */
export function loginPage({ message, phoneNumber = '', returnTo, sandbox, signedOut, verifyMode }) {
  const returnToField = returnTo
    ? `<input type="hidden" name="returnTo" value="${escapeHtml(returnTo)}">`
    : '';
  const numbers = sandbox
    ? `<details open>
        <summary>Sandbox test numbers (Vonage Virtual Operator rules)</summary>
        <table>${SANDBOX_NUMBERS.map(
          ({ number, outcome }) => `
          <tr>
            <td><code>${escapeHtml(number)}</code></td>
            <td>${escapeHtml(outcome)}</td>
            <td><form method="post" action="/login">${returnToField}
              <input type="hidden" name="phoneNumber" value="${escapeHtml(number)}">
              <button class="link">Try it</button></form></td>
          </tr>`,
        ).join('')}
        </table>
      </details>`
    : '';
  return page({
    title: 'Sign in',
    sandbox,
    body: `
    <div class="card">
      <h1>Sign in with your mobile number</h1>
      <p class="lead">No password and no SMS code: your mobile operator confirms that this phone
        holds the number you type. It works over <strong>mobile data</strong> (turn off Wi-Fi)
        and takes a couple of seconds.${verifyMode ? ' Where it cannot, we send you a code instead.' : ''}</p>
      ${signedOut ? '<div class="alert success" role="status">You are signed out.</div>' : ''}
      ${message ? `<div class="alert" role="alert">${escapeHtml(message)}</div>` : ''}
      <form method="post" action="/login">
        ${returnToField}
        <label for="phoneNumber">Mobile number</label>
        <input id="phoneNumber" name="phoneNumber" type="tel" autocomplete="tel" required
               placeholder="+44 7700 900001" value="${escapeHtml(phoneNumber)}">
        <button class="primary" type="submit">Continue</button>
      </form>
      <p class="fallback">Not on mobile data, or it did not work?
        <a href="/login/code">Send me a code instead</a></p>
      ${numbers}
    </div>`,
  });
}

/** "Send me a code instead": the number, then Verify v2 sends a code straight away. */
export function codeRequestPage({ phoneNumber = '', sandbox }) {
  return page({
    title: 'Send me a code',
    sandbox,
    body: `
    <div class="card">
      <h1>Send me a code instead</h1>
      <p class="lead">We send a one-time code by SMS to the number you type.</p>
      <form method="post" action="/login/code">
        <label for="phoneNumber">Mobile number</label>
        <input id="phoneNumber" name="phoneNumber" type="tel" autocomplete="tel" required
               placeholder="+44 7700 900001" value="${escapeHtml(phoneNumber)}">
        <button class="primary" type="submit">Send the code</button>
      </form>
      <p class="fallback"><a href="/login">Back to silent login</a></p>
    </div>`,
  });
}

const CHANNEL_NAMES = {
  sms: 'by SMS',
  rcs: 'in your messages app (RCS)',
  whatsapp: 'on WhatsApp',
  voice: 'by a phone call',
  email: 'by e-mail',
};

/**
 * The code form: posts `code` and the pending sign-in's `flowState` to the Verify callback. In
 * sandbox mode, a panel shows the sandbox's outbox (nothing is really sent).
 */
export function codeEntryPage({ action, flowState, channel, message, outbox, sandbox }) {
  const panel = outbox
    ? `<details open data-testid="outbox">
        <summary>Sandbox outbox (codes the sandbox would have sent)</summary>
        <table>${
          outbox
            .map(
              (m) => `
          <tr><td>${escapeHtml(m.channel)}</td><td>${escapeHtml(m.to)}</td>
            <td><code data-testid="outbox-code">${escapeHtml(m.code)}</code></td></tr>`,
            )
            .join('') || '<tr><td>No messages yet.</td></tr>'
        }
        </table>
      </details>`
    : '';
  return page({
    title: 'Enter your code',
    sandbox,
    body: `
    <div class="card">
      <h1>Enter your code</h1>
      <p class="lead">We sent a code ${escapeHtml(CHANNEL_NAMES[channel] ?? 'to you')}.</p>
      ${message ? `<div class="alert" role="alert">${escapeHtml(message)}</div>` : ''}
      <form method="post" action="${escapeHtml(action)}">
        <input type="hidden" name="state" value="${escapeHtml(flowState)}">
        <label for="code">Code</label>
        <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code"
               required pattern="[0-9A-Za-z]{4,10}">
        <button class="primary" type="submit">Sign in</button>
      </form>
      <p class="fallback"><a href="/login">Start again</a></p>
      ${panel}
    </div>`,
  });
}

function formatTime(date) {
  const text = date.toLocaleString('en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: 'UTC',
  });
  return `${text} UTC`;
}

/** The protected page: who is signed in, and how. */
export function profilePage({ user, sandbox }) {
  return page({
    title: 'Your profile',
    sandbox,
    body: `
    <div class="card">
      <h1>You are signed in</h1>
      <div class="alert success" role="status">Your number is confirmed.</div>
      <dl>
        <dt>Verified number</dt><dd data-testid="phone-number">${escapeHtml(user.phoneNumber)}</dd>
        <dt>Checked by</dt><dd>${sandbox ? 'the local sandbox operator' : 'your mobile operator, via Vonage'}</dd>
        <dt>First sign-in</dt><dd>${escapeHtml(formatTime(user.createdAt))}</dd>
        <dt>Sign-ins</dt><dd>${escapeHtml(user.signIns)}</dd>
      </dl>
      <form method="post" action="/logout" style="margin-top:24px"><button>Sign out</button></form>
    </div>`,
  });
}

/** Errors: a short, safe sentence and a reference code, never a stack trace or a secret. */
export function errorPage({ status, heading, detail, sandbox }) {
  return page({
    title: heading,
    sandbox,
    body: `
    <div class="card">
      <h1>${escapeHtml(heading)}</h1>
      <p>${escapeHtml(detail)}</p>
      <p class="fallback">Error ${escapeHtml(status)}</p>
      <p><a href="/login">Back to sign in</a> · <a href="/login/code">Send me a code instead</a></p>
    </div>`,
  });
}
