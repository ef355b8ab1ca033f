/**
 * The Amazon S3 Encryption Client object format: metadata keys and values for V1, V2 and V3,
 * and the small encoders around them. Format facts follow the public specification
 * (aws-encryption-sdk-specification, folder s3-encryption/).
 */
import { InvalidRequestError, TamperedObjectError, UnknownFormatError } from './errors';

// V1 / V2 keys
export const KEY_V1 = 'x-amz-key';
export const KEY_V2 = 'x-amz-key-v2';
export const IV = 'x-amz-iv';
export const MATDESC = 'x-amz-matdesc';
export const WRAP_ALG = 'x-amz-wrap-alg';
export const CEK_ALG = 'x-amz-cek-alg';
export const TAG_LEN = 'x-amz-tag-len';
export const UNENCRYPTED_LENGTH = 'x-amz-unencrypted-content-length';
export const INSTRUCTION_FILE_MARKER = 'x-amz-crypto-instr-file';

// V3 keys (compressed names)
export const CONTENT_CIPHER_V3 = 'x-amz-c';
export const ENCRYPTED_DATA_KEY_V3 = 'x-amz-3';
export const MAT_DESC_V3 = 'x-amz-m';
export const ENCRYPTION_CONTEXT_V3 = 'x-amz-t';
export const WRAP_ALG_V3 = 'x-amz-w';
export const KEY_COMMITMENT_V3 = 'x-amz-d';
export const MESSAGE_ID_V3 = 'x-amz-i';

export const INSTRUCTION_SUFFIX = '.instruction';

// Algorithm suites
export const SUITE_V3_ID = 0x0073;
export const SUITE_V3_ID_STRING = '115';
export const GCM = 'AES/GCM/NoPadding';
export const CBC = 'AES/CBC/PKCS5Padding';
export const WRAP_KMS_CONTEXT = 'kms+context';
export const WRAP_KMS_LEGACY = 'kms';
export const WRAP_V3_KMS_CONTEXT = '12';

/** Reserved encryption context key the client adds; it binds the content cipher to the data key. */
export const EC_CEK_ALG_KEY = 'aws:x-amz-cek-alg';
/** Reserved key written by legacy `kms` mode clients into the material description. */
export const EC_KMS_CMK_ID = 'kms_cmk_id';

export const MESSAGE_ID_LENGTH = 28;
export const COMMITMENT_LENGTH = 28;
export const GCM_IV_LENGTH = 12;
export const CBC_IV_LENGTH = 16;
export const TAG_LENGTH = 16;
export const DATA_KEY_LENGTH = 32;
/** GCM with a 32-bit block counter: at most 2^32 - 2 blocks of 16 bytes per message. */
export const GCM_MAX_CONTENT_LENGTH = (2 ** 32 - 2) * 16;

const V1_ONLY = [KEY_V1];
const V2_ONLY = [KEY_V2];
const V3_ONLY = [ENCRYPTED_DATA_KEY_V3];

export type FormatVersion = 'v1' | 'v2' | 'v3';

/** Everything needed to decrypt an object, read from metadata or an instruction file. */
export interface ContentMetadata {
  readonly version: FormatVersion;
  /** 'AES/GCM/NoPadding', 'AES/CBC/PKCS5Padding', or '115' for the committing suite. */
  readonly contentCipher: string;
  /** 'kms+context' or 'kms'. */
  readonly wrapAlg: string;
  readonly encryptedDataKey: Buffer;
  /** The encryption context stored with the object, reserved keys included. */
  readonly storedContext: Record<string, string>;
  readonly iv?: Buffer;
  readonly messageId?: Buffer;
  readonly commitment?: Buffer;
}

/** JSON with every non-ASCII character escaped, so S3 metadata stays US-ASCII and any JSON reader gets the same map. */
export function asciiJson(map: Record<string, string>): string {
  return JSON.stringify(map).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/**
 * Decodes RFC 2047 encoded-words, which S3 uses to return non-ASCII metadata values
 * (e.g. `=?UTF-8?B?...?=`).
 */
export function decodeS3MetadataValue(value: string): string {
  if (!value.includes('=?')) return value;
  const decoded = value.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=\s*/g, (_m, charset: string, enc: string, text: string) => {
    let bytes: Buffer;
    if (enc.toUpperCase() === 'B') {
      bytes = Buffer.from(text, 'base64');
    } else {
      bytes = Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    }
    const cs = charset.toLowerCase();
    return cs === 'utf-8' || cs === 'utf8' ? bytes.toString('utf8') : bytes.toString('latin1');
  });
  // S3 may encode bytes that were already UTF-8 as Latin-1 characters; undo that when it round-trips.
  if (/[\u0080-\u00ff]/.test(decoded) && !/[\u0100-\uffff]/.test(decoded)) {
    const asUtf8 = Buffer.from(decoded, 'latin1').toString('utf8');
    if (!asUtf8.includes('\ufffd')) return asUtf8;
  }
  return decoded;
}

export function parseJsonMap(raw: string | undefined, what: string): Record<string, string> {
  if (raw === undefined || raw === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeS3MetadataValue(raw));
  } catch (e) {
    throw new TamperedObjectError(`The ${what} stored with the object is not valid JSON; the metadata was changed or corrupted. Restore the object from a trusted copy.`, { cause: e });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TamperedObjectError(`The ${what} stored with the object is not a JSON object; the metadata was changed. Restore the object from a trusted copy.`);
  }
  const entries = Object.entries(parsed as Record<string, unknown>);
  for (const [k, v] of entries) {
    if (typeof v !== 'string') {
      throw new TamperedObjectError(`The ${what} stored with the object has a non-string value for "${k}"; the metadata was changed. Restore the object from a trusted copy.`);
    }
  }
  // fromEntries defines each key as an own property: an assignment to "__proto__" would drop it.
  return Object.fromEntries(entries) as Record<string, string>;
}

function b64(raw: string | undefined, key: string, expectedLength?: number): Buffer {
  if (raw === undefined) throw new TamperedObjectError(`Metadata "${key}" is missing; the object's metadata was changed. Restore the object from a trusted copy.`);
  const buf = Buffer.from(raw, 'base64');
  // Reject anything that is not canonical base64, so metadata edits cannot hide in padding.
  if (buf.toString('base64') !== raw.trim()) {
    throw new TamperedObjectError(`Metadata "${key}" is not valid base64; the object's metadata was changed. Restore the object from a trusted copy.`);
  }
  if (expectedLength !== undefined && buf.length !== expectedLength) {
    throw new TamperedObjectError(`Metadata "${key}" has ${buf.length} bytes, expected ${expectedLength}; the object's metadata was changed. Restore the object from a trusted copy.`);
  }
  return buf;
}

/** True if the metadata looks like any S3EC format (or points to an instruction file for V3). */
export function hasFormatKeys(m: Record<string, string>): boolean {
  return KEY_V1 in m || KEY_V2 in m || ENCRYPTED_DATA_KEY_V3 in m || CONTENT_CIPHER_V3 in m || MESSAGE_ID_V3 in m || KEY_COMMITMENT_V3 in m;
}

/** V3 object whose data key lives in an instruction file: the content keys are in object metadata, the key is not. */
export function isV3WithInstructionFile(m: Record<string, string>): boolean {
  return CONTENT_CIPHER_V3 in m && KEY_COMMITMENT_V3 in m && MESSAGE_ID_V3 in m && !(ENCRYPTED_DATA_KEY_V3 in m);
}

/**
 * Parses object metadata (lower-case keys, without the x-amz-meta- prefix) into content metadata.
 * Throws UnknownFormatError if it matches no format.
 */
export function decodeMetadata(m: Record<string, string>): ContentMetadata {
  const present = (keys: string[]) => keys.some((k) => k in m);
  const families = [present(V1_ONLY), present(V2_ONLY), present(V3_ONLY)].filter(Boolean).length;
  if (families > 1) {
    throw new TamperedObjectError('The object metadata mixes keys of several format versions (x-amz-key / x-amz-key-v2 / x-amz-3); it was changed. Restore the object from a trusted copy.');
  }

  if (ENCRYPTED_DATA_KEY_V3 in m) {
    for (const k of [CONTENT_CIPHER_V3, WRAP_ALG_V3, KEY_COMMITMENT_V3, MESSAGE_ID_V3]) {
      if (!(k in m)) throw new TamperedObjectError(`V3 metadata "${k}" is missing; the object's metadata was changed. Restore the object from a trusted copy.`);
    }
    for (const k of [IV, CEK_ALG, WRAP_ALG, MATDESC]) {
      if (k in m) throw new TamperedObjectError(`V3 object carries the V1/V2 metadata key "${k}"; the object's metadata was changed. Restore the object from a trusted copy.`);
    }
    if (m[CONTENT_CIPHER_V3] !== SUITE_V3_ID_STRING) {
      throw new UnknownFormatError(`Unknown V3 content cipher "${m[CONTENT_CIPHER_V3]}" (only 115, AES-256-GCM with HKDF-SHA512 key commitment, is defined). Upgrade the client if a newer suite exists.`);
    }
    const w = m[WRAP_ALG_V3];
    if (w !== WRAP_V3_KMS_CONTEXT) {
      throw new UnknownFormatError(`V3 wrapping algorithm "${w}" is not supported by this client (it supports 12 = kms+context). The object was written with a raw AES or RSA keyring; read it with that keyring.`);
    }
    return {
      version: 'v3',
      contentCipher: SUITE_V3_ID_STRING,
      wrapAlg: WRAP_KMS_CONTEXT,
      encryptedDataKey: b64(m[ENCRYPTED_DATA_KEY_V3], ENCRYPTED_DATA_KEY_V3),
      storedContext: parseJsonMap(m[ENCRYPTION_CONTEXT_V3], 'encryption context (x-amz-t)'),
      messageId: b64(m[MESSAGE_ID_V3], MESSAGE_ID_V3, MESSAGE_ID_LENGTH),
      commitment: b64(m[KEY_COMMITMENT_V3], KEY_COMMITMENT_V3, COMMITMENT_LENGTH),
    };
  }

  if (KEY_V2 in m || KEY_V1 in m) {
    for (const k of [CONTENT_CIPHER_V3, WRAP_ALG_V3, KEY_COMMITMENT_V3, MESSAGE_ID_V3, MAT_DESC_V3, ENCRYPTION_CONTEXT_V3]) {
      if (k in m) throw new TamperedObjectError(`V1/V2 object carries the V3 metadata key "${k}"; the object's metadata was changed. Restore the object from a trusted copy.`);
    }
    const isV2 = KEY_V2 in m;
    const cek = m[CEK_ALG] ?? CBC;
    const wrap = m[WRAP_ALG];
    if (cek !== GCM && cek !== CBC) {
      throw new UnknownFormatError(`Unknown content cipher "${cek}" in x-amz-cek-alg; this client reads AES/GCM/NoPadding and (legacy) AES/CBC/PKCS5Padding. Read it with the client that wrote it, or restore its metadata if it was changed.`);
    }
    if (wrap === undefined) {
      throw new UnknownFormatError('The object has no x-amz-wrap-alg: it was encrypted with a symmetric or asymmetric master key, not KMS. This client only unwraps KMS data keys.');
    }
    if (wrap !== WRAP_KMS_CONTEXT && wrap !== WRAP_KMS_LEGACY) {
      throw new UnknownFormatError(`Wrapping algorithm "${wrap}" is not supported by this client (it supports kms+context and legacy kms). Read it with the keyring it was written with (raw AES or RSA keys), or restore its metadata if it was changed.`);
    }
    // The format's only GCM tag is 128 bits, and not every writer states it: the Go client's own
    // decryption test vector has no x-amz-tag-len. Absent means 128; any other value is refused.
    if (cek === GCM && TAG_LEN in m && m[TAG_LEN] !== '128') {
      throw new TamperedObjectError(`x-amz-tag-len is "${m[TAG_LEN]}", expected 128 for AES/GCM; the object's metadata was changed. Restore the object from a trusted copy.`);
    }
    return {
      version: isV2 ? 'v2' : 'v1',
      contentCipher: cek,
      wrapAlg: wrap,
      encryptedDataKey: b64(isV2 ? m[KEY_V2] : m[KEY_V1], isV2 ? KEY_V2 : KEY_V1),
      storedContext: parseJsonMap(m[MATDESC], 'material description (x-amz-matdesc)'),
      iv: b64(m[IV], IV, cek === GCM ? GCM_IV_LENGTH : CBC_IV_LENGTH),
    };
  }

  throw new UnknownFormatError('The object carries no S3 Encryption Client metadata (x-amz-key, x-amz-key-v2 or x-amz-3) and no instruction file was found. It was probably not written by an S3 encryption client; read it with a plain S3 client.');
}

/** Metadata for a V3 object. `instructionFile` splits it as the format requires. */
export function encodeV3(args: {
  encryptedDataKey: Buffer; messageId: Buffer; commitment: Buffer; context: Record<string, string>;
}): { objectMetadata: Record<string, string>; instruction?: Record<string, string>; all: Record<string, string> } {
  const content = {
    [CONTENT_CIPHER_V3]: SUITE_V3_ID_STRING,
    [KEY_COMMITMENT_V3]: args.commitment.toString('base64'),
    [MESSAGE_ID_V3]: args.messageId.toString('base64'),
  };
  const key = {
    [ENCRYPTED_DATA_KEY_V3]: args.encryptedDataKey.toString('base64'),
    [WRAP_ALG_V3]: WRAP_V3_KMS_CONTEXT,
    [ENCRYPTION_CONTEXT_V3]: asciiJson(args.context),
  };
  return { objectMetadata: content, instruction: key, all: { ...key, ...content } };
}

/**
 * Metadata of a V2 object. `plaintextLength` adds x-amz-unencrypted-content-length, which belongs
 * to object metadata only: readers such as the Python client refuse an instruction file with it
 * ("Instruction file contains invalid keys").
 */
export function encodeV2(args: {
  encryptedDataKey: Buffer; iv: Buffer; context: Record<string, string>; plaintextLength?: number;
}): Record<string, string> {
  const out: Record<string, string> = {
    [KEY_V2]: args.encryptedDataKey.toString('base64'),
    [IV]: args.iv.toString('base64'),
    [CEK_ALG]: GCM,
    [TAG_LEN]: '128',
    [WRAP_ALG]: WRAP_KMS_CONTEXT,
    [MATDESC]: asciiJson(args.context),
  };
  if (args.plaintextLength !== undefined) out[UNENCRYPTED_LENGTH] = String(args.plaintextLength);
  return out;
}

/** Lower-cases metadata keys, as S3 returns them lower-case but callers may pass any case. */
export function normalizeMetadata(m: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Refuses caller metadata that would collide with the client's own keys. */
export function assertNoReservedMetadata(m: Record<string, string>): void {
  for (const k of Object.keys(m)) {
    const lk = k.toLowerCase();
    if ([KEY_V1, KEY_V2, IV, MATDESC, WRAP_ALG, CEK_ALG, TAG_LEN, UNENCRYPTED_LENGTH, CONTENT_CIPHER_V3, ENCRYPTED_DATA_KEY_V3,
      MAT_DESC_V3, ENCRYPTION_CONTEXT_V3, WRAP_ALG_V3, KEY_COMMITMENT_V3, MESSAGE_ID_V3, INSTRUCTION_FILE_MARKER].includes(lk)) {
      throw new InvalidRequestError(`Metadata key "${k}" is reserved for the encryption client; rename it.`);
    }
  }
}
