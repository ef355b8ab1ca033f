/**
 * Runs the AWS CDK CLI (`cdk`) against a local AWS endpoint such as moto server, for integration tests.
 *
 *   const env = localAwsEnv(moto.endpoint);
 *   await runCdk(['bootstrap', 'aws://123456789012/us-east-1', '--app', assemblyDir], { env, timeoutMs: 180_000 });
 *
 * The CLI comes from node_modules when the project has it as a devDependency, and otherwise from the npm
 * registry at the pinned version through `npx`, so a fresh clone needs nothing else.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The CLI release line is separate from aws-cdk-lib's; any 2.1xxx CLI reads aws-cdk-lib 2.257 assemblies. */
export const CDK_CLI_VERSION = '2.1148.1';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const LOCAL_CLI = path.join(REPO_ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');

export interface CdkResult {
  readonly exitCode: number | null;
  readonly output: string;
  readonly durationMs: number;
}

export interface RunCdkOptions {
  /** The whole environment of the CLI process (see localAwsEnv). */
  readonly env: NodeJS.ProcessEnv;
  /** The CLI is killed (with its children) after this long. */
  readonly timeoutMs: number;
  readonly cwd?: string;
}

/** The command that starts the CLI: the project's own copy when it has one at the pinned version, else npx. */
export function cdkCommand(): { command: string; prefix: string[]; version: string } {
  if (existsSync(LOCAL_CLI)) {
    const version = JSON.parse(readFileSync(path.join(REPO_ROOT, 'node_modules', 'aws-cdk', 'package.json'), 'utf8')).version as string;
    if (version === CDK_CLI_VERSION) return { command: process.execPath, prefix: [LOCAL_CLI], version };
  }
  return { command: 'npx', prefix: ['--yes', `aws-cdk@${CDK_CLI_VERSION}`], version: CDK_CLI_VERSION };
}

/**
 * An environment in which the CLI and every AWS SDK under it talk only to `endpoint`, with dummy credentials,
 * and never read the developer's AWS profile or send telemetry.
 */
export function localAwsEnv(endpoint: string, region = 'us-east-1'): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    // A developer's profile, role or SSO settings would override the dummy credentials below.
    if (key.startsWith('AWS_') || key.startsWith('CDK_')) delete env[key];
  }
  return {
    ...env,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_CONFIG_FILE: path.join(REPO_ROOT, 'test', 'support', 'no-such-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(REPO_ROOT, 'test', 'support', 'no-such-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    CDK_DISABLE_VERSION_CHECK: 'true',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1',
    NO_COLOR: '1',
    FORCE_COLOR: '0',
  };
}

/** Runs `cdk <args>`; resolves with the exit code and everything it printed (never rejects on a non-zero exit). */
export function runCdk(args: string[], options: RunCdkOptions): Promise<CdkResult> {
  const { command, prefix } = cdkCommand();
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...prefix, ...args, '--no-notices', '--ci', '--no-color'], {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a timeout can end npx, the CLI and anything they started.
      detached: true,
    });
    let output = '';
    const append = (b: Buffer) => { output = (output + b.toString('utf8')).slice(-256 * 1024); };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    const timer = setTimeout(() => {
      output += `\n[cdk ${args[0]} killed after ${options.timeoutMs} ms]`;
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
    }, options.timeoutMs);
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, output, durationMs: Date.now() - started });
    });
  });
}
