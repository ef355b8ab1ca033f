/**
 * The package as users get it. The tarball that `npm pack` makes of this repository (after compile
 * and bundle, which the build runs before the tests) is installed with its peers into a fresh app
 * outside the repository, at the versions this repository tests; then the README's quick start is
 * compiled and synthesized, `npx cdk-s3-encryption check` runs on it, and the client is loaded from
 * CommonJS, ESM and TypeScript under every moduleResolution. A second app installs the tarball
 * without the AWS SDK, as a user who skipped it would.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');
const version = (name: string) => JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`, { paths: [root] }), 'utf-8')).version;
// TypeScript 5 as most CDK apps have it (TypeScript 6 deprecates moduleResolution node10).
const APP_TYPESCRIPT = '5.9.3';

function run(cwd: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf-8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}
function mustRun(cwd: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = run(cwd, command, args, env);
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.output.slice(-4000)}`);
  return r;
}

let tmp: string;
let tarball: string;
let packed: { size: number; unpackedSize: number; files: { path: string; size: number }[] };
let app: string;

beforeAll(() => {
  for (const built of ['lib/index.js', 'lib/client/index.js', 'assets/keys/sse-c-rotation.lambda/index.js']) {
    if (!fs.existsSync(path.join(root, built))) throw new Error(`${built} is missing: run \`npx projen compile && npx projen bundle\` (the build does) before this test`);
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-s3-encryption-package-'));
  const pack = mustRun(root, 'npm', ['pack', '--json', '--pack-destination', tmp]);
  packed = JSON.parse(pack.stdout)[0];
  tarball = path.join(tmp, (packed as any).filename);

  app = path.join(tmp, 'app');
  fs.mkdirSync(path.join(app, 'bin'), { recursive: true });
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  const peers = ['aws-cdk-lib', 'constructs', 'cdk-nag', '@cdklabs/cdk-validator-cfnguard', '@aws-sdk/client-s3', '@aws-sdk/client-kms', '@types/node'];
  mustRun(app, 'npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball,
    ...peers.map((p) => `${p}@${version(p)}`), `typescript@${APP_TYPESCRIPT}`]);
}, 600_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the tarball', () => {
  const paths = () => packed.files.map((f) => f.path);

  test('ships the compiled library, the client, the bundled Lambda handler, the jsii assembly and the docs', () => {
    expect(paths()).toEqual(expect.arrayContaining([
      'lib/index.js', 'lib/index.d.ts', 'lib/client/index.js', 'lib/client/index.d.ts', 'lib/compliance/cli.js',
      'assets/keys/sse-c-rotation.lambda/index.js', '.jsii', 'README.md', 'API.md', 'LICENSE', 'package.json',
    ]));
  });

  test('and nothing else: no sources, tests, tools, unused compiled handlers or internal notes', () => {
    const unexpected = paths().filter((p) => /^(src|test|examples|bench|scripts|stryker|\.tools|reports)\//.test(p) || /\.lambda\.(js|d\.ts)$/.test(p) && p.startsWith('lib/') || /\.ts$/.test(p) && !p.endsWith('.d.ts'));
    expect(unexpected).toEqual([]);
    // Every document shipped is one the README links to.
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf-8');
    const docs = paths().filter((p) => p.startsWith('docs/'));
    expect(docs.filter((d) => !readme.includes(`(${d})`))).toEqual([]);
  });

  test('its size', () => {
    // Printed for the record (the note of each change that moves it says why); bounded so that a
    // stray directory in the package fails here.
    process.stdout.write(`package: ${packed.files.length} files, ${(packed.size / 1024).toFixed(0)} KiB packed, ${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked\n`);
    expect(packed.size).toBeLessThan(1024 * 1024);
    expect(packed.unpackedSize).toBeLessThan(4 * 1024 * 1024);
  });
});

describe('the README quick start in a fresh app', () => {
  test('compiles, synthesizes, and `npx cdk-s3-encryption check` reports what the README says it keeps', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf-8');
    const quickStart = /```ts[^\n]*\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## Quick start')))![1];
    fs.writeFileSync(path.join(app, 'bin', 'app.ts'), quickStart);
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'commonjs', moduleResolution: 'node', strict: true, skipLibCheck: true, outDir: 'build' },
      include: ['bin'],
    }));
    mustRun(app, path.join(app, 'node_modules', '.bin', 'tsc'), ['-p', '.']);
    // An app run by the CDK CLI synthesizes on exit when CDK_OUTDIR is set.
    mustRun(app, process.execPath, ['build/app.js'], { CDK_OUTDIR: path.join(app, 'cdk.out') });
    const template = JSON.parse(fs.readFileSync(path.join(app, 'cdk.out', 'Storage.template.json'), 'utf-8'));
    const buckets = Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::S3::Bucket');
    expect(buckets.length).toBeGreaterThan(0);

    const check = run(app, path.join(app, 'node_modules', '.bin', 'cdk-s3-encryption'), ['check', 'cdk.out', '--json', 'check.json']);
    // Exit 1: findings; 2 would be a checker or input error.
    expect({ status: check.status, summary: /(\d+) finding\(s\) in 1 template\(s\)/.test(check.stdout) }).toEqual({ status: 1, summary: true });
    const findings: any[] = JSON.parse(fs.readFileSync(path.join(app, 'check.json'), 'utf-8')).findings;
    const byRule = new Map<string, number>();
    for (const f of findings) byRule.set(f.rule.replace(/\[.*$/, ''), (byRule.get(f.rule.replace(/\[.*$/, '')) ?? 0) + 1);
    expect(Object.fromEntries([...byRule].sort())).toEqual(QUICK_START_FINDINGS);
  });
});

/**
 * What the quick start keeps, as the README's "What the quick start's check reports" says: HIPAA,
 * NIST and PCI ask for a replica of each of its 4 buckets in another Region (`replication`), and
 * the rest is about the Reader role the quick start writes: an inline default policy (3 packs'
 * IAMNoInlinePolicy) whose object grant names the objects ARN `<bucket>/*` (1 AwsSolutions-IAM5;
 * the grant names its actions one by one, so no action wildcard is flagged).
 */
const QUICK_START_FINDINGS: Record<string, number> = {
  'AwsSolutions-IAM5': 1,
  'HIPAA.Security-IAMNoInlinePolicy': 1,
  'HIPAA.Security-S3BucketReplicationEnabled': 4,
  'NIST.800.53.R5-IAMNoInlinePolicy': 1,
  'NIST.800.53.R5-S3BucketReplicationEnabled': 4,
  'PCI.DSS.321-IAMNoInlinePolicy': 1,
  'PCI.DSS.321-S3BucketReplicationEnabled': 4,
};

describe('the client, as installed', () => {
  test('loads from CommonJS and from ESM', () => {
    const cjs = mustRun(app, process.execPath, ['-e', "const c = require('cdk-s3-encryption/client'); console.log(typeof c.S3EncryptionClient, typeof c.SseCustomerKey)"]);
    expect(cjs.stdout.trim()).toBe('function function');
    fs.writeFileSync(path.join(app, 'esm.mjs'), [
      "import { S3EncryptionClient, SseCustomerKey } from 'cdk-s3-encryption/client';",
      "import lib from 'cdk-s3-encryption';",
      'console.log(typeof S3EncryptionClient, typeof SseCustomerKey, typeof lib.EncryptedBucket);',
    ].join('\n'));
    expect(mustRun(app, process.execPath, ['esm.mjs']).stdout.trim()).toBe('function function function');
  });

  test.each([
    ['commonjs', 'node'],
    ['node16', 'node16'],
    ['nodenext', 'nodenext'],
    ['esnext', 'bundler'],
  ])('type-checks with module %s, moduleResolution %s', (module, moduleResolution) => {
    fs.mkdirSync(path.join(app, 'tc'), { recursive: true });
    fs.writeFileSync(path.join(app, 'tc', 'use.ts'), [
      "import { EncryptedBucket } from 'cdk-s3-encryption';",
      "import { S3EncryptionClient, SseCustomerKey } from 'cdk-s3-encryption/client';",
      'export const used: [typeof EncryptedBucket, typeof S3EncryptionClient, typeof SseCustomerKey] = [EncryptedBucket, S3EncryptionClient, SseCustomerKey];',
    ].join('\n'));
    const tsc = run(app, path.join(app, 'node_modules', '.bin', 'tsc'),
      ['--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', module, '--moduleResolution', moduleResolution, 'tc/use.ts']);
    expect({ status: tsc.status, output: tsc.output }).toEqual({ status: 0, output: '' });
  });

  test('the README\'s client snippet type-checks against the installed package (Node-only, so not a jsii-rosetta snippet)', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf-8');
    const snippet = /```js\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## The runtime client')))![1];
    fs.mkdirSync(path.join(app, 'tc'), { recursive: true });
    // The names the snippet takes from its surroundings: the SDK clients and the object's coordinates.
    fs.writeFileSync(path.join(app, 'tc', 'client-snippet.mts'), [
      "import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';",
      "import { KMSClient } from '@aws-sdk/client-kms';",
      'declare const s3: S3Client;',
      'declare const kms: KMSClient;',
      'declare const Bucket: string;',
      'declare const Key: string;',
      'declare const Body: Buffer;',
      snippet,
    ].join('\n'));
    const tsc = run(app, path.join(app, 'node_modules', '.bin', 'tsc'),
      ['--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', 'tc/client-snippet.mts']);
    expect({ status: tsc.status, output: tsc.output }).toEqual({ status: 0, output: '' });
  });

  test('startReencryptionJob names @aws-sdk/client-s3-control when it is missing, and loads it by itself once installed', () => {
    const start = (file: string) => {
      fs.writeFileSync(path.join(app, file), [
        "import { startReencryptionJob } from 'cdk-s3-encryption/client';",
        'const params = { accountId: "111111111111", region: "us-east-1", roleArn: "arn:aws:iam::111111111111:role/r", bucketArn: "arn:aws:s3:::b",',
        '  bucketName: "b", keyPrefix: "", targetEncryption: "SSE_KMS", targetKeyArn: "arn:aws:kms:us-east-1:111111111111:key/k", bucketKeyEnabled: true,',
        '  operation: "UPDATE_OBJECT_ENCRYPTION", source: "SSE_S3", sourceKeyArns: [], reportBucketArn: "arn:aws:s3:::l", reportPrefix: "r",',
        '  reportAllTasks: false, manifestBucketArn: "arn:aws:s3:::l", manifestPrefix: "m", inventoryManifestPrefix: "i/", priority: 10 };',
        'const client = { send: async (c) => { console.log(c.constructor.name, Object.keys(c.input.Operation).join()); return { JobId: "j" }; } };',
        'startReencryptionJob(client, params).then((jobs) => console.log(jobs.length), (e) => { console.log(e.message); process.exitCode = 3; });',
      ].join('\n'));
      return run(app, process.execPath, [file]);
    };
    const missing = start('start-missing.mjs');
    expect({ status: missing.status, out: missing.stdout }).toEqual({
      status: 3,
      out: expect.stringContaining(
        'startReencryptionJob needs @aws-sdk/client-s3-control (npm install @aws-sdk/client-s3-control) or the createJobCommand option'),
    });
    mustRun(app, 'npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', '@aws-sdk/client-s3-control@^3']);
    const installed = start('start-installed.mjs');
    expect({ status: installed.status, out: installed.stdout.trim() }).toEqual({ status: 0, out: 'CreateJobCommand S3UpdateObjectEncryption\n1' });
  });

  test('without the AWS SDK installed, loading it names the packages and the command', () => {
    const bare = path.join(tmp, 'no-sdk');
    fs.mkdirSync(bare);
    fs.writeFileSync(path.join(bare, 'package.json'), JSON.stringify({ name: 'no-sdk', private: true }));
    // --legacy-peer-deps: npm installs no peers, as with npm 6 or a peer left out on purpose.
    mustRun(bare, 'npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', '--legacy-peer-deps', tarball]);
    const r = run(bare, process.execPath, ['-e', "require('cdk-s3-encryption/client')"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Error: cdk-s3-encryption/client needs the AWS SDK for JavaScript v3, and @aws-sdk/client-s3 and @aws-sdk/client-kms are not installed. '
      + 'Install them beside cdk-s3-encryption: npm install @aws-sdk/client-s3 @aws-sdk/client-kms');
  });
});
