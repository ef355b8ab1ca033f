/**
 * The main job: synthesize the examples/ app with every compliance check and print the summary.
 * Exits non-zero if any stack has a finding that is not a documented user decision.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CHECKERS, renderTable, runCompliance, USER_DECISIONS } from './compliance-lib';

const root = path.resolve(__dirname, '..');
const report = runCompliance({
  outdir: path.join(root, 'examples', 'cdk.out'),
  python: true,
  baseline: true,
  log: (line) => console.log(`... ${line}`),
});

console.log('\nCompliance summary (findings per checker; cdk-nag packs count errors and warnings)\n');
console.log(renderTable(report, CHECKERS));

const baseline = report.stacks.find((s) => s.baseline);
// The baseline figure counts the four standard packs only, as it was first measured.
const nagOf = (s: typeof report.stacks[number]) => ['AwsSolutions', 'HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321'].reduce((n, c) => n + s.counts[c], 0);
if (baseline) {
  for (const s of report.stacks.filter((x) => !x.baseline)) {
    const nag = nagOf(s);
    console.log(`${s.stack}: cdk-nag ${nag} vs baseline ${nagOf(baseline)} (ratio ${(nag / Math.max(1, nagOf(baseline))).toFixed(2)}), Control Tower ${s.counts.ControlTower} vs ${baseline.counts.ControlTower}`);
  }
}

console.log('\nFindings kept on purpose (decisions only the stack owner can make):');
for (const s of report.stacks.filter((x) => !x.baseline)) {
  const kept = s.findings.filter((f) => !s.unexpected.includes(f));
  if (kept.length === 0) continue;
  const why = [...new Set((USER_DECISIONS[s.stack] ?? []).filter((d) => kept.some((f) => d.rule.test(f.rule))).map((d) => d.why))];
  console.log(`  ${s.stack}: ${kept.length} x ${[...new Set(kept.map((f) => f.rule.replace(/^.*-/, '')))].join(', ')}: ${why.join('; ')}`);
}

const unexpected = report.stacks.flatMap((s) => s.unexpected.map((f) => ({ stack: s.stack, ...f })));
const wrong = report.stacks.flatMap((s) => s.matrix.filter((m) => !m.ok));
const outDir = path.join(root, 'compliance-report');
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'summary.json'), JSON.stringify(report, null, 2));
console.log(`\nFull report: ${path.relative(root, path.join(outDir, 'summary.json'))}; took ${report.seconds.toFixed(1)} s`);
if (wrong.length > 0) {
  console.log(`\n${wrong.length} access-matrix case(s) not as expected:`);
  for (const m of wrong) console.log(`  ${m.stack}  expected ${m.expect}, got ${m.actual}: ${m.name}${m.deniedBy.length ? ` (${m.deniedBy.join(', ')})` : ''}`);
}
if (unexpected.length > 0 || wrong.length > 0) {
  console.log(`\n${unexpected.length} unexpected finding(s):`);
  for (const f of unexpected) console.log(`  ${f.stack}  ${f.checker}  ${f.rule}  ${f.resource}  ${f.message}`);
  process.exit(1);
}
const cases = report.stacks.reduce((n, s) => n + s.matrix.length, 0);
console.log(`\nNo unexpected findings; ${cases} access-matrix cases as expected.`);
