import { CfnResource, Stack, Token } from 'aws-cdk-lib';
import { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { NagRuleCompliance } from 'cdk-nag';
import { asArray, everything, field, resolve } from './util';

/**
 * Every replication rule re-encrypts replicas with a KMS key, and when the destination bucket is
 * part of the app, the key is in the destination's Region (a KMS key never leaves its Region).
 */
export default Object.defineProperty((node: CfnResource): NagRuleCompliance => {
  if (!(node instanceof CfnBucket)) return NagRuleCompliance.NOT_APPLICABLE;
  const rc = resolve(node, node.replicationConfiguration);
  const rules = asArray(field(rc, 'Rules'));
  if (rules.length === 0) return NagRuleCompliance.NOT_APPLICABLE;
  for (const r of rules) {
    const keyId = field(field(field(r, 'Destination'), 'EncryptionConfiguration'), 'ReplicaKmsKeyID');
    if (keyId === undefined) return NagRuleCompliance.NON_COMPLIANT;
    if (typeof keyId !== 'string') continue;
    const keyRegion = keyId.split(':')[3];
    const dest = JSON.stringify(field(field(r, 'Destination'), 'Bucket'));
    const destBucket = everything(node).find((c): c is CfnBucket => c instanceof CfnBucket && c !== node
      && typeof Stack.of(c).resolve(c.bucketName) === 'string' && dest.includes(`:::${Stack.of(c).resolve(c.bucketName)}`));
    const destRegion = destBucket ? Stack.of(destBucket).region : undefined;
    if (keyRegion && destRegion && !Token.isUnresolved(destRegion) && keyRegion !== destRegion) return NagRuleCompliance.NON_COMPLIANT;
  }
  return NagRuleCompliance.COMPLIANT;
}, 'name', { value: 'S3ReplicationDestinationEncryptedInItsRegion' });
