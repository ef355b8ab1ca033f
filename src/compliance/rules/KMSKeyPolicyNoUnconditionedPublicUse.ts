import { CfnResource } from 'aws-cdk-lib';
import { CfnKey } from 'aws-cdk-lib/aws-kms';
import { NagRuleCompliance } from 'cdk-nag';
import { isPublic, pinnedKeys } from './iam';
import { resolve, statementsOf } from './util';

/**
 * Keys that hold a request to known accounts, organizations, principals or sources. `kms:ViaService`
 * is not one: any principal of any account can call through the named service.
 */
const CALLER_SCOPE = new Set([
  'kms:calleraccount', 'aws:principalaccount', 'aws:principalorgid', 'aws:principalorgpaths', 'aws:principalarn',
  'aws:sourceaccount', 'aws:sourcearn', 'aws:sourceorgid', 'aws:sourceorgpaths',
]);

/**
 * No key-policy Allow for every principal (`*`, `{"AWS": "*"}`, or `NotPrincipal`) lacks a condition
 * that pins who calls: the account, organization, principal ARN or source, compared positively
 * (not negated, not `...IfExists`, not `*`).
 */
export default Object.defineProperty((node: CfnResource): NagRuleCompliance => {
  if (!(node instanceof CfnKey)) return NagRuleCompliance.NOT_APPLICABLE;
  const open = statementsOf(resolve(node, node.keyPolicy)).some((s) => s.Effect === 'Allow' && isPublic(s)
    && !pinnedKeys(s).some((k) => CALLER_SCOPE.has(k)));
  return open ? NagRuleCompliance.NON_COMPLIANT : NagRuleCompliance.COMPLIANT;
}, 'name', { value: 'KMSKeyPolicyNoUnconditionedPublicUse' });
