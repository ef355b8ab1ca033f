import { createHash } from 'node:crypto';
import { Aws, CfnResource, Duration, Names, IResolvable, IResolveContext, NestedStack, RemovalPolicy, Stack, Tags, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct, IConstruct } from 'constructs';
import {
  bucketKeyTenantDenyStatement,
  dedicatedPrincipalStatements,
  dedicatedTagStatementsJson,
  NOT_THROUGH_A_SERVICE,
  principalJson,
  POOLED_TIER_TAG_VALUE,
  pooledStatements,
  TENANT_DIRECT_ACTIONS,
  TenantScope,
  tenantAdminStatements,
  tenantBucketStatements,
  tenantS3GrantStatements,
} from './tenant-policy';
import { EncryptedBucket, ObjectEncryption } from '../bucket/encrypted-bucket';
import { checkIntRange, invalidProp, warnWeakened } from '../internal/validation';
import { denyCreateGrantStatement, renderStatements, S3_KEY_READ_ACTIONS, S3_KEY_WRITE_ACTIONS } from '../keys/key-policy';
import { governedBy } from '../platform/encryption-defaults';

/**
 * How a tenant's data is isolated.
 */
export enum TenantTier {
  /** One customer-managed key per tenant ($1 a month each); the tenant can be crypto-shredded. */
  DEDICATED = 'DEDICATED',
  /**
   * One key shared by every pooled tenant, isolated by the encryption-context entry that must equal
   * the caller's principal tag; no per-tenant key cost and no per-tenant crypto-shredding.
   */
  POOLED = 'POOLED',
}

/**
 * What a grant on a tenant allows.
 */
export enum TenantAccess {
  /** Read and list the tenant's objects. */
  READ = 'READ',
  /** Write and delete the tenant's objects. */
  WRITE = 'WRITE',
  /** Both. */
  READ_WRITE = 'READ_WRITE',
}

/**
 * Properties of a TenantKeyring.
 */
export interface TenantKeyringProps {
  /** The bucket whose tenant prefixes the keys protect. */
  readonly bucket: EncryptedBucket;

  /**
   * Prefix of the tenant aliases: a dedicated tenant's alias is `alias/<aliasPrefix>/<tenant>`.
   *
   * @default 'tenants'
   */
  readonly aliasPrefix?: string;

  /**
   * Root of the per-tenant object prefixes in the bucket, ending in '/': a tenant's objects live
   * under `<tenantsPrefix><tenant>/`.
   *
   * @default 'tenants/'
   */
  readonly tenantsPrefix?: string;

  /**
   * The principal-tag key that names a principal's tenant, also used as the encryption-context key.
   * Pooled-tier principals also carry `<tenantTagKey>-tier` = `pooled`.
   *
   * @default 'tenant'
   */
  readonly tenantTagKey?: string;

  /**
   * Whether principals tagged `<tenantTagKey>=<tenant>` may use their tenant's key (attribute-based
   * access); the pooled tier always works this way.
   *
   * @default true
   */
  readonly abac?: boolean;

  /**
   * Principals that administer every tenant key (no encrypt or decrypt).
   *
   * @default - only the account, through IAM policies, administers the keys
   */
  readonly admins?: iam.IPrincipal[];

  /**
   * Whether dedicated tenant keys accept S3 Bucket Keys, whose encryption context is the bucket ARN
   * rather than the object ARN; off binds each key to its tenant's prefix in KMS as well.
   *
   * @default true
   */
  readonly s3BucketKeys?: boolean;

  /**
   * Waiting period (7 to 30 days) before a retired tenant's key is deleted.
   *
   * @default Duration.days(30)
   */
  readonly pendingWindow?: Duration;

  /**
   * Rotation period (90 to 2560 days) of every key of the keyring.
   *
   * @default Duration.days(365)
   */
  readonly rotationPeriod?: Duration;

  /**
   * Number of nested stacks the dedicated tenants are hashed into (1 to 250). Fix it at the first
   * deployment: changing it moves tenants between stacks, which replaces their keys.
   *
   * @default 10 (up to about 1,200 dedicated tenants)
   */
  readonly shardCount?: number;
}

/**
 * Options of one tenant.
 */
export interface TenantOptions {
  /**
   * The tenant's isolation tier.
   *
   * @default TenantTier.DEDICATED
   */
  readonly tier?: TenantTier;

  /**
   * Principals of this account named in the tenant key's policy, besides tagged principals
   * (dedicated tier only; grantTenant adds more).
   *
   * @default - none
   */
  readonly principals?: iam.IPrincipal[];

  /**
   * Waiting period (7 to 30 days) before this tenant's key is deleted once retired (dedicated tier only).
   *
   * @default - the keyring's pendingWindow
   */
  readonly pendingWindow?: Duration;
}

/** Suffix of the tier tag key, `<tenantTagKey>-tier`. */
const TIER_TAG_SUFFIX = '-tier';

/** The tag keys whose principals a bucket key already denies, per key. */
const TAG_KEYS_DENIED = new WeakMap<kms.IKey, Set<string>>();

/**
 * Most dedicated tenants in one nested stack: 2 resources and about 3.5 KB of template each keeps
 * a shard near half of CloudFormation's 500 resources and 1 MB, with room for grants.
 */
const MAX_TENANTS_PER_SHARD = 160;
/** Longest tenant id: alias names, tag values and S3 prefixes all allow it with room to spare. */
const MAX_TENANT_ID_LENGTH = 64;
const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const MAX_SHARDS = 250;

interface TenantKeyInit {
  readonly tenantId: string;
  readonly tier: TenantTier;
  /** The pooled key; unset for a dedicated tenant, whose key is `cfnKey`. */
  readonly key?: kms.IKey;
  readonly cfnKey?: kms.CfnKey;
  readonly keyPolicyAdditions?: iam.PolicyDocument;
  readonly aliasName: string;
  readonly s3Prefix: string;
  readonly tagKey: string;
  readonly shard?: NestedStack;
}

/**
 * One tenant of a keyring: its key, alias, prefix and encryption context.
 */
export class TenantKey {
  /** @internal */
  public static _create(init: TenantKeyInit): TenantKey {
    return new TenantKey(init);
  }

  /** The tenant id. */
  public readonly tenantId: string;
  /** The tenant's tier. */
  public readonly tier: TenantTier;
  /** The alias of the key: `alias/<prefix>/<tenant>`, or the pooled key's alias. */
  public readonly aliasName: string;
  /** The tenant's object prefix in the keyring's bucket. */
  public readonly s3Prefix: string;
  /** The encryption context every request for this tenant carries. */
  public readonly encryptionContext: { [key: string]: string };
  /** The nested stack that holds a dedicated tenant's key. */
  public readonly shard?: NestedStack;
  private _retired = false;
  /** @internal */
  public readonly _principalStatements: iam.PolicyStatement[] = [];
  /** @internal */
  public readonly _cfnKey?: kms.CfnKey;
  /** @internal */
  public readonly _keyPolicyAdditions?: iam.PolicyDocument;
  private _key?: kms.IKey;

  private constructor(init: TenantKeyInit) {
    this.tenantId = init.tenantId;
    this.tier = init.tier;
    this._key = init.key;
    this._cfnKey = init.cfnKey;
    this._keyPolicyAdditions = init.keyPolicyAdditions;
    this.aliasName = init.aliasName;
    this.s3Prefix = init.s3Prefix;
    this.encryptionContext = { [init.tagKey]: init.tenantId };
    this.shard = init.shard;
  }

  /**
   * The key that protects the tenant's data (the pooled key for pooled tenants). A dedicated key is
   * returned as a reference: its policy belongs to the keyring, so grant with `grantTenant`.
   */
  public get key(): kms.IKey {
    if (!this._key) {
      // Made on first use only: at thousands of tenants an L2 per key would double the synth time.
      this._key = kms.Key.fromKeyArn(this.shard!, `Tenant-${this.tenantId}-KeyRef`, this._cfnKey!.attrArn);
    }
    return this._key;
  }

  /** The key's ARN: name it in `x-amz-server-side-encryption-aws-kms-key-id` for this tenant's writes. */
  public get keyArn(): string {
    return this._cfnKey ? this._cfnKey.attrArn : this.key.keyArn;
  }

  /** Whether the tenant was retired (key disabled, deletion scheduled when it leaves the keyring). */
  public get retired(): boolean {
    return this._retired;
  }

  /** @internal */
  public _markRetired(): void {
    this._retired = true;
  }
}

/** The KMS alias names each app's keyrings make, by environment (see claimAlias). */
const ALIASES = new WeakMap<IConstruct, Map<string, TenantKeyring>>();

/**
 * Per-tenant encryption keys for a multi-tenant bucket: a dedicated key per tenant or one pooled
 * key isolated by encryption context, key policies that no other tenant's principal can use,
 * per-tenant prefixes in an EncryptedBucket, grants, crypto-shredding, and nested stacks that keep
 * every stack under CloudFormation's limits whatever the number of tenants.
 *
 * @example
 * const bucket = new EncryptedBucket(this, 'Data');
 * const keyring = new TenantKeyring(this, 'Tenants', { bucket });
 * const acme = keyring.addTenant('acme');
 * keyring.addTenant('small-co', { tier: TenantTier.POOLED });
 * keyring.grantTenant('acme', acmeRole, TenantAccess.READ_WRITE);
 */
export class TenantKeyring extends Construct {
  /** Most dedicated tenants one nested stack (shard) may hold. */
  public static readonly MAX_TENANTS_PER_SHARD = MAX_TENANTS_PER_SHARD;
  /** Longest tenant id. */
  public static readonly MAX_TENANT_ID_LENGTH = MAX_TENANT_ID_LENGTH;

  /**
   * The shard of a tenant: a SHA-256 hash of its id alone, so no other tenant can change it.
   */
  public static shardOf(tenantId: string, shardCount: number): number {
    return createHash('sha256').update(tenantId).digest().readUInt32BE(0) % shardCount;
  }

  /** The bucket of the tenant prefixes. */
  public readonly bucket: EncryptedBucket;
  /** Prefix of the tenant aliases. */
  public readonly aliasPrefix: string;
  /** Root of the tenant prefixes in the bucket. */
  public readonly tenantsPrefix: string;
  /** The principal-tag and encryption-context key that names a tenant. */
  public readonly tenantTagKey: string;
  /**
   * The principal-tag key that marks a pooled-tier principal (`<tenantTagKey>-tier`, value
   * `pooled`): the pooled key admits only principals that carry it, so a principal of a dedicated
   * tenant cannot put its data under the pooled key, out of reach of its own crypto-shredding.
   */
  public readonly tenantTierTagKey: string;
  /** Number of nested stacks the dedicated tenants are hashed into. */
  public readonly shardCount: number;
  private readonly scope: TenantScope;
  private readonly abac: boolean;
  private readonly admins: iam.IPrincipal[];
  private readonly pendingWindow: Duration;
  private readonly rotationPeriod: Duration;
  private readonly tenants = new Map<string, TenantKey>();
  private readonly lowerIds = new Map<string, string>();
  private readonly shards = new Map<number, NestedStack>();
  private readonly shardLoad = new Map<number, number>();
  private readonly principalOwners = new Map<object, string>();
  private _pooledKey?: kms.Key;
  private _sharedStatements?: any[];
  private _rootJson?: unknown;

  constructor(scope: Construct, id: string, props: TenantKeyringProps) {
    super(scope, id);
    // Props given here win; then the EncryptionDefaults nearest above, value by value.
    const d = governedBy(this, 'keyring').values;
    props = {
      ...props,
      aliasPrefix: props.aliasPrefix ?? d.tenantAliasPrefix,
      rotationPeriod: props.rotationPeriod ?? d.keyRotationPeriod,
      pendingWindow: props.pendingWindow ?? d.keyPendingWindow,
    };
    const bucket = props.bucket;
    if (!bucket || !(bucket instanceof EncryptedBucket)) {
      invalidProp(this, 'bucket', (bucket as any)?.node?.path ?? bucket, 'must be an EncryptedBucket of this app');
    }
    if (bucket.objectEncryption === ObjectEncryption.SSE_C) {
      invalidProp(this, 'bucket', bucket.node.path, 'must use SSE-KMS, DSSE-KMS or CLIENT_SIDE: tenant keys are KMS keys, and an SSE_C bucket refuses KMS-encrypted writes');
    }
    this.bucket = bucket;
    this.aliasPrefix = props.aliasPrefix ?? 'tenants';
    this.tenantsPrefix = props.tenantsPrefix ?? 'tenants/';
    this.tenantTagKey = props.tenantTagKey ?? 'tenant';
    this.tenantTierTagKey = `${this.tenantTagKey}${TIER_TAG_SUFFIX}`;
    this.shardCount = props.shardCount ?? 10;
    this.abac = props.abac ?? true;
    this.admins = props.admins ?? [];
    this.pendingWindow = props.pendingWindow ?? Duration.days(30);
    this.rotationPeriod = props.rotationPeriod ?? Duration.days(365);
    this.validateProps(props);

    const stack = Stack.of(this);
    // Literal ARNs where the Region and account are known: each tenant's policy then resolves no
    // token, which keeps synth fast and templates small at thousands of tenants.
    const partition = Token.isUnresolved(stack.region) ? undefined : RegionInfo.get(stack.region).partition;
    const literal = partition !== undefined && !Token.isUnresolved(stack.account);
    const bucketArn = partition ? bucket.stableBucketArn.split(Aws.PARTITION).join(partition) : bucket.stableBucketArn;
    this.scope = {
      root: literal ? new iam.ArnPrincipal(`arn:${partition}:iam::${stack.account}:root`) : new iam.AccountRootPrincipal(),
      bucketArn: Token.isUnresolved(bucketArn) ? bucket.stableBucketArn : bucketArn,
      tenantsPrefix: this.tenantsPrefix,
      tagKey: this.tenantTagKey,
      tierTagKey: this.tenantTierTagKey,
      region: stack.region,
      account: stack.account,
      bucketKeys: props.s3BucketKeys ?? true,
    };

    for (const statement of tenantBucketStatements(this.scope, bucket.bucketKey.keyArn, stack.partition, this.abac)) {
      bucket.addToResourcePolicy(statement);
    }
    // The bucket's own key pin would deny every tenant key: leave the tenant root to the statements above.
    bucket.allowOtherKmsKeysUnder(this.tenantsPrefix);
    // A tenant write without SSE headers gets the bucket's default key: tenant principals must not
    // be able to use it. Named principals get no permission on it from grantTenant; tagged ones are
    // denied in its key policy.
    if (this.abac) this.denyBucketKeyToTaggedPrincipals(bucket);
    this.node.addValidation({ validate: () => this.validateShards() });
  }

  /** The pooled key, made when the first pooled tenant is added. */
  public get pooledKey(): kms.IKey | undefined {
    return this._pooledKey;
  }

  /** Every tenant, in the order they were added. */
  public get tenantIds(): string[] {
    return [...this.tenants.keys()];
  }

  /**
   * Adds a tenant and returns its key handle. A dedicated tenant gets its own key and alias in a
   * nested stack chosen by hashing its id, so adding or removing a tenant never moves another.
   */
  public addTenant(tenantId: string, options: TenantOptions = {}): TenantKey {
    this.validateTenantId(tenantId);
    const tier = options.tier ?? TenantTier.DEDICATED;
    if (!Object.values(TenantTier).includes(tier)) {
      invalidProp(this, `tier of tenant '${tenantId}'`, tier, `must be one of ${Object.values(TenantTier).join(', ')}`);
    }
    if (options.pendingWindow) checkIntRange(this, `pendingWindow of tenant '${tenantId}' (days)`, options.pendingWindow.toDays(), 7, 30);
    const s3Prefix = `${this.tenantsPrefix}${tenantId}/`;
    let tenant: TenantKey;
    if (tier === TenantTier.POOLED) {
      for (const [option, set] of [['principals', options.principals !== undefined], ['pendingWindow', options.pendingWindow !== undefined]] as const) {
        if (set) {
          invalidProp(this, `${option} of pooled tenant '${tenantId}'`, option === 'principals' ? options.principals?.length : options.pendingWindow?.toDays(),
            'is a dedicated-tier option: pooled tenants share one key, are admitted by their principal tag and cannot be deleted one by one');
        }
      }
      if (!this.abac) {
        invalidProp(this, `tier of tenant '${tenantId}'`, tier, 'POOLED needs abac (true or unset): pooled tenants are told apart only by their principal tag');
      }
      const key = this.ensurePooledKey();
      tenant = TenantKey._create({ tenantId, tier, key, aliasName: this.pooledAliasName(), s3Prefix, tagKey: this.tenantTagKey });
    } else {
      tenant = this.makeDedicated(tenantId, s3Prefix, options);
    }
    this.tenants.set(tenantId, tenant);
    this.lowerIds.set(tenantId.toLowerCase(), tenantId);
    return tenant;
  }

  /** The handle of a tenant added earlier. */
  public tenant(tenantId: string): TenantKey {
    const t = this.tenants.get(tenantId);
    if (!t) invalidProp(this, 'tenantId', tenantId, `is not a tenant of this keyring; add it with addTenant first (${this.tenants.size} tenants)`);
    return t;
  }

  /**
   * Lets a principal read, write or both in one tenant's prefix: S3 permissions on the prefix and
   * KMS permissions on the tenant's key, scoped to S3 for that prefix or to the tenant's encryption
   * context. A principal can belong to one tenant only. A pooled tenant's principal must be an IAM
   * role or user of this app, which is tagged with the tenant.
   */
  public grantTenant(tenantId: string, grantee: iam.IGrantable, access: TenantAccess): iam.Grant {
    const tenant = this.tenant(tenantId);
    if (!Object.values(TenantAccess).includes(access)) {
      invalidProp(this, 'access', access, `must be one of ${Object.values(TenantAccess).join(', ')}`);
    }
    const principal = grantee.grantPrincipal;
    const owner = this.principalOwners.get(principal);
    if (owner !== undefined && owner !== tenantId) {
      invalidProp(this, `grantee of tenant '${tenantId}'`, (principal as unknown as IConstruct).node?.path ?? principal.toString(),
        `already belongs to tenant '${owner}': a principal may use one tenant's key only; use one role per tenant`);
    }
    this.principalOwners.set(principal, tenantId);

    const read = access !== TenantAccess.WRITE;
    const write = access !== TenantAccess.READ;
    const kmsActions = [...new Set([...(read ? S3_KEY_READ_ACTIONS : []), ...(write ? S3_KEY_WRITE_ACTIONS : [])])];
    const directActions = TENANT_DIRECT_ACTIONS.filter((a) => kmsActions.includes(a) || (write && a.startsWith('kms:GenerateDataKey')));
    const contextKey = `kms:EncryptionContext:${this.tenantTagKey}`;
    const viaS3 = {
      StringEquals: { 'kms:ViaService': `s3.${this.scope.region}.amazonaws.com`, 'kms:CallerAccount': this.scope.account, ...(tenant.tier === TenantTier.POOLED ? { [contextKey]: tenantId } : {}) },
      StringLike: { 'kms:EncryptionContext:aws:s3:arn': tenant.tier === TenantTier.POOLED || !this.scope.bucketKeys ? [`${this.scope.bucketArn}/${tenant.s3Prefix}*`] : [this.scope.bucketArn, `${this.scope.bucketArn}/${tenant.s3Prefix}*`] },
    };

    if (tenant.tier === TenantTier.POOLED) {
      if (!(principal instanceof iam.Role) && !(principal instanceof iam.User)) {
        invalidProp(this, `grantee of pooled tenant '${tenantId}'`, (principal as unknown as IConstruct).node?.path ?? principal.toString(),
          `must be an iam.Role or iam.User made in this app, so that it can be tagged ${this.tenantTagKey}=${tenantId} and ${this.tenantTierTagKey}=${POOLED_TIER_TAG_VALUE}; tag other principals yourself and grant them S3 access by IAM`);
      }
      // The pooled key policy admits a principal by its tags: the tenant tag ties it to the tenant,
      // the tier tag to the pooled tier (a dedicated tenant's principal never carries it).
      Tags.of(principal).add(this.tenantTagKey, tenantId);
      Tags.of(principal).add(this.tenantTierTagKey, POOLED_TIER_TAG_VALUE);
    } else {
      this.addTenantPrincipal(tenant, principal);
    }

    const statements = [
      new iam.PolicyStatement({ actions: kmsActions, resources: [tenant.keyArn], conditions: viaS3 }),
      new iam.PolicyStatement({
        actions: directActions,
        resources: [tenant.keyArn],
        conditions: { StringEquals: { 'kms:CallerAccount': this.scope.account, [contextKey]: tenantId }, Null: NOT_THROUGH_A_SERVICE },
      }),
      ...tenantS3GrantStatements(this.scope, tenantId, read, write),
    ];
    const target = this.grantTarget(grantee, tenantId);
    let grant: iam.Grant | undefined;
    for (const st of statements) {
      const g = iam.Grant.addToPrincipal({ grantee: target, actions: st.actions, resourceArns: st.resources, conditions: st.conditions });
      grant = grant ? grant.combine(g) : g;
    }
    return grant!;
  }

  /**
   * Offboards a dedicated tenant by crypto-shredding, step one: the key is disabled (nothing can
   * decrypt the tenant's objects) and its removal policy becomes DESTROY with the pending window.
   * Step two is removing the tenant from the keyring: CloudFormation then deletes the alias and
   * schedules the key's deletion after the pending window, during which `aws kms cancel-key-deletion`
   * still restores it. No other tenant's key or stack placement changes.
   */
  public retireTenant(tenantId: string): TenantKey {
    const tenant = this.tenant(tenantId);
    if (tenant.tier === TenantTier.POOLED) {
      invalidProp(this, 'tenantId', tenantId,
        `is a pooled tenant: its key is shared, so it cannot be crypto-shredded alone; delete its objects under '${tenant.s3Prefix}' and remove its principals' tag, or move it to the dedicated tier before offboarding`);
    }
    const key = tenant._cfnKey!;
    key.enabled = false;
    key.applyRemovalPolicy(RemovalPolicy.DESTROY);
    tenant._markRetired();
    return tenant;
  }

  private denyBucketKeyToTaggedPrincipals(bucket: EncryptedBucket): void {
    const key = bucket.bucketKey;
    const statement = bucketKeyTenantDenyStatement(this.tenantTagKey);
    if (key instanceof kms.Key) {
      // Two keyrings on one bucket (or on buckets sharing a key) with one tag key add it once.
      const done = TAG_KEYS_DENIED.get(key) ?? new Set<string>();
      if (!done.has(this.tenantTagKey)) key.addToResourcePolicy(statement);
      done.add(this.tenantTagKey);
      TAG_KEYS_DENIED.set(key, done);
      return;
    }
    warnWeakened(this, 'bucket',
      `the key of ${bucket.node.path} (${Token.isUnresolved(key.keyArn) ? 'imported' : key.keyArn}) is not a kms.Key of this app, so this keyring cannot change its policy: a write without SSE headers by a principal tagged ${this.tenantTagKey} under '${this.tenantsPrefix}' would be encrypted with it wherever that principal may use it. Add this statement to its key policy: ${renderStatements(this, [statement])}`,
      []);
  }

  private makeDedicated(tenantId: string, s3Prefix: string, options: TenantOptions): TenantKey {
    const shardIndex = TenantKeyring.shardOf(tenantId, this.shardCount);
    const shard = this.shardFor(shardIndex);
    const own = this.abac
      ? [...this.sharedKeyStatements(), ...dedicatedTagStatementsJson(this.scope, tenantId, this.rootJson())]
      : this.sharedKeyStatements();
    // Grants reach this document; the rest of the policy is fixed JSON.
    const added = new iam.PolicyDocument();
    // L1 resources: the L2 Key and Alias would add a construct, tokens and validations per tenant.
    const key = new kms.CfnKey(shard, `Tenant-${tenantId}-Key`, {
      description: `Key of tenant ${tenantId} in ${this.node.path}`,
      enableKeyRotation: true,
      rotationPeriodInDays: this.rotationPeriod.toDays(),
      pendingWindowInDays: (options.pendingWindow ?? this.pendingWindow).toDays(),
      keyPolicy: new KeyPolicyJson(own, added),
      tags: [{ key: this.tenantTagKey, value: tenantId }],
    });
    key.applyRemovalPolicy(RemovalPolicy.RETAIN);
    const aliasName = `alias/${this.aliasPrefix}/${tenantId}`;
    this.claimAlias(aliasName, `tenant '${tenantId}'`);
    const alias = new kms.CfnAlias(shard, `Tenant-${tenantId}-Alias`, { aliasName, targetKeyId: key.attrArn });
    // Top-level ids in a stack get no hash, and 'a-b' and 'ab' would both become 'Tenantab...'.
    const suffix = createHash('sha256').update(tenantId).digest('hex').slice(0, 8).toUpperCase();
    const readable = tenantId.replace(/[^A-Za-z0-9]/g, '');
    key.overrideLogicalId(`Tenant${readable}Key${suffix}`);
    alias.overrideLogicalId(`Tenant${readable}Alias${suffix}`);
    const tenant = TenantKey._create({
      tenantId, tier: TenantTier.DEDICATED, cfnKey: key, keyPolicyAdditions: added, aliasName, s3Prefix, tagKey: this.tenantTagKey, shard,
    });
    for (const p of options.principals ?? []) this.addTenantPrincipal(tenant, p);
    return tenant;
  }

  /**
   * Roles, users and groups of this app get the grant as a customer-managed policy, one per tenant,
   * rather than an inline policy (HIPAA/NIST/PCI IAMNoInlinePolicy); other principals as usual.
   */
  private grantTarget(grantee: iam.IGrantable, tenantId: string): iam.IGrantable {
    const principal = grantee.grantPrincipal;
    if (!(principal instanceof iam.Role || principal instanceof iam.User || principal instanceof iam.Group)) return grantee;
    const id = `TenantGrant-${Names.uniqueId(this)}-${tenantId}`;
    let policy = principal.node.tryFindChild(id) as iam.ManagedPolicy | undefined;
    if (!policy) {
      policy = new iam.ManagedPolicy(principal, id, { description: `Access to tenant ${tenantId} of ${this.node.path}` });
      if (principal instanceof iam.Role) policy.attachToRole(principal);
      else if (principal instanceof iam.User) policy.attachToUser(principal);
      else policy.attachToGroup(principal);
    }
    return { grantPrincipal: new ManagedPolicyPrincipal(principal, policy) };
  }

  /** The account root as a rendered principal, shared by every dedicated key policy. */
  private rootJson(): unknown {
    this._rootJson ??= principalJson(this.scope.root);
    return this._rootJson;
  }

  /** Statements every dedicated key shares, rendered once and reused by reference. */
  private sharedKeyStatements(): any[] {
    if (!this._sharedStatements) {
      this._sharedStatements = [...tenantAdminStatements(this.scope, this.admins), denyCreateGrantStatement()].map((st) => st.toStatementJson());
    }
    return this._sharedStatements;
  }

  private addTenantPrincipal(tenant: TenantKey, principal: iam.IPrincipal): void {
    if (tenant._principalStatements.length === 0) {
      tenant._principalStatements.push(...dedicatedPrincipalStatements(this.scope, tenant.tenantId));
      for (const s of tenant._principalStatements) s.addPrincipals(principal);
      tenant._keyPolicyAdditions!.addStatements(...tenant._principalStatements);
    } else {
      for (const s of tenant._principalStatements) s.addPrincipals(principal);
    }
  }

  private shardFor(index: number): NestedStack {
    let shard = this.shards.get(index);
    if (!shard) {
      shard = new NestedStack(this, `Shard${index}`, {
        description: `Tenant keys of ${this.node.path}, shard ${index} of ${this.shardCount}`,
      });
      this.shards.set(index, shard);
    }
    this.shardLoad.set(index, (this.shardLoad.get(index) ?? 0) + 1);
    return shard;
  }

  private ensurePooledKey(): kms.Key {
    if (!this._pooledKey) {
      const key = new kms.Key(this, 'PooledKey', {
        description: `Pooled key of the tenants of ${this.node.path}`,
        enableKeyRotation: true,
        rotationPeriod: this.rotationPeriod,
        pendingWindow: this.pendingWindow,
        removalPolicy: RemovalPolicy.RETAIN,
        policy: new iam.PolicyDocument({
          statements: [...tenantAdminStatements(this.scope, this.admins), denyCreateGrantStatement(), ...pooledStatements(this.scope)],
        }),
      });
      this.claimAlias(this.pooledAliasName(), 'the pooled key');
      new kms.Alias(this, 'PooledAlias', { aliasName: this.pooledAliasName(), targetKey: key });
      this._pooledKey = key;
    }
    return this._pooledKey;
  }

  /**
   * An alias name is unique per account and Region ("The alias name must be unique in the account
   * and Region", CreateAlias, KMS API Reference): two keyrings of the app making the same one in one
   * environment would fail the second deploy. Stacks whose account or Region is not known at synth
   * count as one environment, since they may deploy to the same one.
   */
  private claimAlias(aliasName: string, what: string): void {
    const stack = Stack.of(this);
    const env = `${Token.isUnresolved(stack.account) ? '(any account)' : stack.account}/${Token.isUnresolved(stack.region) ? '(any Region)' : stack.region}`;
    const root = this.node.root;
    let claimed = ALIASES.get(root);
    if (!claimed) ALIASES.set(root, claimed = new Map());
    const key = `${env}/${aliasName}`;
    const holder = claimed.get(key);
    if (holder && holder !== this) {
      invalidProp(this, 'aliasPrefix', this.aliasPrefix,
        `makes ${aliasName} for ${what}, which ${holder.node.path} already makes in ${env}: a KMS alias name is unique per account and Region; give one of the keyrings another aliasPrefix (for example the app or team name)`);
    }
    claimed.set(key, this);
  }

  private pooledAliasName(): string {
    return `alias/${this.aliasPrefix}-pooled`;
  }

  private validateProps(props: TenantKeyringProps): void {
    const alias = this.aliasPrefix;
    if (!Token.isUnresolved(alias)) {
      if (!/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/.test(alias) || alias.length > 256 - 'alias/'.length - 1 - MAX_TENANT_ID_LENGTH - 1) {
        invalidProp(this, 'aliasPrefix', alias, `must be 1 to ${256 - 7 - MAX_TENANT_ID_LENGTH - 1} characters of A-Z a-z 0-9 _ - in '/'-separated parts`);
      }
      if (/^aws(\/|$)/i.test(alias)) invalidProp(this, 'aliasPrefix', alias, "must not start with 'aws': alias/aws/ is reserved for AWS managed keys");
    }
    const prefix = this.tenantsPrefix;
    if (Token.isUnresolved(prefix) || !/^([A-Za-z0-9_.-]+\/)+$/.test(prefix) || prefix.length > 512) {
      invalidProp(this, 'tenantsPrefix', prefix, "must be 1 to 512 characters of A-Z a-z 0-9 _ . - in parts that each end in '/' (no wildcards, no leading '/')");
    }
    const tag = this.tenantTagKey;
    // IAM tag keys are at most 128 characters, and the tier tag key adds a suffix.
    const maxTag = 128 - TIER_TAG_SUFFIX.length;
    if (Token.isUnresolved(tag) || !new RegExp(`^[A-Za-z0-9_.:+=@-]{1,${maxTag}}$`).test(tag) || /^aws:/i.test(tag)) {
      invalidProp(this, 'tenantTagKey', tag, `must be 1 to ${maxTag} characters of A-Z a-z 0-9 _ . : + = @ - and not start with 'aws:' (the tier tag '<tenantTagKey>${TIER_TAG_SUFFIX}' must fit IAM's 128)`);
    }
    checkIntRange(this, 'shardCount', props.shardCount, 1, MAX_SHARDS);
    if (props.pendingWindow) checkIntRange(this, 'pendingWindow (days)', props.pendingWindow.toDays(), 7, 30);
    if (props.rotationPeriod) checkIntRange(this, 'rotationPeriod (days)', props.rotationPeriod.toDays(), 90, 2560);
    for (const admin of this.admins) {
      if (admin instanceof iam.AnyPrincipal || admin instanceof iam.StarPrincipal) {
        invalidProp(this, 'admins', '*', 'must name principals; anyone as an administrator could rewrite every tenant key policy');
      }
    }
  }

  private validateTenantId(tenantId: string): void {
    const what = 'tenantId';
    if (typeof tenantId !== 'string' || Token.isUnresolved(tenantId)) {
      invalidProp(this, what, tenantId, 'must be a literal string known at synth (it names the alias, tag, prefix and construct)');
    }
    if (tenantId.length === 0) invalidProp(this, what, tenantId, 'must not be empty');
    if (tenantId.length > MAX_TENANT_ID_LENGTH) {
      invalidProp(this, what, tenantId, `is ${tenantId.length} characters; must be 1 to ${MAX_TENANT_ID_LENGTH}`);
    }
    if (!TENANT_ID.test(tenantId)) {
      invalidProp(this, what, tenantId,
        'must be A-Z a-z 0-9 _ - and start with a letter or digit: it becomes an alias name, a tag value, an S3 prefix and a policy-variable value, where / * ? $ and spaces would widen or break the match');
    }
    if (this.tenants.has(tenantId)) invalidProp(this, what, tenantId, 'is a duplicate: each tenant is added once');
    const clash = this.lowerIds.get(tenantId.toLowerCase());
    if (clash !== undefined) {
      invalidProp(this, what, tenantId, `differs from tenant '${clash}' only in case; ids must differ case-insensitively because KMS alias names and many tenant directories are case-insensitive`);
    }
  }

  private validateShards(): string[] {
    const errors: string[] = [];
    for (const [index, shard] of this.shards) {
      const tenants = this.shardLoad.get(index) ?? 0;
      if (tenants > MAX_TENANTS_PER_SHARD) {
        errors.push(`${this.node.path}: shard ${index} holds ${tenants} dedicated tenants, more than ${MAX_TENANTS_PER_SHARD} (CloudFormation allows 500 resources and 1 MB per stack). Raise shardCount before the first deployment, or put further tenants in a second TenantKeyring: changing shardCount of a deployed keyring moves tenants and replaces their keys.`);
      }
      const resources = shard.node.findAll().filter((c) => c instanceof CfnResource).length;
      if (resources > 500) errors.push(`${this.node.path}: shard ${index} has ${resources} resources; CloudFormation allows 500 per stack.`);
    }
    return errors;
  }
}

/**
 * A tenant key policy: the statements fixed at creation as plain JSON (the shared ones are one
 * object for every key), then whatever grants add. At thousands of keys this halves synth time
 * against a PolicyDocument per key, which is built, merged and normalized once per key.
 */
class KeyPolicyJson implements IResolvable {
  public readonly creationStack: string[] = [];
  constructor(private readonly own: any[], private readonly added: iam.PolicyDocument) {}

  public resolve(ctx: IResolveContext): any {
    const more = this.added.isEmpty ? [] : ctx.resolve(this.added).Statement as any[];
    return { Version: '2012-10-17', Statement: more.length > 0 ? [...this.own, ...more] : this.own };
  }
}

/** A principal whose policy additions go to one customer-managed policy. */
class ManagedPolicyPrincipal implements iam.IPrincipal {
  public readonly grantPrincipal: iam.IPrincipal = this;
  public readonly assumeRoleAction: string;
  public readonly policyFragment: iam.PrincipalPolicyFragment;
  public readonly principalAccount?: string;

  constructor(inner: iam.IPrincipal, private readonly policy: iam.ManagedPolicy) {
    this.assumeRoleAction = inner.assumeRoleAction;
    this.policyFragment = inner.policyFragment;
    this.principalAccount = inner.principalAccount;
  }

  public addToPolicy(statement: iam.PolicyStatement): boolean {
    return this.addToPrincipalPolicy(statement).statementAdded;
  }

  public addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.policy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.policy };
  }
}
