import { Aws, PhysicalName, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { warnWeakened } from '../internal/validation';
import { s3UsageConditions } from '../keys/key-policy';

/** Where and how a bucket replicates. */
export interface ReplicationTarget {
  readonly bucket: s3.IBucket;
  readonly keyArn: string;
  readonly storageClass?: s3.StorageClass;
  readonly replicationTimeControl?: boolean;
}

/** A bucket that accepts replicas from the replication role of another bucket. */
interface ReplicaDestination {
  allowReplicationFrom(sourceBucketArn: string, replicationRoleArn: string): void;
}

/** The ARN of a bucket, built from its name when it is an EncryptedBucket (usable across Regions). */
function bucketArnOf(b: s3.IBucket): string {
  return (b as { stableBucketArn?: string }).stableBucketArn ?? b.bucketArn;
}

function isReplicaDestination(b: unknown): b is ReplicaDestination {
  return typeof (b as ReplicaDestination).allowReplicationFrom === 'function';
}

/**
 * Replicates `source` (SSE-KMS objects included) to `target`. The role holds only bucket-level
 * actions; object-level reads and key use are granted in the source's bucket and key policies and
 * the destination's, so no IAM policy carries a wildcard resource.
 */
export function replicate(
  source: s3.Bucket,
  sourcePolicyArn: string,
  addSourceKeyStatement: ((s: iam.PolicyStatement) => void) | undefined,
  target: ReplicationTarget,
): iam.Role {
  // The role lives beside a destination of this app, so that the destination's policies can name
  // it when that stack deploys first (S3 requires the destination to exist when replication is set).
  const destinationOwned = isReplicaDestination(target.bucket);
  const roleScope = destinationOwned ? target.bucket : source;
  const roleId = destinationOwned ? `ReplicationRoleFrom${source.node.addr.slice(0, 10)}` : 'ReplicationRole';
  if (Stack.of(roleScope) !== Stack.of(source)) {
    // The replication destination and role must exist first. A construct dependency between stacks
    // becomes a stack dependency (Stack#addDependency is deprecated in newer aws-cdk-lib releases).
    Stack.of(source).node.addDependency(Stack.of(roleScope));
  }
  const role = new iam.Role(roleScope, roleId, {
    roleName: PhysicalName.GENERATE_IF_NEEDED,
    description: `S3 replication of ${source.node.path}`,
    assumedBy: new iam.ServicePrincipal('s3.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
    }),
  });
  // A customer-managed policy, not an inline one (HIPAA/NIST/PCI IAMNoInlinePolicy).
  new iam.ManagedPolicy(roleScope, `${roleId}Policy`, {
    description: `Bucket-level permissions of the S3 replication of ${source.node.path}`,
    roles: [role],
    statements: [new iam.PolicyStatement({
      actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
      resources: [sourcePolicyArn],
    })],
  });
  source.addToResourcePolicy(new iam.PolicyStatement({
    sid: `ReplicationRoleReadsSourceVersions${source.node.addr.slice(0, 8)}`,
    principals: [new iam.ArnPrincipal(role.roleArn)],
    actions: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging', 's3:GetObjectRetention', 's3:GetObjectLegalHold'],
    resources: [source.arnForObjects('*')],
  }));
  addSourceKeyStatement?.(new iam.PolicyStatement({
    sid: `ReplicationRoleDecryptsSourceObjects${source.node.addr.slice(0, 8)}`,
    principals: [new iam.ArnPrincipal(role.roleArn)],
    actions: ['kms:Decrypt'],
    resources: ['*'],
    conditions: s3UsageConditions([sourcePolicyArn]),
  }));

  if (isReplicaDestination(target.bucket)) {
    target.bucket.allowReplicationFrom(sourcePolicyArn, role.roleArn);
  } else {
    warnWeakened(source, 'replication destination',
      `${target.bucket.node.path} is not an EncryptedBucket of this app; allow the replication role in its bucket policy (s3:ReplicateObject, s3:ReplicateDelete, s3:ReplicateTags on its objects) and in its key policy (kms:Encrypt, kms:GenerateDataKey, and kms:Decrypt when the destination uses an S3 Bucket Key, through S3), or replicas fail.`,
      []);
  }

  const cfn = source.node.defaultChild as s3.CfnBucket;
  cfn.replicationConfiguration = {
    role: role.roleArn,
    rules: [{
      id: 'ReplicateEverything',
      status: 'Enabled',
      priority: 0,
      filter: { prefix: '' },
      deleteMarkerReplication: { status: 'Enabled' },
      ...(addSourceKeyStatement ? { sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } } } : {}),
      destination: {
        bucket: bucketArnOf(target.bucket),
        storageClass: target.storageClass?.value,
        encryptionConfiguration: { replicaKmsKeyId: target.keyArn },
        ...(target.replicationTimeControl ? {
          replicationTime: { status: 'Enabled', time: { minutes: 15 } },
          metrics: { status: 'Enabled', eventThreshold: { minutes: 15 } },
        } : {}),
      },
    }],
  };
  return role;
}
