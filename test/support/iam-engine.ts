/**
 * A thin adapter over @cloud-copilot/iam-simulate's core evaluator. Its validated entry point
 * (`runSimulation`) drops `kms:EncryptionContext:<key>` context keys and its unvalidated one loses
 * the deciding statements, so the matrix calls the core `authorize` with policies it loads itself.
 */
import * as path from 'node:path';

const base = path.dirname(require.resolve('@cloud-copilot/iam-simulate'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { authorize } = require(path.join(base, 'core_engine/CoreSimulatorEngine.js'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { AwsRequestImpl } = require(path.join(base, 'request/request.js'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { RequestContextImpl } = require(path.join(base, 'requestContext.js'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DiscoveryContextKeyConstraints } = require(path.join(base, 'context_keys/discoveryContextKeyConstraints.js'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { loadPolicy, validateIdentityPolicy, validateResourcePolicy, validateTrustPolicy } = require(require.resolve('@cloud-copilot/iam-policy', { paths: [base] }));

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface EngineRequest {
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly resourceAccount: string;
  readonly context: Record<string, string | string[]>;
  readonly identityPolicies: Array<{ name: string; document: any }>;
  readonly resourcePolicy?: { name: string; document: any };
}

export interface EngineResult {
  readonly decision: Decision;
  /** Sids (or `policy#index`) of the statements that decided: the denies if any matched, else the allows. */
  readonly deciding: string[];
}

/** A statement's Sid, or for one without: its policy, index and condition keys (`p#1[aws:SecureTransport]`). */
function sidsOf(analyses: any[] | undefined): string[] {
  return (analyses ?? []).map((a) => {
    const sid = a.statement.sid();
    if (sid) return sid;
    const keys = a.statement.conditions?.().map((c: any) => c.conditionKey()) ?? [];
    return `${a.policyId ?? 'policy'}#${a.statement.index()}[${keys.join(',')}]`;
  });
}

type PolicyKind = 'identity' | 'resource' | 'trust';
const checked = new WeakSet<object>();
const asList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * Refuses a policy document AWS would refuse at deploy (IAM's and S3's MalformedPolicyDocument):
 * the evaluator alone would read an empty Resource as matching everything. The library's
 * validator for the policy type, then what it leaves out: an empty or malformed Action list, a
 * resource or trust policy statement without a principal, an identity or resource policy statement
 * without a Resource (IAM User Guide, reference_policies_elements_resource.html: "Statements must
 * include either a Resource or a NotResource element"; a role's trust policy names none), and a
 * Resource that is neither `*` nor an ARN ("Resource must be in ARN format or \"*\"").
 */
export function assertAcceptedByAws(document: any, kind: PolicyKind, name: string): void {
  if (document && typeof document === 'object' && checked.has(document)) return;
  const validate = { identity: validateIdentityPolicy, resource: validateResourcePolicy, trust: validateTrustPolicy }[kind];
  const errors: string[] = validate(document).map((e: any) => `${e.path}: ${e.message}`);
  asList(document?.Statement).forEach((st: any, i) => {
    if (kind !== 'identity' && st?.Principal === undefined && st?.NotPrincipal === undefined) errors.push(`Statement[${i}]: no principal`);
    const actions = asList(st?.Action ?? st?.NotAction);
    if (actions.length === 0) errors.push(`Statement[${i}]: no action`);
    if (kind !== 'trust' && st?.Resource === undefined && st?.NotResource === undefined) errors.push(`Statement[${i}]: no resource`);
    for (const a of actions) if (typeof a !== 'string' || !/^(\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$/.test(a)) errors.push(`Statement[${i}]: action ${JSON.stringify(a)}`);
    for (const r of asList(st?.Resource ?? st?.NotResource)) {
      if (typeof r !== 'string' || !(r === '*' || /^arn:[^:]+:[^:]+:/.test(r))) errors.push(`Statement[${i}]: resource ${JSON.stringify(r)} is neither "*" nor an ARN`);
    }
  });
  if (errors.length) throw new Error(`AWS would refuse the ${kind} policy ${name} (MalformedPolicyDocument): ${errors.join('; ')}`);
  if (document && typeof document === 'object') checked.add(document);
}

/** Evaluates one request against the identity and resource policies given, as IAM would. */
export function evaluate(request: EngineRequest): EngineResult {
  for (const p of request.identityPolicies) assertAcceptedByAws(p.document, 'identity', p.name);
  if (request.resourcePolicy) {
    assertAcceptedByAws(request.resourcePolicy.document, request.action === 'sts:AssumeRole' ? 'trust' : 'resource', request.resourcePolicy.name);
  }
  const awsRequest = new AwsRequestImpl(
    request.principal,
    { resource: request.resource, accountId: request.resourceAccount },
    request.action,
    new RequestContextImpl(request.context),
  );
  const analysis = authorize({
    request: awsRequest,
    sessionPolicy: undefined,
    identityPolicies: request.identityPolicies.map((p) => loadPolicy(p.document, { name: p.name })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: request.resourcePolicy ? loadPolicy(request.resourcePolicy.document, { name: request.resourcePolicy.name }) : undefined,
    permissionBoundaries: undefined,
    vpcEndpointPolicies: undefined,
    simulationParameters: { simulationMode: 'Strict', discoveryContextKeyConstraints: new DiscoveryContextKeyConstraints([]) },
    serviceSettings: { s3: {} },
  });
  const decision = analysis.result as Decision;
  const denies = [...sidsOf(analysis.identityAnalysis?.denyStatements), ...sidsOf(analysis.resourceAnalysis?.denyStatements)];
  const allows = [...sidsOf(analysis.identityAnalysis?.allowStatements), ...sidsOf(analysis.resourceAnalysis?.allowStatements)];
  return { decision, deciding: decision === 'ExplicitlyDenied' ? denies : decision === 'Allowed' ? allows : [] };
}
