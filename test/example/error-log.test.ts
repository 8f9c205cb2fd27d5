import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postExampleLogin } from '../helpers/example-login.js';
import type { Sandbox } from '../../lib/sandbox/index.js';

interface Running {
  url: string;
  sandbox: Sandbox;
  close(): Promise<void>;
}

// The example imports the package by name (dist/, which `npm test` builds first).
const { startWithSandbox } = (await import('../../example/with-sandbox.mjs' as string)) as {
  startWithSandbox(options: { log: (line: string) => void }): Promise<Running>;
};

// eslint-disable-next-line no-control-regex -- finding control characters is the point.
const LINE_BREAKERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

describe('the example app logs each error as one JSON line', () => {
  const lines: string[] = [];
  let running: Running;
  beforeAll(async () => {
    running = await startWithSandbox({ log: (line) => lines.push(line) });
  });
  afterAll(() => running.close());

  it('keeps an operator’s CR, LF and U+2028 from forging lines in the log', async () => {
    const login = await postExampleLogin(running.url, '+99012345678');
    expect(login.status).toBe(302);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const atOperator = await fetch(login.headers.get('location') ?? '', { redirect: 'manual' });
    const callback = atOperator.headers.get('location') ?? '';
    expect(callback).toContain('code=');

    running.sandbox.inject({
      endpoint: 'token',
      status: 400,
      times: 1,
      body: {
        error: 'invalid_request',
        error_description: 'bad\r\n{"level":"info","message":"admin signed in"}\u2028\u0085',
      },
    });
    const answer = await fetch(callback, { headers: { cookie }, redirect: 'manual' });
    expect(answer.status).toBe(502);

    expect(lines).toHaveLength(1);
    const [line = ''] = lines;
    expect(line).not.toMatch(LINE_BREAKERS);
    expect(JSON.parse(line)).toEqual({
      level: 'error',
      method: 'GET',
      path: new URL(callback).pathname,
      error: 'TokenError',
      code: 'invalid_request',
      status: 400,
      message:
        'Token request failed: HTTP 400 (invalid_request): bad{"level":"info","message":"admin signed in"}',
    });
  });
});
