#!/usr/bin/env node
/**
 * `cdk-s3-encryption check <cdk.out | template files...>`: runs S3EncryptionChecks, the four
 * standard cdk-nag packs and the Control Tower proactive controls on synthesized CloudFormation
 * templates from any tool, prints a table, writes JSON and SARIF 2.1.0, and exits non-zero on
 * findings.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, IPolicyValidationPluginBeta1, Stack } from 'aws-cdk-lib';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';
import { S3EncryptionChecks } from './s3-encryption-checks';

/** One finding of one checker on one resource of one template. */
export interface CheckFinding {
  readonly checker: string;
  readonly rule: string;
  readonly template: string;
  readonly logicalId: string;
  readonly message: string;
}

/** What the command needs from its environment, so that tests can run it in-process. */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly cwd: string;
  /** Loads the Control Tower validator; absent when the package is not installed. */
  readonly loadControlTower?: () => IPolicyValidationPluginBeta1 | undefined;
}

const USAGE = `usage: cdk-s3-encryption check [options] <cdk.out directory | template file>...

Runs S3EncryptionChecks, cdk-nag AwsSolutions, HIPAA.Security, NIST.800.53.R5, PCI.DSS.321 and
the Control Tower proactive controls on CloudFormation templates (JSON or YAML).

options:
  --json <file>              write every finding as JSON
  --sarif <file>             write SARIF 2.1.0 (for code-scanning upload)
  --packs <list>             comma-separated subset of: S3Encryption,AwsSolutions,HIPAA.Security,NIST.800.53.R5,PCI.DSS.321
  --no-control-tower         do not run the Control Tower controls
  --max-rotation-days <n>    S3EncryptionChecks maxRotationPeriodDays (default 365)
  --min-pending-days <n>     S3EncryptionChecks minPendingWindowDays (default 30)

exit status: 0 no finding, 1 findings, 2 usage or input error`;

class UsageError extends Error {}

interface Options {
  inputs: string[];
  json?: string;
  sarif?: string;
  packs?: string[];
  controlTower: boolean;
  maxRotationDays?: number;
  minPendingDays?: number;
}

const PACK_NAMES = ['S3Encryption', 'AwsSolutions', 'HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321'];

function parseArgs(argv: string[]): Options {
  const opts: Options = { inputs: [], controlTower: true };
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  const int = (v: string, flag: string) => {
    if (!/^\d+$/.test(v)) throw new UsageError(`${flag} must be a whole number, got '${v}'`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--json': opts.json = value(i, a); i++; break;
      case '--sarif': opts.sarif = value(i, a); i++; break;
      case '--packs': {
        opts.packs = value(i, a).split(',').map((p) => p.trim()).filter(Boolean);
        const unknown = opts.packs.filter((p) => !PACK_NAMES.includes(p));
        if (unknown.length) throw new UsageError(`unknown pack ${unknown.join(', ')}; choose from ${PACK_NAMES.join(', ')}`);
        i++;
        break;
      }
      case '--no-control-tower': opts.controlTower = false; break;
      case '--max-rotation-days': opts.maxRotationDays = int(value(i, a), a); i++; break;
      case '--min-pending-days': opts.minPendingDays = int(value(i, a), a); i++; break;
      case '-h': case '--help': throw new UsageError('');
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
        opts.inputs.push(a);
    }
  }
  if (opts.inputs.length === 0) throw new UsageError('no template or cdk.out directory given');
  return opts;
}

/** Template files named by the inputs: a directory contributes its *.template.json files. */
function templateFiles(inputs: string[], cwd: string): string[] {
  const files: string[] = [];
  for (const input of inputs) {
    const p = path.resolve(cwd, input);
    if (!fs.existsSync(p)) throw new UsageError(`no such file or directory: ${input}`);
    if (fs.statSync(p).isDirectory()) {
      const found = fs.readdirSync(p).filter((f) => f.endsWith('.template.json')).sort().map((f) => path.join(p, f));
      if (found.length === 0) throw new UsageError(`${input} holds no *.template.json file (is it a cdk.out directory?)`);
      files.push(...found);
    } else {
      files.push(p);
    }
  }
  return files;
}

function checkTemplateShape(file: string): void {
  const text = fs.readFileSync(file, 'utf8');
  let doc: any;
  if (/\.(ya?ml)$/i.test(file)) {
    if (!/^\s*Resources\s*:/m.test(text)) throw new UsageError(`${file} is not a CloudFormation template: no top-level Resources`);
    return;
  }
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file} is not a CloudFormation template: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || !doc.Resources || typeof doc.Resources !== 'object') {
    throw new UsageError(`${file} is not a CloudFormation template: no top-level Resources object`);
  }
}

function packsFor(opts: Options): NagPack[] {
  const all: Record<string, () => NagPack> = {
    'S3Encryption': () => new S3EncryptionChecks(undefined, { maxRotationPeriodDays: opts.maxRotationDays, minPendingWindowDays: opts.minPendingDays }),
    'AwsSolutions': () => new AwsSolutionsChecks(),
    'HIPAA.Security': () => new HIPAASecurityChecks(),
    'NIST.800.53.R5': () => new NIST80053R5Checks(),
    'PCI.DSS.321': () => new PCIDSS321Checks(),
  };
  return (opts.packs ?? PACK_NAMES).map((n) => all[n]());
}

function defaultControlTower(): IPolicyValidationPluginBeta1 | undefined {
  try {
    // An optional peer that only this command needs, so it is loaded on demand.
    // eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
    const mod = require('@cdklabs/cdk-validator-cfnguard');
    return new mod.CfnGuardValidator();
  } catch {
    return undefined;
  }
}

/** Runs the command; returns the exit status. */
export function main(argv: string[], io: CliIo = { out: console.log, err: console.error, cwd: process.cwd() }): number {
  let opts: Options;
  let files: string[];
  try {
    if (argv[0] !== 'check') throw new UsageError(argv[0] === undefined ? '' : `unknown command ${argv[0]}`);
    opts = parseArgs(argv.slice(1));
    files = templateFiles(opts.inputs, io.cwd);
    files.forEach(checkTemplateShape);
  } catch (e) {
    if (e instanceof UsageError) {
      if (e.message) io.err(`cdk-s3-encryption: ${e.message}`);
      io.err(USAGE);
      return 2;
    }
    throw e;
  }

  const findings: CheckFinding[] = [];
  const packs = packsFor(opts);
  const started = Date.now();
  // One app holds every template, so that a trail in one template covers buckets of another.
  const app = new App();
  const includes = new Map<string, CfnInclude>();
  const stacks = files.map((file, i) => {
    const stack = new Stack(app, `Check${i}`);
    try {
      includes.set(file, new CfnInclude(stack, 'Template', { templateFile: file }));
    } catch (e) {
      throw new Error(`${file}: cannot be loaded as a CloudFormation template: ${(e as Error).message}`);
    }
    return stack;
  });
  const acknowledged: Array<CheckFinding & { reason: string }> = [];
  files.forEach((file, i) => {
    io.err(`[${i + 1}/${files.length}] ${path.relative(io.cwd, file) || file}: cdk-nag (${packs.map((p) => p.readPackName).join(', ')})`);
    const stack = stacks[i];
    for (const pack of packs) {
      for (const v of pack.validateScope(stack).violations) {
        for (const r of v.violatingResources as any[]) {
          const segments = String(r.constructPath ?? r.resourceLogicalId ?? '').split('/');
          const logicalId = segments[2] ?? segments[segments.length - 1];
          findings.push({ checker: pack.readPackName, rule: v.ruleName, template: file, logicalId, message: v.description });
        }
      }
    }
  });

  if (opts.controlTower) {
    const ct = (io.loadControlTower ?? defaultControlTower)();
    if (!ct) {
      io.err('cdk-s3-encryption: the Control Tower controls need @cdklabs/cdk-validator-cfnguard: npm install --save-dev @cdklabs/cdk-validator-cfnguard, or pass --no-control-tower');
      return 2;
    }
    io.err(`Control Tower proactive controls on ${files.length} template(s)`);
    const report = ct.validate({ templatePaths: files });
    for (const v of report.violations) {
      for (const r of v.violatingResources) {
        const message = v.description.split('\n')[0];
        const finding = { checker: 'ControlTower', rule: v.ruleName, template: r.templatePath, logicalId: r.resourceLogicalId, message };
        // cfn-guard's own suppression form, which the validator does not read: the resource's
        // Metadata.guard.SuppressedRules. Reported as acknowledged, never dropped silently.
        const suppressed = guardSuppressions(includes.get(r.templatePath), r.resourceLogicalId);
        if (suppressed.includes(v.ruleName)) {
          acknowledged.push({ ...finding, reason: 'Metadata.guard.SuppressedRules of the resource' });
        } else {
          findings.push(finding);
        }
      }
    }
  }

  printTable(findings, files, io);
  if (acknowledged.length > 0) {
    io.out(`${acknowledged.length} acknowledged (not counted): ${acknowledged.map((a) => `${a.rule} on ${path.basename(a.template)}:${a.logicalId}`).join(', ')}`);
  }
  if (opts.json) fs.writeFileSync(path.resolve(io.cwd, opts.json), JSON.stringify({ templates: files, findings, acknowledged }, null, 2));
  if (opts.sarif) fs.writeFileSync(path.resolve(io.cwd, opts.sarif), JSON.stringify(toSarif(findings, io.cwd), null, 2));
  io.out(`${findings.length} finding(s) in ${files.length} template(s), ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return findings.length > 0 ? 1 : 0;
}

function guardSuppressions(include: CfnInclude | undefined, logicalId: string): string[] {
  if (!include) return [];
  try {
    const rules = (include.getResource(logicalId).cfnOptions.metadata as any)?.guard?.SuppressedRules;
    return Array.isArray(rules) ? rules.map(String) : [];
  } catch {
    return [];
  }
}

function printTable(findings: CheckFinding[], files: string[], io: CliIo): void {
  if (findings.length === 0) {
    io.out(`No findings in ${files.length} template(s).`);
    return;
  }
  const rows = findings.map((f) => [f.checker, f.rule, `${path.basename(f.template)}:${f.logicalId}`, f.message.slice(0, 100)]);
  const header = ['checker', 'rule', 'resource', 'finding'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  io.out(line(header));
  io.out(widths.map((w) => '-'.repeat(w)).join('  '));
  rows.forEach((r) => io.out(line(r)));
}

/** SARIF 2.1.0: one run, one rule per rule id, one result per finding. */
export function toSarif(findings: CheckFinding[], cwd: string): any {
  const ruleIds = [...new Set(findings.map((f) => f.rule))];
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: 'cdk-s3-encryption check',
          informationUri: 'https://github.com/cdk-s3-encryption/cdk-s3-encryption',
          rules: ruleIds.map((id) => ({
            id,
            shortDescription: { text: findings.find((f) => f.rule === id)!.message.slice(0, 1000) },
          })),
        },
      },
      results: findings.map((f) => ({
        ruleId: f.rule,
        ruleIndex: ruleIds.indexOf(f.rule),
        level: 'error',
        message: { text: `${f.logicalId}: ${f.message}` },
        locations: [{
          physicalLocation: { artifactLocation: { uri: path.relative(cwd, f.template).split(path.sep).join('/') } },
          logicalLocations: [{ name: f.logicalId, kind: 'resource' }],
        }],
      })),
    }],
  };
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
