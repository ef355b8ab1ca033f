/**
 * In-process stand-ins for S3 and KMS, for unit tests and the benchmark. They implement only the
 * `send(command)` calls the encryption client makes, with the same error names as the real services.
 */
import * as crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';

function named(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

async function collect(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

export interface StoredObject { body: Buffer; metadata: Record<string, string> }

export class FakeS3 {
  readonly objects = new Map<string, StoredObject>();
  readonly calls: string[] = [];
  private readonly uploads = new Map<string, { bucket: string; key: string; metadata: Record<string, string>; parts: Map<number, Buffer> }>();
  /** Size of the chunks GetObject bodies are served in. */
  constructor(private readonly chunkSize = 64 * 1024) {}

  asClient(): S3Client { return this as unknown as S3Client; }

  private id(bucket?: string, key?: string): string { return `${bucket}/${key}`; }

  async send(cmd: any): Promise<any> {
    const input = cmd.input;
    this.calls.push(cmd.constructor.name);
    if (cmd instanceof PutObjectCommand) {
      const metadata: Record<string, string> = {};
      for (const [k, v] of Object.entries(input.Metadata ?? {})) metadata[k.toLowerCase()] = String(v);
      this.objects.set(this.id(input.Bucket, input.Key), { body: await collect(input.Body), metadata });
      return { ETag: '"etag"' };
    }
    if (cmd instanceof GetObjectCommand) {
      const o = this.objects.get(this.id(input.Bucket, input.Key));
      if (!o) throw named('NoSuchKey', 'The specified key does not exist.');
      const size = this.chunkSize;
      const body = o.body;
      function* chunks() { for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size); }
      return { Body: Readable.from(chunks()), ContentLength: body.length, Metadata: { ...o.metadata }, ETag: '"etag"' };
    }
    if (cmd instanceof CreateMultipartUploadCommand) {
      const uploadId = crypto.randomUUID();
      const metadata: Record<string, string> = {};
      for (const [k, v] of Object.entries(input.Metadata ?? {})) metadata[k.toLowerCase()] = String(v);
      this.uploads.set(uploadId, { bucket: input.Bucket, key: input.Key, metadata, parts: new Map() });
      return { UploadId: uploadId };
    }
    if (cmd instanceof UploadPartCommand) {
      const u = this.uploads.get(input.UploadId);
      if (!u) throw named('NoSuchUpload', 'no such upload');
      u.parts.set(input.PartNumber, await collect(input.Body));
      return { ETag: `"p${input.PartNumber}"` };
    }
    if (cmd instanceof CompleteMultipartUploadCommand) {
      const u = this.uploads.get(input.UploadId);
      if (!u) throw named('NoSuchUpload', 'no such upload');
      const numbers = (input.MultipartUpload?.Parts ?? []).map((p: any) => p.PartNumber);
      const body = Buffer.concat(numbers.map((n: number) => u.parts.get(n)!));
      this.objects.set(this.id(u.bucket, u.key), { body, metadata: u.metadata });
      this.uploads.delete(input.UploadId);
      return { ETag: '"mp"' };
    }
    if (cmd instanceof AbortMultipartUploadCommand) {
      this.uploads.delete(input.UploadId);
      return {};
    }
    if (cmd instanceof DeleteObjectCommand) {
      this.objects.delete(this.id(input.Bucket, input.Key));
      return {};
    }
    throw new Error(`FakeS3 does not implement ${cmd.constructor.name}`);
  }

  get openUploads(): number { return this.uploads.size; }
}

/** Serializes an encryption context the way the fake binds it: sorted pairs. */
function contextAad(ec: Record<string, string> | undefined): Buffer {
  return Buffer.from(JSON.stringify(Object.keys(ec ?? {}).sort().map((k) => [k, ec![k]])));
}

/**
 * KMS stand-in: wraps data keys with AES-GCM under a per-key master key, the encryption context as AAD,
 * so a wrong context or wrong key fails like real KMS. `dataKeys` makes GenerateDataKey deterministic.
 */
export class FakeKms {
  generateCalls = 0;
  decryptCalls = 0;
  private readonly masters = new Map<string, Buffer>();
  private readonly aliases = new Map<string, string>();
  private counter = 0;

  constructor(keyIds: string[] = ['key-1'], private readonly dataKeys?: () => Buffer) {
    for (const id of keyIds) this.masters.set(id, crypto.createHash('sha256').update(`master:${id}`).digest());
  }

  asClient(): KMSClient { return this as unknown as KMSClient; }

  addAlias(alias: string, keyId: string): void { this.aliases.set(alias, keyId); }

  private resolve(keyId: string): string {
    const id = this.aliases.get(keyId) ?? keyId;
    if (!this.masters.has(id)) throw named('NotFoundException', `Key ${keyId} does not exist`);
    return id;
  }

  wrap(keyId: string, plaintext: Buffer, ec: Record<string, string> | undefined): Buffer {
    const id = this.resolve(keyId);
    // Deterministic IV so known-answer tests can pin the encrypted data key too.
    const iv = crypto.createHash('sha256').update(plaintext).update(String(this.counter++)).digest().subarray(0, 12);
    const c = crypto.createCipheriv('aes-256-gcm', this.masters.get(id)!, iv);
    c.setAAD(contextAad(ec));
    const idBytes = Buffer.from(id, 'utf8');
    return Buffer.concat([Buffer.from([idBytes.length]), idBytes, iv, c.update(plaintext), c.final(), c.getAuthTag()]);
  }

  async send(cmd: any): Promise<any> {
    const input = cmd.input;
    if (cmd instanceof GenerateDataKeyCommand) {
      this.generateCalls++;
      const id = this.resolve(input.KeyId);
      const plaintext = this.dataKeys ? this.dataKeys() : crypto.randomBytes(32);
      return { Plaintext: new Uint8Array(plaintext), CiphertextBlob: new Uint8Array(this.wrap(id, plaintext, input.EncryptionContext)), KeyId: id };
    }
    if (cmd instanceof DecryptCommand) {
      this.decryptCalls++;
      const blob = Buffer.from(input.CiphertextBlob);
      const idLen = blob[0] ?? 0;
      const blobKey = blob.subarray(1, 1 + idLen).toString('utf8');
      if (!this.masters.has(blobKey)) throw named('InvalidCiphertextException', 'invalid ciphertext');
      if (input.KeyId && this.resolve(input.KeyId) !== blobKey) throw named('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
      const rest = blob.subarray(1 + idLen);
      const iv = rest.subarray(0, 12);
      const tag = rest.subarray(rest.length - 16);
      const d = crypto.createDecipheriv('aes-256-gcm', this.masters.get(blobKey)!, iv);
      d.setAAD(contextAad(input.EncryptionContext));
      d.setAuthTag(tag);
      try {
        const pt = Buffer.concat([d.update(rest.subarray(12, rest.length - 16)), d.final()]);
        return { Plaintext: new Uint8Array(pt), KeyId: blobKey };
      } catch {
        throw named('InvalidCiphertextException', 'invalid ciphertext');
      }
    }
    throw new Error(`FakeKms does not implement ${cmd.constructor.name}`);
  }
}

/** Random source that returns bytes from a fixed list, for known-answer tests. */
export function fixedRandom(...values: Buffer[]): (n: number) => Buffer {
  let i = 0;
  return (n: number) => {
    const v = values[i++ % values.length];
    if (v.length !== n) throw new Error(`fixedRandom: asked for ${n} bytes, next value has ${v.length}`);
    return Buffer.from(v);
  };
}

export async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}
