/**
 * cdk-nag 3's own packs as aws-cdk-lib validation plugins, the form the README shows: from the peer
 * floor up, aws-cdk-lib hands plugins the construct tree (IPolicyValidationContext.appConstruct),
 * and a NagPack reports findings. Before it (2.257.0 and older) the pack reported a failure with no
 * findings ("NagPack requires a construct tree"), so the floor is the release that has it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EncryptedBucket, EncryptionAuditTrail } from '../../src';

/** Synthesizes with the plugin; returns whether synth failed and the plugin's report. */
function validate(build: (stack: Stack) => void): { failed: boolean; report: any } {
  const app = new App();
  build(new Stack(app, 'S', { env: { account: '111111111111', region: 'us-east-1' } }));
  Validations.of(app).addPlugins(new AwsSolutionsChecks());
  const before = process.exitCode;
  const errorLog = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  let failed = false;
  try {
    app.synth();
    failed = process.exitCode === 1;
  } catch (e) {
    // Newer aws-cdk-lib releases throw ValidationFailed; older ones set the exit code.
    if (!/ValidationFailed/.test(`${(e as Error).name} ${(e as Error).message}`)) throw e;
    failed = true;
  } finally {
    process.exitCode = before;
    errorLog.mockRestore();
  }
  const file = ['policy-validation-report.json', 'validation-report.json'].map((f) => path.join(app.outdir, f)).find((f) => fs.existsSync(f));
  if (!file) throw new Error(`no validation report in ${app.outdir}`);
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  // A plugin with nothing to report is left out of the report.
  return { failed, report: json.pluginReports.find((r: any) => (r.pluginName ?? r.summary?.pluginName) === 'AwsSolutions') ?? { violations: [] } };
}

const ruleIds = (report: any) => [...new Set<string>((report.violations ?? []).map((v: any) => v.ruleName))].sort();

test('a plain bucket: the pack runs on the construct tree and reports its findings', () => {
  const { failed, report } = validate((stack) => new s3.Bucket(stack, 'Plain'));
  expect(failed).toBe(true);
  expect(JSON.stringify(report)).not.toContain('requires a construct tree');
  expect(ruleIds(report)).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
});

test('an audited EncryptedBucket: the pack runs and finds nothing', () => {
  const { failed, report } = validate((stack) => new EncryptedBucket(stack, 'Data', { auditTrail: new EncryptionAuditTrail(stack, 'Audit') }));
  expect(ruleIds(report)).toEqual([]);
  expect(JSON.stringify(report)).not.toContain('requires a construct tree');
  expect(failed).toBe(false);
});
