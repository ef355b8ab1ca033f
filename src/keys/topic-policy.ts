import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { renderStatements } from './key-policy';
import { warnWeakened } from '../internal/validation';

/** Services that publish alarms and events to an SNS topic. */
export interface TopicPublishers {
  /** CloudWatch alarms (`cloudwatch.amazonaws.com`). */
  readonly cloudWatch?: boolean;
  /** EventBridge rules (`events.amazonaws.com`). */
  readonly eventBridge?: boolean;
  /** The rules allowed to publish on the topic policy (the key cannot be scoped for EventBridge). */
  readonly eventBridgeRuleArns?: string[];
}

/**
 * The topic-policy statements that let the services publish. A topic policy replaces SNS's default
 * policy, so a topic whose policy holds only a TLS denial accepts nothing: each publishing service
 * needs its own allow (SNS Developer Guide, sns-access-policy-use-cases and
 * sns-key-management.html), scoped to this account's alarms or rules.
 */
export function topicPublishStatements(topicArn: string, publishers: TopicPublishers): iam.PolicyStatement[] {
  const statements: iam.PolicyStatement[] = [];
  if (publishers.cloudWatch) {
    statements.push(new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsOfThisAccountPublish',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [topicArn],
      conditions: {
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
      },
    }));
  }
  if (publishers.eventBridge) {
    statements.push(new iam.PolicyStatement({
      sid: 'EventBridgeRulesOfThisAccountPublish',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [topicArn],
      conditions: {
        ArnLike: { 'aws:SourceArn': publishers.eventBridgeRuleArns ?? `arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:rule/*` },
      },
    }));
  }
  return statements;
}

/**
 * The key-policy statements that let the services publish to a topic encrypted with the key:
 * `kms:GenerateDataKey*` and `kms:Decrypt` (SNS Developer Guide, sns-key-management.html).
 * CloudWatch is scoped to this account's alarms. EventBridge is not: the same page says
 * `aws:SourceAccount`, `aws:SourceArn` and `aws:SourceOrgID` in a KMS key policy are not supported
 * for EventBridge publishing to encrypted topics, so such a condition would drop every event.
 */
export function topicKeyStatements(publishers: TopicPublishers): iam.PolicyStatement[] {
  const actions = ['kms:Decrypt', 'kms:GenerateDataKey*'];
  const statements: iam.PolicyStatement[] = [];
  if (publishers.cloudWatch) {
    statements.push(new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsPublishToTheAlarmTopic',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions,
      resources: ['*'],
      conditions: {
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
      },
    }));
  }
  if (publishers.eventBridge) {
    statements.push(new iam.PolicyStatement({
      sid: 'EventBridgePublishesToTheTopic',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions,
      resources: ['*'],
    }));
  }
  return statements;
}

/**
 * Lets the publishers in: on the topic policy, and on the key when the topic is encrypted with a
 * key of this app. What cannot be changed from here (an imported topic or key) is printed at synth
 * with the statements to add.
 */
export function allowTopicPublishers(scope: Construct, topic: sns.ITopic, key: kms.IKey | undefined, publishers: TopicPublishers, prop = 'alarmTopic'): void {
  const onTopic = topicPublishStatements(topic.topicArn, publishers);
  const missing: iam.PolicyStatement[] = [];
  for (const st of onTopic) {
    if (!topic.addToResourcePolicy(st).statementAdded) missing.push(st);
  }
  if (missing.length > 0) {
    warnWeakened(scope, prop, `the topic ${topic.node.path} is imported, so its policy cannot be changed here; allow the publishers with these statements: ${renderStatements(scope, missing)}`, []);
  }
  if (key) {
    // Identical statements from several topics on one key are merged by the policy document.
    const onKey = topicKeyStatements(publishers);
    const keyMissing = onKey.filter((st) => !key.addToResourcePolicy(st).statementAdded);
    if (keyMissing.length > 0) {
      warnWeakened(scope, prop, `the key of the topic ${topic.node.path} is imported; add these statements to its key policy so that the publishers can use it: ${renderStatements(scope, keyMissing)}`, []);
    }
  }
}
