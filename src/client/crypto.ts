/**
 * Content cryptography. Everything here is node:crypto (OpenSSL): AES-256-GCM, AES-256-CTR for the
 * second pass over already-verified GCM ciphertext, AES-256-CBC for legacy reads, and HKDF-SHA512.
 */
import * as crypto from 'node:crypto';
import { KeyCommitmentMismatchError, TamperedObjectError } from './errors';
import { COMMITMENT_LENGTH, DATA_KEY_LENGTH, GCM_IV_LENGTH, MESSAGE_ID_LENGTH, SUITE_V3_ID } from './format';

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
