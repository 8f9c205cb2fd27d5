/**
 * CAMARA's Gherkin scenarios as a relying party meets them through `NumberVerificationStrategy`:
 * how each one is brought about in a sign-in (by tag), and the outcome the app sees, read from the
 * scenario's own `Then` steps. docs/camara-conformance.md carries the same table.
 */
import type { FailureCode } from '../../lib/errors.js';
import { hashPhoneNumber } from '../../lib/phone-number.js';
import { NOT_ON_MOBILE_NETWORK_CODE } from '../../lib/protocol/verify.js';
import type { VerificationMode } from '../../lib/providers/types.js';
import type { CamaraFeature, FeatureScenario } from './camara-features.js';

/** Virtual Operator numbers: even → the device holds it; odd → it holds the even neighbour; `…99` → not on the mobile network. */
export const DEVICE_NUMBER = '+99012345678';
const OTHER_NUMBER = '+99012345677';
const NOT_ON_MOBILE_NETWORK = '+99011111199';
/** The value CAMARA's conformance runner also uses for a `phoneNumber` the schema refuses. */
const NOT_E164 = '0034-666-111-333';

/**
 * How the API request (verify or device-phone-number) differs from the one the strategy sends.
 * The strategy never sends these; an app's own `dispatcher` between it and the operator can.
 */
export type WireChange =
  | { body: string | undefined }
  | { authorization: string | undefined }
  /** The access token expires between the token and the API request (the sandbox clock jumps). */
  | 'expire-token';

export interface RelyingPartyScenario {
  mode: VerificationMode;
  /** Verify mode: what the user types. Share mode: the number of the SIM in the device. */
  number: string;
  /** `hashPhoneNumber: true`. */
  hashed?: boolean;
  /** The `scope` option asks for the other operation's scope (a misconfigured app). */
  otherScope?: boolean;
  wire?: WireChange;
  /** The strategy answers before the operator is asked, so the scenario's answer never comes. */
  firstLegFail?: FailureCode;
}

export type RelyingPartyOutcome =
  | { outcome: 'success'; phoneNumber: string }
  | { outcome: 'fail'; code: FailureCode }
  | { outcome: 'error'; name: 'VerificationError'; code: string; status: number };

/** `phoneNumberVerify @tag`: share reuses verify's 401 tags, so the operation is part of the key. */
export function scenarioKey(operation: string, tag: string): string {
  return `${operation} @${tag}`;
}

/** The CAMARA operation a feature file tests, from its `Feature:` line. */
export function featureOperation(feature: CamaraFeature): string {
  const operation = /Operation (\w+)/.exec(feature.name)?.[1];
  if (operation === undefined) throw new Error(`${feature.file}: no "Operation X" in its name`);
  return operation;
}

const verify = (number: string, more: Partial<RelyingPartyScenario> = {}) =>
  ({ mode: 'verify', number, ...more }) as const;
const share = (number: string, more: Partial<RelyingPartyScenario> = {}) =>
  ({ mode: 'share', number, ...more }) as const;

const NO_AUTHORIZATION: WireChange = { authorization: undefined };
const INVALID_TOKEN: WireChange = { authorization: 'Bearer this-is-not-an-access-token' };

/** Every scenario a relying party meets, by operation and tag. A new tag must be added here. */
export const MAPPED: Readonly<Record<string, RelyingPartyScenario>> = {
  'phoneNumberVerify @phone_number_verify_01_generic_success_scenario': verify(DEVICE_NUMBER),
  'phoneNumberVerify @phone_number_verify.02_validate_phone_number_success_true':
    verify(DEVICE_NUMBER),
  'phoneNumberVerify @phone_number_verify.03_validate_phone_number_success_false':
    verify(OTHER_NUMBER),
  'phoneNumberVerify @phone_number_verify.04_validate_hashed_phone_number_success_true': verify(
    DEVICE_NUMBER,
    { hashed: true },
  ),
  'phoneNumberVerify @phone_number_verify.05_validate_hashed_phone_number_success_false': verify(
    OTHER_NUMBER,
    { hashed: true },
  ),
  'phoneNumberVerify @phone_number_verify_400.1_no_request_body': verify(DEVICE_NUMBER, {
    wire: { body: undefined },
  }),
  'phoneNumberVerify @phone_number_verify_400.2_empty_request_body': verify(DEVICE_NUMBER, {
    wire: { body: '{}' },
  }),
  'phoneNumberVerify @phone_number_verify_400.3_invalid_request_non_existing_property': verify(
    DEVICE_NUMBER,
    { wire: { body: JSON.stringify({ additional_property: 'foo_value' }) } },
  ),
  'phoneNumberVerify @phone_number_verify_400.4_both_phone_number_and_hashed_in_request': verify(
    DEVICE_NUMBER,
    {
      wire: {
        body: JSON.stringify({
          phoneNumber: DEVICE_NUMBER,
          hashedPhoneNumber: hashPhoneNumber(DEVICE_NUMBER),
        }),
      },
    },
  ),
  'phoneNumberVerify @phone_number_verify_401.1_no_authorization_header': verify(DEVICE_NUMBER, {
    wire: NO_AUTHORIZATION,
  }),
  'phoneNumberVerify @phone_number_verify_401.2_expired_access_token': verify(DEVICE_NUMBER, {
    wire: 'expire-token',
  }),
  'phoneNumberVerify @phone_number_verify_401.3_invalid_access_token': verify(DEVICE_NUMBER, {
    wire: INVALID_TOKEN,
  }),
  'phoneNumberVerify @phoneNumberVerify_403.1_invalid_token_permissions': verify(DEVICE_NUMBER, {
    otherScope: true,
  }),
  'phoneNumberVerify @phoneNumberVerify_403.2_not_authenticated_using_network_or_sim_based_authentication':
    verify(NOT_ON_MOBILE_NETWORK),
  'phoneNumberVerify @phone_number_verify_C02.01_phone_number_not_schema_compliant': verify(
    NOT_E164,
    { firstLegFail: 'invalid_phone_number' },
  ),
  'phoneNumberShare @phone_number_share_01_generic_success_scenario': share(DEVICE_NUMBER),
  'phoneNumberShare @phone_number_share_02_success_scenario': share(DEVICE_NUMBER),
  'phoneNumberShare @phone_number_verify_401.1_no_authorization_header': share(DEVICE_NUMBER, {
    wire: NO_AUTHORIZATION,
  }),
  'phoneNumberShare @phone_number_verify_401.2_expired_access_token': share(DEVICE_NUMBER, {
    wire: 'expire-token',
  }),
  'phoneNumberShare @phone_number_verify_401.3_invalid_access_token': share(DEVICE_NUMBER, {
    wire: INVALID_TOKEN,
  }),
  'phoneNumberShare @phoneNumberShare_403.1_invalid_token_permissions': share(DEVICE_NUMBER, {
    otherScope: true,
  }),
  'phoneNumberShare @phoneNumberShare_403.2_not_authenticated_using_network_or_sim_based_authentication':
    share(NOT_ON_MOBILE_NETWORK),
};

/**
 * Scenarios a relying party cannot meet, by key, with the reason (listed in
 * docs/camara-conformance.md too). None today: every scenario of NV 2.1.0 is mapped above.
 */
export const NOT_APPLICABLE: Readonly<Record<string, string>> = {};

function thenValue(scenario: FeatureScenario, pattern: RegExp): string | undefined {
  for (const step of scenario.steps) {
    const value = pattern.exec(step)?.[1];
    if (value !== undefined) return value;
  }
  return undefined;
}

/**
 * What the app sees when the operator answers as the scenario's `Then` steps say: a 200 is a
 * sign-in (or `not_verified` when `devicePhoneNumberVerified` is false), CAMARA's 403
 * USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK is the fail `not_on_mobile_network` (the user's
 * situation), any other error answer a `VerificationError` with the operator's code and status.
 */
export function expectedOutcome(
  scenario: FeatureScenario,
  driven: RelyingPartyScenario,
): RelyingPartyOutcome {
  if (driven.firstLegFail !== undefined) return { outcome: 'fail', code: driven.firstLegFail };
  const status = Number(thenValue(scenario, /^the response status code is "?(\d+)"?$/));
  const code = thenValue(scenario, /^the response property "\$\.code" is "(.+)"$/);
  const verdict = thenValue(
    scenario,
    /^the response property "\$\.devicePhoneNumberVerified" == (true|false)$/,
  );
  if (status === 200) {
    if (verdict === 'false') return { outcome: 'fail', code: 'not_verified' };
    return { outcome: 'success', phoneNumber: driven.number };
  }
  if (status === 403 && code === NOT_ON_MOBILE_NETWORK_CODE) {
    return { outcome: 'fail', code: 'not_on_mobile_network' };
  }
  if (status >= 400 && status <= 599 && code !== undefined) {
    return { outcome: 'error', name: 'VerificationError', code, status };
  }
  throw new Error(`@${scenario.tag}: no status and code in its Then steps`);
}

/** The outcome as docs/camara-conformance.md writes it, e.g. `error UNAUTHENTICATED 401`. */
export function outcomeLabel(outcome: RelyingPartyOutcome): string {
  switch (outcome.outcome) {
    case 'success':
      return 'success';
    case 'fail':
      return `fail ${outcome.code}`;
    case 'error':
      return `error ${outcome.code} ${outcome.status}`;
  }
}
