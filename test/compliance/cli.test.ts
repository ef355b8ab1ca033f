import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { EncryptedBucket, EncryptionAuditTrail } from '../../src';
import { run as runIn } from './fixtures/run';
import { main } from '../../src/compliance/cli';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The command as users run it (the Control Tower controls narrowed per template), its SARIF validated. */
function run(args: string[]) {
  return runIn(dir, args);
}

function synth(name: string, build: (s: Stack) => void): string {
  const outdir = path.join(dir, name);
  const app = new App({ outdir });
  build(new Stack(app, 'S', { env: { account: '111111111111', region: 'us-east-1' } }));
  app.synth();
  return outdir;
}

test('the default cloud assembly: no finding; what AWS forbids on a log destination is reported as acknowledged; progress on stderr', () => {
  const out = synth('good', (s) => new EncryptedBucket(s, 'B', { auditTrail: new EncryptionAuditTrail(s, 'Audit'), replication: undefined }));
  const r = run(['check', out, '--packs', 'S3Encryption,AwsSolutions', '--json', 'good.json', '--sarif', 'good.sarif']);
  expect(r.err).toContain('[1/1]');
  expect(r.err).toContain('[1/1] good/S.template.json: Control Tower proactive controls');
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'good.json'), 'utf8'));
  expect(json.findings).toEqual([]);
  expect(r.code).toBe(0);
  // S3 User Guide, enable-server-access-logging.html: a destination takes SSE-S3 only, no Object
  // Lock, and must not log into itself. The log buckets carry cfn-guard's SuppressedRules for these.
  const forced = ['s3_bucket_default_encryption_kms_check', 's3_bucket_object_lock_enabled_check', 's3_bucket_logging_enabled_check'];
  expect(json.acknowledged.length).toBeGreaterThan(0);
  for (const f of json.acknowledged) {
    expect(forced).toContain(f.rule);
    expect(f.logicalId).toMatch(/AccessLogs/);
  }
  expect(r.out).toContain('acknowledged (not counted)');
  const sarif = JSON.parse(fs.readFileSync(path.join(dir, 'good.sarif'), 'utf8'));
  expect(sarif.version).toBe('2.1.0');
  // Acknowledged findings are in SARIF as suppressed results, so code scanning shows them closed.
  expect(sarif.runs[0].results).toHaveLength(json.acknowledged.length);
  for (const result of sarif.runs[0].results) expect(result.suppressions[0]).toMatchObject({ kind: 'external', status: 'accepted' });
});

test('a plain bucket template: exit 1, a table, JSON and SARIF with one result per finding', () => {
  const out = synth('bad', (s) => new s3.Bucket(s, 'Plain'));
  const template = fs.readdirSync(out).find((f) => f.endsWith('.template.json'))!;
  const r = run(['check', path.join('bad', template), '--json', 'bad.json', '--sarif', 'bad.sarif']);
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/S3Encryption\s+S3Encryption-S3BucketEncryptedWithCustomerManagedKey\s+S\.template\.json:Plain/);
  expect(r.out).toMatch(/ControlTower\s+s3_bucket_versioning_enabled_check/);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'bad.json'), 'utf8'));
  const checkers = new Set(json.findings.map((f: any) => f.checker));
  for (const c of ['S3Encryption', 'AwsSolutions', 'HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321', 'ControlTower']) expect(checkers).toContain(c);
  const sarif = JSON.parse(fs.readFileSync(path.join(dir, 'bad.sarif'), 'utf8'));
  expect(sarif.runs[0].results).toHaveLength(json.findings.length);
  const result = sarif.runs[0].results[0];
  expect(sarif.runs[0].tool.driver.rules[result.ruleIndex].id).toBe(result.ruleId);
  expect(result.locations[0].physicalLocation.artifactLocation.uri).toBe(`bad/${template}`);
  expect(r.out).toContain(`${json.findings.length} finding(s) in 1 template(s)`);
});

test('a hand-written template from another tool is loaded through cloudformation-include', () => {
  fs.writeFileSync(path.join(dir, 'raw.json'), JSON.stringify({
    Resources: { Logs: { Type: 'AWS::S3::Bucket', Properties: { BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } } } },
  }));
  const r = run(['check', 'raw.json', '--packs', 'S3Encryption', '--no-control-tower']);
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/S3Encryption-S3BucketEncryptedWithCustomerManagedKey\s+raw\.json:Logs/);
  expect(r.err).not.toContain('Control Tower');
});

test('in a hand-written template, a log destination named by Ref is checked as one S3 accepts', () => {
  fs.writeFileSync(path.join(dir, 'logs.json'), JSON.stringify({
    Resources: {
      Logs: { Type: 'AWS::S3::Bucket', Properties: { ObjectLockEnabled: true } },
      Data: { Type: 'AWS::S3::Bucket', Properties: { LoggingConfiguration: { DestinationBucketName: { Ref: 'Logs' } } } },
    },
  }));
  const r = run(['check', 'logs.json', '--packs', 'S3Encryption', '--no-control-tower']);
  expect(r.out).toMatch(/S3Encryption-S3AccessLogDestinationAccepted\s+logs\.json:Logs/);
  expect(r.out).not.toMatch(/S3Encryption-S3AccessLogDestinationAccepted\s+logs\.json:Data/);
  expect(r.out).not.toMatch(/S3Encryption-S3BucketEncryptedWithCustomerManagedKey\s+logs\.json:Logs/);
});

test.each([
  [['check'], /no template or cdk.out directory given/],
  [['check', 'raw.json', '--packs', 'Nope'], /unknown pack Nope; choose from S3Encryption/],
  [['check', 'raw.json', '--max-rotation-days', 'x'], /--max-rotation-days must be a whole number from 90 to 2560, got 'x'/],
  [['check', 'raw.json', '--json'], /--json needs a value/],
  [['lint', 'raw.json'], /unknown command lint/],
])('usage errors exit 2 with a clear message and the usage: %j', (args, message) => {
  const r = run(args as string[]);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(message);
  expect(r.err).toContain('usage: cdk-s3-encryption check');
});

test.each([
  [['check', 'missing.json'], /^cdk-s3-encryption: missing.json: no such file or directory$/],
  [['check', 'malformed.json'], /^cdk-s3-encryption: malformed.json: malformed JSON: /],
  [['check', 'noresources.json'], /^cdk-s3-encryption: noresources.json: is not a CloudFormation template: no top-level Resources object$/],
])('input errors exit 2 with one line naming the file: %j', (args, message) => {
  fs.writeFileSync(path.join(dir, 'malformed.json'), '{ "Resources": ');
  fs.writeFileSync(path.join(dir, 'noresources.json'), '{ "Outputs": {} }');
  const r = run(args as string[]);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(message);
  expect(r.err.split('\n')).toHaveLength(1);
  expect(r.out).toBe('');
});

test('without the Control Tower package the command says how to install it', () => {
  fs.writeFileSync(path.join(dir, 'raw2.json'), JSON.stringify({ Resources: { B: { Type: 'AWS::S3::Bucket' } } }));
  const err: string[] = [];
  const code = main(['check', 'raw2.json'], { out: () => undefined, err: (l) => err.push(l), cwd: dir, loadControlTower: () => undefined });
  expect(code).toBe(2);
  expect(err.join('\n')).toContain('npm install --save-dev @cdklabs/cdk-validator-cfnguard');
});
