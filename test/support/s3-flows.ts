/**
 * S3 requests as AWS authorizes them: the S3 request (bucket policy + identity policies), then the
 * KMS request S3 makes on the caller's behalf (key policy + identity policies). A flow is allowed
 * only when every leg is. Each fact used here is from the S3 user guide:
 * - UsingKMSEncryption.html / bucket-key.html: S3 calls KMS as the requester, with
 *   `kms:ViaService` = `s3.<region>.amazonaws.com` and the encryption context `aws:s3:arn` set to
 *   the bucket ARN when an S3 Bucket Key is used, the object ARN when not.
 * - mpuoverview.html ("Multipart upload API and permissions"): a multipart upload with SSE-KMS
 *   needs `kms:GenerateDataKey` and `kms:Decrypt`, and every multipart call is authorized as
 *   `s3:PutObject`.
 * - conditional-writes-enforce.html: `s3:ObjectCreationOperation` is false for
 *   CreateMultipartUpload, UploadPart and UploadPartCopy, true for PutObject, CopyObject and
 *   CompleteMultipartUpload; UploadPart, UploadPartCopy and CompleteMultipartUpload carry no SSE
 *   headers.
 * - PutObject API reference (SSEKMSKeyId): `aws:kms` without a key id means the AWS managed key
 *   `aws/s3`.
 */
import { AccessModel, AccessResult, ACCOUNT, PARTITION, REGION } from './access-model';

export type WriteOperation = 'PutObject' | 'CopyObject' | 'CreateMultipartUpload' | 'UploadPart' | 'UploadPartCopy' | 'CompleteMultipartUpload';

const CREATION: Record<WriteOperation, 'true' | 'false'> = {
  PutObject: 'true',
  CopyObject: 'true',
  CompleteMultipartUpload: 'true',
  CreateMultipartUpload: 'false',
  UploadPart: 'false',
  UploadPartCopy: 'false',
};
const CARRIES_SSE_HEADERS: WriteOperation[] = ['PutObject', 'CopyObject', 'CreateMultipartUpload'];

export interface WriteOptions {
  readonly operation?: WriteOperation;
  /** `x-amz-server-side-encryption`. */
  readonly sse?: string;
  /** `x-amz-server-side-encryption-aws-kms-key-id`. */
  readonly keyId?: string;
  /** `x-amz-server-side-encryption-customer-algorithm`. */
  readonly sseCustomerAlgorithm?: string;
  /** `x-amz-server-side-encryption-bucket-key-enabled`, when the request names it. */
  readonly bucketKey?: boolean;
  /** For UploadPart / CompleteMultipartUpload: the key the upload was created with. */
  readonly uploadKeyArn?: string;
  /**
   * `x-amz-server-side-encryption-context`: the caller's encryption context, which S3 adds to the
   * one it sends KMS (specifying-kms-encryption.html).
   */
  readonly encryptionContext?: Record<string, string>;
  /** Extra or replaced context keys for the S3 request (e.g. `aws:SecureTransport`). */
  readonly context?: Record<string, string | undefined>;
  /** Identity policies of a principal outside the app. */
  readonly identityPolicies?: any[];
}

export interface FlowResult {
  readonly allowed: boolean;
  readonly s3: AccessResult;
  readonly kms: AccessResult[];
  /** The key S3 would encrypt with, when the S3 request is allowed. */
  readonly effectiveKey?: string;
  /** Every deciding statement of the legs that refused. */
  readonly deniedBy: string[];
}

export interface BucketRef { readonly name: string; readonly arn: string; readonly region?: string }

/** The default encryption of a bucket of the app: its key ARN and whether S3 Bucket Keys are on. */
export function defaultEncryption(model: AccessModel, bucket: BucketRef): { algorithm: string; keyArn?: string; bucketKey: boolean } {
  const r = model.all('AWS::S3::Bucket').find((b) => b.ref === bucket.name);
  const rule = r?.properties.BucketEncryption?.ServerSideEncryptionConfiguration?.[0];
  const byDefault = rule?.ServerSideEncryptionByDefault ?? { SSEAlgorithm: 'AES256' };
  return { algorithm: byDefault.SSEAlgorithm, keyArn: byDefault.KMSMasterKeyID, bucketKey: rule?.BucketKeyEnabled === true };
}

/** The AWS managed key `aws/s3` of the account, as S3 resolves a key-less `aws:kms` request. */
export const AWS_MANAGED_S3_KEY = `arn:${PARTITION}:kms:${REGION}:${ACCOUNT}:alias/aws/s3`;

export function kmsContext(
  principal: string, context: string, region = REGION, callerContext: Record<string, string> = {},
): Record<string, string | string[]> {
  const extra: Record<string, string> = {};
  for (const [k, v] of Object.entries(callerContext)) extra[`kms:EncryptionContext:${k}`] = v;
  return {
    'kms:ViaService': `s3.${region}.amazonaws.com`,
    'kms:CallerAccount': principal.split(':')[4] || ACCOUNT,
    'kms:EncryptionContext:aws:s3:arn': context,
    'kms:EncryptionContextKeys': ['aws:s3:arn', ...Object.keys(callerContext)],
    ...extra,
  };
}

/** A write to `bucket/objectKey` by `principal`, with the KMS calls S3 makes for it. */
export function s3Write(model: AccessModel, principal: string, bucket: BucketRef, objectKey: string, options: WriteOptions = {}): FlowResult {
  const operation = options.operation ?? 'PutObject';
  const headers = CARRIES_SSE_HEADERS.includes(operation);
  const objectArn = `${bucket.arn}/${objectKey}`;
  const context: Record<string, string | undefined> = { 's3:ObjectCreationOperation': CREATION[operation] };
  if (headers && options.sse !== undefined) context['s3:x-amz-server-side-encryption'] = options.sse;
  if (headers && options.keyId !== undefined) context['s3:x-amz-server-side-encryption-aws-kms-key-id'] = options.keyId;
  if (options.sseCustomerAlgorithm !== undefined) context['s3:x-amz-server-side-encryption-customer-algorithm'] = options.sseCustomerAlgorithm;
  Object.assign(context, options.context);
  const s3 = model.evaluate({ principal, action: 's3:PutObject', resource: objectArn, context, identityPolicies: options.identityPolicies });

  // The key S3 uses: named by the request, or the upload's, or the bucket default.
  const defaults = defaultEncryption(model, bucket);
  let keyArn: string | undefined;
  let algorithm = defaults.algorithm;
  if (!headers) {
    keyArn = options.uploadKeyArn ?? defaults.keyArn;
  } else if (options.sseCustomerAlgorithm) {
    keyArn = undefined;
    algorithm = 'SSE-C';
  } else if (options.sse === 'AES256') {
    keyArn = undefined;
    algorithm = 'AES256';
  } else if (options.sse !== undefined) {
    algorithm = options.sse;
    keyArn = options.keyId ?? AWS_MANAGED_S3_KEY;
  } else {
    keyArn = defaults.keyArn;
  }
  const bucketKey = algorithm === 'aws:kms' && (options.bucketKey ?? defaults.bucketKey);
  const kms: AccessResult[] = [];
  if (keyArn && algorithm.startsWith('aws:kms') && keyArn !== AWS_MANAGED_S3_KEY) {
    const ctx = kmsContext(principal, bucketKey ? bucket.arn : objectArn, bucket.region, options.encryptionContext);
    const multipart = operation !== 'PutObject' && operation !== 'CopyObject';
    for (const action of multipart ? ['kms:GenerateDataKey', 'kms:Decrypt'] : ['kms:GenerateDataKey']) {
      kms.push(model.evaluate({ principal, action, resource: model.keyBehind(keyArn), context: ctx, identityPolicies: options.identityPolicies }));
    }
  }
  return finish(s3, kms, keyArn);
}

export interface ReadOptions {
  /** The key the object was written with. */
  readonly keyArn?: string;
  /** Whether the object was written with an S3 Bucket Key. */
  readonly bucketKey?: boolean;
  readonly context?: Record<string, string | undefined>;
  readonly identityPolicies?: any[];
  readonly action?: string;
  /** The caller's encryption context the object was written with. */
  readonly encryptionContext?: Record<string, string>;
}

/** A read of `bucket/objectKey` by `principal`, with the `kms:Decrypt` S3 makes for it. */
export function s3Read(model: AccessModel, principal: string, bucket: BucketRef, objectKey: string, options: ReadOptions = {}): FlowResult {
  const objectArn = `${bucket.arn}/${objectKey}`;
  const s3 = model.evaluate({ principal, action: options.action ?? 's3:GetObject', resource: objectArn, context: options.context, identityPolicies: options.identityPolicies });
  const defaults = defaultEncryption(model, bucket);
  const keyArn = options.keyArn ?? defaults.keyArn;
  const kms: AccessResult[] = [];
  if (keyArn) {
    const ctx = kmsContext(principal, (options.bucketKey ?? defaults.bucketKey) ? bucket.arn : objectArn, bucket.region, options.encryptionContext);
    kms.push(model.evaluate({ principal, action: 'kms:Decrypt', resource: model.keyBehind(keyArn), context: ctx, identityPolicies: options.identityPolicies }));
  }
  return finish(s3, kms, keyArn);
}

/** A direct KMS call (not through S3): no `kms:ViaService`. */
export function kmsDirect(
  model: AccessModel, principal: string, action: string, keyArn: string, encryptionContext: Record<string, string> = {},
): AccessResult {
  const context: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(encryptionContext)) context[`kms:EncryptionContext:${k}`] = v;
  if (Object.keys(encryptionContext).length > 0) context['kms:EncryptionContextKeys'] = Object.keys(encryptionContext);
  return model.evaluate({ principal, action, resource: keyArn, context });
}

function finish(s3: AccessResult, kms: AccessResult[], keyArn?: string): FlowResult {
  // The KMS legs only happen once S3 has allowed the request; an implicit denial names its leg.
  const legs: [string, AccessResult][] = [['s3', s3], ...(s3.decision === 'Allowed' ? kms.map((k): [string, AccessResult] => ['kms', k]) : [])];
  const refused = legs.filter(([, l]) => l.decision !== 'Allowed');
  return {
    allowed: refused.length === 0,
    s3,
    kms,
    effectiveKey: keyArn,
    deniedBy: refused.flatMap(([leg, l]) => (l.deciding.length > 0 ? l.deciding : [`${leg}:${l.decision}`])),
  };
}

export interface UpdateEncryptionOptions {
  /** The KMS key ARN of the request (`ObjectEncryption.SSEKMS.KMSKeyArn`). */
  readonly keyArn: string;
  /** `BucketKeyEnabled` of the request. */
  readonly bucketKey?: boolean;
  /** The object's key today: undefined for SSE-S3. */
  readonly oldKeyArn?: string;
  /** Whether the object has an S3 Bucket Key today. */
  readonly oldBucketKey?: boolean;
  readonly context?: Record<string, string | undefined>;
  readonly identityPolicies?: any[];
}

/**
 * S3's UpdateObjectEncryption on `bucket/objectKey` by `principal`. The Service Authorization
 * Reference (list_amazons3.html) gives the action `s3:UpdateObjectEncryption` the SSE condition keys
 * `s3:x-amz-server-side-encryption` and `s3:x-amz-server-side-encryption-aws-kms-key-id`; the only
 * target type is SSE-KMS (update-sse-encryption.html), so the first is `aws:kms`. AWS does not say
 * which KMS calls S3 makes for it, only the permissions it needs (batch-ops-iam-role-policies.html:
 * "kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:ReEncrypt*"), so the flow is allowed only
 * when every call S3 could make is: Decrypt and ReEncryptFrom on the old key (KMS API Reference,
 * ReEncrypt: "kms:ReEncryptFrom permission on the source KMS key"), and Encrypt, GenerateDataKey,
 * ReEncryptTo and Decrypt (a cached S3 Bucket Key) on the new one, each with S3's context.
 */
export function s3UpdateObjectEncryption(
  model: AccessModel, principal: string, bucket: BucketRef, objectKey: string, options: UpdateEncryptionOptions,
): FlowResult {
  const objectArn = `${bucket.arn}/${objectKey}`;
  const context: Record<string, string | undefined> = {
    's3:x-amz-server-side-encryption': 'aws:kms',
    's3:x-amz-server-side-encryption-aws-kms-key-id': options.keyArn,
    ...options.context,
  };
  const s3 = model.evaluate({ principal, action: 's3:UpdateObjectEncryption', resource: objectArn, context, identityPolicies: options.identityPolicies });
  const kms: AccessResult[] = [];
  const call = (action: string, keyArn: string, bucketKey: boolean) => kms.push(model.evaluate({
    principal,
    action,
    resource: model.keyBehind(keyArn),
    context: kmsContext(principal, bucketKey ? bucket.arn : objectArn, bucket.region),
    identityPolicies: options.identityPolicies,
  }));
  if (options.oldKeyArn) for (const action of ['kms:Decrypt', 'kms:ReEncryptFrom']) call(action, options.oldKeyArn, options.oldBucketKey ?? false);
  for (const action of ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncryptTo', 'kms:Decrypt']) call(action, options.keyArn, options.bucketKey ?? false);
  return finish(s3, kms, options.keyArn);
}
