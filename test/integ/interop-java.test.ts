/**
 * Object-format interop with the Amazon S3 Encryption Client for Java 4.x, both directions,
 * through moto (S3 and KMS on one local endpoint).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CopyObjectCommand } from '@aws-sdk/client-s3';
import { EncryptionContextMismatchError, KeyCommitmentMismatchError, LegacyFormatRefusedError, S3EncryptionClient } from '../../src/client';
import { bodyBytes, useInteropPeer } from '../support/interop-peer';
import { javaLegacyV1Put, javaS3ec, runJavaS3ec } from '../support/java-client';

const BUCKET = 'interop-java';
const MIB = 1024 * 1024;
const env = useInteropPeer(BUCKET);
const { file, rawMetadata } = env;

function java() {
  return { endpoint: env.moto.endpoint, kmsKeyId: env.kmsKeyId };
}

describe('Java writes, this client reads', () => {
  test('V3 (Java 4.x default: key-committing) with an encryption context, 5 MiB + 1 byte', async () => {
    const plain = randomBytes(5 * MIB + 1);
    const context = { tenant: 'acme', purpose: 'interop' };
    await javaS3ec('put', BUCKET, 'java-v3.bin', file('java-v3.in', plain), { ...java(), context, format: 'v3' });

    // The format on the wire, as the Java client wrote it.
    const m = await rawMetadata('java-v3.bin');
    expect(Object.keys(m).sort()).toEqual(['x-amz-3', 'x-amz-c', 'x-amz-d', 'x-amz-i', 'x-amz-t', 'x-amz-w']);
    expect(m['x-amz-c']).toBe('115');
    expect(m['x-amz-w']).toBe('12');
    expect(Buffer.from(m['x-amz-d'], 'base64')).toHaveLength(28);
    expect(Buffer.from(m['x-amz-i'], 'base64')).toHaveLength(28);
    expect(JSON.parse(m['x-amz-t'])).toEqual({ 'aws:x-amz-cek-alg': '115', ...context });

    const out = await env.ours.getObject({ Bucket: BUCKET, Key: 'java-v3.bin', encryptionContext: context });
    expect(out.formatVersion).toBe('v3');
    expect(out.encryptionContext).toEqual(context);
    expect((await bodyBytes(out.Body)).equals(plain)).toBe(true);
  });

  test('V3 with the wrong encryption context is refused by this client', async () => {
    await expect(env.ours.getObject({ Bucket: BUCKET, Key: 'java-v3.bin', encryptionContext: { tenant: 'other', purpose: 'interop' } }))
      .rejects.toBeInstanceOf(EncryptionContextMismatchError);
  });

  test('V2 (non-committing, what Java 3.x and the other languages write), no context', async () => {
    const plain = randomBytes(MIB + 15);
    await javaS3ec('put', BUCKET, 'java-v2.bin', file('java-v2.in', plain), { ...java(), format: 'v2' });
    const m = await rawMetadata('java-v2.bin');
    expect(m).toMatchObject({ 'x-amz-cek-alg': 'AES/GCM/NoPadding', 'x-amz-wrap-alg': 'kms+context', 'x-amz-tag-len': '128' });
    expect(Buffer.from(m['x-amz-iv'], 'base64')).toHaveLength(12);
    expect(JSON.parse(m['x-amz-matdesc'])).toEqual({ 'aws:x-amz-cek-alg': 'AES/GCM/NoPadding' });
    const out = await env.ours.getObject({ Bucket: BUCKET, Key: 'java-v2.bin' });
    expect(out.formatVersion).toBe('v2');
    expect((await bodyBytes(out.Body)).equals(plain)).toBe(true);
  });

  test('V2 with an encryption context', async () => {
    const plain = randomBytes(70_000);
    const context = { department: 'finance' };
    await javaS3ec('put', BUCKET, 'java-v2-ctx.bin', file('java-v2-ctx.in', plain), { ...java(), context, format: 'v2' });
    const out = await env.ours.getObject({ Bucket: BUCKET, Key: 'java-v2-ctx.bin', encryptionContext: context });
    expect((await bodyBytes(out.Body)).equals(plain)).toBe(true);
  });

  test('V3 multipart upload (the client\'s low-level multipart API, 3 parts) with an encryption context', async () => {
    const plain = randomBytes(12 * MIB + 17);
    const context = { tenant: 'acme' };
    const run = await javaS3ec('put', BUCKET, 'java-multipart.bin', file('java-multipart.in', plain), { ...java(), context, multipartPartSize: 5 * MIB });
    expect(run.stdout).toContain('in 3 parts');
    const out = await env.ours.getObject({ Bucket: BUCKET, Key: 'java-multipart.bin', encryptionContext: context });
    expect((await bodyBytes(out.Body)).equals(plain)).toBe(true);
  });

  test.each(['v3', 'v2'] as const)('%s with the key material in an instruction file', async (format) => {
    const plain = randomBytes(MIB + 1);
    const key = `java-instruction-${format}.bin`;
    await javaS3ec('put', BUCKET, key, file(`${key}.in`, plain), { ...java(), format, instructionFile: true });
    // The wrapped key is not on the object; it is in KEY.instruction.
    const m = await rawMetadata(key);
    expect(m['x-amz-3']).toBeUndefined();
    expect(m['x-amz-key-v2']).toBeUndefined();
    expect(await rawMetadata(`${key}.instruction`)).toEqual({ 'x-amz-crypto-instr-file': '' });
    const out = await env.ours.getObject({ Bucket: BUCKET, Key: key });
    expect(out.formatVersion).toBe(format);
    expect((await bodyBytes(out.Body)).equals(plain)).toBe(true);
  });

  test('V3 with a non-ASCII (Latin-1) encryption context value', async () => {
    const plain = randomBytes(1000);
    // Java sends x-amz-t unescaped in an ISO-8859-1 header, so characters beyond Latin-1 become '?' and even Java cannot read those back.
    const context = { city: 'Z\u00fcrich', note: 'caf\u00e9 cr\u00e8me' };
    await javaS3ec('put', BUCKET, 'java-unicode.bin', file('java-unicode.in', plain), { ...java(), context });
    const out = await env.ours.getObject({ Bucket: BUCKET, Key: 'java-unicode.bin', encryptionContext: context });
    expect(out.encryptionContext).toEqual(context);
    expect((await bodyBytes(out.Body)).equals(plain)).toBe(true);
  });

  test('legacy (AES-CBC content, env.kms wrapping) from the SDK v1 client: refused by default, read when legacy modes are enabled', async () => {
    const plain = randomBytes(MIB + 3);
    const context = { dept: 'finance' };
    await javaLegacyV1Put(BUCKET, 'java-v1.bin', file('java-v1.in', plain), { ...java(), context });
    const m = await rawMetadata('java-v1.bin');
    expect(m).toMatchObject({ 'x-amz-cek-alg': 'AES/CBC/PKCS5Padding', 'x-amz-wrap-alg': 'kms' });
    expect(JSON.parse(m['x-amz-matdesc'])).toEqual({ ...context, kms_cmk_id: env.kmsKeyId });
    await expect(env.ours.getObject({ Bucket: BUCKET, Key: 'java-v1.bin', encryptionContext: context })).rejects.toBeInstanceOf(LegacyFormatRefusedError);
    const legacy = new S3EncryptionClient({ s3: env.s3, kms: env.kms, kmsKeyId: env.kmsKeyId, enableLegacyUnauthenticatedModes: true });
    const out = await legacy.getObject({ Bucket: BUCKET, Key: 'java-v1.bin', encryptionContext: context });
    // The SDK v1 client stores the key under x-amz-key-v2, so the metadata generation is V2 even though the algorithms are legacy.
    expect(out.formatVersion).toBe('v2');
    expect(out.authenticated).toBe(false);
    expect((await bodyBytes(out.Body)).equals(plain)).toBe(true);
  });

  test('an empty object', async () => {
    await javaS3ec('put', BUCKET, 'java-empty.bin', file('java-empty.in', Buffer.alloc(0)), java());
    const out = await env.ours.getObject({ Bucket: BUCKET, Key: 'java-empty.bin' });
    expect(await bodyBytes(out.Body)).toHaveLength(0);
  });
});

describe('this client writes, Java reads', () => {
  test('V3 with a Latin-1 encryption context (opted in), 6 MiB + 3 bytes; Java reads it even when it requires key commitment', async () => {
    const plain = randomBytes(6 * MIB + 3);
    const context = { 'tenant': 'acme', 'unicode-key': 'd\u00e9j\u00e0 vu' };
    // Refused by default (the Python client cannot read it); Java reads our escaped JSON.
    await expect(env.ours.putObject({ Bucket: BUCKET, Key: 'ours-v3.bin', Body: plain, encryptionContext: context })).rejects.toThrow(/outside US-ASCII/);
    const latin1 = new S3EncryptionClient({ s3: env.s3, kms: env.kms, kmsKeyId: env.kmsKeyId, allowNonAsciiEncryptionContext: true });
    await latin1.putObject({ Bucket: BUCKET, Key: 'ours-v3.bin', Body: plain, encryptionContext: context });
    expect((await rawMetadata('ours-v3.bin'))['x-amz-c']).toBe('115');
    await javaS3ec('get', BUCKET, 'ours-v3.bin', file('ours-v3.out'), { ...java(), context, requireCommitment: true });
    expect(readFileSync(file('ours-v3.out')).equals(plain)).toBe(true);
  });

  test('Java refuses our V3 object with the wrong encryption context', async () => {
    const run = await runJavaS3ec('get', BUCKET, 'ours-v3.bin', file('ours-v3-wrong.out'), { ...java(), context: { tenant: 'other' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/encryption context/i);
  });

  test('V2 with an encryption context; Java reads it, and refuses it when commitment is required', async () => {
    const plain = randomBytes(2 * MIB + 5);
    const context = { tenant: 'acme' };
    await env.oursV2.putObject({ Bucket: BUCKET, Key: 'ours-v2.bin', Body: plain, encryptionContext: context });
    expect((await rawMetadata('ours-v2.bin'))['x-amz-key-v2']).toBeDefined();
    await javaS3ec('get', BUCKET, 'ours-v2.bin', file('ours-v2.out'), { ...java(), context });
    expect(readFileSync(file('ours-v2.out')).equals(plain)).toBe(true);
    // Proves the object really is the non-committing V2 format, not V3 under another name.
    const strict = await runJavaS3ec('get', BUCKET, 'ours-v2.bin', file('ours-v2-strict.out'), { ...java(), context, requireCommitment: true });
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/commit/i);
  });

  test('a multipart upload (putObjectStream) in V3 reads back in Java', async () => {
    const plain = randomBytes(17 * MIB + 9);
    await env.ours.putObjectStream({ Bucket: BUCKET, Key: 'ours-multipart.bin', Body: plain, partSize: 5 * MIB });
    await javaS3ec('get', BUCKET, 'ours-multipart.bin', file('ours-multipart.out'), java());
    expect(readFileSync(file('ours-multipart.out')).equals(plain)).toBe(true);
  });

  test.each(['v3', 'v2'] as const)('%s with the key material in an instruction file', async (format) => {
    const plain = randomBytes(MIB + 2);
    const key = `ours-instruction-${format}.bin`;
    const writer = new S3EncryptionClient({ s3: env.s3, kms: env.kms, kmsKeyId: env.kmsKeyId, formatVersion: format, instructionFile: true });
    await writer.putObject({ Bucket: BUCKET, Key: key, Body: plain, encryptionContext: { tenant: 'acme' } });
    expect(await rawMetadata(`${key}.instruction`)).toEqual({ 'x-amz-crypto-instr-file': '' });
    await javaS3ec('get', BUCKET, key, file(`${key}.out`), { ...java(), context: { tenant: 'acme' } });
    expect(readFileSync(file(`${key}.out`)).equals(plain)).toBe(true);
  });

  test('an empty object', async () => {
    await env.ours.putObject({ Bucket: BUCKET, Key: 'ours-empty.bin', Body: Buffer.alloc(0) });
    await javaS3ec('get', BUCKET, 'ours-empty.bin', file('ours-empty.out'), java());
    expect(readFileSync(file('ours-empty.out'))).toHaveLength(0);
  });
});

describe('both clients verify the same key commitment', () => {
  test('a V3 object whose x-amz-d was swapped for another object\'s is refused by Java and by this client', async () => {
    const plain = randomBytes(4096);
    await env.ours.putObject({ Bucket: BUCKET, Key: 'commit-a.bin', Body: plain });
    await env.ours.putObject({ Bucket: BUCKET, Key: 'commit-b.bin', Body: randomBytes(4096) });
    const a = await rawMetadata('commit-a.bin');
    const b = await rawMetadata('commit-b.bin');
    expect(a['x-amz-d']).not.toBe(b['x-amz-d']);
    // Rewrite only the metadata of A in place, with B's commitment.
    await env.s3.send(new CopyObjectCommand({
      Bucket: BUCKET,
      Key: 'commit-a.bin',
      CopySource: `${BUCKET}/commit-a.bin`,
      MetadataDirective: 'REPLACE',
      Metadata: { ...a, 'x-amz-d': b['x-amz-d'] },
    }));
    expect((await rawMetadata('commit-a.bin'))['x-amz-d']).toBe(b['x-amz-d']);

    const run = await runJavaS3ec('get', BUCKET, 'commit-a.bin', file('commit-a.out'), java());
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/commitment/i);
    await expect(env.ours.getObject({ Bucket: BUCKET, Key: 'commit-a.bin' })).rejects.toBeInstanceOf(KeyCommitmentMismatchError);
  });
});

describe('the harness itself', () => {
  test('Java writes and reads its own V3 object through moto', async () => {
    const plain = randomBytes(300_000);
    await javaS3ec('put', BUCKET, 'java-self.bin', file('java-self.in', plain), { ...java(), context: { a: 'b' } });
    await javaS3ec('get', BUCKET, 'java-self.bin', file('java-self.out'), { ...java(), context: { a: 'b' } });
    expect(readFileSync(file('java-self.out')).equals(plain)).toBe(true);
  });
});
