import { CfnResource } from 'aws-cdk-lib';
import { CfnKey } from 'aws-cdk-lib/aws-kms';
import { NagRuleCompliance } from 'cdk-nag';
import { resolve } from './util';

/** A symmetric encryption key rotates automatically, at most every `maxDays` days. */
export function kmsRotationWithinPeriod(maxDays: number) {
  return Object.defineProperty((node: CfnResource): NagRuleCompliance => {
    if (!(node instanceof CfnKey)) return NagRuleCompliance.NOT_APPLICABLE;
    const spec = resolve(node, node.keySpec) ?? 'SYMMETRIC_DEFAULT';
    const usage = resolve(node, node.keyUsage) ?? 'ENCRYPT_DECRYPT';
    const origin = resolve(node, node.origin) ?? 'AWS_KMS';
    if (spec !== 'SYMMETRIC_DEFAULT' || usage !== 'ENCRYPT_DECRYPT' || origin !== 'AWS_KMS') return NagRuleCompliance.NOT_APPLICABLE;
    if (resolve(node, node.enableKeyRotation) !== true) return NagRuleCompliance.NON_COMPLIANT;
    const period = resolve(node, node.rotationPeriodInDays) ?? 365;
    if (typeof period !== 'number') return NagRuleCompliance.NON_COMPLIANT;
    return period <= maxDays ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
  }, 'name', { value: 'KMSRotationWithinPeriod' });
}
