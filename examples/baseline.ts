/**
 * The baseline: a careful hand-written aws-cdk-lib bucket, customer-managed key and trail, the way
 * a good engineer writes it without this library. The compliance job measures it beside the
 * examples so that every run prints the ratio.
 *
 * It is also the proof that every checker is alive: each cdk-nag pack, S3EncryptionChecks, the
 * Control Tower controls, cfn-lint and checkov must find at least one thing here, or the job
 * names the silent checker and fails. Keep it a realistic hand-written stack, not a target for
 * any one rule.
 */
import { Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export class HandWrittenBaselineStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const key = new kms.Key(this, 'Key', { enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN });
    const logs_ = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
    });
    const data = new s3.Bucket(this, 'Data', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      serverAccessLogsBucket: logs_,
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(90) }],
    });
    const trail = new cloudtrail.Trail(this, 'Trail', {
      encryptionKey: key,
      enableFileValidation: true,
      isMultiRegionTrail: true,
      sendToCloudWatchLogs: true,
      cloudWatchLogsRetention: logs.RetentionDays.ONE_YEAR,
    });
    trail.addS3EventSelector([{ bucket: data }]);
  }
}
