import { fork, type ChildProcess } from 'node:child_process';
import { Agent, createServer, request, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** What an app instance needs besides its mode (see app-instance.mjs). */
export interface InstanceConfig {
  mode: 'session' | 'redis' | 'cookie';
  redisURL?: string;
  /** CookieStateStore secrets, newest first. */
  cookieSecrets?: string[];
  applicationId: string;
  privateKey: string;
  callbackURL: string;
  authorizationURL: string;
  tokenURL: string;
  verifyURL: string;
  timeout: number;
  sessionSecret: string;
}

export interface Instance {
  id: number;
  port: number;
  child: ChildProcess;
}

const INSTANCE_SCRIPT = new URL('./app-instance.mjs', import.meta.url);

/** Starts one app instance in its own process and waits until it listens. */
export function startInstance(id: number, config: InstanceConfig): Promise<Instance> {
  const child = fork(INSTANCE_SCRIPT, [], {
    env: { ...process.env, SCALE_INSTANCE: JSON.stringify({ id, ...config }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`instance ${id} did not start within 20 s`));
    }, 20_000);
    child.once('message', (message: { port: number }) => {
      clearTimeout(timer);
      resolve({ id, port: message.port, child });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`instance ${id} exited with ${code}`));
    });
  });
}

export async function stopInstance(instance: Instance): Promise<void> {
  if (instance.child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    instance.child.once('exit', () => resolve());
    instance.child.kill('SIGTERM');
  });
}

/** Header naming the instance that served a response (set by every instance). */
export const INSTANCE_HEADER = 'x-nv-instance';
/** Request header: send this request to that instance (a duplicated callback's two copies). */
export const TARGET_HEADER = 'x-target-instance';
/** Request header: the instance that served this browser last; round robin skips it. */
export const PREVIOUS_HEADER = 'x-previous-instance';

export interface Balancer {
  url: string;
  /** The instances behind it; replaced between scenarios. */
  instances: Instance[];
  close(): Promise<void>;
}

/**
 * A round-robin HTTP balancer on loopback (`node:http` proxying). Round robin skips the instance
 * the client names as its previous one, so the first leg and the callback of a flow always land
 * on different instances; a request can also be pinned to one instance.
 */
export async function startBalancer(): Promise<Balancer> {
  const agent = new Agent({ keepAlive: true, maxSockets: 200 });
  let next = 0;
  const balancer: Balancer = {
    url: '',
    instances: [],
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
    },
  };
  const pick = (target: string | undefined, previous: string | undefined): Instance => {
    const { instances } = balancer;
    const pinned = instances.find((instance) => String(instance.id) === target);
    if (pinned !== undefined) return pinned;
    for (;;) {
      const instance = instances[next++ % instances.length] as Instance;
      if (String(instance.id) !== previous || instances.length === 1) return instance;
    }
  };
  const server: Server = createServer((req, res) => {
    const target = pick(
      req.headers[TARGET_HEADER] as string | undefined,
      req.headers[PREVIOUS_HEADER] as string | undefined,
    );
    const upstream = request(
      {
        host: '127.0.0.1',
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http' },
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  balancer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return balancer;
}

export interface TcpProxy {
  port: number;
  /** Connections accepted since the last `resetCount`. */
  readonly connections: number;
  /** Most connections open at once since the last `resetCount`. */
  readonly peak: number;
  resetCount(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy on loopback that delays every chunk by `delayMs` in each direction (order kept: all
 * timers have the same duration), and counts the connections it accepts.
 */
export async function startTcpProxy(targetPort: number, delayMs: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let connections = 0;
  let open = 0;
  let peak = 0;
  const forward = (from: Socket, to: Socket): void => {
    from.on('data', (chunk) => {
      if (delayMs === 0) to.write(chunk);
      else setTimeout(() => to.writable && to.write(chunk), delayMs);
    });
    from.on('end', () => setTimeout(() => to.end(), delayMs));
    from.on('error', () => to.destroy());
    from.on('close', () => setTimeout(() => to.destroy(), delayMs));
  };
  const server = createTcpServer((client) => {
    connections += 1;
    open += 1;
    peak = Math.max(peak, open);
    client.on('close', () => (open -= 1));
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return connections;
    },
    get peak() {
      return peak;
    },
    resetCount() {
      connections = 0;
      peak = open;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
