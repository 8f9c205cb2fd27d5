export {
  NumberVerificationError,
  AuthorizationError,
  TokenError,
  VerificationError,
  FAILURES,
} from './errors.js';
export type { FailureCode, FailureInfo, TransportErrorCode } from './errors.js';
