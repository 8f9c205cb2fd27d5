import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

export interface RecordedExchange {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  responseStatus: number;
  responseBody: string;
}

export interface RecordingProxy {
  url: string;
  /** Where requests are forwarded; may be set after the proxy starts. */
  target: string;
  exchanges: RecordedExchange[];
  close(): Promise<void>;
}

/**
 * A loopback reverse proxy that records each request and response on its way to `target`,
 * so tests can check the exact bytes the strategy sends to a real (sandbox) operator.
 */
export async function startRecordingProxy(): Promise<RecordingProxy> {
  const exchanges: RecordedExchange[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const forwardedHeaders = { ...req.headers };
      delete forwardedHeaders.host;
      delete forwardedHeaders.connection;
      request(new URL(req.url ?? '/', proxy.target), {
        method: req.method as 'POST',
        headers: forwardedHeaders as Record<string, string>,
        body,
      })
        .then(async (response) => {
          const responseBody = await response.body.text();
          exchanges.push({
            method: req.method ?? '',
            path: req.url ?? '',
            headers: req.headers,
            body,
            responseStatus: response.statusCode,
            responseBody,
          });
          const contentType = response.headers['content-type'];
          res.writeHead(response.statusCode, contentType ? { 'content-type': contentType } : {});
          res.end(responseBody);
        })
        .catch(() => {
          res.writeHead(502).end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: RecordingProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    target: 'http://127.0.0.1:1',
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return proxy;
}
