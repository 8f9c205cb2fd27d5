/**
 * The operator for `npm run bench`: the sandbox over HTTPS in a process of its own, driven over IPC
 * by bench/compare.mjs. It counts the TCP (hence TLS) connections it accepts, by client address:
 * the load generator connects from 127.0.0.2, the apps' back channels from 127.0.0.1, so the count
 * for 127.0.0.1 is exactly the apps' new TLS connections.
 */
import { subscribe } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { createSandbox } from 'passport-number-verification/sandbox';

const fixtures = new URL('../test/sandbox/fixtures/', import.meta.url);
const sandbox = await createSandbox({
  tls: {
    key: readFileSync(new URL('localhost-key.pem', fixtures)),
    cert: readFileSync(new URL('localhost-cert.pem', fixtures)),
  },
});

let accepted = new Map();
subscribe('net.server.socket', ({ socket }) => {
  const from = socket.remoteAddress ?? 'unknown';
  accepted.set(from, (accepted.get(from) ?? 0) + 1);
});

const handlers = {
  register({ applicationId, publicKey, redirectUris }) {
    sandbox.addApplication({ applicationId, publicKey, redirectUris });
  },
  latency({ ms }) {
    // A fixed operator latency on both back-channel calls (not on the browser's /oauth2/auth).
    for (const endpoint of ['token', 'verify']) sandbox.inject({ endpoint, delayMs: ms });
  },
  /** Connections accepted since the last call, by client address; resets the count. */
  connections() {
    const counts = Object.fromEntries(accepted);
    accepted = new Map();
    return counts;
  },
  async close() {
    await sandbox.close();
    setImmediate(() => process.exit(0));
  },
};

// Never outlive the benchmark, even when it is interrupted.
process.on('disconnect', () => process.exit(0));
process.on('message', async ({ id, type, ...body }) => {
  const result = await handlers[type](body);
  process.send({ id, result });
});

await sandbox.listen(0, '127.0.0.1');
process.send({ id: 'ready', result: sandbox.endpoints });
