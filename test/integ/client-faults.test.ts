/**
 * The encryption client under network and service faults: a fault-injecting proxy on 127.0.0.1
 * (test/support/fault-proxy.ts) sits between the SDK clients and a real local server (moto for S3
 * and KMS; MinIO over TLS for SSE-C), and the tests assert what the caller gets: which layer
 * retries and how often (bounded by the SDK clients' maxAttempts), which error arrives and what it
 * says, that no unverified plaintext is released by the authenticated read modes, that a failed
 * multipart upload is aborted, and that rekeyPrefix resumes from its checkpoint after faults.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  AbortMultipartUploadCommand, CreateBucketCommand, HeadObjectCommand, ListMultipartUploadsCommand, S3Client, S3ServiceException,
} from '@aws-sdk/client-s3';
import { GetObjectOutput, S3EncryptionClient, S3EncryptionClientError } from '../../src/client';
import { VERIFY_SEGMENT } from '../../src/client/body';
import { RekeyCheckpointRecord, rekeyPrefix } from '../../src/client/reencryption';
import { SseCustomerKey } from '../../src/client/sse-c';
import { FaultProxy, FaultRule, startFaultProxy } from '../support/fault-proxy';
import { minioS3Client, MinioServer, startMinio } from '../support/minio-server';
import { MotoServer, startMotoServer } from '../support/moto-server';

const MIB = 1024 * 1024;
const BUCKET = 'client-faults';
/** The SDK clients' own retry budget: every S3 or KMS call is tried at most this many times. */
const MAX_ATTEMPTS = 3;
/** Idle-socket limit of the SDK clients: what bounds a stalled response body. */
const SOCKET_TIMEOUT_MS = 2_000;
/** Generous bound for "fails within the timeout" (not a timing test). */
const STALL_BOUND_MS = 20_000;

const SMALL_KEY = 'objects/small.bin';
const LARGE_KEY = 'objects/large.bin';
const small = randomBytes(64 * 1024 + 3);
const large = randomBytes(9 * MIB + 5);

let moto: MotoServer;
let proxy: FaultProxy;
/** Clients straight to moto, for setup and for checking what the server holds. */
let s3Direct: S3Client;
let kmsDirect: KMSClient;
let keyArn: string;
let spoolDir: string;
const opened: { destroy(): void }[] = [];

function objectPath(s: string): RegExp {
  return new RegExp(`^/${BUCKET}/${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}

/** SDK clients through the proxy, new for each test (a fresh retry budget), configured as a user would. */
function proxiedClients(requestHandler: Record<string, unknown> = { socketTimeout: SOCKET_TIMEOUT_MS }): { s3: S3Client; kms: KMSClient } {
  const common = { endpoint: proxy.endpoint, region: moto.region, credentials: moto.credentials, maxAttempts: MAX_ATTEMPTS, requestHandler };
  const s3 = new S3Client({ ...common, forcePathStyle: true });
  const kms = new KMSClient(common);
  opened.push(s3, kms);
  return { s3, kms };
}

type ClientOptions = Partial<ConstructorParameters<typeof S3EncryptionClient>[0]>;

function encryptionClient(options: ClientOptions = {}, requestHandler?: Record<string, unknown>): S3EncryptionClient {
  return new S3EncryptionClient({ ...proxiedClients(requestHandler), kmsKeyId: keyArn, ...options });
}

interface ReadOutcome {
  /** Plaintext bytes the consumer received before the error. */
  readonly data: Buffer;
  readonly error?: any;
  /** Where it failed: in getObject (no Body was handed out) or while reading the Body. */
  readonly phase?: 'getObject' | 'body';
  readonly elapsedMs: number;
}

/** Calls getObject and reads its Body to the end (starting `readDelayMs` after it resolved), counting what arrived. */
async function readObject(get: () => Promise<GetObjectOutput>, readDelayMs = 0): Promise<ReadOutcome> {
  const started = Date.now();
  let out: GetObjectOutput;
  try {
    out = await get();
  } catch (error) {
    return { data: Buffer.alloc(0), error, phase: 'getObject', elapsedMs: Date.now() - started };
  }
  if (readDelayMs > 0) await new Promise((r) => setTimeout(r, readDelayMs));
  const chunks: Buffer[] = [];
  try {
    for await (const c of out.Body) chunks.push(Buffer.from(c));
  } catch (error) {
    return { data: Buffer.concat(chunks), error, phase: 'body', elapsedMs: Date.now() - started };
  }
  return { data: Buffer.concat(chunks), elapsedMs: Date.now() - started };
}

async function headStatus(s3: S3Client, Key: string): Promise<number> {
  try {
    return (await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key }))).$metadata.httpStatusCode ?? 0;
  } catch (e) {
    if (e instanceof S3ServiceException) return e.$metadata.httpStatusCode ?? 0;
    throw e;
  }
}

function spoolFiles(): string[] {
  return readdirSync(spoolDir);
}

beforeAll(async () => {
  moto = await startMotoServer();
  proxy = await startFaultProxy({ upstream: moto.endpoint });
  const common = { endpoint: moto.endpoint, region: moto.region, credentials: moto.credentials };
  s3Direct = new S3Client({ ...common, forcePathStyle: true });
  kmsDirect = new KMSClient(common);
  keyArn = (await kmsDirect.send(new CreateKeyCommand({ Description: 'client faults' }))).KeyMetadata!.Arn!;
  await s3Direct.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const writer = new S3EncryptionClient({ s3: s3Direct, kms: kmsDirect, kmsKeyId: keyArn });
  await writer.putObject({ Bucket: BUCKET, Key: SMALL_KEY, Body: small });
  await writer.putObject({ Bucket: BUCKET, Key: LARGE_KEY, Body: large });
  spoolDir = mkdtempSync(path.join(os.tmpdir(), 'client-faults-spool-'));
});

afterEach(() => {
  proxy?.clearRules();
  proxy?.releaseStalled();
  for (const c of opened.splice(0)) c.destroy();
});

afterAll(async () => {
  s3Direct?.destroy();
  kmsDirect?.destroy();
  await proxy?.stop();
  await moto?.stop();
  if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
});

describe('S3 503 SlowDown on PutObject', () => {
  test('once: the S3 client retries and the object reads back', async () => {
    const Key = 'slowdown/once.bin';
    const rule = proxy.addRule({ method: 'PUT', path: objectPath(Key), count: 1, fault: { type: 's3-slowdown' } });
    const client = encryptionClient();
    const data = randomBytes(10_000);
    const out = await client.putObject({ Bucket: BUCKET, Key, Body: data });
    expect(out.$metadata.attempts).toBe(2);
    expect(rule.applied).toBe(1);
    expect(proxy.count({ method: 'PUT', path: objectPath(Key) })).toBe(2);
    // One data key: the encryption client itself does not redo the operation.
    expect(client.kmsCalls).toBe(1);
    const reader = new S3EncryptionClient({ s3: s3Direct, kms: kmsDirect, kmsKeyId: keyArn });
    const back = await readObject(() => reader.getObject({ Bucket: BUCKET, Key }));
    expect(back.error).toBeUndefined();
    expect(back.data.equals(data)).toBe(true);
  });

  test('on every attempt: SlowDown reaches the caller after exactly maxAttempts tries, nothing is stored', async () => {
    const Key = 'slowdown/always.bin';
    const rule = proxy.addRule({ method: 'PUT', path: objectPath(Key), count: 10, fault: { type: 's3-slowdown' } });
    const client = encryptionClient();
    const err = await client.putObject({ Bucket: BUCKET, Key, Body: randomBytes(10_000) }).catch((e) => e);
    expect(err).toBeInstanceOf(S3ServiceException);
    expect(err).not.toBeInstanceOf(S3EncryptionClientError);
    expect(err.name).toBe('SlowDown');
    expect(err.message).toBe('Please reduce your request rate.');
    expect(err.$metadata).toMatchObject({ httpStatusCode: 503, attempts: MAX_ATTEMPTS });
    expect(proxy.count({ method: 'PUT', path: objectPath(Key) })).toBe(MAX_ATTEMPTS);
    expect(rule.applied).toBe(MAX_ATTEMPTS);
    expect(rule.remaining).toBe(10 - MAX_ATTEMPTS);
    expect(client.kmsCalls).toBe(1);
    expect(await headStatus(s3Direct, Key)).toBe(404);
  });
});

describe('KMS ThrottlingException on GenerateDataKey', () => {
  const target = 'TrentService.GenerateDataKey';

  test('once: the KMS client retries and the object is written and reads back', async () => {
    const Key = 'throttle/once.bin';
    const before = proxy.count({ target });
    const rule = proxy.addRule({ method: 'POST', target, count: 1, fault: { type: 'kms-throttling' } });
    const client = encryptionClient();
    const data = randomBytes(5_000);
    await client.putObject({ Bucket: BUCKET, Key, Body: data });
    expect(rule.applied).toBe(1);
    expect(proxy.count({ target }) - before).toBe(2);
    expect(client.kmsCalls).toBe(1);
    const back = await readObject(() => client.getObject({ Bucket: BUCKET, Key }));
    expect(back.data.equals(data)).toBe(true);
  });

  test('on every attempt: ThrottlingException reaches the caller after maxAttempts tries and nothing is written to S3', async () => {
    const Key = 'throttle/always.bin';
    const before = proxy.count({ target });
    const rule = proxy.addRule({ method: 'POST', target, count: 10, fault: { type: 'kms-throttling' } });
    const client = encryptionClient();
    const err = await client.putObject({ Bucket: BUCKET, Key, Body: 'never stored' }).catch((e) => e);
    expect(err).not.toBeInstanceOf(S3EncryptionClientError);
    expect(err.name).toBe('ThrottlingException');
    expect(err.message).toBe('Rate exceeded');
    expect(err.$metadata).toMatchObject({ httpStatusCode: 400, attempts: MAX_ATTEMPTS });
    expect(proxy.count({ target }) - before).toBe(MAX_ATTEMPTS);
    expect(rule.applied).toBe(MAX_ATTEMPTS);
    expect(proxy.count({ path: objectPath(Key) })).toBe(0);
    expect(await headStatus(s3Direct, Key)).toBe(404);
  });
});

describe('GetObject body cut by a connection reset or a truncated body', () => {
  const modes = [
    { mode: 'buffered', Key: SMALL_KEY, afterBytes: 20_000, options: {} },
    { mode: 'spool', Key: LARGE_KEY, afterBytes: 3 * MIB, options: { maxBufferBytes: MIB, largeObjects: 'spool' as const } },
    { mode: 'refetch', Key: LARGE_KEY, afterBytes: 3 * MIB, options: { maxBufferBytes: MIB, largeObjects: 'refetch' as const } },
  ];
  const cases = modes.flatMap((m) => (['reset-body', 'truncate-body'] as const).map((type) => ({ ...m, type })));

  test.each(cases)('$mode read, $type while the body is read: the network error reaches the caller, no plaintext, nobody retries', async ({ Key, afterBytes, options, type }) => {
    // The cut comes 300 ms after `afterBytes`, when the client is reading the body (its KMS call is done).
    const rule = proxy.addRule({ method: 'GET', path: objectPath(Key), count: 1, fault: { type, afterBytes, delayMs: 300 } });
    const gets = proxy.count({ method: 'GET', path: objectPath(Key) });
    const client = encryptionClient({ ...options, tempDir: spoolDir });
    const out = await readObject(() => client.getObject({ Bucket: BUCKET, Key }));
    expect(rule.applied).toBe(1);
    // Node's network error, passed through the SDK and the client untouched: the connection was cut mid-body.
    expect(out.error?.name).toBe('Error');
    expect(out.error).not.toBeInstanceOf(S3EncryptionClientError);
    expect(out.error.code).toBe('ECONNRESET');
    expect(out.error.message).toBe('aborted');
    // Verification had not finished, so getObject rejected and no Body (no byte) was handed out.
    expect(out.phase).toBe('getObject');
    expect(out.data.length).toBe(0);
    // A body failure is retried neither by the SDK (the response had started) nor by the encryption client.
    expect(proxy.count({ method: 'GET', path: objectPath(Key) }) - gets).toBe(1);
    expect(spoolFiles()).toEqual([]);
  });

  test.each(modes)('$mode read, reset while the client waits for KMS Decrypt: getObject rejects and no error escapes uncaught', async ({ Key, options }) => {
    // KMS answers 500 ms late; the GET body is cut meanwhile, before the client starts reading it. The cut
    // comes after 8 KiB, less than the stream buffers, so the socket is still read and sees the reset at once.
    proxy.addRule({ method: 'POST', target: 'TrentService.Decrypt', count: 1, fault: { type: 'delay', ms: 500 } });
    const rule = proxy.addRule({ method: 'GET', path: objectPath(Key), count: 1, fault: { type: 'reset-body', afterBytes: 8 * 1024 } });
    const client = encryptionClient({ ...options, tempDir: spoolDir });
    // Jest fails this test if the response stream's 'error' event is emitted with no listener (an uncaught exception).
    const out = await readObject(() => client.getObject({ Bucket: BUCKET, Key }));
    expect(rule.applied).toBe(1);
    expect(out.error?.code).toBe('ECONNRESET');
    expect(out.phase).toBe('getObject');
    expect(out.data.length).toBe(0);
    expect(spoolFiles()).toEqual([]);
  });

  test('after a cut the object is intact: the caller reads it again', async () => {
    const client = encryptionClient({ maxBufferBytes: MIB, tempDir: spoolDir });
    const out = await readObject(() => client.getObject({ Bucket: BUCKET, Key: LARGE_KEY }));
    expect(out.error).toBeUndefined();
    expect(out.data.equals(large)).toBe(true);
  });

  test('refetch, cut in the second (decrypting) download: only whole verified segments were released before the error', async () => {
    const rule = proxy.addRule({ method: 'GET', path: objectPath(LARGE_KEY), skip: 1, count: 1, fault: { type: 'reset-body', afterBytes: 6 * MIB, delayMs: 300 } });
    const first = proxy.requests.length;
    const client = encryptionClient({ maxBufferBytes: MIB, largeObjects: 'refetch' });
    const out = await readObject(() => client.getObject({ Bucket: BUCKET, Key: LARGE_KEY }));
    expect(rule.applied).toBe(1);
    expect(out.phase).toBe('body');
    expect(out.error.code).toBe('ECONNRESET');
    expect(out.data.length).toBe(VERIFY_SEGMENT);
    expect(out.data.equals(large.subarray(0, VERIFY_SEGMENT))).toBe(true);
    const gets = proxy.requests.slice(first).filter((r) => r.method === 'GET');
    expect(gets).toHaveLength(2);
    // The second download is pinned to the verified object.
    const etag = (await s3Direct.send(new HeadObjectCommand({ Bucket: BUCKET, Key: LARGE_KEY }))).ETag;
    expect(gets[0].headers['if-match']).toBeUndefined();
    expect(gets[1].headers['if-match']).toBe(etag);
  });

  test('refetch, second download cut before the consumer starts reading: the Body errors, no error escapes uncaught', async () => {
    const rule = proxy.addRule({ method: 'GET', path: objectPath(LARGE_KEY), skip: 1, count: 1, fault: { type: 'reset-body', afterBytes: 8 * 1024 } });
    const client = encryptionClient({ maxBufferBytes: MIB, largeObjects: 'refetch' });
    // The consumer starts reading 500 ms after getObject resolved, as a caller that does other work first.
    const out = await readObject(() => client.getObject({ Bucket: BUCKET, Key: LARGE_KEY }), 500);
    expect(rule.applied).toBe(1);
    expect(out.phase).toBe('body');
    expect(out.error?.code).toBe('ECONNRESET');
    expect(out.data.length).toBe(0);
  });

  test.each(['reset-body', 'truncate-body'] as const)(
    'allowUnauthenticatedStreaming, %s: the error says how many unverified bytes were released, and that is what the consumer got',
    async (type) => {
      proxy.addRule({ method: 'GET', path: objectPath(LARGE_KEY), count: 1, fault: { type, afterBytes: 3 * MIB, delayMs: 300 } });
      const client = encryptionClient();
      const out = await readObject(() => client.getObject({ Bucket: BUCKET, Key: LARGE_KEY, allowUnauthenticatedStreaming: true }));
      expect(out.phase).toBe('body');
      expect(out.data.length).toBeGreaterThan(0);
      expect(out.data.equals(large.subarray(0, out.data.length))).toBe(true);
      const released = /after (\d+) bytes of unverified plaintext were released/.exec(String(out.error?.message));
      expect(released).not.toBeNull();
      expect(Number(released![1])).toBe(out.data.length);
    });
});

describe('stalled GetObject body', () => {
  test.each([
    { mode: 'buffered', Key: SMALL_KEY, afterBytes: 20_000, options: {} },
    { mode: 'spool', Key: LARGE_KEY, afterBytes: 3 * MIB, options: { maxBufferBytes: MIB } },
  ])('$mode read: fails with the SDK TimeoutError once the socket is idle for socketTimeout, no plaintext released', async ({ Key, afterBytes, options }) => {
    const rule = proxy.addRule({ method: 'GET', path: objectPath(Key), count: 1, fault: { type: 'stall-body', afterBytes } });
    const client = encryptionClient({ ...options, tempDir: spoolDir });
    const out = await readObject(() => client.getObject({ Bucket: BUCKET, Key }));
    expect(rule.applied).toBe(1);
    expect(out.error?.name).toBe('TimeoutError');
    expect(out.error.message).toMatch(new RegExp(`timed out after ${SOCKET_TIMEOUT_MS} ms of inactivity`));
    expect(out.phase).toBe('getObject');
    expect(out.data.length).toBe(0);
    expect(out.elapsedMs).toBeGreaterThanOrEqual(SOCKET_TIMEOUT_MS - 100);
    expect(out.elapsedMs).toBeLessThan(STALL_BOUND_MS);
    expect(spoolFiles()).toEqual([]);
  });

  test('allowUnauthenticatedStreaming: the timeout error says how many unverified bytes were released', async () => {
    proxy.addRule({ method: 'GET', path: objectPath(LARGE_KEY), count: 1, fault: { type: 'stall-body', afterBytes: 3 * MIB } });
    const client = encryptionClient();
    const out = await readObject(() => client.getObject({ Bucket: BUCKET, Key: LARGE_KEY, allowUnauthenticatedStreaming: true }));
    expect(out.elapsedMs).toBeLessThan(STALL_BOUND_MS);
    expect(out.phase).toBe('body');
    expect(out.data.length).toBeGreaterThan(0);
    const released = /after (\d+) bytes of unverified plaintext were released/.exec(String(out.error?.message));
    expect(released).not.toBeNull();
    expect(Number(released![1])).toBe(out.data.length);
  });

  test('requestTimeout alone does not bound a stalled body: only socketTimeout does', async () => {
    proxy.addRule({ method: 'GET', path: objectPath(SMALL_KEY), count: 1, fault: { type: 'stall-body', afterBytes: 20_000 } });
    const client = encryptionClient({}, { requestTimeout: 1_000, throwOnRequestTimeout: true });
    let settled = false;
    const pending = readObject(() => client.getObject({ Bucket: BUCKET, Key: SMALL_KEY })).finally(() => { settled = true; });
    await new Promise((r) => setTimeout(r, 3_000));
    // The SDK clears requestTimeout once the response head has arrived.
    expect(settled).toBe(false);
    expect(proxy.releaseStalled()).toBe(1);
    const out = await pending;
    expect(out.error?.code).toBe('ECONNRESET');
    expect(out.data.length).toBe(0);
  });
});

describe('multipart upload with UploadPart of part 2 failing on every attempt', () => {
  test('putObjectStream rejects with SlowDown, aborts the upload, and leaves no object', async () => {
    const Key = 'multipart/part2-fails.bin';
    const rule = proxy.addRule({ method: 'PUT', path: objectPath(Key), query: { partNumber: '2', uploadId: true }, count: 10, fault: { type: 's3-slowdown' } });
    const client = encryptionClient();
    const data = randomBytes(16 * MIB);
    const source = (async function* () { for (let i = 0; i < data.length; i += MIB) yield data.subarray(i, i + MIB); })();
    const err = await client.putObjectStream({ Bucket: BUCKET, Key, Body: source, partSize: 5 * MIB }).catch((e) => e);
    expect(err.name).toBe('SlowDown');
    expect(err.$metadata).toMatchObject({ httpStatusCode: 503, attempts: MAX_ATTEMPTS });
    expect(rule.applied).toBe(MAX_ATTEMPTS);
    expect(proxy.count({ method: 'PUT', path: objectPath(Key), query: { partNumber: '2' } })).toBe(MAX_ATTEMPTS);
    expect(proxy.count({ method: 'POST', path: objectPath(Key), query: { uploads: true } })).toBe(1);
    // Never completed; aborted once, and S3 accepted the abort.
    expect(proxy.count({ method: 'POST', path: objectPath(Key), query: { uploadId: true } })).toBe(0);
    const aborts = proxy.requests.filter((r) => r.method === 'DELETE' && objectPath(Key).test(r.path) && new URLSearchParams(r.query).has('uploadId'));
    expect(aborts.map((r) => r.status)).toEqual([204]);
    const open = await s3Direct.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: Key }));
    expect(open.Uploads ?? []).toEqual([]);
    expect(await headStatus(s3Direct, Key)).toBe(404);
  });

  test('when the abort fails too, the caller is told which upload was left open', async () => {
    const Key = 'multipart/abort-fails.bin';
    proxy.addRule({ method: 'PUT', path: objectPath(Key), query: { partNumber: '2', uploadId: true }, count: 10, fault: { type: 's3-slowdown' } });
    const abortRule = proxy.addRule({ method: 'DELETE', path: objectPath(Key), query: { uploadId: true }, count: 10, fault: { type: 's3-slowdown' } });
    const client = encryptionClient();
    const err = await client.putObjectStream({ Bucket: BUCKET, Key, Body: randomBytes(11 * MIB), partSize: 5 * MIB }).catch((e) => e);
    expect(abortRule.applied).toBe(MAX_ATTEMPTS);
    const open = (await s3Direct.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: Key }))).Uploads ?? [];
    try {
      expect(open).toHaveLength(1);
      // The upload is billed until someone aborts it: the error must name it (message, a property or its cause).
      const said = [err?.message, err?.cause?.message, ...Object.values(err ?? {}).filter((v) => typeof v === 'string')].join(' ');
      expect(said).toContain(open[0].UploadId);
    } finally {
      for (const u of open) await s3Direct.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: u.Key, UploadId: u.UploadId }));
    }
  });
});

describe('rekeyPrefix under faults (MinIO over TLS, through a TLS-terminating proxy)', () => {
  const SSE_BUCKET = 'rekey-faults';
  const COUNT = 24;
  const keyOf = (i: number) => `faults/obj-${String(i).padStart(2, '0')}.bin`;
  let minio: MinioServer;
  let tlsProxy: FaultProxy;
  let direct: S3Client;
  let viaProxy: S3Client;
  let dir: string;
  const oldKey = SseCustomerKey.generate();
  const newKey = SseCustomerKey.generate();
  const bodies = new Map<string, Buffer>();

  beforeAll(async () => {
    minio = await startMinio();
    tlsProxy = await startFaultProxy({ upstream: minio.endpoint, upstreamCa: minio.caCert, tls: true });
    direct = minioS3Client(minio, 8);
    viaProxy = new S3Client({
      endpoint: tlsProxy.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey },
      maxAttempts: MAX_ATTEMPTS,
      requestHandler: { httpsAgent: new https.Agent({ ca: tlsProxy.caCert, keepAlive: true, maxSockets: 8 }), socketTimeout: SOCKET_TIMEOUT_MS },
    });
    dir = mkdtempSync(path.join(os.tmpdir(), 'rekey-faults-'));
    await direct.send(new CreateBucketCommand({ Bucket: SSE_BUCKET }));
    for (let i = 0; i < COUNT; i++) bodies.set(keyOf(i), randomBytes(100 + i * 1_013));
    await Promise.all([...bodies].map(([Key, Body]) => oldKey.putObject(direct, { Bucket: SSE_BUCKET, Key, Body })));
  });

  afterAll(async () => {
    viaProxy?.destroy();
    direct?.destroy();
    await tlsProxy?.stop();
    await minio?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const copyOf = (i: number, rest: Omit<FaultRule, 'method' | 'path' | 'headers'>): FaultRule => ({
    method: 'PUT', path: new RegExp(`^/${SSE_BUCKET}/${keyOf(i).replace('.', '\\.')}$`), headers: { 'x-amz-copy-source': true }, ...rest,
  });
  const countCopies = (i: number) => tlsProxy.count({ method: 'PUT', path: new RegExp(`/${keyOf(i).replace('.', '\\.')}$`), headers: { 'x-amz-copy-source': true } });
  const countHeads = (i: number) => tlsProxy.count({ method: 'HEAD', path: new RegExp(`/${keyOf(i).replace('.', '\\.')}$`) });

  test('faults fail some objects in the first run; a second run with the same checkpoint finishes; every object reads with the new key', async () => {
    const checkpointFile = path.join(dir, 'rekey.jsonl');
    // The first listing is throttled once: the SDK retries it.
    const list = tlsProxy.addRule({ method: 'GET', path: new RegExp(`^/${SSE_BUCKET}/?$`), query: { 'list-type': '2' }, count: 1, fault: { type: 's3-slowdown' } });
    // Objects 3 and 7: CopyObject throttled on every attempt.
    const slow = [3, 7].map((i) => tlsProxy.addRule(copyOf(i, { count: 100, fault: { type: 's3-slowdown' } })));
    // Object 11: the copy lands, its answer is lost; the SDK's retry is refused (the source is no longer under the old key).
    const lost = tlsProxy.addRule(copyOf(11, { count: 1, fault: { type: 'drop-response' } }));
    // Object 15: every HEAD loses its connection (both rekeyObject's and the recovery check's).
    const heads = tlsProxy.addRule({ method: 'HEAD', path: new RegExp(`/${keyOf(15).replace('.', '\\.')}$`), count: 100, fault: { type: 'drop-response' } });
    // Object 19: one throttled copy, retried by the SDK within the run.
    const once = tlsProxy.addRule(copyOf(19, { count: 1, fault: { type: 's3-slowdown' } }));

    const first = await rekeyPrefix(viaProxy, { Bucket: SSE_BUCKET, Prefix: 'faults/', oldKey, newKey, checkpointFile, concurrency: 4 });
    expect(list.applied).toBe(1);
    expect(slow.map((r) => r.applied)).toEqual([MAX_ATTEMPTS, MAX_ATTEMPTS]);
    expect([countCopies(3), countCopies(7)]).toEqual([MAX_ATTEMPTS, MAX_ATTEMPTS]);
    expect(lost.applied).toBe(1);
    expect(countCopies(11)).toBe(2);
    expect(heads.applied).toBe(2 * MAX_ATTEMPTS);
    expect(countHeads(15)).toBe(2 * MAX_ATTEMPTS);
    expect(countCopies(15)).toBe(0);
    expect(once.applied).toBe(1);
    expect(countCopies(19)).toBe(2);

    expect(first).toMatchObject({ listed: COUNT, rekeyed: COUNT - 4, alreadyNewKey: 1, failed: 3, skipped: 0, inFlight: 0 });
    const failures = new Map(first.failures.map((f) => [f.key, f.error]));
    expect([...failures.keys()].sort()).toEqual([keyOf(3), keyOf(7), keyOf(15)]);
    expect(failures.get(keyOf(3))).toMatch(/^SlowDown \(HTTP 503\): Please reduce your request rate\./);
    expect(failures.get(keyOf(7))).toMatch(/^SlowDown \(HTTP 503\)/);
    expect(failures.get(keyOf(15))).toMatch(/socket hang up/);
    // The failed ones are untouched: still under the old key, same bytes.
    for (const i of [3, 7, 15]) {
      const out = await oldKey.getObject(direct, { Bucket: SSE_BUCKET, Key: keyOf(i) });
      expect(Buffer.from(await out.Body!.transformToByteArray()).equals(bodies.get(keyOf(i))!)).toBe(true);
    }

    tlsProxy.clearRules();
    const second = await rekeyPrefix(viaProxy, { Bucket: SSE_BUCKET, Prefix: 'faults/', oldKey, newKey, checkpointFile, concurrency: 4 });
    expect(second).toEqual({ listed: COUNT, rekeyed: 3, skipped: COUNT - 3, alreadyNewKey: 0, failed: 0, inFlight: 0, failures: [] });

    const records: RekeyCheckpointRecord[] = readFileSync(checkpointFile, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    const last = new Map(records.map((r) => [r.key, r]));
    expect(last.size).toBe(COUNT);
    expect([...last.values()].every((r) => r.status === 'done')).toBe(true);
    expect(last.get(keyOf(11))?.how).toBe('AlreadyNewKey');

    const problems: string[] = [];
    for (const [Key, body] of bodies) {
      const out = await newKey.getObject(direct, { Bucket: SSE_BUCKET, Key });
      if (!Buffer.from(await out.Body!.transformToByteArray()).equals(body)) problems.push(`${Key}: bytes differ`);
      if (out.SSECustomerKeyMD5 !== newKey.fingerprint) problems.push(`${Key}: not under the new key`);
      const oldStatus = await oldKey.headObject(direct, { Bucket: SSE_BUCKET, Key }).then(() => 200, (e) => e.$metadata?.httpStatusCode ?? 0);
      if (oldStatus < 400) problems.push(`${Key}: the old key still reads it`);
    }
    expect(problems).toEqual([]);
  });
});
