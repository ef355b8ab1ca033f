import { promises as fs } from 'node:fs';
import { HeadObjectCommand, ListObjectsV2Command, S3ServiceException, UpdateObjectEncryptionCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { SseCustomerKey } from './sse-c';
import type { RekeyObjectResult } from './sse-c';
import { buildCreateJobInputs } from '../reencryption/create-job';
import type { CreateJobOptions, ReencryptionCreateJobInput, ReencryptionJobParameters } from '../reencryption/create-job';

export { buildCreateJobInputs, BATCH_COPY_MAX_OBJECT_BYTES } from '../reencryption/create-job';
export type { CreateJobOptions, ReencryptionCreateJobInput, ReencryptionJobParameters, ReencryptionSourceName } from '../reencryption/create-job';

/** The part of an `S3ControlClient` this module uses. */
export interface S3ControlLike {
  send(command: any, options?: { abortSignal?: AbortSignal }): Promise<{ JobId?: string }>;
}

/** Options of {@link startReencryptionJob}. */
export interface StartReencryptionJobOptions extends CreateJobOptions {
  /**
   * The `CreateJobCommand` class of `@aws-sdk/client-s3-control`.
   * @default loaded from `@aws-sdk/client-s3-control`, which you install
   */
  readonly createJobCommand?: new (input: any) => unknown;
  readonly abortSignal?: AbortSignal;
}

/** A started Batch Operations job. */
export interface StartedReencryptionJob {
  readonly jobId: string;
  readonly input: ReencryptionCreateJobInput;
}

/**
 * Starts the re-encryption job(s) of a deployed ReencryptionJob: one Batch Operations job per
 * source key, from the `JobParameters` output (parsed). CreateJob is idempotent on its request
 * token, so calling this again with the same parameters and options starts nothing new.
 *
 * @example
 * const params = JSON.parse(outputs['ReencryptJobParameters…']);
 * const jobs = await startReencryptionJob(new S3ControlClient({ region: params.region }), params);
 */
export async function startReencryptionJob(
  s3control: S3ControlLike,
  parameters: ReencryptionJobParameters,
  options: StartReencryptionJobOptions = {},
): Promise<StartedReencryptionJob[]> {
  const Command = options.createJobCommand ?? await loadCreateJobCommand();
  const started: StartedReencryptionJob[] = [];
  for (const input of buildCreateJobInputs(parameters, options)) {
    const out = await s3control.send(new Command(input), { abortSignal: options.abortSignal });
    if (!out.JobId) throw new Error(`CreateJob returned no JobId for '${input.Description}'; check the S3 Control client's endpoint and account id, then start again (the same inputs start no duplicate job).`);
    started.push({ jobId: out.JobId, input });
  }
  return started;
}

async function loadCreateJobCommand(): Promise<new (input: any) => unknown> {
  // A variable specifier keeps the optional SDK package out of this package's type dependencies.
  const name = '@aws-sdk/client-s3-control';
  try {
    const mod = await import(name);
    return mod.CreateJobCommand;
  } catch (e) {
    throw new Error(`startReencryptionJob needs ${name} (npm install ${name}) or the createJobCommand option: ${(e as Error).message}`);
  }
}

/** One line of the checkpoint file. */
export interface RekeyCheckpointRecord {
  readonly key: string;
  readonly status: 'done' | 'failed';
  /**
   * How a done object was handled: copied now, or found already under the new key (`rekeyPrefix`);
   * updated in place now, or found already under the target key (`reencryptPrefix`).
   */
  readonly how?: RekeyObjectResult['method'] | 'AlreadyNewKey' | ReencryptObjectResult['method'];
  readonly etag?: string;
  readonly error?: string;
  readonly at: string;
}

/** Counts reported while {@link rekeyPrefix} runs, and at its end. */
export interface RekeyProgress {
  /** Objects listed so far. */
  readonly listed: number;
  /** Re-keyed in this run. */
  readonly rekeyed: number;
  /** Done in an earlier run, per the checkpoint. */
  readonly skipped: number;
  /** Found already under the new key (a run that stopped after the copy but before its checkpoint line). */
  readonly alreadyNewKey: number;
  /** Failed in this run; a rerun retries them. */
  readonly failed: number;
  readonly inFlight: number;
}

/** Options of {@link rekeyPrefix}. */
export interface RekeyPrefixOptions {
  readonly Bucket: string;
  /** Key prefix of the objects to re-key; '' for the whole bucket. */
  readonly Prefix: string;
  readonly oldKey: SseCustomerKey;
  readonly newKey: SseCustomerKey;
  /**
   * JSON-lines file recording each object done or failed: a rerun skips what is done and retries
   * what failed. Keep it until the run ends with no failure.
   */
  readonly checkpointFile: string;
  /** Objects re-keyed at once. @default 8 */
  readonly concurrency?: number;
  /** Called after each object. */
  readonly onProgress?: (progress: RekeyProgress) => void;
  /** Stops listing and starting objects; the run then rejects with a {@link RekeyInterruptedError}. */
  readonly abortSignal?: AbortSignal;
  /** Passed to `rekeyObject`. @default 5 GiB */
  readonly multipartThresholdBytes?: number;
  /** Passed to `rekeyObject`. @default 512 MiB */
  readonly partSizeBytes?: number;
}

/** What {@link rekeyPrefix} did. */
export interface RekeyPrefixResult extends RekeyProgress {
  /** The objects that failed in this run, with the reason. */
  readonly failures: ReadonlyArray<{ readonly key: string; readonly error: string }>;
}

/** A run of {@link rekeyPrefix} stopped by its abort signal; rerun with the same checkpoint to finish. */
export class RekeyInterruptedError extends Error {
  public readonly progress: RekeyPrefixResult;
  constructor(progress: RekeyPrefixResult) {
    super(`Re-keying was interrupted after ${progress.rekeyed} objects (${progress.failed} failed, ${progress.skipped} done earlier); `
      + 'rerun with the same checkpointFile to finish.');
    this.name = 'RekeyInterruptedError';
    this.progress = progress;
  }
}

const DEFAULT_CONCURRENCY = 8;
const MAX_CONCURRENCY = 256;

/**
 * Re-keys every current object under a prefix from one SSE-C key to another (the path for SSE-C
 * objects, which S3 Batch Operations cannot read), with bounded concurrency, progress reports and
 * a checkpoint so that a run stopped by a failure or a crash resumes where it stopped: objects done
 * are skipped, failed ones retried, and an object found already under the new key is recorded as
 * done. Each object goes through `SseCustomerKey.rekeyObject` (ETag-guarded, multipart above 5 GiB,
 * metadata and tags kept).
 */
export async function rekeyPrefix(s3: S3Client, options: RekeyPrefixOptions): Promise<RekeyPrefixResult> {
  checkConcurrency(options.concurrency);
  if (!(options.oldKey instanceof SseCustomerKey) || !(options.newKey instanceof SseCustomerKey)) {
    throw new TypeError('oldKey and newKey must be SseCustomerKey instances.');
  }
  if (options.oldKey.equals(options.newKey)) {
    throw new RangeError('oldKey and newKey are the same key: there is nothing to re-key.');
  }
  await SseCustomerKey.requireHttps(s3);
  const run = await runOverPrefix(s3, options, async (key) => {
    const result = await options.oldKey.rekeyObject(s3, {
      Bucket: options.Bucket,
      Key: key,
      newKey: options.newKey,
      multipartThresholdBytes: options.multipartThresholdBytes,
      partSizeBytes: options.partSizeBytes,
      abortSignal: options.abortSignal,
    });
    return { how: result.method, etag: result.ETag };
  }, async (key) => ((await underKey(s3, options.Bucket, key, options.newKey)) ? 'AlreadyNewKey' : undefined),
  (r) => options.onProgress?.(rekeyProgress(r)));
  const summary: RekeyPrefixResult = { ...rekeyProgress(run), failures: run.failures };
  if (run.interrupted) throw new RekeyInterruptedError(summary);
  return summary;
}

function checkConcurrency(concurrency: number = DEFAULT_CONCURRENCY): void {
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new RangeError(`concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, got ${concurrency}.`);
  }
}

function rekeyProgress(r: PrefixRun): RekeyProgress {
  return { listed: r.listed, rekeyed: r.done, skipped: r.skipped, alreadyNewKey: r.already, failed: r.failed, inFlight: r.inFlight };
}

/** Counts of {@link runOverPrefix}. */
interface PrefixRun {
  listed: number;
  done: number;
  skipped: number;
  already: number;
  failed: number;
  inFlight: number;
  failures: { key: string; error: string }[];
  interrupted: boolean;
}

interface PrefixRunOptions {
  readonly Bucket: string;
  readonly Prefix: string;
  readonly checkpointFile: string;
  readonly concurrency?: number;
  readonly abortSignal?: AbortSignal;
}

/**
 * Runs `process` on every current object under a prefix, with bounded concurrency, a JSON-lines
 * checkpoint (a rerun skips what is done and retries what failed) and progress after each object.
 * When `process` fails, `recover` may find the object already done (its change landed but the
 * answer was lost) and name how; otherwise the object is recorded as failed.
 */
async function runOverPrefix(
  s3: S3Client,
  options: PrefixRunOptions,
  process: (key: string) => Promise<{ how: string; etag?: string; already?: boolean }>,
  recover: (key: string) => Promise<string | undefined>,
  report: (run: PrefixRun) => void,
): Promise<PrefixRun> {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const done = await readCheckpoint(options.checkpointFile);
  const file = await fs.open(options.checkpointFile, 'a');
  const run: PrefixRun = { listed: 0, done: 0, skipped: 0, already: 0, failed: 0, inFlight: 0, failures: [], interrupted: false };
  const record = async (r: Omit<RekeyCheckpointRecord, 'at'>) => {
    await file.appendFile(`${JSON.stringify({ ...r, at: new Date().toISOString() })}\n`);
  };

  const keys = listKeys(s3, options.Bucket, options.Prefix, options.abortSignal);
  const worker = async (): Promise<void> => {
    for (;;) {
      if (options.abortSignal?.aborted) return;
      // Async generators queue concurrent next() calls, so workers never receive the same key.
      const next = await keys.next();
      if (next.done) return;
      const key = next.value;
      run.listed++;
      if (done.has(key)) {
        run.skipped++;
        report(run);
        continue;
      }
      run.inFlight++;
      try {
        const result = await process(key);
        await record({ key, status: 'done', how: result.how as RekeyCheckpointRecord['how'], etag: result.etag });
        if (result.already) run.already++;
        else run.done++;
      } catch (err) {
        const already = await recover(key);
        if (already) {
          await record({ key, status: 'done', how: already as RekeyCheckpointRecord['how'] });
          run.already++;
        } else {
          const error = describeError(err);
          await record({ key, status: 'failed', error });
          run.failures.push({ key, error });
          run.failed++;
        }
      } finally {
        run.inFlight--;
      }
      report(run);
    }
  };

  try {
    const results = await Promise.allSettled(Array.from({ length: concurrency }, worker));
    const listingError = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    run.interrupted = options.abortSignal?.aborted ?? false;
    if (!run.interrupted && listingError) throw listingError.reason;
    return run;
  } finally {
    await keys.return(undefined).catch(() => undefined);
    await file.close();
  }
}

/** Keys whose last checkpoint record is 'done'; a torn last line (a crash mid-write) is ignored. */
async function readCheckpoint(path: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw e;
  }
  const status = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as RekeyCheckpointRecord;
      if (typeof r.key === 'string') status.set(r.key, r.status);
    } catch {
      // Only a crash mid-append can leave a partial line; that object is simply retried.
    }
  }
  return new Set([...status].filter(([, s]) => s === 'done').map(([k]) => k));
}

async function* listKeys(s3: S3Client, bucket: string, prefix: string, abortSignal?: AbortSignal): AsyncGenerator<string> {
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token }), { abortSignal });
    for (const o of page.Contents ?? []) {
      if (o.Key !== undefined) yield o.Key;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

async function underKey(s3: S3Client, bucket: string, key: string, sseKey: SseCustomerKey): Promise<boolean> {
  try {
    await sseKey.headObject(s3, { Bucket: bucket, Key: key });
    return true;
  } catch {
    return false;
  }
}

function describeError(err: unknown): string {
  if (err instanceof S3ServiceException) return `${err.name} (HTTP ${err.$metadata.httpStatusCode ?? '?'}): ${err.message}`;
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * S3 User Guide, update-sse-encryption.html: "You must provide a full KMS key ARN ... You can't use
 * an alias name or alias ARN"; the S3 API model gives the pattern arn:aws[-a-z0-9]*:kms:[-a-z0-9]*:[0-9]{12}:key/.+
 */
const KMS_KEY_ARN = /^arn:aws[-a-z0-9]*:kms:[-a-z0-9]*:[0-9]{12}:key\/.+$/;

/** Input of {@link reencryptObject}. */
export interface ReencryptObjectInput {
  readonly Bucket: string;
  readonly Key: string;
  /** A version other than the current one. @default the current version */
  readonly VersionId?: string;
  /** The full ARN of the KMS key the object is to be encrypted with (no alias). */
  readonly KMSKeyArn: string;
  /** Whether the object uses an S3 Bucket Key afterwards; S3 takes false when it is not named. @default true */
  readonly BucketKeyEnabled?: boolean;
  /** The account that must own the bucket (S3 answers 403 otherwise). */
  readonly ExpectedBucketOwner?: string;
  readonly abortSignal?: AbortSignal;
}

/** What {@link reencryptObject} did. */
export interface ReencryptObjectResult {
  /** `Updated` in place now, or `AlreadyTargetKey` (nothing to do). */
  readonly method: 'Updated' | 'AlreadyTargetKey';
  /** The encryption before: `AES256` (SSE-S3) or `aws:kms`, and the key for SSE-KMS. */
  readonly before: { readonly sse: string; readonly keyArn?: string; readonly bucketKey: boolean };
}

/** An object S3's UpdateObjectEncryption cannot change, with the reason; copy it instead. */
export class ReencryptUnsupportedError extends Error {
  constructor(public readonly key: string, reason: string) {
    super(`s3 object '${key}' cannot be updated in place: ${reason}. Copy it onto itself instead (ReencryptionOperation.COPY, or rekeyPrefix for SSE-C).`);
    this.name = 'ReencryptUnsupportedError';
  }
}

/**
 * Re-encrypts one object in place with S3's UpdateObjectEncryption: no data movement, a new SSE-KMS
 * key or S3 Bucket Keys applied, metadata, storage class and ETag kept. It first reads the object's
 * encryption (HeadObject): an object already under the key (and Bucket Key setting) is left alone,
 * and one S3 would refuse (unencrypted, DSSE-KMS, SSE-C) raises a {@link ReencryptUnsupportedError}
 * before any change. Needs s3:GetObject (or s3:GetObjectVersion) and s3:UpdateObjectEncryption on
 * the object, and the KMS permissions of the S3 User Guide on both keys.
 */
export async function reencryptObject(s3: S3Client, input: ReencryptObjectInput): Promise<ReencryptObjectResult> {
  if (typeof input.KMSKeyArn !== 'string' || !KMS_KEY_ARN.test(input.KMSKeyArn)) {
    throw new RangeError(`KMSKeyArn must be the full ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<id>), not an alias or key id; got '${input.KMSKeyArn}'.`);
  }
  const bucketKey = input.BucketKeyEnabled ?? true;
  let head;
  try {
    head = await s3.send(new HeadObjectCommand({
      Bucket: input.Bucket, Key: input.Key, VersionId: input.VersionId, ExpectedBucketOwner: input.ExpectedBucketOwner,
    }), { abortSignal: input.abortSignal });
  } catch (err) {
    // HeadObject of an SSE-C object without its key: "400 Bad Request" (ServerSideEncryptionCustomerMethods.html).
    if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 400) {
      throw new ReencryptUnsupportedError(input.Key, 'it cannot be read without a customer-provided key (SSE-C)');
    }
    throw err;
  }
  if (head.SSECustomerAlgorithm) throw new ReencryptUnsupportedError(input.Key, 'it is encrypted with a customer-provided key (SSE-C)');
  const sse = head.ServerSideEncryption;
  if (sse !== 'AES256' && sse !== 'aws:kms') {
    throw new ReencryptUnsupportedError(input.Key, sse ? `it is encrypted with ${sse}, and only SSE-S3 and SSE-KMS objects are supported` : 'it is not encrypted');
  }
  const before = { sse, keyArn: head.SSEKMSKeyId, bucketKey: head.BucketKeyEnabled === true };
  if (sse === 'aws:kms' && head.SSEKMSKeyId === input.KMSKeyArn && before.bucketKey === bucketKey) {
    return { method: 'AlreadyTargetKey', before };
  }
  await s3.send(new UpdateObjectEncryptionCommand({
    Bucket: input.Bucket,
    Key: input.Key,
    VersionId: input.VersionId,
    ExpectedBucketOwner: input.ExpectedBucketOwner,
    ObjectEncryption: { SSEKMS: { KMSKeyArn: input.KMSKeyArn, BucketKeyEnabled: bucketKey } },
  }), { abortSignal: input.abortSignal });
  return { method: 'Updated', before };
}

/** Counts reported while {@link reencryptPrefix} runs, and at its end. */
export interface ReencryptProgress {
  readonly listed: number;
  /** Updated in place in this run. */
  readonly updated: number;
  /** Done in an earlier run, per the checkpoint. */
  readonly skipped: number;
  /** Found already under the target key. */
  readonly alreadyTargetKey: number;
  /** Failed in this run (including objects S3 cannot update in place); a rerun retries them. */
  readonly failed: number;
  readonly inFlight: number;
}

/** Options of {@link reencryptPrefix}. */
export interface ReencryptPrefixOptions {
  readonly Bucket: string;
  /** Key prefix of the objects; '' for the whole bucket. */
  readonly Prefix: string;
  /** The full ARN of the target KMS key. */
  readonly KMSKeyArn: string;
  /** @default true */
  readonly BucketKeyEnabled?: boolean;
  readonly ExpectedBucketOwner?: string;
  /** JSON-lines file of objects done or failed: a rerun skips what is done and retries what failed. */
  readonly checkpointFile: string;
  /** Objects updated at once. @default 8 */
  readonly concurrency?: number;
  readonly onProgress?: (progress: ReencryptProgress) => void;
  /** Stops listing and starting objects; the run then rejects with a {@link ReencryptInterruptedError}. */
  readonly abortSignal?: AbortSignal;
}

/** What {@link reencryptPrefix} did. */
export interface ReencryptPrefixResult extends ReencryptProgress {
  readonly failures: ReadonlyArray<{ readonly key: string; readonly error: string }>;
}

/** A run of {@link reencryptPrefix} stopped by its abort signal; rerun with the same checkpoint to finish. */
export class ReencryptInterruptedError extends Error {
  constructor(public readonly progress: ReencryptPrefixResult) {
    super(`Re-encryption was interrupted after ${progress.updated} objects (${progress.failed} failed, ${progress.skipped} done earlier); `
      + 'rerun with the same checkpointFile to finish.');
    this.name = 'ReencryptInterruptedError';
  }
}

/**
 * Re-encrypts every current object under a prefix in place with {@link reencryptObject}: for scripts
 * and buckets too small for a Batch Operations job. Bounded concurrency, progress after each
 * object, and a checkpoint file with which a stopped or failed run resumes: objects done are
 * skipped, failed ones retried, and one whose update landed but whose answer was lost is found
 * under the target key and recorded as done.
 */
export async function reencryptPrefix(s3: S3Client, options: ReencryptPrefixOptions): Promise<ReencryptPrefixResult> {
  checkConcurrency(options.concurrency);
  if (typeof options.KMSKeyArn !== 'string' || !KMS_KEY_ARN.test(options.KMSKeyArn)) {
    throw new RangeError(`KMSKeyArn must be the full ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<id>), not an alias or key id; got '${options.KMSKeyArn}'.`);
  }
  const target = { KMSKeyArn: options.KMSKeyArn, BucketKeyEnabled: options.BucketKeyEnabled, ExpectedBucketOwner: options.ExpectedBucketOwner };
  const run = await runOverPrefix(s3, options, async (key) => {
    const result = await reencryptObject(s3, { Bucket: options.Bucket, Key: key, ...target, abortSignal: options.abortSignal });
    return { how: result.method, already: result.method === 'AlreadyTargetKey' };
  }, async (key) => {
    if (options.abortSignal?.aborted) return undefined;
    try {
      const head = await s3.send(new HeadObjectCommand({ Bucket: options.Bucket, Key: key, ExpectedBucketOwner: options.ExpectedBucketOwner }));
      return head.SSEKMSKeyId === options.KMSKeyArn && head.BucketKeyEnabled === (options.BucketKeyEnabled ?? true) ? 'AlreadyTargetKey' : undefined;
    } catch {
      return undefined;
    }
  }, (r) => options.onProgress?.(reencryptProgress(r)));
  const summary: ReencryptPrefixResult = { ...reencryptProgress(run), failures: run.failures };
  if (run.interrupted) throw new ReencryptInterruptedError(summary);
  return summary;
}

function reencryptProgress(r: PrefixRun): ReencryptProgress {
  return { listed: r.listed, updated: r.done, skipped: r.skipped, alreadyTargetKey: r.already, failed: r.failed, inFlight: r.inFlight };
}
