/**
 * Benchmark of the S3 encryption client's byte path, run by hand:
 *
 *   npx ts-node --project test/tsconfig.json --transpile-only bench/client.bench.ts [--sizes=1,64,1024] [--peer=false] [--reps=5]
 *
 * S3 and KMS are in-process stand-ins (objects are local files in a temporary directory; KMS is an
 * in-memory AES-GCM wrapper), so the figures measure the crypto and the client's streaming, not a network.
 * Every contender reads the same plaintext stream and writes to the same kind of file sink.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import {
  AlgorithmSuiteIdentifier, CommitmentPolicy, RawAesKeyringNode, RawAesWrappingSuiteIdentifier, buildClient,
} from '@aws-crypto/client-node';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand,
  PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { S3EncryptionClient } from '../src/client';
import { FakeKms, FakeS3 } from '../test/client/fakes';

const MIB = 1024 * 1024;
const CHUNK = MIB;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')) as [string, string][]);
const SIZES_MIB = (args.sizes ?? '1,64,1024').split(',').map(Number);
const WITH_PEER = args.peer !== 'false';
const REPS = Number(args.reps ?? 5);
const DIR = fs.mkdtempSync(path.join(args.dir ?? os.tmpdir(), 's3ec-bench-'));
const BLOCK = crypto.randomBytes(CHUNK);

/** Plaintext of `size` bytes as 1 MiB chunks of one random block, so the source costs no memory. */
function source(size: number): Readable {
  // Asynchronous, one chunk per read, as a file stream delivers them: a synchronous generator, or a
  // high-water mark above one chunk, has Readable.from buffer two chunks and every read concatenate
  // them, which times the harness for every contender.
  async function* gen() { for (let done = 0; done < size; done += CHUNK) yield BLOCK.subarray(0, Math.min(CHUNK, size - done)); }
  return Readable.from(gen(), { objectMode: false, highWaterMark: CHUNK });
}

/** S3 stand-in whose objects are local files; parts are written at their offsets. */
class FileS3 {
  private readonly meta = new Map<string, Record<string, string>>();
  private readonly uploads = new Map<string, { key: string; fh: fs.promises.FileHandle; metadata: Record<string, string>; partSize?: number }>();
  file(key: string): string { return path.join(DIR, key.replace(/[^a-z0-9.-]/gi, '_')); }
  metadata(key: string): Record<string, string> { return { ...this.meta.get(key) }; }
  asClient(): S3Client { return this as unknown as S3Client; }
  async send(cmd: any): Promise<any> {
    const i = cmd.input;
    if (cmd instanceof PutObjectCommand) {
      await fs.promises.writeFile(this.file(i.Key), i.Body as Buffer);
      this.meta.set(i.Key, i.Metadata ?? {});
      return {};
    }
    if (cmd instanceof CreateMultipartUploadCommand) {
      const id = crypto.randomUUID();
      this.uploads.set(id, { key: i.Key, fh: await fs.promises.open(this.file(i.Key), 'w'), metadata: i.Metadata ?? {} });
      return { UploadId: id };
    }
    if (cmd instanceof UploadPartCommand) {
      const u = this.uploads.get(i.UploadId)!;
      const body = i.Body as Buffer;
      // Parts are sent in order and all but the last are the same size (the client's default
      // schedule changes size only after 5,000 parts, far beyond these objects).
      if (i.PartNumber === 1) u.partSize = body.length;
      await u.fh.write(body, 0, body.length, (i.PartNumber - 1) * u.partSize!);
      return { ETag: `"${i.PartNumber}"` };
    }
    if (cmd instanceof CompleteMultipartUploadCommand || cmd instanceof AbortMultipartUploadCommand) {
      const u = this.uploads.get(i.UploadId)!;
      await u.fh.close();
      this.meta.set(u.key, u.metadata);
      this.uploads.delete(i.UploadId);
      return {};
    }
    if (cmd instanceof GetObjectCommand) {
      const f = this.file(i.Key);
      return { Body: fs.createReadStream(f, { highWaterMark: CHUNK }), ContentLength: fs.statSync(f).size, Metadata: { ...this.meta.get(i.Key) } };
    }
    throw new Error(`FileS3: ${cmd.constructor.name} not implemented`);
  }
}

/** Reads a file into 1 MiB chunks held in memory. */
function hold(file: string): Buffer[] {
  const all = fs.readFileSync(file);
  const chunks: Buffer[] = [];
  for (let o = 0; o < all.length; o += CHUNK) chunks.push(Buffer.from(all.subarray(o, o + CHUNK)));
  return chunks;
}

/**
 * A byte stream over chunks held in memory that delivers them one at a time, asynchronously, as a
 * socket does (Readable.from over an array would push synchronously and make every read concatenate).
 */
function memoryStream(chunks: Buffer[]): Readable {
  async function* gen() { yield* chunks; }
  return Readable.from(gen(), { objectMode: false, highWaterMark: CHUNK });
}

/** S3 stand-in that serves objects from memory (read-only), to time decryption without any storage cost. */
class MemS3 {
  private readonly objects = new Map<string, { chunks: Buffer[]; metadata: Record<string, string> }>();
  constructor(private readonly files: FileS3) {}
  asClient(): S3Client { return this as unknown as S3Client; }
  load(key: string): void { this.objects.set(key, { chunks: hold(this.files.file(key)), metadata: this.files.metadata(key) }); }
  drop(key: string): void { this.objects.delete(key); }
  async send(cmd: any): Promise<any> {
    const o = this.objects.get(cmd.input.Key);
    if (!(cmd instanceof GetObjectCommand) || !o) throw new Error(`MemS3: ${cmd.constructor.name} not implemented`);
    return { Body: memoryStream(o.chunks), ContentLength: o.chunks.reduce((n, c) => n + c.length, 0), Metadata: { ...o.metadata } };
  }
}

/** S3 stand-in that discards bodies, to time encryption without any storage cost. */
class NullS3 {
  asClient(): S3Client { return this as unknown as S3Client; }
  async send(cmd: any): Promise<any> {
    if (cmd instanceof CreateMultipartUploadCommand) return { UploadId: 'null' };
    if (cmd instanceof UploadPartCommand) return { ETag: `"${cmd.input.PartNumber}"` };
    if (cmd instanceof PutObjectCommand || cmd instanceof CompleteMultipartUploadCommand || cmd instanceof AbortMultipartUploadCommand) return {};
    throw new Error(`NullS3: ${cmd.constructor.name} not implemented`);
  }
}

interface Measure { seconds: number; peakRssMiB: number; peakDeltaMiB: number }

/** One contender in a group of rows measured together. */
interface Contender {
  readonly op: string;
  readonly who: string;
  readonly run: () => Promise<void>;
  /** File written by the run, flushed to disk (untimed) after it, so no run pays for another's writeback. */
  readonly flush?: string;
  /** Runs of this contender (the peer at 1 GiB takes over a minute per run). */
  readonly reps: number;
}

/**
 * Runs the contenders of one group in rounds, rotating who goes first, so that every contender sees the
 * same machine: this host's speed drifts by up to 2x over seconds, and timing one contender's runs
 * back to back and then the next's measures the drift as much as the code.
 */
async function rounds(group: Contender[], reps: number): Promise<Map<Contender, Measure[]>> {
  const runs = new Map<Contender, Measure[]>(group.map((c) => [c, []]));
  for (let r = 0; r < reps; r++) {
    const order = group.map((_, i) => group[(i + r) % group.length]);
    for (const c of order) {
      if (runs.get(c)!.length >= c.reps) continue;
      runs.get(c)!.push(await measureOnce(c.run));
      if (c.flush) fsyncFile(c.flush);
    }
  }
  return runs;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Median time, largest peak memory of any run. */
function summary(runs: Measure[]): Measure {
  return {
    seconds: median(runs.map((r) => r.seconds)),
    peakRssMiB: Math.max(...runs.map((r) => r.peakRssMiB)),
    peakDeltaMiB: Math.max(...runs.map((r) => r.peakDeltaMiB)),
  };
}

/** Speed ratio of `a` over `b` (>1: a faster): the median of the per-round ratios when both ran every round. */
function speedRatio(a: Measure[], b: Measure[]): number {
  if (a.length === b.length) return median(a.map((m, i) => b[i].seconds / m.seconds));
  return summary(b).seconds / summary(a).seconds;
}

function fsyncFile(f: string): void {
  if (!fs.existsSync(f)) return;
  const fd = fs.openSync(f, 'r+');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}

async function measureOnce(fn: () => Promise<void>): Promise<Measure> {
  gc();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 10);
  const t0 = process.hrtime.bigint();
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  peak = Math.max(peak, process.memoryUsage().rss);
  return { seconds, peakRssMiB: peak / MIB, peakDeltaMiB: (peak - base) / MIB };
}

async function drain(r: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const c of r) n += c.length;
  return n;
}

async function rawEncryptNoSink(size: number, key: Buffer): Promise<void> {
  const c = crypto.createCipheriv('aes-256-gcm', key, crypto.randomBytes(12));
  for await (const chunk of source(size)) c.update(chunk);
  c.final();
  c.getAuthTag();
}

async function rawEncrypt(size: number, key: Buffer, file: string): Promise<void> {
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', key, iv);
  const fh = await fs.promises.open(file, 'w');
  for await (const chunk of source(size)) await fh.write(c.update(chunk));
  await fh.write(Buffer.concat([c.final(), c.getAuthTag()]));
  await fh.close();
  fs.writeFileSync(file + '.iv', iv);
}

/** Raw AES-256-GCM over the same kind of in-memory stream the client reads (tag last, as rawEncrypt wrote it). */
async function rawDecryptChunks(key: Buffer, iv: Buffer, chunks: Buffer[]): Promise<number> {
  const size = chunks.reduce((n, c) => n + c.length, 0);
  const tag = lastBytes(chunks, 16);
  const d = crypto.createDecipheriv('aes-256-gcm', key, iv);
  d.setAuthTag(tag);
  let n = 0;
  let seen = 0;
  for await (const c of memoryStream(chunks)) {
    const body = (c as Buffer).subarray(0, Math.max(0, Math.min(c.length, size - 16 - seen)));
    seen += c.length;
    if (body.length) n += d.update(body).length;
  }
  return n + d.final().length;
}

/**
 * The bound for any read that must verify before it releases: a GHASH-only pass over the same
 * ciphertext (node:crypto AES-GCM fed it as AAD, no output), then raw AES-GCM decryption.
 */
async function ghashThenRawDecrypt(key: Buffer, iv: Buffer, chunks: Buffer[]): Promise<number> {
  const size = chunks.reduce((n, c) => n + c.length, 0);
  const hash = crypto.createCipheriv('aes-256-gcm', key, iv);
  let seen = 0;
  for await (const c of memoryStream(chunks)) {
    const body = (c as Buffer).subarray(0, Math.max(0, Math.min(c.length, size - 16 - seen)));
    seen += c.length;
    if (body.length) hash.setAAD(body);
  }
  hash.final();
  return rawDecryptChunks(key, iv, chunks);
}

function lastBytes(chunks: Buffer[], n: number): Buffer {
  const out: Buffer[] = [];
  let need = n;
  for (let i = chunks.length - 1; i >= 0 && need > 0; i--) {
    const c = chunks[i];
    out.unshift(c.subarray(Math.max(0, c.length - need)));
    need -= Math.min(need, c.length);
  }
  return Buffer.concat(out);
}

async function rawDecrypt(key: Buffer, file: string): Promise<number> {
  const size = fs.statSync(file).size;
  const fh = await fs.promises.open(file, 'r');
  const tag = Buffer.alloc(16);
  await fh.read(tag, 0, 16, size - 16);
  await fh.close();
  const d = crypto.createDecipheriv('aes-256-gcm', key, fs.readFileSync(file + '.iv'));
  d.setAuthTag(tag);
  let n = 0;
  if (size > 16) {
    for await (const chunk of fs.createReadStream(file, { start: 0, end: size - 17, highWaterMark: CHUNK })) n += d.update(chunk).length;
  }
  n += d.final().length;
  return n;
}

function mibps(size: number, m: Measure): number { return size / MIB / m.seconds; }
function fmt(x: number, d = 1): string { return x.toFixed(d); }

async function main(): Promise<void> {
  const started = Date.now();
  console.log('S3 encryption client benchmark');
  console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, OpenSSL ${process.versions.openssl}`);
  console.log('Byte path: in-process S3 stand-in backed by local files in ' + DIR + ', in-memory KMS stand-in; no network.');
  console.log('Raw = node:crypto AES-256-GCM over the same chunks into the same kind of file sink (the limit; it releases unverified plaintext).');
  console.log('"encrypt, no sink" discards the ciphertext (S3 stand-in drops the bodies) to show the crypto and client cost alone;');
  console.log('"encrypt" writes it to local files (needed for the decrypt rows), so it is bound by the disk.');
  console.log('Peer = @aws-crypto/client-node, ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY (no signature), raw AES keyring, 4 KiB frames.');
  console.log('Ours decrypt "auth" = no plaintext before the tag verifies: in memory up to 64 MiB; above that two passes, the first');
  console.log('  verifying the tag with GHASH only (per 4 MiB segment, combined into the object\'s tag), the second AES-GCM per segment');
  console.log('  on the object\'s keystream, releasing each segment once its own tag (derived in the first pass) verifies: "spool"');
  console.log('  (default) keeps the ciphertext in a temp file between the passes, "refetch" GETs the object twice.');
  console.log('  "unauth" = opt-in streaming that releases plaintext before the tag. "bound: GHASH + raw" = a GHASH-only pass');
  console.log('  then raw AES-GCM over the same bytes: the least any read that verifies before it releases can cost.');
  console.log('"decrypt, in memory" serves both objects from memory (no storage cost: the crypto and client alone); "decrypt" reads');
  console.log('  them from local files.');
  console.log('Every written file is flushed (fsync, untimed) after its run, so no run pays for the writeback of an earlier one.');
  console.log(`Load average at start: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (the figures are only as steady as the machine).`);
  console.log('');

  const kms = new FakeKms(['bench-key']);
  const s3 = new FileS3();
  // Part size and upload concurrency are the client's defaults.
  const client = new S3EncryptionClient({ s3: s3.asClient(), kms: kms.asClient(), kmsKeyId: 'bench-key', tempDir: DIR });
  const discarding = new S3EncryptionClient({ s3: new NullS3().asClient(), kms: kms.asClient(), kmsKeyId: 'bench-key' });
  const refetching = new S3EncryptionClient({ s3: s3.asClient(), kms: kms.asClient(), kmsKeyId: 'bench-key', largeObjects: 'refetch' });
  const mem = new MemS3(s3);
  const fromMemory = new S3EncryptionClient({ s3: mem.asClient(), kms: kms.asClient(), kmsKeyId: 'bench-key', largeObjects: 'refetch' });
  const BUFFER_LIMIT = 64 * MIB;
  const rawKey = crypto.randomBytes(32);
  const peer = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  const keyring = new RawAesKeyringNode({
    keyName: 'bench',
    keyNamespace: 'bench',
    unencryptedMasterKey: crypto.randomBytes(32),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });

  const rows: string[][] = [['size', 'op', 'contender', 'MiB/s', 'vs raw', 'vs peer', 'peak RSS MiB', 'peak +MiB']];
  // The targets, measured in the same run: [what, measured ratio, goal].
  const targets: [string, number, number][] = [];
  for (const sizeMib of SIZES_MIB) {
    const size = sizeMib * MIB;
    const key = `obj-${sizeMib}`;
    // Every contender runs REPS times, except the peer above 64 MiB (over a minute per run).
    const reps = REPS;
    const peerReps = sizeMib <= 64 ? REPS : 1;
    const rawFile = path.join(DIR, `raw-${sizeMib}`);
    const peerFile = path.join(DIR, `peer-${sizeMib}`);

    // Warm-up on the smallest size keeps JIT and OpenSSL set-up out of the first figure.
    if (sizeMib === SIZES_MIB[0]) {
      await client.putObjectStream({ Bucket: 'b', Key: 'warm', Body: source(MIB) });
      await drain((await client.getObject({ Bucket: 'b', Key: 'warm' })).Body);
      await rawEncrypt(MIB, rawKey, rawFile);
    }

    const report = (group: Contender[], runs: Map<Contender, Measure[]>) => {
      const raw = group.find((c) => c.who === 'raw')!;
      const peerC = group.find((c) => c.who === 'peer');
      const bound = group.find((c) => c.who.startsWith('bound'));
      for (const c of group) {
        const vsRaw = speedRatio(runs.get(c)!, runs.get(raw)!);
        if (c.who === 'ours' && c.op.startsWith('encrypt')) targets.push([`${sizeMib} MiB ${c.op}: ours / raw AES-GCM`, vsRaw, 0.8]);
        if (c.who === 'ours auth' && c.op === 'decrypt, in memory') targets.push([`${sizeMib} MiB single-pass authenticated read: ours / raw AES-GCM`, vsRaw, 0.8]);
        if (bound && c.who.startsWith('ours auth')) {
          targets.push([`${sizeMib} MiB ${c.op} two-pass read (${c.who}): ours / (GHASH pass + raw)`, speedRatio(runs.get(c)!, runs.get(bound)!), 0.9]);
        }
      }
      for (const c of group) {
        const m = summary(runs.get(c)!);
        rows.push([
          `${sizeMib} MiB`, c.op, c.who, fmt(mibps(size, m)),
          c === raw ? '1.00' : fmt(speedRatio(runs.get(c)!, runs.get(raw)!), 2),
          peerC && c !== peerC ? fmt(speedRatio(runs.get(c)!, runs.get(peerC)!), 2) : '',
          fmt(m.peakRssMiB, 0), fmt(m.peakDeltaMiB, 0),
        ]);
      }
    };
    const check = (who: string) => (n: number) => { if (n !== size) throw new Error(`${who}: decrypted ${n} bytes, expected ${size}`); };

    const noSink: Contender[] = [
      { op: 'encrypt, no sink', who: 'raw', reps, run: () => rawEncryptNoSink(size, rawKey) },
      { op: 'encrypt, no sink', who: 'ours', reps, run: async () => { await discarding.putObjectStream({ Bucket: 'b', Key: key, Body: source(size) }); } },
    ];
    report(noSink, await rounds(noSink, reps));
    const encrypt: Contender[] = [
      { op: 'encrypt', who: 'raw', reps, flush: rawFile, run: () => rawEncrypt(size, rawKey, rawFile) },
      { op: 'encrypt', who: 'ours', reps, flush: s3.file(key), run: async () => { await client.putObjectStream({ Bucket: 'b', Key: key, Body: source(size) }); } },
    ];
    if (WITH_PEER) {
      encrypt.push({
        op: 'encrypt',
        who: 'peer',
        reps: peerReps,
        flush: peerFile,
        run: () => pipeline(source(size), peer.encryptStream(keyring, {
          suiteId: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
        }), fs.createWriteStream(peerFile)),
      });
    }
    report(encrypt, await rounds(encrypt, reps));

    // Decryption with no storage cost: both objects held in memory, the limit being raw AES-GCM over them.
    mem.load(key);
    const rawChunks = hold(rawFile);
    const rawIv = fs.readFileSync(rawFile + '.iv');
    const inMemory: Contender[] = [
      { op: 'decrypt, in memory', who: 'raw', reps, run: async () => check('raw')(await rawDecryptChunks(rawKey, rawIv, rawChunks)) },
      {
        op: 'decrypt, in memory',
        who: size > BUFFER_LIMIT ? 'ours auth 2 GETs' : 'ours auth',
        reps,
        run: async () => check('ours')(await drain((await fromMemory.getObject({ Bucket: 'b', Key: key })).Body)),
      },
      ...size > BUFFER_LIMIT ? [{
        op: 'decrypt, in memory',
        who: 'bound: GHASH + raw',
        reps,
        run: async () => check('bound')(await ghashThenRawDecrypt(rawKey, rawIv, rawChunks)),
      }] : [],
      {
        op: 'decrypt, in memory',
        who: 'ours unauth',
        reps,
        run: async () => check('unauth')(await drain((await fromMemory.getObject({ Bucket: 'b', Key: key, allowUnauthenticatedStreaming: true })).Body)),
      },
    ];
    report(inMemory, await rounds(inMemory, reps));
    mem.drop(key);
    rawChunks.length = 0;

    const decrypt: Contender[] = [
      { op: 'decrypt', who: 'raw', reps, run: async () => check('raw')(await rawDecrypt(rawKey, rawFile)) },
      {
        op: 'decrypt',
        who: size > BUFFER_LIMIT ? 'ours auth spool' : 'ours auth',
        reps,
        run: async () => check('ours')(await drain((await client.getObject({ Bucket: 'b', Key: key })).Body)),
      },
    ];
    if (size > BUFFER_LIMIT) {
      decrypt.push({
        op: 'decrypt',
        who: 'ours auth refetch',
        reps,
        run: async () => check('refetch')(await drain((await refetching.getObject({ Bucket: 'b', Key: key })).Body)),
      });
    }
    decrypt.push({
      op: 'decrypt',
      who: 'ours unauth',
      reps,
      run: async () => check('unauth')(await drain((await client.getObject({ Bucket: 'b', Key: key, allowUnauthenticatedStreaming: true })).Body)),
    });
    if (WITH_PEER) {
      decrypt.push({
        op: 'decrypt',
        who: 'peer',
        reps: peerReps,
        run: async () => check('peer')(await drain(fs.createReadStream(peerFile, { highWaterMark: CHUNK }).pipe(peer.decryptUnsignedMessageStream(keyring)))),
      });
    }
    report(decrypt, await rounds(decrypt, reps));

    for (const f of [rawFile, rawFile + '.iv', peerFile, s3.file(key)]) fs.rmSync(f, { force: true });
  }

  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
  console.log('"vs raw" and "vs peer" are speed ratios (>1 = ours faster). Peak RSS is the whole process; "+MiB" is over the idle RSS before the run.');
  console.log(`Times are medians of ${REPS} runs (the peer: one run above 64 MiB); ratios are medians of the per-round ratios,`);
  console.log('the contenders of a group taking turns in rotating order. Load average at end: ' + os.loadavg().map((x) => x.toFixed(2)).join(' '));
  console.log('');
  console.log('Targets (speed ratios from this run; >= goal is met):');
  for (const [what, ratio, goal] of targets) console.log(`  ${what}: ${fmt(ratio, 2)} (goal >= ${goal}) ${ratio >= goal ? 'met' : 'NOT MET'}`);

  // KMS calls per 1,000 objects, with and without the cache.
  console.log('');
  const counts: string[] = [];
  for (const cache of [false, true]) {
    const k = new FakeKms(['bench-key']);
    const c = new S3EncryptionClient({ s3: new FakeS3().asClient(), kms: k.asClient(), kmsKeyId: 'bench-key', cache: cache ? { maxObjects: 1000, maxAgeSeconds: 300 } : undefined });
    for (let i = 0; i < 1000; i++) await c.putObject({ Bucket: 'b', Key: `o${i}`, Body: `object ${i}`, encryptionContext: { app: 'bench' } });
    for (let i = 0; i < 1000; i++) await drain((await c.getObject({ Bucket: 'b', Key: `o${i}`, encryptionContext: { app: 'bench' } })).Body);
    counts.push(`${cache ? 'with cache (1000 objects / 300 s per key)' : 'without cache'}: GenerateDataKey ${k.generateCalls}, Decrypt ${k.decryptCalls} per 1,000 objects written and read`);
  }
  console.log('KMS calls (in-memory KMS stand-in counts every call):');
  for (const c of counts) console.log('  ' + c);
  fs.rmSync(DIR, { recursive: true, force: true });
  console.log(`\nTotal run time ${fmt((Date.now() - started) / 1000)} s`);
}

main().catch((e) => { fs.rmSync(DIR, { recursive: true, force: true }); console.error(e); process.exit(1); });
