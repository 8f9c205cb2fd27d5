import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { keptDemoApplication, type KeptDemoApplication } from './demo-keys.js';
import { SandboxServer } from './server.js';
import type { Sandbox, SandboxApplication, SandboxEvent } from './types.js';

export const USAGE = `Usage: number-verification-sandbox [--port 4010] [--host 127.0.0.1]
  [--application-id ID --public-key FILE [--key-id KID] --redirect-uri URI [--redirect-uri URI]...]...
  [--tls-key FILE --tls-cert FILE] [--keys-dir .sandbox-keys] [--fresh] [--strict]
With no --application-id, a demo application is used: the one kept in --keys-dir from an earlier
run, or a new one (--fresh always makes a new one). Its redirect URIs are the --redirect-uri
options given without --application-id (default: the README quick start's callback URL).
--strict refuses a missing or short state and spends each access token on its first use; without
it the sandbox is as lenient as Vonage's service, which its SDKs rely on.`;

/** The README quick start's callback URL, so the two work together with no option. */
export const DEFAULT_REDIRECT_URI = 'http://127.0.0.1:3000/auth/callback';

export interface CliIo {
  log: (line: string) => void;
  /** Where SIGINT/SIGTERM arrive (the process, or a stand-in in tests). */
  signals: { once(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown };
  cwd: string;
}

export interface CliHandle {
  sandbox: Sandbox;
  /** Resolves once the sandbox has stopped after a signal. */
  stopped: Promise<void>;
}

interface ParsedApplication {
  applicationId: string;
  publicKeyFile?: string;
  keyId?: string;
  redirectUris: string[];
}

/** Groups `--public-key`, `--key-id` and `--redirect-uri` with the `--application-id` before them. */
function parseApplications(tokens: NonNullable<ReturnType<typeof parseArgs>['tokens']>): {
  applications: ParsedApplication[];
  demoRedirectUris: string[];
} {
  const applications: ParsedApplication[] = [];
  const demoRedirectUris: string[] = [];
  for (const token of tokens) {
    if (token.kind !== 'option' || typeof token.value !== 'string') continue;
    const current = applications.at(-1);
    if (token.name === 'application-id') {
      applications.push({ applicationId: token.value, redirectUris: [] });
    } else if (token.name === 'public-key') {
      if (current === undefined) throw new Error('--public-key must follow --application-id');
      current.publicKeyFile = token.value;
    } else if (token.name === 'key-id') {
      // A CAMARA client's assertion naming another `kid` is then refused.
      if (current === undefined) throw new Error('--key-id must follow --application-id');
      current.keyId = token.value;
    } else if (token.name === 'redirect-uri') {
      (current?.redirectUris ?? demoRedirectUris).push(token.value);
    }
  }
  return { applications, demoRedirectUris };
}

/** A value the shell takes as one word, quoted only when it needs to be. */
function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The variables the README quick start reads, as lines to paste into a shell. */
export function environmentBlock(
  demo: KeptDemoApplication,
  endpoints: Sandbox['endpoints'],
  callbackURL: string,
): string[] {
  const variables: [string, string][] = [
    ['VONAGE_APPLICATION_ID', demo.applicationId],
    ['VONAGE_PRIVATE_KEY_PATH', demo.privateKeyPath],
    ['VONAGE_AUTHORIZATION_URL', endpoints.authorizationURL],
    ['VONAGE_TOKEN_URL', endpoints.tokenURL],
    ['VONAGE_VERIFY_URL', endpoints.verifyURL],
    ['CALLBACK_URL', callbackURL],
  ];
  return variables.map(([name, value]) => `export ${name}=${shellWord(value)}`);
}

/**
 * The warning printed when the sandbox listens beyond loopback: it confirms any number outside
 * `+990` and must never face a network. Names the address really listened on (the endpoint URLs
 * show a loopback address even then).
 */
export function exposureWarning(host: string, port: string): string[] {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare)) return [];
  const shown = bare.includes(':') ? `[${bare}]:${port}` : `${bare}:${port}`;
  return [
    `WARNING: listening on ${shown}, beyond loopback. The sandbox confirms ANY number outside +990`,
    'for anyone who can reach it: never let it face a network. Use --host 127.0.0.1.',
  ];
}

function describeEvent(event: SandboxEvent): string {
  const phone = event.phoneNumber === undefined ? '' : ` ${event.phoneNumber}`;
  const fault = event.faulted === true ? ' (fault)' : '';
  return `${event.method} ${event.endpoint} → ${event.status} ${event.outcome}${phone}${fault} ${event.durationMs.toFixed(1)} ms`;
}

/** The CLI, testable in-process: parses arguments, starts the sandbox, stops it on a signal. */
export async function runCli(argv: string[], io: CliIo): Promise<CliHandle | undefined> {
  const { values, tokens } = parseArgs({
    args: argv,
    tokens: true,
    strict: true,
    options: {
      port: { type: 'string', default: '4010' },
      host: { type: 'string', default: '127.0.0.1' },
      'application-id': { type: 'string', multiple: true },
      'public-key': { type: 'string', multiple: true },
      'key-id': { type: 'string', multiple: true },
      'redirect-uri': { type: 'string', multiple: true },
      'tls-key': { type: 'string' },
      'tls-cert': { type: 'string' },
      'keys-dir': { type: 'string', default: '.sandbox-keys' },
      fresh: { type: 'boolean' },
      strict: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    io.log(USAGE);
    return undefined;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`invalid --port ${values.port}`);
  if ((values['tls-key'] === undefined) !== (values['tls-cert'] === undefined)) {
    throw new Error('--tls-key and --tls-cert go together');
  }
  const { applications: parsed, demoRedirectUris: demoRedirectUrisGiven } =
    parseApplications(tokens);
  const applications: SandboxApplication[] = parsed.map((app) => {
    if (app.publicKeyFile === undefined)
      throw new Error(`${app.applicationId}: --public-key is required`);
    if (app.redirectUris.length === 0)
      throw new Error(`${app.applicationId}: --redirect-uri is required`);
    return {
      applicationId: app.applicationId,
      publicKey: readFileSync(resolve(io.cwd, app.publicKeyFile)),
      ...(app.keyId === undefined ? {} : { keyId: app.keyId }),
      redirectUris: app.redirectUris,
    };
  });
  const demo =
    applications.length === 0
      ? keptDemoApplication(resolve(io.cwd, values['keys-dir']), values.fresh === true)
      : undefined;
  const demoRedirectUris =
    demoRedirectUrisGiven.length > 0 ? demoRedirectUrisGiven : [DEFAULT_REDIRECT_URI];
  const tls =
    values['tls-key'] === undefined || values['tls-cert'] === undefined
      ? undefined
      : {
          key: readFileSync(resolve(io.cwd, values['tls-key'])),
          cert: readFileSync(resolve(io.cwd, values['tls-cert'])),
        };
  const sandbox = new SandboxServer({
    applications,
    ...(demo === undefined
      ? {}
      : {
          demoApplication: {
            applicationId: demo.applicationId,
            privateKey: demo.privateKey,
            redirectUris: demoRedirectUris,
          },
        }),
    ...(tls === undefined ? {} : { tls }),
    strict: values.strict === true,
  });
  sandbox.on('request', (event) => io.log(describeEvent(event)));
  await sandbox.listen(port, values.host);
  for (const line of exposureWarning(values.host, new URL(sandbox.url).port)) io.log(line);

  for (const app of applications) {
    io.log(`Application ID: ${app.applicationId}`);
    io.log(`Redirect URIs:  ${app.redirectUris.join(' ')}`);
  }
  if (demo !== undefined) {
    const kept = demo.reused ? 'kept from an earlier run; --fresh makes a new one' : 'new';
    io.log(`Application ID: ${demo.applicationId} (demo application, ${kept})`);
    io.log(`Redirect URIs:  ${demoRedirectUris.join(' ')}`);
    io.log(`Private key:    ${demo.privateKeyPath}`);
  }
  const { endpoints, camaraEndpoints } = sandbox;
  io.log(`Authorization:  ${endpoints.authorizationURL}`);
  io.log(`Token:          ${endpoints.tokenURL}`);
  io.log(`Verify:         ${endpoints.verifyURL}`);
  io.log(`CAMARA v2:      ${camaraEndpoints.verifyURL} ${camaraEndpoints.devicePhoneNumberURL}`);
  const { verifyBaseURL, outboxURL } = sandbox.verify2Endpoints;
  io.log(`Verify v2:      ${verifyBaseURL}/v2/verify (verifyBaseURL ${verifyBaseURL})`);
  io.log(`Outbox:         ${outboxURL} (codes "sent" by SMS, RCS, WhatsApp, voice, e-mail)`);
  if (demo !== undefined) {
    io.log('');
    io.log('Paste into the shell that runs your app (the README quick start reads these):');
    io.log('');
    for (const line of environmentBlock(
      demo,
      endpoints,
      demoRedirectUris[0] ?? DEFAULT_REDIRECT_URI,
    ))
      io.log(line);
    io.log('');
  }

  const stopped = new Promise<void>((resolveStopped) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      io.log('Stopping the sandbox…');
      void sandbox.close().then(resolveStopped);
    };
    io.signals.once('SIGINT', stop);
    io.signals.once('SIGTERM', stop);
  });
  return { sandbox, stopped };
}
