import { describe, expect, it } from 'vitest';
import { hashPhoneNumber, normalizePhoneNumber, redactPhoneNumber } from '../lib/phone-number.js';

describe('normalizePhoneNumber', () => {
  it.each([
    ['+447700900001', '+447700900001'],
    ['+44 7700 900001', '+447700900001'],
    ['+44\t7700\u00a0900\u202f001', '+447700900001'],
    ['+1 (415) 555-0100', '+14155550100'],
    ['+1.415.555.0100', '+14155550100'],
    ['+44\u20137700\u2014900001', '+447700900001'],
    ['+44\u22127700900001', '+447700900001'],
  ])('accepts %j as %s', (input, expected) => {
    expect(normalizePhoneNumber(input)).toBe(expected);
  });

  it.each([
    ['447700900001'],
    ['+0447700900001'],
    ['+4477'],
    ['+4477009000012345'],
    ['+44 7700 90000a'],
    ['+44/7700900001'],
    ['+٤٤٧٧٠٠٩٠٠٠٠١'],
    [''],
    ['tel:+447700900001'],
    [['+447700900001']],
    [{ number: '+447700900001' }],
    [undefined],
    [447700900001],
    ['+' + '1'.repeat(100_000)],
  ])('rejects %j', (input) => {
    expect(normalizePhoneNumber(input)).toBeUndefined();
  });
});

describe('redactPhoneNumber', () => {
  it('keeps the country prefix and the last two digits only', () => {
    expect(redactPhoneNumber('+447700900001')).toBe('+44********01');
    expect(redactPhoneNumber('+447700900001')).not.toContain('7700900');
  });
});

describe('hashPhoneNumber', () => {
  it('is the hex SHA-256 of the number including its +', () => {
    // echo -n '+123456789' | sha256sum
    expect(hashPhoneNumber('+123456789')).toBe(
      'b49f9168e8a886ffd61a090b51a26e117717f5f6fa804af49ea67043a2bfa4f0',
    );
  });
});
