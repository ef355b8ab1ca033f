/**
 * Public CloudFormation templates that nobody here wrote: the AWS Quick Start and public templates
 * that cfn-lint keeps as test fixtures (test/fixtures/templates/{quickstart,public} of its source
 * distribution on PyPI, MIT No Attribution; .tools/public-templates/LICENSE and NOTICE), installed
 * by scripts/setup/60-public-templates.sh for the cfn-lint version the checkers pin. Nothing of them
 * is committed here. These are the ones with S3 buckets, KMS keys or CloudTrail trails, and the two
 * that the command cannot check whole.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const PUBLIC_TEMPLATES_DIR = path.join(__dirname, '..', '..', '.tools', 'public-templates');

export interface PublicTemplate {
  /** Path under .tools/public-templates/. */
  readonly file: string;
  /** What it holds. */
  readonly about: string;
  /** False when the command refuses it (exit 2, the file named). */
  readonly loads: boolean;
  /** A checker that fails on it, as the command reports it. */
  readonly crashes?: string;
  toString(): string;
}

function t(file: string, about: string, loads = true, crashes?: string): PublicTemplate {
  return { file, about, loads, crashes, toString: () => file };
}

export const PUBLIC_TEMPLATES: readonly PublicTemplate[] = [
  t('quickstart/cis_benchmark.yaml', 'CIS AWS Foundations Benchmark Quick Start: CloudTrail trail, its S3 bucket and KMS key, AWS Config'),
  t('quickstart/nist_logging.yaml', 'NIST high-impact Quick Start, logging: CloudTrail, S3 log buckets, KMS'),
  t('quickstart/nist_config_rules.yaml', 'NIST Quick Start, AWS Config rules and their S3 bucket'),
  t('quickstart/config-rules.json', 'AWS Config rules Quick Start (JSON) with its S3 bucket'),
  t('public/watchmaker.json', 'Watchmaker EC2 instance template (JSON, conditions, parameters)'),
  // CloudFormation's "True": aws-cdk-lib's template reader accepts only true/false for a Boolean property.
  t('quickstart/nist_application.yaml', 'NIST Quick Start, application tier: S3 buckets with KMS', false),
  // @cdklabs/cdk-validator-cfnguard cannot read one of cfn-guard's results for this template.
  t('public/lambda-poller.yaml', 'Lambda poller (YAML short forms)', true, "ControlTower failed on public/lambda-poller.yaml: Error: TypeError: Cannot read properties of undefined (reading 'to')"),
];

/** The absolute path of a public template; throws when setup has not installed them. */
export function publicTemplate(file: string): string {
  const p = path.join(PUBLIC_TEMPLATES_DIR, file);
  if (!fs.existsSync(p)) throw new Error(`${p} is missing: run \`npx projen setup-tools\` (the test command does)`);
  return p;
}
