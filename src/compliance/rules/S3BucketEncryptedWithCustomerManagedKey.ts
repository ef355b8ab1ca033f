import { CfnResource } from 'aws-cdk-lib';
import { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { NagRuleCompliance } from 'cdk-nag';
import { logSourcesOf } from './refs';
import { encryptionRules, field } from './util';

/**
 * Default encryption is SSE-KMS or DSSE-KMS with a customer-managed key (not aws/s3). A
 * server-access-log destination is left out: AWS allows only SSE-S3 there (S3 User Guide,
 * enable-server-access-logging.html: "SSE-KMS is not supported"), and
 * S3AccessLogDestinationAccepted checks it instead.
 */
export default Object.defineProperty((node: CfnResource): NagRuleCompliance => {
  if (!(node instanceof CfnBucket)) return NagRuleCompliance.NOT_APPLICABLE;
  if (logSourcesOf(node).length > 0) return NagRuleCompliance.NOT_APPLICABLE;
  const rules = encryptionRules(node);
  if (rules.length === 0) return NagRuleCompliance.NON_COMPLIANT;
  for (const r of rules) {
    const d = field(r, 'ServerSideEncryptionByDefault');
    if (!d || !['aws:kms', 'aws:kms:dsse'].includes(field(d, 'SSEAlgorithm'))) return NagRuleCompliance.NON_COMPLIANT;
    if (field(d, 'KMSMasterKeyID') === undefined || /alias\/aws\/s3$/.test(JSON.stringify(field(d, 'KMSMasterKeyID')).replace(/"$/, ''))) {
      return NagRuleCompliance.NON_COMPLIANT;
    }
  }
  return NagRuleCompliance.COMPLIANT;
}, 'name', { value: 'S3BucketEncryptedWithCustomerManagedKey' });
