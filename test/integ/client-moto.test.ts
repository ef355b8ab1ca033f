/**
 * Round trips of the encryption client through real S3 and KMS APIs (moto server on 127.0.0.1):
 * small, empty, multi-MiB and multipart objects in V3 and V2, instruction files, spooled reads,
 * and refusals by the client and by KMS.
 */
import { randomBytes } from 'node:crypto';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CopyObjectCommand, CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  EncryptionContextMismatchError, S3EncryptionClient, TamperedObjectError, UnknownFormatError, WrongKeyError,
} from '../../src/client';
import { MotoServer, startMotoServer } from '../support/moto-server';

const MIB = 1024 * 1024;
const BUCKET = 'client-roundtrip';

let moto: MotoServer;
let s3: S3Client;
let kms: KMSClient;
let keyArn: string;
let otherKeyArn: string;

function* chunks(data: Buffer, size: number) { for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size); }

async function bytes(out: { Body: AsyncIterable<Uint8Array> }): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of out.Body) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

beforeAll(async () => {
  moto = await startMotoServer();
  const common = { endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  s3 = new S3Client({ ...common, forcePathStyle: true });
  kms = new KMSClient(common);
  keyArn = (await kms.send(new CreateKeyCommand({ Description: 'client round trips' }))).KeyMetadata!.Arn!;
  otherKeyArn = (await kms.send(new CreateKeyCommand({ Description: 'another key' }))).KeyMetadata!.Arn!;
  await kms.send(new CreateAliasCommand({ AliasName: 'alias/client-test', TargetKeyId: keyArn }));
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  s3?.destroy();
  kms?.destroy();
  await moto?.stop();
});

describe.each(['v3', 'v2'] as const)('%s round trips', (formatVersion) => {
  let client: S3EncryptionClient;
  beforeAll(() => { client = new S3EncryptionClient({ s3, kms, kmsKeyId: keyArn, formatVersion }); });
  const ec = { tenant: 'acme', path: `round/${formatVersion}` };

  test.each([
    ['small', randomBytes(1000)],
    ['empty', Buffer.alloc(0)],
    ['multi-MiB', randomBytes(9 * MIB + 11)],
  ])('%s object', async (name, data) => {
    const Key = `${formatVersion}/${name}`;
    await client.putObject({ Bucket: BUCKET, Key, Body: data, encryptionContext: ec });
    const raw = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    const stored = Buffer.from(await raw.Body!.transformToByteArray());
    expect(stored.length).toBe(data.length + 16);
    if (data.length > 0) expect(stored.subarray(0, 64).equals(data.subarray(0, 64))).toBe(false);
    expect(Object.keys(raw.Metadata ?? {})).toEqual(expect.arrayContaining(formatVersion === 'v3' ? ['x-amz-c', 'x-amz-d', 'x-amz-i', 'x-amz-3', 'x-amz-t', 'x-amz-w'] : ['x-amz-key-v2', 'x-amz-iv', 'x-amz-cek-alg']));
    const out = await client.getObject({ Bucket: BUCKET, Key, encryptionContext: ec });
    expect(out.formatVersion).toBe(formatVersion);
    expect(out.ContentLength).toBe(data.length);
    expect((await bytes(out)).equals(data)).toBe(true);
  });

  test('multipart stream, read back buffered and spooled', async () => {
    const Key = `${formatVersion}/multipart`;
    const data = randomBytes(13 * MIB + 7);
    const up = await client.putObjectStream({ Bucket: BUCKET, Key, Body: ReadableFrom(data), partSize: 5 * MIB, encryptionContext: ec });
    expect(up.parts).toBe(3);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key }));
    expect(head.ContentLength).toBe(data.length + 16);
    expect((await bytes(await client.getObject({ Bucket: BUCKET, Key, encryptionContext: ec }))).equals(data)).toBe(true);
    const spooling = new S3EncryptionClient({ s3, kms, kmsKeyId: keyArn, formatVersion, maxBufferBytes: MIB });
    const out = await spooling.getObject({ Bucket: BUCKET, Key, encryptionContext: ec });
    expect(out.authenticated).toBe(true);
    expect((await bytes(out)).equals(data)).toBe(true);
    const refetching = new S3EncryptionClient({ s3, kms, kmsKeyId: keyArn, formatVersion, maxBufferBytes: MIB, largeObjects: 'refetch' });
    const again = await refetching.getObject({ Bucket: BUCKET, Key, encryptionContext: ec });
    expect((await bytes(again)).equals(data)).toBe(true);
  });

  test('instruction file mode', async () => {
    const writer = new S3EncryptionClient({ s3, kms, kmsKeyId: keyArn, formatVersion, instructionFile: true });
    const Key = `${formatVersion}/instr`;
    await writer.putObject({ Bucket: BUCKET, Key, Body: 'with instruction file', encryptionContext: ec });
    const instr = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${Key}.instruction` }));
    const content = JSON.parse(await instr.Body!.transformToString());
    expect(content).toHaveProperty(formatVersion === 'v3' ? 'x-amz-3' : 'x-amz-key-v2');
    // Any client reads it, instruction file or not.
    expect(await (await client.getObject({ Bucket: BUCKET, Key, encryptionContext: ec })).Body.transformToString()).toBe('with instruction file');
  });
});

function ReadableFrom(data: Buffer) {
  // Local helper so the stream has irregular chunk sizes like a real source.
  return (async function* () { for (const c of chunks(data, 700_001)) yield c; })();
}

describe('refusals through real KMS', () => {
  test('wrong encryption context: refused by the client before KMS', async () => {
    const client = new S3EncryptionClient({ s3, kms, kmsKeyId: keyArn });
    await client.putObject({ Bucket: BUCKET, Key: 'ctx', Body: 'ctx', encryptionContext: { tenant: 'a' } });
    const before = client.kmsCalls;
    await expect(client.getObject({ Bucket: BUCKET, Key: 'ctx', encryptionContext: { tenant: 'b' } })).rejects.toBeInstanceOf(EncryptionContextMismatchError);
    expect(client.kmsCalls).toBe(before);
  });

  test('wrong encryption context: refused by KMS when the stored context is rewritten', async () => {
    const client = new S3EncryptionClient({ s3, kms, kmsKeyId: keyArn });
    await client.putObject({ Bucket: BUCKET, Key: 'ctx-kms', Body: 'ctx', encryptionContext: { tenant: 'a' } });
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'ctx-kms' }));
    const metadata = { ...head.Metadata! };
    metadata['x-amz-t'] = metadata['x-amz-t'].replace('"tenant":"a"', '"tenant":"b"');
    await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'ctx-kms', CopySource: `${BUCKET}/ctx-kms`, Metadata: metadata, MetadataDirective: 'REPLACE' }));
    const err = await client.getObject({ Bucket: BUCKET, Key: 'ctx-kms', encryptionContext: { tenant: 'b' } }).catch((e) => e);
    expect(err).toBeInstanceOf(EncryptionContextMismatchError);
    expect(err.cause?.name).toBe('InvalidCiphertextException');
  });

  test('wrong KMS key', async () => {
    const writer = new S3EncryptionClient({ s3, kms, kmsKeyId: keyArn });
    await writer.putObject({ Bucket: BUCKET, Key: 'key', Body: 'k' });
    const reader = new S3EncryptionClient({ s3, kms, kmsKeyId: otherKeyArn });
    await expect(reader.getObject({ Bucket: BUCKET, Key: 'key' })).rejects.toBeInstanceOf(WrongKeyError);
    const viaAlias = new S3EncryptionClient({ s3, kms, kmsKeyId: 'alias/client-test' });
    expect(await (await viaAlias.getObject({ Bucket: BUCKET, Key: 'key' })).Body.transformToString()).toBe('k');
  });

  test('tampered body and plain objects', async () => {
    const client = new S3EncryptionClient({ s3, kms, kmsKeyId: keyArn });
    await client.putObject({ Bucket: BUCKET, Key: 'tamper', Body: randomBytes(4096) });
    const raw = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'tamper' }));
    const body = Buffer.from(await raw.Body!.transformToByteArray());
    body[2000] = (body[2000] + 1) % 256;
    // Written back with the plain S3 client, as an attacker with bucket access could.
    const plain = s3;
    await plain.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'tamper', Body: body, Metadata: raw.Metadata }));
    await expect(client.getObject({ Bucket: BUCKET, Key: 'tamper' })).rejects.toBeInstanceOf(TamperedObjectError);
    await plain.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'plain', Body: 'not encrypted' }));
    await expect(client.getObject({ Bucket: BUCKET, Key: 'plain' })).rejects.toBeInstanceOf(UnknownFormatError);
  });

  test('the cache cuts KMS calls against real KMS', async () => {
    const cached = new S3EncryptionClient({ s3, kms, kmsKeyId: keyArn, cache: { maxObjects: 50 } });
    for (let i = 0; i < 20; i++) await cached.putObject({ Bucket: BUCKET, Key: `c/${i}`, Body: `n${i}` });
    for (let i = 0; i < 20; i++) expect(await (await cached.getObject({ Bucket: BUCKET, Key: `c/${i}` })).Body.transformToString()).toBe(`n${i}`);
    expect(cached.kmsCalls).toBe(2);
  });
});
