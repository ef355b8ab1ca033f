/**
 * What both interop suites (Java and Python peers) stand on: a moto server with S3 and KMS on
 * 127.0.0.1, a bucket and a KMS key, this library's client writing V3 and V2, and a scratch folder
 * for the files the peer CLIs read and write. `useInteropPeer` registers the jest hooks that start
 * and stop it; the fields are set once `beforeAll` has run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { MotoServer, startMotoServer } from './moto-server';
import { S3EncryptionClient } from '../../src/client';

export interface InteropPeerEnv {
  readonly bucket: string;
  moto: MotoServer;
  s3: S3Client;
  kms: KMSClient;
  kmsKeyId: string;
  /** Writes V3 (the default). */
  ours: S3EncryptionClient;
  /** Writes V2. */
  oursV2: S3EncryptionClient;
  dir: string;
  /** A path in the scratch folder, written with `bytes` when given. */
  file(name: string, bytes?: Buffer): string;
  /** The object's user metadata as S3 stores it (lower-case keys, no x-amz-meta- prefix). */
  rawMetadata(key: string): Promise<Record<string, string>>;
}

export function useInteropPeer(bucket: string): InteropPeerEnv {
  const env = {
    bucket,
    file(name: string, bytes?: Buffer): string {
      const p = path.join(env.dir, name);
      if (bytes) writeFileSync(p, bytes);
      return p;
    },
    async rawMetadata(key: string): Promise<Record<string, string>> {
      return (await env.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).Metadata ?? {};
    },
  } as InteropPeerEnv;
  beforeAll(async () => {
    env.moto = await startMotoServer();
    const common = { endpoint: env.moto.endpoint, region: env.moto.region, credentials: env.moto.credentials };
    env.s3 = new S3Client({ ...common, forcePathStyle: true });
    env.kms = new KMSClient(common);
    await env.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    env.kmsKeyId = (await env.kms.send(new CreateKeyCommand({ Description: bucket }))).KeyMetadata!.Arn!;
    env.ours = new S3EncryptionClient({ s3: env.s3, kms: env.kms, kmsKeyId: env.kmsKeyId });
    env.oursV2 = new S3EncryptionClient({ s3: env.s3, kms: env.kms, kmsKeyId: env.kmsKeyId, formatVersion: 'v2' });
    env.dir = mkdtempSync(path.join(os.tmpdir(), `${bucket}-`));
  });
  afterAll(async () => {
    env.s3?.destroy();
    env.kms?.destroy();
    await env.moto?.stop();
    if (env.dir) rmSync(env.dir, { recursive: true, force: true });
  });
  return env;
}

/** The bytes of a response body, a decrypted body or a buffer. */
export async function bodyBytes(body: unknown): Promise<Buffer> {
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) return Buffer.from(body);
  const b = body as { transformToByteArray?: () => Promise<Uint8Array> } & AsyncIterable<Uint8Array>;
  if (typeof b.transformToByteArray === 'function') return Buffer.from(await b.transformToByteArray());
  const chunks: Buffer[] = [];
  for await (const c of b) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}
