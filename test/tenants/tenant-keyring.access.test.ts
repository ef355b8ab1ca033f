/**
 * Access matrix of TenantKeyring: who can do what, decided by an IAM engine over the synthesized
 * assembly (bucket policy, every tenant key policy in the nested shards, the bucket key policy and
 * the principals' identity policies together), with the context each AWS service really sends.
 *
 * The app: one EncryptedBucket (S3 Bucket Keys on by default), dedicated tenants acme and globex,
 * pooled tenants small and tiny, each with an application role granted by `grantTenant`, and one
 * role the platform tagged `tenant=acme` itself and gave `s3:*` and `kms:*` on everything, so that
 * only the bucket and key policies hold it to its tenant.
 *
 * Facts the rows rest on (S3 User Guide unless said otherwise):
 * - UsingKMSEncryption.html, bucket-key.html: S3 calls KMS as the requester, with kms:ViaService
 *   s3.<region>.amazonaws.com and the context aws:s3:arn = the bucket ARN with an S3 Bucket Key, the
 *   object ARN without. "Unique bucket-level keys are fetched at least once per requester", so a
 *   Bucket Key never lets a requester skip the KMS authorization.
 * - specifying-kms-encryption.html (x-amz-server-side-encryption-context): a caller's encryption
 *   context is added to the one S3 sends; the pooled tier sends {tenant: <id>} this way.
 * - mpuoverview.html (Multipart upload API and permissions): every multipart call is authorized as
 *   s3:PutObject; with SSE-KMS the caller needs kms:GenerateDataKey and kms:Decrypt.
 * - conditional-writes-enforce.html: s3:ObjectCreationOperation is false for CreateMultipartUpload,
 *   UploadPart and UploadPartCopy, true for PutObject, CopyObject and CompleteMultipartUpload;
 *   UploadPart, UploadPartCopy and CompleteMultipartUpload carry no SSE header.
 * - PutObject API reference (SSEKMSKeyId): aws:kms without a key id means the AWS managed key aws/s3;
 *   no SSE header at all means the bucket's default encryption.
 * - CopyObject / UploadPartCopy API references: the source is read with s3:GetObject (and
 *   kms:Decrypt on its key), the destination written with s3:PutObject.
 * - KMS Developer Guide key-policy-default.html: the account root in a key policy delegates to IAM.
 */
import { App, Stack, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EncryptedBucket, TenantAccess, TenantKeyring, TenantTier } from '../../src';
import { AccessModel, AccessResult, ACCOUNT, OTHER_ACCOUNT, PARTITION, REGION, ROOT } from '../support/access-model';
import type { Decision } from '../support/iam-engine';
import { defaultEncryption, FlowResult, kmsDirect, s3Read, s3UpdateObjectEncryption, s3Write, WriteOperation } from '../support/s3-flows';

// Path metadata names the resources; asset metadata points the model at the nested shard templates.
const app = new App({ context: { 'aws:cdk:enable-path-metadata': true, 'aws:cdk:enable-asset-metadata': true } });
const stack = new Stack(app, 'Saas', { env: { account: ACCOUNT, region: REGION } });
const dataBucket = new EncryptedBucket(stack, 'Data');
const keyring = new TenantKeyring(stack, 'Tenants', { bucket: dataBucket });
for (const id of ['acme', 'globex']) keyring.addTenant(id);
for (const id of ['small', 'tiny']) keyring.addTenant(id, { tier: TenantTier.POOLED });

function role(id: string, roleName: string): iam.Role {
  return new iam.Role(stack, id, { roleName, assumedBy: new iam.AccountRootPrincipal() });
}
keyring.grantTenant('acme', role('AcmeApp', 'acme-app'), TenantAccess.READ_WRITE);
keyring.grantTenant('globex', role('GlobexApp', 'globex-app'), TenantAccess.READ_WRITE);
keyring.grantTenant('small', role('SmallApp', 'small-app'), TenantAccess.READ_WRITE);
keyring.grantTenant('tiny', role('TinyApp', 'tiny-app'), TenantAccess.READ_WRITE);
const acmeTagged = role('AcmeTagged', 'acme-tagged');
Tags.of(acmeTagged).add('tenant', 'acme');
acmeTagged.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:*', 'kms:*'], resources: ['*'] }));
// A platform role of the account with a grant on the whole bucket, and an IAM administrator.
dataBucket.grantReadWrite(role('PlatformApp', 'platform-app'));
role('KeyAdmin', 'key-admin').addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['*'], resources: ['*'] }));

const model = AccessModel.of(app);
const bucket = model.bucket('Saas/Data/Resource');
const KEY = {
  acme: model.keyArn(/TenantacmeKey/),
  globex: model.keyArn(/TenantglobexKey/),
  pooled: model.keyArn(/TenantsPooledKey/),
  bucketDefault: defaultEncryption(model, bucket).keyArn!,
  otherRegion: `arn:${PARTITION}:kms:eu-west-1:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`,
  otherAccount: `arn:${PARTITION}:kms:${REGION}:${OTHER_ACCOUNT}:key/11111111-2222-3333-4444-555555555555`,
};
const arn = (name: string) => `arn:${PARTITION}:iam::${ACCOUNT}:role/${name}`;
const P = {
  acmeApp: arn('acme-app'),
  acmeTagged: arn('acme-tagged'),
  smallApp: arn('small-app'),
  platform: arn('platform-app'),
  admin: arn('key-admin'),
  root: ROOT,
  intruder: `arn:${PARTITION}:iam::${OTHER_ACCOUNT}:role/intruder`,
};
/** The intruder's own account lets it do anything: only this app's policies can stop it. */
const INTRUDER_IDENTITY = [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }];

// ---------------------------------------------------------------------------------------------
// Flows

type Leg = 's3' | 'kms' | 'source';
interface Outcome { readonly decision: Decision; readonly leg?: Leg; readonly deciding: string[] }

const SINGLE: WriteOperation[] = ['PutObject', 'CopyObject'];
const WITH_HEADERS: WriteOperation[] = ['PutObject', 'CopyObject', 'CreateMultipartUpload'];
const READS_A_SOURCE: WriteOperation[] = ['CopyObject', 'UploadPartCopy'];

function ofFlow(r: FlowResult, sourceLeg = false): Outcome {
  if (r.s3.decision !== 'Allowed') return { decision: r.s3.decision, leg: sourceLeg ? 'source' : 's3', deciding: r.s3.deciding };
  const kms = r.kms.find((k) => k.decision !== 'Allowed');
  if (kms) return { decision: kms.decision, leg: sourceLeg ? 'source' : 'kms', deciding: kms.deciding };
  return { decision: 'Allowed', deciding: [] };
}

function ofAccess(r: AccessResult, leg: Leg): Outcome {
  return r.decision === 'Allowed' ? { decision: 'Allowed', deciding: [] } : { decision: r.decision, leg, deciding: r.deciding };
}

/** The first leg that refuses, the destination before the copy source. */
function first(...outcomes: Outcome[]): Outcome {
  return outcomes.find((o) => o.decision !== 'Allowed') ?? { decision: 'Allowed', deciding: [] };
}

interface DedicatedWrite {
  readonly op?: WriteOperation;
  /** The key named at PutObject / CopyObject / CreateMultipartUpload, or the upload's key for the other parts. */
  readonly key?: string;
  /** Whether the request names aws:kms (default: when a key is named). */
  readonly sse?: string;
  readonly bucketKey?: boolean;
  /** CopyObject / UploadPartCopy source: object key and the key it is encrypted with. */
  readonly source?: { objectKey: string; key: string };
}

/** A write through S3 with the KMS calls S3 makes for it (and the copy source read, if any). */
function write(principal: string, objectKey: string, w: DedicatedWrite = {}): Outcome {
  const op = w.op ?? 'PutObject';
  const named = WITH_HEADERS.includes(op);
  const dest = s3Write(model, principal, bucket, objectKey, named
    ? { operation: op, sse: w.sse ?? (w.key ? 'aws:kms' : undefined), keyId: w.key, bucketKey: w.bucketKey }
    : { operation: op, uploadKeyArn: w.key, bucketKey: w.bucketKey });
  if (!READS_A_SOURCE.includes(op)) return ofFlow(dest);
  const src = w.source ?? { objectKey, key: w.key! };
  return first(ofFlow(dest), ofFlow(s3Read(model, principal, bucket, src.objectKey, { keyArn: src.key, bucketKey: w.bucketKey }), true));
}

function read(principal: string, objectKey: string, key: string, bucketKey?: boolean, action?: string): Outcome {
  return ofFlow(s3Read(model, principal, bucket, objectKey, { keyArn: key, bucketKey, action }));
}

/** The KMS request S3 makes for a pooled tenant: the object ARN plus the caller's {tenant} entry. */
function pooledKmsContext(principal: string, objectKey: string, tenant: string, bucketKey = false): Record<string, string | string[]> {
  return {
    'kms:ViaService': `s3.${REGION}.amazonaws.com`,
    'kms:CallerAccount': principal.split(':')[4],
    'kms:EncryptionContext:aws:s3:arn': bucketKey ? bucket.arn : `${bucket.arn}/${objectKey}`,
    'kms:EncryptionContext:tenant': tenant,
    'kms:EncryptionContextKeys': ['aws:s3:arn', 'tenant'],
  };
}

/**
 * A pooled-tier write: the S3 request as s3Write evaluates it, and the KMS calls with the pooled
 * key and the caller's {tenant} context (s3Write sends aws:s3:arn alone). Bucket Keys off.
 */
function pooledWrite(principal: string, objectKey: string, tenant: string, op: WriteOperation = 'PutObject', key = KEY.pooled, bucketKey = false): Outcome {
  const named = WITH_HEADERS.includes(op);
  const dest = s3Write(model, principal, bucket, objectKey, named
    ? { operation: op, sse: 'aws:kms', keyId: key, bucketKey }
    : { operation: op, uploadKeyArn: key, bucketKey });
  const ctx = pooledKmsContext(principal, objectKey, tenant, bucketKey);
  const kms = (SINGLE.includes(op) ? ['kms:GenerateDataKey'] : ['kms:GenerateDataKey', 'kms:Decrypt'])
    .map((action) => ofAccess(model.evaluate({ principal, action, resource: key, context: ctx }), 'kms'));
  const destination = first(ofAccess(dest.s3, 's3'), ...kms);
  if (!READS_A_SOURCE.includes(op)) return destination;
  return first(destination, ofAccess(pooledRead(principal, objectKey, tenant, key), 'source'));
}

function pooledReadOutcome(principal: string, objectKey: string, tenant: string, key = KEY.pooled): Outcome {
  const s3 = model.evaluate({ principal, action: 's3:GetObject', resource: `${bucket.arn}/${objectKey}` });
  return first(ofAccess(s3, 's3'), ofAccess(pooledRead(principal, objectKey, tenant, key), 'kms'));
}

function pooledRead(principal: string, objectKey: string, tenant: string, key: string): AccessResult {
  return model.evaluate({ principal, action: 'kms:Decrypt', resource: key, context: pooledKmsContext(principal, objectKey, tenant) });
}

function direct(principal: string, action: string, key: string, context: Record<string, string>): Outcome {
  return ofAccess(kmsDirect(model, principal, action, key, context), 'kms');
}

/** A KMS request as S3 makes it for the caller, with the given encryption context. */
function viaS3(principal: string, action: string, key: string, encryptionContext: Record<string, string>): Outcome {
  const context: Record<string, string | string[]> = { 'kms:ViaService': `s3.${REGION}.amazonaws.com`, 'kms:EncryptionContextKeys': Object.keys(encryptionContext) };
  for (const [k, v] of Object.entries(encryptionContext)) context[`kms:EncryptionContext:${k}`] = v;
  return ofAccess(model.evaluate({ principal, action, resource: key, context }), 'kms');
}

/** A KMS request by the other account's role, which its own account allows everything. */
function intruder(action: string, key: string, context?: Record<string, string | string[]>): Outcome {
  return ofAccess(model.evaluate({ principal: P.intruder, action, resource: key, context, identityPolicies: INTRUDER_IDENTITY }), 'kms');
}

function s3Action(principal: string, action: string, resource: string, context?: Record<string, string>): Outcome {
  return ofAccess(model.evaluate({ principal, action, resource, context }), 's3');
}

// ---------------------------------------------------------------------------------------------
// Expectations

const ALLOWED: Outcome = { decision: 'Allowed', deciding: [] };
function denied(leg: Leg, decision: 'ExplicitlyDenied' | 'ImplicitlyDenied', by?: string): Outcome {
  return { decision, leg, deciding: by ? [by] : [] };
}
function expectOutcome(actual: Outcome, expected: Outcome): void {
  if (expected.decision === 'Allowed') {
    expect(actual).toEqual(ALLOWED);
    return;
  }
  expect({ decision: actual.decision, leg: actual.leg }).toEqual({ decision: expected.decision, leg: expected.leg });
  if (expected.decision === 'ExplicitlyDenied') expect(actual.deciding).toEqual(expect.arrayContaining(expected.deciding));
}

type Row = [name: string, run: () => Outcome, expected: Outcome];

const OWN = 'tenants/acme/invoice.pdf';
const OWN_SOURCE = 'tenants/acme/draft.pdf';
const OTHER = 'tenants/globex/invoice.pdf';
const SMALL = 'tenants/small/report.csv';
const OUTSIDE = 'reports/q1.csv';
const MULTIPART: WriteOperation[] = ['CreateMultipartUpload', 'UploadPart', 'UploadPartCopy', 'CompleteMultipartUpload'];

// ---------------------------------------------------------------------------------------------
// ALLOWED

const dedicatedFlows: Row[] = [];
for (const [who, principal] of [['named (grantTenant)', P.acmeApp], ['tagged tenant=acme', P.acmeTagged]] as const) {
  for (const bucketKey of [true, false]) {
    const bk = bucketKey ? 'S3 Bucket Keys on (context = bucket ARN)' : 'S3 Bucket Keys off (context = object ARN)';
    dedicatedFlows.push(
      [`acme ${who}: PutObject on its prefix with its key, ${bk}`, () => write(principal, OWN, { key: KEY.acme, bucketKey }), ALLOWED],
      [`acme ${who}: GetObject on its prefix, ${bk}`, () => read(principal, OWN, KEY.acme, bucketKey), ALLOWED],
      ...MULTIPART.map((op): Row => [`acme ${who}: ${op} on its prefix with its key, ${bk}`,
        () => write(principal, OWN, { op, key: KEY.acme, bucketKey, source: { objectKey: OWN_SOURCE, key: KEY.acme } }), ALLOWED]),
      [`acme ${who}: CopyObject within its prefix with its key, ${bk}`,
        () => write(principal, OWN, { op: 'CopyObject', key: KEY.acme, bucketKey, source: { objectKey: OWN_SOURCE, key: KEY.acme } }), ALLOWED],
    );
  }
}

const pooledFlows: Row[] = [
  // specifying-kms-encryption.html: the caller's context {tenant: small} is added to aws:s3:arn.
  ['small (pooled): PutObject on its prefix with the pooled key and {tenant: small}', () => pooledWrite(P.smallApp, SMALL, 'small'), ALLOWED],
  ['small (pooled): GetObject on its prefix', () => pooledReadOutcome(P.smallApp, SMALL, 'small'), ALLOWED],
  ...MULTIPART.map((op): Row => [`small (pooled): ${op} on its prefix with the pooled key and {tenant: small}`, () => pooledWrite(P.smallApp, SMALL, 'small', op), ALLOWED]),
  ['small (pooled): CopyObject within its prefix', () => pooledWrite(P.smallApp, SMALL, 'small', 'CopyObject'), ALLOWED],
];

const directFlows: Row[] = [
  ...(['kms:GenerateDataKey', 'kms:Encrypt', 'kms:Decrypt'] as const).flatMap((action): Row[] => [
    [`acme named: ${action} directly on its key with {tenant: acme} (client-side encryption)`, () => direct(P.acmeApp, action, KEY.acme, { tenant: 'acme' }), ALLOWED],
    [`acme tagged: ${action} directly on its key with {tenant: acme}`, () => direct(P.acmeTagged, action, KEY.acme, { tenant: 'acme' }), ALLOWED],
    [`small (pooled): ${action} directly on the pooled key with {tenant: small}`, () => direct(P.smallApp, action, KEY.pooled, { tenant: 'small' }), ALLOWED],
  ]),
];

// key-policy-default.html: the account root (and through it IAM administrators) keeps every key manageable.
const ADMIN_ACTIONS = ['kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion', 'kms:DisableKey', 'kms:EnableKey', 'kms:DescribeKey'];
const adminFlows: Row[] = (['acme', 'globex', 'pooled'] as const).flatMap((k) => [P.root, P.admin].flatMap((principal) => ADMIN_ACTIONS.map((action): Row => [
  `${principal === P.root ? 'the account root' : 'an IAM administrator'}: ${action} on the ${k} key (no lockout)`,
  () => ofAccess(model.evaluate({ principal, action, resource: KEY[k] }), 'kms'), ALLOWED,
])));

const objectLockOwn: Row[] = [
  ['acme tagged: PutObjectRetention on its own prefix (the prefix deny lets it through)', () => s3Action(P.acmeTagged, 's3:PutObjectRetention', `${bucket.arn}/${OWN}`), ALLOWED],
  ['acme tagged: ListBucket under its own prefix', () => s3Action(P.acmeTagged, 's3:ListBucket', bucket.arn, { 's3:prefix': 'tenants/acme/' }), ALLOWED],
];

// ---------------------------------------------------------------------------------------------
// DENIED

const otherTenant: Row[] = [
  ['acme named: PutObject on globex\'s prefix with its own key', () => write(P.acmeApp, OTHER, { key: KEY.acme }), denied('s3', 'ImplicitlyDenied')],
  ['acme tagged: PutObject on globex\'s prefix with its own key', () => write(P.acmeTagged, OTHER, { key: KEY.acme }), denied('s3', 'ExplicitlyDenied', 'DenyTaggedTenantsObjectsOutsideTheirPrefix')],
  ['acme named: GetObject on globex\'s prefix', () => read(P.acmeApp, OTHER, KEY.globex), denied('s3', 'ImplicitlyDenied')],
  ['acme tagged: GetObject on globex\'s prefix', () => read(P.acmeTagged, OTHER, KEY.globex), denied('s3', 'ExplicitlyDenied', 'DenyTaggedTenantsObjectsOutsideTheirPrefix')],
  ['acme named: PutObject on its prefix with globex\'s key', () => write(P.acmeApp, OWN, { key: KEY.globex }), denied('kms', 'ImplicitlyDenied')],
  ['acme tagged: PutObject on its prefix with globex\'s key', () => write(P.acmeTagged, OWN, { key: KEY.globex }), denied('kms', 'ImplicitlyDenied')],
  ['acme tagged: UploadPart of an upload created with globex\'s key', () => write(P.acmeTagged, OWN, { op: 'UploadPart', key: KEY.globex }), denied('kms', 'ImplicitlyDenied')],
  ['acme named: CopyObject from globex\'s prefix into its own', () => write(P.acmeApp, OWN, { op: 'CopyObject', key: KEY.acme, source: { objectKey: OTHER, key: KEY.globex } }), denied('source', 'ImplicitlyDenied')],
  ['acme tagged: UploadPartCopy from globex\'s prefix into its own', () => write(P.acmeTagged, OWN, { op: 'UploadPartCopy', key: KEY.acme, source: { objectKey: OTHER, key: KEY.globex } }),
    denied('source', 'ExplicitlyDenied', 'DenyTaggedTenantsObjectsOutsideTheirPrefix')],
  ['acme named: Decrypt directly on its key with {tenant: globex}', () => direct(P.acmeApp, 'kms:Decrypt', KEY.acme, { tenant: 'globex' }), denied('kms', 'ImplicitlyDenied')],
  ['acme named: Decrypt directly on globex\'s key with {tenant: globex}', () => direct(P.acmeApp, 'kms:Decrypt', KEY.globex, { tenant: 'globex' }), denied('kms', 'ImplicitlyDenied')],
  ['acme tagged: Decrypt directly on globex\'s key with {tenant: globex}', () => direct(P.acmeTagged, 'kms:Decrypt', KEY.globex, { tenant: 'globex' }), denied('kms', 'ImplicitlyDenied')],
  ['acme tagged: Decrypt directly on its key without the tenant context', () => direct(P.acmeTagged, 'kms:Decrypt', KEY.acme, {}), denied('kms', 'ImplicitlyDenied')],
  ['small (pooled): PutObject on its prefix with {tenant: tiny}', () => pooledWrite(P.smallApp, SMALL, 'tiny'), denied('kms', 'ImplicitlyDenied')],
  ['small (pooled): PutObject on tiny\'s prefix with {tenant: tiny}', () => pooledWrite(P.smallApp, 'tenants/tiny/report.csv', 'tiny'), denied('s3', 'ExplicitlyDenied', 'DenyTaggedTenantsObjectsOutsideTheirPrefix')],
  ['small (pooled): GetObject on its prefix of an object written with {tenant: tiny}', () => pooledReadOutcome(P.smallApp, SMALL, 'tiny'), denied('kms', 'ImplicitlyDenied')],
  ['small (pooled): Decrypt directly on the pooled key with {tenant: tiny}', () => direct(P.smallApp, 'kms:Decrypt', KEY.pooled, { tenant: 'tiny' }), denied('kms', 'ImplicitlyDenied')],
  // bucket-key.html: a Bucket Key would be one data key for every pooled tenant; the pooled key refuses the bucket ARN.
  ['small (pooled): PutObject with S3 Bucket Keys on (context = bucket ARN)', () => pooledWrite(P.smallApp, SMALL, 'small', 'PutObject', KEY.pooled, true), denied('kms', 'ImplicitlyDenied')],
  // A "direct" statement that did not require the absence of kms:ViaService admitted S3 requests carrying the tenant context.
  ['acme tagged: GenerateDataKey on its key through S3 for another bucket, with {tenant: acme}',
    () => viaS3(P.acmeTagged, 'kms:GenerateDataKey', KEY.acme, { 'aws:s3:arn': 'arn:aws:s3:::elsewhere/x', 'tenant': 'acme' }), denied('kms', 'ImplicitlyDenied')],
  ['small (pooled): PutObject on its prefix with acme\'s key', () => pooledWrite(P.smallApp, SMALL, 'small', 'PutObject', KEY.acme), denied('kms', 'ImplicitlyDenied')],
];

// Defect 5: a principal of a dedicated tenant must not reach the pooled key, or its objects would
// outlive the crypto-shredding of its own key.
const pooledKeyOnDedicatedPrefix: Row[] = [
  ['acme tagged: PutObject on its prefix with the pooled key and {tenant: acme}', () => pooledWrite(P.acmeTagged, OWN, 'acme'), denied('kms', 'ImplicitlyDenied')],
  ['acme tagged: CreateMultipartUpload on its prefix with the pooled key and {tenant: acme}', () => pooledWrite(P.acmeTagged, OWN, 'acme', 'CreateMultipartUpload'), denied('kms', 'ImplicitlyDenied')],
  ['acme tagged: GetObject on its prefix of an object under the pooled key', () => pooledReadOutcome(P.acmeTagged, OWN, 'acme'), denied('kms', 'ImplicitlyDenied')],
  ['acme tagged: GenerateDataKey directly on the pooled key with {tenant: acme}', () => direct(P.acmeTagged, 'kms:GenerateDataKey', KEY.pooled, { tenant: 'acme' }), denied('kms', 'ImplicitlyDenied')],
  ['acme named: PutObject on its prefix with the pooled key and {tenant: acme}', () => pooledWrite(P.acmeApp, OWN, 'acme'), denied('kms', 'ImplicitlyDenied')],
];

// Defect 2: no S3 condition key tells a header-less CompleteMultipartUpload from a header-less
// PutObject (conditional-writes-enforce.html), so a header-less tenant write fails at KMS: S3
// encrypts it with the bucket's default key, which no tenant principal may use.
const headerless: Row[] = [
  ['acme tagged: PutObject on its prefix without SSE headers (bucket default key)', () => write(P.acmeTagged, OWN), denied('kms', 'ExplicitlyDenied', 'DenyUseByPrincipalsTaggedTenant')],
  ['acme tagged: CreateMultipartUpload on its prefix without SSE headers', () => write(P.acmeTagged, OWN, { op: 'CreateMultipartUpload' }), denied('kms', 'ExplicitlyDenied', 'DenyUseByPrincipalsTaggedTenant')],
  ['acme named: PutObject on its prefix without SSE headers (no IAM allow on the bucket key)', () => write(P.acmeApp, OWN), denied('kms', 'ImplicitlyDenied')],
  ['acme named: CreateMultipartUpload on its prefix without SSE headers', () => write(P.acmeApp, OWN, { op: 'CreateMultipartUpload' }), denied('kms', 'ImplicitlyDenied')],
  ['small (pooled, tagged): PutObject on its prefix without SSE headers', () => write(P.smallApp, SMALL), denied('kms', 'ExplicitlyDenied', 'DenyUseByPrincipalsTaggedTenant')],
  ['acme tagged: GetObject outside the tenant root (S3 and the bucket key both refuse)', () => read(P.acmeTagged, OUTSIDE, KEY.bucketDefault), denied('s3', 'ExplicitlyDenied', 'DenyTaggedTenantsObjectsOutsideTheirPrefix')],
  ['acme tagged: Decrypt on the bucket default key through S3 for a non-tenant object',
    () => viaS3(P.acmeTagged, 'kms:Decrypt', KEY.bucketDefault, { 'aws:s3:arn': bucket.arn }), denied('kms', 'ExplicitlyDenied', 'DenyUseByPrincipalsTaggedTenant')],
];

const wrongKeys: Row[] = [
  ['acme tagged: PutObject on its prefix naming the bucket default key', () => write(P.acmeTagged, OWN, { key: KEY.bucketDefault }), denied('s3', 'ExplicitlyDenied', 'DenyTenantPutWithTheBucketDefaultKey')],
  ['acme tagged: PutObject on its prefix naming a key of another Region', () => write(P.acmeTagged, OWN, { key: KEY.otherRegion }), denied('s3', 'ExplicitlyDenied', 'DenyTenantPutWithAKeyOfAnotherAccountOrRegion')],
  ['acme tagged: PutObject on its prefix naming a key of another account', () => write(P.acmeTagged, OWN, { key: KEY.otherAccount }), denied('s3', 'ExplicitlyDenied', 'DenyTenantPutWithAKeyOfAnotherAccountOrRegion')],
  ['acme tagged: PutObject on its prefix naming its key by alias ARN (S3 compares key ARNs)',
    () => write(P.acmeTagged, OWN, { key: `arn:${PARTITION}:kms:${REGION}:${ACCOUNT}:alias/tenants/acme` }), denied('s3', 'ExplicitlyDenied', 'DenyTenantPutWithAKeyOfAnotherAccountOrRegion')],
  // PutObject API reference (SSEKMSKeyId): aws:kms without a key id is the AWS managed key aws/s3.
  ['acme tagged: PutObject on its prefix with aws:kms and no key id', () => write(P.acmeTagged, OWN, { sse: 'aws:kms' }), denied('s3', 'ExplicitlyDenied', 'DenyPutObjectWithKmsAlgorithmButNoKeyId')],
  ['acme tagged: PutObject on its prefix with SSE-S3', () => write(P.acmeTagged, OWN, { sse: 'AES256' }), denied('s3', 'ExplicitlyDenied', 'DenyPutObjectWithAnotherEncryptionAlgorithm')],
];

// Defect 6: every object-level action (Service Authorization Reference, list_amazons3.html,
// resource type "object"), on another tenant's prefix and outside the tenant root. The bucket has
// Object Lock, so retention, legal hold and the governance bypass matter most.
const OBJECT_LEVEL = [
  's3:PutObjectRetention', 's3:GetObjectRetention', 's3:PutObjectLegalHold', 's3:GetObjectLegalHold', 's3:BypassGovernanceRetention',
  's3:GetObjectAcl', 's3:PutObjectAcl', 's3:GetObjectVersionAcl', 's3:PutObjectVersionAcl',
  's3:GetObjectVersionTagging', 's3:PutObjectVersionTagging', 's3:DeleteObjectVersionTagging', 's3:DeleteObjectTagging',
  's3:GetObjectVersionAttributes', 's3:ListMultipartUploadParts', 's3:GetObjectTorrent', 's3:GetObjectVersionTorrent',
  's3:GetObjectVersionForReplication', 's3:UpdateObjectEncryption', 's3:GetObjectVersion', 's3:DeleteObjectVersion', 's3:RestoreObject',
];
const outsidePrefix: Row[] = [
  ...OBJECT_LEVEL.flatMap((action): Row[] => [
    [`acme tagged: ${action} on globex's prefix`, () => s3Action(P.acmeTagged, action, `${bucket.arn}/${OTHER}`), denied('s3', 'ExplicitlyDenied', 'DenyTaggedTenantsObjectsOutsideTheirPrefix')],
    [`acme tagged: ${action} outside the tenant root`, () => s3Action(P.acmeTagged, action, `${bucket.arn}/${OUTSIDE}`), denied('s3', 'ExplicitlyDenied', 'DenyTaggedTenantsObjectsOutsideTheirPrefix')],
  ]),
  ['acme tagged: ListBucket under globex\'s prefix', () => s3Action(P.acmeTagged, 's3:ListBucket', bucket.arn, { 's3:prefix': 'tenants/globex/' }), denied('s3', 'ExplicitlyDenied', 'DenyTaggedTenantsListingOutsideTheirPrefix')],
  ['acme tagged: ListBucketVersions of the whole bucket', () => s3Action(P.acmeTagged, 's3:ListBucketVersions', bucket.arn), denied('s3', 'ExplicitlyDenied', 'DenyTaggedTenantsListingOutsideTheirPrefix')],
  // ListBucketMultipartUploads takes no s3:prefix condition key: it would list every tenant's uploads.
  ['acme tagged: ListBucketMultipartUploads (every tenant\'s uploads)', () => s3Action(P.acmeTagged, 's3:ListBucketMultipartUploads', bucket.arn), denied('s3', 'ExplicitlyDenied', 'DenyTaggedTenantsListingEveryUpload')],
];

const otherAccount: Row[] = [
  ['another account: PutObject on acme\'s prefix with acme\'s key', () => ofFlow(s3Write(model, P.intruder, bucket, OWN, { sse: 'aws:kms', keyId: KEY.acme, identityPolicies: INTRUDER_IDENTITY })), denied('s3', 'ImplicitlyDenied')],
  ['another account: GetObject on acme\'s prefix', () => ofFlow(s3Read(model, P.intruder, bucket, OWN, { keyArn: KEY.acme, identityPolicies: INTRUDER_IDENTITY })), denied('s3', 'ImplicitlyDenied')],
  ...(['acme', 'pooled'] as const).map((k): Row => [`another account: Decrypt directly on the ${k} key with its tenant context`,
    () => intruder('kms:Decrypt', KEY[k], {
      // Even tagged like a tenant of this account: the key policies trust this account only.
      'kms:EncryptionContext:tenant': k === 'pooled' ? 'small' : 'acme',
      'kms:EncryptionContextKeys': ['tenant'],
      'aws:PrincipalTag/tenant': k === 'pooled' ? 'small' : 'acme',
      'aws:PrincipalTag/tenant-tier': 'pooled',
    }), denied('kms', 'ImplicitlyDenied')]),
  ['another account: PutKeyPolicy on acme\'s key', () => intruder('kms:PutKeyPolicy', KEY.acme), denied('kms', 'ImplicitlyDenied')],
];

// S3's UpdateObjectEncryption moves an existing object to another key without writing it; the
// Service Authorization Reference gives s3:UpdateObjectEncryption the key-id condition key, so the
// prefix denials bind it as they bind PutObject, and the tenant key policies decide the KMS side.
const move = (principal: string, keyArn: string, oldKeyArn = KEY.acme) =>
  ofFlow(s3UpdateObjectEncryption(model, principal, bucket, OWN, { keyArn, bucketKey: true, oldKeyArn }));
const inPlaceMoves: Row[] = [
  ['an IAM administrator: UpdateObjectEncryption of acme\'s object to the bucket default key', () => move(P.admin, KEY.bucketDefault),
    denied('s3', 'ExplicitlyDenied', 'DenyTenantPutWithTheBucketDefaultKey')],
  ['an IAM administrator: UpdateObjectEncryption of acme\'s object to a key of another account', () => move(P.admin, KEY.otherAccount),
    denied('s3', 'ExplicitlyDenied', 'DenyTenantPutWithAKeyOfAnotherAccountOrRegion')],
  ['acme tagged (s3:* and kms:*): UpdateObjectEncryption of its object to globex\'s key', () => move(P.acmeTagged, KEY.globex), denied('kms', 'ImplicitlyDenied')],
];

const administratorsDoNotUse: Row[] = [
  ...(['acme', 'pooled'] as const).map((k): Row => [`an IAM administrator: Decrypt on the ${k} key, even with its tenant context (administration only)`,
    () => direct(P.admin, 'kms:Decrypt', KEY[k], { tenant: k === 'pooled' ? 'small' : 'acme' }), denied('kms', 'ImplicitlyDenied')]),
];

// What the policies cannot decide, as docs/tenant-keyring.md says: a principal of the account
// granted the whole bucket writes a header-less object under a tenant prefix with the bucket key.
const documentedLimits: Row[] = [
  ['platform role with a bucket grant: PutObject without SSE headers under acme\'s prefix (bucket key)', () => write(P.platform, OWN), ALLOWED],
  ['platform role with a bucket grant: PutObject under acme\'s prefix naming acme\'s key', () => write(P.platform, OWN, { key: KEY.acme }), denied('kms', 'ImplicitlyDenied')],
];

// A second keyring with s3BucketKeys: false binds each dedicated key to its tenant's prefix in KMS.
const unbound = (() => {
  const app2 = new App({ context: { 'aws:cdk:enable-path-metadata': true, 'aws:cdk:enable-asset-metadata': true } });
  const stack2 = new Stack(app2, 'Strict', { env: { account: ACCOUNT, region: REGION } });
  const kr = new TenantKeyring(stack2, 'Tenants', { bucket: new EncryptedBucket(stack2, 'Data'), s3BucketKeys: false });
  kr.addTenant('acme');
  kr.grantTenant('acme', new iam.Role(stack2, 'AcmeApp', { roleName: 'strict-acme-app', assumedBy: new iam.AccountRootPrincipal() }), TenantAccess.READ_WRITE);
  const m = AccessModel.of(app2);
  return { model: m, bucket: m.bucket('Strict/Data/Resource'), key: m.keyArn(/TenantacmeKey/), principal: arn('strict-acme-app') };
})();
const strictWrite = (op: WriteOperation, bucketKey: boolean) => ofFlow(s3Write(unbound.model, unbound.principal, unbound.bucket, OWN,
  WITH_HEADERS.includes(op) ? { operation: op, sse: 'aws:kms', keyId: unbound.key, bucketKey } : { operation: op, uploadKeyArn: unbound.key, bucketKey }));
const strictKeyring: Row[] = [
  ['s3BucketKeys false: acme named PutObject on its prefix, S3 Bucket Keys off', () => strictWrite('PutObject', false), ALLOWED],
  ['s3BucketKeys false: acme named CompleteMultipartUpload on its prefix, S3 Bucket Keys off', () => strictWrite('CompleteMultipartUpload', false), ALLOWED],
];
const strictKeyringDenied: Row[] = [
  // bucket-key.html: with an S3 Bucket Key the context is the bucket ARN, which this key refuses.
  ['s3BucketKeys false: acme named PutObject on its prefix with S3 Bucket Keys on (context = bucket ARN)', () => strictWrite('PutObject', true), denied('kms', 'ImplicitlyDenied')],
];

describe('TenantKeyring access matrix: ALLOWED', () => {
  test.each(dedicatedFlows)('%s', (_n, run, expected) => expectOutcome(run(), expected));
  test.each(pooledFlows)('%s', (_n, run, expected) => expectOutcome(run(), expected));
  test.each(directFlows)('%s', (_n, run, expected) => expectOutcome(run(), expected));
  test.each(adminFlows)('%s', (_n, run, expected) => expectOutcome(run(), expected));
  test.each(objectLockOwn)('%s', (_n, run, expected) => expectOutcome(run(), expected));
  test.each(strictKeyring)('%s', (_n, run, expected) => expectOutcome(run(), expected));
});

describe('TenantKeyring access matrix: DENIED', () => {
  test.each(otherTenant)('%s', (_n, run, expected) => expectOutcome(run(), expected));
  test.each(pooledKeyOnDedicatedPrefix)('defect 5: %s', (_n, run, expected) => expectOutcome(run(), expected));
  test.each(headerless)('defect 2: %s', (_n, run, expected) => expectOutcome(run(), expected));
  test.each(wrongKeys)('%s', (_n, run, expected) => expectOutcome(run(), expected));
  test.each(outsidePrefix)('defect 6: %s', (_n, run, expected) => expectOutcome(run(), expected));
  test.each(otherAccount)('%s', (_n, run, expected) => expectOutcome(run(), expected));
  test.each(administratorsDoNotUse)('%s', (_n, run, expected) => expectOutcome(run(), expected));
  test.each(inPlaceMoves)('%s', (_n, run, expected) => expectOutcome(run(), expected));
  test.each(strictKeyringDenied)('%s', (_n, run, expected) => expectOutcome(run(), expected));
});

describe('TenantKeyring access matrix: documented limits', () => {
  test.each(documentedLimits)('%s', (_n, run, expected) => expectOutcome(run(), expected));
});
