import { Aws, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { sseS3OnlyDenyStatements } from './bucket-policy';
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
    const cfn = this.node.defaultChild as s3.CfnBucket;
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
}
