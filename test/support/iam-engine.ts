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
const { loadPolicy } = require(require.resolve('@cloud-copilot/iam-policy', { paths: [base] }));

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

/** Evaluates one request against the identity and resource policies given, as IAM would. */
export function evaluate(request: EngineRequest): EngineResult {
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
