import { Aws, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';

/**
 * The actions the account keeps on every key this library makes, so the key stays manageable,
 * and nothing that encrypts or decrypts data.
 */
export const KEY_ADMIN_ACTIONS = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:CreateGrant',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:DisableKeyRotation',
  'kms:EnableKey',
  'kms:EnableKeyRotation',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListAliases',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:ListKeyRotations',
  'kms:ListResourceTags',
  'kms:ListRetirableGrants',
  'kms:PutKeyPolicy',
  'kms:RetireGrant',
  'kms:RevokeGrant',
  'kms:RotateKeyOnDemand',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
];

/** Data-plane actions S3 performs on a caller's behalf for SSE-KMS and DSSE-KMS. */
export const S3_KEY_USAGE_ACTIONS = [
  'kms:Decrypt',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
];

/** Key actions needed to read SSE-KMS objects. */
export const S3_KEY_READ_ACTIONS = ['kms:Decrypt'];
/** Key actions needed to write SSE-KMS objects (Decrypt is needed for multipart uploads). */
export const S3_KEY_WRITE_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'];

/** The statement that lets the account administer the key. */
export function keyAdminStatement(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'KeyAdministrationByTheAccount',
    principals: [new iam.AccountRootPrincipal()],
    actions: KEY_ADMIN_ACTIONS,
    resources: ['*'],
  });
}

/**
 * Grants can only be created for AWS services acting on AWS resources (Control Tower CT.KMS.PR.3).
 */
export function denyCreateGrantStatement(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'DenyCreateGrantUnlessForAnAwsResource',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:CreateGrant'],
    resources: ['*'],
    conditions: {
      BoolIfExists: {
        'kms:GrantIsForAWSResource': 'false',
        'aws:PrincipalIsAWSService': 'false',
      },
    },
  });
}

/** Conditions that restrict key usage to S3 requests for the given buckets in this account. */
export function s3UsageConditions(bucketArns: string[], region: string = Aws.REGION, account: string = Aws.ACCOUNT_ID) {
  return {
    StringEquals: {
      'kms:ViaService': `s3.${region}.amazonaws.com`,
      'kms:CallerAccount': account,
    },
    StringLike: {
      'kms:EncryptionContext:aws:s3:arn': bucketArns.flatMap((arn) => [arn, `${arn}/*`]),
    },
  };
}

/**
 * Conditions of a grant on the key: through S3 in the bucket's Region, for these buckets only. No
 * kms:CallerAccount, so that a principal of another account that the bucket owner grants can use it.
 */
export function s3GrantConditions(bucketArns: string[], region: string = Aws.REGION) {
  const { StringEquals, StringLike } = s3UsageConditions(bucketArns, region);
  return { StringEquals: { 'kms:ViaService': StringEquals['kms:ViaService'] }, StringLike };
}

/**
 * Lets IAM principals of the account use the key through S3 for these buckets only; an IAM
 * policy must still grant each principal the action.
 */
export function s3UsageStatement(sid: string, bucketArns: string[], region?: string, account?: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    principals: [new iam.AccountRootPrincipal()],
    actions: S3_KEY_USAGE_ACTIONS,
    resources: ['*'],
    conditions: s3UsageConditions(bucketArns, region, account),
  });
}

/**
 * Lets an AWS service principal use the key, only for requests from this account (and the given
 * source ARNs when known), to prevent the confused-deputy problem.
 */
export function serviceUsageStatement(
  sid: string,
  service: string,
  actions: string[],
  sourceArns?: string[],
  extraConditions: Record<string, Record<string, unknown>> = {},
): iam.PolicyStatement {
  const conditions: Record<string, Record<string, unknown>> = {
    StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
    ...extraConditions,
  };
  if (sourceArns && sourceArns.length > 0) {
    conditions.ArnLike = { 'aws:SourceArn': sourceArns.length === 1 ? sourceArns[0] : sourceArns };
  }
  return new iam.PolicyStatement({
    sid,
    principals: [new iam.ServicePrincipal(service)],
    actions,
    resources: ['*'],
    conditions,
  });
}

/** Options for a customer-managed key made by this library. */
export interface ManagedKeyOptions {
  readonly description: string;
  readonly rotationPeriod?: Duration;
  readonly pendingWindow?: Duration;
  readonly removalPolicy?: RemovalPolicy;
  readonly alias?: string;
  readonly keySpec?: kms.KeySpec;
}

/**
 * A symmetric customer-managed key with rotation, a 30-day pending window, RETAIN, and a
 * least-privilege key policy: administration for the account, no usage until statements are added.
 */
export function createManagedKey(scope: Construct, id: string, options: ManagedKeyOptions): kms.Key {
  const policy = new iam.PolicyDocument({
    statements: [keyAdminStatement(), denyCreateGrantStatement()],
  });
  const key = new kms.Key(scope, id, {
    description: options.description,
    enableKeyRotation: true,
    rotationPeriod: options.rotationPeriod ?? Duration.days(365),
    pendingWindow: options.pendingWindow ?? Duration.days(30),
    removalPolicy: options.removalPolicy ?? RemovalPolicy.RETAIN,
    policy,
    alias: options.alias,
  });
  return key;
}

/**
 * Renders statements as the JSON a user pastes into a key policy they own: with the stack's account
 * and Region known at synth, the account, Region, partition and URL suffix are literal values (no
 * `Ref` or `Fn::Join` of pseudo parameters). What only a deployment knows (the ARN of a role of the
 * app) stays as CloudFormation writes it.
 */
export function renderStatements(scope: Construct, statements: iam.PolicyStatement[]): string {
  const stack = Stack.of(scope);
  const pseudo: Record<string, string> = {};
  if (!Token.isUnresolved(stack.account)) pseudo['AWS::AccountId'] = stack.account;
  if (!Token.isUnresolved(stack.region)) {
    const info = RegionInfo.get(stack.region);
    pseudo['AWS::Region'] = stack.region;
    if (info.partition) pseudo['AWS::Partition'] = info.partition;
    if (info.domainSuffix) pseudo['AWS::URLSuffix'] = info.domainSuffix;
  }
  return JSON.stringify(literal(stack.resolve(statements.map((s) => s.toStatementJson())), pseudo));
}

/** Replaces the pseudo parameters it knows, and joins what became all literal. */
function literal(value: unknown, pseudo: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => literal(v, pseudo));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [fn, arg] = entries[0];
    if (fn === 'Ref' && typeof arg === 'string' && pseudo[arg] !== undefined) return pseudo[arg];
    if (fn === 'Fn::Join' && Array.isArray(arg) && arg.length === 2 && typeof arg[0] === 'string' && Array.isArray(arg[1])) {
      const parts = arg[1].map((p) => literal(p, pseudo));
      if (parts.every((p) => typeof p === 'string')) return parts.join(arg[0]);
      return { 'Fn::Join': [arg[0], parts] };
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, literal(v, pseudo)]));
}
