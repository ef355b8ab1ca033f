#!/usr/bin/env node
/**
 * `cdk-s3-encryption check <cdk.out | template files...>`: runs S3EncryptionChecks, the four
 * standard cdk-nag packs and the Control Tower proactive controls on synthesized CloudFormation
 * templates from any tool, prints a table, writes JSON and SARIF 2.1.0, and exits non-zero on
 * findings.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IPolicyValidationPlugin } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';
import { Checker, loadApp, runCheckers } from './cli/checkers';
import { ControlTowerControls, resourceTypesOf } from './cli/control-tower';
import { FailOn, outcome, printTable, readBaseline, Report, summaryLine, toJsonReport, toolVersion, toSarif } from './cli/output';
import { collectTemplates, InputError, InputErrors, MAX_TEMPLATE_BYTES, Template } from './cli/reader';
import { S3EncryptionChecks } from './s3-encryption-checks';

export type { CheckFinding, AcknowledgedFinding, CheckerCrash } from './cli/checkers';

/** What the command needs from its environment, so that tests can run it in-process. */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly cwd: string;
  /**
   * Loads the Control Tower controls (narrowed per template to the controls that can apply), or a
   * validator run whole on every template; undefined when the package is not installed.
   */
  readonly loadControlTower?: () => ControlTowerControls | IPolicyValidationPlugin | undefined;
  /** Replaces the cdk-nag packs (tests use it to make a checker fail). */
  readonly packs?: (names: string[]) => NagPack[];
}

const USAGE = `usage: cdk-s3-encryption check [options] <cdk.out directory | folder | template file>...

Runs S3EncryptionChecks, cdk-nag AwsSolutions, HIPAA.Security, NIST.800.53.R5, PCI.DSS.321 and
the Control Tower proactive controls on CloudFormation templates (JSON or YAML).

A folder with a manifest.json is read as a cloud assembly: every stack of the current synth,
Stages and nested stacks included. Another folder contributes its *.template.json/.yaml/.yml files.

options:
  --json <file>              write the JSON report (findings, acknowledged, fixed, errors)
  --sarif <file>             write SARIF 2.1.0 (for code-scanning upload)
  --baseline <file>          a previous JSON report: only findings not in it fail; the ones gone are reported as fixed
  --fail-on error|warning    lowest level of a new finding that fails (default error)
  --packs <list>             comma-separated subset of: S3Encryption,AwsSolutions,HIPAA.Security,NIST.800.53.R5,PCI.DSS.321
  --no-control-tower         do not run the Control Tower controls
  --max-rotation-days <n>    S3EncryptionChecks maxRotationPeriodDays, 90 to 2560 (default 365)
  --min-pending-days <n>     S3EncryptionChecks minPendingWindowDays, 7 to 30 (default 30)
  -h, --help                 this text
  --version                  the version of cdk-s3-encryption

Templates with a transform (AWS::Serverless-2016-10-31, AWS::LanguageExtensions, macros) are
refused; symbolic links are not followed; files over ${MAX_TEMPLATE_BYTES} bytes are refused.

exit status: 0 no failing finding, 1 failing findings, 2 usage or input error, or a checker failed
on a template (the other results are still printed and written)`;

class UsageError extends Error {}

interface Options {
  inputs: string[];
  json?: string;
  sarif?: string;
  baseline?: string;
  failOn: FailOn;
  packs?: string[];
  controlTower: boolean;
  maxRotationDays?: number;
  minPendingDays?: number;
  help?: boolean;
  version?: boolean;
}

const PACK_NAMES = ['S3Encryption', 'AwsSolutions', 'HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321'];

function parseArgs(argv: string[]): Options {
  const opts: Options = { inputs: [], controlTower: true, failOn: 'error' };
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  const int = (v: string, flag: string, min: number, max: number) => {
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got '${v}'`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--json': opts.json = value(i, a); i++; break;
      case '--sarif': opts.sarif = value(i, a); i++; break;
      case '--baseline': opts.baseline = value(i, a); i++; break;
      case '--fail-on': {
        const v = value(i, a);
        if (v !== 'error' && v !== 'warning') throw new UsageError(`--fail-on must be error or warning, got '${v}'`);
        opts.failOn = v;
        i++;
        break;
      }
      case '--packs': {
        opts.packs = value(i, a).split(',').map((p) => p.trim()).filter(Boolean);
        const unknown = opts.packs.filter((p) => !PACK_NAMES.includes(p));
        if (unknown.length) throw new UsageError(`unknown pack ${unknown.join(', ')}; choose from ${PACK_NAMES.join(', ')}`);
        if (opts.packs.length === 0) throw new UsageError(`--packs needs at least one of ${PACK_NAMES.join(', ')}`);
        i++;
        break;
      }
      case '--no-control-tower': opts.controlTower = false; break;
      case '--max-rotation-days': opts.maxRotationDays = int(value(i, a), a, 90, 2560); i++; break;
      case '--min-pending-days': opts.minPendingDays = int(value(i, a), a, 7, 30); i++; break;
      case '-h': case '--help': opts.help = true; break;
      case '--version': opts.version = true; break;
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
        opts.inputs.push(a);
    }
  }
  if (!opts.help && !opts.version && opts.inputs.length === 0) throw new UsageError('no template or cdk.out directory given');
  return opts;
}

function packsFor(opts: Options): NagPack[] {
  const all: Record<string, () => NagPack> = {
    'S3Encryption': () => new S3EncryptionChecks(undefined, { maxRotationPeriodDays: opts.maxRotationDays, minPendingWindowDays: opts.minPendingDays }),
    'AwsSolutions': () => new AwsSolutionsChecks(),
    'HIPAA.Security': () => new HIPAASecurityChecks(),
    'NIST.800.53.R5': () => new NIST80053R5Checks(),
    'PCI.DSS.321': () => new PCIDSS321Checks(),
  };
  return (opts.packs ?? PACK_NAMES).map((n) => all[n]());
}


/** Runs the command; returns the exit status. */
export function main(argv: string[], io: CliIo = { out: console.log, err: console.error, cwd: process.cwd() }): number {
  let opts: Options;
  try {
    if (argv[0] === '--version') {
      io.out(toolVersion());
      return 0;
    }
    if (argv[0] === '--help' || argv[0] === '-h') {
      io.out(USAGE);
      return 0;
    }
    if (argv[0] !== 'check') throw new UsageError(argv[0] === undefined ? 'no command given' : `unknown command ${argv[0]}`);
    opts = parseArgs(argv.slice(1));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`cdk-s3-encryption: ${e.message}`);
    io.err(USAGE);
    return 2;
  }
  if (opts.help) {
    io.out(USAGE);
    return 0;
  }
  if (opts.version) {
    io.out(toolVersion());
    return 0;
  }

  const started = Date.now();
  let report: Report;
  try {
    const baseline = opts.baseline ? readBaseline(opts.baseline, io.cwd) : undefined;
    const templates = collectTemplates(opts.inputs, io.cwd);
    const checkers: Checker[] = (io.packs ?? (() => packsFor(opts)))(opts.packs ?? PACK_NAMES)
      .map((pack) => ({ kind: 'nag' as const, name: pack.readPackName, pack }));
    if (opts.controlTower) {
      const ct = (io.loadControlTower ?? ControlTowerControls.load)();
      if (!ct) {
        io.err('cdk-s3-encryption: the Control Tower controls need @cdklabs/cdk-validator-cfnguard: npm install --save-dev @cdklabs/cdk-validator-cfnguard, or pass --no-control-tower');
        return 2;
      }
      const pluginFor = ct instanceof ControlTowerControls ? (t: Template) => ct.forTypes(resourceTypesOf(t.doc)) : () => ct;
      checkers.push({ kind: 'guard', name: 'ControlTower', pluginFor });
    }
    const stacks = loadApp(templates, io.cwd);
    const results = runCheckers(templates, stacks, checkers, io.cwd, io.err);
    report = { templates, results, baseline, failOn: opts.failOn, cwd: io.cwd };
  } catch (e) {
    if (e instanceof InputErrors) {
      e.lines.forEach((l) => io.err(`cdk-s3-encryption: ${l}`));
      return 2;
    }
    if (e instanceof InputError) {
      io.err(`cdk-s3-encryption: ${e.message}`);
      return 2;
    }
    throw e;
  }

  const o = outcome(report);
  printTable(report, o, io.out);
  let writeFailed = false;
  const write = (file: string, data: unknown) => {
    try {
      fs.writeFileSync(path.resolve(io.cwd, file), JSON.stringify(data, null, 2));
    } catch (e) {
      io.err(`cdk-s3-encryption: ${file}: cannot be written: ${String((e as Error).message).split('\n')[0]}`);
      writeFailed = true;
    }
  };
  if (opts.json) write(opts.json, toJsonReport(report, o));
  if (opts.sarif) write(opts.sarif, toSarif(report, o));
  io.out(summaryLine(report, o, (Date.now() - started) / 1000));
  if (report.results.crashes.length > 0 || writeFailed) return 2;
  return o.failing.length > 0 ? 1 : 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
