import { Strategy as PassportStrategy } from 'passport-strategy';
import type { Request } from 'express';

/**
 * The actions Passport binds onto each per-request copy of a strategy (passport 0.7,
 * lib/middleware/authenticate.js). `@types/passport-strategy` types them with `any`; these are exact.
 */
export interface PassportActions {
  success(user: unknown, info?: Record<string, unknown>): void;
  fail(challenge?: object, status?: number): void;
  redirect(url: string, status?: number): void;
  pass(): void;
  error(err: unknown): void;
}

export interface PassportStrategyBase extends PassportActions {
  name?: string;
  authenticate(req: Request, options?: object): void;
}

/** passport-strategy's base class, with the action methods typed. */
export const PassportStrategyBase = PassportStrategy as unknown as new () => PassportStrategyBase;
