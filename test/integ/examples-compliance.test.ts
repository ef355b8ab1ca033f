/**
 * The main job as a test: the examples/ app against the four cdk-nag packs and S3EncryptionChecks,
 * the Control Tower controls, cfn-lint and checkov (installed by `npx projen setup-tools`),
 * beside the hand-written aws-cdk-lib baseline. Every checker's run is checked on the way (a
 * crashed one throws in beforeAll and fails every test here); the findings must be exactly the
 * listed ones, and README.md's table must say what this run measured.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  acknowledgedSentence, BASELINE_STACK, CHECKERS, ComplianceReport, deviationsFrom, EXPECTED_FINDINGS, readmeDifferences, runCompliance,
} from '../../examples/compliance-lib';
import { NAG_PACK_NAMES, OWN_PACK_NAME, REPO_ROOT } from '../support/compliance';

let report: ComplianceReport;
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'examples-cdk-out-'));
const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf-8');

beforeAll(() => {
  report = runCompliance({ outdir, python: true, baseline: true });
}, 600_000);

afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

const byName = (name: string) => {
  const s = report.stacks.find((x) => x.stack === name);
  if (!s) throw new Error(`no stack ${name} in the report`);
  return s;
};
const examples = () => report.stacks.filter((s) => !s.baseline);

test('every example stack and the baseline were checked by every checker, every cdk-nag pack over the whole stack', () => {
  expect(report.stacks.map((s) => s.stack).sort()).toEqual([...Object.keys(EXPECTED_FINDINGS), BASELINE_STACK].sort());
  expect(report.checkers).toEqual(CHECKERS);
  for (const s of report.stacks) {
    expect({ stack: s.stack, packs: s.nagPacks }).toEqual({ stack: s.stack, packs: [...NAG_PACK_NAMES, OWN_PACK_NAME] });
  }
});

test('the checkers are live: the hand-written baseline has a finding from every checker', () => {
  const b = byName(BASELINE_STACK);
  expect(report.silentCheckers).toEqual([]);
  expect(CHECKERS.filter((c) => !(b.counts[c] > 0))).toEqual([]);
});

test('every example stack has exactly its listed findings (checker, rule, resource, count)', () => {
  const deviations = examples().flatMap((s) => s.unexpected.map((d) => `${s.stack} ${d.checker} ${d.rule} ${d.resource}: found ${d.actual}, listed ${d.expected}`));
  expect(deviations).toEqual([]);
});

test('the expected-findings list is a list of real decisions: each with its reason, no duplicates, counts of 1 or more', () => {
  for (const [stack, decisions] of Object.entries(EXPECTED_FINDINGS)) {
    for (const d of decisions) {
      expect({ stack, why: d.why.length > 20, findings: d.findings.length > 0 }).toEqual({ stack, why: true, findings: true });
      for (const [checker, rule] of d.findings) {
        expect(CHECKERS).toContain(checker);
        expect(rule.startsWith(`${checker}-`) || !NAG_PACK_NAMES.includes(checker)).toBe(true);
      }
    }
    // deviationsFrom throws on duplicates and counts below 1; against itself the list has no deviation.
    const asFindings = decisions.flatMap((d) => d.findings.flatMap(([checker, rule, resource, count]) =>
      Array.from({ length: count }, () => ({ checker, rule, resource, message: d.why }))));
    expect(deviationsFrom(asFindings, decisions)).toEqual([]);
  }
});

test('the exact list catches a finding too many, one too few, and one on another resource', () => {
  const s = byName('DefaultBucket');
  const decisions = EXPECTED_FINDINGS.DefaultBucket;
  const [first, ...rest] = s.findings;
  const summary = (findings: typeof s.findings) => deviationsFrom(findings, decisions).map((d) => [d.rule, d.resource, d.expected, d.actual]);
  expect(summary([...s.findings, first])).toEqual([[first.rule, first.resource, 1, 2]]);
  expect(summary(rest)).toEqual([[first.rule, first.resource, 1, 0]]);
  const moved = { ...first, resource: 'DefaultBucket/Other/Resource' };
  expect(deviationsFrom([moved, ...rest], decisions).map((d) => [d.resource, d.expected, d.actual])).toEqual([
    ['DefaultBucket/Other/Resource', 0, 1],
    [first.resource, 1, 0],
  ]);
});

test('the fully configured stack and the tenant keyring stack have zero findings in every checker', () => {
  expect(byName('ReplicatedBucket').findings).toEqual([]);
  expect(byName('TenantKeyring').findings).toEqual([]);
});

test('no cfn-lint error or warning, no failed checkov check and no Control Tower violation on any example template', () => {
  for (const s of examples()) {
    expect(s.findings.filter((f) => ['cfn-lint', 'checkov', 'ControlTower'].includes(f.checker))).toEqual([]);
  }
});

test('every example bucket stack carries its access matrix in the report, every case as expected', () => {
  for (const name of ['DefaultBucket', 'AuditedBucket', 'SseCBucket', 'ReplicaDestination', 'ReplicatedBucket', 'TenantKeyring']) {
    const s = byName(name);
    expect(s.matrix.length).toBeGreaterThan(0);
    expect(s.matrix.filter((m) => !m.ok).map((m) => `${m.name}: ${m.actual}`)).toEqual([]);
  }
});

test('every acknowledged finding sits on a server-access-log bucket with the AWS page as its reason, 12 per log bucket', () => {
  for (const s of examples()) {
    for (const a of s.acknowledged) {
      expect({ stack: s.stack, resource: a.resource }).toEqual({ stack: s.stack, resource: expect.stringMatching(/AccessLogs/) });
      if (a.checker !== 'ControlTower') expect(a.message).toContain('enable-server-access-logging.html');
    }
    const logBuckets = new Set(s.acknowledged.filter((a) => a.checker === 'ControlTower').map((a) => a.resource)).size;
    expect(logBuckets).toBeGreaterThan(0);
    const byFamily = (pred: (c: string) => boolean) => s.acknowledged.filter((a) => pred(a.checker)).length;
    expect({ stack: s.stack, nag: byFamily((c) => NAG_PACK_NAMES.includes(c)), ct: byFamily((c) => c === 'ControlTower'), checkov: byFamily((c) => c === 'checkov') })
      .toEqual({ stack: s.stack, nag: 8 * logBuckets, ct: 3 * logBuckets, checkov: 1 * logBuckets });
  }
  expect(acknowledgedSentence(report)).toBe('12 per log bucket: 8 cdk-nag, 3 Control Tower, 1 checkov');
});

test('README.md\'s "Compliance results" says what this run measured: every number of its table and its sentences', () => {
  expect(readmeDifferences(report, readme)).toEqual([]);
});

test('the README comparison catches a stale number, a missing row and a stale sentence', () => {
  const row = readme.split('\n').find((l) => l.startsWith('| AuditedBucket |'))!;
  const cells = row.split('|');
  cells[3] = ` ${Number(cells[3].trim()) + 1} `; // HIPAA.Security
  expect(readmeDifferences(report, readme.replace(row, cells.join('|')))).toEqual([
    `README table: AuditedBucket HIPAA.Security says ${byName('AuditedBucket').counts['HIPAA.Security'] + 1}, the run measured ${byName('AuditedBucket').counts['HIPAA.Security']}`,
  ]);
  expect(readmeDifferences(report, readme.replace(`${row}\n`, ''))).toEqual(['README table: no row for AuditedBucket']);
  expect(readmeDifferences(report, readme.replace(/against the baseline's \d+/, 'against the baseline\'s 99'))).toHaveLength(1);
});
