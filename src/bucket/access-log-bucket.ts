import { Aws, Duration, Lazy, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { logDeliveryStatement, sseS3OnlyDenyStatements } from './bucket-policy';
import { generatedBucketName } from '../internal/names';

/** The AWS page that every trade-off of this bucket rests on. */
export const LOG_DESTINATION_PAGE = 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html';

export interface AccessLogBucketProps {
  readonly removalPolicy: RemovalPolicy;
  readonly retention: Duration;
}

/**
 * The target of server access logs and encryption inventories, configured as S3 requires of a log
 * destination (S3 User Guide, enable-server-access-logging.html):
 * - "You can use default bucket encryption on the destination bucket only if you use server-side
 *   encryption with Amazon S3 managed keys (SSE-S3) ... SSE-KMS is not supported": SSE-S3, and a
 *   PUT naming any other algorithm is denied;
 * - "S3 buckets that have S3 Object Lock enabled can't be used as destination buckets": no Object
 *   Lock;
 * - a destination that logs into itself makes "an infinite loop of logs": its own access is not
 *   logged (CloudTrail data events are the record of who read the logs).
 * Its integrity is kept by other means: versioning, a bucket policy that denies deleting objects or
 * versions to every principal (lifecycle expiry still works: "You can't use a bucket policy to
 * prevent deletions or transitions by an S3 Lifecycle rule", bucket-policies.html), TLS only, and
 * optional replication to another Region. The findings this costs are acknowledged on the bucket
 * with the page as the reason.
 */
export class AccessLogBucket extends s3.Bucket {
  /** The bucket ARN built from its name, for policies (a reference would make a cycle). */
  public readonly policyArn: string;
  /** Where this bucket is replicated to, once a bucket of the stack asked for it. */
  public replicatedTo?: s3.IBucket;
  private retentionDays: number;
  private removal: RemovalPolicy;
  private readonly sources: string[] = [];
  private readonly inventorySources: string[] = [];
  private logStatement?: iam.PolicyStatement;
  private inventoryStatement?: iam.PolicyStatement;

  constructor(scope: Construct, id: string, props: AccessLogBucketProps) {
    const bucketName = generatedBucketName(scope, id);
    super(scope, id, {
      bucketName,
      removalPolicy: props.removalPolicy,
      versioned: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockedEncryptionTypes: [s3.BlockedEncryptionType.SSE_C],
      lifecycleRules: [{
        id: 'ExpireLogs',
        enabled: true,
        expiration: props.retention,
        noncurrentVersionExpiration: Duration.days(30),
        abortIncompleteMultipartUploadAfter: Duration.days(7),
      }],
    });
    this.policyArn = `arn:${Aws.PARTITION}:s3:::${bucketName}`;
    this.retentionDays = props.retention.toDays();
    this.removal = props.removalPolicy;
    const cfn = this.node.defaultChild as s3.CfnBucket;
    // Shared by the buckets of a stack: the longest retention any of them asks for.
    cfn.addPropertyOverride('LifecycleConfiguration.Rules.0.ExpirationInDays', Lazy.number({ produce: () => this.retentionDays }));
    cfn.bucketEncryption = {
      serverSideEncryptionConfiguration: [{
        serverSideEncryptionByDefault: { sseAlgorithm: 'AES256' },
        blockedEncryptionTypes: { encryptionType: ['SSE-C'] },
      }],
    };
    cfn.notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };

    const objects = this.arnForObjects('*');
    for (const statement of sseS3OnlyDenyStatements(objects)) this.addToResourcePolicy(statement);
    this.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyDeletingLogsAndTheirVersions',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
      resources: [objects],
    }));

    const reason = (what: string) => `${what} (${LOG_DESTINATION_PAGE}); integrity is kept by versioning, a policy that denies deletes, TLS only and optional replication`;
    const sse = reason('S3 server access logging accepts only SSE-S3 default encryption on the destination: "SSE-KMS is not supported"');
    const lock = reason('"S3 buckets that have S3 Object Lock enabled can\'t be used as destination buckets" for server access logs');
    const self = reason('a log destination that logs its own access makes "an infinite loop of logs"');
    Validations.of(this).acknowledge(
      { id: 'NIST.800.53.R5-S3DefaultEncryptionKMS', reason: sse },
      { id: 'HIPAA.Security-S3DefaultEncryptionKMS', reason: sse },
      { id: 'PCI.DSS.321-S3DefaultEncryptionKMS', reason: sse },
      { id: 'NIST.800.53.R5-S3BucketDefaultLockEnabled', reason: lock },
      { id: 'AwsSolutions-S1', reason: self },
      { id: 'NIST.800.53.R5-S3BucketLoggingEnabled', reason: self },
      { id: 'HIPAA.Security-S3BucketLoggingEnabled', reason: self },
      { id: 'PCI.DSS.321-S3BucketLoggingEnabled', reason: self },
    );
    // Control Tower proactive controls (cfn-guard reads this suppression list from the resource).
    cfn.addMetadata('guard', {
      SuppressedRules: ['s3_bucket_default_encryption_kms_check', 's3_bucket_object_lock_enabled_check', 's3_bucket_logging_enabled_check'],
    });
    cfn.addMetadata('checkov', {
      skip: [
        { id: 'CKV_AWS_18', comment: self },
      ],
    });
  }

  /**
   * Another bucket of the stack logs here: the longest retention and the strongest removal policy
   * asked for win (logs are never kept for less than a bucket asked, nor deleted with the stack
   * while one of its buckets is retained).
   */
  public shareWith(retention: Duration, removalPolicy: RemovalPolicy): void {
    this.retentionDays = Math.max(this.retentionDays, retention.toDays());
    if (REMOVAL_RANK[removalPolicy] > REMOVAL_RANK[this.removal]) {
      this.removal = removalPolicy;
      this.applyRemovalPolicy(removalPolicy);
    }
  }

  /**
   * Lets S3 deliver a bucket's server access logs under its prefix: one statement for every bucket
   * of the stack (its objects: each bucket's prefix; aws:SourceArn: the source buckets), so the
   * bucket policy stays within its 20 KB limit for as many buckets as a stack can hold.
   */
  public allowServerAccessLogs(sourceBucketArn: string, logPrefix: string): void {
    this.sources.push(sourceBucketArn);
    if (!this.logStatement) {
      this.logStatement = logDeliveryStatement('S3ServerAccessLogsFromTheBucketsOfThisStack', this.arnForObjects(`${logPrefix}*`), sourceBucketArn);
      this.addToResourcePolicy(this.logStatement);
    } else {
      this.logStatement.addResources(this.arnForObjects(`${logPrefix}*`));
      this.logStatement.addCondition('ArnLike', { 'aws:SourceArn': [...this.sources] });
    }
  }

  /** Lets S3 Inventory write a bucket's reports under its prefix, in one statement as above. */
  public allowInventory(sourceBucketArn: string, inventoryPrefix: string): void {
    this.inventorySources.push(sourceBucketArn);
    if (!this.inventoryStatement) {
      this.inventoryStatement = new iam.PolicyStatement({
        sid: 'S3InventoryFromTheBucketsOfThisStack',
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [this.arnForObjects(`${inventoryPrefix}/*`)],
        conditions: {
          ArnLike: { 'aws:SourceArn': sourceBucketArn },
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID, 's3:x-amz-acl': 'bucket-owner-full-control' },
        },
      });
      this.addToResourcePolicy(this.inventoryStatement);
    } else {
      this.inventoryStatement.addResources(this.arnForObjects(`${inventoryPrefix}/*`));
      this.inventoryStatement.addCondition('ArnLike', { 'aws:SourceArn': [...this.inventorySources] });
    }
  }
}

const REMOVAL_RANK: Record<RemovalPolicy, number> = {
  [RemovalPolicy.DESTROY]: 0,
  [RemovalPolicy.SNAPSHOT]: 1,
  [RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE]: 2,
  [RemovalPolicy.RETAIN]: 3,
};
