/**
 * S3EncryptionClient: client-side encryption for Amazon S3 in the Amazon S3 Encryption Client format,
 * with KMS-wrapped data keys.
 */
import * as crypto from 'node:crypto';
import { Readable } from 'node:stream';
// The SDK clients are supplied by the user of this subpath (see docs/client.md), not bundled.
// eslint-disable-next-line import/no-extraneous-dependencies
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
// eslint-disable-next-line import/no-extraneous-dependencies
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CompleteMultipartUploadCommandOutput,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectCommandInput,
  DeleteObjectCommandOutput,
  DeleteObjectsCommand,
  DeleteObjectsCommandInput,
  DeleteObjectsCommandOutput,
  GetObjectCommand,
  GetObjectCommandInput,
  GetObjectCommandOutput,
  PutObjectCommand,
  PutObjectCommandInput,
  PutObjectCommandOutput,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  DecryptedBody, RandomSource, decryptCbc, decryptGcmBuffered, decryptGcmSpooled, decryptGcmUnauthenticated,
  decryptGcmRefetched, defaultRandom, destroySource, holdErrors, iterate, withReaders,
} from './body';
import { CachedDataKey, DataKeyCache, DataKeyCacheOptions } from './cache';
import { gcmEncryptor, V3_FIXED_IV, SUITE_V3_ID_BYTES, verifyCommitmentAndDerive, v3Commitment, v3DerivedKey } from './crypto';
import {
  CommitmentPolicyError, EncryptionContextMismatchError, InvalidRequestError, LegacyFormatRefusedError,
  S3EncryptionClientError, TamperedObjectError, UnknownFormatError, UploadLeftOpenError, WrongKeyError,
} from './errors';
import {
  CBC, ContentMetadata, CONTENT_CIPHER_V3, DATA_KEY_LENGTH, EC_CEK_ALG_KEY, EC_KMS_CMK_ID, ENCRYPTED_DATA_KEY_V3, GCM,
  GCM_IV_LENGTH, GCM_MAX_CONTENT_LENGTH, INSTRUCTION_FILE_MARKER, INSTRUCTION_SUFFIX, KEY_COMMITMENT_V3, MESSAGE_ID_LENGTH,
  MESSAGE_ID_V3, SUITE_V3_ID_STRING, TAG_LENGTH, WRAP_KMS_CONTEXT, WRAP_KMS_LEGACY, assertNoReservedMetadata,
  decodeMetadata, encodeV2, encodeV3, hasFormatKeys, isV3WithInstructionFile, normalizeMetadata,
} from './format';

/** Which algorithm suites may be written and read (same names as the other S3 Encryption Clients). */
export type CommitmentPolicy = 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' | 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' | 'FORBID_ENCRYPT_ALLOW_DECRYPT';

/** What getObject does with an authenticated object larger than maxBufferBytes. */
export type LargeObjectMode = 'spool' | 'refetch' | 'refuse';

/** Construction options of {@link S3EncryptionClient}. Only `s3`, `kms` and `kmsKeyId` are required. */
export interface S3EncryptionClientProps {
  /** Your S3 client (AWS SDK for JavaScript v3). */
  readonly s3: S3Client;
  /** Your KMS client (AWS SDK for JavaScript v3). */
  readonly kms: KMSClient;
  /** KMS key ID, key ARN, alias name or alias ARN that wraps the data keys. */
  readonly kmsKeyId: string;
  /** Format written by putObject/putObjectStream: 'v3' (key-committing, default) or 'v2' (for readers that predate V3). */
  readonly formatVersion?: 'v3' | 'v2';
  /** Default: REQUIRE_ENCRYPT_ALLOW_DECRYPT with v3, FORBID_ENCRYPT_ALLOW_DECRYPT with v2. */
  readonly commitmentPolicy?: CommitmentPolicy;
  /** Read legacy unauthenticated objects (AES-CBC content, `kms` key wrapping). Default false. */
  readonly enableLegacyUnauthenticatedModes?: boolean;
  /** Alias of enableLegacyUnauthenticatedModes. */
  readonly legacy?: boolean;
  /** Write the key metadata to an instruction file (`<key>.instruction`) instead of object metadata. Default false. */
  readonly instructionFile?: boolean;
  /**
   * Write encryption contexts with characters outside US-ASCII. Default false: such a write is
   * refused, because the Python S3 Encryption Client refuses those objects and the Java client
   * writes the context unescaped in a Latin-1 header, so they cannot be shared (docs/client.md has
   * the table). This client reads them either way.
   */
  readonly allowNonAsciiEncryptionContext?: boolean;
  /** Data-key cache: an instance (shareable), options for a private one, or true for defaults. Default: none. */
  readonly cache?: DataKeyCache | DataKeyCacheOptions | boolean;
  /** Objects up to this many bytes are decrypted in memory; larger ones follow largeObjects. Default 64 MiB. */
  readonly maxBufferBytes?: number;
  /**
   * Large authenticated objects: 'spool' (verify while writing the ciphertext to a private temp file,
   * default), 'refetch' (verify on a first download, then decrypt a second download segment by segment,
   * each checked against the tag derived for it from the verified bytes; no disk, twice the GETs), or 'refuse'.
   */
  readonly largeObjects?: LargeObjectMode;
  /** Directory for spooled ciphertext. Default os.tmpdir(). */
  readonly tempDir?: string;
  /** Release plaintext before the tag verifies, for every read. Dangerous; default false. Prefer the per-call option. */
  readonly allowUnauthenticatedStreaming?: boolean;
  /**
   * Multipart part size in bytes (at least 5 MiB), fixed for the whole upload. Default: 5 MiB parts,
   * growing to 12 MiB from part 5,001, so that memory stays small and a stream can still reach the
   * 64 GiB AES-GCM limit within S3's 10,000 parts.
   */
  readonly partSize?: number;
  /** Parts uploaded in parallel. Default 4. */
  readonly uploadConcurrency?: number;
  /** @internal Deterministic randomness for known-answer tests only. */
  readonly randomSource?: RandomSource;
  /** @internal Smaller multipart limits, for tests of the part schedule only. */
  readonly multipartLimits?: MultipartLimits;
}

/**
 * Key-value pairs KMS binds to the data key (authenticated, stored in clear in the object metadata):
 * a read must give the same pairs. Keys starting with `aws:` and `kms_cmk_id` are reserved.
 */
export type EncryptionContext = Record<string, string>;

/** Plaintext to upload: bytes, a string (UTF-8), or a stream of bytes of any length. */
export type PlaintextBody = Buffer | Uint8Array | string | Readable | AsyncIterable<Uint8Array>;

/** `PutObjectCommand` parameters with a plaintext `Body` and an optional encryption context. */
export type PutObjectInput = Omit<PutObjectCommandInput, 'Body'> & {
  readonly Body?: PlaintextBody;
  /** Bound to the data key by KMS; the same context must be given to getObject. */
  readonly encryptionContext?: EncryptionContext;
};

/** `PutObjectCommand` parameters for a streamed upload, multipart when the stream is large. */
export type PutObjectStreamInput = Omit<PutObjectCommandInput, 'Body'> & {
  /** The plaintext; read once, in order, with constant memory. */
  readonly Body: PlaintextBody;
  /** Bound to the data key by KMS; the same context must be given to getObject. */
  readonly encryptionContext?: EncryptionContext;
  /** Part size for this upload (at least 5 MiB). Default: the client's partSize. */
  readonly partSize?: number;
  /** Parts uploaded in parallel for this upload. Default: the client's uploadConcurrency. */
  readonly concurrency?: number;
};

/** The S3 response of the PutObject or CompleteMultipartUpload that stored the object. */
export type PutObjectStreamOutput = (PutObjectCommandOutput | CompleteMultipartUploadCommandOutput) & {
  /** Number of parts uploaded; 0 when the object was small enough for one PutObject. */
  readonly parts: number;
};

/**
 * `GetObjectCommand` parameters and the decryption options. `Range` (a single `bytes=first-last` or
 * `bytes=first-`) is read only with enableLegacyUnauthenticatedModes, as the format specification
 * allows: a range cannot be authenticated (the tag covers the whole object). `PartNumber` is refused.
 */
export type GetObjectInput = GetObjectCommandInput & {
  /** Must equal the context given on write (reserved keys aside). Default {}. */
  readonly encryptionContext?: EncryptionContext;
  /** Release plaintext before the tag verifies, for this read only. */
  readonly allowUnauthenticatedStreaming?: boolean;
  /** Suffix of the instruction file to read. Default '.instruction'. */
  readonly instructionFileSuffix?: string;
};

/** The S3 response with `Body` replaced by the plaintext and `ContentLength` by its length. */
export type GetObjectOutput = Omit<GetObjectCommandOutput, 'Body'> & {
  /** The plaintext, as a Node Readable with transformToByteArray() and transformToString(). */
  readonly Body: DecryptedBody;
  /** Format the object was written in. */
  readonly formatVersion: 'v1' | 'v2' | 'v3';
  /** The encryption context stored with the object, reserved keys removed. */
  readonly encryptionContext: EncryptionContext;
  /** True when the body was verified before release (always, except legacy CBC and unauthenticated streaming). */
  readonly authenticated: boolean;
};

interface EncryptionMaterials {
  readonly version: 'v2' | 'v3';
  readonly plaintextKey: Buffer;
  readonly encryptedKey: Buffer;
  readonly kmsContext: EncryptionContext;
}

interface PreparedEncryption {
  readonly metadata: Record<string, string>;
  readonly instruction?: Record<string, string>;
  readonly cipher: ReturnType<typeof gcmEncryptor>;
}

const MIB = 1024 * 1024;
const MIN_PART = 5 * MIB;
/** S3's part count limit, and the default part-size schedule: small parts keep memory low, larger ones from part 5,001 reach the 64 GiB limit. */
export interface MultipartLimits {
  readonly maxParts: number;
  readonly smallPart: number;
  readonly smallParts: number;
  readonly largePart: number;
}
const MULTIPART_LIMITS: MultipartLimits = { maxParts: 10_000, smallPart: 5 * MIB, smallParts: 5_000, largePart: 12 * MIB };

/** Size of part `n` (1-based): the caller's fixed size, or the default schedule. */
export function partSizeFor(n: number, fixed: number | undefined, limits: MultipartLimits = MULTIPART_LIMITS): number {
  if (fixed !== undefined) return fixed;
  return n <= limits.smallParts ? limits.smallPart : limits.largePart;
}
const RESERVED_CONTEXT_KEYS = [EC_CEK_ALG_KEY, EC_KMS_CMK_ID];
const WRONG_KEY_ERRORS = ['IncorrectKeyException', 'AccessDeniedException', 'NotFoundException', 'DisabledException', 'KMSInvalidStateException', 'InvalidKeyUsageException'];

/**
 * Client-side encryption for Amazon S3 in the Amazon S3 Encryption Client format, over your own S3
 * and KMS clients. Writes V3 (key-committing) by default; reads V3 and V2, and legacy V1 when enabled.
 *
 * @example
 * const client = new S3EncryptionClient({ s3: new S3Client({}), kms: new KMSClient({}), kmsKeyId: 'alias/app-data' });
 * await client.putObject({ Bucket: 'b', Key: 'k', Body: 'secret', encryptionContext: { tenant: 'acme' } });
 * const out = await client.getObject({ Bucket: 'b', Key: 'k', encryptionContext: { tenant: 'acme' } });
 * console.log(await out.Body.transformToString());
 */
export class S3EncryptionClient {
  /** The data-key cache in use, if any; its stats count hits and misses. */
  public readonly cache?: DataKeyCache;
  /** KMS calls made by this client (GenerateDataKey + Decrypt). */
  public kmsCalls = 0;

  private readonly s3: S3Client;
  private readonly kms: KMSClient;
  /**
   * Keeps this client's entries in a shared cache apart from those of clients with another KMS
   * client, which may hold other credentials, region or account and must not get a key KMS never gave it.
   */
  private readonly cachePartition: string;
  private readonly kmsKeyId: string;
  private readonly version: 'v2' | 'v3';
  private readonly policy: CommitmentPolicy;
  private readonly legacy: boolean;
  private readonly instructionFile: boolean;
  private readonly nonAsciiContext: boolean;
  private readonly maxBufferBytes: number;
  private readonly largeObjects: LargeObjectMode;
  private readonly tempDir?: string;
  private readonly unauthenticated: boolean;
  private readonly partSize?: number;
  private readonly limits: MultipartLimits;
  private readonly concurrency: number;
  private readonly random: RandomSource;

  constructor(props: S3EncryptionClientProps) {
    if (!props.s3) throw new InvalidRequestError('S3EncryptionClient needs an S3Client in `s3`.');
    if (!props.kms) throw new InvalidRequestError('S3EncryptionClient needs a KMSClient in `kms`.');
    if (!props.kmsKeyId) throw new InvalidRequestError('S3EncryptionClient needs a KMS key id, ARN or alias in `kmsKeyId`.');
    this.s3 = props.s3;
    this.kms = props.kms;
    if (!partitions.has(this.kms)) partitions.set(this.kms, crypto.randomUUID());
    this.cachePartition = partitions.get(this.kms)!;
    this.kmsKeyId = props.kmsKeyId;
    this.version = props.formatVersion ?? 'v3';
    if (this.version !== 'v3' && this.version !== 'v2') throw new InvalidRequestError(`formatVersion must be 'v3' or 'v2', got ${String(this.version)}.`);
    this.policy = props.commitmentPolicy ?? (this.version === 'v3' ? 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' : 'FORBID_ENCRYPT_ALLOW_DECRYPT');
    if ((this.version === 'v3') !== (this.policy !== 'FORBID_ENCRYPT_ALLOW_DECRYPT')) {
      throw new InvalidRequestError(`commitmentPolicy ${this.policy} does not allow writing format ${this.version}: use formatVersion 'v3' with REQUIRE_* policies, or 'v2' with FORBID_ENCRYPT_ALLOW_DECRYPT.`);
    }
    this.legacy = props.enableLegacyUnauthenticatedModes ?? props.legacy ?? false;
    this.instructionFile = props.instructionFile ?? false;
    this.nonAsciiContext = props.allowNonAsciiEncryptionContext ?? false;
    this.maxBufferBytes = props.maxBufferBytes ?? 64 * MIB;
    this.largeObjects = props.largeObjects ?? 'spool';
    this.tempDir = props.tempDir;
    this.unauthenticated = props.allowUnauthenticatedStreaming ?? false;
    this.partSize = props.partSize;
    this.limits = props.multipartLimits ?? MULTIPART_LIMITS;
    this.concurrency = Math.max(1, props.uploadConcurrency ?? 4);
    if (this.partSize !== undefined && !(this.partSize >= MIN_PART)) throw new InvalidRequestError(`partSize must be at least 5 MiB (S3's minimum part size), got ${this.partSize}.`);
    this.random = props.randomSource ?? defaultRandom;
    if (props.cache instanceof DataKeyCache) this.cache = props.cache;
    else if (props.cache === true) this.cache = new DataKeyCache();
    else if (props.cache && typeof props.cache === 'object') this.cache = new DataKeyCache(props.cache);
  }

  // ---------------------------------------------------------------- write

  /** Encrypts and uploads one object. Streams go through putObjectStream (multipart when large). */
  async putObject(input: PutObjectInput): Promise<PutObjectCommandOutput> {
    const body = input.Body ?? Buffer.alloc(0);
    if (!isBytes(body)) {
      return this.putObjectStream({ ...input, Body: body });
    }
    const plaintext = toBuffer(body);
    if (plaintext.length > GCM_MAX_CONTENT_LENGTH) throw new InvalidRequestError('The object exceeds the AES-GCM limit of 64 GiB; split it.');
    const { Body: _b, encryptionContext, ...rest } = input;
    const enc = await this.prepareEncryption(encryptionContext, plaintext.length, rest.Metadata);
    const ciphertext = Buffer.concat([enc.cipher.update(plaintext), enc.cipher.final(), enc.cipher.getAuthTag()]);
    return this.putEncrypted(rest, enc, ciphertext);
  }

  /**
   * Encrypts a stream with constant memory: the first part is read; if the stream ends within it the
   * object goes up in one PutObject, otherwise as a multipart upload (the GCM tag ends the last part).
   */
  async putObjectStream(input: PutObjectStreamInput): Promise<PutObjectStreamOutput> {
    const { Body, encryptionContext, partSize: ps, concurrency: cc, ...rest } = input;
    const fixedSize = ps ?? this.partSize;
    const concurrency = Math.max(1, cc ?? this.concurrency);
    if (fixedSize !== undefined && !(fixedSize >= MIN_PART)) throw new InvalidRequestError(`partSize must be at least 5 MiB, got ${fixedSize}.`);
    const source = iterate(isBytes(Body) ? Readable.from([toBuffer(Body)]) : Body as AsyncIterable<Uint8Array>);
    const enc = await this.prepareEncryption(encryptionContext, undefined, rest.Metadata);
    const request = stripChecksums(rest);

    // Parts are filled in place from a small pool of reused buffers: constant memory, no per-part allocation.
    const pool: Buffer[] = [];
    let current: Buffer = Buffer.allocUnsafe(partSizeFor(1, fixedSize, this.limits));
    let fill = 0;
    let total = 0;
    let uploadId: string | undefined;
    let partNumber = 0;
    const parts: { PartNumber: number; ETag?: string }[] = [];
    const inflight = new Set<Promise<void>>();
    let failure: unknown;

    const upload = async (part: Buffer, reusable: boolean) => {
      if (!uploadId) {
        const createInput = { ...request, Metadata: { ...request.Metadata, ...enc.metadata } };
        const created = await this.s3.send(new CreateMultipartUploadCommand(createInput as any));
        uploadId = created.UploadId;
        if (!uploadId) throw new S3EncryptionClientError('S3 did not return an UploadId for CreateMultipartUpload; check that the S3 client\'s endpoint is Amazon S3 or S3-compatible.');
      }
      const number = ++partNumber;
      if (number > this.limits.maxParts) {
        throw new InvalidRequestError(`The stream needs more than S3's ${this.limits.maxParts} parts at partSize ${partSizeFor(number, fixedSize, this.limits)} bytes; ` +
          'raise partSize (or leave it unset: the default schedule reaches the 64 GiB AES-GCM limit).');
      }
      const p = (async () => {
        const r = await this.s3.send(new UploadPartCommand({
          Bucket: request.Bucket,
          Key: request.Key,
          UploadId: uploadId,
          PartNumber: number,
          Body: part,
          ContentLength: part.length,
          SSECustomerAlgorithm: request.SSECustomerAlgorithm,
          SSECustomerKey: request.SSECustomerKey,
          SSECustomerKeyMD5: request.SSECustomerKeyMD5,
          ExpectedBucketOwner: request.ExpectedBucketOwner,
          RequestPayer: request.RequestPayer,
        }));
        parts.push({ PartNumber: number, ETag: r.ETag });
        // The SDK is done with the body once send() resolved, so the buffer can be refilled.
        if (reusable) pool.push(part);
      })().catch((e) => { failure = failure ?? e; });
      inflight.add(p);
      p.finally(() => inflight.delete(p)).catch(() => undefined);
      // Bounded parallelism keeps memory at about (concurrency + 1) parts.
      while (inflight.size >= concurrency) await Promise.race(inflight);
      if (failure) throw failure;
    };
    const append = async (out: Buffer) => {
      let offset = 0;
      while (offset < out.length) {
        const n = Math.min(out.length - offset, current.length - fill);
        out.copy(current, fill, offset, offset + n);
        fill += n;
        offset += n;
        if (fill === current.length) {
          const full = current;
          // The next part's size (the default schedule grows once); pooled buffers of another size are dropped.
          const nextSize = partSizeFor(partNumber + 2, fixedSize, this.limits);
          let reuse = pool.pop();
          while (reuse && reuse.length !== nextSize) reuse = pool.pop();
          current = reuse ?? Buffer.allocUnsafe(nextSize);
          fill = 0;
          await upload(full, true);
        }
      }
    };

    try {
      for await (const chunk of source) {
        total += chunk.length;
        if (total > GCM_MAX_CONTENT_LENGTH) throw new InvalidRequestError('The stream exceeds the AES-GCM limit of 64 GiB per object; split it.');
        const out = enc.cipher.update(chunk);
        if (out.length) await append(out);
      }
      const last = Buffer.concat([current.subarray(0, fill), enc.cipher.final(), enc.cipher.getAuthTag()]);
      fill = 0;
      if (!uploadId) {
        const out = await this.putEncrypted(request, enc, last);
        return { ...out, parts: 0 };
      }
      await upload(last, false);
      await Promise.all(inflight);
      if (failure) throw failure;
      parts.sort((a, b) => a.PartNumber - b.PartNumber);
      if (enc.instruction) await this.putInstructionFile(request, enc.instruction);
      const done = await this.s3.send(new CompleteMultipartUploadCommand({
        Bucket: request.Bucket,
        Key: request.Key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
        ExpectedBucketOwner: request.ExpectedBucketOwner,
        RequestPayer: request.RequestPayer,
        SSECustomerAlgorithm: request.SSECustomerAlgorithm,
        SSECustomerKey: request.SSECustomerKey,
        SSECustomerKeyMD5: request.SSECustomerKeyMD5,
      }));
      return { ...done, parts: parts.length };
    } catch (e) {
      await Promise.allSettled(inflight);
      if (uploadId) {
        const id = uploadId;
        const abortError = await this.s3.send(new AbortMultipartUploadCommand({ Bucket: request.Bucket, Key: request.Key, UploadId: id }))
          .then(() => undefined, (a: unknown) => a as Error);
        if (abortError) {
          throw new UploadLeftOpenError(`The multipart upload of s3://${request.Bucket}/${request.Key} failed (${(e as Error).name}: ${(e as Error).message}) `
            + `and aborting it failed too (${abortError.name}: ${abortError.message}): upload ${id} is still open and its parts are billed until it `
            + 'is aborted (AbortMultipartUpload, or a lifecycle rule that aborts incomplete multipart uploads).', request.Bucket!, request.Key!, id, { cause: e });
        }
      }
      throw e;
    }
  }

  /** Alias of putObjectStream. */
  uploadLarge(input: PutObjectStreamInput): Promise<PutObjectStreamOutput> {
    return this.putObjectStream(input);
  }

  /**
   * Deletes an object and its instruction file (if any). With a `VersionId`, only that version is
   * deleted: the instruction file belongs to the current object, and deleting it without a version
   * would put a delete marker on it and make the current object unreadable.
   */
  async deleteObject(input: DeleteObjectCommandInput & { instructionFileSuffix?: string }): Promise<DeleteObjectCommandOutput> {
    const { instructionFileSuffix, ...rest } = input;
    const out = await this.s3.send(new DeleteObjectCommand(rest));
    if (rest.VersionId === undefined) {
      await this.s3.send(new DeleteObjectCommand({ ...rest, Key: `${rest.Key}${instructionFileSuffix ?? INSTRUCTION_SUFFIX}` })).catch(() => undefined);
    }
    return out;
  }

  /**
   * Deletes many objects with their instruction files, as the format specification requires of
   * DeleteObjects: each key without a `VersionId` also deletes `<key>.instruction`; a versioned entry
   * deletes that version only (see deleteObject). S3 takes 1,000 keys per request, so the keys are
   * sent in as many requests as needed; the output lists what S3 reported for the objects asked for
   * (instruction files that failed to delete are listed in `Errors` too).
   */
  async deleteObjects(input: DeleteObjectsCommandInput & { instructionFileSuffix?: string }): Promise<DeleteObjectsCommandOutput> {
    const { instructionFileSuffix, Delete, ...rest } = input;
    const objects = Delete?.Objects ?? [];
    if (objects.length === 0) throw new InvalidRequestError('deleteObjects needs at least one object in Delete.Objects.');
    const suffix = instructionFileSuffix ?? INSTRUCTION_SUFFIX;
    const all = objects.flatMap((o) => (o.VersionId === undefined ? [o, { Key: `${o.Key}${suffix}` }] : [o]));
    const asked = new Set(objects.map((o) => `${o.Key}\u0000${o.VersionId ?? ''}`));
    const deleted: NonNullable<DeleteObjectsCommandOutput['Deleted']> = [];
    const errors: NonNullable<DeleteObjectsCommandOutput['Errors']> = [];
    let last: DeleteObjectsCommandOutput | undefined;
    for (let i = 0; i < all.length; i += DELETE_OBJECTS_MAX_KEYS) {
      last = await this.s3.send(new DeleteObjectsCommand({ ...rest, Delete: { ...Delete, Objects: all.slice(i, i + DELETE_OBJECTS_MAX_KEYS) } }));
      for (const d of last.Deleted ?? []) if (asked.has(`${d.Key}\u0000${d.VersionId ?? ''}`)) deleted.push(d);
      errors.push(...(last.Errors ?? []));
    }
    return { ...last!, Deleted: Delete?.Quiet ? undefined : deleted, Errors: errors.length > 0 ? errors : undefined };
  }

  private async putEncrypted(rest: Omit<PutObjectCommandInput, 'Body'>, enc: PreparedEncryption, ciphertext: Buffer): Promise<PutObjectCommandOutput> {
    const request = stripChecksums(rest);
    if (enc.instruction) await this.putInstructionFile(request, enc.instruction);
    return this.s3.send(new PutObjectCommand({
      ...request,
      Body: ciphertext,
      ContentLength: ciphertext.length,
      Metadata: { ...request.Metadata, ...enc.metadata },
    }));
  }

  private async putInstructionFile(request: Omit<PutObjectCommandInput, 'Body'>, content: Record<string, string>): Promise<void> {
    const body = Buffer.from(JSON.stringify(content), 'utf8');
    await this.s3.send(new PutObjectCommand({
      Bucket: request.Bucket,
      Key: `${request.Key}${INSTRUCTION_SUFFIX}`,
      Body: body,
      ContentLength: body.length,
      Metadata: { [INSTRUCTION_FILE_MARKER]: '' },
      ExpectedBucketOwner: request.ExpectedBucketOwner,
      ServerSideEncryption: request.ServerSideEncryption,
      SSEKMSKeyId: request.SSEKMSKeyId,
      SSECustomerAlgorithm: request.SSECustomerAlgorithm,
      SSECustomerKey: request.SSECustomerKey,
      SSECustomerKeyMD5: request.SSECustomerKeyMD5,
    }));
  }

  private async prepareEncryption(
    ec: EncryptionContext | undefined, length: number | undefined, userMetadata?: Record<string, string>,
  ): Promise<PreparedEncryption> {
    if (userMetadata) assertNoReservedMetadata(userMetadata);
    const mat = await this.encryptionMaterials(ec ?? {}, length);
    if (mat.version === 'v3') {
      const messageId = this.random(MESSAGE_ID_LENGTH);
      if (messageId.length !== MESSAGE_ID_LENGTH || messageId.every((b) => b === 0)) {
        throw new S3EncryptionClientError('The random source returned an all-zero or short message id; refusing to encrypt.');
      }
      const commitment = v3Commitment(mat.plaintextKey, messageId);
      const key = v3DerivedKey(mat.plaintextKey, messageId);
      const meta = encodeV3({ encryptedDataKey: mat.encryptedKey, messageId, commitment, context: mat.kmsContext });
      const cipher = gcmEncryptor({ key, iv: V3_FIXED_IV, aad: SUITE_V3_ID_BYTES });
      return this.instructionFile
        ? { metadata: meta.objectMetadata, instruction: meta.instruction, cipher }
        : { metadata: meta.all, cipher };
    }
    const iv = this.random(GCM_IV_LENGTH);
    if (iv.length !== GCM_IV_LENGTH || iv.every((b) => b === 0)) {
      throw new S3EncryptionClientError('The random source returned an all-zero or short IV; refusing to encrypt.');
    }
    const cipher = gcmEncryptor({ key: mat.plaintextKey, iv });
    // An instruction file holds the key material only (the multipart path never knows the length).
    if (this.instructionFile) {
      return { metadata: {}, instruction: encodeV2({ encryptedDataKey: mat.encryptedKey, iv, context: mat.kmsContext }), cipher };
    }
    return { metadata: encodeV2({ encryptedDataKey: mat.encryptedKey, iv, context: mat.kmsContext, plaintextLength: length }), cipher };
  }

  private async encryptionMaterials(ec: EncryptionContext, length: number | undefined): Promise<EncryptionMaterials> {
    for (const k of Object.keys(ec)) {
      if (RESERVED_CONTEXT_KEYS.includes(k) || k.startsWith('aws:')) {
        throw new InvalidRequestError(`Encryption context key "${k}" is reserved (keys starting with aws: and kms_cmk_id); rename it.`);
      }
      if (typeof ec[k] !== 'string') throw new InvalidRequestError(`Encryption context value of "${k}" must be a string; convert it with String() (the same string must be given on read).`);
      if (!this.nonAsciiContext && (NON_ASCII.test(k) || NON_ASCII.test(ec[k]))) {
        throw new InvalidRequestError(`Encryption context ${NON_ASCII.test(k) ? `key "${k}"` : `value of "${k}"`} has characters outside US-ASCII. `
          + 'The Python S3 Encryption Client refuses such objects and the Java client writes the context unescaped (Latin-1 only), so the object could not be '
          + 'shared. Use ASCII, or set allowNonAsciiEncryptionContext: true if only this client (or Java, for Latin-1 text) will read it.');
      }
    }
    const kmsContext = { ...ec, [EC_CEK_ALG_KEY]: this.version === 'v3' ? SUITE_V3_ID_STRING : GCM };
    const cacheId = this.cache ? DataKeyCache.encryptionId(this.cachePartition, this.kmsKeyId, this.version, kmsContext) : '';
    const cached = this.cache?.takeForEncryption(cacheId, length);
    if (cached) return { version: this.version, plaintextKey: cached.plaintextKey, encryptedKey: cached.encryptedKey, kmsContext };

    this.kmsCalls++;
    let res;
    try {
      res = await this.kms.send(new GenerateDataKeyCommand({ KeyId: this.kmsKeyId, KeySpec: 'AES_256', EncryptionContext: kmsContext }));
    } catch (e) {
      throw mapKmsError(e, this.kmsKeyId, 'GenerateDataKey');
    }
    if (!res.Plaintext || !res.CiphertextBlob || res.Plaintext.length !== DATA_KEY_LENGTH) {
      throw new S3EncryptionClientError('KMS GenerateDataKey returned no 32-byte data key; check the KMS key is a symmetric encryption key.');
    }
    const key: CachedDataKey = { plaintextKey: Buffer.from(res.Plaintext), encryptedKey: Buffer.from(res.CiphertextBlob) };
    this.cache?.putForEncryption(cacheId, key, length);
    return { version: this.version, plaintextKey: key.plaintextKey, encryptedKey: key.encryptedKey, kmsContext };
  }

  // ---------------------------------------------------------------- read

  /**
   * Downloads and decrypts an object. The returned Body only holds authenticated plaintext: small
   * objects are verified in memory, large ones via a temporary file of ciphertext, before this resolves.
   */
  async getObject(input: GetObjectInput): Promise<GetObjectOutput> {
    const { encryptionContext, allowUnauthenticatedStreaming, instructionFileSuffix, ...request } = input;
    if (request.PartNumber) {
      throw new InvalidRequestError('Part GETs are not supported by this client: fetch the whole object (the tag covers all of it).');
    }
    if (request.Range) return this.getObjectRange(request, encryptionContext ?? {}, instructionFileSuffix ?? INSTRUCTION_SUFFIX);
    const res = await this.s3.send(new GetObjectCommand(request));
    holdErrors(res.Body);
    try {
      if (res.ContentRange) throw new InvalidRequestError('S3 returned a partial object although no range was requested; refusing to decrypt part of an object.');
      const metadata = normalizeMetadata(res.Metadata);
      const cm = await this.loadContentMetadata(request, metadata, instructionFileSuffix ?? INSTRUCTION_SUFFIX);
      this.checkPolicy(cm);
      const ctLength = res.ContentLength;
      const dataKey = await this.decryptDataKey(cm, encryptionContext ?? {}, ctLength ?? 0);
      const userContext = withoutReserved(cm.storedContext);
      const unauth = allowUnauthenticatedStreaming ?? this.unauthenticated;
      const { Body: source, ...head } = res;

      if (cm.contentCipher === CBC) {
        const body = decryptCbc(source as any, dataKey, cm.iv!);
        return { ...head, ContentLength: undefined, Body: body, formatVersion: cm.version, encryptionContext: userContext, authenticated: false };
      }
      const params = cm.version === 'v3'
        ? { key: verifyCommitmentAndDerive(dataKey, cm.messageId!, cm.commitment!), iv: V3_FIXED_IV, aad: SUITE_V3_ID_BYTES }
        : { key: dataKey, iv: cm.iv! };
      const plainLength = ctLength !== undefined ? ctLength - TAG_LENGTH : undefined;
      if (plainLength !== undefined && plainLength < 0) throw new TamperedObjectError(`The object is ${ctLength} bytes, shorter than its authentication tag: it was truncated. Restore it from a trusted copy.`);

      let body: DecryptedBody;
      let authenticated = true;
      if (unauth) {
        body = decryptGcmUnauthenticated(source as any, params);
        authenticated = false;
      } else if (ctLength !== undefined && ctLength <= this.maxBufferBytes + TAG_LENGTH) {
        body = withReaders(Readable.from(await decryptGcmBuffered(source as any, params, ctLength), { objectMode: false }));
      } else if (this.largeObjects === 'spool') {
        body = await decryptGcmSpooled(source as any, params, ctLength, this.tempDir);
      } else if (this.largeObjects === 'refetch') {
        // Pin the exact object that was verified; the segment tags catch anything else.
        const pinned = { ...request, IfMatch: res.ETag ?? request.IfMatch, VersionId: res.VersionId ?? request.VersionId };
        body = await decryptGcmRefetched(source as any, params, ctLength, () => this.s3.send(new GetObjectCommand(pinned)));
      } else {
        throw new InvalidRequestError(`The object (${ctLength ?? 'unknown'} bytes) is larger than maxBufferBytes (${this.maxBufferBytes}) and largeObjects is 'refuse'. ` +
          'Set largeObjects: \'spool\' to verify through a temporary file, raise maxBufferBytes, or pass allowUnauthenticatedStreaming: true if you accept unverified plaintext.');
      }
      return { ...head, ContentLength: plainLength, Body: body, formatVersion: cm.version, encryptionContext: userContext, authenticated };
    } catch (e) {
      destroySource(res.Body);
      throw e;
    }
  }

  /**
   * A ranged GET of an AES-GCM object (V2 or V3), unauthenticated: GCM encrypts with AES-CTR, block i
   * of the content under the counter block IV || (2 + i) (NIST SP 800-38D: J0 = IV || 0^31 || 1 for a
   * 96-bit IV, and the first content block uses inc32(J0)), so a range is decrypted from the 16-byte
   * block it starts in. The specification allows ranged gets only with legacy unauthenticated modes
   * enabled, as the Java client does.
   */
  private async getObjectRange(request: GetObjectCommandInput, requested: EncryptionContext, suffix: string): Promise<GetObjectOutput> {
    if (!this.legacy) {
      throw new InvalidRequestError('A ranged GET cannot be authenticated (the tag covers the whole object), so the S3 Encryption Client format allows it only '
        + 'with legacy unauthenticated modes: create the client with enableLegacyUnauthenticatedModes: true to read a range, or fetch the whole object.');
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.Range!.trim());
    const first = range ? Number(range[1]) : NaN;
    const last = range && range[2] !== '' ? Number(range[2]) : undefined;
    if (!range || !Number.isSafeInteger(first) || (last !== undefined && (!Number.isSafeInteger(last) || last < first))) {
      throw new InvalidRequestError(`Range "${request.Range}" is not supported: give one range, bytes=first-last or bytes=first- (no suffix range, no list).`);
    }
    const blockStart = first - (first % 16);
    const res = await this.s3.send(new GetObjectCommand({ ...request, Range: `bytes=${blockStart}-${last ?? ''}` }));
    holdErrors(res.Body);
    try {
      const total = /\/(\d+)$/.exec(res.ContentRange ?? '');
      if (!total) throw new InvalidRequestError(`S3 answered the ranged GET without a Content-Range giving the object's size ("${res.ContentRange ?? ''}"); refusing to guess where the tag starts.`);
      const cm = await this.loadContentMetadata(request, normalizeMetadata(res.Metadata), suffix);
      this.checkPolicy(cm);
      if (cm.contentCipher !== GCM && cm.version !== 'v3') {
        throw new InvalidRequestError(`Ranged GETs are supported for AES-GCM objects (V2 and V3); this object's content cipher is ${cm.contentCipher}. Fetch the whole object.`);
      }
      const plainLength = Number(total[1]) - TAG_LENGTH;
      if (first >= plainLength) {
        throw new InvalidRequestError(`Range "${request.Range}" starts at or after the end of the object's ${Math.max(plainLength, 0)} bytes of plaintext.`);
      }
      const plainLast = Math.min(last ?? plainLength - 1, plainLength - 1);
      const dataKey = await this.decryptDataKey(cm, requested, plainLast - first + 1);
      const key = cm.version === 'v3' ? verifyCommitmentAndDerive(dataKey, cm.messageId!, cm.commitment!) : dataKey;
      const counter = Buffer.alloc(16);
      (cm.version === 'v3' ? V3_FIXED_IV : cm.iv!).copy(counter, 0, 0, GCM_IV_LENGTH);
      counter.writeUInt32BE(2 + blockStart / 16, 12);
      const decipher = crypto.createDecipheriv('aes-256-ctr', key, counter);
      const { Body: source, ...head } = res;
      const wanted = plainLast - first + 1;
      async function* plaintext(): AsyncGenerator<Buffer> {
        let skip = first - blockStart;
        let left = wanted;
        try {
          for await (const chunk of iterate(source as any)) {
            let out = decipher.update(chunk);
            if (skip > 0) { const n = Math.min(skip, out.length); out = out.subarray(n); skip -= n; }
            if (out.length > left) out = out.subarray(0, left);
            left -= out.length;
            if (out.length > 0) yield out;
            if (left === 0) break;
          }
        } finally {
          destroySource(source);
        }
        if (left > 0) throw new TamperedObjectError(`The ranged GET ended ${left} bytes short of the ${wanted} bytes asked for; the object changed or the connection was cut. Read the range again.`);
      }
      return {
        ...head,
        ContentLength: wanted,
        ContentRange: `bytes ${first}-${plainLast}/${plainLength}`,
        Body: withReaders(Readable.from(plaintext(), { objectMode: false })),
        formatVersion: cm.version,
        encryptionContext: withoutReserved(cm.storedContext),
        authenticated: false,
      };
    } catch (e) {
      destroySource(res.Body);
      throw e;
    }
  }

  private checkPolicy(cm: ContentMetadata): void {
    const isLegacy = cm.contentCipher === CBC || cm.wrapAlg === WRAP_KMS_LEGACY;
    if (isLegacy && !this.legacy) {
      throw new LegacyFormatRefusedError(
        `The object uses a legacy unauthenticated format (content ${cm.contentCipher}, key wrapping ${cm.wrapAlg}). ` +
        'Pass enableLegacyUnauthenticatedModes: true to read it, then re-encrypt it with this client to upgrade it.');
    }
    if (cm.version !== 'v3' && this.policy === 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT') {
      throw new CommitmentPolicyError(
        `The object uses the non-committing ${cm.version.toUpperCase()} format and the commitment policy is REQUIRE_ENCRYPT_REQUIRE_DECRYPT. ` +
        'Use REQUIRE_ENCRYPT_ALLOW_DECRYPT to read it, then re-encrypt it to V3.');
    }
  }

  private async loadContentMetadata(request: GetObjectCommandInput, metadata: Record<string, string>, suffix: string): Promise<ContentMetadata> {
    if (isV3WithInstructionFile(metadata)) {
      const instr = await this.readInstructionFile(request, suffix);
      for (const k of [CONTENT_CIPHER_V3, KEY_COMMITMENT_V3, MESSAGE_ID_V3]) {
        if (k in instr) throw new TamperedObjectError(`The instruction file carries "${k}", which may only live in object metadata; it was tampered with. Restore the instruction file from a trusted copy.`);
      }
      return decodeMetadata({
        ...instr,
        [CONTENT_CIPHER_V3]: metadata[CONTENT_CIPHER_V3],
        [KEY_COMMITMENT_V3]: metadata[KEY_COMMITMENT_V3],
        [MESSAGE_ID_V3]: metadata[MESSAGE_ID_V3],
      });
    }
    if (hasFormatKeys(metadata)) return decodeMetadata(metadata);
    const instr = await this.readInstructionFile(request, suffix);
    if (ENCRYPTED_DATA_KEY_V3 in instr) {
      throw new TamperedObjectError('The instruction file holds a V3 data key but the object lacks x-amz-c / x-amz-d / x-amz-i; the object metadata was removed or changed. Restore the object from a trusted copy.');
    }
    return decodeMetadata(instr);
  }

  private async readInstructionFile(request: GetObjectCommandInput, suffix: string): Promise<Record<string, string>> {
    let text: string;
    try {
      const res = await this.s3.send(new GetObjectCommand({
        Bucket: request.Bucket,
        Key: `${request.Key}${suffix}`,
        ExpectedBucketOwner: request.ExpectedBucketOwner,
        SSECustomerAlgorithm: request.SSECustomerAlgorithm,
        SSECustomerKey: request.SSECustomerKey,
        SSECustomerKeyMD5: request.SSECustomerKeyMD5,
      }));
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of iterate(res.Body as any)) {
        size += c.length;
        if (size > 1024 * 1024) { destroySource(res.Body); throw new UnknownFormatError('The instruction file is larger than 1 MiB; it is not an S3 Encryption Client instruction file.'); }
        chunks.push(c);
      }
      text = Buffer.concat(chunks).toString('utf8');
    } catch (e) {
      if (e instanceof S3EncryptionClientError) throw e;
      const name = (e as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound' || name === 'AccessDenied') {
        throw new UnknownFormatError(
          `The object has no S3 Encryption Client metadata and no instruction file ${request.Key}${suffix} could be read (${name}). ` +
          'It was probably not written by an encryption client: read it with a plain S3 client, or restore its metadata.', { cause: e });
      }
      throw e;
    }
    let parsed: unknown;
    try { parsed = JSON.parse(text); } catch (e) {
      throw new UnknownFormatError(`The instruction file ${request.Key}${suffix} is not JSON; it was changed or is not an instruction file. Restore it from a trusted copy.`, { cause: e });
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UnknownFormatError(`The instruction file ${request.Key}${suffix} is not a JSON object; it was changed or is not an instruction file. Restore it from a trusted copy.`);
    return Object.fromEntries(Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), typeof v === 'string' ? v : JSON.stringify(v)]));
  }

  private async decryptDataKey(cm: ContentMetadata, requested: EncryptionContext, bytes: number): Promise<Buffer> {
    const stored = cm.storedContext;
    const user = withoutReserved(stored);
    const legacy = cm.wrapAlg === WRAP_KMS_LEGACY;
    // kms+context: the given context must equal the stored one. Legacy `kms`: KMS checks the stored
    // material description and the format asks nothing of the reader (mail that SES stored reads
    // without knowing the context SES used), but a context the caller gives is compared, never ignored.
    if ((!legacy || Object.keys(requested).length > 0) && !sameMap(user, requested)) {
      throw new EncryptionContextMismatchError(legacy
        ? `The encryption context given (keys: ${keysOf(requested)}) does not match the material description the legacy 'kms' object was written with ` +
          `(keys: ${keysOf(user)}). Pass the same context, or none to read it as the legacy clients do.`
        : `The encryption context given (keys: ${keysOf(requested)}) does not match the one the object was written with (keys: ${keysOf(user)}). ` +
          'Pass the same encryptionContext to getObject that was given to putObject.');
    }
    if (cm.wrapAlg === WRAP_KMS_CONTEXT) {
      const expectedCek = cm.version === 'v3' ? SUITE_V3_ID_STRING : cm.contentCipher;
      if (EC_CEK_ALG_KEY in stored && stored[EC_CEK_ALG_KEY] !== expectedCek) {
        throw new TamperedObjectError(`The stored encryption context names content cipher "${stored[EC_CEK_ALG_KEY]}" but the object metadata says "${expectedCek}": the metadata was changed (possible downgrade). Restore the object from a trusted copy.`);
      }
    }
    const cacheId = this.cache ? DataKeyCache.decryptionId(this.cachePartition, this.kmsKeyId, cm.encryptedDataKey, stored) : '';
    const cached = this.cache?.takeForDecryption(cacheId, bytes);
    if (cached) return cached.plaintextKey;
    this.kmsCalls++;
    let res;
    try {
      res = await this.kms.send(new DecryptCommand({ KeyId: this.kmsKeyId, CiphertextBlob: cm.encryptedDataKey, EncryptionContext: stored }));
    } catch (e) {
      throw mapKmsError(e, this.kmsKeyId, 'Decrypt');
    }
    if (!res.Plaintext || res.Plaintext.length !== DATA_KEY_LENGTH) {
      throw new TamperedObjectError('KMS returned a data key that is not 32 bytes; the encrypted data key in the metadata is not an S3 Encryption Client key. Restore the object from a trusted copy.');
    }
    const key = Buffer.from(res.Plaintext);
    this.cache?.putForDecryption(cacheId, { plaintextKey: key, encryptedKey: cm.encryptedDataKey }, bytes);
    return key;
  }
}

function mapKmsError(e: unknown, keyId: string, op: string): Error {
  const name = (e as { name?: string }).name ?? '';
  if (WRONG_KEY_ERRORS.includes(name)) {
    return new WrongKeyError(
      `KMS ${op} was refused with ${name} for key ${keyId}: the object's data key was wrapped under a different KMS key, or this principal may not use the key. ` +
      'Configure the client with the KMS key the object was written with and grant kms:Decrypt / kms:GenerateDataKey on it.', { cause: e });
  }
  if (name === 'InvalidCiphertextException') {
    return new EncryptionContextMismatchError(
      `KMS ${op} rejected the encrypted data key with the stored encryption context (InvalidCiphertextException): ` +
      'the encryption context or the encrypted data key in the object metadata was changed after writing. Restore the object from a trusted copy.', { cause: e });
  }
  return e as Error;
}

/** One id per KMS client instance, the partition of a shared data-key cache. */
const partitions = new WeakMap<object, string>();
/** DeleteObjects API reference: "The request can contain a list of up to 1,000 keys". */
const DELETE_OBJECTS_MAX_KEYS = 1000;
const NON_ASCII = /[^\u0000-\u007f]/;
function withoutReserved(m: EncryptionContext): EncryptionContext {
  // fromEntries, not assignment: a context key "__proto__" stays an own key.
  return Object.fromEntries(Object.entries(m).filter(([k]) => !RESERVED_CONTEXT_KEYS.includes(k)));
}

function sameMap(a: EncryptionContext, b: EncryptionContext): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && b[k] === a[k]);
}

function keysOf(m: EncryptionContext): string {
  const k = Object.keys(m).sort();
  return k.length ? k.join(', ') : 'none';
}

function isBytes(b: unknown): b is Buffer | Uint8Array | string {
  return typeof b === 'string' || b instanceof Uint8Array;
}

function toBuffer(b: Buffer | Uint8Array | string): Buffer {
  if (typeof b === 'string') return Buffer.from(b, 'utf8');
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Caller checksums describe the plaintext; S3 computes its own over the ciphertext. */
function stripChecksums<T extends Omit<PutObjectCommandInput, 'Body'>>(r: T): T {
  const rest = { ...r } as Record<string, unknown>;
  for (const k of ['ContentMD5', 'ChecksumCRC32', 'ChecksumCRC32C', 'ChecksumSHA1', 'ChecksumSHA256', 'ChecksumCRC64NVME', 'ContentLength']) delete rest[k];
  return rest as T;
}

