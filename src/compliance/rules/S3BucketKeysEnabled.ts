import { CfnResource } from 'aws-cdk-lib';
import { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { NagRuleCompliance } from 'cdk-nag';
import { encryptionRules, field } from './util';

/** S3 Bucket Keys are on for SSE-KMS default encryption (DSSE-KMS does not support them). */
export default Object.defineProperty((node: CfnResource): NagRuleCompliance => {
  if (!(node instanceof CfnBucket)) return NagRuleCompliance.NOT_APPLICABLE;
  const kmsRules = encryptionRules(node).filter((r) => field(field(r, 'ServerSideEncryptionByDefault'), 'SSEAlgorithm') === 'aws:kms');
  if (kmsRules.length === 0) return NagRuleCompliance.NOT_APPLICABLE;
  return kmsRules.every((r) => field(r, 'BucketKeyEnabled') === true) ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
}, 'name', { value: 'S3BucketKeysEnabled' });
