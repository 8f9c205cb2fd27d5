/**
 * One implementation's Express app for `npm run bench`, in a process of its own, driven over IPC
 * by bench/compare.mjs: `node bench/app-process.mjs <implementation>`. It measures itself, so the
 * load generator's and the operator's work never count: CPU time (`process.cpuUsage`), event-loop
 * delay and RSS between a `mark` and the following `stats`.
 */
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const implementation = process.argv[2];
const { createApp } = await import(`./apps/${implementation}.mjs`);

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const appURL = `http://127.0.0.1:${server.address().port}`;

const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
let cpuAtMark = process.cpuUsage();
let app;

const handlers = {
  /** Builds the app with the operator's endpoints and the application's credentials. */
  async start({ applicationId, privateKey, endpoints }) {
    app = await createApp({
      applicationId,
      privateKey,
      endpoints,
      callbackURL: `${appURL}/callback`,
    });
    server.on('request', app.handler);
    return { appURL, callbackURL: `${appURL}/callback` };
  },
  mark() {
    loopDelay.reset();
    cpuAtMark = process.cpuUsage();
  },
  stats() {
    const cpu = process.cpuUsage(cpuAtMark);
    return {
      cpuMs: (cpu.user + cpu.system) / 1000,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      rssBytes: process.memoryUsage.rss(),
    };
  },
  async close() {
    await app?.close?.();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    // process.exit writes the --cpu-prof profile, when one was asked for.
    setImmediate(() => process.exit(0));
  },
};

// Never outlive the benchmark, even when it is interrupted.
process.on('disconnect', () => process.exit(0));
process.on('message', async ({ id, type, ...body }) => {
  const result = await handlers[type](body);
  process.send({ id, result });
});
process.send({ id: 'ready', result: implementation });
