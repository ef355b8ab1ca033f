import { CfnResource } from 'aws-cdk-lib';
import { CfnKey } from 'aws-cdk-lib/aws-kms';
import { NagRuleCompliance } from 'cdk-nag';
import { resolve } from './util';

/** A key scheduled for deletion waits at least `minDays` days (KMS waits 30 when unset). */
export function kmsPendingWindowAtLeast(minDays: number) {
  return Object.defineProperty((node: CfnResource): NagRuleCompliance => {
    if (!(node instanceof CfnKey)) return NagRuleCompliance.NOT_APPLICABLE;
    const days = resolve(node, node.pendingWindowInDays) ?? 30;
    if (typeof days !== 'number') return NagRuleCompliance.NON_COMPLIANT;
    return days >= minDays ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
  }, 'name', { value: 'KMSPendingWindowAtLeast' });
}
