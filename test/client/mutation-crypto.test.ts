/**
 * The content cryptography on its own (src/client/crypto.ts): the checks on its inputs, the exact
 * errors it raises, and the limits of the AES-GCM objects it builds. The client and GCM-segment
 * tests cover the arithmetic; these pin the rules around it one by one.
 */
import * as crypto from 'node:crypto';
import { KeyCommitmentMismatchError, TamperedObjectError } from '../../src/client';
import {
  cbcDecryptor, GcmSegments, gcmDecryptor, gcmEncryptor, gf128Power, SUITE_V3_ID_BYTES, v3Commitment, v3DerivedKey,
  V3_FIXED_IV, verifyCommitmentAndDerive,
} from '../../src/client/crypto';
import { thrown } from '../support/thrown';

const DATA_KEY = Buffer.alloc(32, 0x11);
const MESSAGE_ID = Buffer.alloc(28, 0x22);
const ONE = Buffer.from('80000000000000000000000000000000', 'hex');

describe('V3 key derivation refuses inputs no S3 Encryption Client wrote', () => {
  test.each([0, 16, 31, 33])('a data key of %i bytes is tampering, with both lengths', (n) => {
    for (const f of [v3Commitment, v3DerivedKey]) {
      const e = thrown(() => f(Buffer.alloc(n), MESSAGE_ID));
      expect(e).toBeInstanceOf(TamperedObjectError);
      expect(e.message).toBe(`The data key has ${n} bytes, expected 32: KMS unwrapped a key that no S3 Encryption Client wrote. Restore the object from a trusted copy.`);
    }
  });

  test.each([12, 27, 29])('a message id of %i bytes is tampering, with both lengths', (n) => {
    for (const f of [v3Commitment, v3DerivedKey]) {
      const e = thrown(() => f(DATA_KEY, Buffer.alloc(n)));
      expect(e).toBeInstanceOf(TamperedObjectError);
      expect(e.message).toBe(`The message id has ${n} bytes, expected 28: the object's metadata was changed. Restore the object from a trusted copy.`);
    }
  });

  test('the commitment is 28 bytes and the content key 32, and they differ', () => {
    expect(v3Commitment(DATA_KEY, MESSAGE_ID)).toHaveLength(28);
    expect(v3DerivedKey(DATA_KEY, MESSAGE_ID)).toHaveLength(32);
    expect(v3DerivedKey(DATA_KEY, MESSAGE_ID).subarray(0, 28).equals(v3Commitment(DATA_KEY, MESSAGE_ID))).toBe(false);
  });

  test('the suite id bytes and the fixed IV are the specification\'s', () => {
    expect(SUITE_V3_ID_BYTES.toString('hex')).toBe('0073');
    expect(V3_FIXED_IV.toString('hex')).toBe('01'.repeat(12));
  });
});

describe('the stored key commitment is checked before any content key is derived', () => {
  const commitment = v3Commitment(DATA_KEY, MESSAGE_ID);

  test('the right commitment gives the derived content key', () => {
    expect(verifyCommitmentAndDerive(DATA_KEY, MESSAGE_ID, commitment).equals(v3DerivedKey(DATA_KEY, MESSAGE_ID))).toBe(true);
  });

  test.each([
    ['one bit changed', Buffer.from(commitment.map((b, i) => (i === 27 ? b ^ 1 : b)))],
    ['one byte short', commitment.subarray(0, 27)],
    ['one byte long', Buffer.concat([commitment, Buffer.alloc(1)])],
    ['empty', Buffer.alloc(0)],
  ])('a commitment %s is a key-commitment mismatch that says not to trust the object', (_what, stored) => {
    const e = thrown(() => verifyCommitmentAndDerive(DATA_KEY, MESSAGE_ID, stored));
    expect(e).toBeInstanceOf(KeyCommitmentMismatchError);
    expect(e.message).toMatch(/^Key commitment check failed: the data key does not commit to this object \(x-amz-d \/ x-amz-i \/ x-amz-3 were changed .*\)\. Do not trust this object; restore it from a trusted copy\.$/);
  });
});

describe('the AES-GCM ciphers take full 16-byte tags only', () => {
  const key = Buffer.alloc(32, 3);
  const iv = Buffer.alloc(12, 4);
  const aad = Buffer.from('aad');

  function seal(withAad: Buffer | undefined) {
    const c = gcmEncryptor({ key, iv, aad: withAad });
    const body = Buffer.concat([c.update('hello'), c.final()]);
    return { body, tag: c.getAuthTag() };
  }

  test('what the encryptor seals, with or without AAD, node:crypto opens with the same AAD only', () => {
    for (const withAad of [aad, undefined]) {
      const { body, tag } = seal(withAad);
      expect(tag).toHaveLength(16);
      const d = crypto.createDecipheriv('aes-256-gcm', key, iv);
      if (withAad) d.setAAD(withAad);
      d.setAuthTag(tag);
      expect(Buffer.concat([d.update(body), d.final()]).toString()).toBe('hello');
      const wrong = crypto.createDecipheriv('aes-256-gcm', key, iv);
      wrong.setAAD(withAad ? Buffer.from('other') : aad);
      wrong.setAuthTag(tag);
      wrong.update(body);
      expect(() => wrong.final()).toThrow();
    }
  });

  test('the decryptor opens it with its AAD, and refuses another AAD', () => {
    const { body, tag } = seal(aad);
    const d = gcmDecryptor({ key, iv, aad });
    d.setAuthTag(tag);
    expect(Buffer.concat([d.update(body), d.final()]).toString()).toBe('hello');
    const noAad = gcmDecryptor({ key, iv });
    noAad.setAuthTag(tag);
    noAad.update(body);
    expect(() => noAad.final()).toThrow();
  });

  test('a truncated tag is refused, not checked on fewer bits', () => {
    const { tag } = seal(aad);
    for (const n of [4, 8, 12, 15]) {
      expect(() => gcmDecryptor({ key, iv, aad }).setAuthTag(tag.subarray(0, n))).toThrow(/Invalid authentication tag length/);
    }
  });

  test('the legacy decryptor is AES-256-CBC with PKCS#5 padding', () => {
    const cbcKey = Buffer.alloc(32, 5);
    const cbcIv = Buffer.alloc(16, 6);
    const e = crypto.createCipheriv('aes-256-cbc', cbcKey, cbcIv);
    const body = Buffer.concat([e.update('legacy object'), e.final()]);
    const d = cbcDecryptor(cbcKey, cbcIv);
    expect(Buffer.concat([d.update(body), d.final()]).toString()).toBe('legacy object');
  });
});

describe('GF(2^128) powers', () => {
  test('x^0 is the identity and x^1 is x, for any x', () => {
    const x = crypto.randomBytes(16);
    expect(gf128Power(x, 0).equals(ONE)).toBe(true);
    expect(gf128Power(x, 1).equals(x)).toBe(true);
  });

  test('the exponent must be a safe integer of at least 0', () => {
    for (const e of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(() => gf128Power(ONE, e)).toThrow(`exponent must be a safe integer >= 0, got ${e}`);
    }
  });
});

describe('GcmSegments refuses what it cannot verify', () => {
  const key = Buffer.alloc(32, 9);
  const iv = Buffer.alloc(12, 8);

  test.each([0, -16, 8, 24, 16.5, Number.NaN])('a segment of %p bytes is refused', (segment) => {
    expect(() => new GcmSegments({ key, iv }, segment)).toThrow(`segment must be a positive multiple of 16 bytes, got ${segment}`);
  });

  test('a segment of 16 bytes is the smallest accepted', () => {
    expect(() => new GcmSegments({ key, iv }, 16)).not.toThrow();
  });

  test.each([0, 11, 13, 16])('an IV of %i bytes is refused', (n) => {
    expect(() => new GcmSegments({ key, iv: Buffer.alloc(n) }, 32)).toThrow('GCM IV must be 12 bytes');
  });

  test('a tag of any length but 16 fails verification (and disposes) instead of throwing', () => {
    const c = gcmEncryptor({ key, iv });
    const body = Buffer.concat([c.update(Buffer.alloc(40, 1)), c.final()]);
    const tag = c.getAuthTag();
    for (const bad of [tag.subarray(0, 15), Buffer.concat([tag, Buffer.alloc(1)]), Buffer.alloc(0)]) {
      const g = new GcmSegments({ key, iv }, 16);
      g.update(body);
      expect(g.verify(bad)).toBeUndefined();
      expect(() => g.decipher(0)).toThrow('decipher() needs a verified object (failed)');
    }
    const g = new GcmSegments({ key, iv }, 16);
    g.update(body);
    expect(g.verify(tag)?.tags).toHaveLength(3);
  });

  test('ciphertext beyond the AES-GCM limit is refused with the limit in the message', () => {
    const g = new GcmSegments({ key, iv }, 32);
    // White-box, as in the GCM-segment tests: 64 GiB cannot be fed in a unit test.
    (g as unknown as { ciphertextBytes: number }).ciphertextBytes = 68_719_476_704;
    const e = thrown(() => g.update(Buffer.alloc(1)));
    expect(e).toBeInstanceOf(TamperedObjectError);
    expect(e.message).toBe('The object\'s ciphertext exceeds the AES-GCM limit of 68719476704 bytes: no S3 Encryption Client wrote it. Do not trust it.');
  });

  test('a counter block outside 1..2^32-1 is refused rather than wrapped', () => {
    // White-box: the public methods cannot reach these counters (the length limit above keeps them in range).
    const g = new GcmSegments({ key, iv }, 32) as unknown as { counterBlock(counter: number): Buffer };
    for (const counter of [0, -1, 1.5, 2 ** 32, Number.NaN]) {
      expect(() => g.counterBlock(counter)).toThrow(`GCM counter out of range: ${counter}`);
    }
    expect(g.counterBlock(1).toString('hex')).toBe('080808080808080808080808' + '00000001');
    expect(g.counterBlock(2 ** 32 - 1).toString('hex')).toBe('080808080808080808080808' + 'ffffffff');
  });

  test('an empty update changes nothing: the object still verifies', () => {
    const c = gcmEncryptor({ key, iv });
    const body = Buffer.concat([c.update(Buffer.alloc(20, 1)), c.final()]);
    const g = new GcmSegments({ key, iv }, 16);
    g.update(Buffer.alloc(0));
    g.update(body);
    g.update(Buffer.alloc(0));
    const st = g.verify(c.getAuthTag());
    expect(st).toMatchObject({ segment: 16, length: 20 });
  });
});
