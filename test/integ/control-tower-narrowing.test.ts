/**
 * `cdk-s3-encryption check` runs each template with only the Control Tower rule files that report
 * on its resource types (src/compliance/cli/control-tower.ts). Here the whole set of 237 rule files
 * runs too, as @cdklabs/cdk-validator-cfnguard runs it, on every stack of the example app and on
 * the public templates, and every result must be the same: the narrowing changes the time only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App } from 'aws-cdk-lib';
import { buildExampleApp } from '../../examples/app';
import { readJson, run, scratch } from '../compliance/fixtures/run';
import { PUBLIC_TEMPLATES, publicTemplate } from '../support/public-templates';

const dir = scratch('ct-narrowing-');

/** Every result of one run as comparable lines: findings, acknowledged findings and checker failures. */
function results(args: string[], whole: boolean): { code: number; lines: string[] } {
  const report = `report-${whole ? 'whole' : 'narrowed'}.json`;
  const r = run(dir, [...args, '--packs', 'S3Encryption', '--json', report], whole ? { loadControlTower: () => new CfnGuardValidator() } : {});
  const json = readJson(path.join(dir, report));
  const line = (f: any) => `${f.checker} ${f.rule} ${f.level} ${f.template}:${f.logicalId} ${f.message}`;
  return {
    code: r.code,
    lines: [...json.findings.map(line), ...json.acknowledged.map((f: any) => `acknowledged ${line(f)}`), ...json.errors.map((e: any) => `failed ${e.checker} ${e.template} ${e.message}`)].sort(),
  };
}

test('the example app: every stack, the same Control Tower results with the narrowed and the whole set', () => {
  const outdir = path.join(dir, 'example.out');
  const app = new App({ outdir });
  buildExampleApp(app);
  app.synth();
  const narrowed = results(['check', outdir], false);
  const whole = results(['check', outdir], true);
  expect(narrowed).toEqual(whole);
  // The comparison is not empty: the example app's log buckets have acknowledged Control Tower findings.
  expect(whole.lines.filter((l) => l.startsWith('acknowledged ControlTower')).length).toBeGreaterThan(0);
});

test.each(PUBLIC_TEMPLATES.filter((t) => t.loads))('public template %s: the same results with the narrowed and the whole set', (t) => {
  const file = publicTemplate(t.file);
  const narrowed = results(['check', file], false);
  const whole = results(['check', file], true);
  expect(narrowed).toEqual(whole);
  expect(whole.lines.filter((l) => l.startsWith('ControlTower') || l.startsWith('failed ControlTower')).length).toBeGreaterThan(0);
  expect(fs.existsSync(file)).toBe(true);
});
