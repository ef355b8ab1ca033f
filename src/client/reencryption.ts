import { promises as fs } from 'node:fs';
import { ListObjectsV2Command, S3ServiceException } from '@aws-sdk/client-s3';
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
  /** How a done object was handled: copied now, or found already under the new key. */
  readonly how?: RekeyObjectResult['method'] | 'AlreadyNewKey';
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
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new RangeError(`concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, got ${concurrency}.`);
  }
  if (!(options.oldKey instanceof SseCustomerKey) || !(options.newKey instanceof SseCustomerKey)) {
    throw new TypeError('oldKey and newKey must be SseCustomerKey instances.');
  }
  if (options.oldKey.equals(options.newKey)) {
    throw new RangeError('oldKey and newKey are the same key: there is nothing to re-key.');
  }
  await SseCustomerKey.requireHttps(s3);
  const done = await readCheckpoint(options.checkpointFile);
  const file = await fs.open(options.checkpointFile, 'a');
  const counts = { listed: 0, rekeyed: 0, skipped: 0, alreadyNewKey: 0, failed: 0, inFlight: 0 };
  const failures: { key: string; error: string }[] = [];
  const report = () => options.onProgress?.({ ...counts });
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
      counts.listed++;
      if (done.has(key)) {
        counts.skipped++;
        report();
        continue;
      }
      counts.inFlight++;
      try {
        const result = await options.oldKey.rekeyObject(s3, {
          Bucket: options.Bucket,
          Key: key,
          newKey: options.newKey,
          multipartThresholdBytes: options.multipartThresholdBytes,
          partSizeBytes: options.partSizeBytes,
          abortSignal: options.abortSignal,
        });
        await record({ key, status: 'done', how: result.method, etag: result.ETag });
        counts.rekeyed++;
      } catch (err) {
        if (await underKey(s3, options.Bucket, key, options.newKey)) {
          await record({ key, status: 'done', how: 'AlreadyNewKey' });
          counts.alreadyNewKey++;
        } else {
          const error = describeError(err);
          await record({ key, status: 'failed', error });
          failures.push({ key, error });
          counts.failed++;
        }
      } finally {
        counts.inFlight--;
      }
      report();
    }
  };

  try {
    const results = await Promise.allSettled(Array.from({ length: concurrency }, worker));
    const listingError = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    const summary: RekeyPrefixResult = { ...counts, failures };
    if (options.abortSignal?.aborted) throw new RekeyInterruptedError(summary);
    if (listingError) throw listingError.reason;
    return summary;
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
