/**
 * CAMARA's own Gherkin scenarios (test/fixtures/camara/*.feature) through the strategy: each
 * scenario a relying party can meet is brought about in a real sign-in — Express app, camara()
 * or camara.discover(), sandbox, all over 127.0.0.1 — and the strategy's outcome is checked
 * against the operator answer the scenario documents. The sandbox-only run of the same files is
 * test/sandbox/camara-conformance.test.ts.
 */
import { readFileSync } from 'node:fs';
import type { Dispatcher } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { camara, FAILURES, type Provider } from '../../lib/index.js';
import { CAMARA_SCOPES } from '../../lib/providers/camara.js';
import type { Sandbox } from '../../lib/sandbox/index.js';
import { loadCamaraFeatures } from '../helpers/camara-features.js';
import { CamaraOpenApi, NV_V2_FILE } from '../helpers/camara-openapi.js';
import {
  DEVICE_NUMBER,
  expectedOutcome,
  featureOperation,
  MAPPED,
  NOT_APPLICABLE,
  outcomeLabel,
  scenarioKey,
  type RelyingPartyScenario,
  type WireChange,
} from '../helpers/camara-relying-party.js';
import {
  startLoginApp,
  TEST_APPLICATION_ID,
  testKeyPair,
  type CallbackOutcome,
  type LoginHarness,
} from '../helpers/login-app.js';
import { rewritingDispatcher, type SentRequest } from '../helpers/rewriting-dispatcher.js';
import { debugOutputSince, debugOutput } from '../helpers/secrets.js';

vi.mock('../../lib/debug.js', async () => ({
  debug: (await import('../helpers/secrets.js')).recordingDebug,
}));

/** Longer than the sandbox's access-token lifetime (300 s). */
const EXPIRY_JUMP_MS = 301_000;
const ECHO_STEP =
  'the response header "x-correlator" has same value as the request header "x-correlator"';
const ECHO_MISMATCH = 'operator echoed x-correlator';

const openApi = new CamaraOpenApi(NV_V2_FILE);
const scenarios = loadCamaraFeatures().flatMap((feature) => {
  const operation = featureOperation(feature);
  return feature.scenarios.map((scenario) => ({
    operation,
    scenario,
    key: scenarioKey(operation, scenario.tag),
  }));
});

type ProviderKind = 'camara()' | 'camara.discover()';

function makeProvider(
  kind: ProviderKind,
  sandbox: Sandbox,
  driven: RelyingPartyScenario,
): Provider | Promise<Provider> {
  const otherMode = driven.mode === 'verify' ? 'share' : 'verify';
  const options = {
    clientId: TEST_APPLICATION_ID,
    privateKey: testKeyPair().privateKeyPem,
    apiRoot: sandbox.url,
    ...(driven.otherScope === true ? { scope: CAMARA_SCOPES[otherMode] } : {}),
  };
  if (kind === 'camara.discover()') return camara.discover(sandbox.url, options);
  const { authorizationURL, tokenURL } = sandbox.camaraEndpoints;
  return camara({ ...options, authorizationURL, tokenURL });
}

/** The API request as `change` makes it; `expire` moves the sandbox clock past the token's life. */
function applyWire(
  change: WireChange | undefined,
  request: SentRequest,
  expire: () => void,
): SentRequest {
  if (change === undefined) return request;
  if (change === 'expire-token') {
    expire();
    return request;
  }
  if ('body' in change) return { ...request, body: change.body };
  const headers = Object.fromEntries(
    Object.entries(request.headers).filter(([name]) => name !== 'authorization'),
  );
  return {
    ...request,
    headers:
      change.authorization === undefined
        ? headers
        : { ...headers, authorization: change.authorization },
  };
}

/** A browser's sign-in: the first leg (with the typed number in verify mode), operator, callback. */
async function signIn(h: LoginHarness, driven: RelyingPartyScenario): Promise<CallbackOutcome> {
  const browser = h.browser();
  const form = driven.mode === 'verify' ? { phoneNumber: driven.number } : {};
  const response = await browser.post('/login').type('form').send(form);
  if (response.status !== 302) return response.body as CallbackOutcome;
  const callback = await h.followOperator(new URL(response.headers.location as string));
  return h.callback(callback, browser);
}

let h: LoginHarness | undefined;
let dispatcher: Dispatcher | undefined;
afterEach(async () => {
  await h?.close();
  await dispatcher?.close();
  h = undefined;
  dispatcher = undefined;
});

interface Run {
  outcome: CallbackOutcome;
  sent: SentRequest[];
  sandboxRequests: number;
  debug: string;
}

async function run(
  kind: ProviderKind,
  driven: RelyingPartyScenario,
  apiPath: string,
  correlator: string,
  prepare: (sandbox: Sandbox) => void = () => undefined,
): Promise<Run> {
  let clockSkewMs = 0;
  const sent: SentRequest[] = [];
  dispatcher = rewritingDispatcher(sent, (request) =>
    request.path === apiPath
      ? applyWire(driven.wire, request, () => (clockSkewMs += EXPIRY_JUMP_MS))
      : request,
  );
  h = await startLoginApp({
    provider: (sandbox) => makeProvider(kind, sandbox, driven),
    sandbox: {
      deviceNumber: driven.mode === 'share' ? driven.number : DEVICE_NUMBER,
      clock: () => Date.now() + clockSkewMs,
    },
    strategy: { mode: driven.mode, hashPhoneNumber: driven.hashed === true, dispatcher },
    authenticate: { correlator },
  });
  prepare(h.sandbox);
  let sandboxRequests = 0;
  h.sandbox.on('request', () => (sandboxRequests += 1));
  const mark = debugOutput.length;
  const outcome = await signIn(h, driven);
  return { outcome, sent, sandboxRequests, debug: debugOutputSince(mark).join('\n') };
}

describe('CAMARA Gherkin scenarios through NumberVerificationStrategy', () => {
  it('maps every scenario of the vendored feature files, or says why a relying party cannot meet it', () => {
    const keys = scenarios.map((s) => s.key);
    expect(keys.filter((k) => !(k in MAPPED) && !(k in NOT_APPLICABLE))).toEqual([]);
    expect(keys.filter((k) => k in MAPPED && k in NOT_APPLICABLE)).toEqual([]);
    // A mapping whose scenario left the feature files is stale.
    expect(
      [...Object.keys(MAPPED), ...Object.keys(NOT_APPLICABLE)].filter((k) => !keys.includes(k)),
    ).toEqual([]);
    for (const reason of Object.values(NOT_APPLICABLE)) expect(reason).toMatch(/^\S.{20,}/);
  });

  it('docs/camara-conformance.md lists each mapped scenario with its outcome, and the ones not applicable', () => {
    const docs = readFileSync(new URL('../../docs/camara-conformance.md', import.meta.url), 'utf8');
    // | `@tag` | operation | how a relying party meets it | outcome |
    const rows = docs
      .split('\n')
      .map((line) =>
        line
          .split('|')
          .slice(1, -1)
          .map((cell) => cell.trim().replace(/`/g, '')),
      )
      .filter((cells) => cells.length === 4 && cells[0]?.startsWith('@') === true);
    const documented = Object.fromEntries(
      rows.map(([tag, operation, , outcome]) => [`${operation} ${tag}`, outcome]),
    );
    const expected = Object.fromEntries(
      scenarios.flatMap(({ key, scenario }) => {
        const driven = MAPPED[key];
        return driven === undefined ? [] : [[key, outcomeLabel(expectedOutcome(scenario, driven))]];
      }),
    );
    expect(documented).toEqual(expected);
    const notApplicable = [...docs.matchAll(/^- Not applicable: `([^`]+)`/gm)].map((m) => m[1]);
    expect(notApplicable.sort()).toEqual(Object.keys(NOT_APPLICABLE).sort());
  });

  describe.each(['camara()', 'camara.discover()'] as const)('through %s', (kind) => {
    for (const { operation, scenario, key } of scenarios) {
      if (key in NOT_APPLICABLE) continue;
      it(key, async () => {
        const driven = MAPPED[key];
        if (driven === undefined) {
          throw new Error(`${key} is not mapped: add it to MAPPED or NOT_APPLICABLE`);
        }
        const expected = expectedOutcome(scenario, driven);
        const { method, path, basePath } = openApi.operation(operation);
        const correlator = `gherkin:${scenario.tag}`;
        expect(openApi.errors('#/components/schemas/XCorrelator', correlator)).toEqual([]);
        const result = await run(kind, driven, `${basePath}${path}`, correlator);

        const reachedOperator = driven.firstLegFail === undefined;
        // A sign-in refused at the first leg has no flow yet, so no correlator.
        const correlated = reachedOperator ? { correlator } : {};
        switch (expected.outcome) {
          case 'success':
            expect(result.outcome).toMatchObject({
              outcome: 'success',
              user: { id: expected.phoneNumber },
              info: { phoneNumber: expected.phoneNumber, correlator },
            });
            break;
          case 'fail':
            expect(result.outcome).toMatchObject({
              outcome: 'fail',
              status: FAILURES[expected.code].status,
              info: { code: expected.code, ...correlated },
            });
            break;
          case 'error':
            expect(result.outcome).toMatchObject({
              outcome: 'error',
              error: {
                name: expected.name,
                code: expected.code,
                status: expected.status,
                correlator,
              },
            });
            break;
        }
        if (!reachedOperator) {
          // Neither the browser nor the back channel reached the operator.
          expect(result.sent).toEqual([]);
          expect(result.sandboxRequests).toBe(0);
          return;
        }
        // The strategy called the scenario's operation once, with the sign-in's x-correlator on
        // every request, and (before any rewrite) a body the OpenAPI schema accepts.
        const api = result.sent.filter((r) => r.path === `${basePath}${path}`);
        expect(api.map((r) => r.method)).toEqual([method.toUpperCase()]);
        expect(result.sent.map((r) => r.headers['x-correlator'])).toEqual(
          result.sent.map(() => correlator),
        );
        if (operation === 'phoneNumberVerify') {
          const body: unknown = JSON.parse(api[0]?.body ?? 'null');
          expect(
            openApi.errors('#/components/schemas/NumberVerificationRequestBody', body),
          ).toEqual([]);
        }
        if (scenario.steps.includes(ECHO_STEP)) expect(result.debug).not.toContain(ECHO_MISMATCH);
      });
    }
  });

  // The echo check above would see an operator that echoes another x-correlator.
  it.each([
    ['verify', 'verify'],
    ['share', 'device-phone-number'],
  ] as const)(
    'a differing x-correlator echo in %s mode shows in the debug output',
    async (mode, endpoint) => {
      const driven: RelyingPartyScenario = { mode, number: DEVICE_NUMBER };
      const correlator = 'gherkin:echo-control';
      const { basePath, path } = openApi.operation(
        mode === 'verify' ? 'phoneNumberVerify' : 'phoneNumberShare',
      );
      const result = await run('camara()', driven, `${basePath}${path}`, correlator, (sandbox) =>
        sandbox.inject({ endpoint, headers: { 'x-correlator': 'someone-else' } }),
      );
      expect(result.outcome).toMatchObject({ outcome: 'success' });
      expect(result.debug).toContain(`${ECHO_MISMATCH} "someone-else" for ${correlator}`);
    },
  );
});
