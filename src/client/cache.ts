/**
 * Data-key cache: reuses KMS data keys for a bounded time, number of objects and number of bytes,
 * to cut KMS calls. Safe with V3 because every object derives its own content key from the data key
 * and a fresh 28-byte message id; with V2 every object still gets a fresh random 12-byte IV.
 */
import * as crypto from 'node:crypto';

/** Bounds of a {@link DataKeyCache}; an entry is dropped when it reaches any of them. */
export interface DataKeyCacheOptions {
  /** Longest time an entry is used after KMS returned it, in seconds. Default 300. */
  readonly maxAgeSeconds?: number;
  /** Most objects encrypted or decrypted with one cached key. Default 1000. */
  readonly maxObjects?: number;
  /** Most plaintext bytes encrypted with one cached key. Default 64 GiB. */
  readonly maxBytes?: number;
  /** Most distinct keys held (per direction); the least recently used goes first. Default 100. */
  readonly capacity?: number;
  /** Clock in ms, for tests. */
  readonly now?: () => number;
}

interface Entry {
  readonly plaintextKey: Buffer;
  readonly encryptedKey: Buffer;
  readonly createdAt: number;
  objects: number;
  bytes: number;
}

/** A data key as KMS returned it: the plaintext key and its KMS-encrypted form stored with objects. */
export interface CachedDataKey {
  /** The 32-byte data key; wiped by clear() and on eviction. */
  readonly plaintextKey: Buffer;
  /** The data key encrypted by KMS (the CiphertextBlob). */
  readonly encryptedKey: Buffer;
}

/** Counters of a {@link DataKeyCache} since it was created. */
export interface DataKeyCacheStats {
  /** Lookups answered from the cache (each one a KMS call saved). */
  readonly hits: number;
  /** Lookups that needed KMS. */
  readonly misses: number;
  /** Entries held now, for encryption and decryption together. */
  readonly entries: number;
}

/** Hard ceiling on uses per key, whatever the options say: keeps random-IV GCM far below its collision bound. */
const ABSOLUTE_MAX_OBJECTS = 2 ** 32;

/**
 * Bounded cache of KMS data keys, shareable between S3EncryptionClient instances (entries are kept
 * apart per KMS client). Pass it as the client's `cache` prop.
 *
 * @example
 * const cache = new DataKeyCache({ maxAgeSeconds: 300, maxObjects: 1000 });
 * const client = new S3EncryptionClient({ s3, kms, kmsKeyId: 'alias/app-data', cache });
 */
export class DataKeyCache {
  /**
   * Cache key for an encryption: partition, KMS key, format and full encryption context. The
   * partition keeps callers that reach KMS differently apart (S3EncryptionClient uses one per
   * KMS client instance), so a shared cache never hands one a key KMS gave another.
   */
  static encryptionId(partition: string, kmsKeyId: string, format: string, context: Record<string, string>): string {
    return hashId([partition, kmsKeyId, format, canonical(context)]);
  }

  /** Cache key for a decryption: partition, KMS key, encrypted data key and the context KMS will check. */
  static decryptionId(partition: string, kmsKeyId: string, encryptedKey: Buffer, context: Record<string, string>): string {
    return hashId([partition, kmsKeyId, encryptedKey.toString('base64'), canonical(context)]);
  }

  private readonly maxAgeMs: number;
  private readonly maxObjects: number;
  private readonly maxBytes: number;
  private readonly capacity: number;
  private readonly now: () => number;
  private readonly enc = new Map<string, Entry>();
  private readonly dec = new Map<string, Entry>();
  private hitCount = 0;
  private missCount = 0;

  constructor(options: DataKeyCacheOptions = {}) {
    this.maxAgeMs = (options.maxAgeSeconds ?? 300) * 1000;
    this.maxObjects = Math.min(options.maxObjects ?? 1000, ABSOLUTE_MAX_OBJECTS);
    this.maxBytes = options.maxBytes ?? 64 * 1024 ** 3;
    this.capacity = options.capacity ?? 100;
    this.now = options.now ?? Date.now;
    for (const [name, v] of [['maxAgeSeconds', this.maxAgeMs], ['maxObjects', this.maxObjects], ['maxBytes', this.maxBytes], ['capacity', this.capacity]] as const) {
      if (!(v > 0)) throw new RangeError(`DataKeyCache option ${name} must be positive`);
    }
  }

  /**
   * Returns a key for one more object of `bytes` plaintext bytes, or undefined if none is usable.
   * `bytes` undefined (unknown length) never reuses a key, so the byte bound always holds.
   */
  takeForEncryption(id: string, bytes: number | undefined): CachedDataKey | undefined {
    if (bytes === undefined) { this.missCount++; return undefined; }
    return this.take(this.enc, id, bytes);
  }

  /** Stores a key KMS just generated, counted as used for one object of `bytes` bytes (unknown: not stored). */
  putForEncryption(id: string, key: CachedDataKey, bytes: number | undefined): void {
    if (bytes === undefined) return;
    this.put(this.enc, id, key, bytes);
  }

  /** Returns the unwrapped key for one more object read under `id`, or undefined if none is usable. */
  takeForDecryption(id: string, bytes: number): CachedDataKey | undefined {
    return this.take(this.dec, id, bytes);
  }

  /** Stores a key KMS just decrypted, counted as used for one object of `bytes` bytes. */
  putForDecryption(id: string, key: CachedDataKey, bytes: number): void {
    this.put(this.dec, id, key, bytes);
  }

  /** Hits, misses and entries so far. */
  get stats(): DataKeyCacheStats {
    return { hits: this.hitCount, misses: this.missCount, entries: this.enc.size + this.dec.size };
  }

  /** Drops every entry and wipes the cached plaintext keys. */
  clear(): void {
    for (const e of [...this.enc.values(), ...this.dec.values()]) e.plaintextKey.fill(0);
    this.enc.clear();
    this.dec.clear();
  }

  private take(map: Map<string, Entry>, id: string, bytes: number): CachedDataKey | undefined {
    const e = map.get(id);
    if (!e) { this.missCount++; return undefined; }
    if (this.now() - e.createdAt >= this.maxAgeMs || e.objects + 1 > this.maxObjects || e.bytes + bytes > this.maxBytes) {
      this.evict(map, id);
      this.missCount++;
      return undefined;
    }
    e.objects++;
    e.bytes += bytes;
    // Re-insert to mark as most recently used.
    map.delete(id);
    map.set(id, e);
    this.hitCount++;
    return { plaintextKey: Buffer.from(e.plaintextKey), encryptedKey: Buffer.from(e.encryptedKey) };
  }

  private put(map: Map<string, Entry>, id: string, key: CachedDataKey, bytes: number): void {
    if (bytes > this.maxBytes || this.maxObjects < 1) return;
    if (map.has(id)) this.evict(map, id);
    map.set(id, {
      plaintextKey: Buffer.from(key.plaintextKey),
      encryptedKey: Buffer.from(key.encryptedKey),
      createdAt: this.now(),
      objects: 1,
      bytes,
    });
    while (map.size > this.capacity) {
      const oldest = map.keys().next().value as string;
      this.evict(map, oldest);
    }
  }

  private evict(map: Map<string, Entry>, id: string): void {
    const e = map.get(id);
    if (e) e.plaintextKey.fill(0);
    map.delete(id);
  }
}

function canonical(m: Record<string, string>): string {
  return JSON.stringify(Object.keys(m).sort().map((k) => [k, m[k]]));
}

function hashId(parts: string[]): string {
  return crypto.createHash('sha256').update(JSON.stringify(parts)).digest('base64');
}
