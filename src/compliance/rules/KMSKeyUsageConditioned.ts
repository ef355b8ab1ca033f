import { CfnResource } from 'aws-cdk-lib';
import { CfnKey } from 'aws-cdk-lib/aws-kms';
import { NagRuleCompliance } from 'cdk-nag';
import { coversAction, isPublic, pinnedKeys } from './iam';
import { asArray, resolve, statementsOf } from './util';

const USAGE = [
  'kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext', 'kms:GenerateDataKeyPair', 'kms:GenerateDataKeyPairWithoutPlaintext',
];
const KMS_SCOPE = /^(kms:viaservice|kms:encryptioncontext:.+|kms:encryptioncontextkeys)$/;
const SOURCE_SCOPE = /^(aws:sourcearn|aws:sourceaccount)$/;

/**
 * EventBridge publishing to an encrypted SNS topic: the SNS Developer Guide
 * (sns-key-management.html) says aws:SourceAccount, aws:SourceArn and aws:SourceOrgID in a key
 * policy are not supported there, so a statement that lets only events.amazonaws.com generate data
 * keys and decrypt cannot be scoped, and is accepted as it is.
 */
function eventBridgeToTopic(s: any): boolean {
  const p = s.Principal;
  return s.NotPrincipal === undefined && s.NotAction === undefined && p && typeof p === 'object'
    && Object.keys(p).length === 1 && asArray(p.Service).length === 1 && asArray(p.Service)[0] === 'events.amazonaws.com'
    && asArray(s.Action).every((a: unknown) => typeof a === 'string' && /^kms:(Decrypt|GenerateDataKey\*?)$/.test(a));
}

/**
 * Every statement that allows data-plane use of the key (encrypt, decrypt, re-encrypt, data keys,
 * also through `NotAction` or a wildcard) pins `kms:ViaService` or the encryption context
 * (`kms:EncryptionContext:*`, `kms:EncryptionContextKeys`), or for service principals
 * `aws:SourceArn`/`aws:SourceAccount`. A condition counts only when it compares positively: a
 * negated operator, `...IfExists`, `Null` or a bare `*` restricts nothing.
 */
export default Object.defineProperty((node: CfnResource): NagRuleCompliance => {
  if (!(node instanceof CfnKey)) return NagRuleCompliance.NOT_APPLICABLE;
  const unscoped = statementsOf(resolve(node, node.keyPolicy)).some((s) => {
    if (s.Effect !== 'Allow' || !USAGE.some((a) => coversAction(s, a)) || eventBridgeToTopic(s)) return false;
    const serviceOnly = !isPublic(s) && typeof s.Principal === 'object' && Object.keys(s.Principal).every((k) => k === 'Service');
    return !pinnedKeys(s).some((k) => KMS_SCOPE.test(k) || (serviceOnly && SOURCE_SCOPE.test(k)));
  });
  return unscoped ? NagRuleCompliance.NON_COMPLIANT : NagRuleCompliance.COMPLIANT;
}, 'name', { value: 'KMSKeyUsageConditioned' });
