/**
 * The client against the points of the S3 Encryption Client specification and the interop findings
 * that are decided in the client alone: non-ASCII encryption contexts, prototype-named context
 * keys, V2 objects without x-amz-tag-len, the message of a tampered object read with
 * unauthenticated streaming, and the SSE-C guard of requestParams(s3). Ranged GETs, DeleteObjects
 * and versioned deletes run against moto in test/integ/client-spec-moto.test.ts.
 */
import * as crypto from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { FakeKms, FakeS3, readAll } from './fakes';
import { InvalidRequestError, S3EncryptionClient, SseCustomerInsecureEndpointError, SseCustomerKey, TamperedObjectError } from '../../src/client';

const B = 'bucket';

function make(extra: Record<string, unknown> = {}, s3 = new FakeS3(), kms = new FakeKms(['key-1'])) {
  return { s3, kms, client: new S3EncryptionClient({ s3: s3.asClient(), kms: kms.asClient(), kmsKeyId: 'key-1', ...extra }) };
}

describe('non-ASCII encryption context', () => {
  test.each([
    ['a value', { city: 'Z\u00fcrich' }, 'value of "city"'],
    ['a key', { städt: 'x' }, 'key "st\u00e4dt"'],
    ['an emoji', { note: '\u{1F510}' }, 'value of "note"'],
  ])('%s is refused on write by default, with why and the opt-in', async (_name, ec, what) => {
    const { s3, client } = make();
    await expect(client.putObject({ Bucket: B, Key: 'k', Body: 'x', encryptionContext: ec })).rejects.toThrow(new InvalidRequestError(
      `Encryption context ${what} has characters outside US-ASCII. The Python S3 Encryption Client refuses such objects and the Java client writes the `
      + 'context unescaped (Latin-1 only), so the object could not be shared. Use ASCII, or set allowNonAsciiEncryptionContext: true if only this client '
      + '(or Java, for Latin-1 text) will read it.'));
    expect(s3.objects.size).toBe(0);
  });

  test('with the opt-in it is written (as escaped ASCII JSON) and read back; reading never needs the opt-in', async () => {
    const s3 = new FakeS3();
    const kms = new FakeKms(['key-1']);
    const ec = { city: 'Z\u00fcrich', note: '\u{1F510}' };
    await make({ allowNonAsciiEncryptionContext: true }, s3, kms).client.putObject({ Bucket: B, Key: 'k', Body: 'x', encryptionContext: ec });
    expect(s3.objects.get(`${B}/k`)!.metadata['x-amz-t']).toMatch(/^[\x20-\x7e]+$/);
    const out = await make({}, s3, kms).client.getObject({ Bucket: B, Key: 'k', encryptionContext: ec });
    expect(out.encryptionContext).toEqual(ec);
  });

  test('an ASCII context is written without the opt-in, and so is V2', async () => {
    for (const formatVersion of ['v3', 'v2'] as const) {
      const { client } = make({ formatVersion });
      await expect(client.putObject({ Bucket: B, Key: 'k', Body: 'x', encryptionContext: { tenant: 'acme-01', path: '/a b/~' } })).resolves.toBeDefined();
    }
  });
});

describe('encryption-context keys named like Object.prototype members', () => {
  test.each(['v3', 'v2'] as const)('%s: "__proto__", "constructor" and "hasOwnProperty" round-trip, and a different value is refused', async (formatVersion) => {
    const { client } = make({ formatVersion });
    // JSON.parse makes "__proto__" an own key, as a caller reading a context from JSON gets it.
    const ec = JSON.parse('{"__proto__":"tenant-a","constructor":"c","hasOwnProperty":"h"}') as Record<string, string>;
    expect(Object.keys(ec)).toEqual(['__proto__', 'constructor', 'hasOwnProperty']);
    await client.putObject({ Bucket: B, Key: 'k', Body: 'payload', encryptionContext: ec });
    const out = await client.getObject({ Bucket: B, Key: 'k', encryptionContext: ec });
    expect(await out.Body.transformToString()).toBe('payload');
    expect(Object.keys(out.encryptionContext).sort()).toEqual(['__proto__', 'constructor', 'hasOwnProperty']);
    const other = JSON.parse('{"__proto__":"tenant-b","constructor":"c","hasOwnProperty":"h"}');
    await expect(client.getObject({ Bucket: B, Key: 'k', encryptionContext: other })).rejects.toThrow(/does not match the one the object was written with/);
  });
});

describe('a V2 AES-GCM object without x-amz-tag-len', () => {
  test('is read as a 128-bit tag; any other value stays refused', async () => {
    const { s3, client } = make({ formatVersion: 'v2' });
    const plain = crypto.randomBytes(5000);
    await client.putObject({ Bucket: B, Key: 'k', Body: plain });
    const stored = s3.objects.get(`${B}/k`)!;
    expect(stored.metadata['x-amz-tag-len']).toBe('128');
    delete stored.metadata['x-amz-tag-len'];
    expect((await readAll((await client.getObject({ Bucket: B, Key: 'k' })).Body)).equals(plain)).toBe(true);
    stored.metadata['x-amz-tag-len'] = '96';
    await expect(client.getObject({ Bucket: B, Key: 'k' })).rejects.toThrow(/x-amz-tag-len is "96", expected 128/);
  });
});

describe('unauthenticated streaming of a tampered object', () => {
  test('the error says exactly how many bytes of unverified plaintext were released', async () => {
    const { s3, client } = make({}, new FakeS3(1000));
    const plain = crypto.randomBytes(10_000);
    await client.putObject({ Bucket: B, Key: 'k', Body: plain });
    const body = s3.objects.get(`${B}/k`)!.body;
    body[body.length - 1] ^= 1;
    const out = await client.getObject({ Bucket: B, Key: 'k', allowUnauthenticatedStreaming: true });
    expect(out.authenticated).toBe(false);
    let released = 0;
    const error = await (async () => {
      try {
        for await (const chunk of out.Body) released += (chunk as Buffer).length;
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(released).toBe(10_000);
    expect(error).toBeInstanceOf(TamperedObjectError);
    expect(error!.message).toBe('The object failed authentication (AES-GCM tag mismatch, or a body shorter than its tag) after 10000 bytes of unverified '
      + 'plaintext were released (allowUnauthenticatedStreaming): discard all of them. The object was changed after it was written; restore it from a trusted copy.');
  });
});

describe('SseCustomerKey.requestParams(s3): the README\'s path keeps the key off plain HTTP', () => {
  const key = SseCustomerKey.generate();
  const put = { Bucket: B, Key: 'k', Body: 'x' };

  test('given an http:// client, the request is refused before it is sent', async () => {
    const sent: string[] = [];
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      requestHandler: { handle: async (r: any) => { sent.push(r.protocol); return { response: { statusCode: 200, headers: {} } }; } } as any,
    });
    const error = await s3.send(new PutObjectCommand({ ...put, ...key.requestParams(s3) })).catch((e) => e);
    expect(error).toBeInstanceOf(SseCustomerInsecureEndpointError);
    expect(error.endpoint).toBe('http://127.0.0.1:9');
    expect(sent).toEqual([]);
    // Requests without a key still go through the guarded client.
    await s3.send(new PutObjectCommand(put));
    expect(sent).toEqual(['http:']);
    s3.destroy();
  });

  test('given an https:// client, the request goes out with the key headers', async () => {
    const sent: any[] = [];
    const s3 = new S3Client({
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      requestHandler: { handle: async (r: any) => { sent.push(r); return { response: { statusCode: 200, headers: {} } }; } } as any,
    });
    await s3.send(new PutObjectCommand({ ...put, ...key.requestParams(s3) }));
    expect(sent).toHaveLength(1);
    expect(sent[0].protocol).toBe('https:');
    expect(sent[0].headers['x-amz-server-side-encryption-customer-key-md5']).toBe(key.fingerprint);
    s3.destroy();
  });
});
