/**
 * Starts MinIO on 127.0.0.1 over TLS with a throwaway self-signed certificate, for the SSE-C tests:
 * unlike moto, MinIO really encrypts with the customer key and refuses reads without it.
 *
 *   let minio: MinioServer;
 *   beforeAll(async () => { minio = await startMinio(); });
 *   afterAll(async () => { await minio?.stop(); });
 *   new S3Client({ endpoint: minio.endpoint, region: 'us-east-1', forcePathStyle: true,
 *     credentials: minio, requestHandler: { httpsAgent: new https.Agent({ ca: minio.caCert }) } });
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { freePort } from './moto-server';

export interface MinioServer {
  /** e.g. https://127.0.0.1:41234 */
  readonly endpoint: string;
  readonly port: number;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** PEM of the self-signed certificate the server presents; trust it as a CA. */
  readonly caCert: string;
  /** Everything the server printed so far, for failure messages. */
  logs(): string;
  /** Stops the server, waits for it to exit and deletes its data. Safe to call twice. */
  stop(): Promise<void>;
}

const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** Written by scripts/setup/40-minio.sh, which owns the pinned version. */
const MINIO_PATH_FILE = path.join(REPO_ROOT, '.tools', 'minio', 'path');

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

export function minioBinary(): string {
  const bin = existsSync(MINIO_PATH_FILE) ? readFileSync(MINIO_PATH_FILE, 'utf8').trim() : '';
  if (!bin || !existsSync(bin)) {
    throw new Error(`MinIO is not installed (${bin || MINIO_PATH_FILE} is missing): run \`npx projen setup-tools\` first.`);
  }
  return bin;
}

export async function startMinio(options: { startTimeoutMs?: number } = {}): Promise<MinioServer> {
  const bin = minioBinary();
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // An interrupted run must not leave servers behind.
    process.once('exit', () => { for (const c of live) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'minio-test-'));
  const certsDir = path.join(dir, 'certs');
  mkdirSync(certsDir);
  // node:crypto cannot issue X.509 certificates; openssl can, and it is on every CI image.
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', path.join(certsDir, 'private.key'), '-out', path.join(certsDir, 'public.crt'),
  ], { stdio: 'pipe' });
  const caCert = readFileSync(path.join(certsDir, 'public.crt'), 'utf8');

  let lastError: Error | undefined;
  try {
    // A port can be taken between probing and binding; retry with new ports.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return await launch(bin, dir, caCert, options.startTimeoutMs ?? 60_000);
      } catch (e) {
        lastError = e as Error;
      }
    }
  } catch (e) {
    lastError = e as Error;
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError ?? new Error('MinIO did not start');
}

async function launch(bin: string, dir: string, caCert: string, startTimeoutMs: number): Promise<MinioServer> {
  const port = await freePort();
  const consolePort = await freePort();
  const accessKeyId = 'minio-test';
  const secretAccessKey = randomBytes(18).toString('base64url');
  const dataDir = path.join(dir, `data-${port}`);
  const child = spawn(bin, [
    'server', '--quiet', '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`,
    '--certs-dir', path.join(dir, 'certs'), dataDir,
  ], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      MINIO_ROOT_USER: accessKeyId,
      MINIO_ROOT_PASSWORD: secretAccessKey,
      MINIO_BROWSER: 'off',
      MINIO_UPDATE: 'off',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let output = '';
  const append = (b: Buffer) => { output = (output + b.toString('utf8')).slice(-64 * 1024); };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => { exited = true; live.delete(child); resolve(); });
    child.once('error', (err) => { append(Buffer.from(String(err))); exited = true; live.delete(child); resolve(); });
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 5_000);
      await exitPromise;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const agent = new https.Agent({ ca: caCert, keepAlive: false });
  const deadline = Date.now() + startTimeoutMs;
  try {
    while (Date.now() < deadline) {
      if (exited) throw new Error(`MinIO exited before answering on port ${port}:\n${output}`);
      if (await ready(port, agent)) {
        return { endpoint: `https://127.0.0.1:${port}`, port, accessKeyId, secretAccessKey, caCert, logs: () => output, stop };
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`MinIO did not become ready on port ${port} within ${startTimeoutMs} ms:\n${output}`);
  } catch (e) {
    // Kill this attempt's process but keep the certificate directory for a retry.
    if (!exited) { child.kill('SIGKILL'); await exitPromise; }
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  } finally {
    agent.destroy();
  }
}

function ready(port: number, agent: https.Agent): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/minio/health/ready', agent, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => { req.destroy(); resolve(false); });
    req.on('error', () => resolve(false));
  });
}

/** An S3 client for a running MinIO: path-style, its credentials, trusting its self-signed certificate. */
export function minioS3Client(minio: MinioServer, maxSockets?: number): S3Client {
  return new S3Client({
    endpoint: minio.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey },
    requestHandler: { httpsAgent: new https.Agent({ ca: minio.caCert, keepAlive: maxSockets !== undefined, maxSockets }) },
  });
}
