/**
 * Access matrix of RotationPolicy: EventBridge rules publishing rotation events to the encrypted
 * monitoring topic, EventBridge Scheduler rotating keys on demand, and the account keeping control
 * of the keys, each decided by the IAM engine over the synthesized policies.
 *
 * Context keys are the ones each service sends, from its guide:
 * - EventBridge User Guide, eb-use-resource-based.html (Amazon SNS permissions): a rule publishes
 *   as events.amazonaws.com with aws:SourceArn = the rule ARN.
 * - SNS Developer Guide, sns-key-management.html: SNS calls kms:GenerateDataKey and kms:Decrypt for
 *   the publishing service (kms:ViaService sns.<region>.amazonaws.com); "aws:SourceAccount,
 *   aws:SourceArn and aws:SourceOrgID are not supported" in the key policy when EventBridge
 *   publishes to an encrypted topic, so the KMS request carries none of them.
 * - EventBridge Scheduler User Guide, setting-up.html (execution role): Scheduler assumes the role
 *   as scheduler.amazonaws.com with aws:SourceAccount; the universal target then calls
 *   kms:RotateKeyOnDemand with the role's credentials.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { EncryptedBucket, RotationPolicy } from '../../src';
import { AccessModel, ACCOUNT, OTHER_ACCOUNT, REGION, ROOT } from '../support/access-model';
import { Decision } from '../support/iam-engine';

const app = new App({ context: { 'aws:cdk:enable-path-metadata': true } });
const stack = new Stack(app, 'Test', { env: { account: ACCOUNT, region: REGION } });
new kms.Key(stack, 'ThirdParty', { enableKeyRotation: false });
new EncryptedBucket(stack, 'Data');
new RotationPolicy(stack, 'Rotation', {
  rotationPeriod: Duration.days(180),
  onDemandRotation: { interval: Duration.days(90), startDate: new Date('2030-01-01T00:00:00Z'), rotations: 4 },
});
const model = AccessModel.of(app);

const TOPIC = model.topicArn('Test/Rotation/Topic/Resource');
const TOPIC_KEY = model.keyArn('Test/Rotation/TopicKey/Resource');
const THIRD_PARTY_KEY = model.keyArn('Test/ThirdParty/Resource');
const BUCKET_KEY = model.keyArn('Test/Data/Key/Resource');
const rules = model.all('AWS::Events::Rule');
const RULES = rules.map((r) => r.arn);
const OTHER_RULE = `arn:aws:events:${REGION}:${OTHER_ACCOUNT}:rule/anything`;
const schedulerRole = model.one('AWS::IAM::Role', 'Test/Rotation/SchedulerRole/Resource');
const SCHEDULER = schedulerRole.arn;
const viaSns = { 'kms:ViaService': `sns.${REGION}.amazonaws.com` };

type Row = [string, string, string, string, Record<string, any>, Decision];

describe('RotationPolicy access matrix', () => {
  test('the policy made three monitoring rules', () => expect(RULES).toHaveLength(3));

  const rows: Row[] = [
    ...rules.map((rule): Row => [`the rule ${rule.logicalId.replace(/^Rotation|[0-9A-F]{8}$/g, '')} publishes to the monitoring topic`, 'events.amazonaws.com', 'sns:Publish', TOPIC, { 'aws:SourceArn': rule.arn, 'aws:SourceAccount': ACCOUNT }, 'Allowed']),
    ['SNS generates the data key for EventBridge (no source keys)', 'events.amazonaws.com', 'kms:GenerateDataKey', TOPIC_KEY, viaSns, 'Allowed'],
    ['SNS decrypts the data key for EventBridge (no source keys)', 'events.amazonaws.com', 'kms:Decrypt', TOPIC_KEY, viaSns, 'Allowed'],
    ...[['a key made by other code', THIRD_PARTY_KEY], ['a bucket key', BUCKET_KEY], ['the topic key', TOPIC_KEY]]
      .map(([name, key]): Row => [`the scheduler role rotates ${name} on demand`, SCHEDULER, 'kms:RotateKeyOnDemand', key, {}, 'Allowed']),
    // Attacks.
    ['a rule of another account publishes to the monitoring topic', 'events.amazonaws.com', 'sns:Publish', TOPIC, { 'aws:SourceArn': OTHER_RULE, 'aws:SourceAccount': OTHER_ACCOUNT }, 'ImplicitlyDenied'],
    ['a rule publishes without TLS', 'events.amazonaws.com', 'sns:Publish', TOPIC, { 'aws:SourceArn': RULES[0], 'aws:SourceAccount': ACCOUNT, 'aws:SecureTransport': 'false' }, 'ExplicitlyDenied'],
    ['CloudWatch publishes to the monitoring topic (only the rules publish there)', 'cloudwatch.amazonaws.com', 'sns:Publish', TOPIC, { 'aws:SourceArn': `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:x`, 'aws:SourceAccount': ACCOUNT }, 'ImplicitlyDenied'],
    ['EventBridge uses the topic key to encrypt outside SNS', 'events.amazonaws.com', 'kms:Encrypt', TOPIC_KEY, {}, 'ImplicitlyDenied'],
    ['the scheduler role decrypts with a key it rotates', SCHEDULER, 'kms:Decrypt', THIRD_PARTY_KEY, {}, 'ImplicitlyDenied'],
    ['the scheduler role schedules the deletion of a key it rotates', SCHEDULER, 'kms:ScheduleKeyDeletion', BUCKET_KEY, {}, 'ImplicitlyDenied'],
    ['the scheduler role disables rotation', SCHEDULER, 'kms:DisableKeyRotation', BUCKET_KEY, {}, 'ImplicitlyDenied'],
    ['the scheduler role rotates a key outside the policy', SCHEDULER, 'kms:RotateKeyOnDemand', `arn:aws:kms:${REGION}:${ACCOUNT}:key/not-in-scope`, {}, 'ImplicitlyDenied'],
    // The account keeps control of the topic key: no lockout.
    ...['kms:PutKeyPolicy', 'kms:GetKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion', 'kms:DisableKey', 'kms:EnableKeyRotation', 'kms:RotateKeyOnDemand', 'kms:DescribeKey']
      .map((action): Row => [`the account root may ${action} on the topic key`, ROOT, action, TOPIC_KEY, {}, 'Allowed']),
  ];

  test.each(rows)('%s', (_name, principal, action, resource, context, expected) => {
    const result = model.evaluate({ principal, action, resource, context });
    expect({ decision: result.decision, deciding: result.deciding }).toEqual(expect.objectContaining({ decision: expected }));
  });

  test.each([
    ['EventBridge Scheduler of this account', ACCOUNT, 'Allowed'],
    ['EventBridge Scheduler of another account', OTHER_ACCOUNT, 'ImplicitlyDenied'],
  ])('%s assumes the scheduler role', (_name, account, expected) => {
    expect(model.assumeRole('scheduler.amazonaws.com', SCHEDULER, { 'aws:SourceAccount': account }).decision).toBe(expected);
  });
});
