/**
 * Prints the mutation score per file and overall from the Stryker JSON reports of every batch
 * (reports/mutation/<batch>.json, written by `npx projen mutation:<batch>`), counted as Stryker
 * counts them: score = (killed + timeout) / (killed + timeout + survived + no coverage); compile
 * and runtime errors are invalid mutants and count for nothing. With `--survivors`, also lists
 * every surviving or uncovered mutant with its place and replacement.
 */
import * as fs from 'fs';
import * as path from 'path';

const DIR = path.join(__dirname, '..', 'reports', 'mutation');
const STATUSES = ['Killed', 'Timeout', 'Survived', 'NoCoverage', 'CompileError', 'RuntimeError', 'Ignored'] as const;
type Status = typeof STATUSES[number];

interface Mutant {
  readonly id: string;
  readonly mutatorName: string;
  readonly replacement?: string;
  readonly status: Status;
  readonly location: { readonly start: { readonly line: number; readonly column: number } };
}
interface Report { readonly files: Record<string, { readonly mutants: Mutant[] }> }

const reports = fs.existsSync(DIR) ? fs.readdirSync(DIR).filter((f) => f.endsWith('.json') && !f.endsWith('.incremental.json')).sort() : [];
if (reports.length === 0) {
  console.error(`No Stryker JSON report in ${DIR}: run \`npx projen mutation\` first.`);
  process.exit(1);
}

const perFile = new Map<string, { batch: string; counts: Record<Status, number>; open: Mutant[] }>();
for (const name of reports) {
  const report = JSON.parse(fs.readFileSync(path.join(DIR, name), 'utf8')) as Report;
  for (const [file, { mutants }] of Object.entries(report.files)) {
    const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
    for (const m of mutants) counts[m.status] = (counts[m.status] ?? 0) + 1;
    perFile.set(file, { batch: path.basename(name, '.json'), counts, open: mutants.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage') });
  }
}

const score = (c: Record<Status, number>) => {
  const detected = c.Killed + c.Timeout;
  const valid = detected + c.Survived + c.NoCoverage;
  return valid === 0 ? 'n/a' : `${(100 * detected / valid).toFixed(1)}%`;
};
const cells = (c: Record<Status, number>) =>
  [...[c.Killed, c.Timeout, c.Survived, c.NoCoverage, c.CompileError + c.RuntimeError].map(String), score(c)];
const total = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
const rows = [['file', 'batch', 'killed', 'timeout', 'survived', 'no cov.', 'compile err.', 'score']];
for (const [file, { batch, counts }] of [...perFile].sort(([a], [b]) => a.localeCompare(b))) {
  for (const s of STATUSES) total[s] += counts[s];
  rows.push([file, batch, ...cells(counts)]);
}
rows.push(['all files', '', ...cells(total)]);
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '));

if (process.argv.includes('--survivors')) {
  for (const [file, { open }] of perFile) {
    for (const m of open.sort((a, b) => a.location.start.line - b.location.start.line)) {
      console.log(`${m.status}\t${file}:${m.location.start.line}:${m.location.start.column}\t${m.mutatorName}\t${(m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 120)}`);
    }
  }
}
