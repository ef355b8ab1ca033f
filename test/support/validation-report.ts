/**
 * Synthesizes an app whose validation plugins are added (`Validations.of(app).addPlugins`) and
 * returns whether synth failed and the report aws-cdk-lib wrote beside the assembly. Releases up to
 * some 2.27x set the exit code and write policy-validation-report.json; newer ones throw
 * ValidationFailed and write validation-report.json. jest's own exit code is kept.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';

export function synthWithValidation(app: App): { failed: boolean; json: any } {
  const before = process.exitCode;
  const errorLog = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    let failed: boolean;
    try {
      app.synth();
      failed = process.exitCode === 1;
    } catch (e) {
      if (!/ValidationFailed|Validation failed/.test(`${(e as Error).name} ${(e as Error).message}`)) throw e;
      failed = true;
    }
    const file = ['policy-validation-report.json', 'validation-report.json'].map((f) => path.join(app.outdir, f)).find((f) => fs.existsSync(f));
    if (!file) throw new Error(`no validation report in ${app.outdir}`);
    return { failed, json: JSON.parse(fs.readFileSync(file, 'utf8')) };
  } finally {
    process.exitCode = before;
    errorLog.mockRestore();
  }
}
