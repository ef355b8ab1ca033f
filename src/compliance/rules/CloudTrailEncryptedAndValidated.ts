import { CfnResource } from 'aws-cdk-lib';
import { CfnTrail } from 'aws-cdk-lib/aws-cloudtrail';
import { NagRuleCompliance } from 'cdk-nag';
import { resolve } from './util';

/** A trail encrypts its log files with a KMS key and validates them. */
export default Object.defineProperty((node: CfnResource): NagRuleCompliance => {
  if (!(node instanceof CfnTrail)) return NagRuleCompliance.NOT_APPLICABLE;
  const encrypted = resolve(node, node.kmsKeyId) !== undefined;
  const validated = resolve(node, node.enableLogFileValidation) === true;
  return encrypted && validated ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
}, 'name', { value: 'CloudTrailEncryptedAndValidated' });
