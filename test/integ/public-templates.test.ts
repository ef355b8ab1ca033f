/**
 * `cdk-s3-encryption check` on public CloudFormation templates that nobody here wrote
 * (test/support/public-templates.ts): findings placed on the lines of the source file, a refused
 * template named with its reason, and a checker failing on one template reported for it alone.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readJson, run } from '../compliance/fixtures/run';
import { PUBLIC_TEMPLATES, PUBLIC_TEMPLATES_DIR, publicTemplate } from '../support/public-templates';

const rel = (file: string) => path.join('public-templates', file);
const cwd = path.dirname(PUBLIC_TEMPLATES_DIR);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'public-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
const out = (name: string) => path.join(scratch, name);

test('the licence of the public templates is installed with them', () => {
  expect(fs.readFileSync(path.join(PUBLIC_TEMPLATES_DIR, 'LICENSE'), 'utf8')).toMatch(/^MIT No Attribution/);
  for (const t of PUBLIC_TEMPLATES) publicTemplate(t.file);
});

test.each(PUBLIC_TEMPLATES.filter((t) => t.loads && !t.crashes))('%s: findings from every checker, each on the line of its resource in the source file', (t) => {
  const sarifFile = out(`${path.basename(t.file)}.sarif`);
  const jsonFile = out(`${path.basename(t.file)}.json`);
  const r = run(cwd, ['check', rel(t.file), '--json', jsonFile, '--sarif', sarifFile]);
  expect(r.err).not.toMatch(/failed on/);
  expect(r.code).toBe(1);
  const json = readJson(jsonFile);
  expect(json.errors).toEqual([]);
  const checkers = new Set(json.findings.map((f: any) => f.checker));
  for (const c of ['AwsSolutions', 'NIST.800.53.R5', 'ControlTower']) expect(checkers).toContain(c);
  const lines = fs.readFileSync(publicTemplate(t.file), 'utf8').split('\n');
  const sarif = readJson(sarifFile);
  expect(sarif.runs[0].results.length).toBe(json.findings.length + json.acknowledged.length);
  for (const res of sarif.runs[0].results) {
    const logicalId = res.properties.logicalId;
    const line = lines[res.locations[0].physicalLocation.region.startLine - 1];
    // The line holds the resource's logical id as a key: `  Id:` in YAML, `"Id": {` in JSON.
    expect(line).toMatch(new RegExp(`^\\s*"?${logicalId}"?\\s*:`));
  }
});

test('a template aws-cdk-lib cannot read is refused, exit 2, one line naming the file and the reason', () => {
  const refused = PUBLIC_TEMPLATES.find((t) => !t.loads)!;
  const r = run(cwd, ['check', rel(refused.file), '--json', out('refused.json')]);
  expect(r.code).toBe(2);
  expect(r.errLines).toEqual([`cdk-s3-encryption: ${rel(refused.file)}: cannot be loaded as a CloudFormation template: Expected 'true' or 'false' for boolean value, got: 'True'`]);
  expect(fs.existsSync(out('refused.json'))).toBe(false);
});

test('the Control Tower validator failing on one template: reported for it, exit 2, every other result still written', () => {
  const crashing = PUBLIC_TEMPLATES.find((t) => t.crashes)!;
  const healthy = PUBLIC_TEMPLATES.find((t) => t.loads && !t.crashes)!;
  const r = run(cwd, ['check', rel(crashing.file), rel(healthy.file), '--json', out('mixed.json'), '--sarif', out('mixed.sarif')]);
  expect(r.code).toBe(2);
  expect(r.err).toContain(`cdk-s3-encryption: ${crashing.crashes!.replace('public/', `${rel('public')}/`)}`);
  const json = readJson(out('mixed.json'));
  expect(json.errors.map((e: any) => e.template)).toEqual([rel(crashing.file)]);
  const ctOn = (file: string) => json.findings.filter((f: any) => f.checker === 'ControlTower' && f.template === rel(file)).length;
  expect(ctOn(healthy.file)).toBeGreaterThan(0);
  expect(ctOn(crashing.file)).toBe(0);
  // cdk-nag still checked the template the validator failed on.
  expect(json.findings.some((f: any) => f.checker === 'AwsSolutions' && f.template === rel(crashing.file))).toBe(true);
  const sarif = readJson(out('mixed.sarif'));
  expect(sarif.runs[0].invocations[0].executionSuccessful).toBe(false);
});
