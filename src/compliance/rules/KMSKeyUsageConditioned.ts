import { CfnResource } from 'aws-cdk-lib';
import { CfnKey } from 'aws-cdk-lib/aws-kms';
import { NagRuleCompliance } from 'cdk-nag';
import { asArray, resolve, statementsOf } from './util';

const USAGE = /^kms:(\*|Encrypt|Decrypt|ReEncrypt.*|GenerateDataKey.*)$|^\*$/;
const SCOPING = /^(kms:ViaService|kms:EncryptionContext:.+|kms:EncryptionContextKeys|aws:SourceArn|aws:SourceAccount)$/;

/**
 * Every statement that allows data-plane use of the key (encrypt, decrypt, re-encrypt, data keys)
 * is scoped by `kms:ViaService` or an encryption-context condition (service principals: also
 * `aws:SourceArn`/`aws:SourceAccount`).
 */
export default Object.defineProperty((node: CfnResource): NagRuleCompliance => {
  if (!(node instanceof CfnKey)) return NagRuleCompliance.NOT_APPLICABLE;
  const unscoped = statementsOf(resolve(node, node.keyPolicy)).some((s) => {
    if (s.Effect !== 'Allow' || !asArray(s.Action).some((a: string) => USAGE.test(a))) return false;
    const keys = Object.values(s.Condition ?? {}).flatMap((block: any) => Object.keys(block ?? {}));
    const serviceOnly = s.Principal?.Service !== undefined && s.Principal?.AWS === undefined;
    return !keys.some((k) => SCOPING.test(k) && (serviceOnly || k.startsWith('kms:')));
  });
  return unscoped ? NagRuleCompliance.NON_COMPLIANT : NagRuleCompliance.COMPLIANT;
}, 'name', { value: 'KMSKeyUsageConditioned' });
