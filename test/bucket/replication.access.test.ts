/**
 * S3 replication of an EncryptedBucket, decided by the IAM engine over the synthesized policies:
 * who may assume the replication role, what the role may do in the source and in the destination,
 * and the replication rule S3 is given.
 *
 * The role's permissions follow the S3 User Guide, "Setting up permissions for live replication"
 * (setting-repl-config-perm-overview.html, step 2): on the source bucket s3:GetReplicationConfiguration
 * and s3:ListBucket; on its objects s3:GetObjectVersionForReplication, s3:GetObjectVersionAcl and
 * s3:GetObjectVersionTagging (s3:GetObjectRetention and s3:GetObjectLegalHold for Object Lock); on
 * the destination's objects s3:ReplicateObject, s3:ReplicateDelete and s3:ReplicateTags. SSE-KMS
 * objects: replication-config-for-kms-objects.html (kms:Decrypt of the source key, kms:Encrypt of
 * the replica key, and kms:Decrypt of it too when the destination uses an S3 Bucket Key).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { EncryptedBucket } from '../../src';
import { AccessModel, AccessRequest, ACCOUNT, OTHER_ACCOUNT, REGION } from '../support/access-model';
import { kmsContext } from '../support/s3-flows';

const DEST_REGION = 'us-west-2';
const REPLICA_ALIAS = `arn:aws:kms:${DEST_REGION}:${ACCOUNT}:alias/replica`;

function replicatedApp(replicationTimeControl?: boolean) {
  const app = new App();
  const dest = new Stack(app, 'Dest', { env: { account: ACCOUNT, region: DEST_REGION } });
  const replica = new EncryptedBucket(dest, 'Replica');
  new kms.Alias(dest, 'ReplicaAlias', { aliasName: 'alias/replica', targetKey: replica.bucketKey });
  const src = new Stack(app, 'Src', { env: { account: ACCOUNT, region: REGION } });
  new EncryptedBucket(src, 'Data', {
    replication: {
      destinationBucket: replica, destinationKeyArn: REPLICA_ALIAS, storageClass: s3.StorageClass.INFREQUENT_ACCESS, replicationTimeControl,
    },
  });
  const m = AccessModel.of(app);
  const source = m.bucket(/^Src\/Data[0-9A-F]{8} /);
  const replicaBucket = m.bucket(/^Dest\/Replica[0-9A-F]{8} /);
  return {
    m,
    source,
    sourceKey: m.keyArn(/^Src\/DataKey/),
    replica: replicaBucket,
    replicaKey: m.keyBehind(REPLICA_ALIAS),
    role: String(source.resource.properties.ReplicationConfiguration.Role),
    rule: source.resource.properties.ReplicationConfiguration.Rules[0],
  };
}

describe('replication role: trust, source and destination, decided by the IAM engine', () => {
  const { m, source, sourceKey, replica, replicaKey, role } = replicatedApp();
  const decide = (r: Omit<AccessRequest, 'principal'>) => m.evaluate({ principal: role, ...r }).decision;

  // Confused deputy (IAM User Guide, confused-deputy.html): a service principal's trust is scoped to
  // the account it acts for with aws:SourceAccount, so S3 acting for another account cannot assume it.
  test.each([
    ['Allowed', 'S3 for this account', 's3.amazonaws.com', { 'aws:SourceAccount': ACCOUNT }],
    ['ImplicitlyDenied', 'S3 for another account (confused deputy)', 's3.amazonaws.com', { 'aws:SourceAccount': OTHER_ACCOUNT }],
    ['ImplicitlyDenied', 'S3 with no source account', 's3.amazonaws.com', {}],
    ['ImplicitlyDenied', 'S3 Batch Operations for this account', 'batchoperations.s3.amazonaws.com', { 'aws:SourceAccount': ACCOUNT }],
  ])('%s: %s assumes the role', (expected, _name, service, context) => {
    expect(m.assumeRole(service, role, context).decision).toBe(expected);
  });

  test.each(['s3:GetReplicationConfiguration', 's3:ListBucket'])('the role may %s on the source bucket (its own IAM policy)', (action) => {
    expect(decide({ action, resource: source.arn })).toBe('Allowed');
  });

  test.each(['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging', 's3:GetObjectRetention', 's3:GetObjectLegalHold'])(
    'the role may %s on source objects (the source bucket policy)', (action) => {
      expect(decide({ action, resource: `${source.arn}/a/b.csv` })).toBe('Allowed');
    });

  test.each([
    ['s3:PutReplicationConfiguration', 'source bucket'],
    ['s3:GetBucketPolicy', 'source bucket'],
    ['s3:GetObject', 'source object'],
    ['s3:PutObject', 'source object'],
    ['s3:DeleteObjectVersion', 'source object'],
    ['s3:GetObjectVersionForReplication', 'object of another bucket'],
    ['s3:GetReplicationConfiguration', 'another bucket'],
  ])('the role may not %s on a %s', (action, what) => {
    const resource = { 'source bucket': source.arn, 'source object': `${source.arn}/a/b.csv`, 'object of another bucket': 'arn:aws:s3:::another-bucket/a', 'another bucket': 'arn:aws:s3:::another-bucket' }[what]!;
    expect(decide({ action, resource })).not.toBe('Allowed');
  });

  test('the role decrypts source objects through S3 for the source bucket only', () => {
    expect(decide({ action: 'kms:Decrypt', resource: sourceKey, context: kmsContext(role, source.arn) })).toBe('Allowed');
    expect(decide({ action: 'kms:Decrypt', resource: sourceKey, context: kmsContext(role, 'arn:aws:s3:::another-bucket') })).not.toBe('Allowed');
    expect(decide({ action: 'kms:Decrypt', resource: sourceKey, context: { ...kmsContext(role, source.arn), 'kms:ViaService': undefined } })).not.toBe('Allowed');
    expect(decide({ action: 'kms:Encrypt', resource: sourceKey, context: kmsContext(role, source.arn) })).not.toBe('Allowed');
  });

  test.each(['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'])('the role may %s into the destination (its bucket policy)', (action) => {
    expect(decide({ action, resource: `${replica.arn}/a/b.csv` })).toBe('Allowed');
  });

  test.each(['kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt'])('the role may %s with the replica key through S3 for the destination', (action) => {
    expect(decide({ action, resource: replicaKey, context: kmsContext(role, replica.arn, DEST_REGION) })).toBe('Allowed');
    expect(decide({ action, resource: replicaKey, context: kmsContext(role, 'arn:aws:s3:::another-bucket', DEST_REGION) })).not.toBe('Allowed');
  });
});

describe('the replication rule S3 is given', () => {
  test('replicates every object and delete marker, SSE-KMS objects included, under the replica key', () => {
    const { rule, replica } = replicatedApp();
    // API Reference, ReplicationRule: "If you specify a Filter in your replication configuration, you
    // must also include a DeleteMarkerReplication element"; Status is required (Enabled | Disabled).
    // replication-config-for-kms-objects.html: SSE-KMS objects replicate only with
    // SourceSelectionCriteria.SseKmsEncryptedObjects enabled and a ReplicaKmsKeyID.
    expect(rule).toEqual({
      Id: 'ReplicateEverything',
      Status: 'Enabled',
      Priority: 0,
      Filter: { Prefix: '' },
      DeleteMarkerReplication: { Status: 'Enabled' },
      SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
      Destination: { Bucket: replica.arn, StorageClass: 'STANDARD_IA', EncryptionConfiguration: { ReplicaKmsKeyID: REPLICA_ALIAS } },
    });
  });

  test('Replication Time Control: 15 minutes, with the metrics S3 RTC reports through', () => {
    const { rule } = replicatedApp(true);
    // API Reference, ReplicationTimeValue: "Minutes ... Valid value: 15"; Metrics: Status required.
    expect(rule.Destination.ReplicationTime).toEqual({ Status: 'Enabled', Time: { Minutes: 15 } });
    expect(rule.Destination.Metrics).toEqual({ Status: 'Enabled', EventThreshold: { Minutes: 15 } });
  });
});

test('a destination that is not an EncryptedBucket of the app: a warning lists what its owner must allow', () => {
  const app = new App();
  const stack = new Stack(app, 'Src', { env: { account: ACCOUNT, region: REGION } });
  const foreign = s3.Bucket.fromBucketName(stack, 'Foreign', 'foreign-replica');
  new EncryptedBucket(stack, 'Data', { replication: { destinationBucket: foreign, destinationKeyArn: `arn:aws:kms:${DEST_REGION}:${OTHER_ACCOUNT}:key/x` } });
  const warnings = Annotations.fromStack(stack).findWarning('/Src/Data', Match.anyValue()).map((w) => String(w.entry.data));
  const replication = warnings.filter((w) => w.startsWith('replication destination: '));
  expect(replication).toEqual([
    'replication destination: Src/Foreign is not an EncryptedBucket of this app; allow the replication role in its bucket policy '
    + '(s3:ReplicateObject, s3:ReplicateDelete, s3:ReplicateTags on its objects) and in its key policy (kms:Encrypt, kms:GenerateDataKey, '
    + 'and kms:Decrypt when the destination uses an S3 Bucket Key, through S3), or replicas fail. [ack: cdk-s3-encryption:weakened:replication destination]',
  ]);
});
