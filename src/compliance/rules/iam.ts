/**
 * Reading resolved policy statements the way IAM evaluates them: wildcard actions, `NotAction`,
 * `NotPrincipal`, and condition blocks against a request context with absent and unknown keys.
 */

function asArray(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

/** IAM's wildcard match (`*` any run, `?` one character) of a whole string. */
export function wildcardMatches(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern.split('').map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

/** Whether the statement's `Action` (or the complement of its `NotAction`) includes `action`. */
export function coversAction(statement: any, action: string): boolean {
  const matches = (patterns: unknown) => asArray(patterns).some((p) => typeof p === 'string' && wildcardMatches(p, action, true));
  if (statement.NotAction !== undefined) return !matches(statement.NotAction);
  return matches(statement.Action);
}

/**
 * The statement applies to any principal: `Principal: "*"`, `{"AWS": "*"}`, or `NotPrincipal`
 * (which names only who is left out, so everyone else is in).
 */
export function isPublic(statement: any): boolean {
  if (statement.NotPrincipal !== undefined) return true;
  const p = statement.Principal;
  return p === '*' || asArray(p?.AWS).includes('*');
}

/** The statement names `service` as a principal, or applies to every principal but it. */
export function appliesToService(statement: any, service: string): boolean {
  if (statement.NotPrincipal !== undefined) return !asArray(statement.NotPrincipal?.Service).includes(service);
  return isPublic(statement) || asArray(statement.Principal?.Service).includes(service);
}

/** One `operator: { key: values }` entry of a condition block. */
export interface ConditionEntry {
  readonly operator: string;
  readonly key: string;
  readonly values: unknown[];
}

export function conditionEntries(statement: any): ConditionEntry[] {
  const out: ConditionEntry[] = [];
  for (const [operator, block] of Object.entries(statement?.Condition ?? {})) {
    for (const [key, values] of Object.entries((block ?? {}) as Record<string, unknown>)) {
      out.push({ operator, key, values: asArray(values) });
    }
  }
  return out;
}

const POSITIVE = /^(StringEquals|StringEqualsIgnoreCase|StringLike|ArnEquals|ArnLike)$/i;

/**
 * Condition keys (lower case) that the statement holds to given values: compared with a positive
 * string or ARN operator, without `IfExists` (true when the key is absent), without
 * `ForAllValues:` (true when the key is absent), with at least one value other than `*`. `Null`,
 * negated operators and `*` restrict nothing.
 */
export function pinnedKeys(statement: any): string[] {
  return conditionEntries(statement).filter((e) => {
    const [qualifier, base] = e.operator.includes(':') ? e.operator.split(':') : ['', e.operator];
    if (/^forallvalues$/i.test(qualifier) || !POSITIVE.test(base)) return false;
    return e.values.some((v) => v !== '*');
  }).map((e) => e.key.toLowerCase());
}

/** A key the request does not carry. */
export const ABSENT = null;

/**
 * A request context: each listed key has a value or is ABSENT. Keys not listed are unknown, and a
 * condition on them may go either way. Keys are matched case-insensitively, as IAM does.
 */
export type RequestContext = Record<string, string | null>;

function lookup(ctx: RequestContext, key: string): string | null | undefined {
  const want = key.toLowerCase();
  const found = Object.keys(ctx).find((k) => k.toLowerCase() === want);
  return found === undefined ? undefined : ctx[found];
}

/**
 * One condition entry against the context: true, false, or undefined when it depends on what the
 * context leaves unknown. Follows the IAM user guide (reference_policies_elements_condition_operators):
 * a key absent from the request makes a positive operator false, a negated one (`StringNotEquals`,
 * `StringNotLike`, ...) true, and any `...IfExists` operator true; `Null: true` holds when it is absent.
 */
export function evaluateEntry(entry: ConditionEntry, ctx: RequestContext): boolean | undefined {
  const actual = lookup(ctx, entry.key);
  if (actual === undefined) return undefined;
  const [qualifier, rawBase] = entry.operator.includes(':') ? entry.operator.split(':') : ['', entry.operator];
  const ifExists = /IfExists$/i.test(rawBase);
  const base = rawBase.replace(/IfExists$/i, '');
  const values = entry.values.map((v) => (typeof v === 'boolean' || typeof v === 'number' ? String(v) : v));
  if (/^null$/i.test(base)) {
    if (values.some((v) => typeof v !== 'string')) return undefined;
    const wantsAbsent = values.some((v) => String(v).toLowerCase() === 'true');
    return (actual === ABSENT) === wantsAbsent;
  }
  const negated = /^(\w+Not\w+|NotIpAddress)$/i.test(base);
  if (actual === ABSENT) {
    if (ifExists || /^forallvalues$/i.test(qualifier)) return true;
    if (/^foranyvalue$/i.test(qualifier)) return false;
    return negated;
  }
  if (values.some((v) => typeof v !== 'string' || v.includes('${'))) return undefined;
  const strings = values as string[];
  const positive = base.replace(/Not/i, '');
  let match: boolean;
  if (/^StringEquals$/i.test(positive)) match = strings.includes(actual);
  else if (/^StringEqualsIgnoreCase$/i.test(positive)) match = strings.some((v) => v.toLowerCase() === actual.toLowerCase());
  else if (/^(StringLike|ArnLike|ArnEquals)$/i.test(positive)) match = strings.some((v) => wildcardMatches(v, actual));
  else if (/^Bool$/i.test(positive)) match = strings.some((v) => v.toLowerCase() === actual.toLowerCase());
  else return undefined;
  return negated ? !match : match;
}

/** A whole condition block (its entries ANDed): true, false, or undefined when it is unknown. */
export function evaluateCondition(statement: any, ctx: RequestContext): boolean | undefined {
  let result: boolean | undefined = true;
  for (const entry of conditionEntries(statement)) {
    const r = evaluateEntry(entry, ctx);
    if (r === false) return false;
    if (r === undefined) result = undefined;
  }
  return result;
}

/**
 * A resolved value as one string, intrinsics written `${...}`: `Ref` by name, `Fn::GetAtt` as
 * `${Id.Attr}`, `Fn::Join` joined; anything else as its JSON. Two values built the same way read
 * the same, so a policy's resource patterns can be compared as text.
 */
export function flatText(value: any): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value && typeof value === 'object') {
    if (typeof value.Ref === 'string') return `\${${value.Ref}}`;
    const getAtt = value['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `\${${getAtt.join('.')}}`;
    const join = value['Fn::Join'];
    if (Array.isArray(join) && Array.isArray(join[1])) return join[1].map(flatText).join(String(join[0]));
  }
  return `\${${JSON.stringify(value)}}`;
}
