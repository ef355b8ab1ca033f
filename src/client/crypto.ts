/**
 * Content cryptography. Everything here is node:crypto (OpenSSL): AES-256-GCM (and GHASH through it,
 * see GcmTagVerifier), AES-256-CTR for the second pass over already-verified GCM ciphertext,
 * AES-256-CBC for legacy reads, and HKDF-SHA512.
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
  if (dataKey.length !== DATA_KEY_LENGTH) throw new TamperedObjectError(`The data key has ${dataKey.length} bytes, expected ${DATA_KEY_LENGTH}.`);
  if (messageId.length !== MESSAGE_ID_LENGTH) throw new TamperedObjectError(`The message id has ${messageId.length} bytes, expected ${MESSAGE_ID_LENGTH}.`);
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

/**
 * AES-CTR decryptor that yields exactly the GCM plaintext for a 12-byte IV: GCM's first content
 * counter block is IV || 0x00000002. Only used on ciphertext whose GCM tag has already verified.
 */
export function gcmAsCtrDecryptor(p: GcmParams): crypto.Decipheriv {
  if (p.iv.length !== GCM_IV_LENGTH) throw new Error('GCM IV must be 12 bytes');
  const counter = Buffer.concat([p.iv, Buffer.from([0, 0, 0, 2])]);
  return crypto.createDecipheriv('aes-256-ctr', p.key, counter);
}

export function cbcDecryptor(key: Buffer, iv: Buffer): crypto.Decipheriv {
  return crypto.createDecipheriv('aes-256-cbc', key, iv);
}

/**
 * Multiplies two blocks in GF(2^128) with GCM's bit order (NIST SP 800-38D, algorithm 1).
 * `publicX` must be public (its bits choose the branches); `secretY` may be secret: it is only
 * shifted and masked, with no branch or table lookup that depends on its value.
 */
export function gf128Multiply(publicX: Buffer, secretY: Buffer): Buffer {
  let z0 = 0, z1 = 0, z2 = 0, z3 = 0;
  let v0 = secretY.readUInt32BE(0), v1 = secretY.readUInt32BE(4), v2 = secretY.readUInt32BE(8), v3 = secretY.readUInt32BE(12);
  for (let i = 0; i < 128; i++) {
    if ((publicX[i >> 3] >> (7 - (i & 7))) & 1) { z0 ^= v0; z1 ^= v1; z2 ^= v2; z3 ^= v3; }
    // V = V >> 1, reduced by R = 0xe1 || 0^120 when the bit shifted out was set (mask, not branch).
    const mask = -(v3 & 1);
    v3 = (v3 >>> 1) | (v2 << 31);
    v2 = (v2 >>> 1) | (v1 << 31);
    v1 = (v1 >>> 1) | (v0 << 31);
    v0 = (v0 >>> 1) ^ (0xe1000000 & mask);
  }
  const out = Buffer.alloc(16);
  out.writeUInt32BE(z0 >>> 0, 0); out.writeUInt32BE(z1 >>> 0, 4); out.writeUInt32BE(z2 >>> 0, 8); out.writeUInt32BE(z3 >>> 0, 12);
  return out;
}

/** The GCM length block: bit lengths of the AAD and of the ciphertext, 64 bits each, big-endian. */
function lengthBlock(aadBytes: number, ciphertextBytes: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(BigInt(aadBytes) * 8n, 0);
  b.writeBigUInt64BE(BigInt(ciphertextBytes) * 8n, 8);
  return b;
}

/**
 * Verifies an AES-GCM tag over a ciphertext stream without decrypting it, so that the pass that
 * releases plaintext afterwards can be plain AES-CTR: verifying costs GHASH only, not a second
 * AES pass. OpenSSL computes everything over the bulk data: the ciphertext is fed to an AES-GCM
 * instance with the same key and IV as additional authenticated data (after the real AAD, padded
 * to a block), which yields E(K, J0) xor GHASH over exactly the blocks the real tag covers, except
 * that the final length block reads (|AAD| + |C|, 0) instead of (|AAD|, |C|). GHASH is linear and the
 * length block is the last term, multiplied by H once, so the real tag is that value xor
 * (L xor L') * H with H = E(K, 0^128): one field multiplication per object, whose only secret
 * operand is H. Tested against node:crypto's own GCM decryption for every length class.
 */
export class GcmTagVerifier {
  private readonly gmac: crypto.CipherGCM;
  private readonly paddedAadBytes: number;
  private readonly aadBytes: number;
  private ciphertextBytes = 0;

  constructor(private readonly p: GcmParams) {
    if (p.iv.length !== GCM_IV_LENGTH) throw new Error('GCM IV must be 12 bytes');
    this.gmac = crypto.createCipheriv('aes-256-gcm', p.key, p.iv, { authTagLength: 16 });
    this.aadBytes = p.aad?.length ?? 0;
    this.paddedAadBytes = Math.ceil(this.aadBytes / 16) * 16;
    if (p.aad && p.aad.length) {
      this.gmac.setAAD(p.aad);
      if (this.paddedAadBytes > this.aadBytes) this.gmac.setAAD(Buffer.alloc(this.paddedAadBytes - this.aadBytes));
    }
  }

  /**
   * Feeds ciphertext (tag excluded), in any chunking. Beyond AES-GCM's limit no writer can have
   * produced the object, and AES-CTR would no longer match GCM's 32-bit counter, so it is refused.
   */
  update(ciphertext: Buffer): void {
    if (ciphertext.length === 0) return;
    this.ciphertextBytes += ciphertext.length;
    if (this.ciphertextBytes > GCM_MAX_CONTENT_LENGTH) {
      throw new TamperedObjectError(`The object's ciphertext exceeds the AES-GCM limit of ${GCM_MAX_CONTENT_LENGTH} bytes: no S3 Encryption Client wrote it. Do not trust it.`);
    }
    this.gmac.setAAD(ciphertext);
  }

  /** True when `tag` is the GCM tag of the AAD and all ciphertext fed. Constant-time comparison. */
  verify(tag: Buffer): boolean {
    this.gmac.final();
    const gmacTag = this.gmac.getAuthTag();
    const h = crypto.createCipheriv('aes-256-ecb', this.p.key, null).update(Buffer.alloc(16));
    const real = lengthBlock(this.aadBytes, this.ciphertextBytes);
    const fed = lengthBlock(this.paddedAadBytes + this.ciphertextBytes, 0);
    for (let i = 0; i < 16; i++) real[i] ^= fed[i];
    const correction = gf128Multiply(real, h);
    h.fill(0);
    for (let i = 0; i < 16; i++) gmacTag[i] ^= correction[i];
    return tag.length === 16 && crypto.timingSafeEqual(gmacTag, tag);
  }
}
