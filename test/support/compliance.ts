/**
 * Runs every compliance checker this project answers to on a construct tree or on synthesized
 * templates: cdk-nag's AwsSolutions, HIPAA.Security, NIST.800.53.R5 and PCI.DSS.321 packs, the
 * Control Tower proactive controls (cfn-guard), cfn-lint and checkov.
 *
 * Every run is checked before its findings are believed: a checker that crashed, parsed nothing,
 * skipped resources or printed something other than its report throws, naming the templates and
 * the reason. Zero findings therefore always means "looked and found nothing".
 */
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
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

/** The pack names a run must report, in the order `nagPacks` gives them. */
export function expectedNagPackNames(includeOwnPack = false): string[] {
  return includeOwnPack ? [...NAG_PACK_NAMES, OWN_PACK_NAME] : [...NAG_PACK_NAMES];
}

/** What one cdk-nag pack did on a tree. */
export interface NagPackRun {
  readonly pack: string;
  /** CfnResources the pack's checkResource was called on (must be every CfnResource of the tree). */
  readonly resources: number;
  /** Rule evaluations (applyRule calls) the pack made. */
  readonly rulesApplied: number;
}

/** The prefix cdk-nag gives a violation whose rule threw instead of deciding. */
const NAG_RULE_THREW = 'Rule threw an error during validation';

/**
 * Runs cdk-nag packs on a tree and checks each run: the pack has a name, its report has the
 * success/violations shape, it called its checks on every CfnResource of the tree and applied
 * rules, no rule threw, and (if `expectedNames` is given) the packs that ran are exactly those.
 */
export function runNagPacks(scope: IConstruct, packs: NagPack[], expectedNames?: string[]): { findings: Finding[]; runs: NagPackRun[] } {
  const resources = scope.node.findAll().filter((c) => CfnResource.isCfnResource(c)).length;
  const findings: Finding[] = [];
  const runs: NagPackRun[] = [];
  for (const pack of packs) {
    const name = pack.readPackName;
    const fail = (reason: string): never => {
      throw new Error(`cdk-nag pack ${name || '(no name)'} did not run on ${scope.node.path || 'the app'}: ${reason}`);
    };
    if (!name) fail('it has no pack name');
    // Count what the pack really does: checkResource per CfnResource, applyRule per rule and resource.
    const p = pack as any;
    const check = p.checkResource;
    const apply = p.applyRule;
    if (typeof check !== 'function' || typeof apply !== 'function') fail('it has no checkResource/applyRule to run');
    let visited = 0;
    let applied = 0;
    p.checkResource = function (this: unknown, node: CfnResource) { visited += 1; return check.call(this, node); };
    p.applyRule = function (this: unknown, params: unknown) { applied += 1; return apply.call(this, params); };
    let report: any;
    try {
      report = pack.validateScope(scope);
    } catch (e) {
      fail(`it threw: ${(e as Error).message}`);
    } finally {
      p.checkResource = check;
      p.applyRule = apply;
    }
    if (!report || typeof report.success !== 'boolean' || !Array.isArray(report.violations)) {
      fail(`its report has no success flag and violation list: ${JSON.stringify(report)?.slice(0, 300)}`);
    }
    if (report.success !== (report.violations.length === 0)) fail(`its report says success=${report.success} with ${report.violations.length} violation(s)`);
    if (visited !== resources) fail(`it checked ${visited} of the ${resources} CfnResources`);
    if (resources > 0 && applied === 0) fail(`it applied no rule to the ${resources} CfnResources`);
    for (const v of report.violations) {
      if (typeof v?.ruleName !== 'string' || !Array.isArray(v.violatingResources) || v.violatingResources.length === 0) {
        fail(`unreadable violation ${JSON.stringify(v)?.slice(0, 300)}`);
      }
      if (String(v.description).startsWith(NAG_RULE_THREW)) {
        fail(`rule ${v.ruleName} threw on ${v.violatingResources.map((r: any) => r.constructPath).join(', ')} instead of deciding`);
      }
      for (const r of v.violatingResources) {
        findings.push({ checker: name, rule: v.ruleName, resource: r.constructPath ?? `${r.templatePath ? path.basename(r.templatePath) + ':' : ''}${r.resourceLogicalId}`, message: v.description });
      }
    }
    runs.push({ pack: name, resources: visited, rulesApplied: applied });
  }
  if (expectedNames) {
    const ran = runs.map((r) => r.pack);
    if (JSON.stringify(ran) !== JSON.stringify(expectedNames)) {
      const missing = expectedNames.filter((n) => !ran.includes(n));
      const extra = ran.filter((n) => !expectedNames.includes(n));
      throw new Error(`cdk-nag: the packs that ran are [${ran.join(', ')}], not [${expectedNames.join(', ')}]` +
        `${missing.length ? `; missing ${missing.join(', ')}` : ''}${extra.length ? `; not expected ${extra.join(', ')}` : ''}`);
    }
  }
  return { findings, runs };
}

/** cdk-nag findings (errors and warnings) of the four standard packs, and of S3EncryptionChecks if asked. */
export function nagFindings(scope: IConstruct, includeOwnPack = false): Finding[] {
  return runNagPacks(scope, nagPacks(includeOwnPack), expectedNagPackNames(includeOwnPack)).findings;
}

/** What controlTowerFindings needs of a validator (a CfnGuardValidator, or a stand-in in tests). */
export interface TemplateValidator {
  validate(context: { templatePaths: string[]; appConstruct: IConstruct }): unknown;
}

/**
 * Control Tower proactive-control findings (cfn-guard) on synthesized templates. A rule listed in
 * the resource's `Metadata.guard.SuppressedRules` (cfn-guard's own suppression form) is reported
 * as acknowledged, not as a finding: the validator in use does not read that list itself.
 *
 * The report is checked: a validator that throws, returns no success flag and violation list, a
 * flag that contradicts the list, or a violation on a template or resource it was not given fails.
 */
export function controlTowerFindings(templatePaths: string[], acknowledged: Finding[] = [], validator?: TemplateValidator): Finding[] {
  const fail = (reason: string): never => {
    throw new Error(`Control Tower (cfn-guard) did not run on ${templatePaths.map((t) => path.basename(t)).join(', ')}: ${reason}`);
  };
  const guard = validator ?? new CfnGuardValidator();
  if (guard instanceof CfnGuardValidator && (guard.ruleIds ?? []).length === 0) fail('the validator loaded no rules');
  let report: any;
  try {
    // cfn-guard reads the template files only; the context still names a construct tree.
    report = guard.validate({ templatePaths, appConstruct: new App() });
  } catch (e) {
    fail(`the validator threw: ${(e as Error).message.trim()}`);
  }
  if (!report || typeof report.success !== 'boolean' || !Array.isArray(report.violations)) {
    fail(`its report has no success flag and violation list: ${JSON.stringify(report)?.slice(0, 300)}`);
  }
  if (report.success !== (report.violations.length === 0)) fail(`its report says success=${report.success} with ${report.violations.length} violation(s)`);
  const templates = new Map(templatePaths.map((t) => [path.resolve(t), JSON.parse(fs.readFileSync(t, 'utf-8'))]));
  const findings: Finding[] = [];
  for (const v of report.violations) {
    if (typeof v?.ruleName !== 'string' || !Array.isArray(v.violatingResources) || v.violatingResources.length === 0) {
      fail(`unreadable violation ${JSON.stringify(v)?.slice(0, 300)}`);
    }
    for (const r of v.violatingResources) {
      const template = typeof r?.templatePath === 'string' ? templates.get(path.resolve(r.templatePath)) : undefined;
      if (!template) fail(`violation ${v.ruleName} names template ${r?.templatePath}, which it was not given`);
      const message = String(v.description ?? '').split('\n')[0];
      // cfn-guard may also report a clause at the document root (path ''): the validator then has no
      // logical id. Such a finding is on the template as a whole, and nothing can suppress it.
      const atRoot = r.resourceLogicalId === undefined && Array.isArray(r.locations) && r.locations.length > 0 && r.locations.every((l: unknown) => l === '');
      if (atRoot) {
        findings.push({ checker: 'ControlTower', rule: v.ruleName, resource: `${path.basename(r.templatePath)}:(template)`, message });
        continue;
      }
      const resource = template.Resources?.[r.resourceLogicalId];
      if (!resource) {
        fail(`violation ${v.ruleName} names ${r.resourceLogicalId}, which ${path.basename(r.templatePath)} does not have (locations ${JSON.stringify(r.locations)?.slice(0, 300)})`);
      }
      const finding = { checker: 'ControlTower', rule: v.ruleName, resource: `${path.basename(r.templatePath)}:${r.resourceLogicalId}`, message };
      const suppressed: string[] = resource.Metadata?.guard?.SuppressedRules ?? [];
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

/** Where a Python checker comes from; tests point `bin` at stand-ins to prove the run checks. */
export interface ToolOptions {
  /** The executable. @default the one in .tools/checkers/bin */
  readonly bin?: string;
}

const tail = (text: string, n = 1500) => (text.length > n ? `...${text.slice(-n)}` : text).trim();

/** The checks every Python checker's process must pass: it started, ended by itself, and did not crash. */
function checkProcess(res: SpawnSyncReturns<string>, fail: (reason: string) => never): number {
  if (res.error) fail(`it could not be run: ${res.error.message}`);
  if (res.status === null) fail(`it was killed by ${res.signal}`);
  if (/Traceback \(most recent call last\)/.test(res.stderr ?? '')) fail(`it crashed (exit ${res.status}):\n${tail(res.stderr)}`);
  return res.status;
}

/** cfn-lint's exit-status bits per match level (cfn-lint README, "Exit Codes"). */
const CFN_LINT_LEVEL_BITS: Record<string, number> = { Error: 2, Warning: 4, Informational: 8 };

/**
 * cfn-lint errors and warnings on templates (informational findings are left out).
 *
 * cfn-lint's exit status is the OR of 2 (error), 4 (warning) and 8 (informational) over what it
 * found, 0 if nothing; its own failures (bad arguments, configuration, an unhandled exception)
 * exit 1. The run is accepted only if the status is such a combination and equals the levels of
 * the JSON list it printed, stderr holds no traceback, every match is on a template it was given,
 * and no match says it could not parse, transform, configure or run a rule (E0000-E0003).
 */
export function cfnLintFindings(templatePaths: string[], options: ToolOptions = {}): Finding[] {
  const bin = options.bin ?? requireTool('cfn-lint');
  const fail = (reason: string): never => {
    throw new Error(`cfn-lint did not run cleanly on ${templatePaths.map((t) => path.basename(t)).join(', ')}: ${reason}`);
  };
  if (templatePaths.length === 0) fail('no template to lint');
  const res = spawnSync(bin, ['--format', 'json', '--', ...templatePaths], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const status = checkProcess(res, fail);
  if (status & 1 || status > 14) {
    fail(`exit status ${status} is not a combination of 2 (error), 4 (warning) and 8 (informational): cfn-lint itself failed\n${tail(res.stderr || res.stdout)}`);
  }
  let out: any;
  try {
    out = JSON.parse(res.stdout);
  } catch {
    fail(`its output is not JSON (exit ${status}): ${tail(res.stdout, 500) || '(nothing)'}${res.stderr ? `\nstderr: ${tail(res.stderr, 500)}` : ''}`);
  }
  if (!Array.isArray(out)) fail(`its output is not a JSON list of matches: ${tail(res.stdout, 300)}`);
  const given = new Set(templatePaths.map((t) => path.resolve(t)));
  let levels = 0;
  for (const m of out) {
    if (typeof m?.Rule?.Id !== 'string' || typeof m.Filename !== 'string' || !(m.Level in CFN_LINT_LEVEL_BITS)) {
      fail(`unreadable match ${JSON.stringify(m)?.slice(0, 300)}`);
    }
    if (!given.has(path.resolve(m.Filename))) fail(`a match on ${m.Filename}, which it was not given`);
    if (/^E000[0-3]$/.test(m.Rule.Id)) fail(`${m.Rule.Id} on ${path.basename(m.Filename)}: ${m.Rule.ShortDescription ?? ''}: ${m.Message}`);
    levels |= CFN_LINT_LEVEL_BITS[m.Level];
  }
  if (levels !== status) fail(`exit status ${status} does not match the levels of the ${out.length} match(es) it printed (${levels})`);
  return (out as any[]).filter((m) => m.Level !== 'Informational').map((m) => ({
    checker: 'cfn-lint',
    rule: `${m.Rule.Id} (${m.Level})`,
    resource: `${path.basename(m.Filename)}:${(m.Location?.Path ?? []).slice(0, 2).join('/')}`,
    message: m.Message,
  }));
}

/**
 * The number of resources checkov counts in a template: every entry of `Resources` whose value is
 * an object (checkov's CloudFormation graph makes one resource vertex per such entry).
 */
export function resourceCountOf(templatePath: string): number {
  const template = JSON.parse(fs.readFileSync(templatePath, 'utf-8'));
  const resources = template?.Resources;
  if (!resources || typeof resources !== 'object') return 0;
  return Object.values(resources).filter((r) => r !== null && typeof r === 'object' && !Array.isArray(r)).length;
}

/**
 * Failed checkov checks on templates; checks a resource skips in its `Metadata.checkov.skip` (with
 * a comment) go to `acknowledged` with the comment as the message.
 *
 * The run is accepted only if checkov exits 0 (no failed check) or 1 (failed checks) as its
 * report says, stderr holds no traceback, its output is JSON with a summary per report, no
 * parsing error, a resource count equal to the resources of the templates it was given, and
 * passed, failed and skipped lists as long as the summary says.
 */
export function checkovFindings(templatePaths: string[], acknowledged: Finding[] = [], options: ToolOptions = {}): Finding[] {
  const bin = options.bin ?? requireTool('checkov');
  const fail = (reason: string): never => {
    throw new Error(`checkov did not run cleanly on ${templatePaths.map((t) => path.basename(t)).join(', ')}: ${reason}`);
  };
  if (templatePaths.length === 0) fail('no template to check');
  // Not --quiet: quiet output drops the passed and skipped lists, and the skips are acknowledgements.
  const args = ['--compact', '--output', 'json', '--framework', 'cloudformation', '--skip-download', ...templatePaths.flatMap((t) => ['-f', t])];
  const res = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, BC_SKIP_MAPPING: 'TRUE', CHECKOV_RUN_SCA_PACKAGE_SCAN_V2: 'false' } });
  const status = checkProcess(res, fail);
  if (status !== 0 && status !== 1) fail(`exit status ${status} (checkov exits 0 without and 1 with failed checks)\n${tail(res.stderr || res.stdout)}`);
  let parsed: any;
  try {
    parsed = JSON.parse(res.stdout);
  } catch {
    fail(`its output is not JSON (exit ${status}): ${tail(res.stdout, 500) || '(nothing)'}${res.stderr ? `\nstderr: ${tail(res.stderr, 500)}` : ''}`);
  }
  const reports: any[] = Array.isArray(parsed) ? parsed : [parsed];
  if (reports.length === 0) fail('it printed no report');
  const names = new Set(templatePaths.map((t) => path.basename(t)));
  const findings: Finding[] = [];
  let resourceCount = 0;
  let failed = 0;
  for (const report of reports) {
    const summary = report?.summary;
    if (!summary || typeof summary !== 'object') fail(`a report without a summary (checkov scanned nothing?): ${JSON.stringify(report)?.slice(0, 300)}`);
    if (report.check_type !== 'cloudformation') fail(`a ${report.check_type} report, not cloudformation`);
    for (const k of ['passed', 'failed', 'skipped', 'parsing_errors', 'resource_count']) {
      if (!Number.isInteger(summary[k])) fail(`its summary has no ${k}: ${JSON.stringify(summary)}`);
    }
    if (summary.parsing_errors !== 0) {
      fail(`${summary.parsing_errors} parsing error(s)${Array.isArray(report.results?.parsing_errors) ? ` in ${report.results.parsing_errors.join(', ')}` : ''}`);
    }
    const lists: Record<string, any[]> = {};
    for (const [list, key] of [['passed_checks', 'passed'], ['failed_checks', 'failed'], ['skipped_checks', 'skipped']]) {
      const items = report.results?.[list] ?? [];
      if (!Array.isArray(items) || items.length !== summary[key]) fail(`its summary says ${summary[key]} ${key} but it lists ${Array.isArray(items) ? items.length : 'no'} ${list}`);
      for (const f of items) {
        if (typeof f?.check_id !== 'string' || typeof f.resource !== 'string' || !names.has(path.basename(String(f.file_path)))) {
          fail(`a ${list} entry on a template it was not given, or unreadable: ${JSON.stringify(f)?.slice(0, 300)}`);
        }
      }
      lists[list] = items;
    }
    resourceCount += summary.resource_count;
    failed += summary.failed;
    for (const f of lists.skipped_checks) {
      acknowledged.push({ checker: 'checkov', rule: f.check_id, resource: `${path.basename(f.file_path)}:${f.resource}`, message: String(f.check_result?.suppress_comment ?? f.check_name) });
    }
    for (const f of lists.failed_checks) {
      findings.push({ checker: 'checkov', rule: f.check_id, resource: `${path.basename(f.file_path)}:${f.resource}`, message: f.check_name });
    }
  }
  const expected = templatePaths.reduce((n, t) => n + resourceCountOf(t), 0);
  if (resourceCount !== expected) fail(`it counted ${resourceCount} resources, the templates have ${expected}`);
  if (status !== (failed > 0 ? 1 : 0)) fail(`exit status ${status} with ${failed} failed check(s)`);
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
