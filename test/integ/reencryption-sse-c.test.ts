/**
 * rekeyPrefix against a real server that enforces SSE-C (MinIO over TLS on 127.0.0.1): a few
 * hundred objects, a run interrupted by failures partway (one of them after the copy succeeded),
 * then resumed from the checkpoint.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CopyObjectCommand, CreateBucketCommand, GetObjectTaggingCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { rekeyPrefix, RekeyCheckpointRecord, RekeyInterruptedError, RekeyProgress } from '../../src/client/reencryption';
import { SseCustomerKey } from '../../src/client/sse-c';
import { minioS3Client, MinioServer, startMinio } from '../support/minio-server';

const BUCKET = 'rekey-prefix-integ';
const COUNT = 300;
const FAIL_AFTER = 120;
let minio: MinioServer;
let s3: S3Client;
let dir: string;

interface Original {
  key: string;
  body: Buffer;
  metadata: Record<string, string>;
  contentType: string;
  tagged: boolean;
}

beforeAll(async () => {
  minio = await startMinio();
  s3 = minioS3Client(minio, 16);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  dir = mkdtempSync(path.join(os.tmpdir(), 'rekey-prefix-'));
});

afterAll(async () => {
  s3?.destroy();
  await minio?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The same client, but CopyObject fails after `copiesBeforeFailure` copies; the first failure happens after the copy succeeded. */
function failingAfter(client: S3Client, copiesBeforeFailure: number): S3Client {
  let copies = 0;
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return async (command: any, options?: any) => {
        if (command instanceof CopyObjectCommand) {
          const n = ++copies;
          if (n === copiesBeforeFailure + 1) {
            // The copy reaches the server but its answer is lost, as when the process dies right after.
            await target.send(command, options);
            throw new Error('connection reset after the copy was sent');
          }
          if (n > copiesBeforeFailure + 1) throw new Error('network unreachable');
        }
        return target.send(command, options);
      };
    },
  });
}

function checkpointLines(file: string): RekeyCheckpointRecord[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

async function refusedStatus(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
  } catch (e) {
    if (e instanceof S3ServiceException) return e.$metadata.httpStatusCode;
    throw e;
  }
  return undefined;
}

describe('rekeyPrefix over a few hundred SSE-C objects', () => {
  const oldKey = SseCustomerKey.generate();
  const newKey = SseCustomerKey.generate();
  const originals: Original[] = [];
  let checkpoint: string;

  beforeAll(async () => {
    checkpoint = path.join(dir, 'rekey.jsonl');
    for (let i = 0; i < COUNT; i++) {
      originals.push({
        key: `tenant-a/${String(i).padStart(4, '0')}${i % 7 === 0 ? ' with space+plus' : ''}.bin`,
        body: randomBytes(64 + (i % 50) * 97),
        metadata: { index: String(i), owner: i % 2 ? 'odd' : 'even' },
        contentType: i % 3 ? 'application/octet-stream' : 'text/plain',
        tagged: i % 5 === 0,
      });
    }
    // An object outside the prefix must not be touched.
    await oldKey.putObject(s3, { Bucket: BUCKET, Key: 'tenant-b/keep.bin', Body: 'other tenant' });
    const queue = [...originals];
    await Promise.all(Array.from({ length: 16 }, async () => {
      for (let o = queue.shift(); o; o = queue.shift()) {
        await oldKey.putObject(s3, {
          Bucket: BUCKET,
          Key: o.key,
          Body: o.body,
          Metadata: o.metadata,
          ContentType: o.contentType,
          Tagging: o.tagged ? 'classification=secret&index=' + o.metadata.index : undefined,
        });
      }
    }));
  });

  test('a run interrupted by failures, then resumed: nothing lost, nothing left under the old key', async () => {
    const progress: RekeyProgress[] = [];
    const first = await rekeyPrefix(failingAfter(s3, FAIL_AFTER), {
      Bucket: BUCKET, Prefix: 'tenant-a/', oldKey, newKey, checkpointFile: checkpoint, concurrency: 8, onProgress: (p) => progress.push(p),
    });
    expect(first.listed).toBe(COUNT);
    expect(first.rekeyed).toBe(FAIL_AFTER);
    expect(first.alreadyNewKey).toBe(1);
    expect(first.failed).toBe(COUNT - FAIL_AFTER - 1);
    expect(first.failures.every((f) => /network unreachable/.test(f.error))).toBe(true);
    expect(progress).toHaveLength(COUNT);
    expect(Math.max(...progress.map((p) => p.inFlight))).toBeLessThanOrEqual(8);
    expect(progress[progress.length - 1]).toMatchObject({ listed: COUNT, rekeyed: FAIL_AFTER, failed: COUNT - FAIL_AFTER - 1 });

    const second = await rekeyPrefix(s3, { Bucket: BUCKET, Prefix: 'tenant-a/', oldKey, newKey, checkpointFile: checkpoint, concurrency: 8 });
    expect(second).toEqual({
      listed: COUNT, rekeyed: COUNT - FAIL_AFTER - 1, skipped: FAIL_AFTER + 1, alreadyNewKey: 0, failed: 0, inFlight: 0, failures: [],
    });

    // A third run finds everything done and copies nothing.
    const third = await rekeyPrefix(s3, { Bucket: BUCKET, Prefix: 'tenant-a/', oldKey, newKey, checkpointFile: checkpoint });
    expect(third).toMatchObject({ listed: COUNT, rekeyed: 0, skipped: COUNT, failed: 0 });

    const records = checkpointLines(checkpoint);
    const lastStatus = new Map(records.map((r) => [r.key, r.status]));
    expect(lastStatus.size).toBe(COUNT);
    expect([...lastStatus.values()].every((s) => s === 'done')).toBe(true);
    expect(records.filter((r) => r.how === 'AlreadyNewKey')).toHaveLength(1);
  });

  test('every object reads with the new key, same bytes, metadata, content type and tags; the old key is refused', async () => {
    const queue = [...originals];
    const problems: string[] = [];
    await Promise.all(Array.from({ length: 16 }, async () => {
      for (let o = queue.shift(); o; o = queue.shift()) {
        const out = await newKey.getObject(s3, { Bucket: BUCKET, Key: o.key });
        const body = Buffer.from(await out.Body!.transformToByteArray());
        if (!body.equals(o.body)) problems.push(`${o.key}: bytes differ`);
        if (out.SSECustomerKeyMD5 !== newKey.fingerprint) problems.push(`${o.key}: not under the new key`);
        if (JSON.stringify(out.Metadata) !== JSON.stringify(o.metadata)) problems.push(`${o.key}: metadata ${JSON.stringify(out.Metadata)}`);
        if (out.ContentType !== o.contentType) problems.push(`${o.key}: content type ${out.ContentType}`);
        const status = await refusedStatus(oldKey.headObject(s3, { Bucket: BUCKET, Key: o.key }));
        if (status === undefined || status < 400) problems.push(`${o.key}: the old key still reads it`);
        const tags = (await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: o.key }))).TagSet ?? [];
        const expected = o.tagged ? [{ Key: 'classification', Value: 'secret' }, { Key: 'index', Value: o.metadata.index }] : [];
        const sorted = [...tags].sort((a, b) => String(a.Key).localeCompare(String(b.Key)));
        if (JSON.stringify(sorted) !== JSON.stringify(expected)) problems.push(`${o.key}: tags ${JSON.stringify(tags)}`);
      }
    }));
    expect(problems).toEqual([]);
  });

  test('objects outside the prefix keep their key', async () => {
    const out = await oldKey.getObject(s3, { Bucket: BUCKET, Key: 'tenant-b/keep.bin' });
    expect(await out.Body!.transformToString()).toBe('other tenant');
  });

  test('an abort signal stops the run with an error that carries the progress; a rerun finishes', async () => {
    const a = SseCustomerKey.generate();
    const b = SseCustomerKey.generate();
    for (let i = 0; i < 40; i++) await a.putObject(s3, { Bucket: BUCKET, Key: `abort/${i}`, Body: `object ${i}` });
    const file = path.join(dir, 'abort.jsonl');
    const controller = new AbortController();
    const err = await rekeyPrefix(s3, {
      Bucket: BUCKET,
      Prefix: 'abort/',
      oldKey: a,
      newKey: b,
      checkpointFile: file,
      concurrency: 2,
      onProgress: (p) => { if (p.rekeyed >= 10) controller.abort(); },
      abortSignal: controller.signal,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(RekeyInterruptedError);
    const stopped = (err as RekeyInterruptedError).progress;
    expect(stopped.rekeyed).toBeGreaterThanOrEqual(10);
    expect(stopped.rekeyed).toBeLessThan(40);
    const rerun = await rekeyPrefix(s3, { Bucket: BUCKET, Prefix: 'abort/', oldKey: a, newKey: b, checkpointFile: file });
    expect(rerun.failed).toBe(0);
    expect(rerun.skipped + rerun.rekeyed + rerun.alreadyNewKey).toBe(40);
    for (let i = 0; i < 40; i++) {
      const out = await b.getObject(s3, { Bucket: BUCKET, Key: `abort/${i}` });
      expect(await out.Body!.transformToString()).toBe(`object ${i}`);
    }
  });

  test('bad options are refused before any request', async () => {
    const k = SseCustomerKey.generate();
    await expect(rekeyPrefix(s3, { Bucket: BUCKET, Prefix: '', oldKey: k, newKey: k, checkpointFile: path.join(dir, 'x.jsonl') })).rejects.toThrow(/same key/);
    await expect(rekeyPrefix(s3, { Bucket: BUCKET, Prefix: '', oldKey: k, newKey: SseCustomerKey.generate(), checkpointFile: path.join(dir, 'x.jsonl'), concurrency: 0 }))
      .rejects.toThrow(/concurrency must be a whole number from 1 to 256, got 0/);
  });
});
