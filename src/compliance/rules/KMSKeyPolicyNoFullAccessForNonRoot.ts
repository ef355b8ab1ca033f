import { CfnResource } from 'aws-cdk-lib';
import { CfnKey } from 'aws-cdk-lib/aws-kms';
import { NagRuleCompliance } from 'cdk-nag';
import { asArray, isAccountRoot, resolve, statementsOf } from './util';

/** No principal other than the account root holds `kms:*` (or `*`) on the key. */
export default Object.defineProperty((node: CfnResource): NagRuleCompliance => {
  if (!(node instanceof CfnKey)) return NagRuleCompliance.NOT_APPLICABLE;
  const bad = statementsOf(resolve(node, node.keyPolicy)).some((s) => s.Effect === 'Allow'
    && asArray(s.Action).some((a: string) => a === 'kms:*' || a === '*')
    && !(s.Principal?.AWS !== undefined && asArray(s.Principal.AWS).every(isAccountRoot) && !s.Principal.Service));
  return bad ? NagRuleCompliance.NON_COMPLIANT : NagRuleCompliance.COMPLIANT;
}, 'name', { value: 'KMSKeyPolicyNoFullAccessForNonRoot' });
