/**
 * Access matrix of EncryptionAuditTrail: every delivery CloudTrail, CloudWatch Logs and CloudWatch
 * alarms make, the reads of a bucket that joins the trail, and the attacks, each decided by the IAM
 * engine over the synthesized policies (bucket, key, topic, role trust and identity policies).
 *
 * Context keys are the ones each service sends, from its guide:
 * - CloudTrail User Guide, create-s3-bucket-policy-for-cloudtrail.html: CloudTrail calls
 *   s3:GetBucketAcl and s3:PutObject (with `x-amz-acl: bucket-owner-full-control`) under
 *   `AWSLogs/<account>/`, and "the value of aws:SourceArn is always the ARN of the trail".
 * - CloudTrail User Guide, create-kms-key-policy-for-cloudtrail.html: aws:SourceArn on the KMS
 *   calls is the trail ARN; how-kms-works-with-cloudtrail.html: S3 calls GenerateDataKey on
 *   CloudTrail's behalf with the encryption context `aws:cloudtrail:arn` (the trail) and
 *   `aws:s3:arn` (the object); DescribeKey carries no encryption context.
 * - CloudTrail User Guide, cloudtrail-log-file-validation-digest-file-structure.html: digest
 *   files go to `AWSLogs/<account>/CloudTrail-Digest/<region>/...`.
 * - CloudWatch Logs User Guide, encrypt-log-data-kms.html: the encryption context of a log
 *   group's data keys is `aws:logs:arn` = the log group ARN.
 * - SNS Developer Guide, sns-key-management.html: CloudWatch alarms publish as
 *   cloudwatch.amazonaws.com with aws:SourceArn (the alarm) and aws:SourceAccount, and SNS calls
 *   kms:GenerateDataKey and kms:Decrypt for them (kms:ViaService sns.<region>.amazonaws.com).
 */
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EncryptedBucket, EncryptionAuditTrail } from '../../src';
import { AccessModel, ACCOUNT, OTHER_ACCOUNT, REGION, ROOT } from '../support/access-model';
import { Decision } from '../support/iam-engine';
import { s3Read, s3Write } from '../support/s3-flows';

const app = new App({ context: { 'aws:cdk:enable-path-metadata': true } });
const stack = new Stack(app, 'Test', { env: { account: ACCOUNT, region: REGION } });
const audit = new EncryptionAuditTrail(stack, 'Audit');
const data = new EncryptedBucket(stack, 'Data', { auditTrail: audit });
const writer = new iam.Role(stack, 'Writer', { assumedBy: new iam.AccountRootPrincipal() });
data.grantReadWrite(writer);
const auditor = new iam.Role(stack, 'Auditor', { assumedBy: new iam.AccountRootPrincipal() });
audit.bucket.grantRead(auditor);
const model = AccessModel.of(app);

const trail = model.one('AWS::CloudTrail::Trail');
const TRAIL = trail.arn;
const OTHER_TRAIL = `arn:aws:cloudtrail:${REGION}:${OTHER_ACCOUNT}:trail/${trail.ref}`;
const trailBucket = model.bucket('Test/Audit/Bucket/Resource');
const dataBucket = model.bucket('Test/Data/Resource');
const KEY = model.keyArn('Test/Audit/Key/Resource');
const OTHER_KEY = model.keyArn('Test/Data/Key/Resource');
const TOPIC = model.topicArn('Test/Audit/AlarmTopic/Resource');
const ALARM = model.one('AWS::CloudWatch::Alarm', 'KeyPolicyChangedAlarm').arn;
const OTHER_ALARM = `arn:aws:cloudwatch:${REGION}:${OTHER_ACCOUNT}:alarm:anything`;
const logGroup = model.one('AWS::Logs::LogGroup', 'Test/Audit/LogGroup/Resource');
const LOG_GROUP = String(logGroup.arn).replace(/:\*$/, '');
const LOG_STREAM = `${LOG_GROUP}:log-stream:${ACCOUNT}_CloudTrail_${REGION}`;
const logsRole = model.one('AWS::IAM::Role', 'Test/Audit/LogsRole/Resource');
const WRITER = model.roleArn('Test/Writer/Resource');
const AUDITOR = model.roleArn('Test/Auditor/Resource');
const OUTSIDER = `arn:aws:iam::${OTHER_ACCOUNT}:role/outsider`;
const allowAll = [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }];

const LOG_FILE = `AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/2026/11/30/${ACCOUNT}_CloudTrail_${REGION}_20261130T1030Z_abc.json.gz`;
const LOG_FILE_OTHER_REGION = `AWSLogs/${ACCOUNT}/CloudTrail/eu-west-1/2026/11/30/${ACCOUNT}_CloudTrail_eu-west-1_20261130T1030Z_abc.json.gz`;
const DIGEST = `AWSLogs/${ACCOUNT}/CloudTrail-Digest/${REGION}/2026/11/30/${ACCOUNT}_CloudTrail-Digest_${REGION}_${trail.ref}_${REGION}_20261130T110000Z.json.gz`;

/** The headers and source keys of a CloudTrail delivery. */
function delivery(sourceArn: string, sse: Record<string, string>, extra: Record<string, string | undefined> = {}) {
  return { 'aws:SourceArn': sourceArn, 's3:x-amz-acl': 'bucket-owner-full-control', 's3:ObjectCreationOperation': 'true', ...sse, ...extra };
}
const SSE_KMS = { 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': KEY };
// encrypting-cloudtrail-log-files-with-aws-kms.html: "Digest files are encrypted with Amazon
// S3-managed encryption keys (SSE-S3)": on a bucket whose default is SSE-KMS that takes the header.
const SSE_S3 = { 's3:x-amz-server-side-encryption': 'AES256' };

/** What S3 sends KMS for CloudTrail: both contexts, the trail as source. */
function cloudTrailKms(sourceArn: string, objectKey: string, trailArn = TRAIL) {
  return {
    'aws:SourceArn': sourceArn,
    'kms:ViaService': `s3.${REGION}.amazonaws.com`,
    'kms:EncryptionContext:aws:cloudtrail:arn': trailArn,
    'kms:EncryptionContext:aws:s3:arn': `${trailBucket.arn}/${objectKey}`,
    'kms:EncryptionContextKeys': ['aws:cloudtrail:arn', 'aws:s3:arn'],
  };
}
const alarmSource = (alarm: string, account: string) => ({ 'aws:SourceArn': alarm, 'aws:SourceAccount': account });
const viaSns = { 'kms:ViaService': `sns.${REGION}.amazonaws.com` };
const logsContext = (group: string) => ({ 'kms:EncryptionContext:aws:logs:arn': group, 'kms:EncryptionContextKeys': ['aws:logs:arn'] });

type Row = [string, string, string, string, Record<string, any>, Decision];

describe('EncryptionAuditTrail access matrix', () => {
  const rows: Row[] = [
    // Log delivery to S3.
    ['CloudTrail checks the bucket ACL', 'cloudtrail.amazonaws.com', 's3:GetBucketAcl', trailBucket.arn, { 'aws:SourceArn': TRAIL }, 'Allowed'],
    ['CloudTrail writes a log file with the trail key', 'cloudtrail.amazonaws.com', 's3:PutObject', `${trailBucket.arn}/${LOG_FILE}`, delivery(TRAIL, SSE_KMS), 'Allowed'],
    ['CloudTrail writes a log file of another Region of the multi-Region trail', 'cloudtrail.amazonaws.com', 's3:PutObject', `${trailBucket.arn}/${LOG_FILE_OTHER_REGION}`, delivery(TRAIL, SSE_KMS), 'Allowed'],
    ['S3 generates the log file data key for CloudTrail', 'cloudtrail.amazonaws.com', 'kms:GenerateDataKey', KEY, cloudTrailKms(TRAIL, LOG_FILE), 'Allowed'],
    ['CloudTrail describes its key (no encryption context)', 'cloudtrail.amazonaws.com', 'kms:DescribeKey', KEY, { 'aws:SourceArn': TRAIL }, 'Allowed'],
    // Digest files, both ways the CloudTrail guide describes them.
    ['CloudTrail writes a digest file with the trail key (create-kms-key-policy-for-cloudtrail.html)', 'cloudtrail.amazonaws.com', 's3:PutObject', `${trailBucket.arn}/${DIGEST}`, delivery(TRAIL, SSE_KMS), 'Allowed'],
    ['S3 generates the digest file data key for CloudTrail', 'cloudtrail.amazonaws.com', 'kms:GenerateDataKey', KEY, cloudTrailKms(TRAIL, DIGEST), 'Allowed'],
    // CloudWatch Logs delivery.
    ['CloudTrail writes a log stream through its role', logsRole.arn, 'logs:CreateLogStream', LOG_STREAM, {}, 'Allowed'],
    ['CloudTrail puts log events through its role', logsRole.arn, 'logs:PutLogEvents', LOG_STREAM, {}, 'Allowed'],
    ['CloudWatch Logs encrypts the trail log group', `logs.${REGION}.amazonaws.com`, 'kms:GenerateDataKey', KEY, logsContext(LOG_GROUP), 'Allowed'],
    ['CloudWatch Logs decrypts the trail log group', `logs.${REGION}.amazonaws.com`, 'kms:Decrypt', KEY, logsContext(LOG_GROUP), 'Allowed'],
    // Alarms.
    ['a CloudWatch alarm of the stack publishes to the alarm topic', 'cloudwatch.amazonaws.com', 'sns:Publish', TOPIC, alarmSource(ALARM, ACCOUNT), 'Allowed'],
    ['SNS generates the data key for the alarm', 'cloudwatch.amazonaws.com', 'kms:GenerateDataKey', KEY, { ...alarmSource(ALARM, ACCOUNT), ...viaSns }, 'Allowed'],
    ['SNS decrypts the data key for the alarm', 'cloudwatch.amazonaws.com', 'kms:Decrypt', KEY, { ...alarmSource(ALARM, ACCOUNT), ...viaSns }, 'Allowed'],
    // Attacks.
    ['CloudTrail for another account\'s trail writes here', 'cloudtrail.amazonaws.com', 's3:PutObject', `${trailBucket.arn}/${LOG_FILE}`, delivery(OTHER_TRAIL, SSE_KMS), 'ExplicitlyDenied'],
    ['CloudTrail for another account\'s trail checks the ACL', 'cloudtrail.amazonaws.com', 's3:GetBucketAcl', trailBucket.arn, { 'aws:SourceArn': OTHER_TRAIL }, 'ExplicitlyDenied'],
    ['CloudTrail for another account\'s trail uses the key', 'cloudtrail.amazonaws.com', 'kms:GenerateDataKey', KEY, cloudTrailKms(OTHER_TRAIL, LOG_FILE, OTHER_TRAIL), 'ImplicitlyDenied'],
    ['CloudTrail for another account\'s trail describes the key', 'cloudtrail.amazonaws.com', 'kms:DescribeKey', KEY, { 'aws:SourceArn': OTHER_TRAIL }, 'ImplicitlyDenied'],
    ['CloudTrail delivery without TLS', 'cloudtrail.amazonaws.com', 's3:PutObject', `${trailBucket.arn}/${LOG_FILE}`, delivery(TRAIL, SSE_KMS, { 'aws:SecureTransport': 'false' }), 'ExplicitlyDenied'],
    ['CloudTrail writes outside AWSLogs/<account>/', 'cloudtrail.amazonaws.com', 's3:PutObject', `${trailBucket.arn}/elsewhere/x.json.gz`, delivery(TRAIL, SSE_KMS), 'ImplicitlyDenied'],
    ['CloudTrail writes a log file under another key', 'cloudtrail.amazonaws.com', 's3:PutObject', `${trailBucket.arn}/${LOG_FILE}`, delivery(TRAIL, { ...SSE_KMS, 's3:x-amz-server-side-encryption-aws-kms-key-id': OTHER_KEY }), 'ExplicitlyDenied'],
    ['CloudTrail writes a log file as SSE-S3 outside the digest folder', 'cloudtrail.amazonaws.com', 's3:PutObject', `${trailBucket.arn}/${LOG_FILE}`, delivery(TRAIL, SSE_S3), 'ExplicitlyDenied'],
    ['CloudWatch Logs uses the key for another log group', `logs.${REGION}.amazonaws.com`, 'kms:Decrypt', KEY, logsContext(`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:other`), 'ImplicitlyDenied'],
    ['an alarm of another account publishes to the alarm topic', 'cloudwatch.amazonaws.com', 'sns:Publish', TOPIC, alarmSource(OTHER_ALARM, OTHER_ACCOUNT), 'ImplicitlyDenied'],
    ['an alarm of another account uses the topic key', 'cloudwatch.amazonaws.com', 'kms:GenerateDataKey', KEY, { ...alarmSource(OTHER_ALARM, OTHER_ACCOUNT), ...viaSns }, 'ImplicitlyDenied'],
    ['an alarm publishes without TLS', 'cloudwatch.amazonaws.com', 'sns:Publish', TOPIC, { ...alarmSource(ALARM, ACCOUNT), 'aws:SecureTransport': 'false' }, 'ExplicitlyDenied'],
    ['EventBridge publishes to the alarm topic (only alarms publish there)', 'events.amazonaws.com', 'sns:Publish', TOPIC, { 'aws:SourceArn': `arn:aws:events:${REGION}:${ACCOUNT}:rule/x`, 'aws:SourceAccount': ACCOUNT }, 'ImplicitlyDenied'],
    ['a role without a grant on the trail key decrypts a log file directly', WRITER, 'kms:Decrypt', KEY, { 'kms:EncryptionContext:aws:cloudtrail:arn': TRAIL }, 'ImplicitlyDenied'],
    ['a role of another account decrypts a log file directly', OUTSIDER, 'kms:Decrypt', KEY, { 'kms:EncryptionContext:aws:cloudtrail:arn': TRAIL }, 'ImplicitlyDenied'],
    ['a role of another account reads a log file', OUTSIDER, 's3:GetObject', `${trailBucket.arn}/${LOG_FILE}`, {}, 'ImplicitlyDenied'],
    // The account keeps control of the key: no lockout.
    ...['kms:PutKeyPolicy', 'kms:GetKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion', 'kms:DisableKey', 'kms:EnableKey', 'kms:EnableKeyRotation', 'kms:DescribeKey', 'kms:TagResource']
      .map((action): Row => [`the account root may ${action} on the trail key`, ROOT, action, KEY, {}, 'Allowed']),
  ];

  test.each(rows)('%s', (_name, principal, action, resource, context, expected) => {
    const identityPolicies = principal === OUTSIDER ? allowAll : undefined;
    const result = model.evaluate({ principal, action, resource, context, identityPolicies });
    expect({ decision: result.decision, deciding: result.deciding }).toEqual(expect.objectContaining({ decision: expected }));
  });

  // The other way the guide describes digest files: accepted under the digest prefix only
  // (EncryptedBucket.allowSseS3Under); SSE-S3 elsewhere stays denied (a row of the table above).
  test('CloudTrail writes a digest file as SSE-S3 (encrypting-cloudtrail-log-files-with-aws-kms.html)', () => {
    const result = model.evaluate({ principal: 'cloudtrail.amazonaws.com', action: 's3:PutObject', resource: `${trailBucket.arn}/${DIGEST}`, context: delivery(TRAIL, SSE_S3) });
    expect(result.decision).toBe('Allowed');
  });

  test('CloudTrail assumes the CloudWatch Logs role only for this trail', () => {
    const trust = (sourceArn: string) => model.assumeRole('cloudtrail.amazonaws.com', logsRole.arn, { 'aws:SourceArn': sourceArn }).decision;
    expect([trust(TRAIL), trust(OTHER_TRAIL)]).toEqual(['Allowed', 'ImplicitlyDenied']);
  });

  test.each([
    ['a granted role writes to a bucket that joined the trail', () => s3Write(model, WRITER, dataBucket, 'reports/a.csv').allowed, true],
    ['a granted role writes a multipart part to a bucket that joined the trail', () => s3Write(model, WRITER, dataBucket, 'reports/a.csv', { operation: 'UploadPart' }).allowed, true],
    ['a granted role reads from a bucket that joined the trail', () => s3Read(model, WRITER, dataBucket, 'reports/a.csv').allowed, true],
    ['an auditor with a read grant reads a log file (S3 decrypts with the CloudTrail context)', () => {
      const s3 = model.evaluate({ principal: AUDITOR, action: 's3:GetObject', resource: `${trailBucket.arn}/${LOG_FILE}` });
      const kms = model.evaluate({
        principal: AUDITOR,
        action: 'kms:Decrypt',
        resource: KEY,
        context: { ...cloudTrailKms(TRAIL, LOG_FILE), 'aws:SourceArn': undefined, 'kms:EncryptionContext:aws:s3:arn': trailBucket.arn },
      });
      return s3.decision === 'Allowed' && kms.decision === 'Allowed';
    }, true],
    ['an auditor with a read grant reads an SSE-S3 digest file', () => s3Read(model, AUDITOR, trailBucket, DIGEST, { keyArn: undefined }).s3.decision === 'Allowed', true],
    ['the writer of the data bucket cannot read the trail logs', () => s3Read(model, WRITER, trailBucket, LOG_FILE).allowed, false],
  ] as [string, () => boolean, boolean][])('%s', (_name, flow, expected) => {
    expect(flow()).toBe(expected);
  });
});
