import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { ObjectEncryption } from './encrypted-bucket';

const SSE_HEADER = 's3:x-amz-server-side-encryption';
const KEY_HEADER = 's3:x-amz-server-side-encryption-aws-kms-key-id';
const SSE_C_HEADER = 's3:x-amz-server-side-encryption-customer-algorithm';

type Conditions = Record<string, Record<string, unknown>>;

/**
 * The actions that set an object's server-side encryption and carry the SSE condition keys. The
 * Service Authorization Reference (list_amazons3.html) lists `s3:x-amz-server-side-encryption` and
 * `s3:x-amz-server-side-encryption-aws-kms-key-id` for `s3:UpdateObjectEncryption` as for
 * `s3:PutObject`: without it in the denials, any principal allowed `s3:UpdateObjectEncryption`
 * could move existing objects to another key of the account (S3 User Guide,
 * update-sse-encryption.html: it changes "the customer-managed KMS key used to encrypt your data").
 * The SSE-C header is no condition key of that action, and it always names a key ARN, so the
 * denials of an SSE-C key and of a KMS algorithm without a key id stay on `s3:PutObject` alone.
 */
export const SETS_OBJECT_ENCRYPTION = ['s3:PutObject', 's3:UpdateObjectEncryption'];

/** A denial of `actions` (`s3:PutObject` unless given) on some objects, for every principal, under conditions. */
function putDeny(sid: string, objectsArn: string, conditions: Conditions, actions: string[] = ['s3:PutObject']): iam.PolicyStatementProps {
  return { sid, effect: iam.Effect.DENY, principals: [new iam.AnyPrincipal()], actions, resources: [objectsArn], conditions };
}

function deny(sid: string, bucketArn: string, conditions: Conditions, actions?: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement(putDeny(sid, `${bucketArn}/*`, conditions, actions));
}

/**
 * The denials of a bucket that takes SSE-S3 only (a server-access-log destination): a PUT naming
 * another algorithm, or an SSE-C key.
 */
export function sseS3OnlyDenyStatements(objectsArn: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement(putDeny(ALGORITHM_SID, objectsArn, { StringNotEquals: { [SSE_HEADER]: 'AES256' }, Null: { [SSE_HEADER]: 'false' } }, SETS_OBJECT_ENCRYPTION)),
    new iam.PolicyStatement(putDeny('DenyPutObjectWithSseCustomerKey', objectsArn, { Null: { [SSE_C_HEADER]: 'false' } })),
  ];
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
      deny('DenyPutObjectWithServerManagedEncryptionHeader', bucketArn, { Null: { [SSE_HEADER]: 'false' } }, SETS_OBJECT_ENCRYPTION),
    ];
  }
  const algorithm = mode === 'DSSE_KMS' ? 'aws:kms:dsse' : 'aws:kms';
  return [
    new ExemptableDeny(ALGORITHM_SID, bucketArn, {
      StringNotEquals: { [SSE_HEADER]: algorithm },
      Null: { [SSE_HEADER]: 'false' },
    }),
    new ExemptableDeny(KEY_PIN_SID, bucketArn, {
      StringNotEquals: { [KEY_HEADER]: keyArn },
      Null: { [KEY_HEADER]: 'false' },
    }),
    // PutObject API reference (SSEKMSKeyId): "If you specify x-amz-server-side-encryption:aws:kms or
    // aws:kms:dsse, but don't provide x-amz-server-side-encryption-aws-kms-key-id, Amazon S3 uses the
    // AWS managed key (aws/s3) to protect the data." Such a PUT would escape the bucket's key.
    // UploadPart, UploadPartCopy and CompleteMultipartUpload carry no SSE header, so this never
    // matches them.
    deny('DenyPutObjectWithKmsAlgorithmButNoKeyId', bucketArn, {
      StringEquals: { [SSE_HEADER]: ['aws:kms', 'aws:kms:dsse'] },
      Null: { [KEY_HEADER]: 'true' },
    }),
    deny('DenyPutObjectWithSseCustomerKey', bucketArn, { Null: { [SSE_C_HEADER]: 'false' } }),
  ];
}

export const ALGORITHM_SID = 'DenyPutObjectWithAnotherEncryptionAlgorithm';
export const KEY_PIN_SID = 'DenyPutObjectWithAnotherKmsKey';

/**
 * A denial on every object of the bucket, with a public way to leave prefixes to other statements:
 * it then denies everything but those prefixes (`NotResource`). Used for the denial of another KMS
 * key (a TenantKeyring pins its own keys under its prefix) and of another algorithm (CloudTrail
 * may write digest files as SSE-S3 under its digest prefix).
 */
export class ExemptableDeny extends iam.PolicyStatement {
  private readonly exempt: string[] = [];

  constructor(sid: string, bucketArn: string, conditions: Conditions) {
    super(putDeny(sid, `${bucketArn}/*`, conditions, SETS_OBJECT_ENCRYPTION));
  }

  /** Leaves the objects matching `objectsArnPattern` (e.g. `arn:...:bucket/tenants/*`) to other statements. */
  public exemptObjects(objectsArnPattern: string): void {
    if (!this.exempt.includes(objectsArnPattern)) this.exempt.push(objectsArnPattern);
  }

  public toStatementJson(): any {
    const json = super.toStatementJson();
    if (this.exempt.length > 0 && json.Resource !== undefined) {
      delete json.Resource;
      json.NotResource = this.exempt.length === 1 ? this.exempt[0] : [...this.exempt];
    }
    return json;
  }
}

/** Under an exempted prefix: any algorithm but the bucket's and SSE-S3 stays denied. */
export function algorithmOrSseS3Deny(sid: string, objectsArnPattern: string, algorithm: string): iam.PolicyStatement {
  return new iam.PolicyStatement(putDeny(sid, objectsArnPattern, {
    StringNotEquals: { [SSE_HEADER]: [algorithm, 'AES256'] },
    Null: { [SSE_HEADER]: 'false' },
  }, SETS_OBJECT_ENCRYPTION));
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
