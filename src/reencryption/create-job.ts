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
   * Storage class of the objects to re-encrypt, and of their copies: a copy names its storage class,
   * so each class is its own job. Archived classes (GLACIER, DEEP_ARCHIVE) must be restored first.
   * @default 'STANDARD'
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
  readonly Operation: { readonly S3PutObjectCopy: Record<string, unknown> };
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
 * one key): Batch Operations Copy of every matching object under 5 GiB onto itself, with the
 * target encryption, metadata and tags copied, and a completion report.
 */
export function buildCreateJobInputs(params: ReencryptionJobParameters, options: CreateJobOptions = {}): ReencryptionCreateJobInput[] {
  const keys: (string | undefined)[] = params.sourceKeyArns.length > 0 ? params.sourceKeyArns : [undefined];
  return keys.map((keyArn) => buildOne(params, options, keyArn));
}

function buildOne(p: ReencryptionJobParameters, options: CreateJobOptions, sourceKeyArn: string | undefined): ReencryptionCreateJobInput {
  const storageClass = options.storageClass ?? 'STANDARD';
  const filter: Record<string, unknown> = {
    // Batch Copy is a CopyObject per object: anything larger goes through the multipart path.
    ObjectSizeLessThanBytes: BATCH_COPY_MAX_OBJECT_BYTES + 1,
    MatchAnyStorageClass: [storageClass],
    MatchAnyObjectEncryption: [encryptionFilter(p.source, sourceKeyArn)],
  };
  if (p.keyPrefix) filter.KeyNameConstraint = { MatchAnyPrefix: [p.keyPrefix] };
  if (options.createdBefore) filter.CreatedBefore = options.createdBefore;
  // DSSE-KMS has no value in the copy operation: naming no encryption lets the bucket default (DSSE-KMS) apply.
  const sse = p.targetEncryption === 'SSE_KMS'
    ? { SSEAwsKmsKeyId: p.targetKeyArn, BucketKeyEnabled: p.bucketKeyEnabled, NewObjectMetadata: { SSEAlgorithm: 'KMS' } }
    : {};
  const description = options.description
    ?? `Re-encrypt ${p.source}${sourceKeyArn ? ` (${shortKey(sourceKeyArn)})` : ''} objects of ${p.bucketName} to ${p.targetEncryption} (${shortKey(p.targetKeyArn)})`;
  return {
    AccountId: p.accountId,
    ConfirmationRequired: options.confirmationRequired ?? false,
    Operation: {
      S3PutObjectCopy: {
        TargetResource: p.bucketArn,
        // COPY keeps user metadata and content headers; tags are copied because NewObjectTagging is absent.
        MetadataDirective: 'COPY',
        StorageClass: storageClass,
        ...sse,
      },
    },
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
    ClientRequestToken: options.clientRequestToken ?? requestToken(p, sourceKeyArn, storageClass, options.createdBefore),
    Description: description.slice(0, 256),
    Priority: p.priority,
    RoleArn: p.roleArn,
  };
}

function encryptionFilter(source: ReencryptionSourceName, keyArn: string | undefined): Record<string, unknown> {
  switch (source) {
    case 'NOT_ENCRYPTED': return { NOTSSE: {} };
    case 'SSE_S3': return { SSES3: {} };
    case 'SSE_KMS': return { SSEKMS: keyArn ? { KmsKeyArn: keyArn } : {} };
    case 'DSSE_KMS': return { DSSEKMS: keyArn ? { KmsKeyArn: keyArn } : {} };
    default: throw new Error(`Unknown re-encryption source '${String(source)}': expected NOT_ENCRYPTED, SSE_S3, SSE_KMS or DSSE_KMS.`);
  }
}

function shortKey(arn: string): string {
  const i = arn.lastIndexOf('/');
  return i >= 0 ? arn.slice(i + 1) : arn;
}

/** A deterministic token (1 to 64 characters) so a retried start of the same job is idempotent. */
function requestToken(p: ReencryptionJobParameters, sourceKeyArn: string | undefined, storageClass: string, createdBefore?: Date): string {
  const text = [p.bucketArn, p.keyPrefix, p.source, sourceKeyArn ?? '', p.targetEncryption, p.targetKeyArn, storageClass, createdBefore?.toISOString() ?? ''].join('|');
  return `reencrypt-${createHash('sha256').update(text).digest('hex').slice(0, 40)}`;
}
