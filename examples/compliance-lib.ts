/**
 * Synthesizes the examples/ app and runs every compliance checker on it. Shared by the main job
 * (examples/compliance.ts) and the test suite.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, NestedStack, Stack, Validations } from 'aws-cdk-lib';
import { exampleAccessModel, MatrixResult, runMatrix } from './access-matrix';
import { buildExampleApp } from './app';
import { HandWrittenBaselineStack } from './baseline';
import {
  cfnLintFindings, checkovFindings, controlTowerFindings, expectedNagPackNames, Finding, NAG_PACK_NAMES, nagPacks, OWN_PACK_NAME, runNagPacks,
} from '../test/support/compliance';

export const CHECKERS = [...NAG_PACK_NAMES, OWN_PACK_NAME, 'ControlTower', 'cfn-lint', 'checkov'];
const PYTHON_CHECKERS = ['cfn-lint', 'checkov'];
export const BASELINE_STACK = 'HandWrittenBaseline';

/** One expected finding: which checker, which rule (its full id), on which resource, how many times. */
export type ExpectedFinding = readonly [checker: string, rule: string, resource: string, count: number];

/** A decision only the stack owner can make, and the findings it leaves, listed exactly. */
export interface Decision {
  /** Why the finding stays, and the one-line fix. */
  readonly why: string;
  readonly findings: readonly ExpectedFinding[];
}

const NO_REPLICA = 'a replica needs a destination bucket in another Region: set `replication` (the bucket and, through `accessLogsDestinationBucket`, its log bucket)';
const TRAIL_NO_REPLICA = 'the trail\'s bucket and its log bucket have no replica either: set the trail\'s `replication`';
const NOT_AUDITED = 'data events cost per event: join an EncryptionAuditTrail (`auditTrail`)';
const IS_REPLICA = 'these buckets are the replicas; replicating a replica again is a choice';
const PLATFORM_NO_REPLICA = 'the platform names no replica Region for us-east-1: set `replicationByRegion` (or `addReplication`) on its EncryptionDefaults and every team bucket of that Region replicates';

/**
 * Every finding each example stack keeps, exactly: a finding not listed here, or a listed one
 * missing or found another number of times, is unexpected and fails the job. Resources are
 * construct paths (cdk-nag) or `template:logicalId` (template checkers).
 */
export const EXPECTED_FINDINGS: Record<string, readonly Decision[]> = {
  DefaultBucket: [
    {
      why: NO_REPLICA,
      findings: [
        ['HIPAA.Security', 'HIPAA.Security-S3BucketReplicationEnabled', 'DefaultBucket/Data/Resource', 1],
        ['HIPAA.Security', 'HIPAA.Security-S3BucketReplicationEnabled', 'DefaultBucket/S3EncryptionShared/AccessLogs/Resource', 1],
        ['NIST.800.53.R5', 'NIST.800.53.R5-S3BucketReplicationEnabled', 'DefaultBucket/Data/Resource', 1],
        ['NIST.800.53.R5', 'NIST.800.53.R5-S3BucketReplicationEnabled', 'DefaultBucket/S3EncryptionShared/AccessLogs/Resource', 1],
        ['PCI.DSS.321', 'PCI.DSS.321-S3BucketReplicationEnabled', 'DefaultBucket/Data/Resource', 1],
        ['PCI.DSS.321', 'PCI.DSS.321-S3BucketReplicationEnabled', 'DefaultBucket/S3EncryptionShared/AccessLogs/Resource', 1],
      ],
    },
    {
      why: NOT_AUDITED,
      findings: [
        ['S3Encryption', 'S3Encryption-S3BucketDataEventsAudited', 'DefaultBucket/Data/Resource', 1],
        ['S3Encryption', 'S3Encryption-S3BucketDataEventsAudited', 'DefaultBucket/S3EncryptionShared/AccessLogs/Resource', 1],
      ],
    },
  ],
  AuditedBucket: [
    {
      why: NO_REPLICA,
      findings: [
        ['HIPAA.Security', 'HIPAA.Security-S3BucketReplicationEnabled', 'AuditedBucket/Data/Resource', 1],
        ['HIPAA.Security', 'HIPAA.Security-S3BucketReplicationEnabled', 'AuditedBucket/S3EncryptionShared/AccessLogs/Resource', 1],
        ['NIST.800.53.R5', 'NIST.800.53.R5-S3BucketReplicationEnabled', 'AuditedBucket/Data/Resource', 1],
        ['NIST.800.53.R5', 'NIST.800.53.R5-S3BucketReplicationEnabled', 'AuditedBucket/S3EncryptionShared/AccessLogs/Resource', 1],
        ['PCI.DSS.321', 'PCI.DSS.321-S3BucketReplicationEnabled', 'AuditedBucket/Data/Resource', 1],
        ['PCI.DSS.321', 'PCI.DSS.321-S3BucketReplicationEnabled', 'AuditedBucket/S3EncryptionShared/AccessLogs/Resource', 1],
      ],
    },
    {
      why: TRAIL_NO_REPLICA,
      findings: [
        ['HIPAA.Security', 'HIPAA.Security-S3BucketReplicationEnabled', 'AuditedBucket/Audit/Bucket/Resource', 1],
        ['HIPAA.Security', 'HIPAA.Security-S3BucketReplicationEnabled', 'AuditedBucket/Audit/Bucket/AccessLogs/Resource', 1],
        ['NIST.800.53.R5', 'NIST.800.53.R5-S3BucketReplicationEnabled', 'AuditedBucket/Audit/Bucket/Resource', 1],
        ['NIST.800.53.R5', 'NIST.800.53.R5-S3BucketReplicationEnabled', 'AuditedBucket/Audit/Bucket/AccessLogs/Resource', 1],
        ['PCI.DSS.321', 'PCI.DSS.321-S3BucketReplicationEnabled', 'AuditedBucket/Audit/Bucket/Resource', 1],
        ['PCI.DSS.321', 'PCI.DSS.321-S3BucketReplicationEnabled', 'AuditedBucket/Audit/Bucket/AccessLogs/Resource', 1],
      ],
    },
  ],
  SseCBucket: [
    {
      why: NO_REPLICA,
      findings: [
        ['HIPAA.Security', 'HIPAA.Security-S3BucketReplicationEnabled', 'SseCBucket/Data/Resource', 1],
        ['HIPAA.Security', 'HIPAA.Security-S3BucketReplicationEnabled', 'SseCBucket/S3EncryptionShared/AccessLogs/Resource', 1],
        ['NIST.800.53.R5', 'NIST.800.53.R5-S3BucketReplicationEnabled', 'SseCBucket/Data/Resource', 1],
        ['NIST.800.53.R5', 'NIST.800.53.R5-S3BucketReplicationEnabled', 'SseCBucket/S3EncryptionShared/AccessLogs/Resource', 1],
        ['PCI.DSS.321', 'PCI.DSS.321-S3BucketReplicationEnabled', 'SseCBucket/Data/Resource', 1],
        ['PCI.DSS.321', 'PCI.DSS.321-S3BucketReplicationEnabled', 'SseCBucket/S3EncryptionShared/AccessLogs/Resource', 1],
      ],
    },
    {
      why: NOT_AUDITED,
      findings: [
        ['S3Encryption', 'S3Encryption-S3BucketDataEventsAudited', 'SseCBucket/Data/Resource', 1],
        ['S3Encryption', 'S3Encryption-S3BucketDataEventsAudited', 'SseCBucket/S3EncryptionShared/AccessLogs/Resource', 1],
      ],
    },
  ],
  ReplicaDestination: [
    {
      why: IS_REPLICA,
      findings: [
        ['HIPAA.Security', 'HIPAA.Security-S3BucketReplicationEnabled', 'ReplicaDestination/Replica/Resource', 1],
        ['HIPAA.Security', 'HIPAA.Security-S3BucketReplicationEnabled', 'ReplicaDestination/S3EncryptionShared/AccessLogs/Resource', 1],
        ['HIPAA.Security', 'HIPAA.Security-S3BucketReplicationEnabled', 'ReplicaDestination/ReplicaLogs/Resource', 1],
        ['NIST.800.53.R5', 'NIST.800.53.R5-S3BucketReplicationEnabled', 'ReplicaDestination/Replica/Resource', 1],
        ['NIST.800.53.R5', 'NIST.800.53.R5-S3BucketReplicationEnabled', 'ReplicaDestination/S3EncryptionShared/AccessLogs/Resource', 1],
        ['NIST.800.53.R5', 'NIST.800.53.R5-S3BucketReplicationEnabled', 'ReplicaDestination/ReplicaLogs/Resource', 1],
        ['PCI.DSS.321', 'PCI.DSS.321-S3BucketReplicationEnabled', 'ReplicaDestination/Replica/Resource', 1],
        ['PCI.DSS.321', 'PCI.DSS.321-S3BucketReplicationEnabled', 'ReplicaDestination/S3EncryptionShared/AccessLogs/Resource', 1],
        ['PCI.DSS.321', 'PCI.DSS.321-S3BucketReplicationEnabled', 'ReplicaDestination/ReplicaLogs/Resource', 1],
      ],
    },
    {
      why: NOT_AUDITED,
      findings: [
        ['S3Encryption', 'S3Encryption-S3BucketDataEventsAudited', 'ReplicaDestination/Replica/Resource', 1],
        ['S3Encryption', 'S3Encryption-S3BucketDataEventsAudited', 'ReplicaDestination/S3EncryptionShared/AccessLogs/Resource', 1],
        ['S3Encryption', 'S3Encryption-S3BucketDataEventsAudited', 'ReplicaDestination/ReplicaLogs/Resource', 1],
      ],
    },
  ],
  ReplicatedBucket: [],
  TenantKeyring: [],
  PlatformTeam: [
    {
      why: PLATFORM_NO_REPLICA,
      findings: (['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321'] as const).flatMap((pack) =>
        ['PlatformTeam/Orders/Resource', 'PlatformTeam/S3EncryptionShared/AccessLogs/Resource', 'PlatformTeam/Exports/Resource']
          .map((resource) => [pack, `${pack}-S3BucketReplicationEnabled`, resource, 1] as const)),
    },
  ],
};

/** A difference between what a stack was expected to show and what the checkers found. */
export interface Deviation {
  readonly checker: string;
  readonly rule: string;
  readonly resource: string;
  /** How many times the list says (0: not listed). */
  readonly expected: number;
  /** How many times the checker found it (0: missing). */
  readonly actual: number;
  /** What the rule says, or the listed decision's reason if it was not found. */
  readonly message: string;
}

const keyOf = (checker: string, rule: string, resource: string) => JSON.stringify([checker, rule, resource]);

/** Compares findings with an exact list: every key whose count differs is a deviation. */
export function deviationsFrom(findings: Finding[], decisions: readonly Decision[]): Deviation[] {
  const expected = new Map<string, { count: number; why: string }>();
  for (const d of decisions) {
    for (const [checker, rule, resource, count] of d.findings) {
      const key = keyOf(checker, rule, resource);
      if (expected.has(key)) throw new Error(`expected findings list ${checker} ${rule} ${resource} twice`);
      if (!Number.isInteger(count) || count < 1) throw new Error(`expected findings list ${checker} ${rule} ${resource} with count ${count}: give a count of 1 or more`);
      expected.set(key, { count, why: d.why });
    }
  }
  const actual = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = keyOf(f.checker, f.rule, f.resource);
    actual.set(key, [...(actual.get(key) ?? []), f]);
  }
  const deviations: Deviation[] = [];
  for (const key of new Set([...actual.keys(), ...expected.keys()])) {
    const found = actual.get(key) ?? [];
    const listed = expected.get(key);
    if (found.length === (listed?.count ?? 0)) continue;
    const [checker, rule, resource] = JSON.parse(key) as string[];
    deviations.push({ checker, rule, resource, expected: listed?.count ?? 0, actual: found.length, message: found[0]?.message ?? listed!.why });
  }
  return deviations;
}

export interface StackResult {
  readonly stack: string;
  readonly template: string;
  /** Every template the stack synthesized to (its own and its nested stacks'). */
  readonly templates: string[];
  readonly counts: Record<string, number>;
  readonly findings: Finding[];
  /** Findings not in EXPECTED_FINDINGS, and listed ones missing or found another number of times. */
  readonly unexpected: Deviation[];
  /**
   * Findings acknowledged on the resource with the reason (the AWS page that forbids the fix):
   * cdk-nag acknowledgements on the constructs, cfn-guard SuppressedRules, checkov skips.
   */
  readonly acknowledged: Finding[];
  readonly baseline: boolean;
  /** The cdk-nag packs that ran on the stack, each over every CfnResource. */
  readonly nagPacks: string[];
  /** The stack's access-matrix cases (flows allowed, attacks denied), decided by the IAM engine. */
  readonly matrix: MatrixResult[];
}

export interface ComplianceReport {
  readonly stacks: StackResult[];
  /** The checkers that ran on every stack. */
  readonly checkers: string[];
  /**
   * Checkers without a single finding on the hand-written baseline: a checker that finds nothing
   * there is dead, and its zeros elsewhere mean nothing. Empty when all are live; absent without
   * the baseline.
   */
  readonly silentCheckers?: string[];
  readonly seconds: number;
}

export interface RunOptions {
  /** Where the cloud assembly goes. */
  readonly outdir: string;
  /** Run cfn-lint and checkov too (needs .tools/checkers). */
  readonly python?: boolean;
  /** Also measure the hand-written aws-cdk-lib baseline. */
  readonly baseline?: boolean;
  /** Progress lines go here. */
  readonly log?: (line: string) => void;
}

/**
 * Runs every checker on every example stack (and the baseline). A checker that does not run
 * cleanly (see test/support/compliance.ts) throws, naming the stack, the checker and the reason.
 */
export function runCompliance(options: RunOptions): ComplianceReport {
  const start = Date.now();
  const log = options.log ?? (() => undefined);
  fs.rmSync(options.outdir, { recursive: true, force: true });
  const app = new App({ outdir: options.outdir });
  const stacks: { stack: Stack; baseline: boolean }[] = buildExampleApp(app).map((stack) => ({ stack, baseline: false }));
  if (options.baseline) {
    stacks.push({ stack: new HandWrittenBaselineStack(app, BASELINE_STACK, { env: { account: '123456789012', region: 'us-east-1' } }), baseline: true });
  }
  const checkers = CHECKERS.filter((c) => options.python || !PYTHON_CHECKERS.includes(c));
  log(`synthesizing ${stacks.length} stacks into ${options.outdir}`);
  const assembly = app.synth();
  log('evaluating the access matrix with the IAM engine');
  const matrixResults = runMatrix(exampleAccessModel());
  const templatesOf = new Map(stacks.map(({ stack }) => {
    const template = path.join(assembly.directory, assembly.getStackByName(stack.stackName).templateFile);
    // Nested stacks (TenantKeyring shards) are templates of their own beside the parent's.
    const nested = stack.node.findAll().filter(NestedStack.isNestedStack).map((n) => path.join(assembly.directory, (n as NestedStack).templateFile));
    return [stack, [template, ...nested]];
  }));
  // cfn-lint and checkov run once over every template (each start of a Python checker costs seconds),
  // with their own checks that they ran cleanly on all of them; findings are then split by template.
  const python = { lint: [] as Finding[], checkov: [] as Finding[], checkovAcknowledged: [] as Finding[] };
  if (options.python) {
    const all = [...templatesOf.values()].flat();
    log(`running cfn-lint and checkov on ${all.length} templates`);
    python.lint = cfnLintFindings(all);
    python.checkov = checkovFindings(all, python.checkovAcknowledged);
  }
  const onTemplates = (findings: Finding[], templates: string[]) => {
    const names = new Set(templates.map((t) => path.basename(t)));
    return findings.filter((f) => names.has(f.resource.slice(0, f.resource.indexOf(':'))));
  };
  const results: StackResult[] = [];
  for (const { stack, baseline } of stacks) {
    const templates = templatesOf.get(stack)!;
    const template = templates[0];
    log(`checking ${stack.stackName} (${templates.length} template(s)): ${checkers.join(', ')}`);
    try {
      const acknowledged: Finding[] = nagAcknowledgements(stack);
      const nag = runNagPacks(stack, nagPacks(true), expectedNagPackNames(true));
      const findings = [...nag.findings, ...controlTowerFindings(templates, acknowledged)];
      if (options.python) {
        findings.push(...onTemplates(python.lint, templates), ...onTemplates(python.checkov, templates));
        acknowledged.push(...onTemplates(python.checkovAcknowledged, templates));
      }
      const unexpected = baseline ? [] : deviationsFrom(findings, EXPECTED_FINDINGS[stack.stackName] ?? []);
      const counts: Record<string, number> = Object.fromEntries(CHECKERS.map((c) => [c, 0]));
      for (const f of findings) {
        if (!(f.checker in counts)) throw new Error(`a finding of an unknown checker ${f.checker}: ${f.rule} on ${f.resource}`);
        counts[f.checker] += 1;
      }
      const packs = nag.runs.map((r) => r.pack);
      const matrix = matrixResults.filter((m) => m.stack === stack.stackName);
      results.push({ stack: stack.stackName, template, templates, counts, findings, unexpected, acknowledged, baseline, nagPacks: packs, matrix });
    } catch (e) {
      throw new Error(`${stack.stackName}: ${(e as Error).message}`);
    }
  }
  // Nothing the Python checkers reported is lost in the split: each entry is on one stack's templates.
  for (const [name, list] of [['cfn-lint', python.lint], ['checkov', python.checkov], ['checkov acknowledgements', python.checkovAcknowledged]] as const) {
    const attributed = results.reduce((n, r) => n + onTemplates(list, r.templates).length, 0);
    if (attributed !== list.length) throw new Error(`${name}: ${list.length} entries, ${attributed} of them on the templates of a stack`);
  }
  const base = results.find((s) => s.baseline);
  const silentCheckers = base ? checkers.filter((c) => base.counts[c] === 0) : undefined;
  return { stacks: results, checkers, silentCheckers, seconds: (Date.now() - start) / 1000 };
}

/**
 * The cdk-nag rules acknowledged on the constructs of a stack (`Validations.of(c).acknowledge`), each
 * with its reason. Counted as declared: the packs leave acknowledged rules out of their reports.
 */
function nagAcknowledgements(stack: Stack): Finding[] {
  const found = new Map<string, Finding>();
  for (const c of stack.node.findAll()) {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !entry.data) continue;
      for (const [id, reason] of Object.entries<any>(entry.data)) {
        const rule = id.replace(/^annotation::/i, '');
        const pack = NAG_PACK_NAMES.find((p) => rule.startsWith(`${p}-`));
        // Each acknowledgement records the construct's whole map again: one finding per rule and construct.
        if (pack) found.set(`${c.node.path} ${rule}`, { checker: pack, rule, resource: c.node.path, message: String(reason?.reason ?? reason) });
      }
    }
  }
  return [...found.values()];
}

const matrixCell = (s: StackResult) => (s.matrix.length === 0 ? '-' : `${s.matrix.filter((m) => m.ok).length}/${s.matrix.length}`);
const countCell = (report: ComplianceReport, s: StackResult, checker: string) => (report.checkers.includes(checker) ? String(s.counts[checker]) : '-');

/** A plain-text table of the counts per stack and checker. */
export function renderTable(report: ComplianceReport, checkers: string[]): string {
  const header = ['stack', ...checkers, 'total', 'unexpected', 'acknowledged', 'matrix (as expected/cases)'];
  const rows = report.stacks.map((s) => {
    const total = checkers.reduce((n, c) => n + s.counts[c], 0);
    const stackCells = [s.baseline ? `${s.stack} (baseline)` : s.stack, ...checkers.map((c) => countCell(report, s, c)), String(total)];
    return [...stackCells, s.baseline ? '-' : String(s.unexpected.length), String(s.acknowledged.length), matrixCell(s)];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The README's column names for the checkers (the rest are the checker names themselves). */
const README_COLUMN: Record<string, string> = { ControlTower: 'Control Tower' };

/** The README table's rows as this run measured them (stack labels bare: keep the README's words after the name). */
export function renderReadmeRows(report: ComplianceReport): string {
  const header = ['stack', ...CHECKERS.map((c) => README_COLUMN[c] ?? c), 'acknowledged', 'access matrix'];
  const rows = report.stacks.map((s) => [s.stack, ...CHECKERS.map((c) => countCell(report, s, c)), String(s.acknowledged.length), matrixCell(s)]);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}

const nagOf = (s: StackResult) => NAG_PACK_NAMES.reduce((n, c) => n + s.counts[c], 0);

/** The README's sentence on the bare default against the baseline, as this run measured it. */
export function baselineSentence(report: ComplianceReport): string {
  const def = report.stacks.find((s) => s.stack === 'DefaultBucket');
  const base = report.stacks.find((s) => s.baseline);
  if (!def || !base) throw new Error('the report has no DefaultBucket or no baseline');
  return `On the four standard packs the bare default has ${nagOf(def)} findings against the baseline's ${nagOf(base)} ` +
    `(${(nagOf(def) / Math.max(1, nagOf(base))).toFixed(2)}x), and ${def.counts.ControlTower} Control Tower violations against ${base.counts.ControlTower}.`;
}

/**
 * The README's count of acknowledgements per server-access-log bucket, by checker family, as this
 * run measured it. The log buckets are counted by their Control Tower acknowledgements.
 */
export function acknowledgedSentence(report: ComplianceReport): string {
  const acknowledged = report.stacks.filter((s) => !s.baseline).flatMap((s) => s.acknowledged.map((a) => ({ stack: s.stack, ...a })));
  const logBuckets = new Set(acknowledged.filter((a) => a.checker === 'ControlTower').map((a) => `${a.stack} ${a.resource}`)).size;
  const per = (n: number) => (logBuckets > 0 && n % logBuckets === 0 ? String(n / logBuckets) : `${n}/${logBuckets}`);
  const nag = acknowledged.filter((a) => NAG_PACK_NAMES.includes(a.checker)).length;
  const ct = acknowledged.filter((a) => a.checker === 'ControlTower').length;
  const ckv = acknowledged.filter((a) => a.checker === 'checkov').length;
  return `${per(acknowledged.length)} per log bucket: ${per(nag)} cdk-nag, ${per(ct)} Control Tower, ${per(ckv)} checkov`;
}

/** The "Compliance results" section of a README. */
export function readmeComplianceSection(readme: string): string {
  const start = readme.search(/^## Compliance results$/m);
  if (start < 0) throw new Error('README.md has no "## Compliance results" section');
  const rest = readme.slice(start + 1);
  const end = rest.search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end);
}

/**
 * Where the README's "Compliance results" section disagrees with a run: every number of its table
 * (each checker's count, the acknowledged and access-matrix columns, per stack; a row's first
 * word names its stack), every stack present once, and the sentences on the baseline and on the
 * acknowledgements per log bucket. Empty when the README says what the run measured.
 */
export function readmeDifferences(report: ComplianceReport, readme: string): string[] {
  const section = readmeComplianceSection(readme);
  const lines = section.split('\n');
  const first = lines.findIndex((l) => l.trim().startsWith('|'));
  if (first < 0) return ['README "Compliance results": no table'];
  const table: string[][] = [];
  for (const l of lines.slice(first)) {
    if (!l.trim().startsWith('|')) break;
    table.push(l.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim()));
  }
  const [header, , ...rows] = table;
  const differences: string[] = [];
  const columns = new Map<string, number>();
  header.forEach((h, i) => {
    if (i === 0) return;
    const name = h.replace(/\s+/g, ' ');
    const checker = CHECKERS.find((c) => (README_COLUMN[c] ?? c) === name);
    const column = checker ?? (['acknowledged', 'access matrix'].includes(name) ? name : undefined);
    if (!column) differences.push(`README table: unknown column "${h}"`);
    else columns.set(column, i);
  });
  for (const c of [...CHECKERS, 'acknowledged', 'access matrix']) {
    if (!columns.has(c)) differences.push(`README table: no "${README_COLUMN[c] ?? c}" column`);
  }
  const seen = new Set<string>();
  for (const row of rows) {
    const stack = row[0].replace(/[*`]/g, '').match(/^[A-Za-z0-9]+/)?.[0] ?? row[0];
    const s = report.stacks.find((x) => x.stack === stack);
    if (!s) {
      differences.push(`README table: a row for ${stack}, which the run has no stack for`);
      continue;
    }
    if (seen.has(stack)) differences.push(`README table: ${stack} has two rows`);
    seen.add(stack);
    const measured: Record<string, string> = {
      ...Object.fromEntries(CHECKERS.map((c) => [c, countCell(report, s, c)])),
      'acknowledged': String(s.acknowledged.length),
      'access matrix': matrixCell(s),
    };
    for (const [column, i] of columns) {
      const cell = (row[i] ?? '').replace(/\*\*/g, '').trim();
      if (cell !== measured[column]) differences.push(`README table: ${stack} ${README_COLUMN[column] ?? column} says ${cell || '(nothing)'}, the run measured ${measured[column]}`);
    }
  }
  for (const s of report.stacks) {
    if (!seen.has(s.stack)) differences.push(`README table: no row for ${s.stack}`);
  }
  const prose = section.replace(/\s+/g, ' ');
  for (const sentence of [baselineSentence(report), acknowledgedSentence(report)]) {
    if (!prose.includes(sentence)) differences.push(`README "Compliance results" does not say "${sentence}"`);
  }
  return differences;
}
