import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { ObjectEncryption } from './encrypted-bucket';

const SSE_HEADER = 's3:x-amz-server-side-encryption';
const KEY_HEADER = 's3:x-amz-server-side-encryption-aws-kms-key-id';
const SSE_C_HEADER = 's3:x-amz-server-side-encryption-customer-algorithm';

function deny(sid: string, bucketArn: string, conditions: Record<string, Record<string, unknown>>): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['s3:PutObject'],
    resources: [`${bucketArn}/*`],
    conditions,
  });
}

/**
 * The bucket-policy statements that keep every write on the chosen encryption. Each denial is
 * its own statement because the conditions of one statement are ANDed: a request is denied when
 * it names another algorithm, or another key, or (unless chosen) an SSE-C key. A PUT that names
 * no encryption gets the bucket default.
 */
export function encryptionDenyStatements(bucketArn: string, keyArn: string, mode: ObjectEncryption | string): iam.PolicyStatement[] {
  if (mode === 'SSE_C') {
    return [
      deny('DenyPutObjectWithoutSseCustomerKey', bucketArn, { Null: { [SSE_C_HEADER]: 'true' } }),
      deny('DenyPutObjectWithServerManagedEncryptionHeader', bucketArn, { Null: { [SSE_HEADER]: 'false' } }),
    ];
  }
  const algorithm = mode === 'DSSE_KMS' ? 'aws:kms:dsse' : 'aws:kms';
  return [
    deny('DenyPutObjectWithAnotherEncryptionAlgorithm', bucketArn, {
      StringNotEquals: { [SSE_HEADER]: algorithm },
      Null: { [SSE_HEADER]: 'false' },
    }),
    deny('DenyPutObjectWithAnotherKmsKey', bucketArn, {
      StringNotEquals: { [KEY_HEADER]: keyArn },
      Null: { [KEY_HEADER]: 'false' },
    }),
    deny('DenyPutObjectWithSseCustomerKey', bucketArn, { Null: { [SSE_C_HEADER]: 'false' } }),
  ];
}

/**
 * Lets S3 write the server access logs of `sourceBucketArn` under `prefix` of the log bucket, for
 * that source bucket of this account only (no ACLs: the log delivery service is allowed by policy).
 */
export function logDeliveryStatement(sid: string, logObjectsArn: string, sourceBucketArn: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
    actions: ['s3:PutObject'],
    resources: [logObjectsArn],
    conditions: {
      ArnLike: { 'aws:SourceArn': sourceBucketArn },
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
    },
  });
}
