import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, CfnOutput, Duration, Errors, Fn, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EncryptedBucket, EncryptionAuditTrail, ObjectEncryption, S3EncryptionChecks, S3EncryptionChecksProps } from '../../src';
import { synthWithValidation } from '../support/validation-report';

const ENV = { account: '111111111111', region: 'us-east-1' };

function stackOf(): { app: App; stack: Stack } {
  const app = new App();
  return { app, stack: new Stack(app, 'S', { env: ENV }) };
}

/** The construct paths each rule flags, by rule name without the pack prefix. */
function flagged(scope: Stack, props?: S3EncryptionChecksProps): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const v of new S3EncryptionChecks(undefined, props).validateScope(scope).violations) {
    out[v.ruleName.replace(/^S3Encryption-/, '')] = v.violatingResources.map((r: any) => r.constructPath);
  }
  return out;
}

const flags = (scope: Stack, rule: string, at: string, props?: S3EncryptionChecksProps) => (flagged(scope, props)[rule] ?? []).includes(at);

describe('S3BucketEncryptedWithCustomerManagedKey', () => {
  test('an EncryptedBucket passes', () => {
    const { stack } = stackOf();
    new EncryptedBucket(stack, 'B');
    expect(flags(stack, 'S3BucketEncryptedWithCustomerManagedKey', 'S/B/Resource')).toBe(false);
  });
  test('SSE-S3 and the aws/s3 key fail', () => {
    const { stack } = stackOf();
    new s3.Bucket(stack, 'SseS3', { encryption: s3.BucketEncryption.S3_MANAGED });
    new s3.Bucket(stack, 'AwsManaged', { encryption: s3.BucketEncryption.KMS_MANAGED });
    expect(flags(stack, 'S3BucketEncryptedWithCustomerManagedKey', 'S/SseS3/Resource')).toBe(true);
    expect(flags(stack, 'S3BucketEncryptedWithCustomerManagedKey', 'S/AwsManaged/Resource')).toBe(true);
  });
});

describe('S3BucketKeysEnabled', () => {
  test('passes with Bucket Keys, fails without', () => {
    const { stack } = stackOf();
    new EncryptedBucket(stack, 'On');
    new s3.Bucket(stack, 'Off', { encryptionKey: new kms.Key(stack, 'K'), bucketKeyEnabled: false });
    expect(flags(stack, 'S3BucketKeysEnabled', 'S/On/Resource')).toBe(false);
    expect(flags(stack, 'S3BucketKeysEnabled', 'S/Off/Resource')).toBe(true);
  });
});

describe('S3BucketPolicyDeniesOtherKmsKeys', () => {
  test('passes for an EncryptedBucket, fails for a KMS bucket without the denial', () => {
    const { stack } = stackOf();
    new EncryptedBucket(stack, 'Good');
    new s3.Bucket(stack, 'Bad', { encryptionKey: new kms.Key(stack, 'K'), enforceSSL: true });
    expect(flags(stack, 'S3BucketPolicyDeniesOtherKmsKeys', 'S/Good/Resource')).toBe(false);
    expect(flags(stack, 'S3BucketPolicyDeniesOtherKmsKeys', 'S/Bad/Resource')).toBe(true);
  });
});

/** An L1 bucket with SSE-S3 (AES256), SSE-KMS or DSSE-KMS default encryption. */
function cfnBucket(stack: Stack, id: string, algorithm: 'AES256' | 'aws:kms' | 'aws:kms:dsse', props: Partial<s3.CfnBucketProps> = {}): s3.CfnBucket {
  return new s3.CfnBucket(stack, id, {
    bucketEncryption: { serverSideEncryptionConfiguration: [{ serverSideEncryptionByDefault: { sseAlgorithm: algorithm } }] },
    ...props,
  });
}

/** A bucket that sends its server access logs to `destination` (a reference or a literal name). */
function logsTo(stack: Stack, id: string, destination: string): s3.CfnBucket {
  return cfnBucket(stack, id, 'AES256', { loggingConfiguration: { destinationBucketName: destination } });
}

describe('S3AccessLogDestinationAccepted', () => {
  test('an SSE-S3 destination without Object Lock passes; a bucket that receives no logs is not applicable', () => {
    const { stack } = stackOf();
    const logs = cfnBucket(stack, 'Logs', 'AES256');
    logsTo(stack, 'Src', logs.ref);
    const unencrypted = new s3.CfnBucket(stack, 'Plain');
    logsTo(stack, 'Src2', unencrypted.ref);
    cfnBucket(stack, 'Lonely', 'aws:kms', { objectLockEnabled: true });
    const f = flagged(stack).S3AccessLogDestinationAccepted ?? [];
    expect(f).not.toContain('S/Logs');
    expect(f).not.toContain('S/Plain');
    expect(f).not.toContain('S/Lonely');
    expect(f).not.toContain('S/Src');
  });
  test('a destination with Object Lock, SSE-KMS or DSSE-KMS default encryption fails', () => {
    const { stack } = stackOf();
    const locked = cfnBucket(stack, 'Locked', 'AES256', { objectLockEnabled: true });
    const lockedByConfig = cfnBucket(stack, 'LockedByConfig', 'AES256', { objectLockConfiguration: { objectLockEnabled: 'Enabled' } });
    const kmsLogs = cfnBucket(stack, 'Kms', 'aws:kms');
    const dsseLogs = cfnBucket(stack, 'Dsse', 'aws:kms:dsse');
    [locked, lockedByConfig, kmsLogs, dsseLogs].forEach((d, i) => logsTo(stack, `Src${i}`, d.ref));
    const f = flagged(stack).S3AccessLogDestinationAccepted ?? [];
    expect(f.sort()).toEqual(['S/Dsse', 'S/Kms', 'S/Locked', 'S/LockedByConfig']);
  });
  test('a destination that logs into itself fails, by leaving the destination out or by naming itself', () => {
    const { stack } = stackOf();
    cfnBucket(stack, 'NoDestination', 'AES256', { loggingConfiguration: { logFilePrefix: 'self/' } });
    cfnBucket(stack, 'NamesItself', 'AES256', { bucketName: 'logs-of-logs', loggingConfiguration: { destinationBucketName: 'logs-of-logs' } });
    const f = flagged(stack).S3AccessLogDestinationAccepted ?? [];
    expect(f.sort()).toEqual(['S/NamesItself', 'S/NoDestination']);
  });
  test('the destination is found by its literal name and across stacks', () => {
    const app = new App();
    const logStack = new Stack(app, 'Logs', { env: ENV });
    cfnBucket(logStack, 'ByName', 'aws:kms', { bucketName: 'central-access-logs' });
    const byRef = new s3.Bucket(logStack, 'ByRef', { encryptionKey: new kms.Key(logStack, 'K') });
    const data = new Stack(app, 'Data', { env: ENV });
    logsTo(data, 'A', 'central-access-logs');
    logsTo(data, 'B', byRef.bucketName);
    const exported = cfnBucket(logStack, 'ByExport', 'aws:kms');
    new CfnOutput(logStack, 'Out', { value: exported.ref, exportName: 'central-log-bucket' });
    logsTo(data, 'C', Fn.importValue('central-log-bucket'));
    const f = flagged(logStack).S3AccessLogDestinationAccepted ?? [];
    expect(f.sort()).toEqual(['Logs/ByExport', 'Logs/ByName', 'Logs/ByRef/Resource']);
  });
});

describe('S3BucketEncryptedWithCustomerManagedKey on log destinations', () => {
  test('an SSE-S3 server-access-log destination is not applicable; the same bucket receiving no logs fails', () => {
    const { stack } = stackOf();
    const logs = cfnBucket(stack, 'Logs', 'AES256');
    new s3.Bucket(stack, 'Src', { encryptionKey: new kms.Key(stack, 'K'), serverAccessLogsBucket: s3.Bucket.fromCfnBucket(logs) });
    cfnBucket(stack, 'Other', 'AES256');
    expect(flags(stack, 'S3BucketEncryptedWithCustomerManagedKey', 'S/Logs')).toBe(false);
    expect(flags(stack, 'S3BucketEncryptedWithCustomerManagedKey', 'S/Other')).toBe(true);
  });
});

/** A KMS key whose policy is the given statements only (administration by the account root first). */
function keyOf(stack: Stack, id: string, ...statements: iam.PolicyStatement[]): kms.Key {
  const admin = new iam.PolicyStatement({ principals: [new iam.AccountRootPrincipal()], actions: ['kms:Create*', 'kms:Describe*', 'kms:Put*'], resources: ['*'] });
  return new kms.Key(stack, id, { policy: new iam.PolicyDocument({ statements: [admin, ...statements] }) });
}

function servicePublishes(service: string, actions: string[], conditions?: Record<string, any>): iam.PolicyStatement {
  return new iam.PolicyStatement({ principals: [new iam.ServicePrincipal(service)], actions, resources: ['*'], conditions });
}

/** A CloudWatch alarm that notifies `topic`. */
function alarmOn(stack: Stack, id: string, topic: sns.ITopic): void {
  new cloudwatch.Alarm(stack, id, {
    metric: new cloudwatch.Metric({ namespace: 'AWS/KMS', metricName: 'SecondsUntilKeyMaterialExpiration' }),
    threshold: 1,
    evaluationPeriods: 1,
  }).addAlarmAction(new cwActions.SnsAction(topic));
}

describe('AlarmTopicAllowsPublishers', () => {
  test('a topic with no topic policy and no key passes when an alarm notifies it; a topic nobody publishes to is not applicable', () => {
    const { stack } = stackOf();
    alarmOn(stack, 'Alarm', new sns.Topic(stack, 'Open'));
    new sns.Topic(stack, 'Unused', { enforceSSL: true });
    expect(flagged(stack).AlarmTopicAllowsPublishers ?? []).toEqual([]);
  });
  test('a topic policy without an allow for CloudWatch fails (it replaces the default policy); with one it passes', () => {
    const { stack } = stackOf();
    const tlsOnly = new sns.Topic(stack, 'TlsOnly', { enforceSSL: true });
    alarmOn(stack, 'A1', tlsOnly);
    const allowed = new sns.Topic(stack, 'Allowed', { enforceSSL: true });
    allowed.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [allowed.topicArn],
      conditions: { StringEquals: { 'aws:SourceAccount': '111111111111' } },
    }));
    alarmOn(stack, 'A2', allowed);
    expect(flagged(stack).AlarmTopicAllowsPublishers).toEqual(['S/TlsOnly/Resource']);
  });
  test('an EventBridge rule target needs events.amazonaws.com in the topic policy', () => {
    const { stack } = stackOf();
    const viaTarget = new sns.Topic(stack, 'ViaTarget', { enforceSSL: true });
    new events.Rule(stack, 'R1', { schedule: events.Schedule.rate(Duration.hours(1)), targets: [new targets.SnsTopic(viaTarget)] });
    const cloudWatchOnly = new sns.Topic(stack, 'CloudWatchOnly', { enforceSSL: true });
    cloudWatchOnly.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')], actions: ['sns:Publish'], resources: [cloudWatchOnly.topicArn],
    }));
    new events.CfnRule(stack, 'R2', { scheduleExpression: 'rate(1 hour)', targets: [{ id: 'T', arn: cloudWatchOnly.topicArn }] });
    expect(flagged(stack).AlarmTopicAllowsPublishers).toEqual(['S/CloudWatchOnly/Resource']);
  });
  test('an encrypted topic needs kms:GenerateDataKey* and kms:Decrypt for the publishing service in its key policy', () => {
    const { stack } = stackOf();
    const missing = new sns.Topic(stack, 'Missing', { masterKey: keyOf(stack, 'K1') });
    alarmOn(stack, 'A1', missing);
    const decryptOnly = new sns.Topic(stack, 'DecryptOnly', { masterKey: keyOf(stack, 'K2', servicePublishes('cloudwatch.amazonaws.com', ['kms:Decrypt'])) });
    alarmOn(stack, 'A2', decryptOnly);
    const granted = new sns.Topic(stack, 'Granted', {
      masterKey: keyOf(stack, 'K3', servicePublishes('cloudwatch.amazonaws.com', ['kms:Decrypt', 'kms:GenerateDataKey*'], { StringEquals: { 'aws:SourceAccount': '111111111111' } })),
    });
    alarmOn(stack, 'A3', granted);
    expect((flagged(stack).AlarmTopicAllowsPublishers ?? []).sort()).toEqual(['S/DecryptOnly/Resource', 'S/Missing/Resource']);
  });
  test('EventBridge key statements with source conditions do not count (EventBridge does not send them)', () => {
    const { stack } = stackOf();
    const conditioned = new sns.Topic(stack, 'Conditioned', {
      masterKey: keyOf(stack, 'K1', servicePublishes('events.amazonaws.com', ['kms:Decrypt', 'kms:GenerateDataKey'], { StringEquals: { 'aws:SourceAccount': '111111111111' } })),
    });
    const plain = new sns.Topic(stack, 'Plain', { masterKey: keyOf(stack, 'K2', servicePublishes('events.amazonaws.com', ['kms:Decrypt', 'kms:GenerateDataKey'])) });
    // The L1 rule: aws-events-targets' SnsTopic would add its own unconditioned key statement.
    new events.CfnRule(stack, 'R', { scheduleExpression: 'rate(1 hour)', targets: [{ id: 'C', arn: conditioned.topicArn }, { id: 'P', arn: plain.topicArn }] });
    expect(flagged(stack).AlarmTopicAllowsPublishers).toEqual(['S/Conditioned/Resource']);
  });
  test('the AWS managed key aws/sns fails; a key named by its alias is found', () => {
    const { stack } = stackOf();
    const managed = new sns.CfnTopic(stack, 'Managed', { kmsMasterKeyId: 'alias/aws/sns' });
    const alarm = { comparisonOperator: 'GreaterThanThreshold', evaluationPeriods: 1, threshold: 1, metricName: 'M', namespace: 'N', period: 60 };
    new cloudwatch.CfnAlarm(stack, 'A1', { ...alarm, alarmActions: [managed.ref] });
    const key = keyOf(stack, 'K');
    new kms.Alias(stack, 'Alias', { aliasName: 'alias/alarms', targetKey: key });
    const byAlias = new sns.CfnTopic(stack, 'ByAlias', { kmsMasterKeyId: 'alias/alarms' });
    new cloudwatch.CfnAlarm(stack, 'A2', { ...alarm, okActions: [byAlias.ref] });
    expect((flagged(stack).AlarmTopicAllowsPublishers ?? []).sort()).toEqual(['S/ByAlias', 'S/Managed']);
  });
});

const SSE = 's3:x-amz-server-side-encryption';
const KEY_ID = 's3:x-amz-server-side-encryption-aws-kms-key-id';

/** A KMS bucket whose policy holds only the given denials on s3:PutObject. */
function bucketDenying(stack: Stack, id: string, ...denials: Array<Record<string, any>>): s3.Bucket {
  const b = new s3.Bucket(stack, id, { encryptionKey: new kms.Key(stack, `${id}Key`), bucketKeyEnabled: true });
  for (const d of denials) {
    const { actions, resources, notResources, ...conditions } = d;
    b.addToResourcePolicy(new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: actions ?? ['s3:PutObject'],
      ...(notResources ? { notResources: notResources.map((r: string) => b.arnForObjects(r)) } : { resources: (resources ?? ['*']).map((r: string) => b.arnForObjects(r)) }),
      conditions,
    }));
  }
  return b;
}

const PIN = { StringNotEquals: { [KEY_ID]: 'arn:aws:kms:us-east-1:111111111111:key/k' }, Null: { [KEY_ID]: 'false' } };
const OTHER_ALGORITHM = { StringNotEquals: { [SSE]: 'aws:kms' }, Null: { [SSE]: 'false' } };
const ALGORITHM_WITHOUT_KEY = { Null: { [SSE]: 'false', [KEY_ID]: 'true' } };

describe('S3BucketPolicyDeniesAlgorithmWithoutKey', () => {
  test('a key denial without the algorithm-without-key denial fails; with it, in one statement, passes', () => {
    const { stack } = stackOf();
    bucketDenying(stack, 'PinOnly', PIN, OTHER_ALGORITHM);
    bucketDenying(stack, 'Both', PIN, OTHER_ALGORITHM, ALGORITHM_WITHOUT_KEY);
    bucketDenying(stack, 'ByValue', PIN, { StringEquals: { [SSE]: ['aws:kms', 'aws:kms:dsse'] }, Null: { [KEY_ID]: 'true' } });
    new EncryptedBucket(stack, 'Enc');
    const f = flagged(stack).S3BucketPolicyDeniesAlgorithmWithoutKey ?? [];
    expect(f).toEqual(['S/PinOnly/Resource']);
  });
  test('denying aws:kms without a key lets aws:kms:dsse without a key through unless another algorithm is denied', () => {
    const { stack } = stackOf();
    const kmsOnly = { StringEquals: { [SSE]: 'aws:kms' }, Null: { [KEY_ID]: 'true' } };
    bucketDenying(stack, 'KmsOnly', PIN, kmsOnly);
    bucketDenying(stack, 'KmsOnlyAndAlgorithm', PIN, kmsOnly, OTHER_ALGORITHM);
    expect(flagged(stack).S3BucketPolicyDeniesAlgorithmWithoutKey).toEqual(['S/KmsOnly/Resource']);
  });
  test('a denial limited by another condition, or to fewer objects than the key denial, does not count', () => {
    const { stack } = stackOf();
    bucketDenying(stack, 'ForSomeone', PIN, OTHER_ALGORITHM, { ...ALGORITHM_WITHOUT_KEY, ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::111111111111:role/x' } });
    bucketDenying(stack, 'Narrower', PIN, OTHER_ALGORITHM, { ...ALGORITHM_WITHOUT_KEY, resources: ['logs/*'] });
    bucketDenying(stack, 'ExemptPrefix', { ...PIN, notResources: ['tenants/*'] }, OTHER_ALGORITHM, ALGORITHM_WITHOUT_KEY);
    const f = flagged(stack).S3BucketPolicyDeniesAlgorithmWithoutKey ?? [];
    expect(f.sort()).toEqual(['S/ForSomeone/Resource', 'S/Narrower/Resource']);
  });
  test('a key denial written with the literal bucket ARN is covered by a denial written with the bucket reference', () => {
    const { stack } = stackOf();
    const b = new s3.Bucket(stack, 'Named', { bucketName: 'named-data', encryptionKey: new kms.Key(stack, 'K'), bucketKeyEnabled: true });
    const deny = (resources: string[], conditions: Record<string, any>) => b.addToResourcePolicy(new iam.PolicyStatement({
      effect: iam.Effect.DENY, principals: [new iam.AnyPrincipal()], actions: ['s3:PutObject'], resources, conditions,
    }));
    deny(['arn:aws:s3:::named-data/tenants/*'], PIN);
    deny([b.arnForObjects('*')], OTHER_ALGORITHM);
    deny([b.arnForObjects('*')], ALGORITHM_WITHOUT_KEY);
    expect(flagged(stack).S3BucketPolicyDeniesAlgorithmWithoutKey ?? []).toEqual([]);
    deny(['arn:aws:s3:::another-bucket/*'], PIN);
    expect(flagged(stack).S3BucketPolicyDeniesAlgorithmWithoutKey).toEqual(['S/Named/Resource']);
  });
  test('not applicable without a key denial, for SSE-S3 and for SSE-C buckets', () => {
    const { stack } = stackOf();
    bucketDenying(stack, 'NoPin', OTHER_ALGORITHM);
    new s3.Bucket(stack, 'SseS3', { encryption: s3.BucketEncryption.S3_MANAGED });
    new EncryptedBucket(stack, 'SseC', { objectEncryption: ObjectEncryption.SSE_C });
    expect(flagged(stack).S3BucketPolicyDeniesAlgorithmWithoutKey ?? []).toEqual([]);
  });
});

describe('S3KeyDenialsAllowMultipart', () => {
  test('denials that fire on an absent key-id or algorithm header fail, whatever guards them', () => {
    const { stack } = stackOf();
    bucketDenying(stack, 'NoKeyId', { Null: { [KEY_ID]: 'true' } });
    bucketDenying(stack, 'NotLikeUnguarded', { StringNotLike: { [KEY_ID]: 'arn:aws:kms:us-east-1:111111111111:key/*' } });
    bucketDenying(stack, 'IfExists', { StringNotEqualsIfExists: { [SSE]: 'aws:kms' } });
    bucketDenying(stack, 'CreationOnly', { Null: { [KEY_ID]: 'true' }, Bool: { 's3:ObjectCreationOperation': 'true' } });
    bucketDenying(stack, 'PartsOnly', { Null: { [KEY_ID]: 'true' }, Bool: { 's3:ObjectCreationOperation': 'false' } });
    bucketDenying(stack, 'PutWildcard', { actions: ['s3:Put*'], Null: { [SSE]: 'true' } });
    const f = flagged(stack).S3KeyDenialsAllowMultipart ?? [];
    expect(f.sort()).toEqual(['S/CreationOnly/Resource', 'S/IfExists/Resource', 'S/NoKeyId/Resource', 'S/NotLikeUnguarded/Resource', 'S/PartsOnly/Resource', 'S/PutWildcard/Resource']);
  });
  test('denials of what a header names pass, and so does the SSE-C requirement', () => {
    const { stack } = stackOf();
    bucketDenying(stack, 'Guarded', PIN, OTHER_ALGORITHM, ALGORITHM_WITHOUT_KEY);
    bucketDenying(stack, 'ReadOnly', { actions: ['s3:GetObject'], Null: { [KEY_ID]: 'true' } });
    new EncryptedBucket(stack, 'Kms');
    new EncryptedBucket(stack, 'SseC', { objectEncryption: ObjectEncryption.SSE_C });
    expect(flagged(stack).S3KeyDenialsAllowMultipart ?? []).toEqual([]);
  });
});

describe('S3SseCBlockedUnlessChosen', () => {
  test('passes when blocked or when SSE-C is the chosen mode, fails otherwise', () => {
    const { stack } = stackOf();
    new EncryptedBucket(stack, 'Blocked');
    new EncryptedBucket(stack, 'Chosen', { objectEncryption: ObjectEncryption.SSE_C });
    new s3.Bucket(stack, 'Open', { encryptionKey: new kms.Key(stack, 'K') });
    expect(flags(stack, 'S3SseCBlockedUnlessChosen', 'S/Blocked/Resource')).toBe(false);
    expect(flags(stack, 'S3SseCBlockedUnlessChosen', 'S/Chosen/Resource')).toBe(false);
    expect(flags(stack, 'S3SseCBlockedUnlessChosen', 'S/Open/Resource')).toBe(true);
  });
});

describe('S3TlsEnforcedAtLeast12', () => {
  test('needs both the TLS denial and the 1.2 minimum', () => {
    const { stack } = stackOf();
    new s3.Bucket(stack, 'SslOnly', { enforceSSL: true });
    new s3.Bucket(stack, 'Tls12', { enforceSSL: true, minimumTLSVersion: 1.2 });
    new EncryptedBucket(stack, 'Enc');
    expect(flags(stack, 'S3TlsEnforcedAtLeast12', 'S/SslOnly/Resource')).toBe(true);
    expect(flags(stack, 'S3TlsEnforcedAtLeast12', 'S/Tls12/Resource')).toBe(false);
    expect(flags(stack, 'S3TlsEnforcedAtLeast12', 'S/Enc/Resource')).toBe(false);
  });
});

describe('KMSRotationWithinPeriod', () => {
  test('fails without rotation or above the maximum, passes within it; asymmetric keys do not apply', () => {
    const { stack } = stackOf();
    new kms.Key(stack, 'Off');
    new kms.Key(stack, 'Long', { enableKeyRotation: true, rotationPeriod: Duration.days(400) });
    new kms.Key(stack, 'Ok', { enableKeyRotation: true, rotationPeriod: Duration.days(180) });
    new kms.Key(stack, 'Rsa', { keySpec: kms.KeySpec.RSA_3072, keyUsage: kms.KeyUsage.SIGN_VERIFY });
    expect(flags(stack, 'KMSRotationWithinPeriod', 'S/Off/Resource')).toBe(true);
    expect(flags(stack, 'KMSRotationWithinPeriod', 'S/Long/Resource')).toBe(true);
    expect(flags(stack, 'KMSRotationWithinPeriod', 'S/Long/Resource', { maxRotationPeriodDays: 400 })).toBe(false);
    expect(flags(stack, 'KMSRotationWithinPeriod', 'S/Ok/Resource')).toBe(false);
    expect(flags(stack, 'KMSRotationWithinPeriod', 'S/Rsa/Resource')).toBe(false);
  });
});

describe('KMSPendingWindowAtLeast', () => {
  test('a 7-day window fails the default minimum of 30 and passes a minimum of 7', () => {
    const { stack } = stackOf();
    new kms.Key(stack, 'Short', { pendingWindow: Duration.days(7) });
    new kms.Key(stack, 'Default');
    expect(flags(stack, 'KMSPendingWindowAtLeast', 'S/Short/Resource')).toBe(true);
    expect(flags(stack, 'KMSPendingWindowAtLeast', 'S/Short/Resource', { minPendingWindowDays: 7 })).toBe(false);
    expect(flags(stack, 'KMSPendingWindowAtLeast', 'S/Default/Resource')).toBe(false);
  });
});

function keyWith(stack: Stack, id: string, statement: iam.PolicyStatement): kms.Key {
  return new kms.Key(stack, id, { policy: new iam.PolicyDocument({ statements: [statement] }) });
}

describe('KMSKeyPolicyNoUnconditionedPublicUse', () => {
  test('an unconditioned * principal fails, a conditioned one passes', () => {
    const { stack } = stackOf();
    keyWith(stack, 'Open', new iam.PolicyStatement({ principals: [new iam.AnyPrincipal()], actions: ['kms:Decrypt'], resources: ['*'] }));
    keyWith(stack, 'Scoped', new iam.PolicyStatement({ principals: [new iam.AnyPrincipal()], actions: ['kms:Decrypt'], resources: ['*'], conditions: { StringEquals: { 'kms:CallerAccount': '111111111111', 'kms:ViaService': 's3.us-east-1.amazonaws.com' } } }));
    expect(flags(stack, 'KMSKeyPolicyNoUnconditionedPublicUse', 'S/Open/Resource')).toBe(true);
    expect(flags(stack, 'KMSKeyPolicyNoUnconditionedPublicUse', 'S/Scoped/Resource')).toBe(false);
  });
  test('kms:ViaService alone, a negated or IfExists caller condition, and NotPrincipal do not scope a public statement', () => {
    const { stack } = stackOf();
    const anyone = (id: string, conditions: Record<string, any>) => keyWith(stack, id, new iam.PolicyStatement({ principals: [new iam.AnyPrincipal()], actions: ['kms:Decrypt'], resources: ['*'], conditions }));
    anyone('ViaServiceOnly', { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } });
    anyone('Negated', { StringNotEquals: { 'kms:CallerAccount': '222222222222' } });
    anyone('IfExists', { StringEqualsIfExists: { 'aws:PrincipalAccount': '111111111111' } });
    anyone('OrgPinned', { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123' } });
    anyone('SourcePinned', { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::b' } });
    keyWith(stack, 'NotPrincipal', new iam.PolicyStatement({ notPrincipals: [new iam.AccountPrincipal('222222222222')], actions: ['kms:Decrypt'], resources: ['*'] }));
    const f = flagged(stack).KMSKeyPolicyNoUnconditionedPublicUse ?? [];
    expect(f.sort()).toEqual(['S/IfExists/Resource', 'S/Negated/Resource', 'S/NotPrincipal/Resource', 'S/ViaServiceOnly/Resource']);
  });
});

describe('KMSKeyPolicyNoFullAccessForNonRoot', () => {
  test('kms:* for a role fails, for the account root does not', () => {
    const { stack } = stackOf();
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() });
    keyWith(stack, 'RoleStar', new iam.PolicyStatement({ principals: [role], actions: ['kms:*'], resources: ['*'] }));
    keyWith(stack, 'RootStar', new iam.PolicyStatement({ principals: [new iam.AccountRootPrincipal()], actions: ['kms:*'], resources: ['*'] }));
    expect(flags(stack, 'KMSKeyPolicyNoFullAccessForNonRoot', 'S/RoleStar/Resource')).toBe(true);
    expect(flags(stack, 'KMSKeyPolicyNoFullAccessForNonRoot', 'S/RootStar/Resource')).toBe(false);
  });
  test("another account's root fails, by ARN or by account id; this account's root passes in a stack without an environment", () => {
    const { stack } = stackOf();
    keyWith(stack, 'OtherRoot', new iam.PolicyStatement({ principals: [new iam.AccountPrincipal('222222222222')], actions: ['kms:*'], resources: ['*'] }));
    keyWith(stack, 'OtherRootArn', new iam.PolicyStatement({ principals: [new iam.ArnPrincipal('arn:aws:iam::222222222222:root')], actions: ['*'], resources: ['*'] }));
    keyWith(stack, 'OwnAndOther', new iam.PolicyStatement({ principals: [new iam.AccountRootPrincipal(), new iam.AccountPrincipal('222222222222')], actions: ['kms:*'], resources: ['*'] }));
    keyWith(stack, 'OwnArn', new iam.PolicyStatement({ principals: [new iam.ArnPrincipal('arn:aws:iam::111111111111:root')], actions: ['kms:*'], resources: ['*'] }));
    const f = flagged(stack).KMSKeyPolicyNoFullAccessForNonRoot ?? [];
    expect(f.sort()).toEqual(['S/OtherRoot/Resource', 'S/OtherRootArn/Resource', 'S/OwnAndOther/Resource']);

    const agnostic = new Stack(new App(), 'S');
    keyWith(agnostic, 'Root', new iam.PolicyStatement({ principals: [new iam.AccountRootPrincipal()], actions: ['kms:*'], resources: ['*'] }));
    keyWith(agnostic, 'Literal', new iam.PolicyStatement({ principals: [new iam.AccountPrincipal('222222222222')], actions: ['kms:*'], resources: ['*'] }));
    expect(flagged(agnostic).KMSKeyPolicyNoFullAccessForNonRoot).toEqual(['S/Literal/Resource']);
  });
  test('NotAction and NotPrincipal allows are full access unless they leave out every KMS action', () => {
    const { stack } = stackOf();
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() });
    keyWith(stack, 'AllButDecrypt', new iam.PolicyStatement({ principals: [role], notActions: ['kms:Decrypt'], resources: ['*'] }));
    keyWith(stack, 'NothingOfKms', new iam.PolicyStatement({ principals: [role], notActions: ['kms:*'], resources: ['*'] }));
    keyWith(stack, 'NotPrincipal', new iam.PolicyStatement({ notPrincipals: [role], actions: ['kms:*'], resources: ['*'] }));
    const f = flagged(stack).KMSKeyPolicyNoFullAccessForNonRoot ?? [];
    expect(f.sort()).toEqual(['S/AllButDecrypt/Resource', 'S/NotPrincipal/Resource']);
  });
});

describe('KMSKeyUsageConditioned', () => {
  test("aws-cdk-lib's default key policy fails; the keys this library makes pass", () => {
    const { stack } = stackOf();
    new kms.Key(stack, 'Default');
    new EncryptedBucket(stack, 'B');
    expect(flags(stack, 'KMSKeyUsageConditioned', 'S/Default/Resource')).toBe(true);
    expect(flags(stack, 'KMSKeyUsageConditioned', 'S/B/Key/Resource')).toBe(false);
  });
  test('only a positive kms:ViaService or encryption-context condition scopes usage, not any condition at all', () => {
    const { stack } = stackOf();
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() });
    const use = (id: string, conditions?: Record<string, any>, more: Partial<iam.PolicyStatementProps> = {}) =>
      keyWith(stack, id, new iam.PolicyStatement({ principals: [role], actions: ['kms:Decrypt'], resources: ['*'], conditions, ...more }));
    use('ViaService', { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } });
    use('Context', { StringLike: { 'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::b/*' } });
    use('ContextKeys', { 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': 'tenant' } });
    use('Tls', { Bool: { 'aws:SecureTransport': 'true' } });
    use('CallerAccount', { StringEquals: { 'kms:CallerAccount': '111111111111' } });
    use('NegatedViaService', { StringNotEquals: { 'kms:ViaService': 'ec2.us-east-1.amazonaws.com' } });
    use('ContextPresent', { Null: { 'kms:EncryptionContext:aws:s3:arn': 'false' } });
    use('AnyViaService', { StringLike: { 'kms:ViaService': '*' } });
    use('ViaServiceIfExists', { StringEqualsIfExists: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } });
    use('AllContextKeys', { 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': 'tenant' } });
    keyWith(stack, 'NotAction', new iam.PolicyStatement({ principals: [role], notActions: ['kms:ScheduleKeyDeletion'], resources: ['*'] }));
    keyWith(stack, 'NotActionWithoutUse', new iam.PolicyStatement({ principals: [role], notActions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'], resources: ['*'] }));
    const f = flagged(stack).KMSKeyUsageConditioned ?? [];
    expect(f.sort()).toEqual([
      'S/AllContextKeys/Resource', 'S/AnyViaService/Resource', 'S/CallerAccount/Resource', 'S/ContextPresent/Resource',
      'S/NegatedViaService/Resource', 'S/NotAction/Resource', 'S/Tls/Resource', 'S/ViaServiceIfExists/Resource',
    ]);
  });
  test('service principals may be scoped by source; EventBridge publishing to an encrypted topic needs no condition', () => {
    const { stack } = stackOf();
    keyWith(stack, 'Source', servicePublishes('cloudwatch.amazonaws.com', ['kms:Decrypt', 'kms:GenerateDataKey*'], { StringEquals: { 'aws:SourceAccount': '111111111111' } }));
    keyWith(stack, 'Unscoped', servicePublishes('cloudwatch.amazonaws.com', ['kms:Decrypt', 'kms:GenerateDataKey*']));
    keyWith(stack, 'EventBridge', servicePublishes('events.amazonaws.com', ['kms:Decrypt', 'kms:GenerateDataKey*']));
    keyWith(stack, 'EventBridgeEncrypts', servicePublishes('events.amazonaws.com', ['kms:Encrypt', 'kms:Decrypt']));
    const f = flagged(stack).KMSKeyUsageConditioned ?? [];
    expect(f.sort()).toEqual(['S/EventBridgeEncrypts/Resource', 'S/Unscoped/Resource']);
  });
});

describe('S3BucketDataEventsAudited', () => {
  test('a joined bucket and its log bucket pass, a bucket outside every trail fails, the trail bucket is exempt', () => {
    const { stack } = stackOf();
    const trail = new EncryptionAuditTrail(stack, 'Audit');
    new EncryptedBucket(stack, 'In', { auditTrail: trail });
    new EncryptedBucket(stack, 'Out');
    const f = flagged(stack).S3BucketDataEventsAudited ?? [];
    expect(f).toContain('S/Out/Resource');
    expect(f).not.toContain('S/In/Resource');
    // The stack's log bucket, shared by In and Out, is recorded because In joined the trail.
    expect(f).not.toContain('S/S3EncryptionShared/AccessLogs/Resource');
    expect(f).not.toContain('S/Audit/Bucket/Resource');
    expect(f).not.toContain('S/Audit/Bucket/AccessLogs/Resource');
  });
  test('a plain trail whose bucket has no access logs, elsewhere in the app, does not break the rule', () => {
    const { app, stack } = stackOf();
    const trail = new EncryptionAuditTrail(stack, 'Audit');
    new EncryptedBucket(stack, 'In', { auditTrail: trail });
    const other = new Stack(app, 'Other', { env: ENV });
    new cloudtrail.Trail(other, 'Plain');
    expect(flagged(stack).S3BucketDataEventsAudited ?? []).toEqual([]);
  });
  test('a trail in another stack that names the bucket by its fixed name covers it', () => {
    const app = new App();
    const data = new Stack(app, 'Data', { env: ENV });
    const bucket = new EncryptedBucket(data, 'B');
    const audit = new Stack(app, 'Audit', { env: ENV });
    new EncryptionAuditTrail(audit, 'Trail').addBucket(s3.Bucket.fromBucketArn(audit, 'Ref', bucket.stableBucketArn));
    expect(flagged(data).S3BucketDataEventsAudited ?? []).not.toContain('Data/B/Resource');
  });
});

describe('S3BucketDataEventsAudited and a trail outside the app (dataEventsRecordedBy)', () => {
  const ORG_TRAIL = 'arn:aws:cloudtrail:us-east-1:222222222222:trail/organization';

  test('the bucket and its log bucket pass, named by the trail ARN in their metadata; a bucket without it still fails', () => {
    const { stack } = stackOf();
    new EncryptedBucket(stack, 'Declared', { dataEventsRecordedBy: ORG_TRAIL });
    new EncryptedBucket(stack, 'Plain', { accessLogsBucket: new s3.Bucket(stack, 'PlainLogs', { enforceSSL: true }) });
    const f = flagged(stack).S3BucketDataEventsAudited ?? [];
    expect(f).not.toContain('S/Declared/Resource');
    expect(f).not.toContain('S/S3EncryptionShared/AccessLogs/Resource');
    expect(f).toContain('S/Plain/Resource');
    const t = Template.fromStack(stack).toJSON();
    const declared = Object.values<any>(t.Resources).filter((r) => r.Metadata?.['cdk-s3-encryption:dataEventsRecordedBy']);
    expect(declared.map((r) => r.Metadata['cdk-s3-encryption:dataEventsRecordedBy'])).toEqual([ORG_TRAIL, ORG_TRAIL]);
  });

  test('metadata that is no trail ARN does not pass', () => {
    const { stack } = stackOf();
    const b = new s3.Bucket(stack, 'Raw');
    (b.node.defaultChild as s3.CfnBucket).addMetadata('cdk-s3-encryption:dataEventsRecordedBy', 'the organization trail');
    expect(flagged(stack).S3BucketDataEventsAudited).toContain('S/Raw/Resource');
  });

  test.each([
    ['not a trail ARN', { dataEventsRecordedBy: 'arn:aws:s3:::bucket' }, /S\/B.*dataEventsRecordedBy.*arn:aws:s3:::bucket.*must be a CloudTrail trail ARN/],
    ['with auditTrail', { dataEventsRecordedBy: ORG_TRAIL, auditTrail: 'trail' }, /S\/B.*dataEventsRecordedBy.*names another trail while auditTrail \(S\/Audit\) records the bucket already/],
  ])('refused: %s', (_name, props, error) => {
    const { stack } = stackOf();
    const p: any = { ...props };
    if (p.auditTrail) p.auditTrail = new EncryptionAuditTrail(stack, 'Audit');
    expect(() => new EncryptedBucket(stack, 'B', p)).toThrow(error);
  });
});

describe('CloudTrailEncryptedAndValidated', () => {
  test('an EncryptionAuditTrail passes; a trail without a key fails', () => {
    const { stack } = stackOf();
    new EncryptionAuditTrail(stack, 'Good');
    new cloudtrail.Trail(stack, 'Bare', { enableFileValidation: false });
    expect(flags(stack, 'CloudTrailEncryptedAndValidated', 'S/Good/Trail/Resource')).toBe(false);
    expect(flags(stack, 'CloudTrailEncryptedAndValidated', 'S/Bare/Resource')).toBe(true);
  });

  test('a trail needs both: encrypted but not validated fails, validated but not encrypted fails', () => {
    const { stack } = stackOf();
    const key = new kms.Key(stack, 'TrailKey', { enableKeyRotation: true });
    new cloudtrail.Trail(stack, 'KeyOnly', { encryptionKey: key, enableFileValidation: false });
    new cloudtrail.Trail(stack, 'ValidationOnly', { enableFileValidation: true });
    new cloudtrail.Trail(stack, 'Both', { encryptionKey: key, enableFileValidation: true });
    expect(flags(stack, 'CloudTrailEncryptedAndValidated', 'S/KeyOnly/Resource')).toBe(true);
    expect(flags(stack, 'CloudTrailEncryptedAndValidated', 'S/ValidationOnly/Resource')).toBe(true);
    expect(flags(stack, 'CloudTrailEncryptedAndValidated', 'S/Both/Resource')).toBe(false);
  });
});

describe('S3ReplicationDestinationEncryptedInItsRegion', () => {
  function replicated(keyArn: string) {
    const app = new App();
    const dest = new Stack(app, 'D', { env: { ...ENV, region: 'us-west-2' } });
    const replica = new EncryptedBucket(dest, 'Replica');
    const src = new Stack(app, 'S', { env: ENV });
    new EncryptedBucket(src, 'B', { replication: { destinationBucket: replica, destinationKeyArn: keyArn, destinationRegion: 'us-west-2' } });
    return src;
  }
  test('a key of the destination Region passes, a key of another Region fails', () => {
    expect(flags(replicated('arn:aws:kms:us-west-2:111111111111:alias/r'), 'S3ReplicationDestinationEncryptedInItsRegion', 'S/B/Resource')).toBe(false);
    expect(flags(replicated('arn:aws:kms:eu-west-1:111111111111:alias/r'), 'S3ReplicationDestinationEncryptedInItsRegion', 'S/B/Resource')).toBe(true);
  });
  test('replication without a replica key fails', () => {
    const { stack } = stackOf();
    const b = new s3.Bucket(stack, 'Plain', { versioned: true });
    (b.node.defaultChild as s3.CfnBucket).replicationConfiguration = {
      role: 'arn:aws:iam::111111111111:role/r',
      rules: [{ status: 'Enabled', destination: { bucket: 'arn:aws:s3:::elsewhere' } }],
    };
    expect(flags(stack, 'S3ReplicationDestinationEncryptedInItsRegion', 'S/Plain/Resource')).toBe(true);
  });
});

describe('the pack', () => {
  test('has one id per rule, in RULES.md', () => {
    const names = new S3EncryptionChecks().ruleNames;
    expect(names).toHaveLength(17);
    const rulesMd = fs.readFileSync(path.join(__dirname, '..', '..', 'RULES.md'), 'utf8');
    for (const n of names) expect(rulesMd).toContain(n);
  });
  test('rejects settings out of range', () => {
    expect(() => new S3EncryptionChecks(undefined, { maxRotationPeriodDays: 30 })).toThrow(/invalid maxRotationPeriodDays 30: must be a whole number from 90 to 2560/);
    expect(() => new S3EncryptionChecks(undefined, { minPendingWindowDays: 31 })).toThrow(/invalid minPendingWindowDays 31: must be a whole number from 7 to 30/);
    // aws-cdk-lib's validation error, not attached to a construct (the pack is not one).
    let thrown: unknown;
    try {
      new S3EncryptionChecks(undefined, { minPendingWindowDays: 31 });
    } catch (e) {
      thrown = e;
    }
    expect(Errors.isValidationError(thrown)).toBe(true);
  });
  test('a plain aws-cdk-lib bucket and key fail the rules they should', () => {
    const { stack } = stackOf();
    new s3.Bucket(stack, 'B', { encryptionKey: new kms.Key(stack, 'K') });
    expect(Object.keys(flagged(stack)).sort()).toEqual([
      'KMSKeyUsageConditioned', 'KMSRotationWithinPeriod', 'S3BucketDataEventsAudited', 'S3BucketKeysEnabled',
      'S3BucketPolicyDeniesOtherKmsKeys', 'S3SseCBlockedUnlessChosen', 'S3TlsEnforcedAtLeast12',
    ]);
  });
  test('as a Validations plugin, synth reports a plain bucket and passes an audited EncryptedBucket', () => {
    const report = (app: App): any => synthWithValidation(app);
    const bad = stackOf();
    new s3.Bucket(bad.stack, 'Plain');
    Validations.of(bad.app).addPlugins(new S3EncryptionChecks(bad.app));
    const b = report(bad.app);
    expect(b.failed).toBe(true);
    expect(JSON.stringify(b.json)).toContain('S3Encryption-S3BucketEncryptedWithCustomerManagedKey');

    const good = stackOf();
    new EncryptedBucket(good.stack, 'B', { auditTrail: new EncryptionAuditTrail(good.stack, 'Audit') });
    Validations.of(good.app).addPlugins(new S3EncryptionChecks(good.app));
    const g = report(good.app);
    expect(g.failed).toBe(false);
    expect(JSON.stringify(g.json)).not.toContain('S3Encryption-');
  });
});
