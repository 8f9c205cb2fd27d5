export { NumberVerificationStrategy, NumberVerificationStrategy as Strategy } from './strategy.js';
export type {
  AuthenticateOptions,
  ProviderStrategyOptions,
  StrategyOptions,
  StrategyOptionsWithRequest,
  VerifyCallback,
  VerifyFunction,
  VerifyFunctionWithRequest,
  VonageFlatOptions,
} from './options.js';
export { vonage } from './providers/vonage.js';
export type { VonageOptions } from './providers/vonage.js';
export { camara } from './providers/camara.js';
export type { CamaraDiscoverOptions, CamaraOptions } from './providers/camara.js';
// Building blocks for writing your own provider (docs/providers.md).
export { buildAuthorizationURL } from './protocol/authorization-url.js';
export { pkceParameters } from './protocol/pkce.js';
export { requestAccessToken } from './protocol/token.js';
export type { ClientAuthentication } from './protocol/token.js';
export { getDevicePhoneNumber, verifyPhoneNumber } from './protocol/verify.js';
export type {
  AuthorizationRequest,
  BackChannel,
  Provider,
  ShareAnswer,
  TokenRequest,
  VerificationMode,
  VerifyAnswer,
  VerifyRequest,
} from './providers/types.js';
export { VerifySilentAuthStrategy } from './verify-strategy.js';
export type {
  FallbackChannel,
  VerifyAuthenticateOptions,
  VerifyStrategyOptions,
  VerifyStrategyOptionsWithRequest,
} from './verify-options.js';
export type { LoginHintFormat } from './protocol/authorization-url.js';
export { SessionStateStore } from './state/session-store.js';
export type { SessionStateStoreOptions } from './state/session-store.js';
export { CookieStateStore } from './state/cookie-store.js';
export type { CookieStateStoreOptions } from './state/cookie-store.js';
export { RedisStateStore } from './state/redis-store.js';
export type {
  IoRedisClient,
  NodeRedisClient,
  RedisClient,
  RedisStateStoreOptions,
} from './state/redis-store.js';
export type { PendingFlow, StateStore } from './state/store.js';
export {
  NumberVerificationError,
  AuthorizationError,
  TokenError,
  VerificationError,
  DiscoveryError,
  FAILURES,
} from './errors.js';
export type {
  FailureCode,
  FailureInfo,
  NumberVerificationErrorOptions,
  TransportErrorCode,
} from './errors.js';
export { normalizePhoneNumber, redactPhoneNumber, hashPhoneNumber } from './phone-number.js';
export type { CountryCode } from './phone-number.js';
export { isSafeReturnTo } from './return-to.js';
export { CHANNELS as DIAGNOSTICS_CHANNELS } from './diagnostics.js';
export type {
  OutcomeMessage as DiagnosticsOutcomeMessage,
  StepContext as DiagnosticsStepContext,
} from './diagnostics.js';
