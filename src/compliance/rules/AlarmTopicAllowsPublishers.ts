import { CfnResource, Stack } from 'aws-cdk-lib';
import { CfnAlarm, CfnCompositeAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import { CfnRule } from 'aws-cdk-lib/aws-events';
import { CfnKey } from 'aws-cdk-lib/aws-kms';
import { CfnTopic, CfnTopicPolicy } from 'aws-cdk-lib/aws-sns';
import { NagRuleCompliance } from 'cdk-nag';
import { appliesToService, conditionEntries, coversAction, flatText, isPublic } from './iam';
import { allOf, keyLiteral, namedResources, topicLiteral } from './refs';
import { asArray, everything, field, resolve, statementsOf } from './util';

const CLOUDWATCH = 'cloudwatch.amazonaws.com';
const EVENTS = 'events.amazonaws.com';

/** The services that publish to the topic: CloudWatch for alarms naming it, EventBridge for rules targeting it. */
function publishersOf(topic: CfnTopic): string[] {
  const topics = [topic];
  const services = new Set<string>();
  for (const c of everything(topic)) {
    if (c instanceof CfnAlarm || c instanceof CfnCompositeAlarm) {
      const actions = [c.alarmActions, c.okActions, c.insufficientDataActions];
      if (actions.some((a) => namedResources(c, a, topics, topicLiteral).length > 0)) services.add(CLOUDWATCH);
    } else if (c instanceof CfnRule) {
      const targets = Array.isArray(c.targets) ? c.targets : asArray(resolve(c, c.targets));
      const arns = targets.map((t: any) => field(t, 'Arn') ?? field(resolve(c, t), 'Arn'));
      if (namedResources(c, arns, topics, topicLiteral).length > 0) services.add(EVENTS);
    }
  }
  return [...services];
}

/**
 * Allow statements for `service` on `action`. A statement for every principal counts only when
 * its conditions are on the source of the request, which a service's request carries.
 */
function allows(statements: any[], service: string, action: string): any[] {
  return statements.filter((s) => s.Effect === 'Allow' && appliesToService(s, service) && coversAction(s, action)
    && (!isPublic(s) || conditionEntries(s).every((e) => /^aws:source/i.test(e.key))));
}

/**
 * The SNS Developer Guide (sns-key-management.html) says aws:SourceAccount, aws:SourceArn and
 * aws:SourceOrgID in a KMS key policy are not supported for EventBridge publishing to encrypted
 * topics: such a statement never matches EventBridge's KMS request.
 */
function usableBy(statement: any, service: string): boolean {
  return service !== EVENTS || !conditionEntries(statement).some((e) => /^aws:source(account|arn|orgid)$/i.test(e.key));
}

/**
 * A topic that CloudWatch alarms or EventBridge rules of the app publish to lets them: a topic
 * policy replaces SNS's default policy, so it must allow `sns:Publish` to each publishing service;
 * and when the topic is encrypted with a key of the app, the key policy must allow that service
 * `kms:GenerateDataKey*` and `kms:Decrypt` (SNS Developer Guide, sns-key-management.html). The AWS
 * managed key `aws/sns` cannot allow them at all: its policy cannot be changed.
 */
export default Object.defineProperty((node: CfnResource): NagRuleCompliance => {
  if (!(node instanceof CfnTopic)) return NagRuleCompliance.NOT_APPLICABLE;
  const services = publishersOf(node);
  if (services.length === 0) return NagRuleCompliance.NOT_APPLICABLE;

  const policies = allOf(node, CfnTopicPolicy).filter((p) => namedResources(p, p.topics, [node], topicLiteral).length > 0);
  if (policies.length > 0) {
    const statements = policies.flatMap((p) => statementsOf(resolve(p, p.policyDocument)));
    if (services.some((svc) => allows(statements, svc, 'sns:Publish').length === 0)) return NagRuleCompliance.NON_COMPLIANT;
  }

  const keyId = node.kmsMasterKeyId;
  if (keyId === undefined) return NagRuleCompliance.COMPLIANT;
  if (/(^|:)alias\/aws\/sns$/.test(flatText(resolve(node, keyId)))) return NagRuleCompliance.NON_COMPLIANT;
  const all = everything(node).filter((c): c is CfnResource => c instanceof CfnResource);
  const keys = namedResources(node, keyId, allOf(node, CfnKey), keyLiteral(all));
  for (const key of keys) {
    const statements = statementsOf(Stack.of(key).resolve(key.keyPolicy));
    for (const svc of services) {
      const usable = (action: string) => allows(statements, svc, action).some((s) => usableBy(s, svc));
      if (!usable('kms:GenerateDataKey') || !usable('kms:Decrypt')) return NagRuleCompliance.NON_COMPLIANT;
    }
  }
  return NagRuleCompliance.COMPLIANT;
}, 'name', { value: 'AlarmTopicAllowsPublishers' });
