import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { inspect } from 'node:util';
import { CopyObjectCommand, GetObjectCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import {
  InvalidSseCustomerKeyError,
  SseCustomerInsecureEndpointError,
  SseCustomerKey,
  SseCustomerKeyError,
} from '../../src/client/sse-c';

// 0x00..0x1f; base64 and MD5 computed independently (Python hashlib) so the test does not re-derive them the same way.
const VECTOR_BYTES = Uint8Array.from({ length: 32 }, (_, i) => i);
const VECTOR_BASE64 = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
const VECTOR_MD5 = 'tP/LI3N87DFaSk0aoqYgzg==';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('key import and validation', () => {
  test('fromBytes and fromBase64 of the same key agree, with the known MD5', () => {
    const a = SseCustomerKey.fromBytes(VECTOR_BYTES);
    const b = SseCustomerKey.fromBase64(VECTOR_BASE64);
    expect(a.fingerprint).toBe(VECTOR_MD5);
    expect(b.fingerprint).toBe(VECTOR_MD5);
    expect(a.exportBase64()).toBe(VECTOR_BASE64);
    expect(a.equals(b)).toBe(true);
  });

  test('request and copy-source parameters carry algorithm, base64 key and MD5 of the raw bytes', () => {
    const key = SseCustomerKey.fromBytes(VECTOR_BYTES);
    expect(key.requestParams()).toEqual({
      SSECustomerAlgorithm: 'AES256', SSECustomerKey: VECTOR_BASE64, SSECustomerKeyMD5: VECTOR_MD5,
    });
    expect(key.copySourceParams()).toEqual({
      CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: VECTOR_BASE64, CopySourceSSECustomerKeyMD5: VECTOR_MD5,
    });
  });

  test('generate() makes distinct 32-byte keys whose fingerprint is the MD5 of the bytes', () => {
    const a = SseCustomerKey.generate();
    const b = SseCustomerKey.generate();
    const raw = Buffer.from(a.exportBase64(), 'base64');
    expect(raw).toHaveLength(32);
    expect(a.fingerprint).toBe(createHash('md5').update(raw).digest('base64'));
    expect(a.equals(b)).toBe(false);
    expect(a.exportBase64()).not.toBe(b.exportBase64());
  });

  test.each([0, 16, 31, 33, 64])('fromBytes refuses %i bytes, naming the length it got and the 32 it needs', (n) => {
    const err = thrown(() => SseCustomerKey.fromBytes(new Uint8Array(n)));
    expect(err).toBeInstanceOf(InvalidSseCustomerKeyError);
    expect(err).toBeInstanceOf(SseCustomerKeyError);
    expect(err).toMatchObject({ code: 'InvalidKeyLength', actualBytes: n, expectedBytes: 32 });
    expect((err as Error).message).toContain(`got ${n} bytes`);
    expect((err as Error).message).toContain('exactly 32 bytes');
  });

  test.each([31, 33])('fromBase64 of %i valid bytes is a length error', (n) => {
    const err = thrown(() => SseCustomerKey.fromBase64(Buffer.alloc(n, 7).toString('base64')));
    expect(err).toMatchObject({ code: 'InvalidKeyLength', actualBytes: n });
  });

  test.each([
    ['not base64 at all', 'this is not a key!'],
    ['missing padding', VECTOR_BASE64.slice(0, -1)],
    ['base64url alphabet', `-_${VECTOR_BASE64.slice(2)}`],
    ['embedded whitespace', `${VECTOR_BASE64.slice(0, 20)} ${VECTOR_BASE64.slice(20)}`],
    ['junk after the padding', `${VECTOR_BASE64}AA`],
    ['empty', ''],
  ])('fromBase64 refuses %s without echoing the input', (_name, input) => {
    const err = thrown(() => SseCustomerKey.fromBase64(input));
    expect(err).toBeInstanceOf(InvalidSseCustomerKeyError);
    expect(err).toMatchObject({ code: expect.stringMatching(/^InvalidKey(Encoding|Length)$/) });
    if (input.length > 8) expect((err as Error).message).not.toContain(input.slice(0, 8));
  });

  test('surrounding whitespace (a trailing newline from a file) is accepted', () => {
    expect(SseCustomerKey.fromBase64(`${VECTOR_BASE64}\n`).fingerprint).toBe(VECTOR_MD5);
  });

  test('fromBytes copies its input, so later changes to the caller buffer do not change the key', () => {
    const bytes = Uint8Array.from(VECTOR_BYTES);
    const key = SseCustomerKey.fromBytes(bytes);
    bytes.fill(0xff);
    expect(key.exportBase64()).toBe(VECTOR_BASE64);
  });

  test('non-byte input is a typed error, not a crash', () => {
    expect(thrown(() => SseCustomerKey.fromBytes('x'.repeat(32) as unknown as Uint8Array))).toMatchObject({ code: 'InvalidKeyEncoding' });
    expect(thrown(() => SseCustomerKey.fromBase64(undefined as unknown as string))).toMatchObject({ code: 'InvalidKeyEncoding' });
  });
});

describe('hex and secret strings', () => {
  const hex = Buffer.from(VECTOR_BYTES).toString('hex');

  test('fromHex reads 64 hex digits, either case', () => {
    expect(SseCustomerKey.fromHex(hex).fingerprint).toBe(VECTOR_MD5);
    expect(SseCustomerKey.fromHex(hex.toUpperCase()).fingerprint).toBe(VECTOR_MD5);
  });

  test.each([
    ['62 digits', hex.slice(2), 'InvalidKeyLength'],
    ['66 digits', `${hex}00`, 'InvalidKeyLength'],
    ['odd length', hex.slice(1), 'InvalidKeyEncoding'],
    ['non-hex digit', `${hex.slice(0, 63)}g`, 'InvalidKeyEncoding'],
  ])('fromHex refuses %s', (_name, input, code) => {
    const err = thrown(() => SseCustomerKey.fromHex(input));
    expect(err).toMatchObject({ code });
    expect((err as Error).message).not.toContain(input.slice(0, 16));
  });

  test('fromSecretString reads the JSON that SseCustomerKeySecret stores, in hex or base64, and bare base64', () => {
    expect(SseCustomerKey.fromSecretString(JSON.stringify({ algorithm: 'AES256', encoding: 'hex', key: hex })).fingerprint).toBe(VECTOR_MD5);
    expect(SseCustomerKey.fromSecretString(JSON.stringify({ algorithm: 'AES256', encoding: 'base64', key: VECTOR_BASE64 })).fingerprint).toBe(VECTOR_MD5);
    expect(SseCustomerKey.fromSecretString(JSON.stringify({ key: VECTOR_BASE64 })).fingerprint).toBe(VECTOR_MD5);
    expect(SseCustomerKey.fromSecretString(`${VECTOR_BASE64}\n`).fingerprint).toBe(VECTOR_MD5);
  });

  test.each([
    ['broken JSON', `{"key":"${hex}"`],
    ['no key field', JSON.stringify({ algorithm: 'AES256', encoding: 'hex' })],
    ['another algorithm', JSON.stringify({ algorithm: 'AES128', encoding: 'hex', key: hex })],
    ['unknown encoding', JSON.stringify({ encoding: 'base32', key: hex })],
  ])('fromSecretString refuses %s without echoing the key', (_name, input) => {
    const err = thrown(() => SseCustomerKey.fromSecretString(input));
    expect(err).toMatchObject({ code: 'InvalidKeyEncoding' });
    expect((err as Error).message).not.toContain(hex.slice(0, 16));
  });
});

describe('the key material never leaks into text', () => {
  const key = SseCustomerKey.fromBytes(VECTOR_BYTES);
  const secretForms = [VECTOR_BASE64, Buffer.from(VECTOR_BYTES).toString('hex'), VECTOR_BASE64.slice(0, 16)];

  test.each([
    ['toString', () => key.toString()],
    ['template literal', () => `${key}`],
    ['JSON.stringify', () => JSON.stringify({ key })],
    ['util.inspect', () => inspect(key, { showHidden: true, depth: 10 })],
    ['util.inspect of a holder', () => inspect({ nested: [key] }, { depth: 10 })],
    ['Object.keys/values', () => JSON.stringify(Object.entries(key))],
  ])('%s shows only the fingerprint', (_name, render) => {
    const text = render();
    for (const form of secretForms) expect(text).not.toContain(form);
    expect(text).toContain(VECTOR_MD5);
  });

  test('the instance is frozen', () => {
    expect(Object.isFrozen(key)).toBe(true);
  });
});

describe('HTTPS only', () => {
  const credentials = { accessKeyId: 'x', secretAccessKey: 'y' };

  async function countingServer(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
    let n = 0;
    const server = net.createServer((socket) => { n++; socket.destroy(); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as net.AddressInfo).port,
      connections: () => n,
      close: () => new Promise((r) => server.close(() => r())),
    };
  }

  test('requireHttps refuses a configured http:// endpoint and names it', async () => {
    const s3 = new S3Client({ region: 'us-east-1', endpoint: 'http://10.0.0.1:9000', credentials });
    const err = await SseCustomerKey.requireHttps(s3).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SseCustomerInsecureEndpointError);
    expect(err).toMatchObject({ code: 'InsecureEndpoint', endpoint: 'http://10.0.0.1:9000' });
    expect((err as Error).message).toMatch(/plain HTTP/);
  });

  test('requireHttps accepts an https:// endpoint and the default AWS endpoint', async () => {
    await expect(SseCustomerKey.requireHttps(new S3Client({ region: 'us-east-1', endpoint: 'https://s3.example.com', credentials }))).resolves.toBeUndefined();
    await expect(SseCustomerKey.requireHttps(new S3Client({ region: 'us-east-1', credentials }))).resolves.toBeUndefined();
  });

  test('requireHttps refuses an http:// endpoint set through AWS_ENDPOINT_URL_S3', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_S3;
    process.env.AWS_ENDPOINT_URL_S3 = 'http://127.0.0.1:4566';
    try {
      const s3 = new S3Client({ region: 'us-east-1', credentials });
      await expect(SseCustomerKey.requireHttps(s3)).rejects.toBeInstanceOf(SseCustomerInsecureEndpointError);
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_S3;
      else process.env.AWS_ENDPOINT_URL_S3 = saved;
    }
  });

  test('the per-request guard stops a key-bearing request that resolves to http:// before it connects, and lets others through', async () => {
    const server = await countingServer();
    const s3 = new S3Client({ region: 'us-east-1', endpoint: 'https://s3.example.com', credentials, forcePathStyle: true, maxAttempts: 1 });
    await SseCustomerKey.requireHttps(s3);
    await SseCustomerKey.requireHttps(s3); // idempotent: adding the guard twice must not throw
    // Stand-in for an endpoint that only resolves to plain HTTP at request time.
    s3.middlewareStack.add((next) => async (args) => {
      const req = args.request as { protocol: string; hostname: string; port?: number; headers: Record<string, string> };
      req.protocol = 'http:';
      req.hostname = '127.0.0.1';
      req.port = server.port;
      req.headers.host = `127.0.0.1:${server.port}`;
      return next(args);
    }, { step: 'build', name: 'downgradeForTest' });
    const key = SseCustomerKey.generate();
    try {
      const err = await s3.send(new GetObjectCommand({ Bucket: 'b-b-b', Key: 'k', ...key.requestParams() })).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(SseCustomerInsecureEndpointError);
      expect((err as Error).message).not.toContain(key.exportBase64());
      // Only the copy-source key: the guard must see that header too.
      const copyErr = await s3.send(new CopyObjectCommand({ Bucket: 'b-b-b', Key: 'k2', CopySource: 'b-b-b/k', ...key.copySourceParams() })).then(() => undefined, (e: unknown) => e);
      expect(copyErr).toBeInstanceOf(SseCustomerInsecureEndpointError);
      expect(server.connections()).toBe(0);
      // A request without a customer key is none of the guard's business.
      const other = await s3.send(new ListBucketsCommand({})).then(() => undefined, (e: unknown) => e);
      expect(other).not.toBeInstanceOf(SseCustomerKeyError);
      expect(server.connections()).toBe(1);
    } finally {
      s3.destroy();
      await server.close();
    }
  });
});

describe('rekeyObject option validation happens before any request', () => {
  const s3 = new S3Client({ region: 'us-east-1', endpoint: 'https://127.0.0.1:1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  const key = SseCustomerKey.generate();
  afterAll(() => s3.destroy());

  test.each([
    [{ multipartThresholdBytes: 6 * 1024 ** 3 }, /multipartThresholdBytes must be between 0 and 5368709120/],
    [{ multipartThresholdBytes: -1 }, /multipartThresholdBytes/],
    [{ partSizeBytes: 1024 * 1024 }, /partSizeBytes must be between 5242880 \(5 MiB\)/],
    [{ concurrency: 0 }, /concurrency must be a positive integer, got 0/],
    [{ newKey: 'not-a-key' }, /newKey must be an SseCustomerKey/],
  ])('%p', async (bad, message) => {
    const options = { Bucket: 'b', Key: 'k', newKey: SseCustomerKey.generate(), ...bad } as Parameters<SseCustomerKey['rekeyObject']>[1];
    const err = await key.rekeyObject(s3, options).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SseCustomerKeyError);
    expect(err).toMatchObject({ code: 'InvalidOption' });
    expect((err as Error).message).toMatch(message);
  });
});

describe('re-keying very large objects', () => {
  test('above 10,000 default parts the part size grows so the copy stays within S3\'s part limit', async () => {
    const TIB = 1024 ** 4;
    const size = 6 * TIB + 12345;
    const s3 = new S3Client({ region: 'us-east-1', endpoint: 'https://s3.example.com', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const ranges: [number, number, number][] = [];
    const calls: string[] = [];
    // Answers every command before it is serialized or sent: only the client's requests are under test.
    s3.middlewareStack.add((_next, context) => async (args: any) => {
      calls.push(context.commandName as string);
      switch (context.commandName) {
        case 'HeadObjectCommand': return { output: { ContentLength: size, ETag: '"src"', $metadata: {} }, response: {} };
        case 'GetObjectTaggingCommand': return { output: { TagSet: [], $metadata: {} }, response: {} };
        case 'CreateMultipartUploadCommand': return { output: { UploadId: 'u1', $metadata: {} }, response: {} };
        case 'UploadPartCopyCommand': {
          const m = /^bytes=(\d+)-(\d+)$/.exec(args.input.CopySourceRange)!;
          ranges.push([args.input.PartNumber, Number(m[1]), Number(m[2])]);
          expect(args.input.CopySourceIfMatch).toBe('"src"');
          return { output: { CopyPartResult: { ETag: `"p${args.input.PartNumber}"` }, $metadata: {} }, response: {} };
        }
        case 'CompleteMultipartUploadCommand':
          expect(args.input.MultipartUpload.Parts).toHaveLength(ranges.length);
          return { output: { ETag: '"done"', $metadata: {} }, response: {} };
        default: throw new Error(`unexpected ${context.commandName}`);
      }
    }, { step: 'initialize', name: 'answerLocally' });
    const oldKey = SseCustomerKey.generate();
    const result = await oldKey.rekeyObject(s3, { Bucket: 'b', Key: 'huge', newKey: SseCustomerKey.generate(), concurrency: 8 });
    expect(result).toMatchObject({ method: 'UploadPartCopy', sizeBytes: size, ETag: '"done"' });
    expect(result.parts).toBeLessThanOrEqual(10_000);
    expect(result.parts).toBe(ranges.length);
    ranges.sort((a, b) => a[0] - b[0]);
    let next = 0;
    ranges.forEach(([n, start, end], i) => {
      expect([n, start]).toEqual([i + 1, next]);
      const length = end - start + 1;
      if (i < ranges.length - 1) expect(length).toBeGreaterThanOrEqual(512 * 1024 ** 2);
      expect(length).toBeLessThanOrEqual(5 * 1024 ** 3);
      next = end + 1;
    });
    expect(next).toBe(size);
    expect(calls.filter((c) => c === 'AbortMultipartUploadCommand')).toHaveLength(0);
  });
});
