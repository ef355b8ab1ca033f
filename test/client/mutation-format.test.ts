/**
 * The object-format layer on its own (src/client/format.ts): which metadata is read as which
 * format version, what is refused as tampered or unknown and with which message, and the exact
 * metadata written. The client tests reach this code through whole objects; these pin each rule
 * one by one, so that a changed rule fails a test named for it.
 */
import { InvalidRequestError, TamperedObjectError, UnknownFormatError } from '../../src/client';
import {
  asciiJson, assertNoReservedMetadata, CBC, decodeMetadata, decodeS3MetadataValue, encodeV2, encodeV3, GCM,
  GCM_MAX_CONTENT_LENGTH, hasFormatKeys, isV3WithInstructionFile, normalizeMetadata, parseJsonMap,
} from '../../src/client/format';
import { thrown } from '../support/thrown';

const b64 = (n: number, fill = 7) => Buffer.alloc(n, fill).toString('base64');

/** Metadata of a well-formed V3 object (x-amz-3 = wrapped data key, x-amz-i = 28-byte message id, x-amz-d = 28-byte commitment). */
const V3 = (): Record<string, string> => ({
  'x-amz-c': '115',
  'x-amz-3': b64(40),
  'x-amz-w': '12',
  'x-amz-t': '{"tenant":"acme"}',
  'x-amz-d': b64(28, 1),
  'x-amz-i': b64(28, 2),
});

/** Metadata of a well-formed V2 (AES-GCM, kms+context) object. */
const V2 = (): Record<string, string> => ({
  'x-amz-key-v2': b64(40),
  'x-amz-iv': b64(12),
  'x-amz-cek-alg': 'AES/GCM/NoPadding',
  'x-amz-tag-len': '128',
  'x-amz-wrap-alg': 'kms+context',
  'x-amz-matdesc': '{"tenant":"acme"}',
});

/** Metadata of a legacy V1 object (AES-CBC, kms). */
const V1 = (): Record<string, string> => ({
  'x-amz-key': b64(40),
  'x-amz-iv': b64(16),
  'x-amz-wrap-alg': 'kms',
  'x-amz-matdesc': '{"kms_cmk_id":"key-1"}',
});

function without(m: Record<string, string>, key: string): Record<string, string> {
  const { [key]: _, ...rest } = m;
  return rest;
}

describe('the format constants are the specification\'s', () => {
  test('the suite ids, ciphers and the AES-GCM size limit', () => {
    expect(GCM).toBe('AES/GCM/NoPadding');
    expect(CBC).toBe('AES/CBC/PKCS5Padding');
    // (2^32 - 2) blocks of 16 bytes.
    expect(GCM_MAX_CONTENT_LENGTH).toBe(68_719_476_704);
  });
});

describe('metadata JSON stays US-ASCII', () => {
  test('every character from U+007F up is escaped as \\uXXXX, four lower-case hex digits, and nothing below it', () => {
    expect(asciiJson({ a: '~' })).toBe('{"a":"~"}');
    expect(asciiJson({ a: '\u007f' })).toBe('{"a":"\\u007f"}');
    expect(asciiJson({ clé: 'é€' })).toBe('{"cl\\u00e9":"\\u00e9\\u20ac"}');
    expect(asciiJson({ a: '😀' })).toBe('{"a":"\\ud83d\\ude00"}');
  });

  test('any JSON reader gets the same map back', () => {
    const m = { clé: 'valeur €', plain: 'x', emoji: '😀' };
    expect(JSON.parse(asciiJson(m))).toEqual(m);
    expect(asciiJson(m)).toMatch(/^[\x20-\x7e]*$/);
  });
});

describe('S3 metadata values encoded as RFC 2047 words are decoded', () => {
  test('a value without an encoded word is returned unchanged, even if it looks like mojibake', () => {
    expect(decodeS3MetadataValue('plain value')).toBe('plain value');
    expect(decodeS3MetadataValue('Ã©')).toBe('Ã©');
  });

  test('B (base64) and Q (quoted-printable, "_" for space) words, in either case, in UTF-8', () => {
    expect(decodeS3MetadataValue('=?UTF-8?B?w6k=?=')).toBe('é');
    expect(decodeS3MetadataValue('=?utf-8?b?w6k=?=')).toBe('é');
    expect(decodeS3MetadataValue('=?UTF-8?Q?caf=C3=A9_au_lait?=')).toBe('café au lait');
    expect(decodeS3MetadataValue('=?utf8?q?caf=c3=a9?=')).toBe('café');
  });

  test('words of another charset are read as Latin-1', () => {
    expect(decodeS3MetadataValue('=?ISO-8859-1?Q?caf=E9?=')).toBe('café');
  });

  test('adjacent words are joined without the whitespace between them; text around them is kept', () => {
    expect(decodeS3MetadataValue('=?UTF-8?B?YQ==?= =?UTF-8?B?Yg==?=')).toBe('ab');
    expect(decodeS3MetadataValue('x =?UTF-8?Q?y?=z')).toBe('x yz');
  });

  test('UTF-8 bytes that came back as Latin-1 characters are turned back into UTF-8', () => {
    // The bytes C3 A9 (UTF-8 "é") sent in a Latin-1 word decode to "Ã©", which round-trips to "é".
    expect(decodeS3MetadataValue('=?ISO-8859-1?B?w6k=?=')).toBe('é');
  });

  test('Latin-1 text that is not UTF-8, or text beyond Latin-1, is left as decoded', () => {
    expect(decodeS3MetadataValue('=?ISO-8859-1?Q?=E9t=E9?=')).toBe('été');
    expect(decodeS3MetadataValue('=?UTF-8?B?w4PCqeKCrA==?=')).toBe('Ã©€');
    // "Ã©Ā": read back as Latin-1 bytes this would be valid UTF-8 ("é" and U+0000), but Ā is beyond Latin-1.
    expect(decodeS3MetadataValue('=?UTF-8?B?w4PCqcSA?=')).toBe('Ã©Ā');
  });

  test('a UTF-8 word is decoded as UTF-8, not as Latin-1 repaired afterwards', () => {
    // Invalid UTF-8 (a lone E9) becomes U+FFFD, as in any UTF-8 reader.
    expect(decodeS3MetadataValue('=?UTF-8?Q?caf=E9?=')).toBe('caf\ufffd');
    // Beside text beyond Latin-1, a Latin-1 reading could not be repaired.
    expect(decodeS3MetadataValue('=?UTF-8?B?w6k=?=x€')).toBe('éx€');
  });
});

describe('a stored JSON map is read strictly', () => {
  test('absent or empty means no entries', () => {
    expect(parseJsonMap(undefined, 'x')).toEqual({});
    expect(parseJsonMap('', 'x')).toEqual({});
  });

  test('a JSON object of strings is returned, RFC 2047 words decoded first', () => {
    expect(parseJsonMap('{"a":"1","b":"2"}', 'x')).toEqual({ a: '1', b: '2' });
    expect(parseJsonMap('=?UTF-8?B?eyJrIjoiw6kifQ==?=', 'x')).toEqual({ k: 'é' });
  });

  test('JSON that does not parse is tampering, named and with its cause', () => {
    const e = thrown(() => parseJsonMap('{oops', 'encryption context (x-amz-t)'));
    expect(e).toBeInstanceOf(TamperedObjectError);
    expect(e.message).toMatch(/^The encryption context \(x-amz-t\) stored with the object is not valid JSON; .*Restore the object from a trusted copy\.$/);
    expect(e.cause).toBeInstanceOf(SyntaxError);
  });

  test.each(['null', '[]', '["a"]', '"text"', '42', 'true'])('%s is not a JSON object: tampering', (raw) => {
    const e = thrown(() => parseJsonMap(raw, 'material description'));
    expect(e).toBeInstanceOf(TamperedObjectError);
    expect(e.message).toMatch(/^The material description stored with the object is not a JSON object; the metadata was changed\./);
  });

  test.each(['{"a":1}', '{"a":null}', '{"a":{"b":"c"}}', '{"ok":"1","a":["x"]}'])('%s has a non-string value: tampering that names the key', (raw) => {
    const e = thrown(() => parseJsonMap(raw, 'material description'));
    expect(e).toBeInstanceOf(TamperedObjectError);
    expect(e.message).toMatch(/^The material description stored with the object has a non-string value for "a"; the metadata was changed\./);
  });
});

describe('which format a metadata map is', () => {
  test.each(['x-amz-key', 'x-amz-key-v2', 'x-amz-3', 'x-amz-c', 'x-amz-i', 'x-amz-d'])('%s alone marks an encrypted object', (k) => {
    expect(hasFormatKeys({ [k]: 'v' })).toBe(true);
  });

  test('other metadata does not', () => {
    expect(hasFormatKeys({})).toBe(false);
    expect(hasFormatKeys({ 'x-amz-iv': 'v', 'x-amz-matdesc': '{}', 'x-amz-t': '{}', 'x-amz-w': '12', 'other': 'v' })).toBe(false);
  });

  test('a V3 object keeps its key in an instruction file only when x-amz-c, x-amz-d and x-amz-i are there and x-amz-3 is not', () => {
    const content = { 'x-amz-c': '115', 'x-amz-d': 'd', 'x-amz-i': 'i' };
    expect(isV3WithInstructionFile(content)).toBe(true);
    for (const k of Object.keys(content)) expect(isV3WithInstructionFile(without(content, k))).toBe(false);
    expect(isV3WithInstructionFile({ ...content, 'x-amz-3': 'k' })).toBe(false);
  });
});

describe('decoding V3 metadata', () => {
  test('a well-formed V3 object: suite 115, kms+context, the data key, the context, the 28-byte message id and commitment', () => {
    const m = decodeMetadata(V3());
    expect(m).toEqual({
      version: 'v3',
      contentCipher: '115',
      wrapAlg: 'kms+context',
      encryptedDataKey: Buffer.alloc(40, 7),
      storedContext: { tenant: 'acme' },
      messageId: Buffer.alloc(28, 2),
      commitment: Buffer.alloc(28, 1),
    });
    expect(m.iv).toBeUndefined();
  });

  test('no x-amz-t means an empty stored context', () => {
    expect(decodeMetadata(without(V3(), 'x-amz-t')).storedContext).toEqual({});
  });

  test.each(['x-amz-c', 'x-amz-w', 'x-amz-d', 'x-amz-i'])('without %s: tampering that names it', (k) => {
    const e = thrown(() => decodeMetadata(without(V3(), k)));
    expect(e).toBeInstanceOf(TamperedObjectError);
    expect(e.message).toBe(`V3 metadata "${k}" is missing; the object's metadata was changed. Restore the object from a trusted copy.`);
  });

  test.each(['x-amz-iv', 'x-amz-cek-alg', 'x-amz-wrap-alg', 'x-amz-matdesc'])('with the V1/V2 key %s: tampering that names it', (k) => {
    const e = thrown(() => decodeMetadata({ ...V3(), [k]: 'x' }));
    expect(e).toBeInstanceOf(TamperedObjectError);
    expect(e.message).toMatch(new RegExp(`^V3 object carries the V1/V2 metadata key "${k}"; `));
  });

  test('another content cipher is an unknown format, not tampering, and the message names it', () => {
    const e = thrown(() => decodeMetadata({ ...V3(), 'x-amz-c': '116' }));
    expect(e).toBeInstanceOf(UnknownFormatError);
    expect(e.message).toMatch(/^Unknown V3 content cipher "116" \(only 115, /);
  });

  test('another wrapping algorithm (a raw AES or RSA keyring) is an unknown format that names it', () => {
    const e = thrown(() => decodeMetadata({ ...V3(), 'x-amz-w': '02' }));
    expect(e).toBeInstanceOf(UnknownFormatError);
    expect(e.message).toMatch(/^V3 wrapping algorithm "02" is not supported by this client \(it supports 12 = kms\+context\)/);
  });

  test('a message id or commitment of the wrong length is tampering that gives both lengths', () => {
    expect(() => decodeMetadata({ ...V3(), 'x-amz-i': b64(27) })).toThrow('Metadata "x-amz-i" has 27 bytes, expected 28');
    expect(() => decodeMetadata({ ...V3(), 'x-amz-d': b64(32) })).toThrow('Metadata "x-amz-d" has 32 bytes, expected 28');
  });

  test('base64 that is not canonical is refused, so edits cannot hide in padding; surrounding whitespace is not an edit', () => {
    const id = b64(28, 2);
    const e = thrown(() => decodeMetadata({ ...V3(), 'x-amz-i': id.replace('=', '') + '!' }));
    expect(e).toBeInstanceOf(TamperedObjectError);
    expect(e.message).toBe('Metadata "x-amz-i" is not valid base64; the object\'s metadata was changed. Restore the object from a trusted copy.');
    expect(() => decodeMetadata({ ...V3(), 'x-amz-3': 'AAAB' + 'A' })).toThrow(/"x-amz-3" is not valid base64/);
    expect(decodeMetadata({ ...V3(), 'x-amz-i': `${id}\n` }).messageId).toEqual(Buffer.alloc(28, 2));
  });

  test('a broken x-amz-t is tampering that names it', () => {
    expect(() => decodeMetadata({ ...V3(), 'x-amz-t': '{' })).toThrow(/^The encryption context \(x-amz-t\) stored with the object is not valid JSON/);
  });
});

describe('decoding V2 and V1 metadata', () => {
  test('a well-formed V2 object: AES-GCM, kms+context, the data key, the material description and the 12-byte IV', () => {
    expect(decodeMetadata(V2())).toEqual({
      version: 'v2',
      contentCipher: 'AES/GCM/NoPadding',
      wrapAlg: 'kms+context',
      encryptedDataKey: Buffer.alloc(40, 7),
      storedContext: { tenant: 'acme' },
      iv: Buffer.alloc(12, 7),
    });
  });

  test('a V1 object: no x-amz-cek-alg means AES-CBC, with a 16-byte IV and the legacy kms wrapping', () => {
    expect(decodeMetadata(V1())).toEqual({
      version: 'v1',
      contentCipher: 'AES/CBC/PKCS5Padding',
      wrapAlg: 'kms',
      encryptedDataKey: Buffer.alloc(40, 7),
      storedContext: { kms_cmk_id: 'key-1' },
      iv: Buffer.alloc(16, 7),
    });
  });

  test('the IV length follows the content cipher', () => {
    expect(() => decodeMetadata({ ...V2(), 'x-amz-iv': b64(16) })).toThrow('Metadata "x-amz-iv" has 16 bytes, expected 12');
    expect(() => decodeMetadata({ ...V1(), 'x-amz-iv': b64(12) })).toThrow('Metadata "x-amz-iv" has 12 bytes, expected 16');
    expect(() => decodeMetadata(without(V2(), 'x-amz-iv'))).toThrow('Metadata "x-amz-iv" is missing; the object\'s metadata was changed. Restore the object from a trusted copy.');
  });

  test('a broken material description is tampering that names it', () => {
    expect(() => decodeMetadata({ ...V2(), 'x-amz-matdesc': '[1]' })).toThrow(/^The material description \(x-amz-matdesc\) stored with the object is not a JSON object/);
  });

  test('no material description means an empty stored context', () => {
    expect(decodeMetadata(without(V2(), 'x-amz-matdesc')).storedContext).toEqual({});
  });

  test.each(['x-amz-c', 'x-amz-w', 'x-amz-d', 'x-amz-i', 'x-amz-m', 'x-amz-t'])('with the V3 key %s: tampering that names it', (k) => {
    for (const m of [V2(), V1()]) {
      const e = thrown(() => decodeMetadata({ ...m, [k]: 'x' }));
      expect(e).toBeInstanceOf(TamperedObjectError);
      expect(e.message).toMatch(new RegExp(`^V1/V2 object carries the V3 metadata key "${k}"; `));
    }
  });

  test('an unknown content cipher is an unknown format that names it', () => {
    const e = thrown(() => decodeMetadata({ ...V2(), 'x-amz-cek-alg': 'AES/CTR/NoPadding' }));
    expect(e).toBeInstanceOf(UnknownFormatError);
    expect(e.message).toMatch(/^Unknown content cipher "AES\/CTR\/NoPadding" in x-amz-cek-alg; /);
  });

  test('no wrapping algorithm means a non-KMS master key: an unknown format', () => {
    const e = thrown(() => decodeMetadata(without(V2(), 'x-amz-wrap-alg')));
    expect(e).toBeInstanceOf(UnknownFormatError);
    expect(e.message).toMatch(/^The object has no x-amz-wrap-alg: it was encrypted with a symmetric or asymmetric master key, not KMS\./);
  });

  test.each(['AESWrap', 'RSA-OAEP-SHA1', 'kms+context ', 'KMS'])('the wrapping algorithm %p is an unknown format that names it', (w) => {
    const e = thrown(() => decodeMetadata({ ...V2(), 'x-amz-wrap-alg': w }));
    expect(e).toBeInstanceOf(UnknownFormatError);
    expect(e.message).toContain(`Wrapping algorithm "${w}" is not supported by this client (it supports kms+context and legacy kms)`);
  });

  test('both KMS wrappings are read with either cipher', () => {
    expect(decodeMetadata({ ...V2(), 'x-amz-wrap-alg': 'kms' }).wrapAlg).toBe('kms');
    expect(decodeMetadata({ ...V1(), 'x-amz-wrap-alg': 'kms+context' }).wrapAlg).toBe('kms+context');
  });

  test('AES-GCM takes x-amz-tag-len 128, or none (read as 128, as the Go client\'s test vector has none); AES-CBC has no tag', () => {
    expect(decodeMetadata(without(V2(), 'x-amz-tag-len')).contentCipher).toBe('AES/GCM/NoPadding');
    expect(decodeMetadata(V2()).contentCipher).toBe('AES/GCM/NoPadding');
    for (const tagLen of ['96', '120', '', '0128']) {
      const m = { ...V2(), 'x-amz-tag-len': tagLen };
      const e = thrown(() => decodeMetadata(m));
      expect(e).toBeInstanceOf(TamperedObjectError);
      expect(e.message).toBe(`x-amz-tag-len is "${tagLen}", expected 128 for AES/GCM; the object's metadata was changed. Restore the object from a trusted copy.`);
    }
    expect(decodeMetadata({ ...V1(), 'x-amz-cek-alg': 'AES/CBC/PKCS5Padding' }).contentCipher).toBe('AES/CBC/PKCS5Padding');
  });
});

describe('metadata that is no format, or several', () => {
  test('no key of any version: an unknown format that says to read it with a plain S3 client', () => {
    for (const m of [{}, { 'x-amz-iv': b64(12) }, { 'x-amz-c': '115', 'x-amz-d': b64(28), 'x-amz-i': b64(28) }] as Array<Record<string, string>>) {
      const e = thrown(() => decodeMetadata(m));
      expect(e).toBeInstanceOf(UnknownFormatError);
      expect(e.message).toMatch(/^The object carries no S3 Encryption Client metadata \(x-amz-key, x-amz-key-v2 or x-amz-3\).*read it with a plain S3 client\.$/);
    }
  });

  test.each([
    ['x-amz-key', 'x-amz-key-v2'],
    ['x-amz-key', 'x-amz-3'],
    ['x-amz-key-v2', 'x-amz-3'],
  ])('%s with %s: tampering', (a, b) => {
    const e = thrown(() => decodeMetadata({ ...V2(), [a]: b64(40), [b]: b64(40) }));
    expect(e).toBeInstanceOf(TamperedObjectError);
    expect(e.message).toMatch(/^The object metadata mixes keys of several format versions/);
  });
});

describe('encoding', () => {
  test('V3 splits the content keys (object metadata) from the key material (instruction file), and all holds both', () => {
    const out = encodeV3({ encryptedDataKey: Buffer.alloc(40, 7), messageId: Buffer.alloc(28, 2), commitment: Buffer.alloc(28, 1), context: { tenant: 'é' } });
    expect(out.objectMetadata).toEqual({ 'x-amz-c': '115', 'x-amz-d': b64(28, 1), 'x-amz-i': b64(28, 2) });
    expect(out.instruction).toEqual({ 'x-amz-3': b64(40), 'x-amz-w': '12', 'x-amz-t': '{"tenant":"\\u00e9"}' });
    expect(out.all).toEqual({ ...out.objectMetadata, ...out.instruction });
    expect(decodeMetadata(out.all).storedContext).toEqual({ tenant: 'é' });
  });

  test('V2 writes AES-GCM with a 128-bit tag, kms+context and the context as material description', () => {
    const out = encodeV2({ encryptedDataKey: Buffer.alloc(40, 7), iv: Buffer.alloc(12, 7), context: { tenant: 'acme' } });
    expect(out).toEqual(V2());
    expect(decodeMetadata(out).version).toBe('v2');
  });

  test('V2 records the plaintext length when it is known, zero included', () => {
    const args = { encryptedDataKey: Buffer.alloc(40, 7), iv: Buffer.alloc(12, 7), context: {} };
    expect(encodeV2({ ...args, plaintextLength: 1234 })['x-amz-unencrypted-content-length']).toBe('1234');
    expect(encodeV2({ ...args, plaintextLength: 0 })['x-amz-unencrypted-content-length']).toBe('0');
    expect(encodeV2(args)).not.toHaveProperty('x-amz-unencrypted-content-length');
  });
});

describe('caller metadata', () => {
  test('keys are lower-cased, as S3 returns them; none is an empty map', () => {
    expect(normalizeMetadata({ 'X-Amz-Key-V2': 'a', 'Other': 'b' })).toEqual({ 'x-amz-key-v2': 'a', 'other': 'b' });
    expect(normalizeMetadata(undefined)).toEqual({});
  });

  test.each([
    'x-amz-key', 'x-amz-key-v2', 'x-amz-iv', 'x-amz-matdesc', 'x-amz-wrap-alg', 'x-amz-cek-alg', 'x-amz-tag-len',
    'x-amz-unencrypted-content-length', 'x-amz-c', 'x-amz-3', 'x-amz-m', 'x-amz-t', 'x-amz-w', 'x-amz-d', 'x-amz-i',
    'x-amz-crypto-instr-file',
  ])('%s is reserved for the client, in any case', (k) => {
    for (const key of [k, k.toUpperCase()]) {
      const e = thrown(() => assertNoReservedMetadata({ fine: 'x', [key]: 'v' }));
      expect(e).toBeInstanceOf(InvalidRequestError);
      expect(e.message).toBe(`Metadata key "${key}" is reserved for the encryption client; rename it.`);
    }
  });

  test('other keys pass', () => {
    expect(() => assertNoReservedMetadata({ 'x-amz-keys': 'v', 'owner': 'x', 'x-amz-meta-x': 'y' })).not.toThrow();
  });
});
