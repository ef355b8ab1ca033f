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
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { freePort, startProcess, waitUntilReady, withRetries } from './local-process';

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

export function minioBinary(): string {
  const bin = existsSync(MINIO_PATH_FILE) ? readFileSync(MINIO_PATH_FILE, 'utf8').trim() : '';
  if (!bin || !existsSync(bin)) {
    throw new Error(`MinIO is not installed (${bin || MINIO_PATH_FILE} is missing): run \`npx projen setup-tools\` first.`);
  }
  return bin;
}

export async function startMinio(options: { startTimeoutMs?: number } = {}): Promise<MinioServer> {
  const bin = minioBinary();
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
  try {
    return await withRetries(3, 'MinIO', () => launch(bin, dir, caCert, options.startTimeoutMs ?? 60_000));
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function launch(bin: string, dir: string, caCert: string, startTimeoutMs: number): Promise<MinioServer> {
  const port = await freePort();
  const consolePort = await freePort();
  const accessKeyId = 'minio-test';
  const secretAccessKey = randomBytes(18).toString('base64url');
  const dataDir = path.join(dir, `data-${port}`);
  const proc = startProcess(bin, [
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
  });
  const agent = new https.Agent({ ca: caCert, keepAlive: false });
  try {
    await waitUntilReady(proc, `MinIO on port ${port}`, startTimeoutMs, () => ready(port, agent));
  } catch (e) {
    // Stop this attempt's process but keep the certificate directory for a retry.
    await proc.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  } finally {
    agent.destroy();
  }
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { endpoint: `https://127.0.0.1:${port}`, port, accessKeyId, secretAccessKey, caCert, logs: () => proc.logs(), stop };
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
