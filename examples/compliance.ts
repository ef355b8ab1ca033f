/**
 * The main job: synthesize the examples/ app with every compliance check and print the summary.
 * Exits non-zero if a checker did not run cleanly or found nothing on the hand-written baseline,
 * if any stack's findings differ from its exact list of expected findings, if an access-matrix
 * case is not as expected, or if README.md's "Compliance results" no longer says what this run
 * measured.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  baselineSentence, CHECKERS, ComplianceReport, EXPECTED_FINDINGS, readmeDifferences, renderReadmeRows, renderTable, runCompliance,
} from './compliance-lib';

const root = path.resolve(__dirname, '..');
let report: ComplianceReport;
try {
  report = runCompliance({
    outdir: path.join(root, 'examples', 'cdk.out'),
    python: true,
    baseline: true,
    log: (line) => console.log(`... ${line}`),
  });
} catch (e) {
  // A checker that crashed, parsed nothing or skipped resources: its zeros would mean nothing.
  console.log(`\nCompliance job failed: a checker did not run cleanly.\n${(e as Error).message}`);
  process.exit(1);
}

console.log('\nCompliance summary (findings per checker; cdk-nag packs count errors and warnings)\n');
console.log(renderTable(report, CHECKERS));

const baseline = report.stacks.find((s) => s.baseline)!;
const nagOf = (s: typeof report.stacks[number]) => ['AwsSolutions', 'HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321'].reduce((n, c) => n + s.counts[c], 0);
for (const s of report.stacks.filter((x) => !x.baseline)) {
  const nag = nagOf(s);
  console.log(`${s.stack}: cdk-nag ${nag} vs baseline ${nagOf(baseline)} (ratio ${(nag / Math.max(1, nagOf(baseline))).toFixed(2)}), Control Tower ${s.counts.ControlTower} vs ${baseline.counts.ControlTower}`);
}
console.log(baselineSentence(report));

console.log('\nFindings kept on purpose (decisions only the stack owner can make), as listed:');
for (const s of report.stacks.filter((x) => !x.baseline)) {
  for (const d of EXPECTED_FINDINGS[s.stack] ?? []) {
    const rules = [...new Set(d.findings.map(([, rule]) => rule.replace(/^.*-/, '')))].join(', ');
    const count = d.findings.reduce((n, [, , , c]) => n + c, 0);
    console.log(`  ${s.stack}: ${count} x ${rules}: ${d.why}`);
  }
}

const outDir = path.join(root, 'compliance-report');
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'summary.json'), JSON.stringify(report, null, 2));
console.log(`\nFull report: ${path.relative(root, path.join(outDir, 'summary.json'))}; took ${report.seconds.toFixed(1)} s`);

const failures: string[] = [];
const silent = report.silentCheckers ?? ['(no baseline run)'];
if (silent.length > 0) {
  failures.push(`dead checker(s): no finding on the hand-written baseline from ${silent.join(', ')}`);
}
const unexpected = report.stacks.flatMap((s) => s.unexpected.map((f) => ({ stack: s.stack, ...f })));
if (unexpected.length > 0) {
  failures.push(`${unexpected.length} finding(s) not as listed in EXPECTED_FINDINGS (examples/compliance-lib.ts):`);
  for (const f of unexpected) {
    const what = f.expected === 0 ? 'not listed' : f.actual === 0 ? 'listed, missing' : `listed ${f.expected}x`;
    failures.push(`  ${f.stack}  ${f.checker}  ${f.rule}  ${f.resource}: found ${f.actual}x, ${what}: ${f.message}`);
  }
}
const wrong = report.stacks.flatMap((s) => s.matrix.filter((m) => !m.ok));
if (wrong.length > 0) {
  failures.push(`${wrong.length} access-matrix case(s) not as expected:`);
  for (const m of wrong) failures.push(`  ${m.stack}  expected ${m.expect}, got ${m.actual}: ${m.name}${m.deniedBy.length ? ` (${m.deniedBy.join(', ')})` : ''}`);
}
const stale = readmeDifferences(report, fs.readFileSync(path.join(root, 'README.md'), 'utf-8'));
if (stale.length > 0) {
  failures.push(`README.md's "Compliance results" is stale (${stale.length} difference(s)):`, ...stale.map((d) => `  ${d}`));
  failures.push('  this run measured:', ...renderReadmeRows(report).split('\n').map((l) => `    ${l}`));
}
if (failures.length > 0) {
  console.log(`\nCompliance job failed:\n${failures.join('\n')}`);
  process.exit(1);
}
const cases = report.stacks.reduce((n, s) => n + s.matrix.length, 0);
console.log(`\nEvery checker ran cleanly and found something on the baseline; every finding as listed; ${cases} access-matrix cases as expected; README up to date.`);
