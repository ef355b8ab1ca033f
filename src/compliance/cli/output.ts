/**
 * Output side of `cdk-s3-encryption check`: fingerprints, the baseline comparison, the table,
 * the JSON report and SARIF 2.1.0.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AcknowledgedFinding, CheckerCrash, CheckFinding, CheckResults } from './checkers';
import { InputError, readTemplateText, Template } from './reader';

export const TOOL_NAME = 'cdk-s3-encryption';
const INFORMATION_URI = 'https://github.com/cdk-s3-encryption/cdk-s3-encryption';
const FINGERPRINT_KEY = 'cdkS3EncryptionFinding/v1';

/** This package's version, read from its package.json. */
export function toolVersion(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
        if (pkg.name === 'cdk-s3-encryption') return String(pkg.version);
      } catch {
        // not ours: keep looking upward
      }
    }
    dir = path.dirname(dir);
  }
  return '0.0.0';
}

/**
 * A finding's identity across runs: checker, rule, the template's file name and the logical id.
 * The folder is left out so that a report made in another checkout or CI workspace still matches.
 */
export function fingerprint(f: Pick<CheckFinding, 'checker' | 'rule' | 'template' | 'logicalId'>): string {
  const name = f.template.split(/[\\/]/).pop();
  return createHash('sha256').update(`${f.checker}\u0000${f.rule}\u0000${name}\u0000${f.logicalId}`).digest('hex').slice(0, 32);
}

export type FailOn = 'error' | 'warning';

export interface Report {
  readonly templates: Template[];
  readonly results: CheckResults;
  /** Fingerprints of the baseline's findings, when --baseline is given. */
  readonly baseline?: Map<string, BaselineEntry>;
  readonly failOn: FailOn;
  readonly cwd: string;
}

export interface BaselineEntry {
  readonly checker: string;
  readonly rule: string;
  readonly template: string;
  readonly logicalId: string;
  readonly level?: string;
  readonly message?: string;
}

/** Reads a previous JSON report of this command. */
export function readBaseline(file: string, cwd: string): Map<string, BaselineEntry> {
  const p = path.resolve(cwd, file);
  const text = readTemplateText(p, cwd);
  let json: any;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: malformed JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!json || !Array.isArray(json.findings)) throw new InputError(`${file}: is not a JSON report of cdk-s3-encryption check: no findings array`);
  const map = new Map<string, BaselineEntry>();
  for (const f of json.findings) {
    if (!f || typeof f.rule !== 'string' || typeof f.logicalId !== 'string' || typeof f.template !== 'string' || typeof f.checker !== 'string') {
      throw new InputError(`${file}: is not a JSON report of cdk-s3-encryption check: a finding lacks checker, rule, template or logicalId`);
    }
    map.set(typeof f.fingerprint === 'string' ? f.fingerprint : fingerprint(f), f);
  }
  return map;
}

export interface Outcome {
  readonly newFindings: CheckFinding[];
  readonly unchanged: CheckFinding[];
  readonly fixed: BaselineEntry[];
  readonly failing: CheckFinding[];
}

export function outcome(r: Report): Outcome {
  const current = new Set(r.results.findings.map(fingerprint));
  const newFindings = r.baseline ? r.results.findings.filter((f) => !r.baseline!.has(fingerprint(f))) : r.results.findings;
  const unchanged = r.baseline ? r.results.findings.filter((f) => r.baseline!.has(fingerprint(f))) : [];
  const fixed = r.baseline ? [...r.baseline.entries()].filter(([fp]) => !current.has(fp)).map(([, e]) => e) : [];
  const failing = newFindings.filter((f) => f.level === 'error' || r.failOn === 'warning');
  return { newFindings, unchanged, fixed, failing };
}

function rel(file: string, cwd: string): string {
  return (path.relative(cwd, file) || file).split(path.sep).join('/');
}

function lineOf(r: Report, f: CheckFinding): number | undefined {
  return r.templates.find((t) => t.file === f.template)?.lines.get(f.logicalId);
}

export function printTable(r: Report, o: Outcome, out: (line: string) => void): void {
  const { findings, acknowledged, crashes } = r.results;
  if (findings.length === 0) {
    out(`No findings in ${r.templates.length} template(s).`);
  } else {
    const baselined = (f: CheckFinding) => (r.baseline ? (o.unchanged.includes(f) ? 'baseline' : 'new') : undefined);
    const header = ['level', 'checker', 'rule', 'resource', 'finding'];
    if (r.baseline) header.splice(1, 0, 'status');
    const rows = findings.map((f) => {
      const row = [f.level, f.checker, f.rule, `${path.basename(f.template)}:${f.logicalId}`, f.message.slice(0, 100)];
      if (r.baseline) row.splice(1, 0, baselined(f)!);
      return row;
    });
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
    out(line(header));
    out(widths.map((w) => '-'.repeat(w)).join('  '));
    rows.forEach((row) => out(line(row)));
  }
  if (acknowledged.length > 0) {
    out(`${acknowledged.length} acknowledged (not counted):`);
    for (const a of acknowledged) out(`  acknowledged  ${a.checker}  ${a.rule}  ${path.basename(a.template)}:${a.logicalId}  reason: ${a.reason}`);
  }
  for (const f of o.fixed) out(`  fixed  ${f.checker}  ${f.rule}  ${path.basename(f.template)}:${f.logicalId}  (in the baseline, gone now)`);
  for (const c of crashes) out(`  error  ${c.checker} failed on ${rel(c.template, r.cwd)}: ${c.message} (its results for this template are missing)`);
}

export function summaryLine(r: Report, o: Outcome, seconds: number): string {
  const { findings, acknowledged, crashes } = r.results;
  const parts = [`${findings.length} finding(s) in ${r.templates.length} template(s)`];
  const errors = findings.filter((f) => f.level === 'error').length;
  parts.push(`${errors} error(s), ${findings.length - errors} warning(s)`);
  if (r.baseline) parts.push(`${o.newFindings.length} new, ${o.unchanged.length} in the baseline, ${o.fixed.length} fixed`);
  if (acknowledged.length) parts.push(`${acknowledged.length} acknowledged`);
  if (crashes.length) parts.push(`${crashes.length} checker failure(s)`);
  parts.push(`${o.failing.length} failing (--fail-on ${r.failOn})`);
  return `${parts.join(', ')}, ${seconds.toFixed(1)} s`;
}

function jsonFinding(r: Report, f: CheckFinding) {
  return { ...f, template: rel(f.template, r.cwd), line: lineOf(r, f), fingerprint: fingerprint(f) };
}

export function toJsonReport(r: Report, o: Outcome): any {
  return {
    tool: { name: TOOL_NAME, version: toolVersion() },
    failOn: r.failOn,
    templates: r.templates.map((t) => rel(t.file, r.cwd)),
    findings: r.results.findings.map((f) => ({
      ...jsonFinding(r, f),
      ...(r.baseline ? { baselineState: o.unchanged.includes(f) ? 'unchanged' : 'new' } : {}),
    })),
    acknowledged: r.results.acknowledged.map((a) => jsonFinding(r, a)),
    ...(r.baseline ? { fixed: o.fixed } : {}),
    errors: r.results.crashes.map((c) => ({ ...c, template: rel(c.template, r.cwd) })),
  };
}

/** SARIF 2.1.0: one run; one rule per rule id; one result per finding, acknowledged ones as suppressed. */
export function toSarif(r: Report, o: Outcome): any {
  const all: Array<CheckFinding | AcknowledgedFinding> = [...r.results.findings, ...r.results.acknowledged];
  const ruleIds = [...new Set(all.map((f) => f.rule))].sort();
  const location = (template: string, f?: CheckFinding) => {
    const line = f ? lineOf(r, f) : undefined;
    return {
      physicalLocation: {
        artifactLocation: { uri: rel(template, r.cwd) },
        ...(line ? { region: { startLine: line } } : {}),
      },
      ...(f ? { logicalLocations: [{ name: f.logicalId, kind: 'resource' }] } : {}),
    };
  };
  const version = toolVersion();
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: TOOL_NAME,
          version,
          semanticVersion: version,
          informationUri: INFORMATION_URI,
          rules: ruleIds.map((id) => {
            const f = all.find((x) => x.rule === id)!;
            return {
              id,
              shortDescription: { text: f.message.slice(0, 1000) || id },
              defaultConfiguration: { level: f.level },
              properties: { checker: f.checker },
            };
          }),
        },
      },
      invocations: [{
        executionSuccessful: r.results.crashes.length === 0,
        toolExecutionNotifications: r.results.crashes.map((c: CheckerCrash) => ({
          level: 'error',
          message: { text: `${c.checker} failed on ${rel(c.template, r.cwd)}: ${c.message}` },
          descriptor: { id: c.checker },
          locations: [location(c.template)],
        })),
      }],
      results: all.map((f) => {
        const ack = 'reason' in f ? f : undefined;
        return {
          ruleId: f.rule,
          ruleIndex: ruleIds.indexOf(f.rule),
          level: f.level,
          message: { text: `${f.logicalId}: ${f.message}` },
          locations: [location(f.template, f)],
          partialFingerprints: { [FINGERPRINT_KEY]: fingerprint(f) },
          properties: { checker: f.checker, logicalId: f.logicalId },
          ...(ack ? { suppressions: [{ kind: 'external', status: 'accepted', justification: `${ack.reason} (${ack.acknowledgedBy})` }] } : {}),
          ...(r.baseline && !ack ? { baselineState: o.unchanged.includes(f) ? 'unchanged' : 'new' } : {}),
        };
      }),
    }],
  };
}
