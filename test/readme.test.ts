import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FAILURES } from '../lib/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('shows the two set-up commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });

  it('lists exactly the fail codes of FAILURES, with their status and message', () => {
    const section = /<!-- fail-codes:start -->([\s\S]*?)<!-- fail-codes:end -->/.exec(readme)?.[1];
    const rows = (section ?? '')
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .map((line) => line.split('|').map((cell) => cell.trim()));
    const expected = Object.entries(FAILURES).map(([code, { status, message }]) => [
      '',
      `\`${code}\``,
      String(status),
      message,
      '',
    ]);
    expect(rows).toEqual(expected);
  });
});
