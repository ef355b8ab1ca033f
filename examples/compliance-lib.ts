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
  cfnLintFindings, checkovFindings, controlTowerFindings, Finding, NAG_PACK_NAMES, nagFindings, OWN_PACK_NAME,
} from '../test/support/compliance';

export const CHECKERS = [...NAG_PACK_NAMES, OWN_PACK_NAME, 'ControlTower', 'cfn-lint', 'checkov'];

/**
 * Findings a stack is allowed to keep because only its owner can decide them, each with its fix.
 * Any other finding fails the job.
 */
const REPLICA = { rule: /S3BucketReplicationEnabled$/, why: 'a replica needs a destination bucket in another Region: set `replication`' };
const AUDIT = { rule: /S3BucketDataEventsAudited$/, why: 'data events cost per event: join an EncryptionAuditTrail (`auditTrail`)' };
export const USER_DECISIONS: Record<string, { rule: RegExp; why: string }[]> = {
  DefaultBucket: [REPLICA, AUDIT],
  AuditedBucket: [REPLICA],
  SseCBucket: [REPLICA, AUDIT],
  ReplicaDestination: [{ rule: REPLICA.rule, why: 'these buckets are the replicas; replicating a replica again is a choice' }, AUDIT],
  ReplicatedBucket: [],
  TenantKeyring: [],
};

export interface StackResult {
  readonly stack: string;
  readonly template: string;
  readonly counts: Record<string, number>;
  readonly findings: Finding[];
  readonly unexpected: Finding[];
  /**
   * Findings acknowledged on the resource with the reason (the AWS page that forbids the fix):
   * cdk-nag acknowledgements on the constructs, cfn-guard SuppressedRules, checkov skips.
   */
  readonly acknowledged: Finding[];
  readonly baseline: boolean;
  /** The stack's access-matrix cases (flows allowed, attacks denied), decided by the IAM engine. */
  readonly matrix: MatrixResult[];
}

export interface ComplianceReport {
  readonly stacks: StackResult[];
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

export function runCompliance(options: RunOptions): ComplianceReport {
  const start = Date.now();
  const log = options.log ?? (() => undefined);
  fs.rmSync(options.outdir, { recursive: true, force: true });
  const app = new App({ outdir: options.outdir });
  const stacks: { stack: Stack; baseline: boolean }[] = buildExampleApp(app).map((stack) => ({ stack, baseline: false }));
  if (options.baseline) {
    stacks.push({ stack: new HandWrittenBaselineStack(app, 'HandWrittenBaseline', { env: { account: '123456789012', region: 'us-east-1' } }), baseline: true });
  }
  log(`synthesizing ${stacks.length} stacks into ${options.outdir}`);
  const assembly = app.synth();
  log('evaluating the access matrix with the IAM engine');
  const matrix = runMatrix(exampleAccessModel());
  const results: StackResult[] = [];
  for (const { stack, baseline } of stacks) {
    const template = path.join(assembly.directory, assembly.getStackByName(stack.stackName).templateFile);
    // Nested stacks (TenantKeyring shards) are templates of their own beside the parent's.
    const nested = stack.node.findAll().filter(NestedStack.isNestedStack).map((n) => path.join(assembly.directory, (n as NestedStack).templateFile));
    const templates = [template, ...nested];
    log(`checking ${stack.stackName} (${templates.length} template(s)): cdk-nag (4 packs + S3EncryptionChecks), Control Tower${options.python ? ', cfn-lint, checkov' : ''}`);
    const acknowledged: Finding[] = nagAcknowledgements(stack);
    const findings = [...nagFindings(stack, true), ...controlTowerFindings(templates, acknowledged)];
    if (options.python) findings.push(...cfnLintFindings(templates), ...checkovFindings(templates, acknowledged));
    const allowed = USER_DECISIONS[stack.stackName] ?? [];
    const unexpected = baseline ? [] : findings.filter((f) => !allowed.some((a) => a.rule.test(f.rule)));
    const counts: Record<string, number> = Object.fromEntries(CHECKERS.map((c) => [c, 0]));
    for (const f of findings) counts[f.checker] += 1;
    const cases = matrix.filter((m) => m.stack === stack.stackName);
    results.push({ stack: stack.stackName, template, counts, findings, unexpected, acknowledged, baseline, matrix: cases });
  }
  return { stacks: results, seconds: (Date.now() - start) / 1000 };
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

/** A plain-text table of the counts per stack and checker. */
export function renderTable(report: ComplianceReport, checkers: string[]): string {
  const header = ['stack', ...checkers, 'total', 'unexpected', 'acknowledged', 'matrix (as expected/cases)'];
  const rows = report.stacks.map((s) => {
    const total = checkers.reduce((n, c) => n + s.counts[c], 0);
    const matrix = s.matrix.length === 0 ? '-' : `${s.matrix.filter((m) => m.ok).length}/${s.matrix.length}`;
    const stackCells = [s.baseline ? `${s.stack} (baseline)` : s.stack, ...checkers.map((c) => String(s.counts[c])), String(total)];
    return [...stackCells, s.baseline ? '-' : String(s.unexpected.length), String(s.acknowledged.length), matrix];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
