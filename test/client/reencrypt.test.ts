/**
 * reencryptObject and reencryptPrefix: S3's UpdateObjectEncryption for one object or a prefix.
 *
 * No local server implements UpdateObjectEncryption (moto 5.2.5 lists update_object_encryption as
 * not implemented, MinIO has no such API), so the request is proved two ways: it conforms to the
 * AWS SDK's own model (UpdateObjectEncryptionRequest$ of @aws-sdk/client-s3), and the SDK itself
 * serializes it into the HTTP request of the API reference (API_UpdateObjectEncryption.html:
 * "PUT /{Key+}?encryption&versionId=VersionId" with an <ObjectEncryption><SSE-KMS> body). The
 * prefix runner is tested against an in-process S3 that keeps each object's encryption and refuses
 * what the S3 User Guide says S3 refuses.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import {
  HeadObjectCommand, ListObjectsV2Command, S3Client, S3ServiceException, UpdateObjectEncryptionCommand, UpdateObjectEncryptionRequest$,
} from '@aws-sdk/client-s3';
import {
  reencryptObject, ReencryptInterruptedError, reencryptPrefix, ReencryptProgress, ReencryptUnsupportedError,
} from '../../src/client/reencryption';
import { shapeErrors } from '../support/sdk-shape';

const NEW_KEY = 'arn:aws:kms:us-east-1:111111111111:key/11111111-2222-3333-4444-555555555555';
const OLD_KEY = 'arn:aws:kms:us-east-1:111111111111:key/aaaaaaaa-0000-0000-0000-000000000001';

interface Encryption { sse?: string; keyArn?: string; bucketKey: boolean; ssec?: boolean }

function s3Error(name: string, status: number, message: string): S3ServiceException {
  return new S3ServiceException({ name, $fault: status < 500 ? 'client' : 'server', $metadata: { httpStatusCode: status }, message });
}

/** An S3 that keeps each object's encryption, pages its listing, and refuses what S3 refuses. */
class EncryptionStateS3 {
  readonly objects = new Map<string, Encryption>();
  readonly updates: UpdateObjectEncryptionRequest[] = [];
  /** Keys whose update lands but whose answer is lost (a reset connection). */
  readonly loseAnswerFor = new Set<string>();
  /** Keys whose update fails with 503 Slow Down before anything changes. */
  readonly slowDownFor = new Set<string>();
  constructor(private readonly pageSize = 7) {}

  asClient(): S3Client { return this as unknown as S3Client; }

  async send(command: any): Promise<any> {
    const input = command.input;
    if (command instanceof ListObjectsV2Command) {
      const keys = [...this.objects.keys()].filter((k) => k.startsWith(input.Prefix ?? '')).sort();
      const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
      const page = keys.slice(start, start + this.pageSize);
      const next = start + this.pageSize;
      const truncated = next < keys.length;
      return { Contents: page.map((Key) => ({ Key })), IsTruncated: truncated, NextContinuationToken: truncated ? String(next) : undefined };
    }
    const object = this.objects.get(input.Key);
    if (!object) throw s3Error('NotFound', 404, 'Not Found');
    if (command instanceof HeadObjectCommand) {
      // ServerSideEncryptionCustomerMethods.html: an SSE-C object cannot be read without its key.
      if (object.ssec) throw s3Error('BadRequest', 400, 'Bad Request');
      return { ServerSideEncryption: object.sse, SSEKMSKeyId: object.keyArn, BucketKeyEnabled: object.bucketKey || undefined };
    }
    if (command instanceof UpdateObjectEncryptionCommand) {
      this.updates.push(input);
      if (this.slowDownFor.delete(input.Key)) throw s3Error('SlowDown', 503, 'Please reduce your request rate.');
      // update-sse-encryption.html: only SSE-S3 and SSE-KMS sources; the target is SSE-KMS.
      if (object.ssec || (object.sse !== 'AES256' && object.sse !== 'aws:kms')) throw s3Error('InvalidRequest', 400, 'unsupported source encryption');
      Object.assign(object, { sse: 'aws:kms', keyArn: input.ObjectEncryption.SSEKMS.KMSKeyArn, bucketKey: input.ObjectEncryption.SSEKMS.BucketKeyEnabled === true });
      if (this.loseAnswerFor.delete(input.Key)) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' });
      return {};
    }
    throw new Error(`unexpected ${command.constructor.name}`);
  }
}
type UpdateObjectEncryptionRequest = any;

describe('the UpdateObjectEncryption request', () => {
  test('conforms to the S3 model of @aws-sdk/client-s3, and the SDK serializes it as the API reference says', async () => {
    // The SDK's HttpRequest (method, hostname, path, query, headers, body), as the transport receives it.
    const captured: any[] = [];
    const s3 = new S3Client({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      requestHandler: {
        handle: async (request: any) => {
          captured.push(request);
          // HeadObject answers with the object's encryption: SSE-S3 today.
          const headers: Record<string, string> = request.method === 'HEAD' ? { 'x-amz-server-side-encryption': 'AES256' } : {};
          return { response: { statusCode: 200, headers, body: Readable.from([]) } };
        },
      } as any,
    });
    const sent: any[] = [];
    s3.middlewareStack.add((next) => async (args) => {
      sent.push(args.input);
      return next(args);
    }, { step: 'initialize', name: 'recordInput' });
    const result = await reencryptObject(s3, { Bucket: 'data-bucket', Key: 'reports/2019 q1.csv', VersionId: 'v1', KMSKeyArn: NEW_KEY, ExpectedBucketOwner: '111111111111' });
    expect(result).toEqual({ method: 'Updated', before: { sse: 'AES256', keyArn: undefined, bucketKey: false } });
    const update = sent[1];
    expect(shapeErrors(UpdateObjectEncryptionRequest$, update)).toEqual([]);
    expect(update.ObjectEncryption).toEqual({ SSEKMS: { KMSKeyArn: NEW_KEY, BucketKeyEnabled: true } });
    const put = captured[1];
    expect([put.method, put.path, put.query]).toEqual(['PUT', '/reports/2019%20q1.csv', { encryption: '', versionId: 'v1' }]);
    expect(put.hostname).toBe('data-bucket.s3.us-east-1.amazonaws.com');
    expect(put.headers['x-amz-expected-bucket-owner']).toBe('111111111111');
    const body = String(put.body);
    expect(body).toMatch(/^(<\?xml[^>]*\?>)?<ObjectEncryption xmlns="http:\/\/s3\.amazonaws\.com\/doc\/2006-03-01\/"><SSE-KMS>/);
    expect(body).toContain(`<KMSKeyArn>${NEW_KEY}</KMSKeyArn>`);
    expect(body).toContain('<BucketKeyEnabled>true</BucketKeyEnabled>');
    // The model marks a checksum as required for this request (requestChecksumRequired).
    expect(Object.keys(put.headers).some((h) => /^(content-md5|x-amz-checksum-)/i.test(h))).toBe(true);
  });

  test('an alias or a key id is refused before any request: S3 takes the full key ARN only', async () => {
    const s3 = new EncryptionStateS3();
    for (const bad of ['alias/data', 'arn:aws:kms:us-east-1:111111111111:alias/data', '11111111-2222-3333-4444-555555555555']) {
      await expect(reencryptObject(s3.asClient(), { Bucket: 'b', Key: 'k', KMSKeyArn: bad })).rejects.toThrow(
        `KMSKeyArn must be the full ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<id>), not an alias or key id; got '${bad}'.`);
    }
    expect(s3.updates).toEqual([]);
  });
});

describe('reencryptObject', () => {
  test.each([
    ['SSE-S3', { sse: 'AES256', bucketKey: false }],
    ['another KMS key', { sse: 'aws:kms', keyArn: OLD_KEY, bucketKey: true }],
    ['the same key without a Bucket Key', { sse: 'aws:kms', keyArn: NEW_KEY, bucketKey: false }],
  ])('%s is updated in place', async (_name, before) => {
    const s3 = new EncryptionStateS3();
    s3.objects.set('k', { ...before });
    const result = await reencryptObject(s3.asClient(), { Bucket: 'b', Key: 'k', KMSKeyArn: NEW_KEY });
    expect(result.method).toBe('Updated');
    expect(s3.objects.get('k')).toEqual({ sse: 'aws:kms', keyArn: NEW_KEY, bucketKey: true });
  });

  test('an object already under the key and Bucket Key setting is left alone', async () => {
    const s3 = new EncryptionStateS3();
    s3.objects.set('k', { sse: 'aws:kms', keyArn: NEW_KEY, bucketKey: true });
    expect((await reencryptObject(s3.asClient(), { Bucket: 'b', Key: 'k', KMSKeyArn: NEW_KEY })).method).toBe('AlreadyTargetKey');
    expect(s3.updates).toEqual([]);
  });

  test.each([
    ['unencrypted', { bucketKey: false }, 'it is not encrypted'],
    ['DSSE-KMS', { sse: 'aws:kms:dsse', keyArn: OLD_KEY, bucketKey: false }, 'it is encrypted with aws:kms:dsse, and only SSE-S3 and SSE-KMS objects are supported'],
    ['SSE-C', { ssec: true, bucketKey: false }, 'it cannot be read without a customer-provided key (SSE-C)'],
  ])('%s: refused with the reason, nothing sent', async (_name, before, reason) => {
    const s3 = new EncryptionStateS3();
    s3.objects.set('k', { ...before });
    const run = reencryptObject(s3.asClient(), { Bucket: 'b', Key: 'k', KMSKeyArn: NEW_KEY });
    await expect(run).rejects.toThrow(ReencryptUnsupportedError);
    await expect(reencryptObject(s3.asClient(), { Bucket: 'b', Key: 'k', KMSKeyArn: NEW_KEY })).rejects.toThrow(
      `s3 object 'k' cannot be updated in place: ${reason}. Copy it onto itself instead (ReencryptionOperation.COPY, or rekeyPrefix for SSE-C).`);
    expect(s3.updates).toEqual([]);
  });
});

describe('reencryptPrefix', () => {
  let dir: string;
  beforeEach(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reencrypt-')); });
  afterEach(async () => { await fs.rm(dir, { recursive: true, force: true }); });

  function bucketOf(n: number): EncryptionStateS3 {
    const s3 = new EncryptionStateS3();
    for (let i = 0; i < n; i++) s3.objects.set(`t/${String(i).padStart(3, '0')}`, i % 3 === 0 ? { sse: 'AES256', bucketKey: false } : { sse: 'aws:kms', keyArn: OLD_KEY, bucketKey: false });
    s3.objects.set('other/x', { sse: 'AES256', bucketKey: false });
    return s3;
  }

  test('a run that fails and loses answers resumes to completion: every object under the key, nothing twice, nothing outside the prefix', async () => {
    const s3 = bucketOf(40);
    s3.objects.set('t/plain', { bucketKey: false });
    s3.loseAnswerFor.add('t/005');
    s3.slowDownFor.add('t/011');
    const checkpointFile = path.join(dir, 'run.jsonl');
    const progress: ReencryptProgress[] = [];
    const first = await reencryptPrefix(s3.asClient(), { Bucket: 'b', Prefix: 't/', KMSKeyArn: NEW_KEY, checkpointFile, concurrency: 4, onProgress: (p) => progress.push(p) });
    expect(first).toMatchObject({ listed: 41, updated: 38, alreadyTargetKey: 1, failed: 2, skipped: 0, inFlight: 0 });
    expect(first.failures.map((f) => f.key).sort()).toEqual(['t/011', 't/plain']);
    expect(first.failures.find((f) => f.key === 't/011')!.error).toBe('SlowDown (HTTP 503): Please reduce your request rate.');
    expect(first.failures.find((f) => f.key === 't/plain')!.error).toMatch(/^ReencryptUnsupportedError: s3 object 't\/plain' cannot be updated in place: it is not encrypted/);
    expect(progress).toHaveLength(41);
    expect(progress.at(-1)).toMatchObject({ listed: 41, failed: 2 });

    s3.objects.delete('t/plain');
    const updatesBefore = s3.updates.length;
    const second = await reencryptPrefix(s3.asClient(), { Bucket: 'b', Prefix: 't/', KMSKeyArn: NEW_KEY, checkpointFile });
    expect(second).toMatchObject({ listed: 40, skipped: 39, updated: 1, failed: 0 });
    expect(s3.updates.slice(updatesBefore).map((u) => u.Key)).toEqual(['t/011']);
    for (const [key, e] of s3.objects) {
      if (key.startsWith('t/')) expect([key, e]).toEqual([key, { sse: 'aws:kms', keyArn: NEW_KEY, bucketKey: true }]);
    }
    expect(s3.objects.get('other/x')).toEqual({ sse: 'AES256', bucketKey: false });
  });

  test('an abort stops the run with its progress; a rerun finishes', async () => {
    const s3 = bucketOf(30);
    const checkpointFile = path.join(dir, 'run.jsonl');
    const controller = new AbortController();
    const run = reencryptPrefix(s3.asClient(), {
      Bucket: 'b',
      Prefix: 't/',
      KMSKeyArn: NEW_KEY,
      checkpointFile,
      concurrency: 1,
      abortSignal: controller.signal,
      onProgress: (p) => { if (p.updated === 10) controller.abort(); },
    });
    const err = await run.catch((e) => e);
    expect(err).toBeInstanceOf(ReencryptInterruptedError);
    expect(err.progress).toMatchObject({ updated: 10, failed: 0 });
    expect(err.message).toBe('Re-encryption was interrupted after 10 objects (0 failed, 0 done earlier); rerun with the same checkpointFile to finish.');
    const rest = await reencryptPrefix(s3.asClient(), { Bucket: 'b', Prefix: 't/', KMSKeyArn: NEW_KEY, checkpointFile });
    expect(rest).toMatchObject({ skipped: 10, updated: 20, failed: 0 });
  });

  test('bad options are refused before any request', async () => {
    const s3 = bucketOf(1);
    const checkpointFile = path.join(dir, 'run.jsonl');
    await expect(reencryptPrefix(s3.asClient(), { Bucket: 'b', Prefix: '', KMSKeyArn: NEW_KEY, checkpointFile, concurrency: 0 }))
      .rejects.toThrow('concurrency must be a whole number from 1 to 256, got 0.');
    await expect(reencryptPrefix(s3.asClient(), { Bucket: 'b', Prefix: '', KMSKeyArn: 'alias/x', checkpointFile })).rejects.toThrow(/KMSKeyArn must be the full ARN/);
    expect(s3.updates).toEqual([]);
  });
});
