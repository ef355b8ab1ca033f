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
import { existsSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { freePort, startProcess, waitUntilReady, withRetries } from './local-process';

export { freePort };

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
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  return withRetries(3, 'moto server', async () => {
    const port = await freePort();
    const proc = startProcess(binary, ['-H', '127.0.0.1', '-p', String(port)], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        // Keep the server from reading or writing real AWS configuration.
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_DEFAULT_REGION: 'us-east-1',
        MOTO_ALLOW_NONEXISTENT_REGION: 'true',
        ...options.env,
      },
    });
    await waitUntilReady(proc, `moto server on port ${port}`, startTimeoutMs, () => probe(port));
    return {
      endpoint: `http://127.0.0.1:${port}`,
      port,
      pid: proc.pid,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      logs: () => proc.logs(),
      stop: () => proc.stop(),
    };
  });
}
