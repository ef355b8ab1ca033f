import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type {
  CompletedPart,
  CopyObjectCommandOutput,
  GetObjectCommandInput,
  GetObjectCommandOutput,
  HeadObjectCommandInput,
  HeadObjectCommandOutput,
  PutObjectCommandInput,
  PutObjectCommandOutput,
  S3Client,
} from '@aws-sdk/client-s3';

/** Request parameters that make S3 encrypt or decrypt an object with a customer-provided key (SSE-C). */
export interface SseCustomerKeyParams {
  readonly SSECustomerAlgorithm: 'AES256';
  /** The 32-byte key, base64. */
  readonly SSECustomerKey: string;
  /** Base64 MD5 of the raw key bytes; S3 uses it to detect a corrupted key in transit. */
  readonly SSECustomerKeyMD5: string;
}

/** The same key, as the key of the source object of CopyObject or UploadPartCopy. */
export interface SseCustomerCopySourceParams {
  readonly CopySourceSSECustomerAlgorithm: 'AES256';
  readonly CopySourceSSECustomerKey: string;
  readonly CopySourceSSECustomerKeyMD5: string;
}

/** Why an SSE-C operation was refused before anything was sent. */
export type SseCustomerKeyErrorCode = 'InvalidKeyLength' | 'InvalidKeyEncoding' | 'InsecureEndpoint' | 'InvalidOption';

/** Every error this module raises itself; the message never contains key material. */
export class SseCustomerKeyError extends Error {
  public readonly code: SseCustomerKeyErrorCode;
  constructor(code: SseCustomerKeyErrorCode, message: string) {
    super(message);
    this.name = 'SseCustomerKeyError';
    this.code = code;
  }
}

/** The key material is not 32 bytes of valid base64. */
export class InvalidSseCustomerKeyError extends SseCustomerKeyError {
  /** Bytes received, when the input decoded at all. */
  public readonly actualBytes?: number;
  public readonly expectedBytes = SSE_C_KEY_BYTES;
  constructor(code: 'InvalidKeyLength' | 'InvalidKeyEncoding', message: string, actualBytes?: number) {
    super(code, message);
    this.name = 'InvalidSseCustomerKeyError';
    this.actualBytes = actualBytes;
  }
}

/** The S3 client would send the key over plain HTTP. */
export class SseCustomerInsecureEndpointError extends SseCustomerKeyError {
  /** The refused endpoint, without path or query. */
  public readonly endpoint: string;
  constructor(endpoint: string) {
    super('InsecureEndpoint',
      `Refusing to send an SSE-C key to ${endpoint}: the endpoint is plain HTTP, so the key would cross the network in the clear, `
      + 'and S3 rejects SSE-C requests without TLS. Configure the S3Client with an https:// endpoint.');
    this.name = 'SseCustomerInsecureEndpointError';
    this.endpoint = endpoint;
  }
}

/** SSE-C keys are AES-256 keys. */
export const SSE_C_KEY_BYTES = 32;
/** CopyObject copies at most 5 GiB; larger objects need a multipart copy. */
export const COPY_OBJECT_MAX_BYTES = 5 * 1024 ** 3;
const MIN_PART_BYTES = 5 * 1024 ** 2;
const MAX_PART_BYTES = 5 * 1024 ** 3;
const MAX_PARTS = 10_000;
const DEFAULT_PART_BYTES = 512 * 1024 ** 2;
const DEFAULT_COPY_CONCURRENCY = 4;
const MIDDLEWARE_NAME = 'sseCustomerKeyRequireHttps';
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Options for {@link SseCustomerKey.rekeyObject}. */
export interface RekeyObjectOptions {
  readonly Bucket: string;
  readonly Key: string;
  /** The key the object is re-encrypted with. */
  readonly newKey: SseCustomerKey;
  /**
   * Objects larger than this are copied part by part with UploadPartCopy.
   * @default 5 GiB, the CopyObject limit
   */
  readonly multipartThresholdBytes?: number;
  /**
   * Part size of the multipart copy; raised when the object would need more than 10,000 parts.
   * @default 512 MiB
   */
  readonly partSizeBytes?: number;
  /** UploadPartCopy requests in flight at once. @default 4 */
  readonly concurrency?: number;
  /** Passed to every request, for cancellation. */
  readonly abortSignal?: AbortSignal;
}

/** What {@link SseCustomerKey.rekeyObject} did. */
export interface RekeyObjectResult {
  readonly method: 'CopyObject' | 'UploadPartCopy';
  readonly sizeBytes: number;
  /** Parts copied; 1 for CopyObject. */
  readonly parts: number;
  readonly ETag?: string;
  /** The new version, on a versioned bucket. */
  readonly VersionId?: string;
}

/**
 * A customer-provided key for S3 server-side encryption (SSE-C).
 *
 * S3 encrypts with the key and forgets it: lose the key and the object is gone. Keep the material
 * somewhere durable (Secrets Manager) with {@link exportBase64}; the object never reveals it otherwise:
 * `toString`, `JSON.stringify` and `util.inspect` print only the key's MD5 fingerprint.
 */
export class SseCustomerKey {
  /** A new random 256-bit key from the operating system's CSPRNG. */
  public static generate(): SseCustomerKey {
    return new SseCustomerKey(randomBytes(SSE_C_KEY_BYTES));
  }

  /** A key from its 32 raw bytes; the bytes are copied. */
  public static fromBytes(bytes: Uint8Array): SseCustomerKey {
    if (!(bytes instanceof Uint8Array)) {
      throw new InvalidSseCustomerKeyError('InvalidKeyEncoding', `An SSE-C key must be a Uint8Array of ${SSE_C_KEY_BYTES} bytes, got ${typeof bytes}.`);
    }
    if (bytes.length !== SSE_C_KEY_BYTES) {
      throw new InvalidSseCustomerKeyError('InvalidKeyLength',
        `An SSE-C key must be exactly ${SSE_C_KEY_BYTES} bytes (AES-256), got ${bytes.length} bytes.`, bytes.length);
    }
    return new SseCustomerKey(Buffer.from(bytes));
  }

  /** A key from standard base64 (with padding) of its 32 bytes, as S3 and Secrets Manager carry it. */
  public static fromBase64(base64: string): SseCustomerKey {
    if (typeof base64 !== 'string') {
      throw new InvalidSseCustomerKeyError('InvalidKeyEncoding', `An SSE-C key in base64 must be a string, got ${typeof base64}.`);
    }
    const trimmed = base64.trim();
    // Buffer.from(…, 'base64') silently skips junk, which would turn a typo into a different key.
    if (!STRICT_BASE64.test(trimmed)) {
      throw new InvalidSseCustomerKeyError('InvalidKeyEncoding',
        `An SSE-C key must be standard padded base64 of ${SSE_C_KEY_BYTES} bytes (44 characters); the ${trimmed.length}-character input is not valid base64.`);
    }
    const bytes = Buffer.from(trimmed, 'base64');
    try {
      return SseCustomerKey.fromBytes(bytes);
    } finally {
      bytes.fill(0);
    }
  }

  /** A key from 64 hexadecimal digits. */
  public static fromHex(hex: string): SseCustomerKey {
    if (typeof hex !== 'string') {
      throw new InvalidSseCustomerKeyError('InvalidKeyEncoding', `An SSE-C key in hex must be a string, got ${typeof hex}.`);
    }
    const trimmed = hex.trim();
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(trimmed)) {
      throw new InvalidSseCustomerKeyError('InvalidKeyEncoding',
        `An SSE-C key in hex must be ${SSE_C_KEY_BYTES * 2} hexadecimal digits; the ${trimmed.length}-character input is not valid hex.`);
    }
    const bytes = Buffer.from(trimmed, 'hex');
    try {
      return SseCustomerKey.fromBytes(bytes);
    } finally {
      bytes.fill(0);
    }
  }

  /**
   * A key from a Secrets Manager secret string: the JSON `{"algorithm":"AES256","encoding":"hex"|"base64","key":"…"}`
   * that SseCustomerKeySecret stores and rotates, or a bare base64 key.
   */
  public static fromSecretString(secretString: string): SseCustomerKey {
    if (typeof secretString !== 'string') {
      throw new InvalidSseCustomerKeyError('InvalidKeyEncoding', `An SSE-C secret string must be a string, got ${typeof secretString}.`);
    }
    const trimmed = secretString.trim();
    if (!trimmed.startsWith('{')) return SseCustomerKey.fromBase64(trimmed);
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      // The parser's message can quote the input, which is key material.
      throw new InvalidSseCustomerKeyError('InvalidKeyEncoding', 'The SSE-C secret string starts with "{" but is not valid JSON.');
    }
    const { key, encoding, algorithm } = (parsed ?? {}) as { key?: unknown; encoding?: unknown; algorithm?: unknown };
    if (algorithm !== undefined && algorithm !== 'AES256') {
      throw new InvalidSseCustomerKeyError('InvalidKeyEncoding', `The SSE-C secret's algorithm must be AES256, got ${JSON.stringify(algorithm).slice(0, 40)}.`);
    }
    if (typeof key !== 'string') {
      throw new InvalidSseCustomerKeyError('InvalidKeyEncoding', 'The SSE-C secret JSON has no string "key" field.');
    }
    if (encoding === 'hex') return SseCustomerKey.fromHex(key);
    if (encoding === undefined || encoding === 'base64') return SseCustomerKey.fromBase64(key);
    throw new InvalidSseCustomerKeyError('InvalidKeyEncoding', `The SSE-C secret's encoding must be "hex" or "base64", got ${JSON.stringify(encoding).slice(0, 40)}.`);
  }

  /**
   * Refuses, before any request, an S3 client whose configured endpoint is plain HTTP, and adds a
   * guard to the client that refuses any request about to leave over plain HTTP (for endpoints
   * resolved per request). Idempotent; every SSE-C helper of this class calls it.
   */
  public static async requireHttps(s3: S3Client): Promise<void> {
    const config = s3.config as unknown as {
      endpoint?: () => Promise<{ protocol?: string; hostname?: string; port?: number }>;
      serviceConfiguredEndpoint?: () => Promise<string | undefined>;
      ignoreConfiguredEndpointUrls?: boolean;
    };
    if (config.endpoint) {
      const endpoint = await config.endpoint();
      if (endpoint.protocol !== 'https:') {
        throw new SseCustomerInsecureEndpointError(`${endpoint.protocol ?? '?'}//${endpoint.hostname ?? ''}${endpoint.port ? `:${endpoint.port}` : ''}`);
      }
    } else if (!config.ignoreConfiguredEndpointUrls && config.serviceConfiguredEndpoint) {
      // AWS_ENDPOINT_URL(_S3) and the shared config file can set the endpoint outside the code.
      const configured = await config.serviceConfiguredEndpoint();
      if (configured && !configured.toLowerCase().startsWith('https:')) {
        throw new SseCustomerInsecureEndpointError(originOf(configured));
      }
    }
    SseCustomerKey.guard(s3);
  }

  /**
   * Adds to the S3 client a guard that refuses any request carrying an SSE-C key (its own or a copy
   * source's) that is about to leave over plain HTTP, before it is signed and sent; synchronous and
   * idempotent. `requestParams(s3)` and `copySourceParams(s3)` add it for you.
   */
  public static guard(s3: S3Client): void {
    // identify() also catches a guard added by another copy of this module in the same process.
    if (!GUARDED.has(s3) && !s3.middlewareStack.identify().some((m) => m.startsWith(MIDDLEWARE_NAME))) {
      s3.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { protocol?: string; hostname?: string; port?: number; headers?: Record<string, string> };
          const carriesKey = Object.keys(request.headers ?? {}).some((h) => h.toLowerCase().endsWith('server-side-encryption-customer-key'));
          if (carriesKey && request.protocol !== 'https:') {
            throw new SseCustomerInsecureEndpointError(`${request.protocol ?? '?'}//${request.hostname ?? ''}${request.port ? `:${request.port}` : ''}`);
          }
          return next(args);
        },
        { step: 'finalizeRequest', name: MIDDLEWARE_NAME, priority: 'high' },
      );
      GUARDED.add(s3);
    }
  }

  readonly #key: Buffer;
  /** Base64 MD5 of the key: safe to log, it is what S3 returns as `SSECustomerKeyMD5`. */
  public readonly fingerprint: string;

  private constructor(key: Buffer) {
    this.#key = key;
    this.fingerprint = createHash('md5').update(key).digest('base64');
    Object.freeze(this);
  }

  /**
   * `SSECustomerAlgorithm`, `SSECustomerKey`, `SSECustomerKeyMD5` for Put/Get/Head/UploadPart/CreateMultipartUpload/CopyObject (destination).
   * Pass the S3 client the command goes through: it then refuses to send the key over plain HTTP
   * ({@link SseCustomerKey.guard}). Without it, keeping the key off plain HTTP is up to you.
   */
  public requestParams(s3?: S3Client): SseCustomerKeyParams {
    if (s3) SseCustomerKey.guard(s3);
    return { SSECustomerAlgorithm: 'AES256', SSECustomerKey: this.#key.toString('base64'), SSECustomerKeyMD5: this.fingerprint };
  }

  /** `CopySourceSSECustomer*` for CopyObject and UploadPartCopy whose source is encrypted with this key; `s3` as for requestParams. */
  public copySourceParams(s3?: S3Client): SseCustomerCopySourceParams {
    if (s3) SseCustomerKey.guard(s3);
    return {
      CopySourceSSECustomerAlgorithm: 'AES256',
      CopySourceSSECustomerKey: this.#key.toString('base64'),
      CopySourceSSECustomerKeyMD5: this.fingerprint,
    };
  }

  /** The key material in base64, for storing it (Secrets Manager); treat the result as a secret. */
  public exportBase64(): string {
    return this.#key.toString('base64');
  }

  /** Constant-time comparison of the key material. */
  public equals(other: SseCustomerKey): boolean {
    return other instanceof SseCustomerKey && timingSafeEqual(this.#key, other.#key);
  }

  /** PutObject with this key, over HTTPS only. */
  public async putObject(s3: S3Client, input: Omit<PutObjectCommandInput, keyof SseCustomerKeyParams>): Promise<PutObjectCommandOutput> {
    await SseCustomerKey.requireHttps(s3);
    return s3.send(new PutObjectCommand({ ...input, ...this.requestParams() }));
  }

  /** GetObject with this key, over HTTPS only. */
  public async getObject(s3: S3Client, input: Omit<GetObjectCommandInput, keyof SseCustomerKeyParams>): Promise<GetObjectCommandOutput> {
    await SseCustomerKey.requireHttps(s3);
    return s3.send(new GetObjectCommand({ ...input, ...this.requestParams() }));
  }

  /** HeadObject with this key, over HTTPS only (S3 refuses HEAD of an SSE-C object without its key). */
  public async headObject(s3: S3Client, input: Omit<HeadObjectCommandInput, keyof SseCustomerKeyParams>): Promise<HeadObjectCommandOutput> {
    await SseCustomerKey.requireHttps(s3);
    return s3.send(new HeadObjectCommand({ ...input, ...this.requestParams() }));
  }

  /**
   * Re-encrypts an object from this key to `newKey` in place, server-side, keeping its metadata,
   * content type, standard headers, storage class and tags. CopyObject up to the threshold; above it,
   * a multipart copy with UploadPartCopy (aborted on failure, so the object stays under the old key).
   * The copy is conditional on the source ETag, so a concurrent overwrite makes it fail rather than
   * re-key the wrong bytes. On a versioned bucket the re-keyed object is a new current version and
   * older versions stay under the old key until they expire or are deleted.
   */
  public async rekeyObject(s3: S3Client, options: RekeyObjectOptions): Promise<RekeyObjectResult> {
    const threshold = options.multipartThresholdBytes ?? COPY_OBJECT_MAX_BYTES;
    if (!(threshold >= 0 && threshold <= COPY_OBJECT_MAX_BYTES)) {
      throw new SseCustomerKeyError('InvalidOption', `multipartThresholdBytes must be between 0 and ${COPY_OBJECT_MAX_BYTES} (5 GiB), got ${threshold}.`);
    }
    const concurrency = options.concurrency ?? DEFAULT_COPY_CONCURRENCY;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new SseCustomerKeyError('InvalidOption', `concurrency must be a positive integer, got ${concurrency}.`);
    }
    const requestedPartSize = options.partSizeBytes ?? DEFAULT_PART_BYTES;
    if (!(requestedPartSize >= MIN_PART_BYTES && requestedPartSize <= MAX_PART_BYTES)) {
      throw new SseCustomerKeyError('InvalidOption', `partSizeBytes must be between ${MIN_PART_BYTES} (5 MiB) and ${MAX_PART_BYTES} (5 GiB), got ${requestedPartSize}.`);
    }
    if (!(options.newKey instanceof SseCustomerKey)) {
      throw new SseCustomerKeyError('InvalidOption', 'newKey must be an SseCustomerKey.');
    }
    await SseCustomerKey.requireHttps(s3);
    const sendOptions = { abortSignal: options.abortSignal };
    const { Bucket, Key } = options;
    // HEAD with the old key both proves the key and reads what the copy must keep.
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key, ...this.requestParams() }), sendOptions);
    const size = head.ContentLength ?? 0;
    // The source is the current version, guarded by its ETag: pinning the version id instead would let
    // a concurrent write be overwritten by the older content it replaced.
    const copySource = copySourceOf(Bucket, Key);

    if (size <= threshold) {
      const out: CopyObjectCommandOutput = await s3.send(new CopyObjectCommand({
        Bucket,
        Key,
        CopySource: copySource,
        CopySourceIfMatch: head.ETag,
        MetadataDirective: 'COPY',
        TaggingDirective: 'COPY',
        StorageClass: head.StorageClass,
        ...this.copySourceParams(),
        ...options.newKey.requestParams(),
      }), sendOptions);
      return { method: 'CopyObject', sizeBytes: size, parts: 1, ETag: out.CopyObjectResult?.ETag, VersionId: out.VersionId };
    }

    // S3 allows at most 10,000 parts, so very large objects need bigger parts than asked for.
    const partSize = Math.max(requestedPartSize, Math.ceil(size / MAX_PARTS));
    const tagging = await s3.send(new GetObjectTaggingCommand({ Bucket, Key, VersionId: head.VersionId }), sendOptions);
    const created = await s3.send(new CreateMultipartUploadCommand({
      Bucket,
      Key,
      ContentType: head.ContentType,
      ContentEncoding: head.ContentEncoding,
      ContentDisposition: head.ContentDisposition,
      ContentLanguage: head.ContentLanguage,
      CacheControl: head.CacheControl,
      Expires: head.Expires,
      WebsiteRedirectLocation: head.WebsiteRedirectLocation,
      Metadata: head.Metadata,
      StorageClass: head.StorageClass,
      Tagging: tagging.TagSet && tagging.TagSet.length > 0
        ? new URLSearchParams(tagging.TagSet.map((t): [string, string] => [t.Key ?? '', t.Value ?? ''])).toString()
        : undefined,
      ...options.newKey.requestParams(),
    }), sendOptions);
    const UploadId = created.UploadId;
    if (!UploadId) throw new Error(`CreateMultipartUpload for s3://${Bucket}/${Key} returned no UploadId; check that the S3 client's endpoint is Amazon S3 or S3-compatible.`);

    try {
      const count = Math.ceil(size / partSize);
      const parts: CompletedPart[] = new Array(count);
      let nextPart = 0;
      const worker = async (): Promise<void> => {
        while (nextPart < count) {
          const index = nextPart++;
          const start = index * partSize;
          const end = Math.min(size, start + partSize) - 1;
          const out = await s3.send(new UploadPartCopyCommand({
            Bucket,
            Key,
            UploadId,
            PartNumber: index + 1,
            CopySource: copySource,
            CopySourceIfMatch: head.ETag,
            CopySourceRange: `bytes=${start}-${end}`,
            ...this.copySourceParams(),
            ...options.newKey.requestParams(),
          }), sendOptions);
          parts[index] = { PartNumber: index + 1, ETag: out.CopyPartResult?.ETag };
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
      const done = await s3.send(new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: parts },
        ...options.newKey.requestParams(),
      }), sendOptions);
      return { method: 'UploadPartCopy', sizeBytes: size, parts: count, ETag: done.ETag, VersionId: done.VersionId };
    } catch (err) {
      // Leave no orphaned parts behind (they are billed); the original object is untouched.
      await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
      throw err;
    }
  }

  /** The algorithm and the key's MD5 fingerprint, never the key, so logging a key leaks nothing. */
  public toString(): string {
    return `SseCustomerKey(AES256, md5=${this.fingerprint})`;
  }

  /** What JSON.stringify prints: the algorithm and the fingerprint, never the key. */
  public toJSON(): { algorithm: 'AES256'; fingerprint: string } {
    return { algorithm: 'AES256', fingerprint: this.fingerprint };
  }

  public [inspect.custom](): string {
    return this.toString();
  }
}

const GUARDED = new WeakSet<S3Client>();

function copySourceOf(bucket: string, key: string): string {
  // S3 wants the source URL-encoded; slashes may stay, which keeps the value readable.
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

function originOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(unparseable endpoint)';
  }
}
