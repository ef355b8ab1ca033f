/**
 * Decryption pipelines for object bodies. The authenticated ones release no plaintext before the
 * GCM tag has verified:
 *  - buffered: small objects are decrypted in memory, released after final() succeeds;
 *  - spooled: large objects are verified in a first pass (GHASH only, see GcmSegments) while the
 *    ciphertext is written to a private temporary file, then decrypted from that file in a second
 *    pass, segment by segment with AES-GCM on the object's keystream, each segment's plaintext
 *    released only after its own tag, derived in the first pass, verifies. Plaintext never touches
 *    the disk and memory stays constant.
 *  - refetched: the same two passes, the second over a second download instead of a file.
 * The unauthenticated pipeline streams plaintext directly and fails at the end; callers must opt in.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { GcmParams, GcmSegments, SegmentTags, cbcDecryptor, gcmDecryptor } from './crypto';
import { S3EncryptionClientError, TamperedObjectError } from './errors';
import { TAG_LENGTH } from './format';

/** A decrypted body: a Node Readable with the AWS SDK's convenience readers. */
export type DecryptedBody = Readable & {
  transformToByteArray(): Promise<Uint8Array>;
  transformToString(encoding?: BufferEncoding): Promise<string>;
};

/** Anything the AWS SDK may return as a body. */
export type CiphertextSource = AsyncIterable<Uint8Array> | { transformToByteArray(): Promise<Uint8Array> };

export function withReaders(r: Readable): DecryptedBody {
  const body = r as DecryptedBody;
  body.transformToByteArray = async () => {
    const chunks: Buffer[] = [];
    for await (const c of r) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
    return new Uint8Array(Buffer.concat(chunks));
  };
  body.transformToString = async (encoding: BufferEncoding = 'utf8') => Buffer.from(await body.transformToByteArray()).toString(encoding);
  return body;
}

export async function* iterate(source: CiphertextSource | undefined): AsyncGenerator<Buffer> {
  if (source === undefined || source === null) return;
  if (Symbol.asyncIterator in (source as object)) {
    for await (const c of source as AsyncIterable<Uint8Array | string>) {
      yield Buffer.isBuffer(c) ? c : typeof c === 'string' ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    }
    return;
  }
  const all = await (source as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
  yield Buffer.from(all.buffer, all.byteOffset, all.byteLength);
}

/**
 * Keeps a response body that is not read yet from raising an uncaught 'error' (a connection reset
 * while the client waits for KMS or an instruction file would crash a default Node process). The
 * error is not lost: reading the body later fails with it.
 */
export function holdErrors(source: unknown): void {
  const s = source as { on?: (event: string, listener: () => void) => unknown } | undefined;
  if (typeof s?.on === 'function') s.on('error', () => undefined);
}

export function destroySource(source: unknown): void {
  const s = source as { destroy?: () => void } | undefined;
  try { s?.destroy?.(); } catch { /* best effort */ }
}

export function tamperedTag(cause?: unknown): TamperedObjectError {
  return new TamperedObjectError(
    'The object failed authentication (AES-GCM tag mismatch): its body, tag or metadata was changed after it was written. ' +
    'No plaintext was released. Restore the object from a trusted copy.', { cause });
}

/** Separates the trailing 16-byte GCM tag from a ciphertext stream without copying large chunks. */
class TagSplitter {
  private tail: Buffer = Buffer.alloc(0);
  /** Returns the bytes that are certainly ciphertext (not part of the tag). */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length >= TAG_LENGTH) {
      const out = this.tail.length ? [this.tail, chunk.subarray(0, chunk.length - TAG_LENGTH)] : [chunk.subarray(0, chunk.length - TAG_LENGTH)];
      this.tail = Buffer.from(chunk.subarray(chunk.length - TAG_LENGTH));
      return out;
    }
    const joined = Buffer.concat([this.tail, chunk]);
    const cut = Math.max(0, joined.length - TAG_LENGTH);
    this.tail = joined.subarray(cut);
    return cut > 0 ? [joined.subarray(0, cut)] : [];
  }
  tag(): Buffer {
    if (this.tail.length !== TAG_LENGTH) {
      throw new TamperedObjectError(`The object is ${this.tail.length} bytes long, shorter than its 16-byte authentication tag: it was truncated. Restore it from a trusted copy.`);
    }
    return this.tail;
  }
}

function wrongLength(got: number, announced: number, more: boolean): TamperedObjectError {
  return new TamperedObjectError(
    `The object body ${more ? 'ran past' : 'ended at ' + got + ' bytes, short of'} its announced length (${announced} bytes): the storage sent ` +
    'other bytes than it announced. No plaintext was released. Retry; if it persists, restore the object from a trusted copy.');
}

/**
 * The source's chunks, failing as tampered as soon as they run past `announced` bytes (the response's
 * ContentLength), so memory and work stay bounded whatever the storage sends, or when they end short.
 */
async function* exactly(source: CiphertextSource | undefined, announced: number | undefined): AsyncGenerator<Buffer> {
  let size = 0;
  for await (const chunk of iterate(source)) {
    size += chunk.length;
    if (announced !== undefined && size > announced) throw wrongLength(size, announced, true);
    yield chunk;
  }
  if (announced !== undefined && size !== announced) throw wrongLength(size, announced, false);
}

/**
 * Decrypts in memory an object of `length` ciphertext bytes (its ContentLength, which the caller
 * checked against the buffer limit); returns the plaintext only after the tag verified.
 */
export async function decryptGcmBuffered(source: CiphertextSource | undefined, p: GcmParams, length: number): Promise<Buffer[]> {
  const d = gcmDecryptor(p);
  const split = new TagSplitter();
  const out: Buffer[] = [];
  const wipe = () => { for (const b of out) b.fill(0); };
  try {
    for await (const chunk of exactly(source, length)) {
      for (const part of split.push(chunk)) out.push(d.update(part));
    }
  } catch (e) {
    wipe();
    destroySource(source);
    throw e;
  }
  d.setAuthTag(split.tag());
  try {
    out.push(d.final());
  } catch (e) {
    // Wipe what was decrypted so unauthenticated bytes do not linger in memory.
    wipe();
    throw tamperedTag(e);
  }
  // Returned as chunks: concatenating would cost a full extra copy of the object.
  return out.filter((b) => b.length > 0);
}

const live = new Set<string>();
let exitHook = false;
function track(dir: string): void {
  live.add(dir);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => { for (const d of live) { try { fs.rmSync(d, { recursive: true, force: true }); } catch { /* ignore */ } } });
  }
}

const SPOOL_WRITE_BATCH = 4 * 1024 * 1024;
const SPOOL_READ_CHUNK = 2 * 1024 * 1024;
/** Segment of the ciphertext checked as one unit by the decrypting pass of the two-pass reads. */
export const VERIFY_SEGMENT = 4 * 1024 * 1024;

/**
 * Spooled read. First pass: write the ciphertext to a private temporary file while verifying the
 * GCM tag and deriving each segment's tag. Second pass (the returned stream): decrypt the file,
 * releasing a segment only when its tag still verifies.
 */
export async function decryptGcmSpooled(
  source: CiphertextSource | undefined, p: GcmParams, ciphertextLength: number | undefined, tempDir?: string,
): Promise<DecryptedBody> {
  const dir = await fs.promises.mkdtemp(path.join(tempDir ?? os.tmpdir(), 's3ec-'));
  track(dir);
  const file = path.join(dir, 'ciphertext');
  let fh: fs.promises.FileHandle | undefined;
  const gcm = new GcmSegments(p, VERIFY_SEGMENT);
  const cleanupDir = () => { live.delete(dir); return fs.promises.rm(dir, { recursive: true, force: true }).catch(() => undefined); };
  try {
    fh = await fs.promises.open(file, 'wx+', 0o600);
    const handleForWrites = fh;
    let batch: Buffer[] = [];
    let batchLen = 0;
    // One write in flight while the next batch is read and verified: disk and CPU overlap.
    let writing: Promise<void> | undefined;
    let writeError: unknown;
    const st = await verifySegments(source, gcm, ciphertextLength, async (part, last) => {
      if (part.length) { batch.push(part); batchLen += part.length; }
      if (batchLen >= SPOOL_WRITE_BATCH || last) {
        if (writing) await writing;
        if (writeError) throw writeError;
        if (batchLen > 0) {
          writing = writeAll(handleForWrites, batch).catch((e) => { writeError = e; });
          batch = []; batchLen = 0;
        }
        if (last) {
          await writing;
          if (writeError) throw writeError;
        }
      }
    });

    // The file is unlinked as soon as it is open for reading, so nothing outlives the stream.
    const handle = fh;
    fh = undefined;
    let input: Readable | undefined;
    if (st.length === 0) {
      await handle.close();
    } else {
      input = handle.createReadStream({ start: 0, end: st.length - 1, highWaterMark: SPOOL_READ_CHUNK, autoClose: true });
    }
    await cleanupDir();
    return decryptVerified(input, gcm, st, false, () => new TamperedObjectError(
      'The spooled ciphertext changed on disk between the verifying pass and the decrypting pass (a segment no longer matches its verified tag). ' +
      'No unverified plaintext was released. Check the temporary directory (tempDir) for other writers or disk errors, then retry.'));
  } catch (e) {
    gcm.dispose();
    destroySource(source);
    await fh?.close().catch(() => undefined);
    await cleanupDir();
    throw e;
  }
}

/** Writes every buffer in order at the file's position; exported for tests. */
export async function writeAll(fh: Pick<fs.promises.FileHandle, 'writev'>, bufs: Buffer[]): Promise<void> {
  let rest = bufs.filter((b) => b.length > 0);
  while (rest.length) {
    // writev may write only part; continue after the bytes it wrote, without copying the batch.
    let { bytesWritten } = await fh.writev(rest);
    if (bytesWritten <= 0) throw new S3EncryptionClientError('Writing the spooled ciphertext to the temporary file made no progress; check tempDir\'s disk.');
    while (rest.length && bytesWritten >= rest[0].length) { bytesWritten -= rest[0].length; rest = rest.slice(1); }
    if (rest.length && bytesWritten > 0) rest = [rest[0].subarray(bytesWritten), ...rest.slice(1)];
  }
}

/**
 * First pass of a two-pass read: verifies the GCM tag over the whole object with GHASH only (no
 * decryption) and returns, for each segment, the tag its decryption on its own must produce (see
 * GcmSegments). `sink` sees every ciphertext byte (spooling), and is called once more with `last` set
 * before the tag is checked. Throws TamperedObjectError on a bad tag, or when the body's length is
 * not the `announced` one (its ContentLength), as soon as it runs past it.
 */
async function verifySegments(
  source: CiphertextSource | undefined, gcm: GcmSegments, announced: number | undefined,
  sink?: (ciphertext: Buffer, last: boolean) => Promise<void>,
): Promise<SegmentTags> {
  const split = new TagSplitter();
  try {
    for await (const chunk of exactly(source, announced)) {
      for (const part of split.push(chunk)) {
        gcm.update(part);
        if (sink) await sink(part, false);
      }
    }
    if (sink) await sink(Buffer.alloc(0), true);
    const tags = gcm.verify(split.tag());
    if (!tags) throw tamperedTag();
    return tags;
  } catch (e) {
    gcm.dispose();
    destroySource(source);
    throw e;
  }
}

function changedBetweenReads(): TamperedObjectError {
  return new TamperedObjectError(
    'The object changed between the verifying read and the decrypting read (a segment does not match the verified ciphertext). ' +
    'No unverified plaintext was released. Retry; if it persists, the storage is returning inconsistent data.');
}

/**
 * Refetched read: the first download is only verified; the body comes from a second download
 * (`fetchAgain`, which should pin the verified object), released segment by segment only after each
 * segment is proven to be the ciphertext that verified in the first pass.
 */
export async function decryptGcmRefetched(
  source: CiphertextSource | undefined, p: GcmParams, ciphertextLength: number | undefined,
  fetchAgain: () => Promise<{ Body?: unknown; ContentLength?: number }>,
): Promise<DecryptedBody> {
  const gcm = new GcmSegments(p, VERIFY_SEGMENT);
  const st = await verifySegments(source, gcm, ciphertextLength);
  let again: { Body?: unknown; ContentLength?: number };
  try {
    again = await fetchAgain();
  } catch (e) {
    gcm.dispose();
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 412 || (e as Error).name === 'PreconditionFailed') {
      throw new TamperedObjectError('The object was replaced between the verifying read and the decrypting read (S3 answered 412 to the ' +
        'If-Match of the verified ETag). No plaintext was released. Read it again.', { cause: e });
    }
    throw e;
  }
  holdErrors(again.Body);
  if (again.ContentLength !== undefined && again.ContentLength !== ciphertextLength) {
    destroySource(again.Body);
    gcm.dispose();
    throw new TamperedObjectError('The object changed between the verifying read and the decrypting read (different length). Retry.');
  }
  return decryptVerified(again.Body as CiphertextSource | undefined, gcm, st, true, changedBetweenReads);
}

/**
 * Second pass over ciphertext whose GCM tag verified in the first: each segment is decrypted by its
 * own AES-GCM decipher on the object's keystream, and its plaintext is released only after final()
 * accepts the segment tag computed in the first pass. The last segment is held until the source has
 * ended and its length (and, with `withTag`, its trailing tag) matched, so a wrong ending releases no
 * part of it. Plaintext that is not released is zeroed.
 */
function decryptVerified(
  source: CiphertextSource | undefined, gcm: GcmSegments, st: SegmentTags, withTag: boolean, mismatch: () => TamperedObjectError,
): DecryptedBody {
  async function* run(): AsyncGenerator<Buffer> {
    let held: Buffer[] = [];
    let index = 0;
    let offset = 0;
    let trailing = 0;
    const trailer = Buffer.alloc(TAG_LENGTH);
    let decipher = st.length > 0 ? gcm.decipher(0) : undefined;
    const segmentEnd = () => Math.min((index + 1) * st.segment, st.length);
    try {
      for await (const chunk of iterate(source)) {
        let c = chunk;
        while (c.length > 0) {
          if (offset >= st.length) {
            if (trailing < TAG_LENGTH) c.copy(trailer, trailing, 0, Math.min(c.length, TAG_LENGTH - trailing));
            trailing += c.length;
            break;
          }
          const n = Math.min(c.length, segmentEnd() - offset);
          const out = decipher!.update(n === c.length ? c : c.subarray(0, n));
          if (out.length) held.push(out);
          offset += n;
          c = c.subarray(n);
          if (offset === segmentEnd()) {
            let last: Buffer;
            try { last = decipher!.final(); } catch { throw mismatch(); }
            if (last.length) held.push(last);
            index++;
            decipher = undefined;
            if (offset < st.length) {
              decipher = gcm.decipher(index);
              const release = held;
              held = [];
              yield* release;
            }
          }
        }
      }
      if (offset !== st.length || trailing !== (withTag ? TAG_LENGTH : 0)) throw mismatch();
      if (withTag && !crypto.timingSafeEqual(trailer, st.tag)) throw mismatch();
      const release = held;
      held = [];
      yield* release;
    } finally {
      for (const h of held) h.fill(0);
    }
  }
  // The segment state is disposed when the body closes, however it ends (also if never read).
  return bodyFrom(run(), source, () => gcm.dispose());
}

/** Streams plaintext as it is decrypted; the stream errors at the end if the tag fails. Opt-in only. */
export function decryptGcmUnauthenticated(source: CiphertextSource | undefined, p: GcmParams): DecryptedBody {
  const d = gcmDecryptor(p);
  const split = new TagSplitter();
  async function* run(): AsyncGenerator<Buffer> {
    let released = 0;
    try {
      for await (const chunk of iterate(source)) {
        for (const part of split.push(chunk)) {
          const o = d.update(part);
          if (o.length) { released += o.length; yield o; }
        }
      }
    } catch (e) {
      // The download failed (a reset, a timeout): what was released was never verified either.
      throw new S3EncryptionClientError(
        `The download failed after ${released} bytes of unverified plaintext were released (allowUnauthenticatedStreaming): discard all of them `
        + `and read the object again (${(e as Error).name}: ${(e as Error).message}).`, { cause: e });
    }
    try {
      d.setAuthTag(split.tag());
      const last = d.final();
      if (last.length) yield last;
    } catch (e) {
      // Streaming released the plaintext as it came: say how much, so the caller can discard it.
      throw new TamperedObjectError(
        `The object failed authentication (AES-GCM tag mismatch, or a body shorter than its tag) after ${released} bytes of unverified plaintext were ` +
        'released (allowUnauthenticatedStreaming): discard all of them. The object was changed after it was written; restore it from a trusted copy.', { cause: e });
    }
  }
  return bodyFrom(run(), source);
}

/** Legacy AES-CBC: no authentication exists, so plaintext streams; a padding error fails the stream. */
export function decryptCbc(source: CiphertextSource | undefined, key: Buffer, iv: Buffer): DecryptedBody {
  const d = cbcDecryptor(key, iv);
  async function* run(): AsyncGenerator<Buffer> {
    for await (const chunk of iterate(source)) { const o = d.update(chunk); if (o.length) yield o; }
    let last: Buffer;
    try { last = d.final(); } catch (e) {
      throw new TamperedObjectError('The legacy AES-CBC object has invalid padding: it was changed, truncated, or decrypted with the wrong key. ' +
        'Check kmsKeyId, then restore the object from a trusted copy.', { cause: e });
    }
    if (last.length) yield last;
  }
  return bodyFrom(run(), source);
}

/**
 * One generator, one Readable: fewer stream layers than pipe chains, so less overhead per chunk.
 * Destroying the body early destroys the source at once, so a generator waiting on the network
 * ends now rather than after its next chunk, and runs `cleanup`.
 */
function bodyFrom(gen: AsyncGenerator<Buffer>, source: unknown, cleanup?: () => void): DecryptedBody {
  const out = Readable.from(gen, { objectMode: false });
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    destroySource(source);
    cleanup?.();
  };
  const destroy = out._destroy.bind(out);
  out._destroy = (error, callback) => { finish(); destroy(error, callback); };
  out.on('close', finish);
  return withReaders(out);
}

/** Random bytes source; replaceable in tests to get deterministic output. */
export type RandomSource = (n: number) => Buffer;
export const defaultRandom: RandomSource = (n) => crypto.randomBytes(n);
