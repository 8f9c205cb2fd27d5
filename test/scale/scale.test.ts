import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The built package, as the app instances load it.
import {
  createSandbox,
  type Sandbox,
  type SandboxEvent,
} from 'passport-number-verification/sandbox';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import {
  INSTANCE_HEADER,
  PREVIOUS_HEADER,
  startBalancer,
  startInstance,
  startTcpProxy,
  stopInstance,
  TARGET_HEADER,
  type Balancer,
  type InstanceConfig,
  type TcpProxy,
} from './cluster.js';

/**
 * Scale-out (issue #11), `npm run test:scale`: a real redis-server, the sandbox operator, three app
 * instances in separate processes (Express 5 + express-session on connect-redis + the strategy)
 * and a round-robin balancer in front that never sends a flow's callback to the instance of its
 * first leg. Each scenario runs FLOWS flows at CONCURRENCY and follows every one to its end with
 * a deadline; a flow that ends otherwise than its number says is lost, one that passes the
 * deadline is hung. Prints one summary line per scenario.
 */

const FLOWS = Number(process.env.SCALE_FLOWS ?? 1_000);
const CONCURRENCY = Number(process.env.SCALE_CONCURRENCY ?? 100);
const INSTANCES = 3;
const LATENCY_MS = 20;
const FLOW_DEADLINE = 60_000;
// The back-channel deadline: generous, because 100 browsers, the balancer, the sandbox and three
// apps share two cores here and a flow's p99 reaches seconds; the test is about state, not latency.
// SCALE_TIMEOUT_MS sets another one (docs/deployment.md: what 10 s gives on a quiet machine).
const TIMEOUT = Number(process.env.SCALE_TIMEOUT_MS ?? 30_000);
const OLD_SECRET = 'scale-test-cookie-secret-old-0123456789abcdef';
const NEW_SECRET = 'scale-test-cookie-secret-new-0123456789abcdef';

type Expected = 'success' | 'not_verified' | 'not_on_mobile_network';

/** The Virtual Operator's rule: last digit even → verified, odd → another SIM, `…99` → not on the network. */
function phoneNumberOf(i: number): { phoneNumber: string; expected: Expected } {
  const phoneNumber = `+990${100_000_000 + i}`;
  if (phoneNumber.endsWith('99')) return { phoneNumber, expected: 'not_on_mobile_network' };
  return {
    phoneNumber,
    expected: Number(phoneNumber.at(-1)) % 2 === 0 ? 'success' : 'not_verified',
  };
}

/** What one response of the app said. */
interface Answer {
  instance: string;
  outcome: 'success' | 'fail' | 'error' | 'none';
  code?: string;
  cookies: string[];
}

interface FlowResult {
  expected: Expected;
  firstInstance: string;
  callbacks: Answer[];
  /** The first leg did not redirect: its answer. */
  refused?: Answer;
  signedIn: boolean;
  ms: number;
  hung: boolean;
  /** Why the flow could not be followed (connection error, unexpected status). */
  broken?: string;
}

interface Scenario {
  name: string;
  mode: InstanceConfig['mode'];
  redis: 'direct' | 'latency' | 'none';
  duplicate?: boolean;
  /** Per instance, newest first (cookie mode). */
  cookieSecrets?: string[][];
  /** Runs beside the flows, told how many have ended so far. */
  during?: (ended: () => number) => Promise<void>;
}

interface RunStats {
  results: FlowResult[];
  tokenRequests: number;
  /** Token requests with a code already used: codes are single-use, so a second request per flow. */
  duplicateTokenRequests: number;
  redisOps: number;
  redisBytes: number;
  operatorConnections: number;
  operatorPeak: number;
  seconds: number;
  /** Redis restarted during the run: its counters started again from zero. */
  redisRestarted: boolean;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

function cookiesOf(header: string | string[] | undefined): string[] {
  const list = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return list.map((cookie) => cookie.split(';', 1)[0] ?? '').filter((pair) => pair !== '');
}

/** A cookie jar of one: later cookies replace earlier ones of the same name. */
function mergeCookies(jar: string[], added: string[]): string[] {
  const byName = new Map(jar.map((pair) => [pair.split('=', 1)[0], pair]));
  for (const pair of added) byName.set(pair.split('=', 1)[0], pair);
  return [...byName.values()];
}

describe('scale-out: three instances behind a balancer', () => {
  let redis: RedisServer;
  let slowRedis: TcpProxy;
  let operator: TcpProxy;
  let balancer: Balancer;
  let sandbox: Sandbox;
  let admin: ReturnType<typeof createClient>;
  const events: SandboxEvent[] = [];
  const client = new Agent({ connections: CONCURRENCY * 3, keepAliveTimeout: 30_000 });
  const summaries: string[] = [];
  let base: Omit<InstanceConfig, 'mode'>;

  beforeAll(async () => {
    redis = await startRedisServer();
    slowRedis = await startTcpProxy(redis.port, LATENCY_MS);
    admin = createClient({
      url: redis.url,
      socket: { reconnectStrategy: (retries: number) => Math.min(50 * (retries + 1), 300) },
    });
    admin.on('error', () => undefined);
    await admin.connect();
    balancer = await startBalancer();
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const applicationId = randomUUID();
    const callbackURL = `${balancer.url}/auth/callback`;
    sandbox = await createSandbox({
      strict: true,
      applications: [{ applicationId, publicKey, redirectUris: [callbackURL] }],
    });
    sandbox.on('request', (event) => events.push(event));
    await sandbox.listen(0, '127.0.0.1');
    // The instances reach the operator's back channel through a counting proxy.
    operator = await startTcpProxy(Number(new URL(sandbox.url).port), 0);
    const backChannel = (url: string): string => {
      const target = new URL(url);
      target.port = String(operator.port);
      return target.toString();
    };
    base = {
      applicationId,
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      callbackURL,
      authorizationURL: sandbox.endpoints.authorizationURL,
      tokenURL: backChannel(sandbox.endpoints.tokenURL),
      verifyURL: backChannel(sandbox.endpoints.verifyURL),
      timeout: TIMEOUT,
      sessionSecret: 'scale-test-session-secret',
    };
  });

  afterAll(async () => {
    await client.close();
    await balancer?.close();
    await sandbox?.close();
    await operator?.close();
    await slowRedis?.close();
    admin?.destroy();
    await redis?.stop();
    console.log(summaries.join('\n'));
  });

  async function redisCounters(): Promise<{ ops: number; bytes: number }> {
    const commands = await admin.info('commandstats');
    let ops = 0;
    for (const match of commands.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
      // The test's own look at the server is not the app's traffic.
      if (!['info', 'flushall', 'client', 'hello'].includes(match[1] as string)) {
        ops += Number(match[2]);
      }
    }
    const stats = await admin.info('stats');
    const bytes = ['total_net_input_bytes', 'total_net_output_bytes']
      .map((name) => Number(new RegExp(`${name}:(\\d+)`).exec(stats)?.[1] ?? 0))
      .reduce((a, b) => a + b, 0);
    return { ops, bytes };
  }

  async function send(
    url: string,
    init: { method?: 'GET' | 'POST'; body?: string; headers: Record<string, string> },
    signal: AbortSignal,
  ): Promise<Answer & { status: number; location?: string }> {
    const response = await request(url, {
      dispatcher: client,
      method: init.method ?? 'GET',
      headers: init.headers,
      ...(init.body === undefined ? {} : { body: init.body }),
      signal,
    });
    const text = await response.body.text();
    let outcome: Answer['outcome'] = 'none';
    let code: string | undefined;
    let user: unknown;
    if (String(response.headers['content-type'] ?? '').startsWith('application/json')) {
      const body = JSON.parse(text) as {
        outcome?: Answer['outcome'];
        code?: string;
        user?: unknown;
      };
      outcome = body.outcome ?? 'none';
      code = body.code;
      user = body.user;
    }
    const location = response.headers.location;
    return {
      status: response.statusCode,
      instance: String(response.headers[INSTANCE_HEADER] ?? ''),
      outcome,
      ...(code === undefined ? {} : { code }),
      ...(user === undefined ? {} : { code: JSON.stringify(user) }),
      cookies: cookiesOf(response.headers['set-cookie']),
      ...(typeof location === 'string' ? { location } : {}),
    };
  }

  /** One browser's sign-in: first leg, operator, callback (once, or twice at once), then /me. */
  async function flow(i: number, scenario: Scenario, signal: AbortSignal): Promise<FlowResult> {
    const { phoneNumber, expected } = phoneNumberOf(i);
    const result: FlowResult = {
      expected,
      firstInstance: '',
      callbacks: [],
      signedIn: false,
      ms: 0,
      hung: false,
    };
    const first = await send(
      `${balancer.url}/login`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `phoneNumber=${encodeURIComponent(phoneNumber)}`,
      },
      signal,
    );
    result.firstInstance = first.instance;
    if (first.status !== 302 || first.location === undefined) {
      result.refused = first;
      return result;
    }
    let jar = first.cookies;
    const atOperator = await send(first.location, { headers: {} }, signal);
    if (atOperator.status !== 302 || atOperator.location === undefined) {
      result.broken = `operator answered ${atOperator.status}`;
      return result;
    }
    const callback = atOperator.location;
    const others = balancer.instances
      .map(({ id }) => String(id))
      .filter((id) => id !== first.instance);
    const copies = scenario.duplicate
      ? others.slice(0, 2).map((id) => ({ [TARGET_HEADER]: id }))
      : [{ [PREVIOUS_HEADER]: first.instance }];
    result.callbacks = await Promise.all(
      copies.map((routing) =>
        send(callback, { headers: { cookie: jar.join('; '), ...routing } }, signal),
      ),
    );
    const success = result.callbacks.find((answer) => answer.outcome === 'success');
    if (success === undefined || scenario.mode === 'cookie') {
      result.signedIn = success !== undefined;
      return result;
    }
    // Signed in means: another instance finds the user in the session.
    jar = mergeCookies(jar, success.cookies);
    const me = await send(
      `${balancer.url}/me`,
      { headers: { cookie: jar.join('; '), [PREVIOUS_HEADER]: success.instance } },
      signal,
    );
    result.signedIn = me.code === JSON.stringify({ phoneNumber });
    return result;
  }

  /**
   * Starts the scenario's three instances, runs its flows, then `afterwards` more flows on the same
   * instances (numbers after the first run's), and stops them.
   */
  async function run(scenario: Scenario, afterwards = 0): Promise<RunStats[]> {
    const redisURL =
      scenario.redis === 'latency' ? `redis://127.0.0.1:${slowRedis.port}` : redis.url;
    const instances = await Promise.all(
      Array.from({ length: INSTANCES }, (_, id) =>
        startInstance(id, {
          ...base,
          mode: scenario.mode,
          ...(scenario.redis === 'none' ? {} : { redisURL }),
          ...(scenario.cookieSecrets ? { cookieSecrets: scenario.cookieSecrets[id] } : {}),
        }),
      ),
    );
    balancer.instances = instances;
    try {
      await admin.flushAll();
      const runs = [await runFlows(scenario, FLOWS, 0)];
      if (afterwards > 0)
        runs.push(await runFlows({ ...scenario, during: undefined }, afterwards, FLOWS));
      return runs;
    } finally {
      await Promise.all(instances.map(stopInstance));
    }
  }

  async function runFlows(scenario: Scenario, flows: number, offset: number): Promise<RunStats> {
    const before = await redisCounters();
    const eventsBefore = events.length;
    operator.resetCount();
    const results: FlowResult[] = [];
    let next = 0;
    const begin = performance.now();
    const worker = async (): Promise<void> => {
      while (next < flows) {
        const i = offset + next;
        next += 1;
        const started = performance.now();
        const deadline = AbortSignal.timeout(FLOW_DEADLINE);
        let result: FlowResult;
        try {
          result = await flow(i, scenario, deadline);
        } catch (err) {
          result = {
            expected: phoneNumberOf(i).expected,
            firstInstance: '',
            callbacks: [],
            signedIn: false,
            ms: 0,
            hung: deadline.aborted,
            broken: deadline.aborted ? 'deadline' : String(err),
          };
        }
        result.ms = performance.now() - started;
        results.push(result);
      }
    };
    await Promise.all([
      ...Array.from({ length: CONCURRENCY }, worker),
      scenario.during?.(() => results.length),
    ]);
    const seconds = (performance.now() - begin) / 1000;
    // The sandbox reports a request once its response has closed.
    await sleep(100);
    const after = await redisCounters();
    const tokenEvents = events.slice(eventsBefore).filter((event) => event.endpoint === 'token');
    return {
      results,
      tokenRequests: tokenEvents.length,
      duplicateTokenRequests: tokenEvents.filter((event) => event.outcome === 'invalid_grant')
        .length,
      redisOps: after.ops - before.ops,
      redisBytes: after.bytes - before.bytes,
      operatorConnections: operator.connections,
      operatorPeak: operator.peak,
      seconds,
      redisRestarted: scenario.during !== undefined,
    };
  }

  /** The flow ended as its number says: signed in, or failed with the number's code. */
  function endedAsExpected(result: FlowResult, answer: Answer | undefined): boolean {
    if (answer === undefined) return false;
    if (result.expected === 'success') return answer.outcome === 'success' && result.signedIn;
    return answer.outcome === 'fail' && answer.code === result.expected;
  }

  /** The answer that decides the flow: its one callback, or the better of a duplicated pair. */
  function decisive(result: FlowResult): Answer | undefined {
    return (
      result.callbacks.find((answer) => answer.outcome === 'success') ??
      result.callbacks.find((answer) => answer.code !== 'invalid_state') ??
      result.callbacks[0] ??
      result.refused
    );
  }

  function tally(answers: (Answer | undefined)[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const answer of answers) {
      const key =
        answer === undefined
          ? 'none'
          : `${answer.outcome}${answer.code && answer.outcome !== 'success' ? `:${answer.code}` : ''}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  /** Prints the scenario's line; `lost` are the flows that ended otherwise than allowed. */
  function summarise(name: string, stats: RunStats, lost: FlowResult[], extra = ''): void {
    const { results } = stats;
    const durations = results.map((result) => result.ms).sort((a, b) => a - b);
    const line =
      `scale ${name}: ${results.length} flows, ${INSTANCES} instances, concurrency ${CONCURRENCY}, ${stats.seconds.toFixed(1)} s — ` +
      `outcomes ${JSON.stringify(tally(results.map(decisive)))}, signed in ${results.filter((r) => r.signedIn).length}, ` +
      `lost ${lost.length}, hung ${results.filter((r) => r.hung).length}, ` +
      `token requests ${stats.tokenRequests} (duplicate ${stats.duplicateTokenRequests}), ` +
      `flow p50 ${Math.round(percentile(durations, 50))} ms, p99 ${Math.round(percentile(durations, 99))} ms; ` +
      (stats.redisRestarted
        ? 'Redis counters reset by the restart, '
        : `Redis ${(stats.redisOps / results.length).toFixed(1)} ops and ${Math.round(stats.redisBytes / results.length)} bytes per flow, `) +
      `back channel to the operator: ${stats.operatorConnections} connections opened, at most ${stats.operatorPeak} open at once (${INSTANCES} instances)${extra}`;
    summaries.push(line);
    console.log(line);
    for (const result of lost.slice(0, 5)) console.error(`lost flow: ${JSON.stringify(result)}`);
  }

  function expectEveryFlowFollowed(stats: RunStats, flows = FLOWS): void {
    expect(stats.results).toHaveLength(flows);
    expect(stats.results.filter((result) => result.hung)).toEqual([]);
    // The balancer kept its promise: no callback on the instance of the first leg.
    const sameInstance = stats.results.filter((result) =>
      result.callbacks.some((answer) => answer.instance === result.firstInstance),
    );
    expect(sameInstance).toEqual([]);
  }

  /** Every flow signed in or failed with its number's code. */
  function cleanRun(name: string, stats: RunStats): void {
    const lost = stats.results.filter((result) => !endedAsExpected(result, decisive(result)));
    summarise(name, stats, lost);
    expectEveryFlowFollowed(stats);
    expect(lost).toEqual([]);
    // One token request per flow: every callback passed the state check once.
    expect([stats.tokenRequests, stats.duplicateTokenRequests]).toEqual([FLOWS, 0]);
  }

  it.each([
    ['session store on connect-redis', 'session', 'direct'],
    ['RedisStateStore', 'redis', 'direct'],
    [`session store on connect-redis, Redis ${LATENCY_MS} ms away each way`, 'session', 'latency'],
    [`RedisStateStore, Redis ${LATENCY_MS} ms away each way`, 'redis', 'latency'],
  ] as const)('%s: every flow ends as expected, none lost or hung', async (name, mode, where) => {
    const [stats] = await run({ name, mode, redis: where });
    cleanRun(name, stats as RunStats);
  });

  it('RedisStateStore, every callback delivered twice at once to two other instances: one token request per flow', async () => {
    const name = `RedisStateStore, callbacks duplicated, Redis ${LATENCY_MS} ms away`;
    const [stats] = (await run({ name, mode: 'redis', redis: 'latency', duplicate: true })) as [
      RunStats,
    ];
    // One copy ends as the number says, the other is refused: the state was consumed once.
    const lost = stats.results.filter((result) => {
      const refused = result.callbacks.filter((answer) => answer.code === 'invalid_state');
      return refused.length !== 1 || !endedAsExpected(result, decisive(result));
    });
    summarise(name, stats, lost);
    expectEveryFlowFollowed(stats);
    expect(lost).toEqual([]);
    expect([stats.tokenRequests, stats.duplicateTokenRequests]).toEqual([FLOWS, 0]);
  });

  it('session store, every callback delivered twice at once: the measured outcome', async () => {
    const name = `session store, callbacks duplicated, Redis ${LATENCY_MS} ms away`;
    const [stats] = (await run({ name, mode: 'session', redis: 'latency', duplicate: true })) as [
      RunStats,
    ];
    // A session blob cannot be consumed atomically across processes: both copies may pass the
    // state check. Recorded, not required; what is required is that every flow ends.
    const bothPassed = stats.results.filter((result) =>
      result.callbacks.every((answer) => answer.code !== 'invalid_state'),
    ).length;
    const unanswered = stats.results.filter(
      (result) => result.broken !== undefined || result.callbacks.some((a) => a.outcome === 'none'),
    );
    summarise(
      name,
      stats,
      unanswered,
      `; both copies passed the state check in ${bothPassed} flows`,
    );
    expectEveryFlowFollowed(stats);
    expect(unanswered).toEqual([]);
  });

  /** Redis stops for a second once 30 % of the flows have ended, then comes back empty. */
  const restartRedis = async (ended: () => number): Promise<void> => {
    while (ended() < FLOWS * 0.3) await sleep(10);
    await redis.stop();
    await sleep(1_000);
    await redis.start();
    // The instances retry at most every 500 ms (app-instance.mjs): give each time to reconnect,
    // so the flows "once it is back" do not start while an instance is still in its back-off.
    await sleep(1_500);
  };

  it.each([
    ['RedisStateStore', 'redis', ['state_store_unavailable']],
    ['session store on connect-redis', 'session', []],
  ] as const)(
    '%s, Redis restarted mid-run: flows in flight end cleanly, new flows succeed once it is back',
    async (label, mode, storeErrors) => {
      const name = `${label}, Redis restarted mid-run`;
      const after = 200;
      const [stats, back] = (await run(
        { name, mode, redis: 'direct', during: restartRedis },
        after,
      )) as [RunStats, RunStats];
      // In flight while Redis was away: the store's error, the session store's own error,
      // invalid_state (the restarted Redis is empty: the flow or the session is gone), or signed
      // in with a session the restart then lost.
      const clean = (result: FlowResult): boolean => {
        const answer = decisive(result);
        if (answer === undefined) return false;
        if (answer.outcome === 'error') {
          const code = answer.code ?? '';
          return (
            (storeErrors as readonly string[]).includes(code) || code.startsWith('session_store:')
          );
        }
        if (answer.outcome === 'success') return result.expected === 'success';
        return answer.outcome === 'fail' && answer.code === 'invalid_state';
      };
      const lost = stats.results.filter(
        (result) => !endedAsExpected(result, decisive(result)) && !clean(result),
      );
      summarise(name, stats, lost);
      const lostAfter = back.results.filter((result) => !endedAsExpected(result, decisive(result)));
      summarise(`${label}, ${after} flows once Redis is back`, back, lostAfter);
      expectEveryFlowFollowed(stats);
      expect(lost).toEqual([]);
      expect(stats.results.filter((r) => !endedAsExpected(r, decisive(r))).length).toBeGreaterThan(
        0,
      );
      expectEveryFlowFollowed(back, after);
      expect(lostAfter).toEqual([]);
    },
  );

  it('CookieStateStore without Redis, the instances sharing the secret', async () => {
    const name = 'CookieStateStore, no Redis, shared secret';
    const [stats] = (await run({
      name,
      mode: 'cookie',
      redis: 'none',
      cookieSecrets: Array.from({ length: INSTANCES }, () => [OLD_SECRET]),
    })) as [RunStats];
    cleanRun(name, stats);
    expect(stats.redisOps).toBe(0);
  });

  it('CookieStateStore with the secret rotated on one instance: cookies sealed with the old secret still open there', async () => {
    const name = 'CookieStateStore, secret rotated on instance 0 (secrets: [new, old])';
    const [stats] = (await run({
      name,
      mode: 'cookie',
      redis: 'none',
      cookieSecrets: [[NEW_SECRET, OLD_SECRET], [OLD_SECRET], [OLD_SECRET]],
    })) as [RunStats];
    // Instance 0 seals with the new secret, which the others do not know yet: its flows fail with
    // invalid_state when they come back elsewhere. Everything sealed with the old secret opens
    // everywhere, instance 0 included.
    const sealedNew = stats.results.filter((result) => result.firstInstance === '0');
    const sealedOld = stats.results.filter((result) => result.firstInstance !== '0');
    const lost = [
      ...sealedOld.filter((result) => !endedAsExpected(result, decisive(result))),
      ...sealedNew.filter((result) => decisive(result)?.code !== 'invalid_state'),
    ];
    const openedOnRotated = sealedOld.filter((result) =>
      result.callbacks.some((answer) => answer.instance === '0'),
    ).length;
    summarise(
      name,
      stats,
      lost,
      `; old-secret cookies opened by the rotated instance ${openedOnRotated}, new-secret cookies refused elsewhere ${sealedNew.length}`,
    );
    expectEveryFlowFollowed(stats);
    expect(lost).toEqual([]);
    expect(openedOnRotated).toBeGreaterThan(0);
  });

  it('prints the machine the figures come from', () => {
    const line = `scale machine: ${cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
    summaries.push(line);
    expect(summaries.length).toBeGreaterThan(1);
  });
});
