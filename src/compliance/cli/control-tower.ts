/**
 * The Control Tower proactive controls of `cdk-s3-encryption check`, run with only the rule files
 * that can apply to a template. Each control's rule file names, under "Reports on:" in its
 * specification header, the resource types it reports on, and its first scenario is SKIP when the
 * template has none of them; leaving such a control out changes no finding and saves its
 * evaluation (cfn-guard's time grows with rules x templates x resources: the 237 controls took
 * about 5 s per template of four buckets). A rule file without that header is kept when any
 * CloudFormation type written in it is a type of a resource of the template, and always kept when
 * it names no type at all. test/integ/control-tower-narrowing.test.ts proves the findings equal
 * to the whole set's on the example app and the public templates.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IPolicyValidationPlugin } from 'aws-cdk-lib';

const TYPE = /AWS::[A-Za-z0-9]+::[A-Za-z0-9]+(?:::[A-Za-z0-9]+)?/g;
/** The "Reports on:" block of a rule file's header: comment lines up to the first empty one. */
const REPORTS_ON = /^#[ \t]*Reports on:[ \t]*\r?\n((?:#[ \t]+\S.*\r?\n)+)/m;

/** The resource types a rule file reports on: its header's, else every type it mentions. */
export function typesOfRuleFile(text: string): Set<string> {
  const header = REPORTS_ON.exec(text)?.[1].match(TYPE);
  return new Set(header && header.length > 0 ? header : text.match(TYPE) ?? []);
}

interface GuardModule {
  readonly CfnGuardValidator: new (props?: { controlTowerRulesEnabled?: boolean; rules?: string[] }) => IPolicyValidationPlugin;
}

/** One rule file and the resource types it mentions (empty: applies to any template). */
export interface ControlRuleFile {
  readonly file: string;
  readonly types: ReadonlySet<string>;
}

/** Every .guard file under dir with the CloudFormation types it mentions, sorted by path. */
export function indexRuleFiles(dir: string): ControlRuleFile[] {
  const out: ControlRuleFile[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.guard')) out.push({ file: p, types: typesOfRuleFile(fs.readFileSync(p, 'utf8')) });
    }
  };
  walk(dir);
  return out;
}

/** The rule files that can report on a template with these resource types. */
export function ruleFilesFor(rules: readonly ControlRuleFile[], resourceTypes: ReadonlySet<string>): string[] {
  return rules.filter((r) => r.types.size === 0 || [...r.types].some((t) => resourceTypes.has(t))).map((r) => r.file);
}

/** The resource types of a parsed template. */
export function resourceTypesOf(doc: any): Set<string> {
  const resources = doc && typeof doc === 'object' ? doc.Resources : undefined;
  const types = new Set<string>();
  if (resources && typeof resources === 'object') {
    for (const r of Object.values<any>(resources)) if (r && typeof r.Type === 'string') types.add(r.Type);
  }
  return types;
}

/**
 * The Control Tower validator narrowed per template: `forTypes` gives a validator running only the
 * rule files that can apply (undefined when none can), reusing one per distinct set of files.
 */
export class ControlTowerControls {
  /** Loads @cdklabs/cdk-validator-cfnguard; undefined when it is not installed. */
  public static load(): ControlTowerControls | undefined {
    let mod: GuardModule;
    let dir: string;
    try {
      // An optional peer that only this command needs, so it is loaded on demand.
      // eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
      mod = require('@cdklabs/cdk-validator-cfnguard');
      dir = path.join(path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json')), 'rules', 'control-tower', 'cfn-guard');
    } catch {
      return undefined;
    }
    return new ControlTowerControls(mod, indexRuleFiles(dir));
  }

  private readonly validators = new Map<string, IPolicyValidationPlugin>();

  constructor(private readonly mod: GuardModule, public readonly rules: readonly ControlRuleFile[]) {
    if (rules.length === 0) throw new Error('@cdklabs/cdk-validator-cfnguard has no Control Tower rule file: reinstall it');
  }

  public forTypes(resourceTypes: ReadonlySet<string>): IPolicyValidationPlugin | undefined {
    const files = ruleFilesFor(this.rules, resourceTypes);
    if (files.length === 0) return undefined;
    const key = files.join('\n');
    let v = this.validators.get(key);
    if (!v) {
      v = new this.mod.CfnGuardValidator({ controlTowerRulesEnabled: false, rules: files });
      this.validators.set(key, v);
    }
    return v;
  }
}
