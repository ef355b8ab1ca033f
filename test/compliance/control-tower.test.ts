/**
 * The Control Tower controls narrowed per template: which rule files are kept for which resource
 * types. test/integ/control-tower-narrowing.test.ts proves the findings unchanged on real templates.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FIXTURES, run, scratch } from './fixtures/run';
import { ControlTowerControls, indexRuleFiles, resourceTypesOf, ruleFilesFor, typesOfRuleFile } from '../../src/compliance/cli/control-tower';

const RULES_DIR = path.join(path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json')), 'rules', 'control-tower', 'cfn-guard');

describe('the types a rule file reports on', () => {
  test('the "Reports on:" block of the header, whatever else the rule mentions', () => {
    const text = [
      '# Rule Identifier:', '#   x', '#', '# Reports on:', '#   AWS::Logs::LogGroup', '#    AWS::Logs::Destination', '#', '# Evaluates:', '#   AWS CloudFormation',
      'let T = "AWS::Logs::LogGroup"', 'check_local_references(%INPUT_DOCUMENT, KmsKeyId, "AWS::KMS::Key")',
    ].join('\n');
    expect([...typesOfRuleFile(text)].sort()).toEqual(['AWS::Logs::Destination', 'AWS::Logs::LogGroup']);
  });

  test('without a header, every type it mentions; with no type at all, none (kept for every template)', () => {
    expect([...typesOfRuleFile('let A = "AWS::S3::Bucket"\nlet B = "AWS::KMS::Key"')].sort()).toEqual(['AWS::KMS::Key', 'AWS::S3::Bucket']);
    expect([...typesOfRuleFile('# Reports on:\n#   None\n#\nlet A = "AWS::IAM::Role"')]).toEqual(['AWS::IAM::Role']);
    expect(typesOfRuleFile('rule r { Resources.*.Properties exists }').size).toBe(0);
  });

  test('a rule is kept when one of its types is in the template, or when it names none', () => {
    const rules = [
      { file: 's3', types: new Set(['AWS::S3::Bucket']) },
      { file: 'logs', types: new Set(['AWS::Logs::LogGroup', 'AWS::Logs::Destination']) },
      { file: 'any', types: new Set<string>() },
    ];
    expect(ruleFilesFor(rules, new Set(['AWS::S3::Bucket', 'AWS::KMS::Key']))).toEqual(['s3', 'any']);
    expect(ruleFilesFor(rules, new Set(['AWS::Logs::Destination']))).toEqual(['logs', 'any']);
    expect(ruleFilesFor(rules.slice(0, 2), new Set(['AWS::KMS::Alias']))).toEqual([]);
  });

  test('resource types of a template: Type strings of its resources only', () => {
    expect([...resourceTypesOf({ Resources: { A: { Type: 'AWS::S3::Bucket' }, B: { Type: 'AWS::S3::Bucket' }, C: { Type: 7 }, D: null } })]).toEqual(['AWS::S3::Bucket']);
    expect(resourceTypesOf({}).size).toBe(0);
    expect(resourceTypesOf(null).size).toBe(0);
  });
});

describe('the installed controls', () => {
  const rules = indexRuleFiles(RULES_DIR);

  test('every rule file of @cdklabs/cdk-validator-cfnguard is indexed, each with the types of its header', () => {
    const onDisk: string[] = [];
    const walk = (d: string) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : e.name.endsWith('.guard') && onDisk.push(path.join(d, e.name))));
    walk(RULES_DIR);
    expect(rules.map((r) => r.file).sort()).toEqual(onDisk.sort());
    expect(rules.length).toBeGreaterThan(200);
    const s3 = rules.find((r) => r.file.endsWith(path.join('s3', 'ct-s3-pr-1.guard')))!;
    expect([...s3.types]).toEqual(['AWS::S3::Bucket']);
    expect(rules.filter((r) => r.types.size === 0)).toEqual([]);
  });

  test('a template of KMS keys gets the KMS controls only; one of buckets, keys and a trail gets each of theirs', () => {
    const kms = ruleFilesFor(rules, new Set(['AWS::KMS::Key', 'AWS::KMS::Alias'])).map((f) => path.relative(RULES_DIR, f));
    expect(kms).toEqual(['keymanagementservice/ct-kms-pr-1.guard', 'keymanagementservice/ct-kms-pr-2.guard', 'keymanagementservice/ct-kms-pr-3.guard']);
    const mixed = ruleFilesFor(rules, new Set(['AWS::S3::Bucket', 'AWS::KMS::Key', 'AWS::CloudTrail::Trail'])).map((f) => path.dirname(path.relative(RULES_DIR, f)));
    expect([...new Set(mixed)].sort()).toEqual(['cloudtrail', 'keymanagementservice', 's3']);
  });

  test('one validator per distinct set of rule files, none when no control applies', () => {
    const ct = ControlTowerControls.load()!;
    const a = ct.forTypes(new Set(['AWS::KMS::Key']));
    expect(a).toBeDefined();
    expect(ct.forTypes(new Set(['AWS::KMS::Key', 'AWS::KMS::Alias']))).toBe(a);
    expect(ct.forTypes(new Set(['AWS::S3::Bucket']))).not.toBe(a);
    expect(ct.forTypes(new Set(['AWS::SSM::Parameter']))).toBeUndefined();
  });
});

describe('the command with narrowed controls', () => {
  const dir = scratch('ct-narrow-');

  test('a template no control reports on is said so per template, and is still checked by cdk-nag', () => {
    fs.writeFileSync(path.join(dir, 'param.json'), JSON.stringify({ Resources: { P: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: 'v' } } } }));
    const r = run(dir, ['check', 'param.json', '--packs', 'S3Encryption']);
    expect(r.code).toBe(0);
    expect(r.errLines).toContain('[1/1] param.json: no Control Tower control reports on its resource types');
  });

  test('the controls that apply still find: an unencrypted bucket fails the S3 controls', () => {
    const r = run(dir, ['check', path.join(FIXTURES, 'bucket-kms-trail.yaml'), '--packs', 'S3Encryption', '--json', 'ct.json']);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'ct.json'), 'utf8'));
    const ct = json.findings.filter((f: any) => f.checker === 'ControlTower');
    expect(ct.map((f: any) => f.rule)).toContain('s3_bucket_logging_enabled_check');
    expect(r.code).toBe(1);
  });
});
