/**
 * The main job as a test: the examples/ app against the four cdk-nag packs, the Control Tower
 * controls, cfn-lint and checkov (installed by `npx projen setup-tools`), beside the
 * hand-written aws-cdk-lib baseline.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ComplianceReport, runCompliance, USER_DECISIONS } from '../../examples/compliance-lib';

let report: ComplianceReport;
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'examples-cdk-out-'));

beforeAll(() => {
  report = runCompliance({ outdir, python: true, baseline: true });
}, 600_000);

afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

const byName = (name: string) => {
  const s = report.stacks.find((x) => x.stack === name);
  if (!s) throw new Error(`no stack ${name} in the report`);
  return s;
};

test('every example stack was checked by every checker', () => {
  expect(report.stacks.map((s) => s.stack).sort()).toEqual([...Object.keys(USER_DECISIONS), 'HandWrittenBaseline'].sort());
});

test('no example stack has a finding other than a documented user decision', () => {
  const unexpected = report.stacks.flatMap((s) => s.unexpected.map((f) => `${s.stack} ${f.checker} ${f.rule} ${f.resource}`));
  expect(unexpected).toEqual([]);
});

test('the fully configured stack and the tenant keyring stack have zero findings in every checker', () => {
  expect(byName('ReplicatedBucket').findings).toEqual([]);
  expect(byName('TenantKeyring').findings).toEqual([]);
});

test('the bare default bucket keeps only the replication and audit-trail decisions, and no Control Tower finding', () => {
  const s = byName('DefaultBucket');
  expect(s.counts.ControlTower).toBe(0);
  expect(new Set(s.findings.map((f) => f.rule.replace(/^.*-/, '')))).toEqual(new Set(['S3BucketReplicationEnabled', 'S3BucketDataEventsAudited']));
});

test('no cfn-lint error or warning and no failed checkov check on any example template', () => {
  for (const s of report.stacks.filter((x) => !x.baseline)) {
    expect(s.findings.filter((f) => f.checker === 'cfn-lint' || f.checker === 'checkov')).toEqual([]);
  }
});

test('the checkers are live: the hand-written baseline has findings in cdk-nag, Control Tower and checkov', () => {
  const b = byName('HandWrittenBaseline');
  const nag = b.counts.AwsSolutions + b.counts['HIPAA.Security'] + b.counts['NIST.800.53.R5'] + b.counts['PCI.DSS.321'];
  expect(nag).toBeGreaterThan(byName('DefaultBucket').findings.length);
  expect(b.counts.ControlTower).toBeGreaterThan(0);
  expect(b.counts.checkov).toBeGreaterThan(0);
});

test('every example bucket stack carries its access matrix in the report, every case as expected', () => {
  for (const name of ['DefaultBucket', 'AuditedBucket', 'SseCBucket', 'ReplicaDestination', 'ReplicatedBucket', 'TenantKeyring']) {
    const s = byName(name);
    expect(s.matrix.length).toBeGreaterThan(0);
    expect(s.matrix.filter((m) => !m.ok).map((m) => `${m.name}: ${m.actual}`)).toEqual([]);
  }
});

test('every acknowledged finding sits on a server-access-log bucket, with the AWS page as its reason, 11 per log bucket', () => {
  for (const s of report.stacks.filter((x) => !x.baseline)) {
    for (const a of s.acknowledged) {
      expect({ stack: s.stack, resource: a.resource }).toEqual({ stack: s.stack, resource: expect.stringMatching(/AccessLogs/) });
      if (a.checker !== 'ControlTower' && a.checker !== 'checkov') expect(a.message).toContain('enable-server-access-logging.html');
    }
    const logBuckets = new Set(s.acknowledged.filter((a) => a.checker === 'ControlTower').map((a) => a.resource)).size;
    expect(s.acknowledged.length).toBe(11 * logBuckets);
  }
});
