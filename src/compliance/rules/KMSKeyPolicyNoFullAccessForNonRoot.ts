import { CfnResource } from 'aws-cdk-lib';
import { CfnKey } from 'aws-cdk-lib/aws-kms';
import { NagRuleCompliance } from 'cdk-nag';
import { asArray, isOwnAccountRoot, resolve, statementsOf } from './util';

/**
 * The statement gives every KMS action: `kms:*` or `*`, or a `NotAction` that leaves out less than
 * all of them (it grants every action not listed, including `kms:PutKeyPolicy`, with which the
 * principal can give itself the rest).
 */
function grantsEverything(s: any): boolean {
  if (s.NotAction !== undefined) return !asArray(s.NotAction).some((a: unknown) => a === '*' || a === 'kms:*');
  return asArray(s.Action).some((a: unknown) => a === 'kms:*' || a === '*');
}

/** The principal is exactly the root of this stack's own account. */
function onlyOwnRoot(node: CfnResource, s: any): boolean {
  if (s.NotPrincipal !== undefined || !s.Principal || typeof s.Principal !== 'object') return false;
  const kinds = Object.keys(s.Principal);
  const aws = asArray(s.Principal.AWS);
  return kinds.length === 1 && kinds[0] === 'AWS' && aws.length > 0 && aws.every((p) => isOwnAccountRoot(node, p));
}

/** No principal but this account's root holds `kms:*` (or `*`) on the key; another account's root does not either. */
export default Object.defineProperty((node: CfnResource): NagRuleCompliance => {
  if (!(node instanceof CfnKey)) return NagRuleCompliance.NOT_APPLICABLE;
  const bad = statementsOf(resolve(node, node.keyPolicy)).some((s) => s.Effect === 'Allow' && grantsEverything(s) && !onlyOwnRoot(node, s));
  return bad ? NagRuleCompliance.NON_COMPLIANT : NagRuleCompliance.COMPLIANT;
}, 'name', { value: 'KMSKeyPolicyNoFullAccessForNonRoot' });
