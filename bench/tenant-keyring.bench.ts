/**
 * Benchmark of TenantKeyring synthesis against a hand-written aws-cdk-lib loop of kms.Key +
 * kms.Alias for the same tenant counts, run by hand:
 *
 *   npx ts-node --project test/tsconfig.json bench/tenant-keyring.bench.ts [--counts=100,1000,10000] [--repeat=3]
 *
 * Each (contender, count) runs in its own child process, so peak memory is that run's alone. The
 * timed part is building the construct tree and `app.synth()` into a temporary directory. Runs
 * alternate loop and keyring and the median is reported, since a small shared machine is noisy;
 * 10,000 tenants run once.
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { EncryptedBucket } from '../src/bucket/encrypted-bucket';
import { TenantKeyring } from '../src/tenants/tenant-keyring';

const MB = 1024 * 1024;
const LIMITS = { resources: 500, templateBytes: 1 * MB };
const TARGETS = { ratioAt1000: 1.5, secondsAt10000: 120 };

interface Figures {
  contender: string;
  tenants: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  stacks: number;
  maxResources: number;
  totalResources: number;
  maxTemplateBytes: number;
  totalTemplateBytes: number;
}

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')) as [string, string][]);

function tenantId(i: number): string {
  return `tenant-${String(i).padStart(5, '0')}`;
}

/** The keyring: as many shards as keep about 100 tenants in each. */
function buildKeyring(app: App, n: number): void {
  const stack = new Stack(app, 'Keyring', { env: { account: '111111111111', region: 'us-east-1' } });
  const bucket = new EncryptedBucket(stack, 'Data');
  const keyring = new TenantKeyring(stack, 'Tenants', { bucket, shardCount: Math.max(1, Math.ceil(n / 100)) });
  for (let i = 0; i < n; i++) keyring.addTenant(tenantId(i));
}

/** What a user would write by hand: a key with rotation and an alias per tenant, in one stack. */
function buildLoop(app: App, n: number): void {
  const stack = new Stack(app, 'Loop', { env: { account: '111111111111', region: 'us-east-1' } });
  for (let i = 0; i < n; i++) {
    const key = new kms.Key(stack, `Key${i}`, { enableKeyRotation: true });
    new kms.Alias(stack, `Alias${i}`, { aliasName: `alias/tenants/${tenantId(i)}`, targetKey: key });
  }
}

function child(contender: string, n: number): void {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyring-bench-'));
  try {
    const start = process.hrtime.bigint();
    const cpuStart = process.cpuUsage();
    // The loop keeps every tenant in one stack, as written by hand; lift the 500-resource check so
    // that its raw synth cost can be measured (its template could not be deployed).
    const app = new App({ outdir, context: contender === 'loop' ? { '@aws-cdk/core:stackResourceLimit': 0 } : {} });
    (contender === 'keyring' ? buildKeyring : buildLoop)(app, n);
    app.synth();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const cpu = process.cpuUsage(cpuStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const templates = fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json'));
    let maxResources = 0; let totalResources = 0; let maxTemplateBytes = 0; let totalTemplateBytes = 0;
    for (const f of templates) {
      const text = fs.readFileSync(path.join(outdir, f), 'utf8');
      const resources = Object.keys(JSON.parse(text).Resources ?? {}).length;
      maxResources = Math.max(maxResources, resources);
      totalResources += resources;
      maxTemplateBytes = Math.max(maxTemplateBytes, Buffer.byteLength(text));
      totalTemplateBytes += Buffer.byteLength(text);
    }
    const figures: Figures = {
      contender,
      tenants: n,
      seconds,
      cpuSeconds,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      stacks: templates.length,
      maxResources,
      totalResources,
      maxTemplateBytes,
      totalTemplateBytes,
    };
    process.send!(figures);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function run(contender: string, n: number): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const p = fork(__filename, [`--child=${contender}`, `--n=${n}`], {
      execArgv: ['--max-old-space-size=6144', '-r', 'ts-node/register/transpile-only'],
      env: { ...process.env, TS_NODE_PROJECT: path.join(__dirname, '..', 'test', 'tsconfig.json') },
    });
    let result: Figures | undefined;
    p.on('message', (m) => { result = m as Figures; });
    p.on('error', reject);
    p.on('exit', (code) => (result ? resolve(result) : reject(new Error(`${contender} ${n}: child exited with ${code}`))));
  });
}

/** The run with the median time (its other figures come with it). */
function median(runs: Figures[]): Figures {
  return [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)];
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KB`;
}

async function main(): Promise<void> {
  const counts = (args.counts ?? '100,1000,10000').split(',').map(Number);
  console.log(`TenantKeyring synth vs a kms.Key + kms.Alias loop (node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(2)})\n`);
  const header = ['tenants', 'contender', 'seconds', 'CPU s', 'peak RSS', 'stacks', 'max res/stack', 'total res', 'max template', 'total templates', 'limits held'];
  const rows: string[][] = [];
  const ratios: string[] = [];
  let failed = false;
  for (const n of counts) {
    // One at a time: the machine is small and the figures must not disturb each other.
    const repeat = n >= 10000 ? 1 : Number(args.repeat ?? 3);
    const loops: Figures[] = [];
    const rings: Figures[] = [];
    for (let r = 0; r < repeat; r++) {
      loops.push(await run('loop', n));
      rings.push(await run('keyring', n));
    }
    const loop = median(loops);
    const ring = median(rings);
    for (const f of [loop, ring]) {
      const held = f.maxResources <= LIMITS.resources && f.maxTemplateBytes <= LIMITS.templateBytes;
      rows.push([String(n), f.contender, f.seconds.toFixed(2), f.cpuSeconds.toFixed(2), `${f.peakRssMb.toFixed(0)} MB`, String(f.stacks), String(f.maxResources),
        String(f.totalResources), kb(f.maxTemplateBytes), kb(f.totalTemplateBytes), held ? 'yes' : 'NO']);
      if (f.contender === 'keyring' && !held) failed = true;
    }
    const timeRatio = ring.seconds / loop.seconds;
    ratios.push(`${n} tenants: keyring/loop time ${timeRatio.toFixed(2)}x (${ring.seconds.toFixed(2)} s vs ${loop.seconds.toFixed(2)} s), `
      + `CPU ${(ring.cpuSeconds / loop.cpuSeconds).toFixed(2)}x, peak memory ${(ring.peakRssMb / loop.peakRssMb).toFixed(2)}x (${ring.peakRssMb.toFixed(0)} MB vs ${loop.peakRssMb.toFixed(0)} MB)`);
    if (n === 1000 && timeRatio > TARGETS.ratioAt1000) failed = true;
    if (n === 10000 && ring.seconds > TARGETS.secondsAt10000) failed = true;
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  console.log('\nRatios (keyring / loop):');
  for (const r of ratios) console.log(`  ${r}`);
  console.log(`load average at the end ${os.loadavg()[0].toFixed(2)}; times are medians of ${args.repeat ?? 3} alternating runs below 10,000 tenants`);
  console.log(`\nTargets: at most ${TARGETS.ratioAt1000}x the loop's time at 1,000 tenants; 10,000 tenants under ${TARGETS.secondsAt10000} s; every keyring stack within ${LIMITS.resources} resources and 1 MB.`);
  console.log(failed ? 'RESULT: a target was missed' : 'RESULT: all targets met');
  if (failed) process.exitCode = 1;
}

if (args.child) {
  child(args.child, Number(args.n));
} else {
  main().catch((e) => { console.error(e); process.exitCode = 1; });
}
