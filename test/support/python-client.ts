/**
 * Runs the Amazon S3 Encryption Client for Python (4.x) through test/support/python/s3ec_cli.py,
 * with the virtualenv that scripts/setup/17-python-s3ec.sh makes in .tools/python-s3ec, for the interop tests.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const PYTHON_S3EC_BIN = path.join(REPO_ROOT, '.tools', 'python-s3ec', 'bin', 'python');
const CLI = path.join(__dirname, 'python', 's3ec_cli.py');

export interface PythonS3ecOptions {
  /** moto's base URL; S3 and KMS share it. */
  readonly endpoint: string;
  readonly region?: string;
  readonly kmsKeyId: string;
  readonly context?: Record<string, string>;
  /** put: what the Python client writes, v3 (key-committing, its default) or v2. @default 'v3' */
  readonly format?: 'v2' | 'v3';
  /** get: refuse objects without key commitment (REQUIRE_ENCRYPT_REQUIRE_DECRYPT, the Python client's default policy). */
  readonly requireCommitment?: boolean;
  /** put: upload with the client's low-level multipart API in parts of this many bytes. */
  readonly multipartPartSize?: number;
  /** Kills the interpreter after this long. @default 60 000 */
  readonly timeoutMs?: number;
}

export interface PythonRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function pythonS3ecInterpreter(): string {
  if (!existsSync(PYTHON_S3EC_BIN)) {
    throw new Error(`The S3 Encryption Client for Python is not installed (${PYTHON_S3EC_BIN} is missing): run \`npx projen setup-tools\` first.`);
  }
  return PYTHON_S3EC_BIN;
}

/** Runs `put` or `get`; resolves with the exit code and output whatever the outcome. */
export function runPythonS3ec(command: 'put' | 'get', bucket: string, key: string, file: string, o: PythonS3ecOptions): Promise<PythonRun> {
  const args = [
    CLI, command, bucket, key, file,
    '--endpoint', o.endpoint, '--region', o.region ?? 'us-east-1', '--kms-key', o.kmsKeyId, '--format', o.format ?? 'v3',
  ];
  if (o.context && Object.keys(o.context).length > 0) {
    args.push('--context', Object.entries(o.context).map(([k, v]) => `${k}=${v}`).join(','));
  }
  if (o.requireCommitment) args.push('--require-commitment');
  if (o.multipartPartSize) args.push('--multipart-part-size', String(o.multipartPartSize));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    // moto accepts any credentials; real AWS configuration and instance metadata stay out of reach.
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    PYTHONIOENCODING: 'utf-8',
    PYTHONUTF8: '1',
    PYTHONDONTWRITEBYTECODE: '1',
  };
  const interpreter = pythonS3ecInterpreter();
  return new Promise((resolve) => {
    execFile(interpreter, args, { env, timeout: o.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && code === -1 ? `\n${err.message}` : '') });
    });
  });
}

/** Like runPythonS3ec, but throws with the Python client's own error output when it fails. */
export async function pythonS3ec(command: 'put' | 'get', bucket: string, key: string, file: string, o: PythonS3ecOptions): Promise<PythonRun> {
  const run = await runPythonS3ec(command, bucket, key, file, o);
  if (run.code !== 0) {
    throw new Error(`Python S3 Encryption Client ${command} s3://${bucket}/${key} failed (exit ${run.code}):\n${run.stderr}${run.stdout}`);
  }
  return run;
}
