/**
 * Starts a moto server (local AWS API stand-in) on 127.0.0.1 for integration tests.
 *
 * Usage:
 *   let moto: MotoServer;
 *   beforeAll(async () => { moto = await startMotoServer(); });
 *   afterAll(async () => { await moto?.stop(); });
 *   new S3Client({ endpoint: moto.endpoint, region: moto.region, credentials: moto.credentials, forcePathStyle: true });
 *
 * The server is killed by stop(), and also when the test process exits, so no stray process survives.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';

export interface MotoServer {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  readonly endpoint: string;
  readonly port: number;
  /** Process id of the server. */
  readonly pid: number;
  /** Region to use with the server's clients. */
  readonly region: string;
  /** Dummy credentials; moto accepts any. */
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Everything the server printed so far, for failure messages. */
  logs(): string;
  /** Stops the server and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

export interface MotoServerOptions {
  /** How long to wait for the server to answer, in ms. Default 60 000. */
  readonly startTimeoutMs?: number;
  /** Extra environment variables for the server process. */
  readonly env?: Record<string, string>;
  /** Path of the moto_server executable. Default: .tools/moto/bin/moto_server in this repository. */
  readonly binary?: string;
}

const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const MOTO_SERVER_BIN = path.join(REPO_ROOT, '.tools', 'moto', 'bin', 'moto_server');

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A crashed or interrupted test run must not leave servers behind.
  process.once('exit', () => {
    for (const child of live) {
      try { child.kill('SIGKILL'); } catch { /* already gone */ }
    }
  });
}

/** Asks the OS for a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not allocate a free port'))));
    });
  });
}

function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/moto-api/data.json', timeout: 2000 }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 500);
    });
    req.on('timeout', () => { req.destroy(); resolve(false); });
    req.on('error', () => resolve(false));
  });
}

export async function startMotoServer(options: MotoServerOptions = {}): Promise<MotoServer> {
  const binary = options.binary ?? MOTO_SERVER_BIN;
  if (!existsSync(binary)) {
    throw new Error(`moto is not installed (${binary} is missing): run \`npx projen setup-tools\` first.`);
  }
  installExitHook();
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;

  // A port can be taken between probing and binding; retry a few times with a new port.
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await launch(binary, port, startTimeoutMs, options.env ?? {});
    } catch (e) {
      lastError = e as Error;
    }
  }
  throw lastError ?? new Error('moto server did not start');
}

async function launch(binary: string, port: number, startTimeoutMs: number, env: Record<string, string>): Promise<MotoServer> {
  const child = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      // Keep the server from reading or writing real AWS configuration.
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_DEFAULT_REGION: 'us-east-1',
      MOTO_ALLOW_NONEXISTENT_REGION: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);

  let output = '';
  const append = (b: Buffer) => {
    // Bounded so a chatty server cannot grow test memory without limit.
    output = (output + b.toString('utf8')).slice(-64 * 1024);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);

  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => { exited = true; live.delete(child); resolve(); });
    child.once('error', (err) => { append(Buffer.from(String(err))); exited = true; live.delete(child); resolve(); });
  });

  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 5_000);
    await exitPromise;
    clearTimeout(timer);
  };

  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (exited) {
      throw new Error(`moto server exited before answering on port ${port}:\n${output}`);
    }
    if (await probe(port)) {
      const endpoint = `http://127.0.0.1:${port}`;
      return {
        endpoint,
        port,
        pid: child.pid ?? -1,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        logs: () => output,
        stop,
      };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`moto server did not answer on port ${port} within ${startTimeoutMs} ms:\n${output}`);
}
