/**
 * The example's login page has its own sentence for every fail code the strategy can produce, so
 * a code added to the package does not reach users as a bare identifier.
 */
import { FAILURES } from 'passport-number-verification';
import { expect, it } from 'vitest';
import { FAILURE_MESSAGES } from '../../example/app.mjs';

it('has a message for every fail code of the strategy', () => {
  expect(Object.keys(FAILURE_MESSAGES).sort()).toEqual(Object.keys(FAILURES).sort());
});
