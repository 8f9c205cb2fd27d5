/**
 * The example's open-redirect guard: `returnTo` comes from the browser and is only ever followed
 * as a same-origin path.
 */
import { describe, expect, it } from 'vitest';
import { safeReturnTo } from '../../example/app.mjs';

describe('safeReturnTo', () => {
  it.each([
    ['/profile', '/profile'],
    ['/cart?item=1#top', '/cart?item=1#top'],
    ['//evil.example', undefined],
    ['/\\evil.example', undefined],
    ['/\t/evil.example', undefined],
    ['https://evil.example/', undefined],
    ['profile', undefined],
    ['', undefined],
    [['/a', '/b'], undefined],
  ])('%j → %j', (input, expected) => {
    expect(safeReturnTo(input)).toBe(expected);
  });
});
