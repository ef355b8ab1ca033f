import { CfnResource, Stack } from 'aws-cdk-lib';
import { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { NagRuleCompliance } from 'cdk-nag';
import { ABSENT, conditionEntries, evaluateCondition, flatText, wildcardMatches } from './iam';
import { asArray, encryptionRules, field, putObjectDenials, requiresSseC } from './util';

const SSE = 's3:x-amz-server-side-encryption';
const KEY_ID = 's3:x-amz-server-side-encryption-aws-kms-key-id';
const SSE_C = 's3:x-amz-server-side-encryption-customer-algorithm';

/** A denial that pins the key: a negated comparison on the key-id header. */
function pinsTheKey(statement: any): boolean {
  return conditionEntries(statement).some((e) => e.key.toLowerCase() === KEY_ID && /Not(Equals|Like)/i.test(e.operator));
}

const BUCKET = '<bucket>';

/**
 * A resource pattern as text with this bucket's ARN, however it is written (`Fn::GetAtt` Arn, a
 * `Ref` inside an ARN, or the literal name), replaced by one placeholder.
 */
function canonical(resource: unknown, bucket: CfnBucket): string {
  const text = flatText(resource);
  const stack = Stack.of(bucket);
  const id = stack.resolve(bucket.logicalId);
  for (const form of [`\${${id}.Arn}`, `arn:\${AWS::Partition}:s3:::\${${id}}`]) {
    if (text.startsWith(form)) return BUCKET + text.slice(form.length);
  }
  const name = stack.resolve(bucket.bucketName);
  if (typeof name === 'string') {
    const prefix = new RegExp(`^arn:(aws[a-z-]*|\\$\\{AWS::Partition\\}):s3:::${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=/|$)`).exec(text);
    if (prefix) return BUCKET + text.slice(prefix[0].length);
  }
  return text;
}

/**
 * `denial` applies to every object `pin` does. A `NotResource` pin is about the bucket's objects
 * (all but a few), so only a denial of all of them covers it.
 */
function covers(denial: any, pin: any, bucket: CfnBucket): boolean {
  if (denial.Resource === undefined) return false;
  const patterns = asArray(denial.Resource).map((r) => canonical(r, bucket));
  const targets = pin.Resource !== undefined ? asArray(pin.Resource).map((r) => canonical(r, bucket)) : [`${BUCKET}/*`];
  return targets.every((t) => patterns.some((p) => p === '*' || wildcardMatches(p, t)));
}

/**
 * Wherever the bucket policy denies PUTs naming another KMS key, it also denies PUTs that name a
 * KMS algorithm without a key id. The PutObject API reference (SSEKMSKeyId): with
 * `x-amz-server-side-encryption` `aws:kms` or `aws:kms:dsse` and no
 * `x-amz-server-side-encryption-aws-kms-key-id`, "Amazon S3 uses the AWS managed key (aws/s3)",
 * so such a PUT escapes the bucket's key although no header names another key. Checked for
 * PutObject and CopyObject (s3:ObjectCreationOperation true) and CreateMultipartUpload (false),
 * which all carry the SSE headers.
 */
export default Object.defineProperty((node: CfnResource): NagRuleCompliance => {
  if (!(node instanceof CfnBucket)) return NagRuleCompliance.NOT_APPLICABLE;
  const kms = encryptionRules(node).some((r) => String(field(field(r, 'ServerSideEncryptionByDefault'), 'SSEAlgorithm')).startsWith('aws:kms'));
  if (!kms || requiresSseC(node)) return NagRuleCompliance.NOT_APPLICABLE;
  const denials = putObjectDenials(node);
  const pins = denials.filter(pinsTheKey);
  if (pins.length === 0) return NagRuleCompliance.NOT_APPLICABLE;
  for (const pin of pins) {
    for (const algorithm of ['aws:kms', 'aws:kms:dsse']) {
      for (const creation of ['true', 'false']) {
        const request = { [SSE]: algorithm, [KEY_ID]: ABSENT, [SSE_C]: ABSENT, 's3:ObjectCreationOperation': creation };
        if (!denials.some((d) => evaluateCondition(d, request) === true && covers(d, pin, node))) return NagRuleCompliance.NON_COMPLIANT;
      }
    }
  }
  return NagRuleCompliance.COMPLIANT;
}, 'name', { value: 'S3BucketPolicyDeniesAlgorithmWithoutKey' });
