/**
 * The two Redis commands {@link RedisStateStore} sends, over whichever client the app already
 * has. Raw commands (`sendCommand` / `call`) rather than typed helpers: their shape has stayed the
 * same across node-redis 4 to 6 and ioredis 4 to 6, while the typed `set` options have not.
 */

/** A node-redis (the `redis` package, 4 or later) client, e.g. `createClient()` once connected. */
export interface NodeRedisClient {
  sendCommand(args: string[]): Promise<unknown>;
}

/** An `ioredis` client, e.g. `new Redis(url)`. */
export interface IoRedisClient {
  call(command: string, ...args: string[]): Promise<unknown>;
}

export type RedisClient = NodeRedisClient | IoRedisClient;

/** One command, as an argument list: `['SET', key, value, 'PX', '300000', 'NX']`. */
export type RedisCommand = (args: [string, ...string[]]) => Promise<unknown>;

/** The command function for `client`, or `undefined` when it is neither kind of client. */
export function redisCommand(client: unknown): RedisCommand | undefined {
  if (typeof client !== 'object' || client === null) return undefined;
  // ioredis also has a `sendCommand`, taking a Command object: test for its `call` first.
  const { call, sendCommand } = client as { call?: unknown; sendCommand?: unknown };
  if (typeof call === 'function') {
    return ([command, ...args]) =>
      (call as IoRedisClient['call']).call(client, command, ...args) as Promise<unknown>;
  }
  if (typeof sendCommand === 'function') {
    return (args) => (sendCommand as NodeRedisClient['sendCommand']).call(client, args);
  }
  return undefined;
}
