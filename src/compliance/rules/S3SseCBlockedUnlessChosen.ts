import { CfnResource } from 'aws-cdk-lib';
import { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { NagRuleCompliance } from 'cdk-nag';
import { asArray, encryptionRules, field, putObjectDenials, requiresSseC } from './util';

/** SSE-C is blocked (BlockedEncryptionTypes or a policy denial) unless the bucket requires it. */
export default Object.defineProperty((node: CfnResource): NagRuleCompliance => {
  if (!(node instanceof CfnBucket)) return NagRuleCompliance.NOT_APPLICABLE;
  if (requiresSseC(node)) return NagRuleCompliance.COMPLIANT;
  const blocked = encryptionRules(node).some((r) => asArray(field(field(r, 'BlockedEncryptionTypes'), 'EncryptionType')).includes('SSE-C'));
  const denied = putObjectDenials(node).some((s) => s.Condition?.Null?.['s3:x-amz-server-side-encryption-customer-algorithm'] === 'false');
  return blocked || denied ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
}, 'name', { value: 'S3SseCBlockedUnlessChosen' });
