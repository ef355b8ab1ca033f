/**
 * The client's ranged GETs, DeleteObjects and versioned deletes against a real S3 (moto on
 * 127.0.0.1, with KMS), where Range, Content-Range, versioning and delete markers behave as S3's.
 */
import { randomBytes } from 'node:crypto';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand, HeadObjectCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, S3Client,
} from '@aws-sdk/client-s3';
import { InvalidRequestError, S3EncryptionClient } from '../../src/client';
import { MotoServer, startMotoServer } from '../support/moto-server';

const BUCKET = 'client-spec';
const VERSIONED = 'client-spec-versioned';
let moto: MotoServer;
let s3: S3Client;
let kms: KMSClient;
let kmsKeyId: string;

async function bytes(out: { Body: AsyncIterable<Uint8Array> }): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of out.Body) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

async function exists(bucket: string, key: string): Promise<boolean> {
  return s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(() => true, () => false);
}

beforeAll(async () => {
  moto = await startMotoServer();
  const common = { endpoint: moto.endpoint, region: moto.region, credentials: moto.credentials };
  s3 = new S3Client({ ...common, forcePathStyle: true });
  kms = new KMSClient(common);
  kmsKeyId = (await kms.send(new CreateKeyCommand({ Description: 'client spec' }))).KeyMetadata!.Arn!;
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new CreateBucketCommand({ Bucket: VERSIONED }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: VERSIONED, VersioningConfiguration: { Status: 'Enabled' } }));
});

afterAll(async () => {
  s3?.destroy();
  kms?.destroy();
  await moto?.stop();
});

describe('ranged GET (legacy unauthenticated modes only)', () => {
  const plain = randomBytes(100_003);
  beforeAll(async () => {
    await new S3EncryptionClient({ s3, kms, kmsKeyId }).putObject({ Bucket: BUCKET, Key: 'v3.bin', Body: plain, encryptionContext: { t: 'a' } });
    await new S3EncryptionClient({ s3, kms, kmsKeyId, formatVersion: 'v2' }).putObject({ Bucket: BUCKET, Key: 'v2.bin', Body: plain });
    await new S3EncryptionClient({ s3, kms, kmsKeyId, instructionFile: true }).putObject({ Bucket: BUCKET, Key: 'v3-instr.bin', Body: plain });
  });

  test('refused without the opt-in, with what to do', async () => {
    const client = new S3EncryptionClient({ s3, kms, kmsKeyId });
    await expect(client.getObject({ Bucket: BUCKET, Key: 'v3.bin', Range: 'bytes=0-9', encryptionContext: { t: 'a' } })).rejects.toThrow(new InvalidRequestError(
      'A ranged GET cannot be authenticated (the tag covers the whole object), so the S3 Encryption Client format allows it only with legacy '
      + 'unauthenticated modes: create the client with enableLegacyUnauthenticatedModes: true to read a range, or fetch the whole object.'));
  });

  const ranges: [string, number, number][] = [
    ['bytes=0-0', 0, 0], ['bytes=0-15', 0, 15], ['bytes=15-16', 15, 16], ['bytes=17-4099', 17, 4099], ['bytes=65536-65551', 65536, 65551],
    ['bytes=99990-', 99990, 100_002], ['bytes=99990-200000', 99990, 100_002], ['bytes=100002-100002', 100_002, 100_002],
  ];
  test.each(['v3.bin', 'v2.bin', 'v3-instr.bin'])('%s: every range decrypts to the same bytes as the whole object, unauthenticated', async (key) => {
    const client = new S3EncryptionClient({ s3, kms, kmsKeyId, enableLegacyUnauthenticatedModes: true });
    const ec: Record<string, string> = key === 'v3.bin' ? { t: 'a' } : {};
    for (const [range, first, last] of ranges) {
      const out = await client.getObject({ Bucket: BUCKET, Key: key, Range: range, encryptionContext: ec });
      expect([range, out.authenticated, out.ContentLength, out.ContentRange]).toEqual([range, false, last - first + 1, `bytes ${first}-${last}/100003`]);
      expect([range, (await bytes(out)).equals(plain.subarray(first, last + 1))]).toEqual([range, true]);
    }
  });

  test('a wrong context, a range in the tag, and a suffix range are refused', async () => {
    const client = new S3EncryptionClient({ s3, kms, kmsKeyId, enableLegacyUnauthenticatedModes: true });
    await expect(client.getObject({ Bucket: BUCKET, Key: 'v3.bin', Range: 'bytes=0-9', encryptionContext: { t: 'b' } })).rejects.toThrow(/does not match/);
    await expect(client.getObject({ Bucket: BUCKET, Key: 'v3.bin', Range: 'bytes=100003-100010', encryptionContext: { t: 'a' } }))
      .rejects.toThrow('Range "bytes=100003-100010" starts at or after the end of the object\'s 100003 bytes of plaintext.');
    await expect(client.getObject({ Bucket: BUCKET, Key: 'v3.bin', Range: 'bytes=-10', encryptionContext: { t: 'a' } }))
      .rejects.toThrow('Range "bytes=-10" is not supported: give one range, bytes=first-last or bytes=first- (no suffix range, no list).');
  });
});

describe('deleteObjects and versioned deletes', () => {
  test('deleteObjects deletes each object and its instruction file, across S3\'s 1,000 keys per request', async () => {
    // A data-key cache: one KMS call for all 501 writes.
    const client = new S3EncryptionClient({ s3, kms, kmsKeyId, instructionFile: true, cache: true });
    const keys = Array.from({ length: 501 }, (_, i) => `many/${i}`);
    for (const Key of keys) await client.putObject({ Bucket: BUCKET, Key, Body: 'x' });
    expect(await exists(BUCKET, 'many/500.instruction')).toBe(true);
    const out = await client.deleteObjects({ Bucket: BUCKET, Delete: { Objects: keys.map((Key) => ({ Key })) } });
    expect((out.Deleted ?? []).map((d) => d.Key).sort()).toEqual([...keys].sort());
    expect(out.Errors).toBeUndefined();
    for (const key of ['many/0', 'many/0.instruction', 'many/500', 'many/500.instruction']) expect([key, await exists(BUCKET, key)]).toEqual([key, false]);
  });

  test('deleteObject and deleteObjects with a VersionId delete that version only: the current object keeps its instruction file and reads', async () => {
    const client = new S3EncryptionClient({ s3, kms, kmsKeyId, instructionFile: true });
    const first = await client.putObject({ Bucket: VERSIONED, Key: 'doc', Body: 'first' });
    await client.putObject({ Bucket: VERSIONED, Key: 'doc', Body: 'second' });
    await client.deleteObject({ Bucket: VERSIONED, Key: 'doc', VersionId: first.VersionId });
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: VERSIONED, Prefix: 'doc' }));
    expect(listed.DeleteMarkers ?? []).toEqual([]);
    expect(await (await client.getObject({ Bucket: VERSIONED, Key: 'doc' })).Body.transformToString()).toBe('second');

    const third = await client.putObject({ Bucket: VERSIONED, Key: 'doc', Body: 'third' });
    const second = (listed.Versions ?? []).find((v) => v.Key === 'doc' && v.IsLatest)!.VersionId;
    await client.deleteObjects({ Bucket: VERSIONED, Delete: { Objects: [{ Key: 'doc', VersionId: second }] } });
    expect((await s3.send(new ListObjectVersionsCommand({ Bucket: VERSIONED, Prefix: 'doc' }))).DeleteMarkers ?? []).toEqual([]);
    expect(third.VersionId).toBeDefined();
    expect(await (await client.getObject({ Bucket: VERSIONED, Key: 'doc' })).Body.transformToString()).toBe('third');

    // Without a version, both get a delete marker: the object is gone, and so is its instruction file.
    await client.deleteObject({ Bucket: VERSIONED, Key: 'doc' });
    const markers = (await s3.send(new ListObjectVersionsCommand({ Bucket: VERSIONED, Prefix: 'doc' }))).DeleteMarkers ?? [];
    expect(markers.map((m) => m.Key).sort()).toEqual(['doc', 'doc.instruction']);
  });
});
