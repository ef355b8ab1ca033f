/**
 * Access matrix of ReencryptionJob: what the S3 Batch Operations role does to copy objects onto
 * themselves under the bucket's current key (read, KMS decrypt with the old key, write, KMS
 * generate with the new key), the manifest and report it reads and writes, and the attacks: the
 * role outside its bucket, its prefix or the keys it was given, each decided by the IAM engine.
 *
 * Context keys are the ones each service sends, from its guide:
 * - S3 User Guide, batch-ops-copy-object.html and batch-ops-iam-role-policies.html: the job calls
 *   S3 as its role: GetObject(Version)/GetObjectTagging on the source, PutObject (a CopyObject,
 *   `s3:ObjectCreationOperation` true) with the SSE headers of the job (`SSEAwsKmsKeyId`,
 *   `BucketKeyEnabled`), and reads its manifest and writes its report and generated manifest.
 * - S3 User Guide, UsingKMSEncryption.html and bucket-key.html: S3 calls KMS as the caller with
 *   kms:ViaService s3.<region>.amazonaws.com and `aws:s3:arn` = the bucket ARN with an S3 Bucket
 *   Key, the object ARN without.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { EncryptedBucket, ReencryptionJob, ReencryptionOperation, ReencryptionSource } from '../../src';
import { AccessModel, ACCOUNT, OTHER_ACCOUNT, REGION, ROOT } from '../support/access-model';
import { Decision } from '../support/iam-engine';
import { s3UpdateObjectEncryption, s3Write } from '../support/s3-flows';

const app = new App({ context: { 'aws:cdk:enable-path-metadata': true } });
const stack = new Stack(app, 'Test', { env: { account: ACCOUNT, region: REGION } });
const data = new EncryptedBucket(stack, 'Data');
const oldKey = new kms.Key(stack, 'OldKey', { enableKeyRotation: true });
const COPY = ReencryptionOperation.COPY;
const job = new ReencryptionJob(stack, 'Reencrypt', { bucket: data, source: ReencryptionSource.SSE_KMS, sourceKeys: [oldKey], operation: COPY });
const archive = new EncryptedBucket(stack, 'Archive');
const archiveJob = new ReencryptionJob(stack, 'ArchiveOnly', { bucket: archive, source: ReencryptionSource.SSE_S3, keyPrefix: 'archive/', operation: COPY });
// In place: one job from another key of the account, one from SSE-S3 under a prefix.
const moved = new EncryptedBucket(stack, 'Moved');
const movedOldKey = new kms.Key(stack, 'MovedOldKey', { enableKeyRotation: true });
const updateJob = new ReencryptionJob(stack, 'InPlace', { bucket: moved, source: ReencryptionSource.SSE_KMS, sourceKeys: [movedOldKey] });
const sseS3Job = new ReencryptionJob(stack, 'InPlaceFromSseS3', { bucket: archive, source: ReencryptionSource.SSE_S3, keyPrefix: 'legacy/' });
const model = AccessModel.of(app);

const bucket = model.bucket('Test/Data/Resource');
const other = model.bucket('Test/Archive/Resource');
const logs = model.bucket('Test/S3EncryptionShared/AccessLogs/Resource');
const TARGET_KEY = model.keyArn('Test/Data/Key/Resource');
const OLD_KEY = model.keyArn('Test/OldKey/Resource');
const OTHER_KEY = model.keyArn('Test/Archive/Key/Resource');
const roleResource = model.one('AWS::IAM::Role', 'Test/Reencrypt/Role/Resource');
const ROLE = roleResource.arn;
const ARCHIVE_ROLE = model.roleArn('Test/ArchiveOnly/Role/Resource');
const resolved = (s: string) => String(stack.resolve(s));
const REPORT = `${logs.arn}/${resolved(job.reportPrefix)}/job-1234/results/abc.csv`;
const MANIFEST = `${logs.arn}/${resolved(job.manifestPrefix)}/job-1234/manifest.json`;
// S3 User Guide, storage-inventory-location.html: destination-prefix/source-bucket/config-ID/YYYY-MM-DDTHH-MMZ/manifest.json.
const inventoryConfig = bucket.resource.properties.InventoryConfigurations[0];
const INVENTORY_MANIFEST = `${logs.arn}/${inventoryConfig.Destination.Prefix}/${bucket.name}/${inventoryConfig.Id}/2026-11-30T01-00Z/manifest.json`;
const OBJECT = 'reports/2019/q1.csv';

const viaS3 = (arn: string) => ({
  'kms:ViaService': `s3.${REGION}.amazonaws.com`,
  'kms:EncryptionContext:aws:s3:arn': arn,
  'kms:EncryptionContextKeys': ['aws:s3:arn'],
});
const copyTo = (target: { name: string; arn: string }, key: string, options: { keyId?: string; context?: Record<string, string> } = {}) =>
  s3Write(model, ROLE, target, key, { operation: 'CopyObject', sse: 'aws:kms', keyId: 'keyId' in options ? options.keyId : TARGET_KEY, bucketKey: true, context: options.context });

type Row = [string, string, string, string, Record<string, any>, Decision];

describe('ReencryptionJob access matrix', () => {
  const rows: Row[] = [
    ['the role lists the bucket for the manifest generator', ROLE, 's3:ListBucket', bucket.arn, {}, 'Allowed'],
    ['the role configures the inventory of the bucket', ROLE, 's3:PutInventoryConfiguration', bucket.arn, {}, 'Allowed'],
    ...['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectTagging', 's3:GetObjectVersionTagging', 's3:PutObjectTagging']
      .map((action): Row => [`the role calls ${action} on an object of its bucket`, ROLE, action, `${bucket.arn}/${OBJECT}`, {}, 'Allowed']),
    ['S3 decrypts an object under the old key for the role (no Bucket Key: object context)', ROLE, 'kms:Decrypt', OLD_KEY, viaS3(`${bucket.arn}/${OBJECT}`), 'Allowed'],
    ['S3 decrypts an object under the old key for the role (Bucket Key: bucket context)', ROLE, 'kms:Decrypt', OLD_KEY, viaS3(bucket.arn), 'Allowed'],
    ['S3 generates the new data key under the target key for the role', ROLE, 'kms:GenerateDataKey', TARGET_KEY, viaS3(bucket.arn), 'Allowed'],
    ['S3 decrypts the cached Bucket Key under the target key for the role', ROLE, 'kms:Decrypt', TARGET_KEY, viaS3(bucket.arn), 'Allowed'],
    ['the role writes its completion report', ROLE, 's3:PutObject', REPORT, { 's3:ObjectCreationOperation': 'true' }, 'Allowed'],
    ['the role writes its generated manifest', ROLE, 's3:PutObject', MANIFEST, { 's3:ObjectCreationOperation': 'true' }, 'Allowed'],
    ['the role reads its generated manifest', ROLE, 's3:GetObject', MANIFEST, {}, 'Allowed'],
    ['the role reads the inventory manifest', ROLE, 's3:GetObject', INVENTORY_MANIFEST, {}, 'Allowed'],
    ['a prefix-scoped job reads under its prefix', ARCHIVE_ROLE, 's3:GetObject', `${other.arn}/archive/2019.csv`, {}, 'Allowed'],
    // Attacks: the role outside its bucket, prefix and keys.
    ['the role reads another bucket', ROLE, 's3:GetObject', `${other.arn}/${OBJECT}`, {}, 'ImplicitlyDenied'],
    ['the role lists another bucket', ROLE, 's3:ListBucket', other.arn, {}, 'ImplicitlyDenied'],
    ['the role deletes an object', ROLE, 's3:DeleteObject', `${bucket.arn}/${OBJECT}`, {}, 'ImplicitlyDenied'],
    ['the role deletes an object version', ROLE, 's3:DeleteObjectVersion', `${bucket.arn}/${OBJECT}`, {}, 'ImplicitlyDenied'],
    ['the role changes the bucket policy', ROLE, 's3:PutBucketPolicy', bucket.arn, {}, 'ImplicitlyDenied'],
    ['the role changes the bucket encryption', ROLE, 's3:PutEncryptionConfiguration', bucket.arn, {}, 'ImplicitlyDenied'],
    ['the role bypasses governance retention', ROLE, 's3:BypassGovernanceRetention', `${bucket.arn}/${OBJECT}`, {}, 'ImplicitlyDenied'],
    ['the role decrypts with the old key directly', ROLE, 'kms:Decrypt', OLD_KEY, {}, 'ImplicitlyDenied'],
    ['the role decrypts with the old key through S3 for another bucket', ROLE, 'kms:Decrypt', OLD_KEY, viaS3(`${other.arn}/${OBJECT}`), 'ImplicitlyDenied'],
    ['the role generates under the target key through S3 for another bucket', ROLE, 'kms:GenerateDataKey', TARGET_KEY, viaS3(other.arn), 'ImplicitlyDenied'],
    ['the role generates under the target key directly', ROLE, 'kms:GenerateDataKey', TARGET_KEY, {}, 'ImplicitlyDenied'],
    ['the role encrypts with the old key through S3 (it only reads with it)', ROLE, 'kms:GenerateDataKey', OLD_KEY, viaS3(bucket.arn), 'ImplicitlyDenied'],
    ['the role uses another bucket\'s key through S3', ROLE, 'kms:Decrypt', OTHER_KEY, viaS3(other.arn), 'ImplicitlyDenied'],
    ['the role writes into the log bucket outside its folder', ROLE, 's3:PutObject', `${logs.arn}/access-logs/x.log`, { 's3:ObjectCreationOperation': 'true' }, 'ImplicitlyDenied'],
    ['the role reads the access logs', ROLE, 's3:GetObject', `${logs.arn}/access-logs/x.log`, {}, 'ImplicitlyDenied'],
    ['a prefix-scoped job reads outside its prefix', ARCHIVE_ROLE, 's3:GetObject', `${other.arn}/private/2019.csv`, {}, 'ImplicitlyDenied'],
    ['a prefix-scoped job writes outside its prefix', ARCHIVE_ROLE, 's3:PutObject', `${other.arn}/private/2019.csv`, { 's3:ObjectCreationOperation': 'true' }, 'ImplicitlyDenied'],
    // The account keeps control of both keys after the job's statements.
    ...[['the old key', OLD_KEY], ['the target key', TARGET_KEY]].flatMap(([name, key]) =>
      ['kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:EnableKeyRotation']
        .map((action): Row => [`the account root may ${action} on ${name}`, ROOT, action, key, {}, 'Allowed'])),
  ];

  test.each(rows)('%s', (_name, principal, action, resource, context, expected) => {
    const result = model.evaluate({ principal, action, resource, context });
    expect({ decision: result.decision, deciding: result.deciding }).toEqual(expect.objectContaining({ decision: expected }));
  });

  test.each([
    ['the role copies an object onto itself under the target key with a Bucket Key', () => copyTo(bucket, OBJECT), true],
    ['the role copies an object into another bucket', () => copyTo(other, OBJECT), false],
    ['the role copies an object under the old key', () => copyTo(bucket, OBJECT, { keyId: OLD_KEY }), false],
    ['the role copies naming aws:kms without a key id (S3 would use aws/s3)', () => copyTo(bucket, OBJECT, { keyId: undefined }), false],
    ['the role copies without TLS', () => copyTo(bucket, OBJECT, { context: { 'aws:SecureTransport': 'false' } }), false],
    ['a prefix-scoped job copies under its prefix', () => s3Write(model, ARCHIVE_ROLE, other, 'archive/2019.csv', { operation: 'CopyObject', sse: 'aws:kms', keyId: OTHER_KEY }), true],
  ] as [string, () => { allowed: boolean; deniedBy: string[] }, boolean][])('%s', (_name, flow, expected) => {
    const result = flow();
    expect({ allowed: result.allowed, deniedBy: result.deniedBy }).toEqual(expect.objectContaining({ allowed: expected }));
  });

  test('S3 Inventory delivers the encryption report the job reads', () => {
    const inventory = (sourceArn: string, account: string) => model.evaluate({
      principal: 's3.amazonaws.com',
      action: 's3:PutObject',
      resource: INVENTORY_MANIFEST,
      // S3 User Guide, configure-inventory.html: S3 writes as s3.amazonaws.com with the source bucket
      // as aws:SourceArn, its owner as aws:SourceAccount, and bucket-owner-full-control.
      context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': account, 's3:x-amz-acl': 'bucket-owner-full-control', 's3:ObjectCreationOperation': 'true' },
    }).decision;
    expect([inventory(bucket.arn, ACCOUNT), inventory('arn:aws:s3:::someone-elses', OTHER_ACCOUNT)]).toEqual(['Allowed', 'ImplicitlyDenied']);
  });

  test('S3 Batch Operations assumes the role', () => {
    expect(model.assumeRole('batchoperations.s3.amazonaws.com', ROLE, { 'aws:SourceAccount': ACCOUNT }).decision).toBe('Allowed');
  });

  test('the prefix-scoped job is the one whose role is scoped', () => expect(archiveJob.role).not.toBe(job.role));
});

/**
 * The in-place jobs. S3 User Guide, batch-ops-iam-role-policies.html ("Update object encryption"):
 * the role reads its manifest, calls s3:UpdateObjectEncryption on each object (with s3:GetObject,
 * s3:GetObjectVersion and s3:PutObject), writes its report, and uses the keys through S3. The
 * request names SSE-KMS and the full key ARN (update-sse-encryption.html), which the Service
 * Authorization Reference exposes as the SSE condition keys of s3:UpdateObjectEncryption.
 */
describe('ReencryptionJob in place (UpdateObjectEncryption) access matrix', () => {
  const movedBucket = model.bucket('Test/Moved/Resource');
  const MOVED_KEY = model.keyArn('Test/Moved/Key/Resource');
  const MOVED_OLD_KEY = model.keyArn('Test/MovedOldKey/Resource');
  const UPDATE_ROLE = model.roleArn('Test/InPlace/Role/Resource');
  const SSE_S3_ROLE = model.roleArn('Test/InPlaceFromSseS3/Role/Resource');
  const ARCHIVE_KEY = OTHER_KEY;
  type Options = Partial<Parameters<typeof s3UpdateObjectEncryption>[4]>;
  const update = (principal: string, target: { name: string; arn: string }, key: string, options: Options = {}) =>
    s3UpdateObjectEncryption(model, principal, target, key, { keyArn: MOVED_KEY, bucketKey: true, oldKeyArn: MOVED_OLD_KEY, ...options });

  test('both jobs chose the in-place operation', () => {
    const inPlace = ReencryptionOperation.UPDATE_OBJECT_ENCRYPTION;
    expect([updateJob.operation, sseS3Job.operation]).toEqual([inPlace, inPlace]);
  });

  test.each([
    ['the role moves an object from the old key to the bucket key, with a Bucket Key', () => update(UPDATE_ROLE, movedBucket, OBJECT), true],
    ['the role moves an object that had a Bucket Key under the old key', () => update(UPDATE_ROLE, movedBucket, OBJECT, { oldBucketKey: true }), true],
    ['the role moves an object without applying a Bucket Key', () => update(UPDATE_ROLE, movedBucket, OBJECT, { bucketKey: false }), true],
    ['the SSE-S3 job moves an object under its prefix to the bucket key', () => update(SSE_S3_ROLE, other, 'legacy/2019.csv', { keyArn: ARCHIVE_KEY, oldKeyArn: undefined }), true],
    // Attacks.
    ['the role moves an object to the old key (the bucket policy pins the bucket key)', () => update(UPDATE_ROLE, movedBucket, OBJECT, { keyArn: MOVED_OLD_KEY }), false],
    ['the role moves an object to another bucket\'s key', () => update(UPDATE_ROLE, movedBucket, OBJECT, { keyArn: TARGET_KEY }), false],
    ['the role updates an object of another bucket', () => update(UPDATE_ROLE, other, OBJECT, { keyArn: ARCHIVE_KEY }), false],
    ['the role updates without TLS', () => update(UPDATE_ROLE, movedBucket, OBJECT, { context: { 'aws:SecureTransport': 'false' } }), false],
    ['the SSE-S3 job updates outside its prefix', () => update(SSE_S3_ROLE, other, 'private/2019.csv', { keyArn: ARCHIVE_KEY, oldKeyArn: undefined }), false],
    ['the SSE-S3 job moves objects of a KMS key it was not given', () => update(SSE_S3_ROLE, other, 'legacy/2019.csv', { keyArn: ARCHIVE_KEY, oldKeyArn: MOVED_OLD_KEY }), false],
    ['the copy job (no s3:UpdateObjectEncryption) updates in place', () => update(ROLE, bucket, OBJECT, { keyArn: TARGET_KEY, oldKeyArn: OLD_KEY }), false],
  ] as [string, () => { allowed: boolean; deniedBy: string[] }, boolean][])('%s', (_name, flow, expected) => {
    const result = flow();
    expect({ allowed: result.allowed, deniedBy: result.deniedBy }).toEqual(expect.objectContaining({ allowed: expected }));
  });

  test('the key pin refuses the move for an administrator of the account too, and names the denial', () => {
    // A principal allowed s3:* by the bucket's account: only the bucket policy's key pin stops it.
    const admin = [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:*', 'kms:*'], Resource: '*' }] }];
    const result = update(`arn:aws:iam::${ACCOUNT}:role/Admin`, movedBucket, OBJECT, { keyArn: MOVED_OLD_KEY, identityPolicies: admin });
    expect(result.s3.decision).toBe('ExplicitlyDenied');
    expect(result.s3.deciding).toContain('DenyPutObjectWithAnotherKmsKey');
    expect(update(`arn:aws:iam::${ACCOUNT}:role/Admin`, movedBucket, OBJECT, { identityPolicies: admin }).s3.decision).toBe('Allowed');
  });

  test.each([
    ['the role writes objects with PutObject outside its bucket', UPDATE_ROLE, 's3:PutObject', `${other.arn}/${OBJECT}`, 'ImplicitlyDenied'],
    ['the role deletes an object', UPDATE_ROLE, 's3:DeleteObject', `${movedBucket.arn}/${OBJECT}`, 'ImplicitlyDenied'],
    ['the role tags an object (the copy job\'s right, not this one\'s)', UPDATE_ROLE, 's3:PutObjectTagging', `${movedBucket.arn}/${OBJECT}`, 'ImplicitlyDenied'],
    ['the role encrypts directly with the bucket key', UPDATE_ROLE, 'kms:Encrypt', MOVED_KEY, 'ImplicitlyDenied'],
    ['the role re-encrypts from the bucket key directly', UPDATE_ROLE, 'kms:ReEncryptFrom', MOVED_OLD_KEY, 'ImplicitlyDenied'],
  ])('%s', (_name, principal, action, resource, expected) => {
    expect(model.evaluate({ principal, action, resource, context: {} }).decision).toBe(expected);
  });
});
