/**
 * The key-policy builders, statement by statement, decided by the IAM engine over a key whose policy
 * holds only what the builder wrote. KMS condition keys: KMS Developer Guide, conditions-kms.html
 * (kms:ViaService, kms:CallerAccount, kms:EncryptionContext:, kms:GrantIsForAWSResource) and the
 * global condition keys page (aws:SourceAccount, aws:SourceArn, aws:PrincipalIsAWSService).
 */
import { App, Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import {
  createManagedKey, denyCreateGrantStatement, KEY_ADMIN_ACTIONS, keyAdminStatement, renderStatements, s3GrantConditions,
  S3_KEY_READ_ACTIONS, S3_KEY_USAGE_ACTIONS, S3_KEY_WRITE_ACTIONS, s3UsageConditions, s3UsageStatement, serviceUsageStatement,
} from '../../src/keys/key-policy';
import { ACCOUNT, OTHER_ACCOUNT, REGION } from '../support/access-model';
import { ALLOW_ALL, BUCKET_ARN, onKey, PolicyUnderTest } from '../support/policy-under-test';
import { kmsContext } from '../support/s3-flows';

const ROLE = `arn:aws:iam::${ACCOUNT}:role/app`;
const FOREIGN_ROLE = `arn:aws:iam::${OTHER_ACCOUNT}:role/app`;

function call(p: PolicyUnderTest, principal: string, action: string, context: Record<string, string | string[]> = {}) {
  const service = /\.amazonaws\.com$/.test(principal);
  const r = p.model.evaluate({ principal, action, resource: p.arn, context, identityPolicies: service ? undefined : ALLOW_ALL });
  return { decision: r.decision, deciding: r.deciding.filter((sid) => !sid.startsWith('identity')) };
}
const allowedBy = (sid: string) => ({ decision: 'Allowed', deciding: [sid] });

describe('keyAdminStatement: the account administers the key and uses no data', () => {
  const p = onKey([keyAdminStatement()]);
  test.each(KEY_ADMIN_ACTIONS)('a role of the account may %s', (action) => {
    expect(call(p, ROLE, action)).toEqual(allowedBy('KeyAdministrationByTheAccount'));
  });
  test.each(S3_KEY_USAGE_ACTIONS)('no one may %s through this statement', (action) => {
    expect(call(p, ROLE, action).decision).toBe('ImplicitlyDenied');
  });
  test('a role of another account may not administer it', () => {
    expect(call(p, FOREIGN_ROLE, 'kms:PutKeyPolicy').decision).toBe('ImplicitlyDenied');
  });
});

describe('denyCreateGrantStatement: grants only for AWS resources or by AWS services (CT.KMS.PR.3)', () => {
  const p = onKey([keyAdminStatement(), denyCreateGrantStatement()]);
  test('a grant for an AWS resource (an S3 or EBS grant made through the service)', () => {
    expect(call(p, ROLE, 'kms:CreateGrant', { 'kms:GrantIsForAWSResource': 'true' })).toEqual(allowedBy('KeyAdministrationByTheAccount'));
  });
  test.each<[string, Record<string, string>]>([
    ['a grant the caller makes for itself', { 'kms:GrantIsForAWSResource': 'false' }],
    ['a grant without the key in the request (IfExists)', {}],
  ])('refused: %s', (_name, context) => {
    expect(call(p, ROLE, 'kms:CreateGrant', context)).toEqual({ decision: 'ExplicitlyDenied', deciding: ['DenyCreateGrantUnlessForAnAwsResource'] });
  });
  test('an AWS service principal is not refused by the denial (only by the lack of an allow)', () => {
    expect(call(p, 'cloudtrail.amazonaws.com', 'kms:CreateGrant', { 'kms:GrantIsForAWSResource': 'false' })).toEqual({ decision: 'ImplicitlyDenied', deciding: [] });
  });
  test('it stops CreateGrant only', () => {
    expect(call(p, ROLE, 'kms:RevokeGrant', {}).decision).toBe('Allowed');
  });
});

describe('S3_KEY_READ_ACTIONS and S3_KEY_WRITE_ACTIONS, as a grant uses them', () => {
  const grant = (actions: string[]) => onKey([new iam.PolicyStatement({ sid: 'Grant', principals: [new iam.AccountRootPrincipal()], actions, resources: ['*'] })]);
  test('a reader decrypts and makes no data keys', () => {
    const p = grant(S3_KEY_READ_ACTIONS);
    expect(call(p, ROLE, 'kms:Decrypt').decision).toBe('Allowed');
    expect(call(p, ROLE, 'kms:GenerateDataKey').decision).toBe('ImplicitlyDenied');
  });
  test('a writer makes data keys, encrypts, and decrypts (a multipart upload decrypts its data key for each part)', () => {
    // S3 User Guide, mpuoverview.html: "you must have permission to the kms:Decrypt and
    // kms:GenerateDataKey actions" for a multipart upload with SSE-KMS.
    const p = grant(S3_KEY_WRITE_ACTIONS);
    for (const action of ['kms:GenerateDataKey', 'kms:Decrypt', 'kms:Encrypt']) expect(call(p, ROLE, action).decision).toBe('Allowed');
    expect(call(p, ROLE, 'kms:ReEncryptFrom').decision).toBe('ImplicitlyDenied');
  });
});

describe('s3UsageStatement: through S3, for these buckets, callers of this account', () => {
  const p = onKey([s3UsageStatement('S3UsesTheKey', [BUCKET_ARN])]);
  test.each(['kms:GenerateDataKey', 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'])(
    '%s for an object of the bucket', (action) => {
      expect(call(p, ROLE, action, kmsContext(ROLE, `${BUCKET_ARN}/a/b.txt`))).toEqual(allowedBy('S3UsesTheKey'));
    });
  test('with an S3 Bucket Key (the bucket ARN as the context)', () => {
    expect(call(p, ROLE, 'kms:GenerateDataKey', kmsContext(ROLE, BUCKET_ARN)).decision).toBe('Allowed');
  });
  test.each<[string, () => Record<string, string | string[]>]>([
    ['another bucket', () => kmsContext(ROLE, 'arn:aws:s3:::other-bucket/a')],
    ['a bucket whose name starts with this one\'s', () => kmsContext(ROLE, `${BUCKET_ARN}-copy/a`)],
    ['through S3 in another Region', () => kmsContext(ROLE, `${BUCKET_ARN}/a`, 'eu-west-1')],
    ['a direct call, not through S3', () => ({ 'kms:EncryptionContext:aws:s3:arn': `${BUCKET_ARN}/a` })],
  ])('refused: %s', (_name, context) => {
    expect(call(p, ROLE, 'kms:GenerateDataKey', context()).decision).toBe('ImplicitlyDenied');
  });
  test('refused: a caller of another account', () => {
    expect(call(p, FOREIGN_ROLE, 'kms:GenerateDataKey', kmsContext(FOREIGN_ROLE, `${BUCKET_ARN}/a`)).decision).toBe('ImplicitlyDenied');
  });
  test('a Region and account given explicitly (a replica\'s key, named from the source stack)', () => {
    expect(s3UsageConditions([BUCKET_ARN], 'eu-west-1', OTHER_ACCOUNT)).toEqual({
      StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com', 'kms:CallerAccount': OTHER_ACCOUNT },
      StringLike: { 'kms:EncryptionContext:aws:s3:arn': [BUCKET_ARN, `${BUCKET_ARN}/*`] },
    });
    const other = onKey([s3UsageStatement('Replica', [BUCKET_ARN], 'eu-west-1', ACCOUNT)]);
    expect(call(other, ROLE, 'kms:Decrypt', kmsContext(ROLE, `${BUCKET_ARN}/a`, 'eu-west-1'))).toEqual(allowedBy('Replica'));
    expect(call(other, ROLE, 'kms:Decrypt', kmsContext(ROLE, `${BUCKET_ARN}/a`, REGION)).decision).toBe('ImplicitlyDenied');
  });
});

describe('s3GrantConditions: as s3UsageConditions, without the caller account', () => {
  // A grant to a principal of another account that the bucket owner allows (cross-account access).
  const statement = (conditions: Record<string, unknown>) => onKey([new iam.PolicyStatement({
    sid: 'Cross', principals: [new iam.AccountPrincipal(OTHER_ACCOUNT)], actions: ['kms:Decrypt'], resources: ['*'], conditions,
  })]);
  test('a caller of another account, through S3, for the bucket', () => {
    const p = statement(s3GrantConditions([BUCKET_ARN]));
    expect(call(p, FOREIGN_ROLE, 'kms:Decrypt', kmsContext(FOREIGN_ROLE, `${BUCKET_ARN}/a`)).decision).toBe('Allowed');
    expect(call(p, FOREIGN_ROLE, 'kms:Decrypt', kmsContext(FOREIGN_ROLE, 'arn:aws:s3:::other/a')).decision).toBe('ImplicitlyDenied');
    expect(call(p, FOREIGN_ROLE, 'kms:Decrypt', kmsContext(FOREIGN_ROLE, `${BUCKET_ARN}/a`, 'eu-west-1')).decision).toBe('ImplicitlyDenied');
  });
  test('while s3UsageConditions refuses that caller', () => {
    const p = statement(s3UsageConditions([BUCKET_ARN]));
    expect(call(p, FOREIGN_ROLE, 'kms:Decrypt', kmsContext(FOREIGN_ROLE, `${BUCKET_ARN}/a`)).decision).toBe('ImplicitlyDenied');
  });
});

describe('serviceUsageStatement: a service, for this account, and its sources when known', () => {
  const use = (p: PolicyUnderTest, sourceAccount: string, sourceArn: string, extra: Record<string, string> = {}) =>
    call(p, 'cloudtrail.amazonaws.com', 'kms:GenerateDataKey', { 'aws:SourceAccount': sourceAccount, 'aws:SourceArn': sourceArn, ...extra });
  const TRAIL = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/audit`;
  const OTHER_TRAIL = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/other`;

  test('no source ARNs: any source of this account', () => {
    const p = onKey([serviceUsageStatement('Trail', 'cloudtrail.amazonaws.com', ['kms:GenerateDataKey*'])]);
    expect(use(p, ACCOUNT, OTHER_TRAIL)).toEqual(allowedBy('Trail'));
    expect(use(p, OTHER_ACCOUNT, `arn:aws:cloudtrail:${REGION}:${OTHER_ACCOUNT}:trail/x`).decision).toBe('ImplicitlyDenied');
    expect(call(p, 'cloudtrail.amazonaws.com', 'kms:Decrypt', { 'aws:SourceAccount': ACCOUNT }).decision).toBe('ImplicitlyDenied');
    expect(call(p, 'logs.amazonaws.com', 'kms:GenerateDataKey', { 'aws:SourceAccount': ACCOUNT }).decision).toBe('ImplicitlyDenied');
  });
  test('one source ARN: that source only, written as a single value', () => {
    const st = serviceUsageStatement('Trail', 'cloudtrail.amazonaws.com', ['kms:GenerateDataKey*'], [TRAIL]);
    expect(st.toStatementJson().Condition.ArnLike).toEqual({ 'aws:SourceArn': TRAIL });
    const p = onKey([st]);
    expect(use(p, ACCOUNT, TRAIL).decision).toBe('Allowed');
    expect(use(p, ACCOUNT, OTHER_TRAIL).decision).toBe('ImplicitlyDenied');
  });
  test('several source ARNs: each of them', () => {
    const p = onKey([serviceUsageStatement('Trail', 'cloudtrail.amazonaws.com', ['kms:GenerateDataKey*'], [TRAIL, OTHER_TRAIL])]);
    expect(use(p, ACCOUNT, TRAIL).decision).toBe('Allowed');
    expect(use(p, ACCOUNT, OTHER_TRAIL).decision).toBe('Allowed');
    expect(use(p, ACCOUNT, `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/third`).decision).toBe('ImplicitlyDenied');
  });
  test('an empty list of source ARNs is no restriction on the ARN', () => {
    expect(serviceUsageStatement('Trail', 'cloudtrail.amazonaws.com', ['kms:GenerateDataKey*'], []).toStatementJson().Condition).not.toHaveProperty('ArnLike');
  });
  test('extra conditions are added to the account condition', () => {
    const ctxKey = 'kms:EncryptionContext:aws:cloudtrail:arn';
    const p = onKey([serviceUsageStatement('Trail', 'cloudtrail.amazonaws.com', ['kms:GenerateDataKey*'], undefined, { StringLike: { [ctxKey]: TRAIL } })]);
    expect(use(p, ACCOUNT, TRAIL, { [ctxKey]: TRAIL }).decision).toBe('Allowed');
    expect(use(p, ACCOUNT, TRAIL, { [ctxKey]: OTHER_TRAIL }).decision).toBe('ImplicitlyDenied');
    expect(use(p, OTHER_ACCOUNT, TRAIL, { [ctxKey]: TRAIL }).decision).toBe('ImplicitlyDenied');
  });
});

describe('createManagedKey', () => {
  const keyOf = (options: Parameters<typeof createManagedKey>[2]) => {
    const stack = new Stack(new App(), 'K', { env: { account: ACCOUNT, region: REGION } });
    createManagedKey(stack, 'Key', options);
    return Template.fromStack(stack);
  };

  test('defaults: rotation every 365 days, a 30-day pending window, retained, administration and the grant denial only', () => {
    const t = keyOf({ description: 'data key' });
    const [key] = Object.values<any>(t.findResources('AWS::KMS::Key'));
    expect(key.DeletionPolicy).toBe('Retain');
    expect(key.UpdateReplacePolicy).toBe('Retain');
    expect(key.Properties).toMatchObject({ Description: 'data key', EnableKeyRotation: true, RotationPeriodInDays: 365, PendingWindowInDays: 30 });
    expect(key.Properties.KeyPolicy.Statement.map((s: any) => s.Sid)).toEqual(['KeyAdministrationByTheAccount', 'DenyCreateGrantUnlessForAnAwsResource']);
    t.resourceCountIs('AWS::KMS::Alias', 0);
  });

  test('every option given wins', () => {
    const t = keyOf({ description: 'd', rotationPeriod: Duration.days(90), pendingWindow: Duration.days(7), removalPolicy: RemovalPolicy.DESTROY, alias: 'alias/team-data' });
    const [key] = Object.values<any>(t.findResources('AWS::KMS::Key'));
    expect(key.DeletionPolicy).toBe('Delete');
    expect(key.Properties).toMatchObject({ RotationPeriodInDays: 90, PendingWindowInDays: 7 });
    t.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/team-data' });
  });
});

describe('renderStatements: the statements as JSON a user pastes into a key policy', () => {
  test('with the account and Region known: literal values, no pseudo parameters', () => {
    const stack = new Stack(new App(), 'R', { env: { account: ACCOUNT, region: 'cn-north-1' } });
    const rendered = renderStatements(stack, [serviceUsageStatement('S', 'logs.amazonaws.com', ['kms:Decrypt']), s3UsageStatement('U', ['arn:aws-cn:s3:::b'])]);
    expect(rendered).not.toMatch(/Ref|Fn::/);
    const [service, usage] = JSON.parse(rendered);
    expect(service).toEqual({
      Sid: 'S',
      Effect: 'Allow',
      Principal: { Service: 'logs.amazonaws.com' },
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
    });
    // The partition comes from the Region (aws-cn here), as the account root's ARN needs it.
    expect(usage.Principal).toEqual({ AWS: `arn:aws-cn:iam::${ACCOUNT}:root` });
    expect(usage.Condition.StringEquals).toEqual({ 'kms:ViaService': 's3.cn-north-1.amazonaws.com', 'kms:CallerAccount': ACCOUNT });
    // The URL suffix too (amazonaws.com.cn in the China Regions).
    const withSuffix = new iam.PolicyStatement({ principals: [new iam.ServicePrincipal(`logs.${Aws.URL_SUFFIX}`)], actions: ['kms:Decrypt'], resources: ['*'] });
    expect(JSON.parse(renderStatements(stack, [withSuffix]))[0].Principal).toEqual({ Service: 'logs.amazonaws.com.cn' });
  });

  test('an environment-agnostic stack keeps the pseudo parameters, and a deploy-time ARN stays as written', () => {
    const stack = new Stack(new App(), 'R');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.AccountRootPrincipal() });
    const st = new iam.PolicyStatement({ sid: 'R', principals: [role], actions: ['kms:Decrypt'], resources: ['*'] });
    const [rendered] = JSON.parse(renderStatements(stack, [st, denyCreateGrantStatement()]));
    expect(rendered.Principal).toEqual({ AWS: { 'Fn::GetAtt': [expect.stringMatching(/^Role/), 'Arn'] } });
    const [usage] = JSON.parse(renderStatements(stack, [s3UsageStatement('U', [BUCKET_ARN])]));
    expect(usage.Condition.StringEquals['kms:CallerAccount']).toEqual({ Ref: 'AWS::AccountId' });
    expect(usage.Condition.StringEquals['kms:ViaService']).toEqual({ 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] });
    expect(usage.Principal.AWS).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] });
  });
});

test('every statement the key-policy builders write names its resource, as a key policy requires', () => {
  // KMS refuses a key policy statement without Resource (MalformedPolicyDocumentException); the
  // IAM engine here would read it as matching anything.
  const all = [
    keyAdminStatement(), denyCreateGrantStatement(), s3UsageStatement('U', [BUCKET_ARN]),
    serviceUsageStatement('S', 'logs.amazonaws.com', ['kms:Decrypt']),
  ];
  for (const st of all) expect(st.toStatementJson().Resource).toBe('*');
});
