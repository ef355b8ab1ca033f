import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, NestedStack, Stack, Stage, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { readJson, run, scratch } from './fixtures/run';

const dir = scratch('cli-assembly-');
const RULE = 'S3Encryption-S3BucketEncryptedWithCustomerManagedKey';
const FAST = ['--packs', 'S3Encryption', '--no-control-tower'];

/** An app with a top-level stack (and a nested stack in it) and a Stage holding another stack. */
function mixedApp(outdir: string, opts: { acknowledge?: boolean } = {}) {
  const app = new App({ outdir });
  const top = new Stack(app, 'Top');
  const topBucket = new s3.Bucket(top, 'TopBucket');
  if (opts.acknowledge) Validations.of(topBucket).acknowledge({ id: RULE, reason: 'Replaced next sprint' } as any);
  new s3.Bucket(new NestedStack(top, 'Inner'), 'NestedBucket');
  new s3.Bucket(new Stack(new Stage(app, 'Prod'), 'Data'), 'StageBucket');
  app.synth();
}

function flagged(json: any): string[] {
  return json.findings.filter((f: any) => f.rule === RULE).map((f: any) => f.logicalId.replace(/[0-9A-F]{8}$/, '')).sort();
}

test('a cloud assembly is read through its manifest: top-level stacks, stacks of Stages and nested stack templates', () => {
  mixedApp(path.join(dir, 'mixed'));
  const r = run(dir, ['check', 'mixed', ...FAST, '--json', 'mixed.json']);
  expect(r.code).toBe(1);
  const json = readJson(path.join(dir, 'mixed.json'));
  expect(flagged(json)).toEqual(['NestedBucket', 'StageBucket', 'TopBucket']);
  expect(json.templates).toEqual(expect.arrayContaining([
    'mixed/Top.template.json',
    expect.stringMatching(/^mixed\/TopInner[0-9A-F]{8}\.nested\.template\.json$/),
    expect.stringMatching(/^mixed\/assembly-Prod\/ProdData[0-9A-F]{8}\.template\.json$/),
  ]));
  expect(json.templates).toHaveLength(3);
  expect(r.err).toMatch(/\[3\/3\] mixed\/assembly-Prod\/ProdData[0-9A-F]{8}\.template\.json: cdk-nag S3Encryption/);
});

test('an app whose only stacks are inside a Stage is checked (it used to exit 2)', () => {
  const app = new App({ outdir: path.join(dir, 'stageonly') });
  new s3.Bucket(new Stack(new Stage(app, 'Dev'), 'Only'), 'StageBucket');
  app.synth();
  const r = run(dir, ['check', 'stageonly', ...FAST, '--json', 'stageonly.json']);
  expect(r.code).toBe(1);
  expect(flagged(readJson(path.join(dir, 'stageonly.json')))).toEqual(['StageBucket']);
});

test('a template left in cdk.out by an earlier synth is not read; the same folder without manifest is read by glob', () => {
  const outdir = path.join(dir, 'stale');
  const app = new App({ outdir });
  new s3.Bucket(new Stack(app, 'Current'), 'CurrentBucket');
  app.synth();
  fs.writeFileSync(path.join(outdir, 'Removed.template.json'), JSON.stringify({ Resources: { RemovedBucket: { Type: 'AWS::S3::Bucket' } } }));
  const r = run(dir, ['check', 'stale', ...FAST, '--json', 'stale.json']);
  const json = readJson(path.join(dir, 'stale.json'));
  expect(json.templates).toEqual(['stale/Current.template.json']);
  expect(flagged(json)).toEqual(['CurrentBucket']);
  expect(r.out).not.toContain('RemovedBucket');

  // A plain folder of templates (no manifest.json) keeps working: every *.template.json is read.
  const plain = path.join(dir, 'plain');
  fs.mkdirSync(plain);
  for (const f of ['Current.template.json', 'Removed.template.json']) fs.copyFileSync(path.join(outdir, f), path.join(plain, f));
  const p = run(dir, ['check', 'plain', ...FAST, '--json', 'plain.json']);
  expect(p.code).toBe(1);
  expect(flagged(readJson(path.join(dir, 'plain.json')))).toEqual(['CurrentBucket', 'RemovedBucket']);
});

test('Validations.of(...).acknowledge recorded in the assembly is shown as acknowledged with its reason, not counted', () => {
  mixedApp(path.join(dir, 'acked'), { acknowledge: true });
  const r = run(dir, ['check', 'acked', ...FAST, '--json', 'acked.json']);
  const json = readJson(path.join(dir, 'acked.json'));
  expect(flagged(json)).toEqual(['NestedBucket', 'StageBucket']);
  expect(json.acknowledged).toEqual([expect.objectContaining({ rule: RULE, logicalId: expect.stringMatching(/^TopBucket/), reason: 'Replaced next sprint' })]);
  expect(r.out).toMatch(/acknowledged\s+S3Encryption\s+S3Encryption-S3BucketEncryptedWithCustomerManagedKey\s+Top\.template\.json:TopBucket[0-9A-F]{8}\s+reason: Replaced next sprint/);
});

test('a cloud assembly whose manifest cannot be read exits 2 naming manifest.json', () => {
  const broken = path.join(dir, 'broken');
  fs.mkdirSync(broken);
  fs.writeFileSync(path.join(broken, 'manifest.json'), '{ "version": ');
  const r = run(dir, ['check', 'broken', ...FAST]);
  expect(r.code).toBe(2);
  expect(r.errLines).toEqual([expect.stringMatching(/^cdk-s3-encryption: broken\/manifest\.json: cannot be read as a cloud assembly manifest: /)]);
});

test('a manifest that names a missing template exits 2 naming that template', () => {
  const outdir = path.join(dir, 'missing');
  const app = new App({ outdir });
  new s3.Bucket(new Stack(app, 'Gone'), 'B');
  app.synth();
  fs.rmSync(path.join(outdir, 'Gone.template.json'));
  const r = run(dir, ['check', 'missing', ...FAST]);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/missing\/Gone\.template\.json: no such file or directory/);
});
