import { Redis } from 'ioredis';
import { createClient } from 'redis';
import type { RedisClient } from '../../lib/index.js';

export type ClientKind = 'node-redis' | 'ioredis';
export const CLIENT_KINDS: ClientKind[] = ['node-redis', 'ioredis'];

export interface ConnectedClient {
  client: RedisClient;
  /** Any command, for the test's own look at the server. */
  command(args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

/** A connected client of `kind` that reconnects quickly after a restart and never logs errors. */
export async function connectClient(kind: ClientKind, url: string): Promise<ConnectedClient> {
  if (kind === 'node-redis') {
    const client = createClient({
      url,
      socket: { reconnectStrategy: (retries: number) => Math.min(50 * (retries + 1), 300) },
    });
    client.on('error', () => undefined);
    await client.connect();
    return {
      client,
      command: (args) => client.sendCommand(args),
      async close() {
        client.destroy();
      },
    };
  }
  const client = new Redis(url, {
    retryStrategy: (times: number) => Math.min(50 * times, 300),
    lazyConnect: true,
  });
  client.on('error', () => undefined);
  await client.connect();
  return {
    client,
    command: ([name, ...args]) => client.call(name as string, ...args),
    async close() {
      client.disconnect();
    },
  };
}
