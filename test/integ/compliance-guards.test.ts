/**
 * The compliance harness refuses a checker run it cannot believe: each guard of
 * test/support/compliance.ts is shown to pass on a real run and to fail on a crashed, silent or
 * inconsistent one (stand-in executables and validators play the broken checkers).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { NagMessageLevel, NagPack, NagRuleCompliance } from 'cdk-nag';
import {
  cfnLintFindings, checkovFindings, controlTowerFindings, expectedNagPackNames, nagPacks, resourceCountOf, runNagPacks,
} from '../support/compliance';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compliance-guards-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A stack with a bucket aws-cdk-lib's defaults leave open to findings in every checker. */
function bucketStack(): Stack {
  const stack = new Stack(new App(), 'Guarded', { env: { account: '123456789012', region: 'us-east-1' } });
  new s3.Bucket(stack, 'Bucket', { versioned: true });
  return stack;
}
const template = path.join(dir, 'Guarded.template.json');
fs.writeFileSync(template, JSON.stringify((bucketStack().node.root as App).synth().getStackByName('Guarded').template, null, 1));
const broken = path.join(dir, 'Broken.template.json');
fs.writeFileSync(broken, '{ "Resources": {');

let fakes = 0;
/** An executable that prints the given stdout and stderr and exits with the given status. */
function fakeTool(stdout: string, stderr: string, status: number): string {
  fakes += 1;
  const base = path.join(dir, `fake-${fakes}`);
  fs.writeFileSync(`${base}.out`, stdout);
  fs.writeFileSync(`${base}.err`, stderr);
  fs.writeFileSync(base, `#!/bin/sh\ncat '${base}.out'\ncat '${base}.err' >&2\nexit ${status}\n`, { mode: 0o755 });
  return base;
}
const TRACEBACK = 'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\nKeyError: \'Resources\'\n';

describe('cfn-lint', () => {
  test('a real run is accepted and reports what it found', () => {
    expect(Array.isArray(cfnLintFindings([template]))).toBe(true);
  });

  test('a template it cannot parse fails the run (E0000), it is not a finding', () => {
    expect(() => cfnLintFindings([broken])).toThrow(/cfn-lint did not run cleanly on Broken.template.json: E0000/);
  });

  test('exit status 1 (cfn-lint itself failed) fails the run', () => {
    expect(() => cfnLintFindings([template], { bin: fakeTool('', 'usage: cfn-lint ...\n', 1) })).toThrow(/exit status 1 is not a combination of 2 \(error\), 4 \(warning\) and 8 \(informational\)/);
  });

  test('a traceback on stderr fails the run', () => {
    expect(() => cfnLintFindings([template], { bin: fakeTool('[]', TRACEBACK, 0) })).toThrow(/cfn-lint did not run cleanly on Guarded.template.json: it crashed/);
  });

  test('output that is not JSON fails the run, and so does no output', () => {
    expect(() => cfnLintFindings([template], { bin: fakeTool('Segmentation fault', '', 0) })).toThrow(/its output is not JSON/);
    expect(() => cfnLintFindings([template], { bin: fakeTool('', '', 0) })).toThrow(/its output is not JSON \(exit 0\): \(nothing\)/);
  });

  test('an exit status that contradicts the printed matches fails the run', () => {
    expect(() => cfnLintFindings([template], { bin: fakeTool('[]', '', 4) })).toThrow(/exit status 4 does not match the levels of the 0 match\(es\) it printed \(0\)/);
    const warning = [{ Filename: template, Level: 'Warning', Rule: { Id: 'W1' }, Location: { Path: ['Resources', 'X'] }, Message: 'w' }];
    expect(() => cfnLintFindings([template], { bin: fakeTool(JSON.stringify(warning), '', 0) })).toThrow(/exit status 0 does not match the levels of the 1 match\(es\) it printed \(4\)/);
    expect(cfnLintFindings([template], { bin: fakeTool(JSON.stringify(warning), '', 4) })).toEqual([
      { checker: 'cfn-lint', rule: 'W1 (Warning)', resource: 'Guarded.template.json:Resources/X', message: 'w' },
    ]);
  });

  test('a match on a template it was not given fails the run', () => {
    const other = [{ Filename: '/elsewhere.json', Level: 'Error', Rule: { Id: 'E1' }, Message: 'e' }];
    expect(() => cfnLintFindings([template], { bin: fakeTool(JSON.stringify(other), '', 2) })).toThrow(/a match on \/elsewhere.json, which it was not given/);
  });

  test('a missing executable fails the run', () => {
    expect(() => cfnLintFindings([template], { bin: path.join(dir, 'no-such-cfn-lint') })).toThrow(/it could not be run/);
  });
});

describe('checkov', () => {
  const resources = resourceCountOf(template);
  const report = (summary: Record<string, unknown>, results: Record<string, unknown[]> = {}) => JSON.stringify({
    check_type: 'cloudformation',
    results: { passed_checks: [], failed_checks: [], skipped_checks: [], parsing_errors: [], ...results },
    summary: { passed: 0, failed: 0, skipped: 0, parsing_errors: 0, resource_count: resources, checkov_version: '3', ...summary },
  });

  test('a real run is accepted: it counts the resources of the template', () => {
    expect(resources).toBe(Object.keys(JSON.parse(fs.readFileSync(template, 'utf-8')).Resources).length);
    expect(checkovFindings([template]).length).toBeGreaterThan(0);
  });

  test('a template it cannot parse fails the run', () => {
    expect(() => checkovFindings([broken])).toThrow(/checkov did not run cleanly on Broken.template.json: 1 parsing error/);
  });

  test('a resource count other than the templates\' fails the run', () => {
    expect(() => checkovFindings([template], [], { bin: fakeTool(report({ resource_count: resources - 1 }), '', 0) }))
      .toThrow(new RegExp(`it counted ${resources - 1} resources, the templates have ${resources}`));
  });

  test('a report without a summary fails the run (checkov prints a bare summary when it scanned nothing)', () => {
    const bare = JSON.stringify({ passed: 0, failed: 0, skipped: 0, parsing_errors: 0, resource_count: 0, checkov_version: '3' });
    expect(() => checkovFindings([template], [], { bin: fakeTool(bare, '', 0) })).toThrow(/a report without a summary/);
  });

  test('an exit status other than 0 or 1, or one that contradicts the failed checks, fails the run', () => {
    expect(() => checkovFindings([template], [], { bin: fakeTool(report({}), '', 2) })).toThrow(/exit status 2 \(checkov exits 0 without and 1 with failed checks\)/);
    const failed = { check_id: 'CKV_AWS_1', check_name: 'n', resource: 'AWS::S3::Bucket.B', file_path: `/${path.basename(template)}` };
    expect(() => checkovFindings([template], [], { bin: fakeTool(report({ failed: 1 }, { failed_checks: [failed] }), '', 0) })).toThrow(/exit status 0 with 1 failed check/);
    expect(checkovFindings([template], [], { bin: fakeTool(report({ failed: 1 }, { failed_checks: [failed] }), '', 1) })).toEqual([
      { checker: 'checkov', rule: 'CKV_AWS_1', resource: 'Guarded.template.json:AWS::S3::Bucket.B', message: 'n' },
    ]);
  });

  test('lists that disagree with the summary fail the run', () => {
    expect(() => checkovFindings([template], [], { bin: fakeTool(report({ failed: 2 }), '', 1) })).toThrow(/its summary says 2 failed but it lists 0 failed_checks/);
  });

  test('a traceback, or output that is not JSON, fails the run', () => {
    expect(() => checkovFindings([template], [], { bin: fakeTool(report({}), TRACEBACK, 0) })).toThrow(/it crashed/);
    expect(() => checkovFindings([template], [], { bin: fakeTool('', 'killed\n', 1) })).toThrow(/its output is not JSON \(exit 1\): \(nothing\)/);
  });
});

describe('Control Tower (cfn-guard validator)', () => {
  test('a real run is accepted and finds the default bucket\'s violations', () => {
    expect(controlTowerFindings([template]).length).toBeGreaterThan(0);
  });

  test('a validator that throws, or returns nothing usable, fails the run', () => {
    expect(() => controlTowerFindings([template], [], { validate: () => { throw new Error('Command exited with status 101'); } }))
      .toThrow(/Control Tower \(cfn-guard\) did not run on Guarded.template.json: the validator threw: Command exited with status 101/);
    expect(() => controlTowerFindings([template], [], { validate: () => undefined })).toThrow(/its report has no success flag and violation list/);
    expect(() => controlTowerFindings([template], [], { validate: () => ({ success: true }) })).toThrow(/its report has no success flag and violation list/);
  });

  test('a report whose success flag contradicts its violations, or names what it was not given, fails the run', () => {
    const violation = (templatePath: string, resourceLogicalId: string) => ({ ruleName: 'r', description: 'd', violatingResources: [{ templatePath, resourceLogicalId, locations: [] }] });
    const logicalId = Object.keys(JSON.parse(fs.readFileSync(template, 'utf-8')).Resources)[0];
    expect(() => controlTowerFindings([template], [], { validate: () => ({ success: true, violations: [violation(template, logicalId)] }) })).toThrow(/says success=true with 1 violation/);
    expect(() => controlTowerFindings([template], [], { validate: () => ({ success: false, violations: [] }) })).toThrow(/says success=false with 0 violation/);
    expect(() => controlTowerFindings([template], [], { validate: () => ({ success: false, violations: [violation('/elsewhere.json', logicalId)] }) })).toThrow(/names template \/elsewhere.json, which it was not given/);
    expect(() => controlTowerFindings([template], [], { validate: () => ({ success: false, violations: [violation(template, 'Nope')] }) })).toThrow(/names Nope, which Guarded.template.json does not have/);
    expect(controlTowerFindings([template], [], { validate: () => ({ success: false, violations: [violation(template, logicalId)] }) })).toEqual([
      { checker: 'ControlTower', rule: 'r', resource: `Guarded.template.json:${logicalId}`, message: 'd' },
    ]);
  });

  test('a clause cfn-guard reports at the document root is a finding on the template; without a logical id elsewhere the run fails', () => {
    const unnamed = (locations: string[]) => ({ success: false, violations: [{ ruleName: 'r', description: 'd', violatingResources: [{ templatePath: template, locations }] }] });
    expect(controlTowerFindings([template], [], { validate: () => unnamed(['', '']) })).toEqual([
      { checker: 'ControlTower', rule: 'r', resource: 'Guarded.template.json:(template)', message: 'd' },
    ]);
    expect(() => controlTowerFindings([template], [], { validate: () => unnamed(['/Resources/X/Properties']) })).toThrow(/names undefined, which Guarded.template.json does not have/);
  });
});

describe('cdk-nag packs', () => {
  class NoRules extends NagPack {
    public readonly name: string = 'NoRules';
    constructor() { super(); this.packName = 'NoRules'; }
    protected checkResource(): void { /* applies nothing */ }
  }
  class NoWalk extends NoRules {
    public validateScope() { return { success: true, violations: [] }; }
  }
  class ThrowingRule extends NagPack {
    public readonly name = 'ThrowingRule';
    constructor() { super(); this.packName = 'ThrowingRule'; }
    protected checkResource(node: CfnResource): void {
      this.applyRule({
        info: 'i',
        explanation: 'e',
        level: NagMessageLevel.ERROR,
        node,
        rule: function readsAnIntrinsic(): NagRuleCompliance { throw new Error('cannot resolve'); },
      });
    }
  }

  test('the standard packs and S3EncryptionChecks run their rules on every CfnResource', () => {
    const stack = bucketStack();
    const { runs, findings } = runNagPacks(stack, nagPacks(true), expectedNagPackNames(true));
    const resources = stack.node.findAll().filter((c) => CfnResource.isCfnResource(c)).length;
    expect(runs.map((r) => [r.pack, r.resources])).toEqual(expectedNagPackNames(true).map((p) => [p, resources]));
    for (const r of runs) expect(r.rulesApplied).toBeGreaterThan(0);
    expect(findings.length).toBeGreaterThan(0);
  });

  test('a pack missing from the packs that ran fails the run, naming it', () => {
    expect(() => runNagPacks(bucketStack(), nagPacks(true).slice(1), expectedNagPackNames(true))).toThrow(/the packs that ran are \[HIPAA.Security, NIST.800.53.R5, PCI.DSS.321, S3Encryption\], not .*; missing AwsSolutions/);
  });

  test('a pack that applies no rule, or does not walk the tree, fails the run', () => {
    expect(() => runNagPacks(bucketStack(), [new NoRules()])).toThrow(/cdk-nag pack NoRules did not run on Guarded: it applied no rule to the \d+ CfnResources/);
    expect(() => runNagPacks(bucketStack(), [new NoWalk()])).toThrow(/cdk-nag pack NoRules did not run on Guarded: it checked 0 of the \d+ CfnResources/);
  });

  test('a rule that throws instead of deciding fails the run', () => {
    expect(() => runNagPacks(bucketStack(), [new ThrowingRule()])).toThrow(/rule ThrowingRule-readsAnIntrinsic threw on Guarded\/Bucket\/Resource instead of deciding/);
  });
});
