/**
 * Known-answer tests: with the data key, message id / IV and KMS wrapping fixed, the exact object
 * bytes and metadata are pinned as snapshots, re-derived here from the format rules with raw
 * node:crypto, and every byte of body, tag and metadata is shown to be protected.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FakeKms, FakeS3, fixedRandom, readAll } from './fakes';
import {
  EncryptionContextMismatchError, KeyCommitmentMismatchError, LegacyFormatRefusedError, S3EncryptionClient,
  S3EncryptionClientError, TamperedObjectError, UnknownFormatError,
} from '../../src/client';

const DATA_KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const MESSAGE_ID = Buffer.from(Array.from({ length: 28 }, (_, i) => 0xa0 + i));
const IV_V2 = Buffer.from(Array.from({ length: 12 }, (_, i) => 0xc0 + i));
const PLAINTEXT = Buffer.from('Hello, S3 Encryption Client!', 'utf8');
const EC = { tenant: 'acme', purpose: 'kat' };
const B = 'bucket';

function setup(version: 'v3' | 'v2', extra: Record<string, unknown> = {}) {
  const s3 = new FakeS3(7);
  const kms = new FakeKms(['key-1'], () => Buffer.from(DATA_KEY));
  const client = new S3EncryptionClient({
    s3: s3.asClient(),
    kms: kms.asClient(),
    kmsKeyId: 'key-1',
    formatVersion: version,
    randomSource: fixedRandom(version === 'v3' ? MESSAGE_ID : IV_V2),
    ...extra,
  });
  return { s3, kms, client };
}

/** Independent re-derivation of a V3 object from the specification text. */
function expectedV3(plaintext: Buffer) {
  const suite = Buffer.from([0x00, 0x73]);
  const commitment = Buffer.from(crypto.hkdfSync('sha512', DATA_KEY, MESSAGE_ID, Buffer.concat([suite, Buffer.from('COMMITKEY')]), 28));
  const key = Buffer.from(crypto.hkdfSync('sha512', DATA_KEY, MESSAGE_ID, Buffer.concat([suite, Buffer.from('DERIVEKEY')]), 32));
  const c = crypto.createCipheriv('aes-256-gcm', key, Buffer.alloc(12, 1));
  c.setAAD(suite);
  return { commitment, body: Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]) };
}

function expectedV2(plaintext: Buffer) {
  const c = crypto.createCipheriv('aes-256-gcm', DATA_KEY, IV_V2);
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

describe('V3 known answers', () => {
  test('object bytes and metadata', async () => {
    const { s3, client } = setup('v3');
    await client.putObject({ Bucket: B, Key: 'k', Body: PLAINTEXT, encryptionContext: EC });
    const o = s3.objects.get(`${B}/k`)!;
    const exp = expectedV3(PLAINTEXT);
    expect(o.body.equals(exp.body)).toBe(true);
    expect(o.metadata['x-amz-d']).toBe(exp.commitment.toString('base64'));
    expect(o.metadata['x-amz-i']).toBe(MESSAGE_ID.toString('base64'));
    expect(o.metadata['x-amz-c']).toBe('115');
    expect(o.metadata['x-amz-w']).toBe('12');
    expect(JSON.parse(o.metadata['x-amz-t'])).toEqual({ ...EC, 'aws:x-amz-cek-alg': '115' });
    expect(Object.keys(o.metadata).sort()).toEqual(['x-amz-3', 'x-amz-c', 'x-amz-d', 'x-amz-i', 'x-amz-t', 'x-amz-w']);
    expect({ body: o.body.toString('hex'), metadata: o.metadata }).toMatchSnapshot();
    const out = await client.getObject({ Bucket: B, Key: 'k', encryptionContext: EC });
    expect((await readAll(out.Body)).equals(PLAINTEXT)).toBe(true);
    expect(out.formatVersion).toBe('v3');
    expect(out.authenticated).toBe(true);
    expect(out.encryptionContext).toEqual(EC);
  });

  test('empty object is the tag alone', async () => {
    const { s3, client } = setup('v3');
    await client.putObject({ Bucket: B, Key: 'e', Body: '' });
    const o = s3.objects.get(`${B}/e`)!;
    expect(o.body.length).toBe(16);
    expect(o.body.equals(expectedV3(Buffer.alloc(0)).body)).toBe(true);
    expect({ body: o.body.toString('hex'), metadata: o.metadata }).toMatchSnapshot();
    const out = await client.getObject({ Bucket: B, Key: 'e' });
    expect((await out.Body.transformToByteArray()).length).toBe(0);
  });

  test('instruction file holds the key, object metadata holds c/d/i', async () => {
    const { s3, client } = setup('v3', { instructionFile: true });
    await client.putObject({ Bucket: B, Key: 'i', Body: PLAINTEXT, encryptionContext: EC });
    const o = s3.objects.get(`${B}/i`)!;
    const instr = s3.objects.get(`${B}/i.instruction`)!;
    expect(Object.keys(o.metadata).sort()).toEqual(['x-amz-c', 'x-amz-d', 'x-amz-i']);
    expect(Object.keys(JSON.parse(instr.body.toString())).sort()).toEqual(['x-amz-3', 'x-amz-t', 'x-amz-w']);
    expect(instr.metadata).toEqual({ 'x-amz-crypto-instr-file': '' });
    expect(o.body.equals(expectedV3(PLAINTEXT).body)).toBe(true);
    expect({ metadata: o.metadata, instruction: JSON.parse(instr.body.toString()) }).toMatchSnapshot();
    const out = await client.getObject({ Bucket: B, Key: 'i', encryptionContext: EC });
    expect(await out.Body.transformToString()).toBe(PLAINTEXT.toString());
    // An instruction file may not carry the content keys.
    const bad = JSON.parse(instr.body.toString());
    bad['x-amz-d'] = o.metadata['x-amz-d'];
    instr.body = Buffer.from(JSON.stringify(bad));
    await expect(client.getObject({ Bucket: B, Key: 'i', encryptionContext: EC })).rejects.toBeInstanceOf(TamperedObjectError);
  });
});

describe('V2 known answers', () => {
  test('object bytes and metadata', async () => {
    const { s3, client } = setup('v2');
    await client.putObject({ Bucket: B, Key: 'k', Body: PLAINTEXT, encryptionContext: EC });
    const o = s3.objects.get(`${B}/k`)!;
    expect(o.body.equals(expectedV2(PLAINTEXT))).toBe(true);
    expect(o.metadata['x-amz-iv']).toBe(IV_V2.toString('base64'));
    expect(o.metadata['x-amz-cek-alg']).toBe('AES/GCM/NoPadding');
    expect(o.metadata['x-amz-wrap-alg']).toBe('kms+context');
    expect(o.metadata['x-amz-tag-len']).toBe('128');
    expect(JSON.parse(o.metadata['x-amz-matdesc'])).toEqual({ ...EC, 'aws:x-amz-cek-alg': 'AES/GCM/NoPadding' });
    expect({ body: o.body.toString('hex'), metadata: o.metadata }).toMatchSnapshot();
    const out = await client.getObject({ Bucket: B, Key: 'k', encryptionContext: EC });
    expect((await readAll(out.Body)).equals(PLAINTEXT)).toBe(true);
    expect(out.formatVersion).toBe('v2');
  });

  test('instruction file holds the key material, and no x-amz-unencrypted-content-length (the Python client refuses an instruction file with it)', async () => {
    const { s3, client } = setup('v2', { instructionFile: true });
    await client.putObject({ Bucket: B, Key: 'i', Body: PLAINTEXT });
    expect(s3.objects.get(`${B}/i`)!.metadata).toEqual({});
    expect(Object.keys(JSON.parse(s3.objects.get(`${B}/i.instruction`)!.body.toString())).sort())
      .toEqual(['x-amz-cek-alg', 'x-amz-iv', 'x-amz-key-v2', 'x-amz-matdesc', 'x-amz-tag-len', 'x-amz-wrap-alg']);
    const out = await client.getObject({ Bucket: B, Key: 'i' });
    expect(await out.Body.transformToString()).toBe(PLAINTEXT.toString());
  });
});

function flip(buf: Buffer, i: number): Buffer {
  const b = Buffer.from(buf);
  b[i] = (b[i] + 1) % 256;
  return b;
}

function flipB64(v: string, i = 0): string {
  return flip(Buffer.from(v, 'base64'), i).toString('base64');
}

describe.each(['v3', 'v2'] as const)('%s tampering releases no plaintext', (version) => {
  test('every byte of body and tag, buffered and spooled', async () => {
    for (const maxBufferBytes of [1024 * 1024, 8]) {
      const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 's3ec-kat-'));
      const { s3, client } = setup(version, { maxBufferBytes, tempDir });
      await client.putObject({ Bucket: B, Key: 'k', Body: PLAINTEXT, encryptionContext: EC });
      const o = s3.objects.get(`${B}/k`)!;
      const original = o.body;
      let failures = 0;
      for (let i = 0; i < original.length; i++) {
        o.body = flip(original, i);
        const err = await client.getObject({ Bucket: B, Key: 'k', encryptionContext: EC }).then(() => undefined, (e) => e);
        expect(err).toBeInstanceOf(TamperedObjectError);
        failures++;
      }
      expect(failures).toBe(PLAINTEXT.length + 16);
      // Truncation and extension are tampering too.
      for (const body of [original.subarray(0, original.length - 1), original.subarray(0, 10), Buffer.concat([original, Buffer.from([0])])]) {
        o.body = body;
        await expect(client.getObject({ Bucket: B, Key: 'k', encryptionContext: EC })).rejects.toBeInstanceOf(TamperedObjectError);
      }
      o.body = original;
      expect(await (await client.getObject({ Bucket: B, Key: 'k', encryptionContext: EC })).Body.transformToString()).toBe(PLAINTEXT.toString());
      // Spooled ciphertext never outlives the call.
      expect(fs.readdirSync(tempDir)).toEqual([]);
      fs.rmSync(tempDir, { recursive: true, force: true });
    }
  });

  test('every metadata value', async () => {
    const { s3, client } = setup(version, { enableLegacyUnauthenticatedModes: true });
    await client.putObject({ Bucket: B, Key: 'k', Body: PLAINTEXT, encryptionContext: EC });
    const o = s3.objects.get(`${B}/k`)!;
    const original = { ...o.metadata };
    const cases: [string, (m: Record<string, string>) => void, new (...a: any[]) => Error][] = version === 'v3' ? [
      ['x-amz-d flipped', (m) => { m['x-amz-d'] = flipB64(m['x-amz-d'], 5); }, KeyCommitmentMismatchError],
      ['x-amz-i flipped', (m) => { m['x-amz-i'] = flipB64(m['x-amz-i'], 27); }, KeyCommitmentMismatchError],
      ['x-amz-3 flipped', (m) => { m['x-amz-3'] = flipB64(m['x-amz-3'], 20); }, EncryptionContextMismatchError],
      ['x-amz-t value changed', (m) => { m['x-amz-t'] = m['x-amz-t'].replace('acme', 'acmf'); }, EncryptionContextMismatchError],
      ['x-amz-t cek alg changed', (m) => { m['x-amz-t'] = m['x-amz-t'].replace('"115"', '"AES/GCM/NoPadding"'); }, TamperedObjectError],
      ['x-amz-c changed', (m) => { m['x-amz-c'] = '116'; }, UnknownFormatError],
      ['x-amz-w changed', (m) => { m['x-amz-w'] = '02'; }, UnknownFormatError],
      ['x-amz-d truncated', (m) => { m['x-amz-d'] = Buffer.from(m['x-amz-d'], 'base64').subarray(1).toString('base64'); }, TamperedObjectError],
      ['x-amz-d removed', (m) => { delete m['x-amz-d']; }, TamperedObjectError],
      ['all removed', (m) => { for (const k of Object.keys(m)) delete m[k]; }, UnknownFormatError],
      ['V2 key added', (m) => { m['x-amz-key-v2'] = m['x-amz-3']; }, TamperedObjectError],
    ] : [
      ['x-amz-iv flipped', (m) => { m['x-amz-iv'] = flipB64(m['x-amz-iv'], 3); }, TamperedObjectError],
      ['x-amz-key-v2 flipped', (m) => { m['x-amz-key-v2'] = flipB64(m['x-amz-key-v2'], 20); }, EncryptionContextMismatchError],
      ['x-amz-matdesc value changed', (m) => { m['x-amz-matdesc'] = m['x-amz-matdesc'].replace('acme', 'acmf'); }, EncryptionContextMismatchError],
      ['x-amz-cek-alg downgraded to CBC', (m) => { m['x-amz-cek-alg'] = 'AES/CBC/PKCS5Padding'; delete m['x-amz-tag-len']; }, TamperedObjectError],
      ['x-amz-tag-len changed', (m) => { m['x-amz-tag-len'] = '96'; }, TamperedObjectError],
      ['x-amz-cek-alg unknown', (m) => { m['x-amz-cek-alg'] = 'AES/XTS'; }, UnknownFormatError],
      ['x-amz-wrap-alg unknown', (m) => { m['x-amz-wrap-alg'] = 'AESWrap'; }, UnknownFormatError],
      ['x-amz-matdesc not JSON', (m) => { m['x-amz-matdesc'] = '{'; }, TamperedObjectError],
      ['V3 key added', (m) => { m['x-amz-3'] = m['x-amz-key-v2']; }, TamperedObjectError],
    ];
    for (const [name, mutate, type] of cases) {
      o.metadata = { ...original };
      mutate(o.metadata);
      const err = await client.getObject({ Bucket: B, Key: 'k', encryptionContext: EC }).then(() => undefined, (e) => e);
      expect([name, err?.constructor?.name]).toEqual([name, type.name]);
      expect(err).toBeInstanceOf(S3EncryptionClientError);
      expect(String(err.message).length).toBeGreaterThan(40);
    }
    o.metadata = { ...original };
    expect(await (await client.getObject({ Bucket: B, Key: 'k', encryptionContext: EC })).Body.transformToString()).toBe(PLAINTEXT.toString());
  });

  test('every byte of every metadata value', async () => {
    const { s3, client } = setup(version);
    await client.putObject({ Bucket: B, Key: 'k', Body: PLAINTEXT, encryptionContext: EC });
    const o = s3.objects.get(`${B}/k`)!;
    const original = { ...o.metadata };
    // Binary values (base64) and the error each of their bytes must give.
    const binary: Record<string, new (...a: any[]) => Error> = version === 'v3'
      ? { 'x-amz-d': KeyCommitmentMismatchError, 'x-amz-i': KeyCommitmentMismatchError, 'x-amz-3': EncryptionContextMismatchError }
      : { 'x-amz-iv': TamperedObjectError, 'x-amz-key-v2': EncryptionContextMismatchError };
    const typed = [TamperedObjectError, EncryptionContextMismatchError, UnknownFormatError];
    let cases = 0;
    for (const key of Object.keys(original)) {
      if (key === 'x-amz-unencrypted-content-length') continue; // not authenticated by any version: checked below
      const values: string[] = [];
      if (key in binary) {
        const bytes = Buffer.from(original[key], 'base64');
        for (let i = 0; i < bytes.length; i++) values.push(flip(bytes, i).toString('base64'));
      } else {
        const text = original[key];
        for (let i = 0; i < text.length; i++) values.push(text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ 1) + text.slice(i + 1));
      }
      for (const value of values) {
        o.metadata = { ...original, [key]: value };
        const err = await client.getObject({ Bucket: B, Key: 'k', encryptionContext: EC }).then(() => undefined, (e) => e);
        if (key in binary) expect([key, value, err?.constructor?.name]).toEqual([key, value, binary[key].name]);
        else expect([key, value, typed.some((t) => err instanceof t)]).toEqual([key, value, true]);
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(150);
    if (version === 'v2') {
      // The plaintext length is a hint the format does not authenticate; the body's own length rules.
      o.metadata = { ...original, 'x-amz-unencrypted-content-length': '999' };
      const out = await client.getObject({ Bucket: B, Key: 'k', encryptionContext: EC });
      expect(out.ContentLength).toBe(PLAINTEXT.length);
      expect(await out.Body.transformToString()).toBe(PLAINTEXT.toString());
    }
    o.metadata = { ...original };
    expect(await (await client.getObject({ Bucket: B, Key: 'k', encryptionContext: EC })).Body.transformToString()).toBe(PLAINTEXT.toString());
  });
});

/** Stores a legacy AES-CBC object with a `kms`-wrapped data key, as the SDK v1 clients wrote it. */
function putLegacy(s3: FakeS3, kms: FakeKms, key: string, keyName: 'x-amz-key' | 'x-amz-key-v2', matdesc: Record<string, string>): void {
  const iv = Buffer.alloc(16, 7);
  const c = crypto.createCipheriv('aes-256-cbc', DATA_KEY, iv);
  s3.objects.set(`${B}/${key}`, {
    body: Buffer.concat([c.update(PLAINTEXT), c.final()]),
    metadata: {
      [keyName]: kms.wrap('key-1', DATA_KEY, matdesc).toString('base64'),
      'x-amz-iv': iv.toString('base64'),
      'x-amz-matdesc': JSON.stringify(matdesc),
      'x-amz-wrap-alg': 'kms',
      ...(keyName === 'x-amz-key-v2' ? { 'x-amz-cek-alg': 'AES/CBC/PKCS5Padding' } : {}),
      'x-amz-unencrypted-content-length': String(PLAINTEXT.length),
    },
  });
}

describe('wrong context, wrong key, legacy', () => {
  test('encryption context must match', async () => {
    const { client } = setup('v3');
    await client.putObject({ Bucket: B, Key: 'k', Body: PLAINTEXT, encryptionContext: EC });
    await expect(client.getObject({ Bucket: B, Key: 'k' })).rejects.toBeInstanceOf(EncryptionContextMismatchError);
    await expect(client.getObject({ Bucket: B, Key: 'k', encryptionContext: { ...EC, tenant: 'other' } })).rejects.toBeInstanceOf(EncryptionContextMismatchError);
    await expect(client.getObject({ Bucket: B, Key: 'k', encryptionContext: { ...EC, extra: 'x' } })).rejects.toThrow(/Pass the same encryptionContext/);
  });

  test('unauthenticated streaming is opt-in and still fails at the end', async () => {
    const { s3, client } = setup('v3');
    await client.putObject({ Bucket: B, Key: 'k', Body: PLAINTEXT });
    const o = s3.objects.get(`${B}/k`)!;
    const ok = await client.getObject({ Bucket: B, Key: 'k', allowUnauthenticatedStreaming: true });
    expect(ok.authenticated).toBe(false);
    expect(await ok.Body.transformToString()).toBe(PLAINTEXT.toString());
    o.body = flip(o.body, 2);
    const bad = await client.getObject({ Bucket: B, Key: 'k', allowUnauthenticatedStreaming: true });
    await expect(readAll(bad.Body)).rejects.toBeInstanceOf(TamperedObjectError);
  });

  test('legacy V1 (x-amz-key, AES-CBC, kms) only when enabled', async () => {
    const s3 = new FakeS3();
    const kms = new FakeKms(['key-1']);
    for (const [key, keyName] of [['v1', 'x-amz-key'], ['v2cbc', 'x-amz-key-v2']] as const) {
      putLegacy(s3, kms, key, keyName, { kms_cmk_id: 'key-1' });
      const strict = new S3EncryptionClient({ s3: s3.asClient(), kms: kms.asClient(), kmsKeyId: 'key-1' });
      await expect(strict.getObject({ Bucket: B, Key: key })).rejects.toBeInstanceOf(LegacyFormatRefusedError);
      const lenient = new S3EncryptionClient({ s3: s3.asClient(), kms: kms.asClient(), kmsKeyId: 'key-1', enableLegacyUnauthenticatedModes: true });
      const out = await lenient.getObject({ Bucket: B, Key: key });
      expect(out.authenticated).toBe(false);
      expect(out.formatVersion).toBe(key === 'v1' ? 'v1' : 'v2');
      expect(await out.Body.transformToString()).toBe(PLAINTEXT.toString());
      // A context given on read is compared with the stored material description, never ignored.
      const before = kms.decryptCalls;
      await expect(lenient.getObject({ Bucket: B, Key: key, encryptionContext: EC })).rejects.toThrow(EncryptionContextMismatchError);
      await expect(lenient.getObject({ Bucket: B, Key: key, encryptionContext: EC })).rejects.toThrow(/material description the legacy 'kms' object/);
      expect(kms.decryptCalls).toBe(before);
    }
  });

  test('legacy kms with a material description: read with the same context or none, refused with another', async () => {
    const s3 = new FakeS3();
    const kms = new FakeKms(['key-1']);
    const matdesc = { kms_cmk_id: 'key-1', ...EC };
    putLegacy(s3, kms, 'v1', 'x-amz-key', matdesc);
    const client = new S3EncryptionClient({ s3: s3.asClient(), kms: kms.asClient(), kmsKeyId: 'key-1', enableLegacyUnauthenticatedModes: true });
    for (const encryptionContext of [EC, undefined]) {
      const out = await client.getObject({ Bucket: B, Key: 'v1', encryptionContext });
      expect(out.encryptionContext).toEqual(EC);
      expect(await out.Body.transformToString()).toBe(PLAINTEXT.toString());
    }
    for (const encryptionContext of [{ ...EC, tenant: 'other' }, { tenant: 'acme' }, { ...EC, extra: 'x' }]) {
      await expect(client.getObject({ Bucket: B, Key: 'v1', encryptionContext })).rejects.toThrow(EncryptionContextMismatchError);
    }
    // KMS itself checks the stored description: changing it in the metadata fails the unwrap.
    s3.objects.get(`${B}/v1`)!.metadata['x-amz-matdesc'] = JSON.stringify({ ...matdesc, tenant: 'other' });
    await expect(client.getObject({ Bucket: B, Key: 'v1' })).rejects.toThrow(EncryptionContextMismatchError);
  });
});
