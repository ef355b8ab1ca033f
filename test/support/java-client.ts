/**
 * Runs the Amazon S3 Encryption Client for Java (4.x) through the small CLI that
 * scripts/setup/30-java.sh compiles into .tools/java, for the interop tests.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const CLASSPATH_FILE = path.join(REPO_ROOT, '.tools', 'java', 'classpath');
const MAIN_CLASS = 'dev.cdks3encryption.interop.S3ecCli';
const LEGACY_MAIN_CLASS = 'dev.cdks3encryption.interop.LegacyV1Cli';

export interface JavaS3ecOptions {
  /** moto's base URL; S3 and KMS share it. */
  readonly endpoint: string;
  readonly kmsKeyId: string;
  readonly context?: Record<string, string>;
  /** What the Java client writes: v3 (key-committing, its default) or v2. @default 'v3' */
  readonly format?: 'v2' | 'v3';
  /** Reads refuse objects without key commitment (REQUIRE_ENCRYPT_REQUIRE_DECRYPT). */
  readonly requireCommitment?: boolean;
  /** put: write KEY.instruction with the key material instead of object metadata. */
  readonly instructionFile?: boolean;
  /** put: upload with the client's multipart API in parts of this many bytes (a multiple of 16). */
  readonly multipartPartSize?: number;
  /** Kills the JVM after this long. @default 90 000 */
  readonly timeoutMs?: number;
}

export interface JavaRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function javaClasspath(): string {
  if (!existsSync(CLASSPATH_FILE)) {
    throw new Error(`The Java interop CLI is not built (${CLASSPATH_FILE} is missing): run \`npx projen setup-tools\` first.`);
  }
  return readFileSync(CLASSPATH_FILE, 'utf8').trim();
}

/** Runs `put` or `get`; resolves with the exit code and output whatever the outcome. */
export function runJavaS3ec(command: 'put' | 'get', bucket: string, key: string, file: string, o: JavaS3ecOptions): Promise<JavaRun> {
  const args = [
    // A small heap and tiered compilation cut JVM start-up, which dominates these short runs.
    '-Xmx512m', '-XX:TieredStopAtLevel=1', '-Xshare:auto',
    '-cp', javaClasspath(), MAIN_CLASS,
    command, bucket, key, file,
    '--endpoint', o.endpoint, '--kms-key', o.kmsKeyId, '--format', o.format ?? 'v3',
  ];
  if (o.context && Object.keys(o.context).length > 0) {
    args.push('--context', Object.entries(o.context).map(([k, v]) => `${k}=${v}`).join(','));
  }
  if (o.requireCommitment) args.push('--require-commitment');
  if (o.instructionFile) args.push('--instruction-file');
  if (o.multipartPartSize) args.push('--multipart-part-size', String(o.multipartPartSize));
  return exec(args, o.timeoutMs);
}

function exec(args: string[], timeoutMs: number | undefined): Promise<JavaRun> {
  return new Promise((resolve) => {
    execFile('java', args, { timeout: timeoutMs ?? 90_000, maxBuffer: 16 * 1024 * 1024, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && code === -1 ? `\n${err.message}` : '') });
    });
  });
}

/**
 * Writes the legacy V1 format (AES-CBC, `kms` wrapping, context in x-amz-matdesc) with the retired
 * AWS SDK for Java v1 encryption client in EncryptionOnly mode.
 */
export async function javaLegacyV1Put(bucket: string, key: string, file: string, o: Pick<JavaS3ecOptions, 'endpoint' | 'kmsKeyId' | 'context' | 'timeoutMs'>): Promise<JavaRun> {
  const args = [
    '-Xmx512m', '-XX:TieredStopAtLevel=1', '-Daws.java.v1.disableDeprecationAnnouncement=true',
    '-cp', javaClasspath(), LEGACY_MAIN_CLASS,
    'put', bucket, key, file, '--endpoint', o.endpoint, '--kms-key', o.kmsKeyId,
  ];
  if (o.context && Object.keys(o.context).length > 0) {
    args.push('--context', Object.entries(o.context).map(([k, v]) => `${k}=${v}`).join(','));
  }
  const run = await exec(args, o.timeoutMs);
  if (run.code !== 0) throw new Error(`Java SDK v1 encryption client put s3://${bucket}/${key} failed (exit ${run.code}):\n${run.stderr}${run.stdout}`);
  return run;
}

/** Like runJavaS3ec, but throws with the Java client's own error output when it fails. */
export async function javaS3ec(command: 'put' | 'get', bucket: string, key: string, file: string, o: JavaS3ecOptions): Promise<JavaRun> {
  const run = await runJavaS3ec(command, bucket, key, file, o);
  if (run.code !== 0) {
    throw new Error(`Java S3 Encryption Client ${command} s3://${bucket}/${key} failed (exit ${run.code}):\n${run.stderr}${run.stdout}`);
  }
  return run;
}
