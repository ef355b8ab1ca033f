/**
 * Runs every compliance checker this project answers to on a construct tree or on synthesized
 * templates: cdk-nag's AwsSolutions, HIPAA.Security, NIST.800.53.R5 and PCI.DSS.321 packs, the
 * Control Tower proactive controls (cfn-guard), cfn-lint and checkov.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { S3EncryptionChecks } from '../../src/compliance/s3-encryption-checks';

export interface Finding {
  /** Which checker: a cdk-nag pack name, 'ControlTower', 'cfn-lint' or 'checkov'. */
  readonly checker: string;
  /** The rule id. */
  readonly rule: string;
  /** The resource: a construct path, or template:logicalId. */
  readonly resource: string;
  /** What the rule says. */
  readonly message: string;
}

export const NAG_PACK_NAMES = ['AwsSolutions', 'HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321'];
export const OWN_PACK_NAME = 'S3Encryption';
export const REPO_ROOT = path.resolve(__dirname, '..', '..');
const TOOLS = path.join(REPO_ROOT, '.tools', 'checkers', 'bin');

export function nagPacks(includeOwnPack = false): NagPack[] {
  const packs: NagPack[] = [new AwsSolutionsChecks(), new HIPAASecurityChecks(), new NIST80053R5Checks(), new PCIDSS321Checks()];
  if (includeOwnPack) packs.push(new S3EncryptionChecks());
  return packs;
}

/** cdk-nag findings (errors and warnings) of the four standard packs, and of S3EncryptionChecks if asked. */
export function nagFindings(scope: IConstruct, includeOwnPack = false): Finding[] {
  const findings: Finding[] = [];
  for (const pack of nagPacks(includeOwnPack)) {
    const report = pack.validateScope(scope);
    for (const v of report.violations) {
      for (const r of v.violatingResources) {
        findings.push({ checker: pack.readPackName, rule: v.ruleName, resource: (r as any).constructPath ?? `${r.templatePath ? path.basename(r.templatePath) + ':' : ''}${r.resourceLogicalId}`, message: v.description });
      }
    }
  }
  return findings;
}

/**
 * Control Tower proactive-control findings (cfn-guard) on synthesized templates. A rule listed in
 * the resource's `Metadata.guard.SuppressedRules` (cfn-guard's own suppression form) is reported
 * as acknowledged, not as a finding: the validator in use does not read that list itself.
 */
export function controlTowerFindings(templatePaths: string[], acknowledged: Finding[] = []): Finding[] {
  const report = new CfnGuardValidator().validate({ templatePaths });
  const templates = new Map(templatePaths.map((t) => [path.basename(t), JSON.parse(fs.readFileSync(t, 'utf-8'))]));
  const findings: Finding[] = [];
  for (const v of report.violations) {
    for (const r of v.violatingResources) {
      const finding = { checker: 'ControlTower', rule: v.ruleName, resource: `${path.basename(r.templatePath)}:${r.resourceLogicalId}`, message: v.description.split('\n')[0] };
      const resource = templates.get(path.basename(r.templatePath))?.Resources?.[r.resourceLogicalId];
      const suppressed: string[] = resource?.Metadata?.guard?.SuppressedRules ?? [];
      (suppressed.includes(v.ruleName) ? acknowledged : findings).push(finding);
    }
  }
  return findings;
}

function requireTool(name: string): string {
  const bin = path.join(TOOLS, name);
  if (!fs.existsSync(bin)) {
    throw new Error(`${bin} is missing: run \`npx projen setup-tools\` (it installs the Python checkers into .tools/)`);
  }
  return bin;
}

/** cfn-lint errors and warnings on templates (informational findings are left out). */
export function cfnLintFindings(templatePaths: string[]): Finding[] {
  const bin = requireTool('cfn-lint');
  const res = spawnSync(bin, ['--format', 'json', '--', ...templatePaths], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.error) throw res.error;
  // cfn-lint exits with a bit mask of the levels it found; anything it prints is the JSON list.
  const out = JSON.parse(res.stdout || '[]') as any[];
  return out.filter((m) => m.Level !== 'Informational').map((m) => ({
    checker: 'cfn-lint',
    rule: `${m.Rule.Id} (${m.Level})`,
    resource: `${path.basename(m.Filename)}:${(m.Location?.Path ?? []).slice(0, 2).join('/')}`,
    message: m.Message,
  }));
}

/** Failed checkov checks on templates. */
export function checkovFindings(templatePaths: string[], acknowledged: Finding[] = []): Finding[] {
  const bin = requireTool('checkov');
  const findings: Finding[] = [];
  const args = ['--quiet', '--compact', '--output', 'json', '--framework', 'cloudformation', '--skip-download', ...templatePaths.flatMap((t) => ['-f', t])];
  const res = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, BC_SKIP_MAPPING: 'TRUE', CHECKOV_RUN_SCA_PACKAGE_SCAN_V2: 'false' } });
  if (res.error) throw res.error;
  const text = res.stdout.trim();
  if (!text) throw new Error(`checkov printed nothing (exit ${res.status}): ${res.stderr.slice(0, 2000)}`);
  const parsed = JSON.parse(text);
  const reports = Array.isArray(parsed) ? parsed : [parsed];
  for (const report of reports) {
    // Checks a resource skips in its Metadata.checkov.skip (with a comment) are acknowledged, not findings.
    for (const f of report?.results?.skipped_checks ?? []) {
      acknowledged.push({ checker: 'checkov', rule: f.check_id, resource: `${path.basename(f.file_path)}:${f.resource}`, message: f.check_name });
    }
    for (const f of report?.results?.failed_checks ?? []) {
      findings.push({ checker: 'checkov', rule: f.check_id, resource: `${path.basename(f.file_path)}:${f.resource}`, message: f.check_name });
    }
  }
  return findings;
}

/** Writes each stack of an app's assembly and returns the template paths. */
export function templatePathsOf(assemblyDir: string): string[] {
  return fs.readdirSync(assemblyDir).filter((f) => f.endsWith('.template.json')).map((f) => path.join(assemblyDir, f));
}

/** Every checker on one stack: cdk-nag on the tree, the template-based checkers on its template. */
export function allFindings(stack: Stack, options: { python?: boolean } = {}): Finding[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cse-template-'));
  try {
    const file = path.join(dir, `${stack.artifactId}.template.json`);
    const template = Template.fromStack(stack).toJSON();
    fs.writeFileSync(file, JSON.stringify(template, null, 1));
    const findings = [...nagFindings(stack), ...controlTowerFindings([file])];
    if (options.python) findings.push(...cfnLintFindings([file]), ...checkovFindings([file]));
    return findings;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Counts findings by checker, with every known checker present. */
export function countByChecker(findings: Finding[], checkers: string[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(checkers.map((c) => [c, 0]));
  for (const f of findings) counts[f.checker] = (counts[f.checker] ?? 0) + 1;
  return counts;
}
