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
    // Issue 9: a trunk `(0)` right after the country code is dropped, not kept as a digit.
    ['+44 (0) 7700 900001', '+447700900001'],
    ['+44(0)7700900001', '+447700900001'],
    ['+49 (0)30 1234567', '+49301234567'],
    ['+990 (0) 12345678', '+99012345678'],
    // Only right after a country code (1 to 3 digits): elsewhere the 0 is a digit of the number.
    ['+4420 (0) 12345', '+4420012345'],
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

describe('normalizePhoneNumber with a defaultCountry (libphonenumber-js)', () => {
  it.each([
    ['07400 123456', 'GB', '+447400123456'],
    ['(0)7400 123456', 'GB', '+447400123456'],
    ['0044 7400 123456', 'GB', '+447400123456'],
    ['030 1234567', 'DE', '+49301234567'],
    ['(415) 555-0100', 'US', '+14155550100'],
    // `+` input keeps passing the E.164 gate unchanged, test numbers included.
    ['+99012345678', 'GB', '+99012345678'],
    ['+1 415 555 0100', 'GB', '+14155550100'],
  ] as const)('reads %j in %s as %s', (input, country, expected) => {
    expect(normalizePhoneNumber(input, country)).toBe(expected);
  });

  it.each([
    ['12', 'GB'],
    ['07700 900001', 'GB'], // Ofcom's drama range: not a valid UK number
    ['07400 12345a', 'GB'],
    ['07400 123456 ext. 2', 'GB'],
    ['٠٧٤٠٠١٢٣٤٥٦', 'GB'],
    ['07400 123456', undefined],
  ] as const)('refuses %j in %s', (input, country) => {
    expect(normalizePhoneNumber(input, country)).toBeUndefined();
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
