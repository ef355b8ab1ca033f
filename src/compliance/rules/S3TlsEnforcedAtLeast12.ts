import { CfnResource } from 'aws-cdk-lib';
import { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { NagRuleCompliance } from 'cdk-nag';
import { policiesOfBucket, statementsOf } from './util';

/** The bucket policy denies requests without TLS and requests below TLS 1.2. */
export default Object.defineProperty((node: CfnResource): NagRuleCompliance => {
  if (!(node instanceof CfnBucket)) return NagRuleCompliance.NOT_APPLICABLE;
  const denies = policiesOfBucket(node).flatMap(statementsOf).filter((s) => s.Effect === 'Deny');
  const noTls = denies.some((s) => String(s.Condition?.Bool?.['aws:SecureTransport']) === 'false');
  const minimum = denies.some((s) => {
    const v = s.Condition?.NumericLessThan?.['s3:TlsVersion'];
    return v !== undefined && Number(v) >= 1.2;
  });
  return noTls && minimum ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
}, 'name', { value: 'S3TlsEnforcedAtLeast12' });
