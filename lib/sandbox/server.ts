import { EventEmitter, setMaxListeners } from 'node:events';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { E164_PATTERN } from '../phone-number.js';
import { registerApplication, type RegisteredApplication } from './applications.js';
import { demoApplication, demoRegistration, type DemoApplication } from './demo-application.js';
import type { SandboxContext, SandboxRequest } from './context.js';
import { ActiveFault, FaultRegistry, faultResponse } from './faults.js';
import { errorInfo, readBody, type SandboxResponse } from './http-util.js';
import { Outbox, type OutboxMessage } from './outbox.js';
import { findRoute, methodNotAllowed, notFound, PATHS, payloadTooLarge } from './routes.js';
import { SandboxStore } from './store.js';
import type {
  CamaraEndpoints,
  FaultHandle,
  FaultInjection,
  Sandbox,
  SandboxApplication,
  SandboxDemoCredentials,
  SandboxEndpoint,
  SandboxEndpoints,
  SandboxEvent,
  SandboxOptions,
  SandboxStrategyOptions,
  SandboxVerifyStrategyOptions,
  Verify2Endpoints,
} from './types.js';

/** What the request event reports, filled in as the request is handled. */
interface RequestReport {
  endpoint: SandboxEndpoint;
  outcome: string;
  phoneNumber?: string | undefined;
  faulted: boolean;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
    throw new RangeError(`${name} must be a positive number`);
  }
  return value;
}

function deviceNumber(value: string | undefined): string {
  if (value === undefined) return '+99012345678';
  if (typeof value !== 'string' || !E164_PATTERN.test(value)) {
    throw new TypeError('deviceNumber must be an E.164 number with its +');
  }
  return value;
}

/** The request target as a URL; only origin-form targets (`/path?query`) are served. */
function parseTarget(target: string | undefined): URL | undefined {
  if (target === undefined || !target.startsWith('/')) return undefined;
  try {
    return new URL(`http://sandbox.invalid${target}`);
  } catch {
    return undefined;
  }
}

export class SandboxServer implements Sandbox {
  private readonly server: Server;
  private readonly context: SandboxContext;
  private readonly faults = new FaultRegistry();
  private readonly events = new EventEmitter();
  /** Aborts every pending delay and trickle when the sandbox closes. */
  private readonly closing = new AbortController();
  private baseUrl: string | undefined;
  private readonly protocol: 'http' | 'https';
  readonly demoApplication: DemoApplication | undefined;
  /** Redirect URIs of the demo application; it is registered once it has one. */
  private readonly demoRedirectUris = new Set<string>();

  constructor(options: SandboxOptions = {}) {
    const applications = new Map<string, RegisteredApplication>();
    const clock = options.clock ?? Date.now;
    this.context = {
      applications,
      devices: new Map(Object.entries(options.devices ?? {})),
      deviceNumber: deviceNumber(options.deviceNumber),
      store: new SandboxStore(clock),
      clock,
      codeTtlMs: positive(options.codeTtlMs, 60_000, 'codeTtlMs'),
      tokenTtlSeconds: positive(options.tokenTtlSeconds, 300, 'tokenTtlSeconds'),
      jwtMaxLifetimeSeconds: positive(options.jwtMaxLifetimeSeconds, 900, 'jwtMaxLifetimeSeconds'),
      strict: options.strict === true,
      outbox: new Outbox(),
      baseUrl: () => this.url,
    };
    // Every pending delay and trickle listens on `closing`; under load there are many at once.
    setMaxListeners(0, this.closing.signal);
    for (const application of options.applications ?? []) this.addApplication(application);
    if (this.context.applications.size === 0) {
      this.demoApplication = demoApplication(options.demoApplication);
      this.addDemoRedirectUris(options.demoApplication?.redirectUris ?? []);
    }
    const listener = (req: IncomingMessage, res: ServerResponse): void => {
      void this.handle(req, res);
    };
    this.protocol = options.tls === undefined ? 'http' : 'https';
    this.server =
      options.tls === undefined
        ? createHttpServer(listener)
        : createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, listener);
    // A broken client connection (bad TLS, garbage request line) must never take the sandbox down.
    this.server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
  }

  listen(port = 0, host = '127.0.0.1'): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const address = this.server.address() as AddressInfo;
        const shown =
          address.address === '0.0.0.0'
            ? '127.0.0.1'
            : address.address === '::'
              ? '[::1]'
              : address.family === 'IPv6'
                ? `[${address.address}]`
                : address.address;
        this.baseUrl = `${this.protocol}://${shown}:${address.port}`;
        resolve();
      });
    });
  }

  get url(): string {
    if (this.baseUrl === undefined) throw new Error('the sandbox is not listening yet');
    return this.baseUrl;
  }

  get endpoints(): SandboxEndpoints {
    return {
      authorizationURL: `${this.url}${PATHS.auth}`,
      tokenURL: `${this.url}${PATHS.token}`,
      verifyURL: `${this.url}${PATHS.vonageVerify}`,
    };
  }

  get camaraEndpoints(): CamaraEndpoints {
    return {
      issuer: this.url,
      discoveryURL: `${this.url}${PATHS.discovery}`,
      authorizationURL: `${this.url}${PATHS.auth}`,
      tokenURL: `${this.url}${PATHS.token}`,
      apiRoot: this.url,
      verifyURL: `${this.url}${PATHS.camaraVerify}`,
      devicePhoneNumberURL: `${this.url}${PATHS.camaraDevicePhoneNumber}`,
    };
  }

  get verify2Endpoints(): Verify2Endpoints {
    return { verifyBaseURL: this.url, outboxURL: `${this.url}${PATHS.outbox}` };
  }

  outbox(to?: string): OutboxMessage[] {
    return this.context.outbox.list(to);
  }

  strategyOptions({ callbackURL }: { callbackURL: string }): SandboxStrategyOptions {
    return this.withDemoApplication('strategyOptions', callbackURL, () => this.endpoints);
  }

  verifyStrategyOptions({
    callbackURL,
    brand = 'Sandbox',
  }: {
    callbackURL: string;
    brand?: string;
  }): SandboxVerifyStrategyOptions {
    return this.withDemoApplication('verifyStrategyOptions', callbackURL, () => ({
      verifyBaseURL: this.verify2Endpoints.verifyBaseURL,
      brand,
    }));
  }

  /**
   * The demo application's credentials and `callbackURL`, registered as one of its redirect URIs,
   * with `more` (endpoints, read first: they throw while the sandbox is not listening).
   */
  private withDemoApplication<T extends object>(
    method: string,
    callbackURL: string,
    more: () => T,
  ): T & SandboxDemoCredentials {
    const demo = this.demoApplication;
    if (demo === undefined) {
      throw new Error(
        `${method} needs the demo application: create the sandbox without \`applications\``,
      );
    }
    const extra = more();
    this.addDemoRedirectUris([callbackURL]);
    return {
      applicationId: demo.applicationId,
      privateKey: demo.privateKey,
      callbackURL,
      ...extra,
    };
  }

  private addDemoRedirectUris(uris: readonly string[]): void {
    if (this.demoApplication === undefined || uris.length === 0) return;
    const all = [...this.demoRedirectUris, ...uris];
    // Validates every URI before any is kept, so a bad one leaves the registration unchanged.
    this.addApplication(demoRegistration(this.demoApplication, all));
    for (const uri of uris) this.demoRedirectUris.add(uri);
  }

  addApplication(application: SandboxApplication): void {
    const registered = registerApplication(application);
    this.context.applications.set(registered.applicationId, registered);
  }

  inject(fault: FaultInjection): FaultHandle {
    return this.faults.add(fault);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  on(event: 'request', listener: (event: SandboxEvent) => void): this {
    this.events.on(event, listener);
    return this;
  }

  off(event: 'request', listener: (event: SandboxEvent) => void): this {
    this.events.off(event, listener);
    return this;
  }

  close(): Promise<void> {
    this.closing.abort();
    return new Promise((resolve) => {
      // The callback also runs (with an error) when the server was never listening.
      this.server.close(() => resolve());
      // Keep-alive and trickling sockets would otherwise hold close() open.
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const report: RequestReport = { endpoint: 'other', outcome: 'aborted', faulted: false };
    res.once('close', () => this.report(req, res, report, started));
    try {
      await this.process(req, res, report);
    } catch {
      // Every failure (client gone, aborted trickle, a bug) ends here: the process never crashes.
      if (!res.headersSent && !res.destroyed) {
        report.outcome = 'internal_error';
        this.send(res, errorInfo(500, 'INTERNAL', 'Server error', 'internal_error'));
      } else {
        res.destroy();
      }
    }
  }

  private async process(
    req: IncomingMessage,
    res: ServerResponse,
    report: RequestReport,
  ): Promise<void> {
    const url = parseTarget(req.url);
    const route = url === undefined ? undefined : findRoute(url.pathname, req.method);
    if (route !== undefined) report.endpoint = route.endpoint;
    // The body is drained first on every path so the client always gets to read our status.
    const { body, tooLarge } = await readBody(req);
    const finish = (response: SandboxResponse, fault?: ActiveFault): Promise<void> => {
      report.outcome = response.outcome;
      report.phoneNumber = response.phoneNumber;
      return this.write(res, response, fault);
    };
    if (url === undefined || route === undefined) return finish(notFound());
    if (req.method !== route.method) return finish(methodNotAllowed(route));
    if (tooLarge) return finish(payloadTooLarge(route));

    const fault = route.fault === undefined ? undefined : this.faults.take(route.fault);
    if (fault !== undefined) {
      report.faulted = true;
      if (fault.spec.delayMs !== undefined && fault.spec.delayMs > 0) {
        await sleep(fault.spec.delayMs, undefined, { signal: this.closing.signal });
      }
      if (fault.spec.reset === 'before-body') {
        report.outcome = 'fault';
        req.socket.destroy();
        return;
      }
    }
    const request: SandboxRequest = {
      method: route.method,
      url,
      headers: req.headers,
      body,
      remoteAddress: req.socket.remoteAddress,
    };
    const injected =
      fault === undefined || route.fault === undefined
        ? undefined
        : faultResponse(fault, route.fault);
    const response = injected ?? (await route.handle(this.context, request, fault?.spec.error));
    if (fault?.spec.headers !== undefined) Object.assign(response.headers, fault.spec.headers);
    return finish(response, fault);
  }

  /** Writes a response, shaped by the fault (trickle, reset mid-body) when there is one. */
  private async write(
    res: ServerResponse,
    response: SandboxResponse,
    fault?: ActiveFault,
  ): Promise<void> {
    const { body } = response;
    res.writeHead(response.status, { ...response.headers, 'content-length': String(body.length) });
    const spec = fault?.spec;
    if (spec?.reset === 'during-body') {
      // Headers and half the body, then a reset: the client sees a truncated response.
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.destroy());
      return;
    }
    if (spec?.trickle !== undefined) {
      const { chunkBytes, intervalMs } = spec.trickle;
      for (let offset = 0; offset < body.length; offset += chunkBytes) {
        if (offset > 0) await sleep(intervalMs, undefined, { signal: this.closing.signal });
        if (res.destroyed) return;
        res.write(body.subarray(offset, offset + chunkBytes));
      }
      res.end();
      return;
    }
    res.end(body);
  }

  private send(res: ServerResponse, response: SandboxResponse): void {
    res.writeHead(response.status, {
      ...response.headers,
      'content-length': String(response.body.length),
    });
    res.end(response.body);
  }

  private report(
    req: IncomingMessage,
    res: ServerResponse,
    report: RequestReport,
    started: number,
  ): void {
    const event: SandboxEvent = {
      endpoint: report.endpoint,
      method: req.method ?? '',
      status: res.headersSent ? res.statusCode : 0,
      outcome: report.outcome,
      durationMs: performance.now() - started,
    };
    if (report.phoneNumber !== undefined) event.phoneNumber = report.phoneNumber;
    if (report.faulted) event.faulted = true;
    try {
      this.events.emit('request', event);
    } catch {
      // A throwing listener is the observer's bug; it must not break the sandbox.
    }
  }
}
