import * as fs from 'node:fs';
import * as path from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { CfnResource, IPolicyValidationContextBeta1, IPolicyValidationPluginBeta1, PolicyValidationPluginReportBeta1 } from 'aws-cdk-lib';
import { NagPack } from 'cdk-nag';
import { S3EncryptionChecks } from '../../src';
import { sarifSchemaErrors } from '../support/sarif-schema';
import { FIXTURES, readJson, run, scratch } from './fixtures/run';

const dir = scratch('cli-results-');
const FAST = ['--packs', 'S3Encryption', '--no-control-tower'];
const bucket = (extra: object = {}) => ({ Type: 'AWS::S3::Bucket', ...extra });
const write = (name: string, resources: object) => fs.writeFileSync(path.join(dir, name), JSON.stringify({ Resources: resources }, null, 2));

/** SARIF 2.1.0 as the schema requires it, and as code scanning needs it to place a result. */
function expectValidSarif(sarif: any) {
  expect(sarifSchemaErrors(sarif)).toEqual([]);
  expect(sarif.version).toBe('2.1.0');
  expect(sarif.$schema).toMatch(/sarif-2\.1\.0/);
  expect(Array.isArray(sarif.runs)).toBe(true);
  for (const r of sarif.runs) {
    expect(typeof r.tool.driver.name).toBe('string');
    expect(r.tool.driver.version).toMatch(/^\d+\.\d+\.\d+/);
    const ids = r.tool.driver.rules.map((x: any) => x.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of r.tool.driver.rules) {
      expect(typeof rule.id).toBe('string');
      expect(['none', 'note', 'warning', 'error']).toContain(rule.defaultConfiguration.level);
    }
    for (const inv of r.invocations) {
      expect(typeof inv.executionSuccessful).toBe('boolean');
      for (const n of inv.toolExecutionNotifications) {
        expect(typeof n.message.text).toBe('string');
        expect(['none', 'note', 'warning', 'error']).toContain(n.level);
      }
    }
    for (const res of r.results) {
      expect(typeof res.message.text).toBe('string');
      expect(ids[res.ruleIndex]).toBe(res.ruleId);
      expect(['none', 'note', 'warning', 'error']).toContain(res.level);
      for (const loc of res.locations) {
        expect(typeof loc.physicalLocation.artifactLocation.uri).toBe('string');
        if (loc.physicalLocation.region) expect(loc.physicalLocation.region.startLine).toBeGreaterThanOrEqual(1);
      }
      for (const v of Object.values(res.partialFingerprints)) expect(typeof v).toBe('string');
      if (res.baselineState) expect(['new', 'unchanged', 'updated', 'absent']).toContain(res.baselineState);
      for (const s of res.suppressions ?? []) expect(['inSource', 'external']).toContain(s.kind);
    }
  }
}

/** A pack that fails (outside any rule) on templates with a resource named Poison. */
class FailingPack extends NagPack {
  public readonly name = 'Failing';
  constructor() {
    super();
    this.packName = 'Failing';
  }
  protected checkResource(node: CfnResource): void {
    if (node.node.id === 'Poison') throw new Error('cannot read property Foo of undefined\n    at stack line');
  }
}

describe('a checker that fails on one template', () => {
  beforeAll(() => {
    write('poison.json', { Poison: bucket() });
    write('healthy.json', { Healthy: bucket() });
  });

  test('cdk-nag pack: reported for that template (stderr, table, JSON, SARIF notification), the other results still written, exit 2', () => {
    const r = run(dir, ['check', 'poison.json', 'healthy.json', '--no-control-tower', '--json', 'crash.json', '--sarif', 'crash.sarif'], {
      packs: () => [new FailingPack(), new S3EncryptionChecks()],
    });
    expect(r.code).toBe(2);
    expect(r.err).toContain('cdk-s3-encryption: Failing failed on poison.json: cannot read property Foo of undefined');
    expect(r.out).toContain('error  Failing failed on poison.json: cannot read property Foo of undefined (its results for this template are missing)');
    const json = readJson(path.join(dir, 'crash.json'));
    expect(json.errors).toEqual([{ checker: 'Failing', template: 'poison.json', message: 'cannot read property Foo of undefined' }]);
    expect(json.findings.map((f: any) => f.logicalId)).toEqual(expect.arrayContaining(['Poison', 'Healthy']));
    const sarif = readJson(path.join(dir, 'crash.sarif'));
    expectValidSarif(sarif);
    expect(sarif.runs[0].invocations[0].executionSuccessful).toBe(false);
    expect(sarif.runs[0].invocations[0].toolExecutionNotifications).toEqual([expect.objectContaining({
      level: 'error', descriptor: { id: 'Failing' }, message: { text: 'Failing failed on poison.json: cannot read property Foo of undefined' },
    })]);
    expect(sarif.runs[0].results.length).toBe(json.findings.length);
  });

  test('Control Tower: a validator failure on one template leaves the others checked', () => {
    const real = new CfnGuardValidator();
    const flaky: IPolicyValidationPluginBeta1 = {
      name: 'flaky',
      validate(ctx: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
        if (ctx.templatePaths.some((p) => p.endsWith('poison.json'))) throw new Error('\n        CfnGuardValidator plugin failed processing cfn-guard results.\n        Error: SyntaxError: Unexpected token');
        return real.validate(ctx);
      },
    };
    const r = run(dir, ['check', 'poison.json', 'healthy.json', '--packs', 'S3Encryption', '--json', 'ct.json', '--sarif', 'ct.sarif'], { loadControlTower: () => flaky });
    expect(r.code).toBe(2);
    expect(r.err).toContain('cdk-s3-encryption: ControlTower failed on poison.json: Error: SyntaxError: Unexpected token');
    const json = readJson(path.join(dir, 'ct.json'));
    expect(json.errors).toEqual([{ checker: 'ControlTower', template: 'poison.json', message: 'Error: SyntaxError: Unexpected token' }]);
    expect(json.findings.filter((f: any) => f.checker === 'ControlTower').map((f: any) => f.logicalId)).toContain('Healthy');
    expect(json.findings.filter((f: any) => f.checker === 'ControlTower').map((f: any) => f.logicalId)).not.toContain('Poison');
    expectValidSarif(readJson(path.join(dir, 'ct.sarif')));
  });

  test('without a failure the same run exits on its findings and SARIF says the execution succeeded', () => {
    const r = run(dir, ['check', 'healthy.json', ...FAST, '--sarif', 'ok.sarif']);
    expect(r.code).toBe(1);
    const sarif = readJson(path.join(dir, 'ok.sarif'));
    expect(sarif.runs[0].invocations[0]).toEqual({ executionSuccessful: true, toolExecutionNotifications: [] });
  });
});

describe('acknowledgements written in the template', () => {
  test('cdk-nag rules_to_suppress and cfn-guard SuppressedRules: acknowledged with the reason in the table and JSON, not counted', () => {
    const r = run(dir, ['check', path.join(FIXTURES, 'acknowledged.json'), '--packs', 'S3Encryption', '--json', 'ack.json']);
    const json = readJson(path.join(dir, 'ack.json'));
    const acked = json.acknowledged.map((a: any) => [a.logicalId, a.rule, a.reason]);
    expect(acked).toEqual(expect.arrayContaining([
      ['Archive', 'S3Encryption-S3BucketEncryptedWithCustomerManagedKey', 'Public data set: SSE-S3 is enough'],
      ['Archive', 'S3Encryption-S3SseCBlockedUnlessChosen', 'Objects arrive with SSE-C from the partner'],
      ['Archive', 's3_bucket_versioning_enabled_check', expect.stringContaining('SuppressedRules')],
    ]));
    const counted = json.findings.map((f: any) => `${f.logicalId} ${f.rule}`);
    expect(counted).not.toContain('Archive S3Encryption-S3BucketEncryptedWithCustomerManagedKey');
    expect(counted).not.toContain('Archive s3_bucket_versioning_enabled_check');
    // The other side: an acknowledgement of another rule does not hide this one, nor on another resource.
    expect(counted).toContain('Other S3Encryption-S3BucketEncryptedWithCustomerManagedKey');
    expect(counted).toContain('Other s3_bucket_versioning_enabled_check');
    expect(r.out).toMatch(/acknowledged\s+S3Encryption\s+S3Encryption-S3BucketEncryptedWithCustomerManagedKey\s+acknowledged\.json:Archive\s+reason: Public data set: SSE-S3 is enough/);
    expect(r.out).toContain(`${json.findings.length} finding(s) in 1 template(s)`);
  });

  test('applies_to of a rules_to_suppress entry covers only the details it lists', () => {
    class DetailPack extends NagPack {
      public readonly name = 'Detail';
      constructor() {
        super();
        this.packName = 'Detail';
      }
      protected checkResource(node: CfnResource): void {
        this.applyRule({ info: 'detail', explanation: 'e', level: 'Error' as any, node, rule: function Wildcards() { return ['Action::s3:*', 'Resource::*']; } });
      }
    }
    write('details.json', { W: bucket({ Metadata: { cdk_nag: { rules_to_suppress: [{ id: 'Detail-Wildcards', reason: 'read-only role', applies_to: ['Action::s3:*'] }] } } }) });
    run(dir, ['check', 'details.json', '--no-control-tower', '--json', 'details-out.json'], { packs: () => [new DetailPack()] });
    const json = readJson(path.join(dir, 'details-out.json'));
    expect(json.acknowledged.map((a: any) => a.rule)).toEqual(['Detail-Wildcards[Action::s3:*]']);
    expect(json.findings.map((f: any) => f.rule)).toEqual(['Detail-Wildcards[Resource::*]']);
  });
});

describe('--baseline and --fail-on', () => {
  test('only new findings fail; findings that disappeared are reported as fixed', () => {
    write('app.json', { Old: bucket(), Kept: bucket() });
    const first = run(dir, ['check', 'app.json', ...FAST, '--json', 'baseline.json']);
    expect(first.code).toBe(1);

    // Same findings: nothing new, exit 0.
    const same = run(dir, ['check', 'app.json', ...FAST, '--baseline', 'baseline.json', '--json', 'same.json']);
    expect(same.code).toBe(0);
    expect(readJson(path.join(dir, 'same.json')).findings.every((f: any) => f.baselineState === 'unchanged')).toBe(true);

    // Old fixed, New added: the new one fails, the old one is reported fixed.
    write('app.json', { Kept: bucket(), New: bucket() });
    const next = run(dir, ['check', 'app.json', ...FAST, '--baseline', 'baseline.json', '--json', 'next.json', '--sarif', 'next.sarif']);
    expect(next.code).toBe(1);
    const json = readJson(path.join(dir, 'next.json'));
    expect(json.findings.filter((f: any) => f.baselineState === 'new').map((f: any) => f.logicalId)).toEqual(expect.arrayContaining(['New']));
    expect(json.findings.filter((f: any) => f.baselineState === 'new').map((f: any) => f.logicalId)).not.toContain('Kept');
    expect(json.fixed.map((f: any) => f.logicalId)).toEqual(expect.arrayContaining(['Old']));
    expect(json.fixed.map((f: any) => f.logicalId)).not.toContain('Kept');
    expect(next.out).toMatch(/fixed\s+S3Encryption\s+\S+\s+app\.json:Old\s+\(in the baseline, gone now\)/);
    expect(next.out).toMatch(/error\s+new\s+S3Encryption\s+S3Encryption-S3BucketEncryptedWithCustomerManagedKey\s+app\.json:New/);
    expect(next.out).toMatch(/error\s+baseline\s+S3Encryption\s+S3Encryption-S3BucketEncryptedWithCustomerManagedKey\s+app\.json:Kept/);
    const sarif = readJson(path.join(dir, 'next.sarif'));
    expectValidSarif(sarif);
    expect(new Set(sarif.runs[0].results.map((x: any) => x.baselineState))).toEqual(new Set(['new', 'unchanged']));
  });

  test('a baseline that is not a report of this command exits 2 naming it', () => {
    fs.writeFileSync(path.join(dir, 'notreport.json'), '{"results": []}');
    const r = run(dir, ['check', 'app.json', ...FAST, '--baseline', 'notreport.json']);
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual(['cdk-s3-encryption: notreport.json: is not a JSON report of cdk-s3-encryption check: no findings array']);
    expect(run(dir, ['check', 'app.json', ...FAST, '--baseline', 'nobaseline.json']).errLines).toEqual(['cdk-s3-encryption: nobaseline.json: no such file or directory']);
  });

  test('cdk-nag warnings are warnings: they fail only with --fail-on warning', () => {
    const file = path.join(FIXTURES, 'dynamodb-warning.json');
    const r = run(dir, ['check', file, '--packs', 'AwsSolutions', '--no-control-tower', '--json', 'warn.json', '--sarif', 'warn.sarif']);
    const json = readJson(path.join(dir, 'warn.json'));
    expect(json.findings).toEqual([expect.objectContaining({ rule: 'AwsSolutions-DDB3', level: 'warning', logicalId: 'Table' })]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/warning\s+AwsSolutions\s+AwsSolutions-DDB3/);
    expect(readJson(path.join(dir, 'warn.sarif')).runs[0].results[0].level).toBe('warning');
    expect(run(dir, ['check', file, '--packs', 'AwsSolutions', '--no-control-tower', '--fail-on', 'warning']).code).toBe(1);
    // Errors fail with either setting.
    write('err.json', { E: bucket() });
    expect(run(dir, ['check', 'err.json', ...FAST, '--fail-on', 'error']).code).toBe(1);
  });
});

describe('SARIF', () => {
  test('JSON template: startLine of each resource\'s logical id, stable rule ids, tool version, fingerprints', () => {
    const text = '{\n  "Description": "Resources: not this one",\n  "Resources": {\n    "First": { "Type": "AWS::S3::Bucket" },\n    "Second": {\n      "Type": "AWS::S3::Bucket"\n    }\n  }\n}\n';
    fs.writeFileSync(path.join(dir, 'lines.json'), text);
    run(dir, ['check', 'lines.json', ...FAST, '--sarif', 'lines.sarif', '--json', 'lines-report.json']);
    const sarif = readJson(path.join(dir, 'lines.sarif'));
    expectValidSarif(sarif);
    const line = (id: string) => sarif.runs[0].results.find((x: any) => x.properties.logicalId === id).locations[0].physicalLocation.region.startLine;
    expect(line('First')).toBe(4);
    expect(line('Second')).toBe(5);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect(sarif.runs[0].tool.driver.version).toBe(require('../../package.json').version);
    const ids = sarif.runs[0].tool.driver.rules.map((x: any) => x.id);
    expect(ids).toEqual([...ids].sort());
    expect(ids.every((id: string) => !/First|Second/.test(id))).toBe(true);
    const fps = sarif.runs[0].results.map((x: any) => x.partialFingerprints['cdkS3EncryptionFinding/v1']);
    expect(new Set(fps).size).toBe(fps.length);
    // Fingerprints do not depend on the folder: the same template elsewhere gives the same ones.
    fs.mkdirSync(path.join(dir, 'elsewhere'));
    fs.writeFileSync(path.join(dir, 'elsewhere', 'lines.json'), text);
    run(dir, ['check', 'elsewhere/lines.json', ...FAST, '--sarif', 'elsewhere.sarif']);
    expect(readJson(path.join(dir, 'elsewhere.sarif')).runs[0].results.map((x: any) => x.partialFingerprints['cdkS3EncryptionFinding/v1'])).toEqual(fps);
    expect(readJson(path.join(dir, 'lines-report.json')).findings.find((f: any) => f.logicalId === 'Second').line).toBe(5);
  });

  test('YAML template: startLine of the resource in the source file', () => {
    run(dir, ['check', path.join(FIXTURES, 'bucket-kms-trail.yaml'), ...FAST, '--sarif', 'yaml.sarif']);
    const sarif = readJson(path.join(dir, 'yaml.sarif'));
    expectValidSarif(sarif);
    const source = fs.readFileSync(path.join(FIXTURES, 'bucket-kms-trail.yaml'), 'utf8').split('\n');
    const plain = sarif.runs[0].results.find((x: any) => x.properties.logicalId === 'PlainBucket');
    const startLine = plain.locations[0].physicalLocation.region.startLine;
    expect(source[startLine - 1]).toBe('  PlainBucket:');
    expect(plain.level).toBe('error');
  });

  test('a minified JSON template puts every resource on line 1', () => {
    write('min.json', { A: bucket() });
    fs.writeFileSync(path.join(dir, 'min.json'), JSON.stringify({ Resources: { A: bucket() } }));
    run(dir, ['check', 'min.json', ...FAST, '--sarif', 'min.sarif']);
    expect(readJson(path.join(dir, 'min.sarif')).runs[0].results[0].locations[0].physicalLocation.region).toEqual({ startLine: 1 });
  });
});

describe('the SARIF schema check itself', () => {
  test('refuses what SARIF 2.1.0 forbids: a wrong version, a result without a message, an unknown level, a property the schema does not define', () => {
    write('schema.json', { Plain: bucket() });
    const r = run(dir, ['check', 'schema.json', ...FAST, '--sarif', 'schema.sarif']);
    expect(r.code).toBe(1);
    const good = readJson(path.join(dir, 'schema.sarif'));
    expect(sarifSchemaErrors(good)).toEqual([]);
    const broken = (f: (s: any) => void) => { const s = JSON.parse(JSON.stringify(good)); f(s); return sarifSchemaErrors(s); };
    expect(broken((s) => { s.version = '2.0.0'; }).join('\n')).toMatch(/^\/version must be equal to one of the allowed values/m);
    expect(broken((s) => { delete s.runs[0].results[0].message; }).join('\n')).toMatch(/^\/runs\/0\/results\/0 must have required property 'message'/m);
    expect(broken((s) => { s.runs[0].results[0].level = 'fatal'; }).join('\n')).toMatch(/^\/runs\/0\/results\/0\/level must be equal to one of the allowed values/m);
    expect(broken((s) => { s.runs[0].tool.driver.rulez = []; }).join('\n')).toMatch(/^\/runs\/0\/tool\/driver must NOT have additional properties/m);
    expect(broken((s) => { s.runs[0].results[0].locations[0].physicalLocation.region.startLine = 0; }).join('\n')).toMatch(/startLine must be >= 1/);
  });
});
