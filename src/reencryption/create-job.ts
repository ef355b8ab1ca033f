/**
 * The S3 Control CreateJob request of a re-encryption job, built from the parameters a
 * ReencryptionJob synthesizes. Plain data with no AWS CDK or SDK import, so the construct (for the
 * printed CLI command) and `cdk-s3-encryption/client` (for `startReencryptionJob`) share it.
 */
import { createHash } from 'node:crypto';

/** CopyObject, and so Batch Operations Copy, copies at most 5 GiB; larger objects need a multipart copy. */
export const BATCH_COPY_MAX_OBJECT_BYTES = 5 * 1024 ** 3;

/** How the objects to re-encrypt are encrypted today. */
export type ReencryptionSourceName = 'NOT_ENCRYPTED' | 'SSE_S3' | 'SSE_KMS' | 'DSSE_KMS';

/**
 * The Batch Operations operation of a re-encryption job: `UPDATE_OBJECT_ENCRYPTION` changes each
 * object's server-side encryption in place (S3's UpdateObjectEncryption), `COPY` copies each object
 * onto itself with the new encryption.
 */
export type ReencryptionOperationName = 'UPDATE_OBJECT_ENCRYPTION' | 'COPY';

/** What a ReencryptionJob writes into its `JobParameters` output (JSON). */
export interface ReencryptionJobParameters {
  readonly accountId: string;
  readonly region: string;
  readonly roleArn: string;
  readonly bucketArn: string;
  readonly bucketName: string;
  /** Only objects under this prefix; empty for the whole bucket. */
  readonly keyPrefix: string;
  readonly targetEncryption: 'SSE_KMS' | 'DSSE_KMS';
  readonly targetKeyArn: string;
  readonly bucketKeyEnabled: boolean;
  /**
   * The operation the construct chose (or was told to use). Parameters written before the choice
   * existed have none and mean `COPY`, the only operation then.
   */
  readonly operation?: ReencryptionOperationName;
  /** Why that operation: shown in the outputs and the job description. */
  readonly operationReason?: string;
  readonly source: ReencryptionSourceName;
  /** The keys objects are encrypted with today (SSE_KMS and DSSE_KMS sources); one job per key. */
  readonly sourceKeyArns: string[];
  readonly reportBucketArn: string;
  readonly reportPrefix: string;
  readonly reportAllTasks: boolean;
  readonly manifestBucketArn: string;
  readonly manifestPrefix: string;
  /** Where S3 Inventory writes `<date>/manifest.json`, ending in '/'. */
  readonly inventoryManifestPrefix: string;
  readonly priority: number;
}

/** Choices made when the job is started rather than at synth. */
export interface CreateJobOptions {
  /**
   * Storage class of the objects to re-encrypt. A copy names its storage class, so each class is its
   * own Copy job, and archived classes (GLACIER, DEEP_ARCHIVE) must be restored first. An
   * UpdateObjectEncryption job changes objects of every class in place (no restore, no move between
   * tiers), so it filters on a class only when you name one.
   * @default 'STANDARD' for a Copy job; every class for an UpdateObjectEncryption job
   */
  readonly storageClass?: string;
  /** Only objects created before this time (for example the moment the key changed). @default no limit */
  readonly createdBefore?: Date;
  /** Whether the job waits for a confirmation (UpdateJobStatus) after its manifest is read. @default false */
  readonly confirmationRequired?: boolean;
  /** Idempotency token of CreateJob; a retried call with the same token starts no second job. @default a token derived from the inputs */
  readonly clientRequestToken?: string;
  /** Description shown in the console. @default 'Re-encrypt <source> objects of <bucket> to <target>' */
  readonly description?: string;
}

/** The CreateJob request shape (a subset of `@aws-sdk/client-s3-control`'s CreateJobRequest). */
export interface ReencryptionCreateJobInput {
  readonly AccountId: string;
  readonly ConfirmationRequired: boolean;
  /** Exactly one of the two, per the job's `operation`. */
  readonly Operation: { readonly S3PutObjectCopy?: Record<string, unknown>; readonly S3UpdateObjectEncryption?: Record<string, unknown> };
  readonly Report: Record<string, unknown>;
  readonly ManifestGenerator?: { readonly S3JobManifestGenerator: Record<string, unknown> };
  readonly Manifest?: Record<string, unknown>;
  readonly ClientRequestToken: string;
  readonly Description: string;
  readonly Priority: number;
  readonly RoleArn: string;
}

/**
 * One CreateJob request per source key (a generated manifest filters on one encryption type and
 * one key), with a completion report: either Batch Operations "Update object encryption" of every
 * matching object, in place, or Batch Operations Copy of every matching object under 5 GiB onto
 * itself, with the target encryption, metadata and tags copied.
 */
export function buildCreateJobInputs(params: ReencryptionJobParameters, options: CreateJobOptions = {}): ReencryptionCreateJobInput[] {
  const keys: (string | undefined)[] = params.sourceKeyArns.length > 0 ? params.sourceKeyArns : [undefined];
  return keys.map((keyArn) => buildOne(params, options, keyArn));
}

function buildOne(p: ReencryptionJobParameters, options: CreateJobOptions, sourceKeyArn: string | undefined): ReencryptionCreateJobInput {
  const operation = p.operation ?? 'COPY';
  const copy = operation === 'COPY';
  const storageClass = options.storageClass ?? (copy ? 'STANDARD' : undefined);
  const filter: Record<string, unknown> = {};
  // Batch Copy is a CopyObject per object: anything larger goes through the multipart path.
  // UpdateObjectEncryption moves no data and has no size limit.
  if (copy) filter.ObjectSizeLessThanBytes = BATCH_COPY_MAX_OBJECT_BYTES + 1;
  if (storageClass) filter.MatchAnyStorageClass = [storageClass];
  filter.MatchAnyObjectEncryption = [encryptionFilter(p, sourceKeyArn)];
  if (p.keyPrefix) filter.KeyNameConstraint = { MatchAnyPrefix: [p.keyPrefix] };
  if (options.createdBefore) filter.CreatedBefore = options.createdBefore;
  const description = options.description
    ?? `${copy ? 'Copy' : 'Update encryption of'} ${p.source}${sourceKeyArn ? ` (${shortKey(sourceKeyArn)})` : ''} objects of ${p.bucketName} `
    + `to ${p.targetEncryption} (${shortKey(p.targetKeyArn)})`;
  return {
    AccountId: p.accountId,
    ConfirmationRequired: options.confirmationRequired ?? false,
    Operation: copy ? { S3PutObjectCopy: copyOperation(p, storageClass ?? 'STANDARD') } : { S3UpdateObjectEncryption: updateOperation(p) },
    ManifestGenerator: {
      S3JobManifestGenerator: {
        ExpectedBucketOwner: p.accountId,
        SourceBucket: p.bucketArn,
        EnableManifestOutput: true,
        ManifestOutputLocation: {
          ExpectedManifestBucketOwner: p.accountId,
          Bucket: p.manifestBucketArn,
          ManifestPrefix: p.manifestPrefix,
          ManifestFormat: 'S3InventoryReport_CSV_20211130',
        },
        Filter: filter,
      },
    },
    Report: {
      Enabled: true,
      Bucket: p.reportBucketArn,
      Prefix: p.reportPrefix,
      Format: 'Report_CSV_20180820',
      ReportScope: p.reportAllTasks ? 'AllTasks' : 'FailedTasksOnly',
    },
    ClientRequestToken: options.clientRequestToken ?? requestToken(p, operation, sourceKeyArn, storageClass, options.createdBefore),
    Description: description.slice(0, 256),
    Priority: p.priority,
    RoleArn: p.roleArn,
  };
}

function copyOperation(p: ReencryptionJobParameters, storageClass: string): Record<string, unknown> {
  // DSSE-KMS has no value in the copy operation: naming no encryption lets the bucket default (DSSE-KMS) apply.
  const sse = p.targetEncryption === 'SSE_KMS'
    ? { SSEAwsKmsKeyId: p.targetKeyArn, BucketKeyEnabled: p.bucketKeyEnabled, NewObjectMetadata: { SSEAlgorithm: 'KMS' } }
    : {};
  return {
    TargetResource: p.bucketArn,
    // COPY keeps user metadata and content headers; tags are copied because NewObjectTagging is absent.
    MetadataDirective: 'COPY',
    StorageClass: storageClass,
    ...sse,
  };
}

/**
 * S3 User Guide, batch-ops-update-encryption.html, and the S3 Control API reference
 * (S3UpdateObjectEncryptionSSEKMS): the operation takes SSE-KMS only, with the full key ARN
 * (`KMSKeyArn`: "Pattern: arn:aws[a-zA-Z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+", no alias)
 * and `BucketKeyEnabled`, which is false when left out, so it is always named.
 */
function updateOperation(p: ReencryptionJobParameters): Record<string, unknown> {
  if (p.targetEncryption !== 'SSE_KMS') {
    throw new Error(`UpdateObjectEncryption changes objects to SSE-KMS only, not ${p.targetEncryption}: use operation COPY for a DSSE-KMS bucket.`);
  }
  return { ObjectEncryption: { SSEKMS: { KMSKeyArn: p.targetKeyArn, BucketKeyEnabled: p.bucketKeyEnabled } } };
}

function encryptionFilter(p: ReencryptionJobParameters, keyArn: string | undefined): Record<string, unknown> {
  switch (p.source) {
    case 'NOT_ENCRYPTED': return { NOTSSE: {} };
    case 'SSE_S3': return { SSES3: {} };
    case 'SSE_KMS': {
      if (!keyArn) return { SSEKMS: {} };
      // Objects already under the target key differ only in S3 Bucket Keys: the job applies them, so
      // it takes only the objects without one (SSEKMSFilter.BucketKeyEnabled).
      const applyingBucketKeys = keyArn === p.targetKeyArn && p.targetEncryption === 'SSE_KMS' && p.bucketKeyEnabled;
      return { SSEKMS: applyingBucketKeys ? { KmsKeyArn: keyArn, BucketKeyEnabled: false } : { KmsKeyArn: keyArn } };
    }
    case 'DSSE_KMS': return { DSSEKMS: keyArn ? { KmsKeyArn: keyArn } : {} };
    default: throw new Error(`Unknown re-encryption source '${String(p.source)}': expected NOT_ENCRYPTED, SSE_S3, SSE_KMS or DSSE_KMS.`);
  }
}

function shortKey(arn: string): string {
  const i = arn.lastIndexOf('/');
  return i >= 0 ? arn.slice(i + 1) : arn;
}

/** A deterministic token (1 to 64 characters) so a retried start of the same job is idempotent. */
function requestToken(
  p: ReencryptionJobParameters, operation: string, sourceKeyArn: string | undefined, storageClass: string | undefined, createdBefore?: Date,
): string {
  const text = [p.bucketArn, p.keyPrefix, p.source, sourceKeyArn ?? '', p.targetEncryption, p.targetKeyArn, storageClass ?? '', createdBefore?.toISOString() ?? '']
    // A Copy job's token is the one it had before the operation was chosen, so a retried start of an older job stays idempotent.
    .concat(operation === 'COPY' ? [] : [operation]).join('|');
  return `reencrypt-${createHash('sha256').update(text).digest('hex').slice(0, 40)}`;
}
