import * as iam from 'aws-cdk-lib/aws-iam';
import { SETS_OBJECT_ENCRYPTION } from '../bucket/bucket-policy';
import { KEY_ADMIN_ACTIONS, S3_KEY_WRITE_ACTIONS } from '../keys/key-policy';

/**
 * Actions a key policy cannot authorize (ListAliases, ListRetirableGrants) or that only matter once
 * a grant exists: tenant keys never have grants.
 */
const NOT_ON_TENANT_KEYS = ['kms:CreateGrant', 'kms:ListAliases', 'kms:ListRetirableGrants', 'kms:ListGrants', 'kms:RetireGrant', 'kms:RevokeGrant'];

/**
 * Administrative actions on a tenant key. CreateGrant is left out: S3 needs no grant for SSE-KMS,
 * and a grant is a second path to the data plane that the key policy would not show.
 */
export const TENANT_KEY_ADMIN_ACTIONS = KEY_ADMIN_ACTIONS.filter((a) => !NOT_ON_TENANT_KEYS.includes(a));

/** What S3 calls on a tenant key for SSE-KMS: GenerateDataKey to write, Decrypt to read and for multipart. */
export const TENANT_S3_ACTIONS = S3_KEY_WRITE_ACTIONS;

/** Actions for client-side (envelope) encryption called directly against KMS. */
export const TENANT_DIRECT_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext'];

/** What a tenant-key statement needs to know about where the key may be used. */
export interface TenantScope {
  /** The keyring's bucket ARN, fixed at synth. */
  readonly bucketArn: string;
  /** Root of the tenant prefixes, ending in '/'. */
  readonly tenantsPrefix: string;
  /** Principal-tag key and encryption-context key that name the tenant. */
  readonly tagKey: string;
  /** Principal-tag key whose value `pooled` marks a pooled-tier principal. */
  readonly tierTagKey: string;
  readonly region: string;
  readonly account: string;
  /** Whether S3 Bucket Keys may be used, which puts the bucket ARN in the encryption context. */
  readonly bucketKeys: boolean;
  /** The account root, as a literal ARN when account and partition are known at synth. */
  readonly root: iam.IPrincipal;
}

/** The value of the tier tag that the pooled key requires. */
export const POOLED_TIER_TAG_VALUE = 'pooled';

/**
 * The condition of every "directly" statement: the caller calls KMS itself (client-side
 * encryption), so the request has no `kms:ViaService`. Without it, a request that S3 makes with the
 * caller's `tenant` context entry would pass as direct: through S3 for any bucket, or with the
 * bucket-ARN context of S3 Bucket Keys that the S3 statements refuse (the pooled key always,
 * dedicated keys when s3BucketKeys is false).
 */
export const NOT_THROUGH_A_SERVICE = { 'kms:ViaService': 'true' };

/** `${aws:PrincipalTag/<key>}`: resolved by IAM at request time. */
export function principalTagVariable(tagKey: string): string {
  return '${aws:PrincipalTag/' + tagKey + '}';
}

/** The encryption-context values S3 sends for objects under one tenant prefix. */
function s3ContextArns(scope: TenantScope, tenant: string, allowBucketKey: boolean): string[] {
  const objects = `${scope.bucketArn}/${scope.tenantsPrefix}${tenant}/*`;
  return allowBucketKey ? [scope.bucketArn, objects] : [objects];
}

/** Administration by the account (through IAM) and by the named admins; never usage. */
export function tenantAdminStatements(scope: TenantScope, admins: iam.IPrincipal[]): iam.PolicyStatement[] {
  const statements = [new iam.PolicyStatement({
    sid: 'KeyAdministrationByTheAccount',
    principals: [scope.root],
    actions: TENANT_KEY_ADMIN_ACTIONS,
    resources: ['*'],
  })];
  if (admins.length > 0) {
    statements.push(new iam.PolicyStatement({
      sid: 'KeyAdministrationByNamedAdmins',
      principals: admins,
      actions: TENANT_KEY_ADMIN_ACTIONS,
      resources: ['*'],
    }));
  }
  return statements;
}

/**
 * A dedicated key's usage by principals tagged with its tenant: through S3 for the tenant's
 * prefix, or directly with the tenant's encryption context. The tag value is a literal, so the
 * statements name one tenant and their size does not depend on how many tenants exist. Rendered
 * as plain JSON, with the principal and action lists shared between tenants: at thousands of keys
 * this is most of the keyring's synth time.
 */
export function dedicatedTagStatementsJson(scope: TenantScope, tenant: string, rootJson: unknown): any[] {
  const tag = `aws:PrincipalTag/${scope.tagKey}`;
  return [
    {
      Action: TENANT_S3_ACTIONS,
      Condition: {
        StringEquals: { 'kms:ViaService': `s3.${scope.region}.amazonaws.com`, 'kms:CallerAccount': scope.account, [tag]: tenant },
        StringLike: { 'kms:EncryptionContext:aws:s3:arn': s3ContextArns(scope, tenant, scope.bucketKeys) },
      },
      Effect: 'Allow',
      Principal: rootJson,
      Resource: '*',
      Sid: 'TenantTaggedPrincipalsUseThroughS3',
    },
    {
      Action: TENANT_DIRECT_ACTIONS,
      Condition: {
        StringEquals: { 'kms:CallerAccount': scope.account, [tag]: tenant, [`kms:EncryptionContext:${scope.tagKey}`]: tenant },
        Null: NOT_THROUGH_A_SERVICE,
      },
      Effect: 'Allow',
      Principal: rootJson,
      Resource: '*',
      Sid: 'TenantTaggedPrincipalsEncryptDirectly',
    },
  ];
}

/** The JSON of a principal as a key-policy statement renders it. */
export function principalJson(principal: iam.IPrincipal): unknown {
  return new iam.PolicyStatement({ principals: [principal], actions: ['kms:DescribeKey'], resources: ['*'] }).toStatementJson().Principal;
}

/**
 * A dedicated key's usage by the tenant's named principals, with the same scoping as the tag
 * statements. Principals are added to these statements as grants are made.
 */
export function dedicatedPrincipalStatements(scope: TenantScope, tenant: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'TenantPrincipalsUseThroughS3',
      actions: TENANT_S3_ACTIONS,
      resources: ['*'],
      conditions: {
        StringEquals: { 'kms:ViaService': `s3.${scope.region}.amazonaws.com`, 'kms:CallerAccount': scope.account },
        StringLike: { 'kms:EncryptionContext:aws:s3:arn': s3ContextArns(scope, tenant, scope.bucketKeys) },
      },
    }),
    new iam.PolicyStatement({
      sid: 'TenantPrincipalsEncryptDirectly',
      actions: TENANT_DIRECT_ACTIONS,
      resources: ['*'],
      conditions: {
        StringEquals: { 'kms:CallerAccount': scope.account, [`kms:EncryptionContext:${scope.tagKey}`]: tenant },
        Null: NOT_THROUGH_A_SERVICE,
      },
    }),
  ];
}

/**
 * The pooled key's usage: only by principals tagged as pooled-tier tenants, only for their own
 * tenant, through S3 for their prefix with their `tenant` context entry, or directly with it. The
 * tag is a policy variable, so the policy is the same size for one tenant or ten thousand. S3 Bucket
 * Keys are never allowed here: a bucket-level key would be shared by every pooled tenant.
 *
 * The tier tag (`<tagKey>-tier` = `pooled`, set by grantTenant on pooled grantees only) keeps a
 * principal of a dedicated tenant out: tagged `tenant=acme` alone, it could otherwise write under
 * its own prefix with the pooled key and context `tenant=acme`, and those objects would stay
 * readable after acme's key is crypto-shredded. Listing the dedicated tenants here instead would
 * make the policy grow with them.
 */
export function pooledStatements(scope: TenantScope): iam.PolicyStatement[] {
  const tagVar = principalTagVariable(scope.tagKey);
  const context = `kms:EncryptionContext:${scope.tagKey}`;
  const pooledTier = { [`aws:PrincipalTag/${scope.tierTagKey}`]: POOLED_TIER_TAG_VALUE };
  const tagged = { [`aws:PrincipalTag/${scope.tagKey}`]: 'false' };
  return [
    new iam.PolicyStatement({
      sid: 'TaggedTenantsUseThroughS3ForTheirPrefix',
      principals: [scope.root],
      actions: TENANT_S3_ACTIONS,
      resources: ['*'],
      conditions: {
        StringEquals: { 'kms:ViaService': `s3.${scope.region}.amazonaws.com`, 'kms:CallerAccount': scope.account, [context]: tagVar, ...pooledTier },
        StringLike: { 'kms:EncryptionContext:aws:s3:arn': s3ContextArns(scope, tagVar, false) },
        Null: tagged,
      },
    }),
    new iam.PolicyStatement({
      sid: 'TaggedTenantsEncryptDirectlyWithTheirContext',
      principals: [scope.root],
      actions: TENANT_DIRECT_ACTIONS,
      resources: ['*'],
      conditions: {
        StringEquals: { 'kms:CallerAccount': scope.account, [context]: tagVar, ...pooledTier },
        Null: { ...tagged, ...NOT_THROUGH_A_SERVICE },
      },
    }),
  ];
}

const KEY_HEADER = 's3:x-amz-server-side-encryption-aws-kms-key-id';

/**
 * Every S3 action whose resource type is `object`, from the Service Authorization Reference
 * (list_amazons3.html, "Actions defined by Amazon S3"). Named one by one: a wildcard such as
 * `s3:*Object*` would also match bucket-level actions (Get/PutBucketObjectLockConfiguration), and a
 * `NotResource` denial covers the bucket ARN too. The bucket has Object Lock, so retention, legal
 * hold and the governance bypass are here with ACLs, version tagging and attributes, multipart part
 * listings, restores, torrents, annotations and replication.
 */
export const S3_OBJECT_ACTIONS = [
  's3:AbortMultipartUpload', 's3:BypassGovernanceRetention', 's3:DeleteObject', 's3:DeleteObjectAnnotation',
  's3:DeleteObjectTagging', 's3:DeleteObjectVersion', 's3:DeleteObjectVersionAnnotation',
  's3:DeleteObjectVersionTagging', 's3:GetObject', 's3:GetObjectAcl', 's3:GetObjectAnnotation',
  's3:GetObjectAttributes', 's3:GetObjectLegalHold', 's3:GetObjectRetention', 's3:GetObjectTagging',
  's3:GetObjectTorrent', 's3:GetObjectVersion', 's3:GetObjectVersionAcl', 's3:GetObjectVersionAnnotation',
  's3:GetObjectVersionAnnotationForReplication', 's3:GetObjectVersionAttributes',
  's3:GetObjectVersionForReplication', 's3:GetObjectVersionTagging', 's3:GetObjectVersionTorrent',
  's3:InitiateReplication', 's3:ListMultipartUploadParts', 's3:ListObjectAnnotations',
  's3:ListObjectVersionAnnotations', 's3:ObjectOwnerOverrideToBucketOwner', 's3:PutObject',
  's3:PutObjectAcl', 's3:PutObjectAnnotation', 's3:PutObjectLegalHold', 's3:PutObjectRetention',
  's3:PutObjectTagging', 's3:PutObjectVersionAcl', 's3:PutObjectVersionAnnotation',
  's3:PutObjectVersionTagging', 's3:ReplicateDelete', 's3:ReplicateObject', 's3:ReplicateObjectAnnotation',
  's3:ReplicateTags', 's3:RestoreObject', 's3:UpdateObjectEncryption',
];

/**
 * Bucket-policy statements for the tenant prefixes. None names a tenant, so the policy is the same
 * size for any number of tenants: a write under the tenant root that names a KMS key must name a
 * key of this account and Region other than the bucket's default key (the tenant key policies then
 * decide which), and a principal that carries the tenant tag is held to its own prefix.
 *
 * A write that names no key is not denied here, because S3 cannot tell it apart from a multipart
 * upload's later calls. The S3 User Guide (conditional-writes-enforce.html): "For multipart uploads
 * you must specify the s3:ObjectCreationOperation condition key to exempt the CreateMultipartUpload,
 * UploadPart, and UploadPartCopy operations"; its examples then require the header of "PutObject
 * and CompleteMultipartUpload requests": s3:ObjectCreationOperation is true for
 * CompleteMultipartUpload as for PutObject and CopyObject. UploadPart, UploadPartCopy and
 * CompleteMultipartUpload are authorized as s3:PutObject and carry no SSE header (mpuoverview.html),
 * so a denial of "no key id" would refuse every multipart upload, and no condition key separates a
 * header-less CompleteMultipartUpload from a header-less single PutObject. Such a PutObject (or
 * CreateMultipartUpload) is encrypted with the bucket's default key instead, and fails in KMS: see
 * `bucketKeyTenantDenyStatement`. Each denial here therefore matches only a request that names a
 * key (`Null` key id = false), which multipart parts and completions never do.
 */
export function tenantBucketStatements(scope: TenantScope, bucketKeyArn: string, partition: string, abac: boolean): iam.PolicyStatement[] {
  const tenantObjects = `${scope.bucketArn}/${scope.tenantsPrefix}*`;
  const namesAKey = { [KEY_HEADER]: 'false' };
  const deny = (sid: string, conditions: Record<string, Record<string, unknown>>) => new iam.PolicyStatement({
    sid,
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    // UpdateObjectEncryption carries the key-id condition key too (see SETS_OBJECT_ENCRYPTION).
    actions: SETS_OBJECT_ENCRYPTION,
    resources: [tenantObjects],
    conditions: { ...conditions, Null: namesAKey },
  });
  const statements = [
    deny('DenyTenantPutWithTheBucketDefaultKey', { StringEquals: { [KEY_HEADER]: bucketKeyArn } }),
    deny('DenyTenantPutWithAKeyOfAnotherAccountOrRegion', {
      StringNotLike: { [KEY_HEADER]: `arn:${partition}:kms:${scope.region}:${scope.account}:key/*` },
    }),
  ];
  if (abac) {
    const tagVar = principalTagVariable(scope.tagKey);
    const tagged = { [`aws:PrincipalTag/${scope.tagKey}`]: 'false' };
    statements.push(
      new iam.PolicyStatement({
        sid: 'DenyTaggedTenantsObjectsOutsideTheirPrefix',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: S3_OBJECT_ACTIONS,
        notResources: [`${scope.bucketArn}/${scope.tenantsPrefix}${tagVar}/*`],
        conditions: { Null: tagged },
      }),
      new iam.PolicyStatement({
        sid: 'DenyTaggedTenantsListingOutsideTheirPrefix',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:ListBucket', 's3:ListBucketVersions'],
        resources: [scope.bucketArn],
        conditions: { Null: tagged, StringNotLike: { 's3:prefix': `${scope.tenantsPrefix}${tagVar}/*` } },
      }),
      // ListBucketMultipartUploads takes no s3:prefix condition key (Service Authorization
      // Reference), so it cannot be limited to a prefix: it would show every tenant's uploads.
      new iam.PolicyStatement({
        sid: 'DenyTaggedTenantsListingEveryUpload',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:ListBucketMultipartUploads'],
        resources: [scope.bucketArn],
        conditions: { Null: tagged },
      }),
    );
  }
  return statements;
}

/** Data-plane actions that a principal carrying the tenant tag may not perform with the bucket's default key. */
export const BUCKET_KEY_ACTIONS_DENIED_TO_TENANTS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'];

/**
 * A statement for the bucket's default key: principals that carry the tenant tag may not use it.
 *
 * Without SSE headers, S3 encrypts a PutObject or CreateMultipartUpload with the bucket's default
 * encryption (PutObject API reference), so a tenant principal's header-less write under its prefix
 * fails here, in KMS, where the bucket policy cannot refuse it (see `tenantBucketStatements`). S3
 * Bucket Keys do not skip this check: "Unique bucket-level keys are fetched at least once per
 * requester to ensure that the requester's access to the key is captured in an AWS KMS CloudTrail
 * event" (S3 User Guide, bucket-key.html).
 *
 * Decrypt and ReEncrypt are denied too, not only the encrypting actions: this key protects no
 * tenant's data. An object under a tenant prefix that it could decrypt would outlive the tenant's
 * crypto-shredding, so it belongs under the tenant's key (re-encrypt it); outside the tenant root a
 * tagged principal may read nothing, which the bucket policy already says and this says again for
 * every other bucket or service that shares the key.
 */
export function bucketKeyTenantDenyStatement(tagKey: string): iam.PolicyStatement {
  const word = tagKey.replace(/[^A-Za-z0-9]/g, '');
  return new iam.PolicyStatement({
    sid: `DenyUseByPrincipalsTagged${word.charAt(0).toUpperCase()}${word.slice(1)}`,
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: BUCKET_KEY_ACTIONS_DENIED_TO_TENANTS,
    resources: ['*'],
    conditions: { Null: { [`aws:PrincipalTag/${tagKey}`]: 'false' } },
  });
}

/** IAM-side statements of a grant on one tenant's prefix (S3 side). */
export function tenantS3GrantStatements(scope: TenantScope, tenant: string, read: boolean, write: boolean): iam.PolicyStatement[] {
  const objects = `${scope.bucketArn}/${scope.tenantsPrefix}${tenant}/*`;
  const statements: iam.PolicyStatement[] = [];
  if (read) {
    statements.push(
      new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAttributes'], resources: [objects] }),
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [scope.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${scope.tenantsPrefix}${tenant}/`, `${scope.tenantsPrefix}${tenant}/*`] } },
      }),
    );
  }
  if (write) {
    statements.push(new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'], resources: [objects] }));
  }
  return statements;
}
