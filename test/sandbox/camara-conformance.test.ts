/**
 * CAMARA's own Gherkin scenarios (test/fixtures/camara/*.feature), run against the sandbox's v2
 * endpoints. Each scenario becomes one test named by its tag; each step phrase is implemented
 * once in STEPS below. A step no entry matches fails the scenario, so nothing is skipped silently.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPhoneNumber } from '../../lib/phone-number.js';
import { createSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { createTestApplication, sandboxApplication } from '../helpers/application-keys.js';
import { loadCamaraFeatures, type FeatureScenario } from '../helpers/camara-features.js';
import { CamaraOpenApi, NV_V2_FILE } from '../helpers/camara-openapi.js';
import {
  CAMARA_SHARE_SCOPE,
  CAMARA_VERIFY_SCOPE,
  obtainAccessToken,
} from '../helpers/sandbox-flow.js';

const BOTH_SCOPES = `${CAMARA_VERIFY_SCOPE} number-verification:device-phone-number:read`;
/** Virtual Operator numbers: even → the device holds it; `…99` → not authenticated by the network. */
const DEVICE_NUMBER = '+99012345678';
const OTHER_NUMBER = '+99087654320';
const NOT_NETWORK_AUTHENTICATED = '+99011111199';
/** Longer than the token lifetime (300 s). */
const EXPIRY_JUMP_MS = 301_000;

/**
 * Scenarios that cannot apply to the sandbox, by tag, with the reason; docs/camara-conformance.md carries the
 * same list. Currently none: every scenario runs.
 */
const NOT_APPLICABLE: Readonly<Record<string, string>> = {};

const openApi = new CamaraOpenApi(NV_V2_FILE);
const features = loadCamaraFeatures();
const app = createTestApplication();
let now = Date.now();
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await createSandbox({
    strict: true,
    applications: [sandboxApplication(app)],
    clock: () => now,
  });
  await sandbox.listen(0, '127.0.0.1');
});
afterAll(async () => {
  await sandbox.close();
});

type TokenKind = 'valid' | 'none' | 'expired' | 'invalid' | 'without-scope';

interface World {
  defaultOperation: string;
  baseUrl?: string;
  headers: Record<string, string>;
  tokenKind: TokenKind;
  /** The number the token identifies (the SIM in the device). */
  tokenNumber: string;
  /** `undefined`: no body at all. */
  body?: Record<string, unknown>;
  rawBody?: string;
  response?: { status: number; headers: Headers; json: unknown; operation: string };
}

/** A schema pointer of the feature files; `PhoneNumber`/`HashedPhoneNumber` are inlined in 2.1.0. */
function schemaPointer(pointer: string): string {
  if (openApi.has(pointer)) return pointer;
  const inlined: Record<string, string> = {
    '#/components/schemas/PhoneNumber': 'phoneNumber',
    '#/components/schemas/HashedPhoneNumber': 'hashedPhoneNumber',
  };
  const property = inlined[pointer];
  if (property === undefined) throw new Error(`no schema at ${pointer}`);
  return `#/components/schemas/NumberVerificationRequestBody/properties/${property}`;
}

function expectCompliant(pointer: string, value: unknown): void {
  expect(openApi.errors(schemaPointer(pointer), value)).toEqual([]);
}

async function tokenFor(world: World, operation: string): Promise<string | undefined> {
  switch (world.tokenKind) {
    case 'none':
      return undefined;
    case 'invalid':
      return 'this-is-not-an-access-token';
    case 'without-scope': {
      // A token for the *other* operation only.
      const scope = operation === 'phoneNumberVerify' ? CAMARA_SHARE_SCOPE : CAMARA_VERIFY_SCOPE;
      return obtainAccessToken(sandbox, app, world.tokenNumber, scope);
    }
    default:
      return obtainAccessToken(sandbox, app, world.tokenNumber, BOTH_SCOPES);
  }
}

async function send(world: World, operation: string): Promise<void> {
  const { method, path, basePath } = openApi.operation(operation);
  expect(world.baseUrl).toBe(`${sandbox.url}${basePath}`);
  const token = await tokenFor(world, operation);
  const headers: Record<string, string> = { ...world.headers };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (method !== 'GET')
    body = world.rawBody ?? (world.body === undefined ? undefined : JSON.stringify(world.body));
  if (world.tokenKind === 'expired') now += EXPIRY_JUMP_MS;
  try {
    const response = await fetch(`${world.baseUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    world.response = {
      status: response.status,
      headers: response.headers,
      json: JSON.parse(text),
      operation,
    };
  } finally {
    if (world.tokenKind === 'expired') now -= EXPIRY_JUMP_MS;
  }
  // Every answer must match the OpenAPI response of its operation and status.
  const pointer = openApi.responseSchemaPointer(operation, world.response.status);
  expect(
    pointer,
    `status ${world.response.status} is not documented for ${operation}`,
  ).toBeDefined();
  expect(openApi.errors(pointer ?? '', world.response.json)).toEqual([]);
}

/** The response, sending the request first when a scenario has no `When` step (verify_400.3). */
async function response(world: World): Promise<NonNullable<World['response']>> {
  if (world.response === undefined) await send(world, world.defaultOperation);
  if (world.response === undefined) throw new Error('no response');
  return world.response;
}

function property(json: unknown, name: string): unknown {
  return (json as Record<string, unknown>)[name];
}

type Step = [RegExp, (world: World, ...args: string[]) => void | Promise<void>];

const STEPS: Step[] = [
  // Background
  [/^the resource "(.+)" as base url$/, (w, base) => void (w.baseUrl = `${sandbox.url}${base}`)],
  [
    /^the header "Authorization" is set to a valid access token$/,
    (w) => void (w.tokenKind = 'valid'),
  ],
  [
    /^the header "x-correlator" complies with the schema at "(.+)"$/,
    (w, pointer) => {
      const value = `conformance-${crypto.randomUUID()}`;
      expectCompliant(pointer, value);
      w.headers['x-correlator'] = value;
    },
  ],
  [/^the header "(.+)" is set to "(.+)"$/, (w, name, value) => void (w.headers[name] = value)],
  [
    /^the request body is set by default to a request body compliant with the schema$/,
    (w) => {
      w.body = { phoneNumber: w.tokenNumber };
      expectCompliant('#/components/schemas/NumberVerificationRequestBody', w.body);
    },
  ],
  // Token
  [
    /^a valid phone number (?:supported by the service, )?identified by the token(?: and provided in the request body)?$/,
    (w) => {
      w.tokenNumber = DEVICE_NUMBER;
      w.body = { phoneNumber: DEVICE_NUMBER };
    },
  ],
  [
    /^a valid testing phoneNumber supported by the service, identified by the token$/,
    (w) => void (w.tokenNumber = DEVICE_NUMBER),
  ],
  [
    /^the token has been obtained by a supported authentication method$/,
    (w) => expect(w.tokenKind).toBe('valid'),
  ],
  [/^the header "Authorization" is removed$/, (w) => void (w.tokenKind = 'none')],
  [
    /^the header "Authorization" is set to an expired access token$/,
    (w) => void (w.tokenKind = 'expired'),
  ],
  [
    /^the header "Authorization" is set to an invalid access token$/,
    (w) => void (w.tokenKind = 'invalid'),
  ],
  [
    /^the header "Authorization" is set to an access token without the required scope$/,
    (w) => void (w.tokenKind = 'without-scope'),
  ],
  [
    /^the header "Authorization" is set to a token for which neither Network-based nor SIM-based authentication was used$/,
    // Vonage Virtual Operator: a number ending in 99 gets a code but is not network-authenticated.
    (w) => void (w.tokenNumber = NOT_NETWORK_AUTHENTICATED),
  ],
  [
    /^the header "Authorization" is set to a valid access token which does not identify a single phone number$/,
    // The sandbox only issues 3-legged tokens (each bound to one number); the scenario's point,
    // an invalid phoneNumber → 400, holds for them too. See docs/camara-conformance.md.
    (w) => void (w.tokenKind = 'valid'),
  ],
  // Body
  [/^the request body is not included$/, (w) => void (delete w.body, delete w.rawBody)],
  [/^the request body is set to "(.+)"$/, (w, raw) => void (w.rawBody = raw)],
  [
    /^the request body is set to a valid request body$/,
    (w) => void (w.body = { phoneNumber: w.tokenNumber }),
  ],
  [
    /^the body property "\$\.phoneNumber" is set to the phone number identified by the access token$/,
    (w) => void (w.body = { phoneNumber: w.tokenNumber }),
  ],
  [
    /^the body property "\$\.phoneNumber" is set to a valid phone number different from the one identified by the access token$/,
    (w) => void (w.body = { phoneNumber: OTHER_NUMBER }),
  ],
  [
    /^the body property "\$\.hashedPhoneNumber" is set to the phone number identified by the access token, hashed in SHA-256 \(in hexadecimal representation\)$/,
    (w) => void (w.body = { hashedPhoneNumber: hashPhoneNumber(w.tokenNumber) }),
  ],
  [
    /^the body property "\$\.hashedPhoneNumber" is set to a valid phone number different from the one identified by the access token, hashed in SHA-256 \(in hexadecimal representation\)$/,
    (w) => void (w.body = { hashedPhoneNumber: hashPhoneNumber(OTHER_NUMBER) }),
  ],
  [
    /^the request body property "\$\.phoneNumber" is set to a valid phone number$/,
    (w) => void (w.body = { ...w.body, phoneNumber: w.tokenNumber }),
  ],
  [
    /^the same phone number is compliant with OAS schema at "(.+)"$/,
    (w, pointer) => expectCompliant(pointer, w.body?.phoneNumber),
  ],
  [
    /^the request body property "\$\.hashedPhoneNumber" is set to a valid phone number compliant with OAS schema at "(.+)"$/,
    (w, pointer) => {
      w.body = { ...w.body, hashedPhoneNumber: hashPhoneNumber(w.tokenNumber) };
      expectCompliant(pointer, w.body.hashedPhoneNumber);
    },
  ],
  [
    /^the request body property "\$\.phoneNumber" does not comply with the OAS schema at "(.+)"$/,
    (w, pointer) => {
      w.body = { phoneNumber: '0034-666-111-333' };
      expect(openApi.errors(schemaPointer(pointer), w.body.phoneNumber)).not.toEqual([]);
    },
  ],
  [
    /^the request body property "\$\.(\w+)" is set to "(.+)"$/,
    (w, name, value) => void (w.body = { ...w.body, [name]: value }),
  ],
  [
    /^the request body does not contain neither "\$\.phoneNumber" nor "\$\.hashedPhoneNumber"$/,
    (w) => {
      w.body = Object.fromEntries(
        Object.entries(w.body ?? {}).filter(
          ([k]) => k !== 'phoneNumber' && k !== 'hashedPhoneNumber',
        ),
      );
    },
  ],
  // Request
  [/^the request "(\w+)" is sent$/, (w, operation) => send(w, operation)],
  // Response
  [
    /^the response status code is "?(\d+)"?$/,
    async (w, status) => expect((await response(w)).status).toBe(Number(status)),
  ],
  [
    /^the response header "x-correlator" has same value as the request header "x-correlator"$/,
    async (w) =>
      expect((await response(w)).headers.get('x-correlator')).toBe(w.headers['x-correlator']),
  ],
  [
    /^the response header "(.+)" is "(.+)"$/,
    async (w, name, value) => expect((await response(w)).headers.get(name)).toBe(value),
  ],
  [
    /^the response body complies with the OAS schema at "(.+)"$/,
    async (w, pointer) => expectCompliant(pointer, (await response(w)).json),
  ],
  [
    /^the response property "\$\.(\w+)" == (true|false)$/,
    async (w, name, value) =>
      expect(property((await response(w)).json, name)).toBe(value === 'true'),
  ],
  [
    /^the response property "\$\.(\w+)" is (\d+)$/,
    async (w, name, value) => expect(property((await response(w)).json, name)).toBe(Number(value)),
  ],
  [
    /^the response property "\$\.(\w+)" is "(.+)"$/,
    async (w, name, value) => expect(property((await response(w)).json, name)).toBe(value),
  ],
  [
    /^the response property "\$\.message" contains a user friendly text$/,
    async (w) => expect(property((await response(w)).json, 'message')).toMatch(/^[A-Z].{10,}/),
  ],
  [
    /^the response property "\$\.devicePhoneNumber" is equal to the phone number associated with the access token$/,
    async (w) =>
      expect(property((await response(w)).json, 'devicePhoneNumber')).toBe(w.tokenNumber),
  ],
];

async function runScenario(scenario: FeatureScenario, defaultOperation: string): Promise<void> {
  const world: World = {
    defaultOperation,
    headers: {},
    tokenKind: 'valid',
    tokenNumber: DEVICE_NUMBER,
  };
  for (const text of scenario.steps) {
    const step = STEPS.find(([pattern]) => pattern.test(text));
    if (step === undefined) throw new Error(`no step definition for "${text}"`);
    const [pattern, action] = step;
    const args = pattern.exec(text)?.slice(1) ?? [];
    await action(world, ...args);
  }
  // A scenario must have checked a response.
  expect(world.response).toBeDefined();
}

describe('CAMARA Gherkin scenarios (test/fixtures/camara/*.feature)', () => {
  it('finds both feature files and their scenarios', () => {
    expect(features.map((f) => f.file)).toEqual([
      'number-verification-phoneNumberShare-v2.1.0.feature',
      'number-verification-phoneNumberVerify-v2.1.0.feature',
    ]);
    expect(features.every((f) => f.scenarios.length > 0)).toBe(true);
  });

  it('the scenarios that cannot apply are exactly the ones documented in docs/camara-conformance.md', () => {
    const docs = readFileSync(new URL('../../docs/camara-conformance.md', import.meta.url), 'utf8');
    const allTags = new Set(features.flatMap((f) => f.scenarios.map((s) => s.tag)));
    for (const tag of Object.keys(NOT_APPLICABLE)) expect(allTags.has(tag)).toBe(true);
    // docs/camara-conformance.md lists every scenario tag, with "passes" or the reason it cannot apply.
    for (const tag of allTags) expect(docs).toContain(`\`@${tag}\``);
    const documented = [...docs.matchAll(/^\| `@([^`]+)` \| [^|]+ \| cannot apply/gm)].map(
      (m) => m[1],
    );
    expect(documented.sort()).toEqual(Object.keys(NOT_APPLICABLE).sort());
  });

  for (const feature of features) {
    const operation = /Operation (\w+)/.exec(feature.name)?.[1] ?? '';
    describe(`${operation} (${feature.file})`, () => {
      for (const scenario of feature.scenarios) {
        if (scenario.tag in NOT_APPLICABLE) continue;
        it(`@${scenario.tag}`, () => runScenario(scenario, operation));
      }
    });
  }
});
