import { CfnResource } from 'aws-cdk-lib';
import { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { NagRuleCompliance } from 'cdk-nag';
import { ABSENT, conditionEntries, evaluateCondition, evaluateEntry } from './iam';
import { putObjectDenials } from './util';

const SSE = 's3:x-amz-server-side-encryption';
const KEY_ID = 's3:x-amz-server-side-encryption-aws-kms-key-id';
const SSE_C = 's3:x-amz-server-side-encryption-customer-algorithm';
const SERVER_SIDE_HEADERS = [SSE, KEY_ID];

/**
 * No bucket-policy denial on s3:PutObject fires when the SSE algorithm or KMS key-id header is
 * absent. UploadPart, UploadPartCopy and CompleteMultipartUpload are authorized as s3:PutObject
 * and carry neither header; s3:ObjectCreationOperation is false for UploadPart, UploadPartCopy and
 * CreateMultipartUpload but true for CompleteMultipartUpload, as for PutObject and CopyObject (S3
 * User Guide, conditional-writes-enforce.html). So no condition tells a CompleteMultipartUpload from
 * a header-less PutObject, and such a denial makes every multipart upload fail. A denial on an
 * absent SSE-C header is left alone: SSE-C requests send those headers on UploadPart and
 * CompleteMultipartUpload too. `...IfExists` and negated operators (`StringNotEquals`,
 * `StringNotLike`) are true when the key is absent, so they fire unless a `Null: false` guard
 * stands beside them.
 */
export default Object.defineProperty((node: CfnResource): NagRuleCompliance => {
  if (!(node instanceof CfnBucket)) return NagRuleCompliance.NOT_APPLICABLE;
  const blocking = putObjectDenials(node).some((statement) => {
    const onHeaders = conditionEntries(statement).filter((e) => SERVER_SIDE_HEADERS.includes(e.key.toLowerCase()));
    if (onHeaders.length === 0) return false;
    // CompleteMultipartUpload (creation true) and UploadPart (creation false), without SSE headers.
    return ['true', 'false'].some((creation) => {
      const request = { [SSE]: ABSENT, [KEY_ID]: ABSENT, [SSE_C]: ABSENT, 's3:ObjectCreationOperation': creation };
      return evaluateCondition(statement, request) !== false && onHeaders.some((e) => evaluateEntry(e, request) === true);
    });
  });
  return blocking ? NagRuleCompliance.NON_COMPLIANT : NagRuleCompliance.COMPLIANT;
}, 'name', { value: 'S3KeyDenialsAllowMultipart' });
