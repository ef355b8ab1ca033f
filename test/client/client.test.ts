/**
 * Behaviour of the client against in-process S3 and KMS stand-ins: streaming and multipart,
 * spooled verification, the data-key cache, wrong keys, and input validation.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { FakeKms, FakeS3, readAll } from './fakes';
import {
  CommitmentPolicyError, DataKeyCache, InvalidRequestError, S3EncryptionClient, S3EncryptionClientError, TamperedObjectError, WrongKeyError,
} from '../../src/client';
import { writeAll } from '../../src/client/body';
import { partSizeFor } from '../../src/client/client';
import { GCM_MAX_CONTENT_LENGTH } from '../../src/client/format';

const MIB = 1024 * 1024;
const B = 'bucket';

function chunked(data: Buffer, size: number): Readable {
  function* gen() { for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size); }
  return Readable.from(gen());
}

function make(extra: Record<string, unknown> = {}, s3 = new FakeS3(), kms = new FakeKms(['key-1', 'key-2'])) {
  const client = new S3EncryptionClient({ s3: s3.asClient(), kms: kms.asClient(), kmsKeyId: 'key-1', ...extra });
  return { s3, kms, client };
}

describe('streaming writes', () => {
  test('small stream goes up in one PutObject', async () => {
    const { s3, client } = make();
    const data = crypto.randomBytes(100_000);
    const out = await client.putObjectStream({ Bucket: B, Key: 's', Body: chunked(data, 1000) });
    expect(out.parts).toBe(0);
    expect(s3.calls).toEqual(['PutObjectCommand']);
    expect((await readAll((await client.getObject({ Bucket: B, Key: 's' })).Body)).equals(data)).toBe(true);
  });

  test('large stream is a multipart upload whose last part ends with the tag', async () => {
    const { s3, client } = make();
    const data = crypto.randomBytes(12 * MIB + 5);
    const out = await client.putObjectStream({ Bucket: B, Key: 'm', Body: chunked(data, 100_003), partSize: 5 * MIB, concurrency: 2 });
    expect(out.parts).toBe(3);
    expect(s3.calls.filter((c) => c === 'UploadPartCommand').length).toBe(3);
    expect(s3.objects.get(`${B}/m`)!.body.length).toBe(data.length + 16);
    const got = await client.getObject({ Bucket: B, Key: 'm' });
    expect(got.ContentLength).toBe(data.length);
    expect((await readAll(got.Body)).equals(data)).toBe(true);
  });

  test('default parts are 5 MiB, growing once so 10,000 parts reach the 64 GiB AES-GCM limit', async () => {
    expect(partSizeFor(1, undefined)).toBe(5 * MIB);
    expect(partSizeFor(5000, undefined)).toBe(5 * MIB);
    expect(partSizeFor(5001, undefined)).toBe(12 * MIB);
    expect(partSizeFor(7, 16 * MIB)).toBe(16 * MIB);
    let reach = 0;
    for (let n = 1; n <= 10_000; n++) reach += partSizeFor(n, undefined);
    expect(reach).toBeGreaterThanOrEqual(GCM_MAX_CONTENT_LENGTH + 16);

    // The schedule at work, shrunk: two small parts, then larger ones; pooled buffers switch size.
    const { s3, client } = make({ multipartLimits: { maxParts: 10_000, smallPart: 5 * MIB, smallParts: 2, largePart: 6 * MIB } });
    const sizes: number[] = [];
    const send = s3.send.bind(s3);
    (s3 as any).send = (cmd: any) => {
      if (cmd.constructor.name === 'UploadPartCommand') sizes.push(cmd.input.Body.length);
      return send(cmd);
    };
    const data = crypto.randomBytes(29 * MIB + 7);
    const out = await client.putObjectStream({ Bucket: B, Key: 'sched', Body: chunked(data, 300_007), concurrency: 3 });
    expect(sizes).toEqual([5 * MIB, 5 * MIB, 6 * MIB, 6 * MIB, 6 * MIB, MIB + 7 + 16]);
    expect(out.parts).toBe(6);
    expect((await readAll((await client.getObject({ Bucket: B, Key: 'sched' })).Body)).equals(data)).toBe(true);
  });

  test('a stream that needs more parts than S3 allows fails with the fix and aborts the upload', async () => {
    const { s3, client } = make({ multipartLimits: { maxParts: 3, smallPart: 5 * MIB, smallParts: 5000, largePart: 12 * MIB } });
    const data = crypto.randomBytes(16 * MIB);
    await expect(client.putObjectStream({ Bucket: B, Key: 'toomany', Body: chunked(data, MIB), partSize: 5 * MIB }))
      .rejects.toThrow(/more than S3's 3 parts at partSize 5242880 bytes; raise partSize/);
    expect(s3.calls).toContain('AbortMultipartUploadCommand');
    expect(s3.openUploads).toBe(0);
  });

  test('putObject with a Readable uses the streaming path; uploadLarge is the same', async () => {
    const { client } = make();
    const data = crypto.randomBytes(6 * MIB);
    await client.putObject({ Bucket: B, Key: 'r', Body: chunked(data, 65536), encryptionContext: { a: 'b' } });
    const r = await client.uploadLarge({ Bucket: B, Key: 'u', Body: chunked(data, 65536), partSize: 5 * MIB });
    expect(r.parts).toBe(2);
    for (const key of ['r', 'u']) {
      const got = await client.getObject({ Bucket: B, Key: key, encryptionContext: key === 'r' ? { a: 'b' } : undefined });
      expect((await readAll(got.Body)).equals(data)).toBe(true);
    }
  });

  test('a failing source aborts the multipart upload', async () => {
    const { s3, client } = make();
    async function* broken() { yield crypto.randomBytes(6 * MIB); throw new Error('source broke'); }
    await expect(client.putObjectStream({ Bucket: B, Key: 'x', Body: broken(), partSize: 5 * MIB })).rejects.toThrow('source broke');
    expect(s3.calls).toContain('AbortMultipartUploadCommand');
    expect(s3.openUploads).toBe(0);
    expect(s3.objects.has(`${B}/x`)).toBe(false);
  });
});

describe('announced length', () => {
  test.each([
    ['buffered', {}],
    ['spooled', { maxBufferBytes: 1024 }],
    ['refetched', { maxBufferBytes: 1024, largeObjects: 'refetch' }],
  ])('%s: a body longer or shorter than its ContentLength fails as tampered, with no plaintext', async (_mode, extra) => {
    const { s3, client } = make(extra);
    const data = crypto.randomBytes(300_000);
    await client.putObject({ Bucket: B, Key: 'k', Body: data });
    const realSend = s3.send.bind(s3);
    for (const delta of [-1, -50_000, 1, 16]) {
      s3.send = async (cmd: any) => {
        const res = await realSend(cmd);
        return cmd.constructor.name === 'GetObjectCommand' ? { ...res, ContentLength: res.ContentLength + delta } : res;
      };
      await expect(client.getObject({ Bucket: B, Key: 'k' })).rejects.toThrow(TamperedObjectError);
      await expect(client.getObject({ Bucket: B, Key: 'k' })).rejects.toThrow(delta < 0 ? /ran past its announced length/ : /short of its announced length/);
    }
    s3.send = realSend;
    expect((await readAll((await client.getObject({ Bucket: B, Key: 'k' })).Body)).equals(data)).toBe(true);
  });
});

describe('large authenticated reads', () => {
  test('spooled: plaintext only after the whole object verified, temp file removed', async () => {
    const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 's3ec-unit-'));
    const { s3, client } = make({ maxBufferBytes: MIB, tempDir });
    const data = crypto.randomBytes(20 * MIB + 3);
    await client.putObject({ Bucket: B, Key: 'big', Body: data });
    const got = await client.getObject({ Bucket: B, Key: 'big' });
    expect(got.authenticated).toBe(true);
    expect(fs.readdirSync(tempDir)).toEqual([]);
    expect((await readAll(got.Body)).equals(data)).toBe(true);
    // One flipped byte near the end fails before any plaintext is returned.
    const o = s3.objects.get(`${B}/big`)!;
    o.body[o.body.length - 100] = (o.body[o.body.length - 100] + 1) % 256;
    await expect(client.getObject({ Bucket: B, Key: 'big' })).rejects.toBeInstanceOf(TamperedObjectError);
    expect(fs.readdirSync(tempDir)).toEqual([]);
    fs.rmSync(tempDir, { recursive: true, force: true });
  });

  test('spooled: a temp file changed after verification releases only the segments before the change', async () => {
    const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 's3ec-unit-'));
    const { client } = make({ maxBufferBytes: MIB, tempDir });
    const data = crypto.randomBytes(10 * MIB + 5);
    await client.putObject({ Bucket: B, Key: 'big', Body: data });
    const got = await client.getObject({ Bucket: B, Key: 'big' });
    // The verified ciphertext is already unlinked; reach it through this process's open descriptor.
    const fdDir = '/proc/self/fd';
    const spooled = fs.readdirSync(fdDir).map((fd) => path.join(fdDir, fd))
      .filter((p) => { try { return fs.readlinkSync(p).startsWith(tempDir); } catch { return false; } });
    expect(spooled).toHaveLength(1);
    const fd = fs.openSync(spooled[0], 'r+');
    const byte = Buffer.alloc(1);
    fs.readSync(fd, byte, 0, 1, 9 * MIB);
    byte[0] ^= 0xff;
    fs.writeSync(fd, byte, 0, 1, 9 * MIB);
    fs.closeSync(fd);
    const released: Buffer[] = [];
    const err = await (async () => { for await (const c of got.Body) released.push(Buffer.from(c)); })().then(() => undefined, (e) => e);
    expect(err).toBeInstanceOf(TamperedObjectError);
    expect(err.message).toMatch(/changed on disk/);
    const prefix = Buffer.concat(released);
    expect(prefix.length).toBe(8 * MIB);
    expect(prefix.equals(data.subarray(0, 8 * MIB))).toBe(true);
    fs.rmSync(tempDir, { recursive: true, force: true });
  });

  test('refetch: second download is released segment by segment only if it matches the verified bytes', async () => {
    const { s3, client } = make({ maxBufferBytes: MIB, largeObjects: 'refetch' });
    const data = crypto.randomBytes(10 * MIB + 5);
    await client.putObject({ Bucket: B, Key: 'rf', Body: data });
    const got = await client.getObject({ Bucket: B, Key: 'rf' });
    expect(got.authenticated).toBe(true);
    expect((await readAll(got.Body)).equals(data)).toBe(true);
    expect(s3.calls.filter((c) => c === 'GetObjectCommand').length).toBe(2);

    // Swap one byte in the third 4 MiB segment after the verifying read: only the two verified segments come out.
    const original = Buffer.from(s3.objects.get(`${B}/rf`)!.body);
    const realSend = s3.send.bind(s3);
    let gets = 0;
    (s3 as any).send = async (cmd: any) => {
      const out = await realSend(cmd);
      if (cmd.constructor.name === 'GetObjectCommand' && ++gets === 1) {
        const o = s3.objects.get(`${B}/rf`)!;
        o.body = Buffer.from(o.body);
        o.body[9 * MIB] = (o.body[9 * MIB] + 1) % 256;
      }
      return out;
    };
    const swapped = await client.getObject({ Bucket: B, Key: 'rf' });
    const released: Buffer[] = [];
    const err = await (async () => { for await (const c of swapped.Body) released.push(Buffer.from(c)); })().then(() => undefined, (e) => e);
    expect(err).toBeInstanceOf(TamperedObjectError);
    expect(err.message).toMatch(/changed between/);
    const prefix = Buffer.concat(released);
    expect(prefix.length).toBe(8 * MIB);
    expect(prefix.equals(data.subarray(0, 8 * MIB))).toBe(true);

    // Tampered before the first read: refused before any body is returned.
    (s3 as any).send = realSend;
    s3.objects.get(`${B}/rf`)!.body = original;
    original[100] = (original[100] + 1) % 256;
    await expect(client.getObject({ Bucket: B, Key: 'rf' })).rejects.toBeInstanceOf(TamperedObjectError);
  });

  /** Serves the second GetObject of each read through `change` (the first, verifying read is untouched). */
  function onSecondGet(s3: FakeS3, change: (out: any) => any): void {
    const realSend = s3.send.bind(s3);
    let gets = 0;
    (s3 as any).send = async (cmd: any) => {
      if (cmd.constructor.name !== 'GetObjectCommand' || ++gets % 2 === 1) return realSend(cmd);
      return change(await realSend(cmd));
    };
  }

  async function readUntilError(body: AsyncIterable<Uint8Array>): Promise<{ released: Buffer; err: any }> {
    const parts: Buffer[] = [];
    const err = await (async () => { for await (const c of body) parts.push(Buffer.from(c)); })().then(() => undefined, (e) => e);
    return { released: Buffer.concat(parts), err };
  }

  test.each([
    ['without its tag', (b: Buffer) => b.subarray(0, b.length - 16)],
    ['with one byte more', (b: Buffer) => Buffer.concat([b, Buffer.alloc(1)])],
    ['with another trailing tag', (b: Buffer) => { const c = Buffer.from(b); c[c.length - 1] ^= 1; return c; }],
    ['cut inside the last segment', (b: Buffer) => b.subarray(0, b.length - 1000)],
  ])('refetch: a second read %s releases the verified segments but nothing of the last', async (_name, change) => {
    const { s3, client } = make({ maxBufferBytes: MIB, largeObjects: 'refetch' });
    const data = crypto.randomBytes(10 * MIB + 5);
    await client.putObject({ Bucket: B, Key: 'end', Body: data });
    onSecondGet(s3, (out) => {
      const body = change(s3.objects.get(`${B}/end`)!.body);
      return { ...out, ContentLength: undefined, Body: chunked(body, 64 * 1024) };
    });
    const got = await client.getObject({ Bucket: B, Key: 'end' });
    const { released, err } = await readUntilError(got.Body);
    expect(err).toBeInstanceOf(TamperedObjectError);
    expect(err.message).toMatch(/changed between/);
    expect(released.length).toBe(8 * MIB);
    expect(released.equals(data.subarray(0, 8 * MIB))).toBe(true);
  });

  test('refetch: S3 refusing the pinned second read (412) is a clear error', async () => {
    const { s3, client } = make({ maxBufferBytes: MIB, largeObjects: 'refetch' });
    await client.putObject({ Bucket: B, Key: 'gone', Body: crypto.randomBytes(2 * MIB) });
    onSecondGet(s3, (out) => {
      out.Body.destroy();
      throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    });
    const err = await client.getObject({ Bucket: B, Key: 'gone' }).then(() => undefined, (e) => e);
    expect(err).toBeInstanceOf(TamperedObjectError);
    expect(err.message).toMatch(/replaced between the verifying read and the decrypting read/);
    expect(err.cause.name).toBe('PreconditionFailed');
  });

  test('destroying the body early ends a stalled second read at once and closes it', async () => {
    const { s3, client } = make({ maxBufferBytes: MIB, largeObjects: 'refetch' });
    const data = crypto.randomBytes(9 * MIB);
    await client.putObject({ Bucket: B, Key: 'stall', Body: data });
    let stalled: Readable | undefined;
    let waiting!: () => void;
    const hung = new Promise<void>((resolve) => { waiting = resolve; });
    onSecondGet(s3, (out) => {
      const body = s3.objects.get(`${B}/stall`)!.body;
      let sent = 0;
      // Sends 5 MiB, then never another byte: a connection that hangs.
      stalled = new Readable({
        read() {
          if (sent < 5 * MIB) { this.push(body.subarray(sent, sent + MIB)); sent += MIB; } else {waiting();}
        },
      });
      return { ...out, Body: stalled };
    });
    const got = await client.getObject({ Bucket: B, Key: 'stall' });
    // Take the first segment, then let the decrypting pass wait on the hung connection for the second.
    const first: Buffer[] = [];
    await new Promise<void>((resolve) => {
      got.Body.on('data', (c: Buffer) => { first.push(Buffer.from(c)); if (Buffer.concat(first).length >= 4 * MIB) { got.Body.pause(); resolve(); } });
    });
    expect(Buffer.concat(first).equals(data.subarray(0, 4 * MIB))).toBe(true);
    await hung;
    const closed = new Promise<string>((resolve) => got.Body.once('close', () => resolve('closed')));
    got.Body.destroy();
    const outcome = await Promise.race([closed, new Promise<string>((resolve) => setTimeout(() => resolve('still open after 5 s'), 5000).unref())]);
    expect(outcome).toBe('closed');
    expect(stalled!.destroyed).toBe(true);
  });

  test.each([
    ['v3, exactly two segments', 'v3', 8 * MIB],
    ['v2, a partial third segment', 'v2', 9 * MIB + 7],
  ])('spool and refetch read %s', async (_name, formatVersion, size) => {
    const data = crypto.randomBytes(size);
    for (const largeObjects of ['spool', 'refetch']) {
      const { client } = make({ maxBufferBytes: MIB, largeObjects, formatVersion });
      await client.putObject({ Bucket: B, Key: 'k', Body: data });
      const got = await client.getObject({ Bucket: B, Key: 'k' });
      expect(got.formatVersion).toBe(formatVersion);
      expect(got.authenticated).toBe(true);
      expect((await readAll(got.Body)).equals(data)).toBe(true);
    }
  });

  test("largeObjects 'refuse' asks for an explicit choice", async () => {
    const { client } = make({ maxBufferBytes: 1024, largeObjects: 'refuse' });
    await client.putObject({ Bucket: B, Key: 'big', Body: crypto.randomBytes(4096) });
    await expect(client.getObject({ Bucket: B, Key: 'big' })).rejects.toThrow(/allowUnauthenticatedStreaming/);
    const ok = await client.getObject({ Bucket: B, Key: 'big', allowUnauthenticatedStreaming: true });
    expect((await readAll(ok.Body)).length).toBe(4096);
  });
});

describe('spool file writes', () => {
  test('a writev that writes only part of a batch is continued where it stopped, in order', async () => {
    const written: Buffer[] = [];
    let calls = 0;
    // Writes at most 7 bytes per call, like a disk that keeps returning short writes.
    const fh = {
      writev: async (bufs: Buffer[]) => {
        calls++;
        const all = Buffer.concat(bufs).subarray(0, 7);
        written.push(Buffer.from(all));
        return { bytesWritten: all.length, buffers: bufs };
      },
    };
    const bufs = [Buffer.from('abc'), Buffer.alloc(0), Buffer.from('defghijklmnop'), Buffer.from('q'), Buffer.from('rstuvwxyz')];
    await writeAll(fh as any, bufs);
    expect(Buffer.concat(written).toString()).toBe('abcdefghijklmnopqrstuvwxyz');
    expect(calls).toBe(4);
    const stuck = { writev: async (b: Buffer[]) => ({ bytesWritten: 0, buffers: b }) };
    await expect(writeAll(stuck as any, [Buffer.from('x')])).rejects.toThrow(/made no progress/);
  });
});

describe('data-key cache', () => {
  test('cuts GenerateDataKey and Decrypt calls, bounded by objects', async () => {
    const kms = new FakeKms(['key-1']);
    const { client } = make({ cache: { maxObjects: 10 } }, new FakeS3(), kms);
    for (let i = 0; i < 100; i++) await client.putObject({ Bucket: B, Key: `k${i}`, Body: `object ${i}`, encryptionContext: { t: 'x' } });
    expect(kms.generateCalls).toBe(10);
    for (let i = 0; i < 100; i++) {
      expect(await (await client.getObject({ Bucket: B, Key: `k${i}`, encryptionContext: { t: 'x' } })).Body.transformToString()).toBe(`object ${i}`);
    }
    expect(kms.decryptCalls).toBe(10);
    expect(client.kmsCalls).toBe(20);
    // A different context never shares a key.
    await client.putObject({ Bucket: B, Key: 'other', Body: 'o', encryptionContext: { t: 'y' } });
    expect(kms.generateCalls).toBe(11);
  });

  test('a shared cache keeps clients with different KMS clients apart', async () => {
    const cache = new DataKeyCache();
    const s3 = new FakeS3();
    const kmsA = new FakeKms(['key-1']);
    // The same key name in another account: an alias to a key with other key material.
    const kmsB = new FakeKms(['key-9']);
    kmsB.addAlias('key-1', 'key-9');
    const a = new S3EncryptionClient({ s3: s3.asClient(), kms: kmsA.asClient(), kmsKeyId: 'key-1', cache });
    const a2 = new S3EncryptionClient({ s3: s3.asClient(), kms: kmsA.asClient(), kmsKeyId: 'key-1', cache });
    const b = new S3EncryptionClient({ s3: s3.asClient(), kms: kmsB.asClient(), kmsKeyId: 'key-1', cache });
    await a.putObject({ Bucket: B, Key: 'a', Body: 'from a' });
    await a2.putObject({ Bucket: B, Key: 'a2', Body: 'from a2' });
    expect(kmsA.generateCalls).toBe(1); // same KMS client: the cached key is shared
    await b.putObject({ Bucket: B, Key: 'b', Body: 'from b' });
    expect(kmsB.generateCalls).toBe(1); // another KMS client gets its own key from its own KMS
    expect(await (await a.getObject({ Bucket: B, Key: 'a' })).Body.transformToString()).toBe('from a');
    expect(await (await a2.getObject({ Bucket: B, Key: 'a' })).Body.transformToString()).toBe('from a');
    expect(kmsA.decryptCalls).toBe(1); // the second read came from the cache
    // b's KMS cannot decrypt a's data key, and the key a's KMS put in the shared cache is not b's to take.
    await expect(b.getObject({ Bucket: B, Key: 'a' })).rejects.toBeInstanceOf(S3EncryptionClientError);
    expect(kmsB.decryptCalls).toBe(1);
    expect(await (await b.getObject({ Bucket: B, Key: 'b' })).Body.transformToString()).toBe('from b');
    expect(await (await a.getObject({ Bucket: B, Key: 'a2' })).Body.transformToString()).toBe('from a2');
  });

  test('without a cache every object costs a KMS call', async () => {
    const kms = new FakeKms(['key-1']);
    const { client } = make({}, new FakeS3(), kms);
    for (let i = 0; i < 20; i++) await client.putObject({ Bucket: B, Key: `k${i}`, Body: 'x' });
    expect(kms.generateCalls).toBe(20);
  });

  test('bounded by age and bytes', () => {
    let now = 0;
    const cache = new DataKeyCache({ maxAgeSeconds: 10, maxBytes: 100, now: () => now });
    const key = { plaintextKey: Buffer.alloc(32, 1), encryptedKey: Buffer.from('e') };
    cache.putForEncryption('a', key, 60);
    expect(cache.takeForEncryption('a', 30)).toBeDefined();
    expect(cache.takeForEncryption('a', 30)).toBeUndefined(); // 60 + 30 + 30 > 100
    cache.putForEncryption('b', key, 1);
    now = 10_001;
    expect(cache.takeForEncryption('b', 1)).toBeUndefined();
    cache.putForEncryption('c', key, 1);
    expect(cache.takeForEncryption('c', undefined)).toBeUndefined(); // unknown length never reuses
    expect(cache.stats.hits).toBe(1);
    expect(() => new DataKeyCache({ maxObjects: 0 })).toThrow(RangeError);
  });

  test('returned keys are copies; clear() wipes entries', () => {
    const cache = new DataKeyCache();
    cache.putForDecryption('d', { plaintextKey: Buffer.alloc(32, 9), encryptedKey: Buffer.from('e') }, 1);
    const got = cache.takeForDecryption('d', 1)!;
    got.plaintextKey.fill(0);
    expect(cache.takeForDecryption('d', 1)!.plaintextKey.equals(Buffer.alloc(32, 9))).toBe(true);
    cache.clear();
    expect(cache.takeForDecryption('d', 1)).toBeUndefined();
  });
});

describe('keys, policies and validation', () => {
  test('wrong KMS key is a WrongKeyError', async () => {
    const s3 = new FakeS3();
    const kms = new FakeKms(['key-1', 'key-2']);
    const writer = make({}, s3, kms).client;
    await writer.putObject({ Bucket: B, Key: 'k', Body: 'secret' });
    const reader = new S3EncryptionClient({ s3: s3.asClient(), kms: kms.asClient(), kmsKeyId: 'key-2' });
    const err = await reader.getObject({ Bucket: B, Key: 'k' }).catch((e) => e);
    expect(err).toBeInstanceOf(WrongKeyError);
    expect(err.message).toMatch(/Configure the client with the KMS key/);
    const missing = new S3EncryptionClient({ s3: s3.asClient(), kms: kms.asClient(), kmsKeyId: 'nope' });
    await expect(missing.putObject({ Bucket: B, Key: 'z', Body: 'x' })).rejects.toBeInstanceOf(WrongKeyError);
  });

  test('aliases work as key ids', async () => {
    const kms = new FakeKms(['key-1']);
    kms.addAlias('alias/app', 'key-1');
    const { client } = make({ kmsKeyId: 'alias/app' }, new FakeS3(), kms);
    await client.putObject({ Bucket: B, Key: 'k', Body: 'via alias' });
    expect(await (await client.getObject({ Bucket: B, Key: 'k' })).Body.transformToString()).toBe('via alias');
  });

  test('REQUIRE_ENCRYPT_REQUIRE_DECRYPT refuses V2 objects; V2 writers need FORBID_ENCRYPT', async () => {
    const s3 = new FakeS3();
    const kms = new FakeKms(['key-1']);
    await make({ formatVersion: 'v2' }, s3, kms).client.putObject({ Bucket: B, Key: 'v2', Body: 'old' });
    const strict = make({ commitmentPolicy: 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' }, s3, kms).client;
    await expect(strict.getObject({ Bucket: B, Key: 'v2' })).rejects.toBeInstanceOf(CommitmentPolicyError);
    const allow = make({}, s3, kms).client;
    expect(await (await allow.getObject({ Bucket: B, Key: 'v2' })).Body.transformToString()).toBe('old');
    expect(() => make({ formatVersion: 'v2', commitmentPolicy: 'REQUIRE_ENCRYPT_ALLOW_DECRYPT' })).toThrow(InvalidRequestError);
    expect(() => make({ formatVersion: 'v3', commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' })).toThrow(InvalidRequestError);
  });

  test('reserved names and unsupported requests are refused with a reason', async () => {
    const { client } = make();
    await expect(client.putObject({ Bucket: B, Key: 'k', Body: 'x', encryptionContext: { 'aws:x-amz-cek-alg': 'x' } })).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(client.putObject({ Bucket: B, Key: 'k', Body: 'x', Metadata: { 'x-amz-key-v2': 'x' } })).rejects.toThrow(/reserved/);
    await expect(client.getObject({ Bucket: B, Key: 'k', Range: 'bytes=0-1' })).rejects.toBeInstanceOf(InvalidRequestError);
    expect(() => make({ partSize: 1024 })).toThrow(/5 MiB/);
  });

  test('user metadata is kept; non-ASCII contexts (opted in) are stored as ASCII JSON', async () => {
    const { s3, client } = make({ allowNonAsciiEncryptionContext: true });
    const ec = { city: 'Zürich', emoji: '🔐' };
    await client.putObject({ Bucket: B, Key: 'k', Body: 'x', Metadata: { owner: 'me' }, encryptionContext: ec });
    const m = s3.objects.get(`${B}/k`)!.metadata;
    expect(m.owner).toBe('me');
    expect(/^[\x20-\x7e]*$/.test(m['x-amz-t'])).toBe(true);
    const got = await client.getObject({ Bucket: B, Key: 'k', encryptionContext: ec });
    expect(got.encryptionContext).toEqual(ec);
    expect(got.Metadata?.owner).toBe('me');
  });

  test('RFC 2047 encoded metadata from S3 is decoded', async () => {
    const { s3, client } = make({ allowNonAsciiEncryptionContext: true });
    const ec = { city: 'Zürich' };
    await client.putObject({ Bucket: B, Key: 'k', Body: 'x', encryptionContext: ec });
    const m = s3.objects.get(`${B}/k`)!.metadata;
    const json = JSON.stringify(JSON.parse(m['x-amz-t']));
    m['x-amz-t'] = `=?UTF-8?B?${Buffer.from(json, 'utf8').toString('base64')}?=`;
    expect(await (await client.getObject({ Bucket: B, Key: 'k', encryptionContext: ec })).Body.transformToString()).toBe('x');
  });

  test('deleteObject removes the instruction file too', async () => {
    const { s3, client } = make({ instructionFile: true });
    await client.putObject({ Bucket: B, Key: 'k', Body: 'x' });
    expect(s3.objects.has(`${B}/k.instruction`)).toBe(true);
    await client.deleteObject({ Bucket: B, Key: 'k' });
    expect(s3.objects.size).toBe(0);
  });
});
