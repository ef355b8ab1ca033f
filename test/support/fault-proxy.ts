/**
 * A fault-injecting HTTP(S) proxy on 127.0.0.1, between an SDK client and a real local server
 * (moto, MinIO), for tests of how the encryption client behaves when the network or the service
 * misbehaves. The test adds rules; each rule matches requests (method, path, query, headers, the
 * KMS `X-Amz-Target`) and applies one fault to the next `count` of them:
 *
 *  - `s3-slowdown`: answers 503 SlowDown with S3's XML error body (the request is not forwarded);
 *  - `kms-throttling`: answers 400 ThrottlingException as KMS does (JSON 1.1 body, not forwarded);
 *  - `reset-body`: forwards, sends the response head and `afterBytes` bytes of the body, then resets
 *    the client connection (TCP RST where the socket allows it);
 *  - `truncate-body`: the same, but ends the connection cleanly (FIN): fewer bytes than Content-Length;
 *  - `stall-body`: sends the head and `afterBytes` bytes, then sends nothing more and holds the
 *    connection until the client gives up or stop() is called;
 *  - `drop-response`: forwards the request, lets the upstream answer in full (so its effect lands),
 *    then resets the client connection before any response byte: "the answer was lost";
 *  - `delay`: forwards the request `ms` later, untouched otherwise (a slow service).
 *
 *   const proxy = await startFaultProxy({ upstream: moto.endpoint });
 *   const rule = proxy.addRule({ method: 'PUT', path: /^\/bucket\/key$/, count: 1, fault: { type: 's3-slowdown' } });
 *   new S3Client({ endpoint: proxy.endpoint, ... });
 *   ...; expect(rule.applied).toBe(1); expect(proxy.count({ method: 'PUT', path: /key/ })).toBe(2);
 *   await proxy.stop();
 *
 * With `tls: true` the proxy terminates TLS with a throwaway self-signed certificate (`caCert`, to be
 * trusted by the client) and talks TLS to an https upstream (trusting `upstreamCa`): it must see
 * inside the requests to aim a fault at one operation on one object, which a TCP-level proxy in
 * front of a TLS port cannot do. The Host header is forwarded unchanged, so SigV4 signatures made
 * for the proxy's address still verify upstream.
 *
 * Every request is recorded, with the fault applied to it, so tests can count attempts. stop()
 * closes the server and destroys every socket it holds (including stalled ones); nothing outlives it.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export type Fault =
  | { readonly type: 's3-slowdown' }
  | { readonly type: 'kms-throttling' }
  | { readonly type: 'reset-body'; readonly afterBytes: number; readonly delayMs?: number }
  | { readonly type: 'truncate-body'; readonly afterBytes: number; readonly delayMs?: number }
  | { readonly type: 'stall-body'; readonly afterBytes: number }
  | { readonly type: 'drop-response' }
  | { readonly type: 'delay'; readonly ms: number };

/** What a rule (or a count) matches; every field given must match. */
export interface RequestMatch {
  readonly method?: string;
  /** Matched against the path without the query string, as sent (percent-encoded). */
  readonly path?: RegExp;
  /** Query parameters: `true` = present, a string = equal, a RegExp = matches. */
  readonly query?: Readonly<Record<string, string | RegExp | true>>;
  /** The `X-Amz-Target` header of JSON protocols, e.g. 'TrentService.GenerateDataKey'. */
  readonly target?: string;
  /** Request headers (lower case names), as for `query`. */
  readonly headers?: Readonly<Record<string, string | RegExp | true>>;
}

export interface FaultRule extends RequestMatch {
  readonly fault: Fault;
  /** Let this many matching requests through untouched first. Default 0. */
  readonly skip?: number;
  /** Apply the fault to this many matching requests (after `skip`). Default 1. */
  readonly count?: number;
}

/** A rule in force, with live counters. */
export interface ActiveRule {
  readonly rule: FaultRule;
  /** Matching requests seen so far (skipped, faulted or, once used up, passed through). */
  readonly matched: number;
  /** Requests the fault was applied to. */
  readonly applied: number;
  /** Faults left to apply. */
  readonly remaining: number;
}

export interface RecordedRequest {
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly target?: string;
  /** Request headers, without credentials and key material. */
  readonly headers: Readonly<Record<string, string>>;
  /** The fault applied, if any. */
  readonly fault?: Fault['type'];
  /** Status sent to the client (the upstream's, or the fault's); undefined while in flight or when none was sent. */
  status?: number;
}

export interface FaultProxy {
  /** e.g. http://127.0.0.1:40123, or https:// with `tls`. */
  readonly endpoint: string;
  readonly port: number;
  /** With `tls`: PEM of the proxy's self-signed certificate; trust it as a CA. */
  readonly caCert?: string;
  /** Every request received, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  addRule(rule: FaultRule): ActiveRule;
  /** Removes every rule (the request log is kept). */
  clearRules(): void;
  /** Requests received that match. */
  count(match: RequestMatch): number;
  /** Resets the connections held by `stall-body` faults so far; returns how many. */
  releaseStalled(): number;
  /** Stops listening and destroys every connection, held ones included. Safe to call twice. */
  stop(): Promise<void>;
}

export interface FaultProxyOptions {
  /** Base URL of the real server, http:// or https://. */
  readonly upstream: string;
  /** PEM to trust for an https upstream (e.g. MinIO's self-signed certificate). */
  readonly upstreamCa?: string;
  /** Terminate TLS in the proxy with a throwaway self-signed certificate for 127.0.0.1. */
  readonly tls?: boolean;
}

/** Headers not kept in the request log: signatures, tokens and SSE-C key material. */
const SECRET_HEADER = /^(authorization|x-amz-security-token|.*customer-key)$/;

/** Hop-by-hop headers (RFC 9110 section 7.6.1) and Expect, which the proxy answers itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'expect']);

/** The body S3 sends with 503 SlowDown (S3 API Reference, Error responses). */
function slowDownBody(requestId: string): string {
  return '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>'
    + `<RequestId>${requestId}</RequestId><HostId>fault-proxy</HostId></Error>`;
}

function matchValue(actual: string | undefined, expected: string | RegExp | true): boolean {
  if (actual === undefined) return false;
  if (expected === true) return true;
  return typeof expected === 'string' ? actual === expected : expected.test(actual);
}

interface Incoming {
  readonly method: string;
  readonly path: string;
  readonly params: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
}

function header(h: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function matches(m: RequestMatch, r: Incoming): boolean {
  if (m.method && m.method.toUpperCase() !== r.method) return false;
  if (m.path && !m.path.test(r.path)) return false;
  if (m.target && header(r.headers, 'x-amz-target') !== m.target) return false;
  for (const [k, v] of Object.entries(m.query ?? {})) {
    if (!matchValue(r.params.has(k) ? r.params.get(k)! : undefined, v)) return false;
  }
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (!matchValue(header(r.headers, k.toLowerCase()), v)) return false;
  }
  return true;
}

/** Resets a plain TCP socket (RST); a TLS socket cannot be reset from Node, so it is destroyed (FIN). */
function hardClose(socket: net.Socket): void {
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

/** A throwaway self-signed certificate for 127.0.0.1 (openssl: node:crypto cannot issue certificates). */
export function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fault-proxy-cert-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    ], { stdio: 'pipe' });
    return { key: readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(options.upstream);
  const upstreamTls = upstream.protocol === 'https:';
  const rules: { rule: FaultRule; matched: number; applied: number; skip: number; remaining: number }[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<net.Socket>();
  const upstreamRequests = new Set<http.ClientRequest>();
  const stalled = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  let seq = 0;

  const pickFault = (r: Incoming): Fault | undefined => {
    for (const active of rules) {
      if (!matches(active.rule, r)) continue;
      active.matched++;
      if (active.skip > 0) { active.skip--; continue; }
      if (active.remaining <= 0) continue;
      active.remaining--;
      active.applied++;
      return active.rule.fault;
    }
    return undefined;
  };

  /** Reads and discards the request body, then calls `then` (a fault answered without forwarding). */
  const drain = (req: http.IncomingMessage, then: () => void) => {
    req.on('end', then);
    req.resume();
  };

  const forward = (req: http.IncomingMessage, onResponse: (up: http.IncomingMessage) => void, onError: (e: Error) => void) => {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
    const requestOptions: https.RequestOptions = {
      host: upstream.hostname,
      port: upstream.port || (upstreamTls ? 443 : 80),
      method: req.method,
      path: req.url,
      headers,
      agent: false,
      ...(upstreamTls ? { ca: options.upstreamCa } : {}),
    };
    const up = (upstreamTls ? https.request : http.request)(requestOptions, onResponse);
    upstreamRequests.add(up);
    up.on('close', () => upstreamRequests.delete(up));
    up.on('error', onError);
    req.pipe(up);
  };

  const copyHead = (up: http.IncomingMessage, res: http.ServerResponse, record: RecordedRequest) => {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(up.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
    record.status = up.statusCode ?? 502;
    res.writeHead(record.status, up.statusMessage, headers);
  };
  const passThrough = (res: http.ServerResponse, record: RecordedRequest) => (up: http.IncomingMessage) => {
    up.on('error', () => undefined);
    copyHead(up, res, record);
    up.pipe(res);
  };
  const failed = (res: http.ServerResponse, record: RecordedRequest) => () => {
    record.status = 502;
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('fault proxy: upstream unreachable');
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://proxy.invalid');
    const incoming: Incoming = { method: (req.method ?? 'GET').toUpperCase(), path: url.pathname, params: url.searchParams, headers: req.headers };
    const fault = pickFault(incoming);
    const record: RecordedRequest = {
      seq: ++seq,
      method: incoming.method,
      path: incoming.path,
      query: url.search.replace(/^\?/, ''),
      target: header(req.headers, 'x-amz-target'),
      fault: fault?.type,
      headers: Object.fromEntries(Object.keys(req.headers).filter((k) => !SECRET_HEADER.test(k)).map((k) => [k, header(req.headers, k)!])),
    };
    requests.push(record);
    const socket = req.socket;
    req.on('error', () => undefined);
    res.on('error', () => undefined);

    if (fault?.type === 's3-slowdown' || fault?.type === 'kms-throttling') {
      drain(req, () => {
        const requestId = randomUUID();
        const s3 = fault.type === 's3-slowdown';
        const body = s3
          ? slowDownBody(requestId)
          : JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' });
        record.status = s3 ? 503 : 400;
        res.writeHead(record.status, {
          'content-type': s3 ? 'application/xml' : 'application/x-amz-json-1.1',
          'content-length': incoming.method === 'HEAD' ? 0 : Buffer.byteLength(body),
          ...(s3 ? { 'x-amz-request-id': requestId } : { 'x-amzn-requestid': requestId }),
        });
        res.end(incoming.method === 'HEAD' ? undefined : body);
      });
      return;
    }

    if (fault?.type === 'delay') {
      req.pause();
      const timer = setTimeout(() => { timers.delete(timer); forward(req, passThrough(res, record), failed(res, record)); }, fault.ms);
      timers.add(timer);
      return;
    }

    if (!fault) {
      forward(req, passThrough(res, record), failed(res, record));
      return;
    }

    forward(req, (up) => {
      up.on('error', () => undefined);
      if (fault.type === 'drop-response') {
        // Let the upstream finish (its change has landed), then lose the answer.
        up.on('end', () => hardClose(socket));
        up.resume();
        return;
      }
      copyHead(up, res, record);
      // A body fault: pass `afterBytes` bytes, then act.
      res.flushHeaders();
      let sent = 0;
      let acted = false;
      const act = () => {
        if (acted) return;
        acted = true;
        up.destroy();
        if (fault.type === 'stall-body') {
          // Held: the client times out, or releaseStalled() / stop() ends it.
          stalled.add(socket);
          socket.once('close', () => stalled.delete(socket));
          return;
        }
        const delay = fault.delayMs ?? 0;
        const finish = () => (fault.type === 'reset-body' ? hardClose(socket) : socket.end());
        if (delay > 0) setTimeout(finish, delay).unref();
        else finish();
      };
      up.on('data', (chunk: Buffer) => {
        if (acted) return;
        const room = fault.afterBytes - sent;
        const part = chunk.length <= room ? chunk : chunk.subarray(0, Math.max(0, room));
        sent += part.length;
        if (sent >= fault.afterBytes) {
          up.pause();
          if (part.length > 0) res.write(part, act);
          else act();
        } else if (part.length > 0 && !res.write(part)) {
          up.pause();
          res.once('drain', () => up.resume());
        }
      });
      // A body shorter than afterBytes: act at its end, having sent it all but the end of message.
      up.on('end', act);
    }, failed(res, record));
  };

  let caCert: string | undefined;
  let server: http.Server | https.Server;
  if (options.tls) {
    const { key, cert } = selfSignedCertificate();
    caCert = cert;
    server = https.createServer({ key, cert }, handle);
    // A TLS proxy holds the TLS sockets; the raw TCP sockets under them are tracked too.
    server.on('secureConnection', (s: net.Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  } else {
    server = http.createServer(handle);
  }
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  server.on('clientError', (_e, s: net.Socket) => s.destroy());
  // No server-side idle limits: a stall lasts until the client's own timeout or stop().
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 0;
  server.headersTimeout = 0;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    endpoint: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    caCert,
    requests,
    addRule(rule) {
      const active = { rule, matched: 0, applied: 0, skip: rule.skip ?? 0, remaining: rule.count ?? 1 };
      rules.push(active);
      return {
        rule,
        get matched() { return active.matched; },
        get applied() { return active.applied; },
        get remaining() { return active.remaining; },
      };
    },
    clearRules() { rules.length = 0; },
    releaseStalled() {
      const n = stalled.size;
      for (const s of stalled) hardClose(s);
      stalled.clear();
      return n;
    },
    count(match) {
      return requests.filter((r) => matches(match, {
        method: r.method, path: r.path, params: new URLSearchParams(r.query), headers: r.headers,
      })).length;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      rules.length = 0;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const r of upstreamRequests) r.destroy();
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
