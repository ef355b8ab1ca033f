/**
 * Content cryptography. Everything here is node:crypto (OpenSSL): AES-256-GCM (and GHASH through it,
 * see GcmSegments), AES-256-CBC for legacy reads, and HKDF-SHA512.
 */
import * as crypto from 'node:crypto';
import { KeyCommitmentMismatchError, TamperedObjectError } from './errors';
import { COMMITMENT_LENGTH, DATA_KEY_LENGTH, GCM_IV_LENGTH, GCM_MAX_CONTENT_LENGTH, MESSAGE_ID_LENGTH, SUITE_V3_ID } from './format';

/** The committing suite's ID as two big-endian bytes: the AAD of every V3 object and the HKDF info prefix. */
export const SUITE_V3_ID_BYTES = (() => { const b = Buffer.alloc(2); b.writeUInt16BE(SUITE_V3_ID); return b; })();
/** The committing suite uses a fixed IV because every object gets its own derived key. */
export const V3_FIXED_IV = Buffer.alloc(GCM_IV_LENGTH, 0x01);

const DERIVE_INFO = Buffer.concat([SUITE_V3_ID_BYTES, Buffer.from('DERIVEKEY', 'utf8')]);
const COMMIT_INFO = Buffer.concat([SUITE_V3_ID_BYTES, Buffer.from('COMMITKEY', 'utf8')]);

function hkdf(dataKey: Buffer, messageId: Buffer, info: Buffer, length: number): Buffer {
  return Buffer.from(crypto.hkdfSync('sha512', dataKey, messageId, info, length));
}

function checkInputs(dataKey: Buffer, messageId: Buffer): void {
  if (dataKey.length !== DATA_KEY_LENGTH) throw new TamperedObjectError(`The data key has ${dataKey.length} bytes, expected ${DATA_KEY_LENGTH}: KMS unwrapped a key that no S3 Encryption Client wrote. Restore the object from a trusted copy.`);
  if (messageId.length !== MESSAGE_ID_LENGTH) throw new TamperedObjectError(`The message id has ${messageId.length} bytes, expected ${MESSAGE_ID_LENGTH}: the object's metadata was changed. Restore the object from a trusted copy.`);
}

/** Key commitment value of a V3 object: HKDF-SHA512(ikm = data key, salt = message id, info = 0x0073 || "COMMITKEY"), 28 bytes. */
export function v3Commitment(dataKey: Buffer, messageId: Buffer): Buffer {
  checkInputs(dataKey, messageId);
  return hkdf(dataKey, messageId, COMMIT_INFO, COMMITMENT_LENGTH);
}

/** Content key of a V3 object: HKDF-SHA512(ikm = data key, salt = message id, info = 0x0073 || "DERIVEKEY"), 32 bytes. */
export function v3DerivedKey(dataKey: Buffer, messageId: Buffer): Buffer {
  checkInputs(dataKey, messageId);
  return hkdf(dataKey, messageId, DERIVE_INFO, DATA_KEY_LENGTH);
}

/** Checks the stored commitment in constant time before any content key is derived, as the format requires. */
export function verifyCommitmentAndDerive(dataKey: Buffer, messageId: Buffer, stored: Buffer): Buffer {
  const actual = v3Commitment(dataKey, messageId);
  if (stored.length !== actual.length || !crypto.timingSafeEqual(stored, actual)) {
    throw new KeyCommitmentMismatchError(
      'Key commitment check failed: the data key does not commit to this object (x-amz-d / x-amz-i / x-amz-3 were changed or mixed with another object\'s). ' +
      'Do not trust this object; restore it from a trusted copy.');
  }
  return v3DerivedKey(dataKey, messageId);
}

/** Parameters of the GCM content cipher for one object. */
export interface GcmParams {
  readonly key: Buffer;
  readonly iv: Buffer;
  readonly aad?: Buffer;
}

export function gcmEncryptor(p: GcmParams): crypto.CipherGCM {
  const c = crypto.createCipheriv('aes-256-gcm', p.key, p.iv, { authTagLength: 16 });
  if (p.aad) c.setAAD(p.aad);
  return c;
}

export function gcmDecryptor(p: GcmParams): crypto.DecipherGCM {
  const d = crypto.createDecipheriv('aes-256-gcm', p.key, p.iv, { authTagLength: 16 });
  if (p.aad) d.setAAD(p.aad);
  return d;
}

export function cbcDecryptor(key: Buffer, iv: Buffer): crypto.Decipher {
  return crypto.createDecipheriv('aes-256-cbc', key, iv);
}

/**
 * Multiplies two blocks in GF(2^128) with GCM's bit order (NIST SP 800-38D, algorithm 1). Both
 * operands may be secret (powers of the hash key H): every step shifts and masks, with no branch or
 * table lookup that depends on either value.
 */
export function gf128Multiply(x: Buffer, y: Buffer): Buffer {
  let z0 = 0, z1 = 0, z2 = 0, z3 = 0;
  let v0 = y.readUInt32BE(0), v1 = y.readUInt32BE(4), v2 = y.readUInt32BE(8), v3 = y.readUInt32BE(12);
  for (let i = 0; i < 128; i++) {
    const take = -((x[i >> 3] >> (7 - (i & 7))) & 1);
    z0 ^= v0 & take; z1 ^= v1 & take; z2 ^= v2 & take; z3 ^= v3 & take;
    // V = V >> 1, reduced by R = 0xe1 || 0^120 when the bit shifted out was set.
    const reduce = -(v3 & 1);
    v3 = (v3 >>> 1) | (v2 << 31);
    v2 = (v2 >>> 1) | (v1 << 31);
    v1 = (v1 >>> 1) | (v0 << 31);
    v0 = (v0 >>> 1) ^ (0xe1000000 & reduce);
  }
  const out = Buffer.alloc(16);
  out.writeUInt32BE(z0 >>> 0, 0); out.writeUInt32BE(z1 >>> 0, 4); out.writeUInt32BE(z2 >>> 0, 8); out.writeUInt32BE(z3 >>> 0, 12);
  return out;
}

/** The multiplicative identity of GCM's field (the bit string 1 0^127). */
function gfOne(): Buffer {
  const one = Buffer.alloc(16);
  one[0] = 0x80;
  return one;
}

/** Multiplies and zeroes the operands that are no longer needed (intermediate powers of H are secret). */
function mulWiping(a: Buffer, b: Buffer, wipe: Buffer[]): Buffer {
  const out = gf128Multiply(a, b);
  for (const w of wipe) w.fill(0);
  return out;
}

/** x^e for a public exponent e (a safe integer >= 0), by square and multiply; x may be secret. */
export function gf128Power(x: Buffer, e: number): Buffer {
  if (!Number.isSafeInteger(e) || e < 0) throw new Error(`exponent must be a safe integer >= 0, got ${e}`);
  let r = gfOne();
  for (let bit = Math.floor(Math.log2(Math.max(e, 1))); bit >= 0; bit--) {
    r = mulWiping(r, r, [r]);
    if (Math.floor(e / 2 ** bit) % 2 === 1) r = mulWiping(r, x, [r]);
  }
  return r;
}

/** x^-1 = x^(2^128 - 2): 127 one bits then a zero, so a fixed sequence of operations whatever x is. */
export function gf128Inverse(x: Buffer): Buffer {
  let r = gfOne();
  for (let i = 0; i < 127; i++) {
    const square = mulWiping(r, r, [r]);
    r = mulWiping(square, x, [square]);
  }
  return mulWiping(r, r, [r]);
}

function xorInto(target: Buffer, ...others: Buffer[]): Buffer {
  for (const o of others) for (let i = 0; i < 16; i++) target[i] ^= o[i];
  return target;
}

/** The GCM length block: bit lengths of the AAD and of the ciphertext, 64 bits each, big-endian. */
function lengthBlock(aadBytes: number, ciphertextBytes: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(BigInt(aadBytes) * 8n, 0);
  b.writeBigUInt64BE(BigInt(ciphertextBytes) * 8n, 8);
  return b;
}

function aesBlock(key: Buffer, block: Buffer): Buffer {
  return crypto.createCipheriv('aes-256-ecb', key, null).setAutoPadding(false).update(block);
}

/**
 * What the verifying pass hands to the decrypting pass: for each segment of the ciphertext, the
 * GCM tag that a decryption of that segment alone (see {@link GcmSegments.decipher}) must produce.
 * Computed from the ciphertext whose whole-object tag verified, under the object's own key, and
 * never leaves the process.
 */
export interface SegmentTags {
  /** Segment size in bytes (a multiple of 16). */
  readonly segment: number;
  /** Ciphertext bytes, tag excluded. */
  readonly length: number;
  /** The object's own GCM tag, as verified (public: it is stored with the object). */
  readonly tag: Buffer;
  readonly tags: Buffer[];
}

/**
 * Two-pass authenticated decryption of AES-GCM objects too large to hold, with one GHASH pass and
 * one AES-GCM pass in total, all bulk work in OpenSSL.
 *
 * Verifying pass (`update`, `verify`): each fixed-size segment of ciphertext is fed as additional
 * authenticated data to a fresh AES-GCM instance under the object's key and IV (segment 0 after the
 * object's AAD, zero-padded to a block). Its tag is E(K, J0) xor (Y_s xor L_s)·H, where Y_s is the
 * GHASH accumulator over the segment's blocks and H = E(K, 0^128); so G_s = Y_s·H is recovered with
 * one field multiplication. GHASH is a polynomial in H, so the object's accumulator times H is
 * G_0·H^(m_1 + ... ) xor ... xor G_last (Horner, with m_s the blocks of segment s), and the object's tag
 * is E(K, J0) xor that xor L·H with L the real length block. One GHASH over the bytes checks the tag.
 *
 * Decrypting pass (`decipher`): segment s is decrypted by AES-GCM on its own, with a 16-byte IV
 * chosen so that its pre-counter block J0' is the object's counter block just before the segment
 * (for a 16-byte IV, J0' = IV·H^2 xor L_iv·H, solved for IV with H^-2). The keystream is exactly the
 * object's, and the segment's own GCM tag E(K, J0') xor (Y_s xor L'_s)·H is known from G_s, so
 * OpenSSL's tag check in final() proves that the segment read again is the segment that verified:
 * bytes that differ pass only with a GHASH forgery under the unknown H, as for GCM itself.
 *
 * The per-segment tags never leave the process. Field arithmetic on H has no branch or table lookup
 * on secret values (see gf128Multiply); a few hundred multiplications per object, nothing per byte.
 * Values derived from H are zeroed as soon as they are used and on dispose(); in JavaScript that is
 * best effort (the engine may have copied them).
 */
export class GcmSegments {
  private readonly h: Buffer;
  private readonly maskJ0: Buffer;
  private readonly hSegment: Buffer;
  private readonly paddedAad: Buffer | undefined;
  private readonly aadBytes: number;
  private hInverseSquared: Buffer | undefined;
  private ivLengthTerm: Buffer | undefined;
  private mac: crypto.CipherGCM;
  private fedInSegment = 0;
  private segments = 0;
  private ciphertextBytes = 0;
  private acc: Buffer = Buffer.alloc(16);
  private readonly g: Buffer[] = [];
  private state: 'hashing' | 'verified' | 'failed' | 'disposed' = 'hashing';
  private result: SegmentTags | undefined;

  constructor(private readonly p: GcmParams, readonly segment: number) {
    if (p.iv.length !== GCM_IV_LENGTH) throw new Error('GCM IV must be 12 bytes');
    if (!Number.isInteger(segment) || segment <= 0 || segment % 16 !== 0) throw new Error(`segment must be a positive multiple of 16 bytes, got ${segment}`);
    this.h = aesBlock(p.key, Buffer.alloc(16));
    this.maskJ0 = aesBlock(p.key, this.counterBlock(1));
    this.hSegment = gf128Power(this.h, segment / 16);
    this.aadBytes = p.aad?.length ?? 0;
    this.paddedAad = this.aadBytes ? Buffer.concat([p.aad!, Buffer.alloc((16 - (this.aadBytes % 16)) % 16)]) : undefined;
    this.mac = this.openSegment();
  }

  /** IV || counter, the object's counter block number `counter` (J0 is 1, the first content block 2). */
  private counterBlock(counter: number): Buffer {
    if (!Number.isInteger(counter) || counter < 1 || counter > 0xffffffff) throw new Error(`GCM counter out of range: ${counter}`);
    const b = Buffer.alloc(16);
    this.p.iv.copy(b);
    b.writeUInt32BE(counter, 12);
    return b;
  }

  /** (length block)·H, a secret value: callers zero it after use. */
  private lengthTimesH(aadBytes: number, ciphertextBytes: number): Buffer {
    return gf128Multiply(lengthBlock(aadBytes, ciphertextBytes), this.h);
  }

  private openSegment(): crypto.CipherGCM {
    const mac = crypto.createCipheriv('aes-256-gcm', this.p.key, this.p.iv, { authTagLength: 16 });
    if (this.segments === 0 && this.paddedAad) mac.setAAD(this.paddedAad);
    return mac;
  }

  private closeSegment(): void {
    this.mac.final();
    const fed = this.fedInSegment + (this.segments === 0 ? this.paddedAad?.length ?? 0 : 0);
    // G_s = Y_s·H = tag xor E(K, J0) xor (fed length block)·H
    const lh = this.lengthTimesH(fed, 0);
    const gs = xorInto(this.mac.getAuthTag(), this.maskJ0, lh);
    lh.fill(0);
    if (this.segments === 0) {
      this.acc = Buffer.from(gs);
    } else {
      const full = this.fedInSegment === this.segment;
      const power = full ? this.hSegment : gf128Power(this.h, Math.ceil(this.fedInSegment / 16));
      this.acc = xorInto(mulWiping(this.acc, power, full ? [this.acc] : [this.acc, power]), gs);
    }
    this.g.push(gs);
    this.segments++;
    this.fedInSegment = 0;
  }

  /**
   * Verifying pass: feeds ciphertext (tag excluded), in any chunking. Beyond AES-GCM's limit no
   * writer can have produced the object, and the counter would wrap, so it is refused.
   */
  update(ciphertext: Buffer): void {
    if (this.state !== 'hashing') throw new Error(`update() after verify() or dispose() (${this.state})`);
    if (ciphertext.length === 0) return;
    this.ciphertextBytes += ciphertext.length;
    if (this.ciphertextBytes > GCM_MAX_CONTENT_LENGTH) {
      throw new TamperedObjectError(`The object's ciphertext exceeds the AES-GCM limit of ${GCM_MAX_CONTENT_LENGTH} bytes: no S3 Encryption Client wrote it. Do not trust it.`);
    }
    let off = 0;
    while (off < ciphertext.length) {
      if (this.fedInSegment === this.segment) {
        this.closeSegment();
        this.mac = this.openSegment();
      }
      const n = Math.min(ciphertext.length - off, this.segment - this.fedInSegment);
      this.mac.setAAD(off === 0 && n === ciphertext.length ? ciphertext : ciphertext.subarray(off, off + n));
      this.fedInSegment += n;
      off += n;
    }
  }

  /**
   * Ends the verifying pass. Returns the per-segment tags for the decrypting pass when `tag` is the
   * object's GCM tag (constant-time comparison), undefined when it is not (and then disposes).
   */
  verify(tag: Buffer): SegmentTags | undefined {
    if (this.state !== 'hashing') throw new Error(`verify() called twice or after dispose() (${this.state})`);
    this.closeSegment();
    const lh = this.lengthTimesH(this.aadBytes, this.ciphertextBytes);
    const expected = xorInto(lh, this.acc, this.maskJ0);
    const ok = tag.length === 16 && crypto.timingSafeEqual(expected, tag);
    expected.fill(0);
    this.acc.fill(0);
    if (!ok) {
      this.state = 'failed';
      this.dispose();
      return undefined;
    }
    const tags: Buffer[] = [];
    const count = Math.ceil(this.ciphertextBytes / this.segment);
    for (let s = 0; s < count; s++) {
      const bytes = Math.min(this.segment, this.ciphertextBytes - s * this.segment);
      const length = this.lengthTimesH(s === 0 ? this.aadBytes : 0, bytes);
      const mask = s === 0 ? this.maskJ0 : aesBlock(this.p.key, this.counterBlock(1 + s * (this.segment / 16)));
      tags.push(xorInto(Buffer.from(this.g[s]), length, mask));
      length.fill(0);
      if (s > 0) mask.fill(0);
    }
    for (const gs of this.g) gs.fill(0);
    this.state = 'verified';
    this.result = { segment: this.segment, length: this.ciphertextBytes, tag: Buffer.from(tag), tags };
    return this.result;
  }

  /**
   * Decrypting pass: an AES-GCM decipher for segment `index` alone, whose keystream is the object's
   * from that segment on and whose final() succeeds only if exactly that segment's verified
   * ciphertext went through update().
   */
  decipher(index: number): crypto.DecipherGCM {
    if (this.state !== 'verified' || !this.result) throw new Error(`decipher() needs a verified object (${this.state})`);
    if (!Number.isInteger(index) || index < 0 || index >= this.result.tags.length) {
      throw new Error(`segment index ${index} out of range 0..${this.result.tags.length - 1}`);
    }
    let d: crypto.DecipherGCM;
    if (index === 0) {
      d = gcmDecryptor(this.p);
    } else {
      this.hInverseSquared ??= (() => { const inv = gf128Inverse(this.h); return mulWiping(inv, inv, [inv]); })();
      this.ivLengthTerm ??= this.lengthTimesH(0, 16);
      const j0 = this.counterBlock(1 + index * (this.segment / 16));
      const iv = mulWiping(xorInto(j0, this.ivLengthTerm), this.hInverseSquared, [j0]);
      d = crypto.createDecipheriv('aes-256-gcm', this.p.key, iv, { authTagLength: 16 });
      iv.fill(0);
    }
    d.setAuthTag(this.result.tags[index]);
    return d;
  }

  /** Zeroes the hash key, every value derived from it and the segment tags; the object is unusable after. */
  dispose(): void {
    if (this.state !== 'failed') this.state = 'disposed';
    const secrets = [this.h, this.maskJ0, this.hSegment, this.acc, this.hInverseSquared, this.ivLengthTerm, ...this.g, ...this.result?.tags ?? []];
    for (const b of secrets) b?.fill(0);
  }
}
