/**
 * A change of a bucket's default encryption is told at synth: S3 applies it to new objects only
 * (update-sse-encryption.html), so existing objects need a ReencryptionJob.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { EncryptedBucket, EncryptedBucketProps, ObjectEncryption } from '../../src';

const ENV = { account: '111111111111', region: 'us-east-1' };
const KEY_ARN = 'arn:aws:kms:us-east-1:111111111111:key/0b7f3c1e-1111-4e5e-9d1a-000000000001';

/** Synthesizes the app into `outdir` the way `cdk synth` does, and returns the info messages of the bucket. */
function synth(outdir: string, props: (stack: Stack) => EncryptedBucketProps): string[] {
  const app = new App({ outdir });
  const stack = new Stack(app, 'Data', { env: ENV });
  new EncryptedBucket(stack, 'Bucket', props(stack));
  const assembly = app.synth();
  return assembly.getStackArtifact(stack.artifactId).messages
    .filter((m) => m.level === 'info' && m.id === '/Data/Bucket').map((m) => String(m.entry.data));
}

describe('a change of default encryption is told at synth', () => {
  let outdir: string;
  beforeEach(() => { outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'encryption-change-')); });
  afterEach(() => fs.rmSync(outdir, { recursive: true, force: true }));

  const keyOf = (stack: Stack) => kms.Key.fromKeyArn(stack, 'Imported', KEY_ARN);
  test.each([
    ['its own key to an imported key', () => ({}), (s: Stack) => ({ encryptionKey: keyOf(s) }), 'SSE-KMS under the key BucketKey',
      `SSE-KMS under ${KEY_ARN}, S3 Bucket Keys on`],
    ['SSE-KMS to DSSE-KMS', () => ({}), () => ({ objectEncryption: ObjectEncryption.DSSE_KMS }), 'S3 Bucket Keys on -> DSSE-KMS under the key BucketKey', ''],
    ['SSE-KMS to SSE-C', () => ({}), () => ({ objectEncryption: ObjectEncryption.SSE_C }), 'S3 Bucket Keys on -> SSE-C under the key BucketKey', ''],
    ['S3 Bucket Keys turned off', () => ({}), () => ({ bucketKeyEnabled: false }), 'S3 Bucket Keys on -> SSE-KMS under the key BucketKey', 'S3 Bucket Keys off'],
  ] as [string, (s: Stack) => EncryptedBucketProps, (s: Stack) => EncryptedBucketProps, string, string][])('%s', (_name, before, after, from, to) => {
    expect(synth(outdir, before)).toEqual([]);
    const [message, ...rest] = synth(outdir, after);
    expect(rest).toEqual([]);
    expect(message).toMatch(new RegExp(`^The default encryption changed since the last synth in ${outdir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    expect(message).toContain(from);
    expect(message).toContain(to);
    expect(message).toContain('S3 applies it to new writes only; existing objects keep the encryption they were written with. Re-encrypt them with a ReencryptionJob');
    // Told once: the next synth compares with the template it just wrote.
    expect(synth(outdir, after)).toEqual([]);
  });

  test('nothing is said on a first synth, or when the encryption is unchanged', () => {
    expect(synth(outdir, () => ({}))).toEqual([]);
    expect(synth(outdir, () => ({}))).toEqual([]);
  });
});

describe('the template the last synth left', () => {
  let outdir: string;
  beforeEach(() => { outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'encryption-change-')); });
  afterEach(() => fs.rmSync(outdir, { recursive: true, force: true }));
  const logicalId = () => {
    const stack = new Stack(new App(), 'Data', { env: ENV });
    return stack.getLogicalId(new EncryptedBucket(stack, 'Bucket').node.defaultChild as s3.CfnBucket);
  };
  const write = (template: string) => fs.writeFileSync(path.join(outdir, 'Data.template.json'), template);

  test('an s3.Bucket with SSE-S3 replaced by an EncryptedBucket of the same id: told in full', () => {
    write(JSON.stringify({ Resources: { [logicalId()]: { Type: 'AWS::S3::Bucket', Properties: { BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } } } } }));
    const [message, ...rest] = synth(outdir, () => ({}));
    expect(rest).toEqual([]);
    expect(message.replace(/BucketKey[0-9A-F]{8}/, 'BucketKey<hash>')).toBe(
      `The default encryption changed since the last synth in ${outdir}: SSE-S3 under S3's own key -> SSE-KMS under the key BucketKey<hash> of this stack, S3 Bucket Keys on. `
      + 'S3 applies it to new writes only; existing objects keep the encryption they were written with. Re-encrypt them with a '
      + 'ReencryptionJob (in place with S3 UpdateObjectEncryption from SSE-S3 or SSE-KMS to SSE-KMS, by copy otherwise), or '
      + 'rekeyPrefix from cdk-s3-encryption/client for SSE-C objects; see docs/reencryption.md.',
    );
  });

  test.each([
    ['not JSON', () => '{ "Resources": '],
    ['no Resources', () => '{}'],
    ['no such bucket', () => JSON.stringify({ Resources: {} })],
    ['the bucket without properties', () => JSON.stringify({ Resources: { [logicalId()]: { Type: 'AWS::S3::Bucket' } } })],
    ['the bucket without encryption', () => JSON.stringify({ Resources: { [logicalId()]: { Type: 'AWS::S3::Bucket', Properties: {} } } })],
    ['an empty rule list', () => JSON.stringify({ Resources: { [logicalId()]: { Type: 'AWS::S3::Bucket', Properties: { BucketEncryption: { ServerSideEncryptionConfiguration: [] } } } } })],
  ])('%s: nothing is said, and synth goes on', (_name, template) => {
    write(template());
    expect(synth(outdir, () => ({}))).toEqual([]);
  });
});
