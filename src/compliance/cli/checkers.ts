/**
 * The checkers of `cdk-s3-encryption check`: the cdk-nag packs (on a construct tree made from the
 * templates by cloudformation-include) and the Control Tower proactive controls (cfn-guard). Each
 * runs template by template, prints its progress, and a crash on one template is recorded for that
 * template while the others are still checked. Acknowledgements written in the templates are
 * applied here.
 */
import * as path from 'node:path';
import { App, IPolicyValidationPlugin, Stack } from 'aws-cdk-lib';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { NagPack } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { Acknowledgement, InputError, InputErrors, Template } from './reader';

export type Level = 'error' | 'warning';

/** One finding of one checker on one resource of one template. */
export interface CheckFinding {
  readonly checker: string;
  readonly rule: string;
  readonly level: Level;
  readonly template: string;
  readonly logicalId: string;
  readonly message: string;
}

/** A finding the template acknowledges, with the reason it gives. */
export interface AcknowledgedFinding extends CheckFinding {
  readonly reason: string;
  readonly acknowledgedBy: string;
}

/** A checker that failed on a template: its results for that template are missing. */
export interface CheckerCrash {
  readonly checker: string;
  readonly template: string;
  readonly message: string;
}

export interface CheckResults {
  readonly findings: CheckFinding[];
  readonly acknowledged: AcknowledgedFinding[];
  readonly crashes: CheckerCrash[];
}

export type Progress = (line: string) => void;

/** A cdk-nag pack or the Control Tower validator, as the command runs it. */
export type Checker =
  | { readonly kind: 'nag'; readonly name: string; readonly pack: NagPack }
  | {
    readonly kind: 'guard';
    readonly name: string;
    /** The validator for one template; undefined when none of its controls can apply there. */
    readonly pluginFor: (template: Template) => IPolicyValidationPlugin | undefined;
  };

/** Loads every template into one app (a trail in one template covers buckets of another). */
export function loadApp(templates: Template[], cwd: string): Map<string, Stack> {
  const app = new App();
  const stacks = new Map<string, Stack>();
  const errors: string[] = [];
  templates.forEach((t, i) => {
    const stack = new Stack(app, `Check${i}`);
    try {
      new CfnInclude(stack, 'Template', { templateFile: t.file });
      stacks.set(t.file, stack);
    } catch (e) {
      errors.push(`${path.relative(cwd, t.file) || t.file}: cannot be loaded as a CloudFormation template: ${String((e as Error).message).split('\n')[0]}`);
    }
  });
  if (errors.length) throw new InputErrors(errors);
  return stacks;
}

export function runCheckers(templates: Template[], stacks: Map<string, Stack>, checkers: Checker[], cwd: string, progress: Progress): CheckResults {
  const findings: CheckFinding[] = [];
  const acknowledged: AcknowledgedFinding[] = [];
  const crashes: CheckerCrash[] = [];
  const byFile = new Map(templates.map((t) => [t.file, t]));
  const record = (f: CheckFinding) => {
    const t = byFile.get(f.template);
    const ack = t ? acknowledgementFor(t, f) : undefined;
    if (ack) acknowledged.push({ ...f, reason: ack.reason, acknowledgedBy: ack.source });
    else findings.push(f);
  };
  const shown = (file: string) => path.relative(cwd, file) || file;
  for (const checker of checkers) {
    templates.forEach((t, i) => {
      const label = checker.kind === 'guard' ? 'Control Tower proactive controls (cfn-guard)' : `cdk-nag ${checker.name}`;
      progress(`[${i + 1}/${templates.length}] ${shown(t.file)}: ${label}`);
      try {
        if (checker.kind === 'nag') {
          for (const f of runNag(checker.pack, stacks.get(t.file)!, t.file)) record(f);
        } else {
          const plugin = checker.pluginFor(t);
          if (plugin) for (const f of runGuard(plugin, t.file, stacks.get(t.file)!.node.root)) record(f);
          else progress(`[${i + 1}/${templates.length}] ${shown(t.file)}: no Control Tower control reports on its resource types`);
        }
      } catch (e) {
        if (e instanceof InputError) throw e;
        const message = String((e as Error)?.message ?? e).split('\n').map((l) => l.trim()).filter(Boolean);
        const line = message.find((l) => l.startsWith('Error:')) ?? message[0] ?? 'unknown error';
        crashes.push({ checker: checker.name, template: t.file, message: line });
        progress(`cdk-s3-encryption: ${checker.name} failed on ${shown(t.file)}: ${line}`);
      }
    });
  }
  return { findings, acknowledged, crashes };
}

function runNag(pack: NagPack, stack: Stack, file: string): CheckFinding[] {
  const out: CheckFinding[] = [];
  for (const v of pack.validateScope(stack).violations) {
    for (const r of v.violatingResources as any[]) {
      const segments = String(r.constructPath ?? r.resourceLogicalId ?? '').split('/');
      const logicalId = segments[2] ?? segments[segments.length - 1];
      out.push({ checker: pack.readPackName, rule: v.ruleName, level: v.severity === 'warning' ? 'warning' : 'error', template: file, logicalId, message: v.description });
    }
  }
  return out;
}

function runGuard(plugin: IPolicyValidationPlugin, file: string, appConstruct: IConstruct): CheckFinding[] {
  const out: CheckFinding[] = [];
  // cfn-guard reads the template files; the construct tree is the one the templates were loaded into.
  const report = plugin.validate({ templatePaths: [file], appConstruct });
  for (const v of report.violations) {
    for (const r of v.violatingResources) {
      const level: Level = (v as any).severity === 'warning' ? 'warning' : 'error';
      out.push({ checker: 'ControlTower', rule: v.ruleName, level, template: r.templatePath || file, logicalId: r.resourceLogicalId ?? r.constructPath ?? '(no resource)', message: v.description.split('\n')[0] });
    }
  }
  return out;
}

/**
 * The acknowledgement of a finding, if the template gives one: cdk-nag's
 * Metadata.cdk_nag.rules_to_suppress ({ id, reason, appliesTo? }), cfn-guard's
 * Metadata.guard.SuppressedRules, or Validations.of(...).acknowledge() recorded in the assembly.
 */
export function acknowledgementFor(t: Template, f: CheckFinding): Acknowledgement | undefined {
  const resource = t.doc.Resources?.[f.logicalId];
  const metadata = resource?.Metadata;
  const candidates: Acknowledgement[] = [...(t.manifestAcks.get(f.logicalId) ?? [])];
  const nag = metadata?.cdk_nag?.rules_to_suppress;
  if (Array.isArray(nag)) {
    for (const s of nag) {
      if (s && typeof s.id === 'string') {
        candidates.push({
          id: s.id,
          reason: typeof s.reason === 'string' && s.reason ? s.reason : '(no reason given)',
          source: 'Metadata.cdk_nag.rules_to_suppress',
          appliesTo: Array.isArray(s.applies_to ?? s.appliesTo) ? (s.applies_to ?? s.appliesTo).map(String) : undefined,
        });
      }
    }
  }
  const guard = metadata?.guard?.SuppressedRules;
  if (Array.isArray(guard)) {
    for (const id of guard) candidates.push({ id: String(id), reason: 'listed in the resource\'s SuppressedRules (cfn-guard\'s form has no reason field)', source: 'Metadata.guard.SuppressedRules' });
  }
  return candidates.find((a) => matches(a, f));
}

function matches(a: Acknowledgement, f: CheckFinding): boolean {
  if (f.checker === 'ControlTower' && a.source === 'Metadata.guard.SuppressedRules') return a.id === f.rule;
  if (f.checker !== 'ControlTower' && a.source === 'Metadata.guard.SuppressedRules') return false;
  if (a.id === f.rule) return true;
  // cdk-nag findings with a detail are written Rule[detail]; an acknowledgement of the rule without
  // appliesTo covers every detail, with appliesTo only the details it lists.
  const m = /^(.*)\[(.*)\]$/.exec(f.rule);
  if (!m || m[1] !== a.id) return false;
  return a.appliesTo === undefined || a.appliesTo.includes(m[2]);
}
