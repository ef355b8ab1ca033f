/**
 * Object-format interop with the Amazon S3 Encryption Client for Python 4.x, both directions,
 * through moto (S3 and KMS on one local endpoint). The Python client runs through
 * test/support/python/s3ec_cli.py in .tools/python-s3ec (scripts/setup/17-python-s3ec.sh).
 *
 * The Python client reads instruction files but cannot write them, so instruction files are only
 * tested in the direction this client writes, Python reads.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  EncryptionContextMismatchError, InvalidRequestError, KeyCommitmentMismatchError, S3EncryptionClient, TamperedObjectError,
} from '../../src/client';
import { bodyBytes, useInteropPeer } from '../support/interop-peer';
import { PythonS3ecOptions, pythonS3ec, runPythonS3ec } from '../support/python-client';

const BUCKET = 'interop-python';
const MIB = 1024 * 1024;
const V3_KEYS = ['x-amz-3', 'x-amz-c', 'x-amz-d', 'x-amz-i', 'x-amz-t', 'x-amz-w'];
const V2_KEYS = ['x-amz-cek-alg', 'x-amz-iv', 'x-amz-key-v2', 'x-amz-matdesc', 'x-amz-tag-len', 'x-amz-wrap-alg'];
/** What the Python client says when the context given on read differs from the stored one. */
const PY_CONTEXT_MISMATCH = 'S3EncryptionClientError: Provided encryption context does not match information retrieved from S3';
const PY_NON_ASCII = 'S3EncryptionClientError: EncryptionContext keys and values must contain only US-ASCII characters';

const env = useInteropPeer(BUCKET);
const { file, rawMetadata } = env;

function python(extra: Partial<PythonS3ecOptions> = {}): PythonS3ecOptions {
  return { endpoint: env.moto.endpoint, region: env.moto.region, kmsKeyId: env.kmsKeyId, ...extra };
}

async function rawObject(key: string): Promise<Buffer> {
  return bodyBytes((await env.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body);
}

/** Flips one bit of the stored ciphertext at `offset` and writes the object back with its metadata unchanged. */
async function flipStoredByte(key: string, offset: number): Promise<void> {
  const res = await env.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const bytes = await bodyBytes(res.Body);
  const metadata = res.Metadata ?? {};
  bytes[offset] ^= 0x01;
  await env.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes, ContentLength: bytes.length, Metadata: metadata }));
  expect(await rawMetadata(key)).toEqual(metadata);
}

const FORMATS = ['v3', 'v2'] as const;
const CONTEXTS: Array<[string, Record<string, string> | undefined]> = [
  ['no context', undefined],
  ['a context', { tenant: 'acme', purpose: 'interop' }],
];
const SIZES: Array<[string, number]> = [['0 bytes', 0], ['1 byte', 1], ['10 MiB', 10 * MIB]];
const MATRIX = FORMATS.flatMap((format) => CONTEXTS.flatMap(([ctxName, context]) => SIZES.map(([sizeName, size]) => ({
  name: `${format}, ${ctxName}, ${sizeName}`, format, context, size, tag: `${format}-${context ? 'ctx' : 'noctx'}-${size}`,
}))));

describe('Python writes, this client reads', () => {
  test.each(MATRIX)('$name', async ({ format, context, size, tag }) => {
    const plain = randomBytes(size);
    const key = `py-${tag}.bin`;
    await pythonS3ec('put', BUCKET, key, file(`${key}.in`, plain), python({ format, context }));

    // The format on the wire, as the Python client wrote it.
    const m = await rawMetadata(key);
    expect(Object.keys(m).sort()).toEqual(format === 'v3' ? V3_KEYS : V2_KEYS);
    if (format === 'v3') {
      expect(m['x-amz-c']).toBe('115');
      expect(m['x-amz-w']).toBe('12');
      expect(JSON.parse(m['x-amz-t'])).toEqual({ ...context, 'aws:x-amz-cek-alg': '115' });
    } else {
      expect(m).toMatchObject({ 'x-amz-cek-alg': 'AES/GCM/NoPadding', 'x-amz-wrap-alg': 'kms+context', 'x-amz-tag-len': '128' });
      expect(JSON.parse(m['x-amz-matdesc'])).toEqual({ ...context, 'aws:x-amz-cek-alg': 'AES/GCM/NoPadding' });
    }
    expect(await rawObject(key)).toHaveLength(size + 16);

    const out = await env.ours.getObject({ Bucket: BUCKET, Key: key, encryptionContext: context });
    expect(out.formatVersion).toBe(format);
    expect(out.encryptionContext).toEqual(context ?? {});
    expect((await bodyBytes(out.Body)).equals(plain)).toBe(true);
  });

  test.each(FORMATS)('%s multipart upload (the client\'s low-level multipart API, 3 parts) with a context', async (format) => {
    const plain = randomBytes(12 * MIB + 17);
    const context = { tenant: 'acme' };
    const key = `py-multipart-${format}.bin`;
    const run = await pythonS3ec('put', BUCKET, key, file(`${key}.in`, plain), python({ format, context, multipartPartSize: 5 * MIB }));
    expect(run.stdout).toContain('in 3 parts');
    expect(Object.keys(await rawMetadata(key)).sort()).toEqual(format === 'v3' ? V3_KEYS : V2_KEYS);
    const out = await env.ours.getObject({ Bucket: BUCKET, Key: key, encryptionContext: context });
    expect(out.formatVersion).toBe(format);
    expect((await bodyBytes(out.Body)).equals(plain)).toBe(true);
  });

  test.each(FORMATS)('%s with the wrong or a missing encryption context is refused by this client', async (format) => {
    const key = `py-${format}-ctx-1.bin`;
    await expect(env.ours.getObject({ Bucket: BUCKET, Key: key, encryptionContext: { tenant: 'other', purpose: 'interop' } }))
      .rejects.toBeInstanceOf(EncryptionContextMismatchError);
    await expect(env.ours.getObject({ Bucket: BUCKET, Key: key })).rejects.toBeInstanceOf(EncryptionContextMismatchError);
  });
});

describe('this client writes, Python reads', () => {
  test.each(MATRIX)('$name', async ({ format, context, size, tag }) => {
    const plain = randomBytes(size);
    const key = `ours-${tag}.bin`;
    await (format === 'v3' ? env.ours : env.oursV2).putObject({ Bucket: BUCKET, Key: key, Body: plain, encryptionContext: context });
    const m = await rawMetadata(key);
    expect(m[format === 'v3' ? 'x-amz-3' : 'x-amz-key-v2']).toBeDefined();
    await pythonS3ec('get', BUCKET, key, file(`${key}.out`), python({ context }));
    expect(readFileSync(file(`${key}.out`)).equals(plain)).toBe(true);
  });

  test('V3 reads in Python under its default policy (REQUIRE_ENCRYPT_REQUIRE_DECRYPT); V2 is refused there', async () => {
    const context = { tenant: 'acme', purpose: 'interop' };
    await pythonS3ec('get', BUCKET, 'ours-v3-ctx-1.bin', file('ours-strict-v3.out'), python({ context, requireCommitment: true }));
    expect(readFileSync(file('ours-strict-v3.out'))).toHaveLength(1);
    // Proves the object really is the non-committing V2 format, not V3 under another name.
    const strict = await runPythonS3ec('get', BUCKET, 'ours-v2-ctx-1.bin', file('ours-strict-v2.out'), python({ context, requireCommitment: true }));
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('S3EncryptionClientError: Configuration conflict: cannot decrypt non-key-committing object');
  });

  test.each(FORMATS)('%s multipart upload (putObjectStream, 4 parts) with a context reads back in Python', async (format) => {
    const plain = randomBytes(17 * MIB + 9);
    const context = { tenant: 'acme' };
    const key = `ours-multipart-${format}.bin`;
    const writer = format === 'v3' ? env.ours : env.oursV2;
    const res = await writer.putObjectStream({ Bucket: BUCKET, Key: key, Body: plain, encryptionContext: context, partSize: 5 * MIB });
    expect(res.parts).toBe(4);
    await pythonS3ec('get', BUCKET, key, file(`${key}.out`), python({ context }));
    expect(readFileSync(file(`${key}.out`)).equals(plain)).toBe(true);
  });

  test.each(FORMATS)('%s with the key material in an instruction file', async (format) => {
    const plain = randomBytes(MIB + 2);
    const context = { tenant: 'acme' };
    const key = `ours-instruction-${format}.bin`;
    const writer = new S3EncryptionClient({ s3: env.s3, kms: env.kms, kmsKeyId: env.kmsKeyId, formatVersion: format, instructionFile: true });
    await writer.putObject({ Bucket: BUCKET, Key: key, Body: plain, encryptionContext: context });
    // The wrapped key is not on the object; it is in KEY.instruction.
    const m = await rawMetadata(key);
    expect(m['x-amz-3']).toBeUndefined();
    expect(m['x-amz-key-v2']).toBeUndefined();
    if (format === 'v3') expect(Object.keys(m).sort()).toEqual(['x-amz-c', 'x-amz-d', 'x-amz-i']);
    expect(await rawMetadata(`${key}.instruction`)).toEqual({ 'x-amz-crypto-instr-file': '' });
    // Python refuses an instruction file with any key outside the format's own ("Instruction file contains invalid keys"),
    // such as x-amz-unencrypted-content-length, which belongs to object metadata only.
    const instruction = JSON.parse((await rawObject(`${key}.instruction`)).toString('utf8'));
    expect(Object.keys(instruction).sort()).toEqual(format === 'v3' ? ['x-amz-3', 'x-amz-t', 'x-amz-w'] : V2_KEYS);
    await pythonS3ec('get', BUCKET, key, file(`${key}.out`), python({ context }));
    expect(readFileSync(file(`${key}.out`)).equals(plain)).toBe(true);
  });

  test.each(FORMATS)('Python refuses our %s object with the wrong or a missing encryption context', async (format) => {
    const key = `ours-${format}-ctx-1.bin`;
    const wrong = await runPythonS3ec('get', BUCKET, key, file(`${key}.wrong`), python({ context: { tenant: 'other', purpose: 'interop' } }));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(PY_CONTEXT_MISMATCH);
    const missing = await runPythonS3ec('get', BUCKET, key, file(`${key}.missing`), python());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(PY_CONTEXT_MISMATCH);
  });
});

describe('a flipped byte in the stored ciphertext is refused by both clients', () => {
  const cases = FORMATS.flatMap((format) => (['python', 'ours'] as const).map((writer) => ({ format, writer })));
  test.each(cases)('$format written by $writer', async ({ format, writer }) => {
    const plain = randomBytes(4096);
    const context = { tenant: 'acme' };
    const key = `tamper-${writer}-${format}.bin`;
    if (writer === 'python') {
      await pythonS3ec('put', BUCKET, key, file(`${key}.in`, plain), python({ format, context }));
    } else {
      await (format === 'v3' ? env.ours : env.oursV2).putObject({ Bucket: BUCKET, Key: key, Body: plain, encryptionContext: context });
    }
    // Both clients read the untouched object, so a refusal below is the flipped byte's doing.
    await pythonS3ec('get', BUCKET, key, file(`${key}.before`), python({ context }));
    expect(readFileSync(file(`${key}.before`)).equals(plain)).toBe(true);

    await flipStoredByte(key, 1000);

    const run = await runPythonS3ec('get', BUCKET, key, file(`${key}.out`), python({ context }));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('caused by: s3_encryption.exceptions.S3EncryptionClientSecurityError: Failed to decrypt Object');
    expect(run.stderr).toContain('caused by: cryptography.exceptions.InvalidTag');
    const err = await env.ours.getObject({ Bucket: BUCKET, Key: key, encryptionContext: context }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TamperedObjectError);
    // The commitment still matches the data key: it is the GCM tag that fails.
    expect(err).not.toBeInstanceOf(KeyCommitmentMismatchError);
    expect((err as Error).message).toMatch(/tag mismatch/);
  });
});

describe('a non-ASCII encryption context', () => {
  const context = { city: 'Z\u00fcrich' };

  test('the Python client refuses to write one, before anything is stored', async () => {
    const run = await runPythonS3ec('put', BUCKET, 'py-unicode.bin', file('py-unicode.in', randomBytes(100)), python({ context }));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(PY_NON_ASCII);
    await expect(env.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'py-unicode.bin' }))).rejects.toMatchObject({ name: 'NotFound' });
  });

  test('the Python client cannot read our object written with one: it refuses the context on read as well', async () => {
    const plain = randomBytes(100);
    // This client refuses such a context on write unless told otherwise, because of what follows.
    await expect(env.ours.putObject({ Bucket: BUCKET, Key: 'ours-unicode.bin', Body: plain, encryptionContext: context }))
      .rejects.toBeInstanceOf(InvalidRequestError);
    const writer = new S3EncryptionClient({ s3: env.s3, kms: env.kms, kmsKeyId: env.kmsKeyId, allowNonAsciiEncryptionContext: true });
    await writer.putObject({ Bucket: BUCKET, Key: 'ours-unicode.bin', Body: plain, encryptionContext: context });
    // Stored as ASCII JSON with \u escapes.
    expect(JSON.parse((await rawMetadata('ours-unicode.bin'))['x-amz-t'])).toEqual({ ...context, 'aws:x-amz-cek-alg': '115' });
    const same = await runPythonS3ec('get', BUCKET, 'ours-unicode.bin', file('ours-unicode.out'), python({ context }));
    expect(same.code).toBe(1);
    expect(same.stderr).toContain(PY_NON_ASCII);
    // Without the context the stored one does not match, so there is no way to read it from Python.
    const none = await runPythonS3ec('get', BUCKET, 'ours-unicode.bin', file('ours-unicode-none.out'), python());
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(PY_CONTEXT_MISMATCH);
    const out = await env.ours.getObject({ Bucket: BUCKET, Key: 'ours-unicode.bin', encryptionContext: context });
    expect((await bodyBytes(out.Body)).equals(plain)).toBe(true);
  });
});

describe('the harness itself', () => {
  test('Python writes and reads its own V3 object through moto', async () => {
    const plain = randomBytes(300_000);
    await pythonS3ec('put', BUCKET, 'py-self.bin', file('py-self.in', plain), python({ context: { a: 'b' } }));
    await pythonS3ec('get', BUCKET, 'py-self.bin', file('py-self.out'), python({ context: { a: 'b' } }));
    expect(readFileSync(file('py-self.out')).equals(plain)).toBe(true);
  });
});
