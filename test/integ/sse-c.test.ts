/**
 * SSE-C against a real server that enforces it (MinIO over TLS on 127.0.0.1).
 */
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { SseCustomerInsecureEndpointError, SseCustomerKey } from '../../src/client/sse-c';
import { MinioServer, minioS3Client, startMinio } from '../support/minio-server';

const BUCKET = 'sse-c-integ';
let minio: MinioServer;
let s3: S3Client;

beforeAll(async () => {
  minio = await startMinio();
  s3 = minioS3Client(minio);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  s3?.destroy();
  await minio?.stop();
});

/** The S3 error a request failed with, or a test failure if it did not fail. */
async function s3Error(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (e) {
    if (e instanceof S3ServiceException) return e;
    throw e;
  }
  throw new Error('expected the request to be refused, but it succeeded');
}

async function readWith(key: SseCustomerKey, objectKey: string): Promise<Buffer> {
  const out = await key.getObject(s3, { Bucket: BUCKET, Key: objectKey });
  return Buffer.from(await out.Body!.transformToByteArray());
}

describe('SSE-C round trip', () => {
  const key = SseCustomerKey.generate();
  const body = randomBytes(256 * 1024 + 7);

  beforeAll(async () => {
    await key.putObject(s3, { Bucket: BUCKET, Key: 'roundtrip.bin', Body: body, ContentType: 'application/x-test', Metadata: { owner: 'team-a' } });
  });

  test('GET with the key returns the exact bytes, and S3 echoes the key fingerprint', async () => {
    const out = await key.getObject(s3, { Bucket: BUCKET, Key: 'roundtrip.bin' });
    expect(out.SSECustomerAlgorithm).toBe('AES256');
    expect(out.SSECustomerKeyMD5).toBe(key.fingerprint);
    expect(Buffer.from(await out.Body!.transformToByteArray()).equals(body)).toBe(true);
  });

  test('the same key imported from its base64 reads the object', async () => {
    const again = SseCustomerKey.fromBase64(key.exportBase64());
    expect((await readWith(again, 'roundtrip.bin')).equals(body)).toBe(true);
  });

  test('GET without the key is refused', async () => {
    const err = await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'roundtrip.bin' })));
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(err.name).toBe('InvalidRequest');
  });

  test('GET with the wrong key is refused', async () => {
    const err = await s3Error(SseCustomerKey.generate().getObject(s3, { Bucket: BUCKET, Key: 'roundtrip.bin' }));
    expect(err.$metadata.httpStatusCode).toBe(403);
  });

  test('HEAD with the key returns size, type and metadata; without it, it is refused', async () => {
    const head = await key.headObject(s3, { Bucket: BUCKET, Key: 'roundtrip.bin' });
    expect(head.ContentLength).toBe(body.length);
    expect(head.ContentType).toBe('application/x-test');
    expect(head.Metadata).toEqual({ owner: 'team-a' });
    expect(head.SSECustomerKeyMD5).toBe(key.fingerprint);
    const err = await s3Error(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'roundtrip.bin' })));
    expect(err.$metadata.httpStatusCode).toBe(400);
  });

  test('the parameters work with plain SDK commands too', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'plain-sdk.txt', Body: 'hello', ...key.requestParams() }));
    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'plain-sdk.txt', ...key.requestParams() }));
    expect(await out.Body!.transformToString()).toBe('hello');
  });
});

describe('re-keying', () => {
  async function putTagged(key: SseCustomerKey, objectKey: string, body: Buffer): Promise<void> {
    await key.putObject(s3, {
      Bucket: BUCKET,
      Key: objectKey,
      Body: body,
      ContentType: 'application/x-archive',
      CacheControl: 'max-age=60',
      ContentDisposition: 'attachment; filename="a.bin"',
      Metadata: { 'project': 'rekey', 'x-original': 'yes' },
      Tagging: 'classification=secret&team=data',
    });
  }

  async function expectRekeyed(oldKey: SseCustomerKey, newKey: SseCustomerKey, objectKey: string, body: Buffer): Promise<void> {
    const refused = await s3Error(oldKey.getObject(s3, { Bucket: BUCKET, Key: objectKey }));
    expect(refused.$metadata.httpStatusCode).toBe(403);
    const out = await newKey.getObject(s3, { Bucket: BUCKET, Key: objectKey });
    expect(out.SSECustomerKeyMD5).toBe(newKey.fingerprint);
    expect(out.ContentType).toBe('application/x-archive');
    expect(out.CacheControl).toBe('max-age=60');
    expect(out.ContentDisposition).toBe('attachment; filename="a.bin"');
    expect(out.Metadata).toEqual({ 'project': 'rekey', 'x-original': 'yes' });
    expect(Buffer.from(await out.Body!.transformToByteArray()).equals(body)).toBe(true);
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: objectKey }));
    expect(tags.TagSet).toEqual(expect.arrayContaining([{ Key: 'classification', Value: 'secret' }, { Key: 'team', Value: 'data' }]));
    expect(tags.TagSet).toHaveLength(2);
  }

  test('CopyObject path: old key refused after, new key reads the same bytes, metadata and tags', async () => {
    const oldKey = SseCustomerKey.generate();
    const newKey = SseCustomerKey.generate();
    const body = randomBytes(1024 * 1024 + 3);
    await putTagged(oldKey, 'dir/rekey small.bin', body);
    const result = await oldKey.rekeyObject(s3, { Bucket: BUCKET, Key: 'dir/rekey small.bin', newKey });
    expect(result).toMatchObject({ method: 'CopyObject', parts: 1, sizeBytes: body.length });
    await expectRekeyed(oldKey, newKey, 'dir/rekey small.bin', body);
  });

  test('multipart path (UploadPartCopy) with a lowered threshold', async () => {
    const oldKey = SseCustomerKey.generate();
    const newKey = SseCustomerKey.generate();
    const body = randomBytes(12 * 1024 * 1024 + 11);
    await putTagged(oldKey, 'rekey-multipart.bin', body);
    const result = await oldKey.rekeyObject(s3, {
      Bucket: BUCKET,
      Key: 'rekey-multipart.bin',
      newKey,
      multipartThresholdBytes: 1024 * 1024,
      partSizeBytes: 5 * 1024 * 1024,
      concurrency: 2,
    });
    expect(result).toMatchObject({ method: 'UploadPartCopy', parts: 3, sizeBytes: body.length });
    await expectRekeyed(oldKey, newKey, 'rekey-multipart.bin', body);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    expect(uploads.Uploads ?? []).toHaveLength(0);
  });

  test('re-keying with the wrong current key fails and leaves the object readable with its key', async () => {
    const key = SseCustomerKey.generate();
    const body = randomBytes(1000);
    await key.putObject(s3, { Bucket: BUCKET, Key: 'rekey-wrong.bin', Body: body });
    const err = await s3Error(SseCustomerKey.generate().rekeyObject(s3, { Bucket: BUCKET, Key: 'rekey-wrong.bin', newKey: SseCustomerKey.generate() }));
    expect(err.$metadata.httpStatusCode).toBe(403);
    expect((await readWith(key, 'rekey-wrong.bin')).equals(body)).toBe(true);
  });

  test.each([
    ['CopyObject', undefined],
    ['UploadPartCopy', 0],
  ])('a write that lands between the HEAD and the %s makes the re-key fail instead of reverting it', async (_path, threshold) => {
    const key = SseCustomerKey.generate();
    const objectKey = `rekey-race-${threshold ?? 'copy'}.bin`;
    const first = randomBytes(6 * 1024 * 1024);
    const second = randomBytes(6 * 1024 * 1024);
    await key.putObject(s3, { Bucket: BUCKET, Key: objectKey, Body: first });
    const origSend = s3.send.bind(s3) as (c: unknown, o?: unknown) => Promise<unknown>;
    let raced = false;
    const spy = jest.spyOn(s3, 'send').mockImplementation((async (cmd: { constructor: { name: string } }, opts?: unknown) => {
      const out = await origSend(cmd, opts);
      // Another writer replaces the object right after the re-key read its ETag.
      if (cmd.constructor.name === 'HeadObjectCommand' && !raced) {
        raced = true;
        await origSend(new PutObjectCommand({ Bucket: BUCKET, Key: objectKey, Body: second, ...key.requestParams() }));
      }
      return out;
    }) as unknown as typeof s3.send);
    let err: S3ServiceException;
    try {
      err = await s3Error(key.rekeyObject(s3, {
        Bucket: BUCKET, Key: objectKey, newKey: SseCustomerKey.generate(), multipartThresholdBytes: threshold, partSizeBytes: 5 * 1024 * 1024,
      }));
    } finally {
      spy.mockRestore();
    }
    expect(raced).toBe(true);
    expect(err.$metadata.httpStatusCode).toBe(412);
    expect((await readWith(key, objectKey)).equals(second)).toBe(true);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: objectKey }));
    expect(uploads.Uploads ?? []).toHaveLength(0);
  });

  test('a failed multipart re-key aborts its upload and leaves the object under the old key', async () => {
    const key = SseCustomerKey.generate();
    const body = randomBytes(6 * 1024 * 1024);
    await key.putObject(s3, { Bucket: BUCKET, Key: 'rekey-abort.bin', Body: body });
    const controller = new AbortController();
    // Cancelling after the upload is created exercises the abort-on-failure path.
    const origSend = s3.send.bind(s3);
    const spy = jest.spyOn(s3, 'send').mockImplementation(((cmd: { constructor: { name: string } }, opts?: unknown) => {
      if (cmd.constructor.name === 'UploadPartCopyCommand') controller.abort();
      return (origSend as (c: unknown, o?: unknown) => Promise<unknown>)(cmd, opts);
    }) as unknown as typeof s3.send);
    try {
      await expect(key.rekeyObject(s3, {
        Bucket: BUCKET,
        Key: 'rekey-abort.bin',
        newKey: SseCustomerKey.generate(),
        multipartThresholdBytes: 0,
        partSizeBytes: 5 * 1024 * 1024,
        abortSignal: controller.signal,
      })).rejects.toThrow();
    } finally {
      spy.mockRestore();
    }
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'rekey-abort.bin' }));
    expect(uploads.Uploads ?? []).toHaveLength(0);
    expect((await readWith(key, 'rekey-abort.bin')).equals(body)).toBe(true);
  });
});

describe('plain HTTP', () => {
  test('an http:// endpoint is refused before any byte is sent', async () => {
    let connections = 0;
    const server = net.createServer((socket) => { connections++; socket.destroy(); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const insecure = new S3Client({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      maxAttempts: 1,
    });
    const key = SseCustomerKey.generate();
    try {
      for (const attempt of [
        key.putObject(insecure, { Bucket: BUCKET, Key: 'k', Body: 'secret' }),
        key.getObject(insecure, { Bucket: BUCKET, Key: 'k' }),
        key.headObject(insecure, { Bucket: BUCKET, Key: 'k' }),
        key.rekeyObject(insecure, { Bucket: BUCKET, Key: 'k', newKey: SseCustomerKey.generate() }),
        SseCustomerKey.requireHttps(insecure),
      ]) {
        const err = await attempt.then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(SseCustomerInsecureEndpointError);
        expect((err as Error).message).toContain(`http://127.0.0.1:${port}`);
        expect((err as Error).message).not.toContain(key.exportBase64());
      }
      expect(connections).toBe(0);
    } finally {
      insecure.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
