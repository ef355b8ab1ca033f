/**
 * The GHASH-only tag check used by the two-pass reads of large objects: it must accept exactly the
 * tags node:crypto's own AES-GCM accepts. Checked on the published AES-256 GCM test vectors, on an
 * independent BigInt reference of the field multiplication, and on random lengths and chunkings.
 */
import * as crypto from 'node:crypto';
import { TamperedObjectError } from '../../src/client';
import { GcmTagVerifier, gf128Multiply } from '../../src/client/crypto';
import { GCM_MAX_CONTENT_LENGTH } from '../../src/client/format';

const hex = (s: string) => Buffer.from(s, 'hex');

/** Textbook GF(2^128) multiplication in GCM's bit order, written independently with BigInt. */
function referenceMultiply(x: Buffer, y: Buffer): Buffer {
  const R = 0xe1n << 120n;
  const X = BigInt('0x' + x.toString('hex'));
  let V = BigInt('0x' + y.toString('hex'));
  let Z = 0n;
  for (let i = 127; i >= 0; i--) {
    if ((X >> BigInt(i)) & 1n) Z ^= V;
    V = (V & 1n) ? (V >> 1n) ^ R : V >> 1n;
  }
  return hex(Z.toString(16).padStart(32, '0'));
}

function verify(key: Buffer, iv: Buffer, aad: Buffer | undefined, ciphertext: Buffer, tag: Buffer, chunk = 7): boolean {
  const v = new GcmTagVerifier({ key, iv, aad });
  for (let o = 0; o < ciphertext.length; o += chunk) v.update(ciphertext.subarray(o, o + chunk));
  return v.verify(tag);
}

// AES-256 test cases 13 to 16 of "The Galois/Counter Mode of Operation (GCM)", McGrew and Viega.
const K15 = hex('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308');
const IV15 = hex('cafebabefacedbaddecaf888');
const C15 = hex('522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad');
const VECTORS = [
  { name: 'case 13 (nothing)', key: Buffer.alloc(32), iv: Buffer.alloc(12), aad: undefined, c: Buffer.alloc(0), t: hex('530f8afbc74536b9a963b4f1c4cb738b') },
  { name: 'case 14 (one block)', key: Buffer.alloc(32), iv: Buffer.alloc(12), aad: undefined, c: hex('cea7403d4d606b6e074ec5d3baf39d18'), t: hex('d0d1c8a799996bf0265b98b5d48ab919') },
  { name: 'case 15 (four blocks)', key: K15, iv: IV15, aad: undefined, c: C15, t: hex('b094dac5d93471bdec1a502270e3cc6c') },
  { name: 'case 16 (AAD, partial block)', key: K15, iv: IV15, aad: hex('feedfacedeadbeeffeedfacedeadbeefabaddad2'), c: C15.subarray(0, 60), t: hex('76fc6ece0f4e1768cddf8853bb2d551b') },
];

describe('gf128Multiply', () => {
  test('H of test case 13 and the identity element', () => {
    const h = crypto.createCipheriv('aes-256-ecb', Buffer.alloc(32), null).update(Buffer.alloc(16));
    expect(h.toString('hex')).toBe('dc95c078a2408989ad48a21492842087');
    const one = Buffer.alloc(16); one[0] = 0x80;
    expect(gf128Multiply(one, h).equals(h)).toBe(true);
    expect(gf128Multiply(Buffer.alloc(16), h).equals(Buffer.alloc(16))).toBe(true);
  });

  test('agrees with an independent reference on 2,000 random pairs', () => {
    for (let i = 0; i < 2000; i++) {
      const x = crypto.randomBytes(16);
      const y = crypto.randomBytes(16);
      expect(gf128Multiply(x, y).toString('hex')).toBe(referenceMultiply(x, y).toString('hex'));
    }
  });
});

describe('GcmTagVerifier', () => {
  test.each(VECTORS)('published vector: $name', ({ key, iv, aad, c, t }) => {
    // The vector itself is first confirmed by node:crypto's AES-GCM.
    const d = crypto.createDecipheriv('aes-256-gcm', key, iv);
    if (aad) d.setAAD(aad);
    d.update(c);
    d.setAuthTag(t);
    expect(() => d.final()).not.toThrow();
    for (const chunk of [1, 5, 16, 17, 1000]) expect(verify(key, iv, aad, c, t, chunk)).toBe(true);
    // Every bit of the tag and every byte of the ciphertext is covered.
    for (let bit = 0; bit < 128; bit++) {
      const bad = Buffer.from(t); bad[bit >> 3] ^= 0x80 >> (bit & 7);
      expect(verify(key, iv, aad, c, bad)).toBe(false);
    }
    for (let i = 0; i < c.length; i++) {
      const bad = Buffer.from(c); bad[i] ^= 0x01;
      expect(verify(key, iv, aad, bad, t)).toBe(false);
    }
    expect(verify(key, iv, aad, Buffer.concat([c, Buffer.alloc(1)]), t)).toBe(false);
    if (c.length) expect(verify(key, iv, aad, c.subarray(0, c.length - 1), t)).toBe(false);
    if (aad) expect(verify(key, iv, Buffer.concat([aad, Buffer.alloc(1)]), c, t)).toBe(false);
  });

  test('accepts exactly what node:crypto accepts, over random lengths, AADs and chunkings', () => {
    for (let i = 0; i < 600; i++) {
      const key = crypto.randomBytes(32);
      const iv = crypto.randomBytes(12);
      const aad = i % 3 === 0 ? undefined : crypto.randomBytes(i % 41);
      const length = i % 7 === 0 ? crypto.randomInt(0, 70_000) : crypto.randomInt(0, 100);
      const e = crypto.createCipheriv('aes-256-gcm', key, iv);
      if (aad) e.setAAD(aad);
      const c = Buffer.concat([e.update(crypto.randomBytes(length)), e.final()]);
      const t = e.getAuthTag();
      expect(verify(key, iv, aad, c, t, crypto.randomInt(1, 5000))).toBe(true);
      if (c.length) {
        const bad = Buffer.from(c);
        bad[crypto.randomInt(0, c.length)] ^= 1 << crypto.randomInt(0, 8);
        expect(verify(key, iv, aad, bad, t)).toBe(false);
      }
      expect(verify(crypto.randomBytes(32), iv, aad, c, t)).toBe(false);
    }
  });

  test('ciphertext beyond the AES-GCM limit is refused before it is hashed', () => {
    const { key, iv } = VECTORS[2];
    const v = new GcmTagVerifier({ key, iv });
    // White-box: 64 GiB cannot be fed in a unit test, so start just below the limit.
    (v as unknown as { ciphertextBytes: number }).ciphertextBytes = GCM_MAX_CONTENT_LENGTH - 16;
    expect(() => v.update(Buffer.alloc(16))).not.toThrow();
    expect(() => v.update(Buffer.alloc(1))).toThrow(TamperedObjectError);
  });

  test('a tag of the wrong length is refused', () => {
    const { key, iv, c, t } = VECTORS[2];
    expect(verify(key, iv, undefined, c, t.subarray(0, 12))).toBe(false);
  });
});
