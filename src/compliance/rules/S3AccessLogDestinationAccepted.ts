import { CfnResource } from 'aws-cdk-lib';
import { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { NagRuleCompliance, NagRules } from 'cdk-nag';
import { logSourcesOf } from './refs';
import { encryptionRules, field, resolve } from './util';

/**
 * A bucket that receives server access logs is one S3 delivers to. The S3 User Guide,
 * enable-server-access-logging.html: "S3 buckets that have S3 Object Lock enabled can't be used as
 * destination buckets"; default encryption of the destination may only be SSE-S3, "SSE-KMS is not
 * supported"; and a destination that logs into itself makes "an infinite loop of logs".
 */
export default Object.defineProperty((node: CfnResource): NagRuleCompliance => {
  if (!(node instanceof CfnBucket)) return NagRuleCompliance.NOT_APPLICABLE;
  const sources = logSourcesOf(node);
  if (sources.length === 0) return NagRuleCompliance.NOT_APPLICABLE;
  if (sources.includes(node)) return NagRuleCompliance.NON_COMPLIANT;
  const lockConfig = field(resolve(node, node.objectLockConfiguration), 'ObjectLockEnabled');
  if (NagRules.resolveIfPrimitive(node, node.objectLockEnabled) === true || lockConfig === 'Enabled') {
    return NagRuleCompliance.NON_COMPLIANT;
  }
  // No BucketEncryption means S3's own default, SSE-S3.
  const algorithms = encryptionRules(node).map((r) => field(field(r, 'ServerSideEncryptionByDefault'), 'SSEAlgorithm')).filter((a) => a !== undefined);
  if (algorithms.some((a) => NagRules.resolveIfPrimitive(node, a) !== 'AES256')) return NagRuleCompliance.NON_COMPLIANT;
  return NagRuleCompliance.COMPLIANT;
}, 'name', { value: 'S3AccessLogDestinationAccepted' });
