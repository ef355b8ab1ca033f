/**
 * The topic-policy and topic-key builders, decided by the IAM engine. SNS Developer Guide,
 * sns-key-management.html: a publishing service needs kms:GenerateDataKey* and kms:Decrypt on the
 * topic's key; aws:SourceAccount/aws:SourceArn are supported in the key policy for CloudWatch, not
 * for EventBridge ("not supported for EventBridge-to-encrypted-topics"), so only the topic policy
 * scopes EventBridge.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { allowTopicPublishers, topicKeyStatements, topicPublishStatements } from '../../src/keys/topic-policy';
import { AccessModel, ACCOUNT, OTHER_ACCOUNT, REGION } from '../support/access-model';
import { onKey, onTopic, PolicyUnderTest } from '../support/policy-under-test';

const ALARM = `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:kms-quota`;
const FOREIGN_ALARM = `arn:aws:cloudwatch:${REGION}:${OTHER_ACCOUNT}:alarm:kms-quota`;
const RULE = `arn:aws:events:${REGION}:${ACCOUNT}:rule/key-deletion`;
const FOREIGN_RULE = `arn:aws:events:${REGION}:${OTHER_ACCOUNT}:rule/key-deletion`;

function publish(p: PolicyUnderTest, service: string, sourceArn: string, action = 'sns:Publish') {
  const sourceAccount = sourceArn.split(':')[4];
  return p.model.evaluate({ principal: service, action, resource: p.arn, context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': sourceAccount } });
}

describe('topicPublishStatements', () => {
  test('none asked, none written', () => {
    expect(topicPublishStatements('arn:aws:sns:us-east-1:111111111111:t', {})).toEqual([]);
  });

  describe('CloudWatch: alarms of this account, in this Region', () => {
    const p = onTopic((arn) => topicPublishStatements(arn, { cloudWatch: true }));
    test('an alarm of this account publishes', () => {
      expect(publish(p, 'cloudwatch.amazonaws.com', ALARM)).toEqual({ decision: 'Allowed', deciding: ['CloudWatchAlarmsOfThisAccountPublish'] });
    });
    test.each<[string, () => ReturnType<typeof publish>]>([
      ['an alarm of another account', () => publish(p, 'cloudwatch.amazonaws.com', FOREIGN_ALARM)],
      ['an alarm in another Region', () => publish(p, 'cloudwatch.amazonaws.com', `arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:x`)],
      ['EventBridge, not asked for', () => publish(p, 'events.amazonaws.com', RULE)],
      ['another action than Publish', () => publish(p, 'cloudwatch.amazonaws.com', ALARM, 'sns:Subscribe')],
      // Both conditions hold on their own (global condition keys page: aws:SourceAccount and aws:SourceArn).
      ['this account\'s alarm ARN named by a request from another account', () => p.model.evaluate({
        principal: 'cloudwatch.amazonaws.com', action: 'sns:Publish', resource: p.arn, context: { 'aws:SourceArn': ALARM, 'aws:SourceAccount': OTHER_ACCOUNT },
      })],
    ])('refused: %s', (_name, run) => {
      expect(run().decision).toBe('ImplicitlyDenied');
    });
  });

  describe('EventBridge: rules of this account, or the rules named', () => {
    const any = onTopic((arn) => topicPublishStatements(arn, { eventBridge: true }));
    const named = onTopic((arn) => topicPublishStatements(arn, { eventBridge: true, eventBridgeRuleArns: [RULE] }));
    test('any rule of this account, when none is named', () => {
      expect(publish(any, 'events.amazonaws.com', `arn:aws:events:${REGION}:${ACCOUNT}:rule/other`)).toEqual({ decision: 'Allowed', deciding: ['EventBridgeRulesOfThisAccountPublish'] });
      expect(publish(any, 'events.amazonaws.com', FOREIGN_RULE).decision).toBe('ImplicitlyDenied');
      expect(publish(any, 'cloudwatch.amazonaws.com', ALARM).decision).toBe('ImplicitlyDenied');
    });
    test('only the rule named, when named', () => {
      expect(publish(named, 'events.amazonaws.com', RULE).decision).toBe('Allowed');
      expect(publish(named, 'events.amazonaws.com', `arn:aws:events:${REGION}:${ACCOUNT}:rule/other`).decision).toBe('ImplicitlyDenied');
    });
  });
});

describe('topicKeyStatements', () => {
  test('none asked, none written', () => {
    expect(topicKeyStatements({})).toEqual([]);
  });

  describe('CloudWatch: data keys for alarms of this account', () => {
    const p = onKey(topicKeyStatements({ cloudWatch: true }));
    test.each(['kms:GenerateDataKey', 'kms:Decrypt'])('%s for an alarm of this account', (action) => {
      expect(publish(p, 'cloudwatch.amazonaws.com', ALARM, action)).toEqual({ decision: 'Allowed', deciding: ['CloudWatchAlarmsPublishToTheAlarmTopic'] });
    });
    test.each<[string, () => ReturnType<typeof publish>]>([
      ['an alarm of another account', () => publish(p, 'cloudwatch.amazonaws.com', FOREIGN_ALARM, 'kms:GenerateDataKey')],
      ['kms:Encrypt', () => publish(p, 'cloudwatch.amazonaws.com', ALARM, 'kms:Encrypt')],
      ['an alarm of this account in another Region', () => publish(p, 'cloudwatch.amazonaws.com', `arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:x`, 'kms:GenerateDataKey')],
      ['this account\'s alarm ARN named by a request from another account', () => p.model.evaluate({
        principal: 'cloudwatch.amazonaws.com', action: 'kms:GenerateDataKey', resource: p.arn, context: { 'aws:SourceArn': ALARM, 'aws:SourceAccount': OTHER_ACCOUNT },
      })],
      ['EventBridge, not asked for', () => publish(p, 'events.amazonaws.com', RULE, 'kms:GenerateDataKey')],
    ])('refused: %s', (_name, run) => {
      expect(run().decision).toBe('ImplicitlyDenied');
    });
  });

  describe('EventBridge: no source condition (the key policy cannot scope it)', () => {
    const p = onKey(topicKeyStatements({ eventBridge: true }));
    test.each(['kms:GenerateDataKey', 'kms:Decrypt'])('%s, with no source keys in the request', (action) => {
      expect(p.model.evaluate({ principal: 'events.amazonaws.com', action, resource: p.arn, context: {} }))
        .toEqual({ decision: 'Allowed', deciding: ['EventBridgePublishesToTheTopic'] });
    });
    test('refused: CloudWatch, not asked for', () => {
      expect(publish(p, 'cloudwatch.amazonaws.com', ALARM, 'kms:GenerateDataKey').decision).toBe('ImplicitlyDenied');
    });
  });
});

describe('allowTopicPublishers', () => {
  const stackOf = () => new Stack(new App(), 'T', { env: { account: ACCOUNT, region: REGION } });
  const warnings = (stack: Stack) => Annotations.fromStack(stack).findWarning('*', Match.anyValue()).map((w) => String(w.entry.data));

  test('a topic and key of the app: both policies let the alarms publish, nothing to tell', () => {
    const stack = stackOf();
    const key = new kms.Key(stack, 'TopicKey');
    const topic = new sns.Topic(stack, 'Alarms', { masterKey: key });
    allowTopicPublishers(stack, topic, key, { cloudWatch: true });
    expect(warnings(stack)).toEqual([]);
    const m = AccessModel.of(stack.node.root as App);
    const context = { 'aws:SourceArn': ALARM, 'aws:SourceAccount': ACCOUNT };
    expect(m.evaluate({ principal: 'cloudwatch.amazonaws.com', action: 'sns:Publish', resource: m.topicArn(/Alarms/), context }).decision).toBe('Allowed');
    expect(m.evaluate({ principal: 'cloudwatch.amazonaws.com', action: 'kms:GenerateDataKey', resource: m.topicKeyArn(/Alarms/), context }).decision).toBe('Allowed');
  });

  test('an imported topic: the statements to add are printed, under the prop named', () => {
    const stack = stackOf();
    const topic = sns.Topic.fromTopicArn(stack, 'Imported', `arn:aws:sns:${REGION}:${ACCOUNT}:alarms`);
    allowTopicPublishers(stack, topic, undefined, { cloudWatch: true }, 'monitoring.alarmTopic');
    const [warning, ...rest] = warnings(stack);
    expect(rest).toEqual([]);
    expect(warning).toMatch(/^monitoring\.alarmTopic: the topic T\/Imported is imported, so its policy cannot be changed here; allow the publishers with these statements: \[/);
    expect(warning).toContain('"Sid":"CloudWatchAlarmsOfThisAccountPublish"');
    // The statements end the message (before aws-cdk-lib's acknowledgement id): no rule list follows.
    expect(warning).toMatch(/\}\] \[ack: cdk-s3-encryption:weakened:monitoring\.alarmTopic\]$/);
  });

  test('a topic of the app on an imported key: the key statements to add are printed', () => {
    const stack = stackOf();
    const key = kms.Key.fromKeyArn(stack, 'ImportedKey', `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234`);
    const topic = new sns.Topic(stack, 'Alarms', { masterKey: key });
    allowTopicPublishers(stack, topic, key, { cloudWatch: true });
    const [warning, ...rest] = warnings(stack);
    expect(rest).toEqual([]);
    expect(warning).toMatch(/^alarmTopic: the key of the topic T\/Alarms is imported; add these statements to its key policy/);
    expect(warning).toContain('"Sid":"CloudWatchAlarmsPublishToTheAlarmTopic"');
    expect(warning).toMatch(/\}\] \[ack: cdk-s3-encryption:weakened:alarmTopic\]$/);
  });
});

test('every statement names its resource, as AWS requires of each statement of a topic or key policy', () => {
  // A statement without Resource or NotResource makes PutKeyPolicy and SetTopicAttributes fail
  // (MalformedPolicyDocument); the IAM engine here would read it as matching anything.
  const all = [
    ...topicPublishStatements('arn:aws:sns:us-east-1:111111111111:t', { cloudWatch: true, eventBridge: true }),
    ...topicKeyStatements({ cloudWatch: true, eventBridge: true }),
  ];
  expect(all).toHaveLength(4);
  for (const st of all) expect(st.toStatementJson().Resource).toBeDefined();
});
