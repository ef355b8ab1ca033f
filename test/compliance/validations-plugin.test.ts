/**
 * cdk-nag 3's own packs as aws-cdk-lib validation plugins, the form the README shows: from the peer
 * floor up, aws-cdk-lib hands plugins the construct tree (IPolicyValidationContext.appConstruct),
 * and a NagPack reports findings. Before it (2.257.0 and older) the pack reported a failure with no
 * findings ("NagPack requires a construct tree"), so the floor is the release that has it.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EncryptedBucket, EncryptionAuditTrail } from '../../src';
import { synthWithValidation } from '../support/validation-report';

/** Synthesizes with the plugin; returns whether synth failed and the plugin's report. */
function validate(build: (stack: Stack) => void): { failed: boolean; report: any } {
  const app = new App();
  build(new Stack(app, 'S', { env: { account: '111111111111', region: 'us-east-1' } }));
  Validations.of(app).addPlugins(new AwsSolutionsChecks());
  const { failed, json } = synthWithValidation(app);
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
