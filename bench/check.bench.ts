/**
 * Benchmark of `cdk-s3-encryption check` on two assemblies, run by hand:
 *
 *   npx ts-node --project test/tsconfig.json --transpile-only bench/check.bench.ts [--repeat=3] [--whole=false]
 *
 * - "20 buckets": 20 EncryptedBuckets with their defaults in 5 stacks (4 each).
 * - "1,000 tenants": an EncryptedBucket and a TenantKeyring of 1,000 tenants in 10 nested shards.
 *
 * Each assembly is synthesized once; each run is its own child process calling the command
 * in-process (the time is the command's, from reading the assembly to writing the JSON report,
 * without Node's and ts-node's start). Modes:
 * - single: the single-checker run, `--packs S3Encryption --no-control-tower` (the ratio's base);
 * - all: every checker, the Control Tower controls narrowed per template (the default);
 * - whole: every checker with all 237 Control Tower rule files on every template (the command
 *   before narrowing), for comparison; its findings must equal the default's.
 * Runs alternate modes and the median is reported, since a small shared machine is noisy.
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { EncryptedBucket } from '../src/bucket/encrypted-bucket';
import { main as check } from '../src/compliance/cli';
import { TenantKeyring } from '../src/tenants/tenant-keyring';

const TARGETS: Record<string, number> = { '20 buckets': 10, '1,000 tenants': 30 };
const MODES = ['single', 'all', 'whole'] as const;
type Mode = typeof MODES[number];

interface Figures { readonly mode: Mode; readonly seconds: number; readonly exit: number; readonly findings: string[] }

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')) as [string, string][]);
const ENV = { account: '111111111111', region: 'us-east-1' };

function synthBuckets(outdir: string): void {
  const app = new App({ outdir });
  for (let s = 0; s < 5; s++) {
    const stack = new Stack(app, `Buckets${s}`, { env: ENV });
    for (let b = 0; b < 4; b++) new EncryptedBucket(stack, `Bucket${b}`);
  }
  app.synth();
}

function synthTenants(outdir: string): void {
  const app = new App({ outdir });
  const stack = new Stack(app, 'Keyring', { env: ENV });
  const keyring = new TenantKeyring(stack, 'Tenants', { bucket: new EncryptedBucket(stack, 'Data'), shardCount: 10 });
  for (let i = 0; i < 1000; i++) keyring.addTenant(`tenant-${String(i).padStart(5, '0')}`);
  app.synth();
}

function child(mode: Mode, dir: string): void {
  const report = path.join(dir, `report-${mode}-${process.pid}.json`);
  const argv = ['check', dir, '--json', report, ...(mode === 'single' ? ['--packs', 'S3Encryption', '--no-control-tower'] : [])];
  const io = {
    out: () => undefined,
    err: () => undefined,
    cwd: process.cwd(),
    // The whole set: the validator as @cdklabs/cdk-validator-cfnguard makes it, every rule file on every template.
    // eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
    ...(mode === 'whole' ? { loadControlTower: () => new (require('@cdklabs/cdk-validator-cfnguard').CfnGuardValidator)() } : {}),
  };
  const start = process.hrtime.bigint();
  const exit = check(argv, io);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const json = JSON.parse(fs.readFileSync(report, 'utf8'));
  fs.rmSync(report);
  const key = (f: any) => `${f.checker} ${f.rule} ${f.template} ${f.logicalId}`;
  const findings = [...json.findings.map(key), ...json.acknowledged.map((f: any) => `acknowledged ${key(f)}`), ...json.errors.map((e: any) => `error ${e.checker} ${e.template}`)].sort();
  process.send!({ mode, seconds, exit, findings } satisfies Figures);
}

function run(mode: Mode, dir: string): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const p = fork(__filename, [`--child=${mode}`, `--dir=${dir}`], {
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      env: { ...process.env, TS_NODE_PROJECT: path.join(__dirname, '..', 'test', 'tsconfig.json') },
    });
    let result: Figures | undefined;
    p.on('message', (m) => { result = m as Figures; });
    p.on('error', reject);
    p.on('exit', (code) => (result ? resolve(result) : reject(new Error(`${mode} on ${dir}: child exited with ${code}`))));
  });
}

function median(runs: Figures[]): Figures {
  return [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)];
}

async function main(): Promise<void> {
  const repeat = Number(args.repeat ?? 3);
  const modes = MODES.filter((m) => m !== 'whole' || args.whole !== 'false');
  console.log(`cdk-s3-encryption check (node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(2)}; medians of ${repeat} alternating runs)\n`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'check-bench-'));
  let failed = false;
  const rows: string[][] = [['assembly', 'templates', 'resources', ...modes.map((m) => `${m} s`), 'all/single', ...(modes.includes('whole') ? ['whole/all'] : []), 'target', 'met']];
  try {
    for (const [name, synth] of [['20 buckets', synthBuckets], ['1,000 tenants', synthTenants]] as const) {
      const dir = path.join(root, name.replace(/\W+/g, '-'));
      synth(dir);
      const templates = fs.readdirSync(dir).filter((f) => f.endsWith('.template.json'));
      const resources = templates.reduce((n, f) => n + Object.keys(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).Resources ?? {}).length, 0);
      const runs = new Map<Mode, Figures[]>(modes.map((m) => [m, []]));
      for (let r = 0; r < repeat; r++) {
        for (const m of modes) {
          const f = await run(m, dir);
          process.stderr.write(`${name}: ${m} run ${r + 1}/${repeat}: ${f.seconds.toFixed(2)} s, exit ${f.exit}, ${f.findings.length} results\n`);
          runs.get(m)!.push(f);
        }
      }
      const med = new Map(modes.map((m) => [m, median(runs.get(m)!)]));
      const all = med.get('all')!;
      const whole = med.get('whole');
      if (whole && JSON.stringify(whole.findings) !== JSON.stringify(all.findings)) {
        console.error(`${name}: the narrowed controls' results differ from the whole set's`);
        failed = true;
      }
      if ([...med.values()].some((f) => f.exit === 2)) {
        console.error(`${name}: a run exited 2 (a checker failed on a template)`);
        failed = true;
      }
      const met = all.seconds < TARGETS[name];
      if (!met) failed = true;
      rows.push([name, String(templates.length), String(resources), ...modes.map((m) => med.get(m)!.seconds.toFixed(2)),
        `${(all.seconds / med.get('single')!.seconds).toFixed(2)}x`, ...(whole ? [`${(whole.seconds / all.seconds).toFixed(2)}x`] : []),
        `< ${TARGETS[name]} s`, met ? 'yes' : 'NO']);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  console.log('\nsingle: --packs S3Encryption --no-control-tower; all: every checker (the default); whole: every checker, all Control Tower rule files on every template.');
  console.log(`load average at the end ${os.loadavg()[0].toFixed(2)}`);
  console.log(failed ? 'RESULT: a target was missed' : 'RESULT: all targets met');
  if (failed) process.exitCode = 1;
}

if (args.child) {
  child(args.child as Mode, args.dir);
} else {
  main().catch((e) => { console.error(e); process.exitCode = 1; });
}
