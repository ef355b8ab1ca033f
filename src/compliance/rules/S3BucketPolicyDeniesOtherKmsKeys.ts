import { CfnResource } from 'aws-cdk-lib';
import { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { NagRuleCompliance } from 'cdk-nag';
import { encryptionRules, field, putObjectDenials, requiresSseC } from './util';

/** The bucket policy denies PUTs that name a KMS key other than the bucket's. */
export default Object.defineProperty((node: CfnResource): NagRuleCompliance => {
  if (!(node instanceof CfnBucket)) return NagRuleCompliance.NOT_APPLICABLE;
  const kms = encryptionRules(node).some((r) => String(field(field(r, 'ServerSideEncryptionByDefault'), 'SSEAlgorithm')).startsWith('aws:kms'));
  if (!kms || requiresSseC(node)) return NagRuleCompliance.NOT_APPLICABLE;
  const denies = putObjectDenials(node).some((s) => s.Condition?.StringNotEquals?.['s3:x-amz-server-side-encryption-aws-kms-key-id'] !== undefined);
  return denies ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
}, 'name', { value: 'S3BucketPolicyDeniesOtherKmsKeys' });
