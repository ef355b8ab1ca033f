/**
 * What the standard cdk-nag packs and S3EncryptionChecks say of a default EncryptedBucket, and
 * what the construct acknowledges there and why: an acknowledgement whose rule id were wrong would
 * leave its finding in the report, and one without the AWS page would hide a finding unexplained.
 */
import { App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { EncryptedBucket } from '../../src';
import { LOG_DESTINATION_PAGE } from '../../src/bucket/access-log-bucket';
import { nagFindings } from '../support/compliance';

function defaultBucket(): Stack {
  const app = new App();
  const stack = new Stack(app, 'T', { env: { account: '111111111111', region: 'us-east-1' } });
  new EncryptedBucket(stack, 'Data');
  return stack;
}

function acknowledged(c: IConstruct): Record<string, string> {
  const entries = c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
  // Keys are the rule ids, qualified by their kind in some releases (`annotation::<id>`).
  const acks: Record<string, string> = {};
  for (const m of entries) for (const [id, reason] of Object.entries(m.data as Record<string, string>)) acks[id.replace(/^[A-Za-z]+::/, '')] = reason;
  return acks;
}

test('a default bucket: the only findings are replication (not asked for) and data events (no trail given), on the bucket and its log bucket', () => {
  const findings = nagFindings(defaultBucket(), true).map((f) => `${f.rule} ${f.resource}`).sort();
  expect(findings).toEqual([
    'HIPAA.Security-S3BucketReplicationEnabled T/Data/Resource',
    'HIPAA.Security-S3BucketReplicationEnabled T/S3EncryptionShared/AccessLogs/Resource',
    'NIST.800.53.R5-S3BucketReplicationEnabled T/Data/Resource',
    'NIST.800.53.R5-S3BucketReplicationEnabled T/S3EncryptionShared/AccessLogs/Resource',
    'PCI.DSS.321-S3BucketReplicationEnabled T/Data/Resource',
    'PCI.DSS.321-S3BucketReplicationEnabled T/S3EncryptionShared/AccessLogs/Resource',
    'S3Encryption-S3BucketDataEventsAudited T/Data/Resource',
    'S3Encryption-S3BucketDataEventsAudited T/S3EncryptionShared/AccessLogs/Resource',
  ]);
});

test('the log bucket acknowledges what AWS refuses a log destination, each with the page and its words', () => {
  const logBucket = defaultBucket().node.findChild('S3EncryptionShared').node.findChild('AccessLogs');
  const acks = acknowledged(logBucket);
  const sse = 'S3 server access logging accepts only SSE-S3 default encryption on the destination: "SSE-KMS is not supported"';
  const lock = '"S3 buckets that have S3 Object Lock enabled can\'t be used as destination buckets" for server access logs';
  const self = 'a log destination that logs its own access makes "an infinite loop of logs"';
  const because = (what: string) => `${what} (${LOG_DESTINATION_PAGE}); integrity is kept by versioning, a policy that denies deletes, TLS only and optional replication`;
  expect(acks).toEqual({
    'NIST.800.53.R5-S3DefaultEncryptionKMS': because(sse),
    'HIPAA.Security-S3DefaultEncryptionKMS': because(sse),
    'PCI.DSS.321-S3DefaultEncryptionKMS': because(sse),
    'NIST.800.53.R5-S3BucketDefaultLockEnabled': because(lock),
    'AwsSolutions-S1': because(self),
    'NIST.800.53.R5-S3BucketLoggingEnabled': because(self),
    'HIPAA.Security-S3BucketLoggingEnabled': because(self),
    'PCI.DSS.321-S3BucketLoggingEnabled': because(self),
  });
  // The same for Control Tower's proactive controls (cfn-guard's suppression list) and checkov.
  const cfn = logBucket.node.defaultChild as CfnResource;
  expect(cfn.getMetadata('guard')).toEqual({
    SuppressedRules: ['s3_bucket_default_encryption_kms_check', 's3_bucket_object_lock_enabled_check', 's3_bucket_logging_enabled_check'],
  });
  expect(cfn.getMetadata('checkov')).toEqual({ skip: [{ id: 'CKV_AWS_18', comment: because(self) }] });
});
