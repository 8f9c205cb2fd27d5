import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FAILURES } from '../lib/index.js';
import { codeBlockAfter } from './helpers/markdown.js';

const root = new URL('../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');

describe('README', () => {
  it('shows the two set-up commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });

  it('is for users: at most 350 lines', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(350);
  });

  it('keeps the sections a user needs in the README itself (issue #8)', () => {
    const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    for (const heading of [
      'Install',
      'Quick start',
      'Options',
      'Outcomes',
      'State stores and deployment',
      'Production checklist',
      'TypeScript',
      'Troubleshooting',
    ])
      expect(headings).toContain(heading);
    const troubleshooting = /^## Troubleshooting\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
    for (const topic of [
      'invalid_state',
      'not_on_mobile_network',
      'redirect URI',
      'cookie',
      'Jest',
      'Bundlers',
    ])
      expect(troubleshooting).toContain(topic);
  });

  it('links only to files that exist', () => {
    const links = [...readme.matchAll(/\]\(((?:docs\/|[A-Z]+\.md)[^)#\s]*)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(5);
    for (const link of links) expect(existsSync(new URL(link ?? '', root)), link).toBe(true);
  });

  it('links every docs/*.md page the depth moved to', () => {
    for (const page of [
      'example',
      'sandbox',
      'camara-conformance',
      'reliability',
      'performance',
      'deployment',
      'providers',
      'verify',
      'security',
      'observability',
      'state-stores',
    ])
      expect(readme).toContain(`](docs/${page}.md`);
  });

  it('has a quick start in ESM and in CommonJS, lines of at most 100 characters', () => {
    const esm = codeBlockAfter(readme, 'quickstart:esm');
    const cjs = codeBlockAfter(readme, 'quickstart:cjs');
    expect(esm).toMatch(/^import .* from 'passport-number-verification';$/m);
    expect(cjs).toMatch(/^const .* = require\('passport-number-verification'\);$/m);
    for (const line of [...esm.split('\n'), ...cjs.split('\n')])
      expect(line.length, line).toBeLessThanOrEqual(100);
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
