/**
 * An app team's stack on Acme's platform package: it writes no encryption setting itself. Its
 * EncryptedBucket takes the platform's defaults; its export bucket, made with plain aws-cdk-lib as a
 * team might, is encrypted by the platform's BucketEncryptionPolicy.
 */
import { Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { applyAcmeDefaults } from './acme-platform';
import { EncryptedBucket } from '../../src';

export class PlatformTeamStack extends Stack {
  /** The team's bucket, on the platform's defaults. */
  public readonly orders: EncryptedBucket;
  /** The bucket of other code that the platform's Aspect encrypts. */
  public readonly exports: s3.Bucket;
  /** The key the platform's Aspect gave the exports bucket. */
  public readonly exportsKey: kms.IKey;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    // As `cdk init` sets it in cdk.json: server access logs delivered by bucket policy, not ACLs.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const { buckets } = applyAcmeDefaults(this);
    const orders = this.orders = new EncryptedBucket(this, 'Orders');
    // A bucket of other code: versioned, logged and expired as the team's own standards say, and
    // no encryption setting at all.
    const exports = this.exports = new s3.Bucket(this, 'Exports', {
      versioned: true,
      objectLockEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: orders.accessLogsBucket,
      serverAccessLogsPrefix: 'access-logs/exports/',
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(90), abortIncompleteMultipartUploadAfter: Duration.days(7) }],
    });
    // EventBridge notifications without aws-cdk-lib's notification custom resource.
    (exports.node.defaultChild as s3.CfnBucket).notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
    this.exportsKey = buckets.encryptionKeyFor(exports);
  }
}
