import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { encryptionDenyStatements, logDeliveryStatement } from './bucket-policy';
import { generatedBucketName } from '../internal/names';
import { createManagedKey, s3UsageStatement, serviceUsageStatement } from '../keys/key-policy';

const SELF_LOG_PREFIX = 'self/';

export interface AccessLogBucketProps {
  readonly removalPolicy: RemovalPolicy;
  readonly retention: Duration;
  readonly keyRotationPeriod?: Duration;
  readonly keyPendingWindow?: Duration;
}

/**
 * The target of server access logs and encryption inventories, as compliant as AWS allows for a
 * log target: SSE-KMS with its own key (the log delivery service may use it), versioning, Object
 * Lock without default retention (log delivery refuses a default retention), and its own access
 * logged into itself under `self/` so that reads of the logs are recorded too.
 */
export class AccessLogBucket extends s3.Bucket {
  public readonly logKey: kms.Key;
  /** The bucket ARN built from its name, for key policies (a reference would make a cycle). */
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
      objectLockEnabled: true,
      blockedEncryptionTypes: [s3.BlockedEncryptionType.SSE_C],
      lifecycleRules: [{
        id: 'ExpireLogs',
        enabled: true,
        expiration: props.retention,
        noncurrentVersionExpiration: Duration.days(30),
        abortIncompleteMultipartUploadAfter: Duration.days(7),
      }],
    });
    const key = createManagedKey(this, 'Key', {
      description: `Key of the access logs, inventory reports and alarms of ${scope.node.path}`,
      rotationPeriod: props.keyRotationPeriod,
      pendingWindow: props.keyPendingWindow,
      removalPolicy: props.removalPolicy,
    });
    this.logKey = key;
    this.policyArn = `arn:${Aws.PARTITION}:s3:::${bucketName}`;
    (this as { encryptionKey?: kms.IKey }).encryptionKey = key;
    key.addToResourcePolicy(s3UsageStatement('UseThroughS3ForTheLogBucket', [this.policyArn]));
    key.addToResourcePolicy(serviceUsageStatement('S3LogDeliveryWritesLogs', 'logging.s3.amazonaws.com', ['kms:GenerateDataKey']));
    key.addToResourcePolicy(serviceUsageStatement('S3InventoryWritesReports', 's3.amazonaws.com', ['kms:GenerateDataKey']));
    key.addToResourcePolicy(serviceUsageStatement('CloudWatchAlarmsPublishToTheAlarmTopic', 'cloudwatch.amazonaws.com', ['kms:Decrypt', 'kms:GenerateDataKey*']));

    const cfn = this.node.defaultChild as s3.CfnBucket;
    cfn.bucketEncryption = {
      serverSideEncryptionConfiguration: [{
        serverSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: key.keyArn },
        bucketKeyEnabled: true,
        blockedEncryptionTypes: { encryptionType: ['SSE-C'] },
      }],
    };
    // Log delivery writes with the default encryption; anyone else must not choose another.
    for (const statement of encryptionDenyStatements(this.bucketArn, key.keyArn, 'SSE_KMS')) {
      this.addToResourcePolicy(statement);
    }
    cfn.notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
    // Its own access is logged into itself (no ACLs: the log delivery service is allowed by policy).
    cfn.loggingConfiguration = { logFilePrefix: SELF_LOG_PREFIX };
    this.addToResourcePolicy(logDeliveryStatement('S3ServerAccessLogsOfThisBucket', this.arnForObjects(`${SELF_LOG_PREFIX}*`), this.bucketArn));
  }
}
