import { execFileSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsumer, packTarball, root } from '../helpers/tarball.js';

/** The Node the package's "engines" names as its floor; it has no require(esm). */
const OLDEST_NODE = (
  JSON.parse(
    execFileSync('npm', ['pkg', 'get', 'engines.node'], { cwd: root, encoding: 'utf8' }),
  ) as string
).replace(/^>=/, '');

/**
 * Jest loads the CommonJS build through its own module system, which cannot require an ES module.
 * Each Jest version runs a CommonJS test file that requires the package from the packed tarball
 * and signs in against the sandbox.
 */
describe.each(['jest@30', 'jest@29'])('%s, CommonJS, against the packed tarball', (jest) => {
  let consumer: string;

  beforeAll(() => {
    consumer = createConsumer('jest-consumer', [packTarball().path, jest]);
    copyFileSync(
      join(root, 'test/consumers/fixtures/jest-login.test.cjs'),
      join(consumer, 'login.test.js'),
    );
  }, 300_000);

  afterAll(() => rmSync(consumer, { recursive: true, force: true }));

  function runJest(node: string[]): string {
    // Jest prints its report on stderr; a failing test makes execFileSync throw with it.
    return execFileSync(
      node[0] ?? process.execPath,
      [...node.slice(1), 'node_modules/jest/bin/jest.js', '--ci'],
      {
        cwd: consumer,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NODE_OPTIONS: '' },
      },
    );
  }

  it('passes on this Node', () => {
    expect(() => runJest([process.execPath])).not.toThrow();
  }, 120_000);

  it(`passes on Node ${OLDEST_NODE}, the oldest "engines" allows`, () => {
    expect(() => runJest(['npx', '-y', `node@${OLDEST_NODE}`])).not.toThrow();
  }, 300_000);
});
