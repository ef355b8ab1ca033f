import { CfnResource } from 'aws-cdk-lib';
import { CfnKey } from 'aws-cdk-lib/aws-kms';
import { NagRuleCompliance } from 'cdk-nag';
import { resolve, statementsOf } from './util';

/** No key-policy statement lets any principal (`*`) use the key without conditions. */
export default Object.defineProperty((node: CfnResource): NagRuleCompliance => {
  if (!(node instanceof CfnKey)) return NagRuleCompliance.NOT_APPLICABLE;
  const open = statementsOf(resolve(node, node.keyPolicy)).some((s) => s.Effect === 'Allow'
    && (s.Principal === '*' || s.Principal?.AWS === '*' || (Array.isArray(s.Principal?.AWS) && s.Principal.AWS.includes('*')))
    && (!s.Condition || Object.keys(s.Condition).length === 0));
  return open ? NagRuleCompliance.NON_COMPLIANT : NagRuleCompliance.COMPLIANT;
}, 'name', { value: 'KMSKeyPolicyNoUnconditionedPublicUse' });
