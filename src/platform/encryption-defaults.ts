import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, IConstruct } from 'constructs';
import type { BucketReplication } from '../bucket/encrypted-bucket';
import { checkIntRange, invalidProp } from '../internal/validation';
import type { EncryptionAuditTrail } from '../trail/encryption-audit-trail';

/**
 * Properties of EncryptionDefaults: every one is optional, and an unset one leaves the decision to
 * an EncryptionDefaults higher up, then to the library's own default.
 */
export interface EncryptionDefaultsProps {
  /**
   * Rotation period of the KMS keys that EncryptedBuckets and TenantKeyrings make (90 to 2560 days).
   *
   * @default - the next EncryptionDefaults up, else 365 days
   */
  readonly keyRotationPeriod?: Duration;

  /**
   * Waiting period before a deleted key is destroyed, for the keys EncryptedBuckets and
   * TenantKeyrings make (7 to 30 days).
   *
   * @default - the next EncryptionDefaults up, else 30 days
   */
  readonly keyPendingWindow?: Duration;

  /**
   * Lowest TLS version the buckets accept (1.2 or 1.3).
   *
   * @default - the next EncryptionDefaults up, else 1.2
   */
  readonly minimumTlsVersion?: number;

  /**
   * An existing central bucket for the server access logs and inventories of the buckets beneath.
   * S3 delivers server access logs only to a bucket in the source bucket's account and Region, so a
   * bucket in another environment than this log bucket is refused at synth.
   *
   * @default - the next EncryptionDefaults up, else the stack's own log bucket
   */
  readonly accessLogsBucket?: s3.IBucket;

  /**
   * An existing topic for the KMS quota alarms of the buckets beneath.
   *
   * @default - the next EncryptionDefaults up, else the stack's own alarm topic
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * A trail of this app that records the S3 data events of every bucket beneath.
   *
   * @default - the next EncryptionDefaults up, else none
   */
  readonly auditTrail?: EncryptionAuditTrail;

  /**
   * ARN of a trail outside this app (an organization trail) that records the S3 data events of
   * every bucket beneath (EncryptedBucket's `dataEventsRecordedBy`).
   *
   * @default - the next EncryptionDefaults up, else none
   */
  readonly dataEventsRecordedBy?: string;

  /**
   * Prefix of the aliases of the TenantKeyrings beneath (`alias/<prefix>/<tenant>`).
   *
   * @default - the next EncryptionDefaults up, else 'tenants'
   */
  readonly tenantAliasPrefix?: string;

  /**
   * Replication of the buckets beneath, by the Region they are in: a bucket in a Region listed
   * here replicates as its entry says.
   *
   * @default - the next EncryptionDefaults up, else no replication
   */
  readonly replicationByRegion?: { [region: string]: BucketReplication };
}

const KEYS = ['keyRotationPeriod', 'keyPendingWindow', 'minimumTlsVersion', 'accessLogsBucket', 'alarmTopic', 'auditTrail',
  'dataEventsRecordedBy', 'tenantAliasPrefix', 'replicationByRegion'] as const;

/** Defaults after merging every EncryptionDefaults from a construct up to the app, with where each came from. */
export interface ResolvedDefaults {
  readonly values: EncryptionDefaultsProps;
  /** The EncryptionDefaults that set each value. */
  readonly from: { [key: string]: EncryptionDefaults };
}

/**
 * Secure defaults that a platform team sets once, at app, stage or stack scope, for every
 * EncryptedBucket, TenantKeyring and EncryptionAuditTrail beneath it. Precedence, from strongest:
 * a prop given to the construct itself; the EncryptionDefaults nearest to it (its stack's, then its
 * stage's, then the app's), value by value; the library's own default.
 *
 * Create it before the constructs it governs: a governed construct made earlier is reported at
 * synth as an error, so no default is silently missed.
 *
 * @example
 * const app = new App();
 * new EncryptionDefaults(app, 'PlatformDefaults', {
 *   keyRotationPeriod: Duration.days(180),
 *   minimumTlsVersion: 1.3,
 *   dataEventsRecordedBy: 'arn:aws:cloudtrail:us-east-1:111122223333:trail/organization',
 * });
 * const stack = new Stack(app, 'Data');
 * new EncryptedBucket(stack, 'Reports'); // rotates every 180 days, TLS 1.3, audited by the organization trail
 */
export class EncryptionDefaults extends Construct {
  /**
   * The defaults that apply to constructs made in scope: every EncryptionDefaults that is a child
   * of scope or of one of its ancestors, nearest first, merged value by value.
   */
  public static resolve(scope: IConstruct): ResolvedDefaults {
    const values: Record<string, unknown> = {};
    const from: Record<string, EncryptionDefaults> = {};
    for (const s of [...scope.node.scopes].reverse()) {
      for (const child of s.node.children) {
        if (!(child instanceof EncryptionDefaults)) continue;
        // Replication merges Region by Region: the nearest entry for a Region wins.
        for (const [region, r] of Object.entries(child.props.replicationByRegion ?? {})) {
          const map = (values.replicationByRegion ??= {}) as Record<string, BucketReplication>;
          if (!map[region]) {
            map[region] = r;
            from[`replicationByRegion.${region}`] = child;
          }
        }
        for (const key of KEYS) {
          if (key === 'replicationByRegion') continue;
          if (values[key] === undefined && child.props[key] !== undefined) {
            values[key] = child.props[key];
            from[key] = child;
          }
        }
      }
    }
    return { values: values as EncryptionDefaultsProps, from };
  }

  private readonly props: EncryptionDefaultsProps;

  constructor(scope: Construct, id: string, props: EncryptionDefaultsProps = {}) {
    super(scope, id);
    this.props = { ...props, replicationByRegion: { ...props.replicationByRegion } };
    if (props.keyRotationPeriod) checkIntRange(this, 'keyRotationPeriod (days)', props.keyRotationPeriod.toDays(), 90, 2560);
    if (props.keyPendingWindow) checkIntRange(this, 'keyPendingWindow (days)', props.keyPendingWindow.toDays(), 7, 30);
    const tls = props.minimumTlsVersion;
    if (tls !== undefined && !Token.isUnresolved(tls) && tls !== 1.2 && tls !== 1.3) {
      invalidProp(this, 'minimumTlsVersion', tls, 'must be 1.2 or 1.3');
    }
    if (props.auditTrail && props.dataEventsRecordedBy) {
      invalidProp(this, 'dataEventsRecordedBy', props.dataEventsRecordedBy, `names another trail while auditTrail (${props.auditTrail.node.path}) is set; keep one of the two`);
    }
    for (const [region, r] of Object.entries(props.replicationByRegion ?? {})) checkReplication(this, region, r);
    // A governed construct made before these defaults did not see them: refuse rather than ignore.
    this.node.addValidation({ validate: () => this.missed() });
  }

  /**
   * Adds the replication of the buckets in a Region, for destinations made after these defaults
   * (a replica bucket of this app is itself governed by them, so it cannot be in the props). Call it
   * before any bucket of that Region is made beneath: one made earlier would miss it, and is named
   * in the error.
   */
  public addReplication(region: string, replication: BucketReplication): void {
    checkReplication(this, region, replication);
    const existing = this.props.replicationByRegion![region];
    if (existing) invalidProp(this, `replicationByRegion['${region}']`, region, 'is set already; each Region has one replication');
    const early: string[] = [];
    const walk = (c: IConstruct) => {
      for (const child of c.node.children) {
        if (GOVERNED.get(child) === 'bucket' && regionOf(child) === region) early.push(child.node.path);
        walk(child);
      }
    };
    walk(this.node.scope!);
    if (early.length > 0) {
      invalidProp(this, `replicationByRegion['${region}']`, region, `comes after buckets of that Region that it would govern (${early.join(', ')}); call addReplication before making them`);
    }
    this.props.replicationByRegion![region] = replication;
  }

  private missed(): string[] {
    const errors: string[] = [];
    const walk = (c: IConstruct) => {
      for (const child of c.node.children) {
        if (GOVERNED.has(child) && !SEEN.get(this)?.has(child.node.path)) {
          errors.push(`${this.node.path}: ${child.node.path} was made before these EncryptionDefaults, so they do not apply to it; create the EncryptionDefaults first`);
        }
        walk(child);
      }
    };
    walk(this.node.scope!);
    return errors;
  }
}

function checkReplication(scope: Construct, region: string, r: BucketReplication): void {
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) invalidProp(scope, `replicationByRegion['${region}']`, region, 'must be keyed by a Region name such as us-east-1');
  if (r.destinationRegion === region) invalidProp(scope, `replicationByRegion['${region}'].destinationRegion`, region, 'must differ from the Region it applies to');
}

/** The paths of the constructs each EncryptionDefaults saw made beneath it, after it. */
const SEEN = new WeakMap<EncryptionDefaults, Set<string>>();

/** Constructs that EncryptionDefaults govern, and what they are (registered by their constructors). */
const GOVERNED = new WeakMap<IConstruct, 'bucket' | 'keyring' | 'trail'>();

/** Registers a construct as governed by the EncryptionDefaults above it, and returns their values. */
export function governedBy(construct: IConstruct, kind: 'bucket' | 'keyring' | 'trail'): ResolvedDefaults {
  GOVERNED.set(construct, kind);
  // Record that it was made under the defaults above it (see the synth-time check).
  for (const s of construct.node.scopes) {
    for (const child of s.node.children) {
      if (child instanceof EncryptionDefaults) {
        if (!SEEN.has(child)) SEEN.set(child, new Set());
        SEEN.get(child)!.add(construct.node.path);
      }
    }
  }
  return EncryptionDefaults.resolve(construct.node.scope!);
}

/** The region of a stack when known at synth. */
export function regionOf(scope: IConstruct): string | undefined {
  const region = Stack.of(scope).region;
  return Token.isUnresolved(region) ? undefined : region;
}
