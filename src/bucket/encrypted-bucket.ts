import { Arn, ArnFormat, Aws, Duration, Names, RemovalPolicy, Stack, Token, TokenComparison } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AccessLogBucket } from './access-log-bucket';
import { ALGORITHM_SID, algorithmOrSseS3Deny, encryptionDenyStatements, ExemptableDeny, KEY_PIN_SID, logDeliveryStatement } from './bucket-policy';
import { noticeEncryptionChange } from './encryption-change';
import { replicate } from './replication';
import { DATA_EVENTS_RECORDED_BY, TRAIL_ARN } from '../compliance/rules/S3BucketDataEventsAudited';
import { generatedBucketName } from '../internal/names';
import { checkIntRange, invalidProp, warnWeakened } from '../internal/validation';
import {
  createManagedKey,
  renderStatements,
  s3GrantConditions,
  s3UsageConditions,
  s3UsageStatement,
} from '../keys/key-policy';
import { allowTopicPublishers } from '../keys/topic-policy';
import { EncryptionDefaults, governedBy, regionOf } from '../platform/encryption-defaults';
import { hasDedicatedAccessLogs, StackShared } from '../platform/stack-shared';
import type { EncryptionAuditTrail } from '../trail/encryption-audit-trail';

/**
 * How objects in an EncryptedBucket are encrypted at rest.
 */
export enum ObjectEncryption {
  /** SSE-KMS with the bucket's customer-managed key and S3 Bucket Keys. */
  SSE_KMS = 'SSE_KMS',
  /** Dual-layer SSE-KMS (DSSE-KMS); S3 Bucket Keys do not apply, so every object calls KMS. */
  DSSE_KMS = 'DSSE_KMS',
  /**
   * SSE-C: every PUT must carry a customer-provided key; SSE-KMS stays the default for objects
   * that S3 itself writes (for example replicas and inventory reports).
   */
  SSE_C = 'SSE_C',
  /**
   * Objects arrive already encrypted by `S3EncryptionClient`; SSE-KMS stays on as a second layer.
   * The bucket it synthesizes is the SSE_KMS bucket: no S3 condition key sees an object's metadata
   * or content, so the bucket cannot refuse a plaintext object. What stays enforced is the server
   * side (SSE-KMS with this key, TLS, no SSE-C); that objects are client-side encrypted is the
   * writers' duty (give them only `S3EncryptionClient`).
   */
  CLIENT_SIDE = 'CLIENT_SIDE',
}

/**
 * Replication of an EncryptedBucket to a bucket in another Region, re-encrypted there with a key
 * of that Region.
 */
export interface BucketReplication {
  /**
   * The destination bucket, in another Region. If it is a bucket of this app, the statements the
   * replication role needs are added to its bucket policy; otherwise they are printed at synth.
   */
  readonly destinationBucket: s3.IBucket;

  /**
   * ARN of the KMS key (or alias ARN) in the destination Region that encrypts the replicas.
   */
  readonly destinationKeyArn: string;

  /**
   * The destination Region.
   *
   * @default - read from `destinationKeyArn`
   */
  readonly destinationRegion?: string;

  /**
   * Storage class of the replicas.
   *
   * @default - the storage class of the source object
   */
  readonly storageClass?: s3.StorageClass;

  /**
   * A bucket in the destination Region for the replicas of the server access logs and inventory
   * reports, encrypted there with `destinationKeyArn` too.
   *
   * @default - the log bucket made by this construct is not replicated
   */
  readonly accessLogsDestinationBucket?: s3.IBucket;

  /**
   * Replication Time Control: 99.99% of objects replicated within 15 minutes, with metrics.
   *
   * @default false
   */
  readonly replicationTimeControl?: boolean;
}

/**
 * Properties of an EncryptedBucket.
 */
export interface EncryptedBucketProps {
  /**
   * How objects are encrypted.
   *
   * @default ObjectEncryption.SSE_KMS
   */
  readonly objectEncryption?: ObjectEncryption;

  /**
   * The KMS key for default encryption. A key of this app gets the key-policy statements the
   * bucket needs; for an imported key the statements to add are printed at synth.
   *
   * @default - a new customer-managed key with rotation, a 30-day pending window and RETAIN
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Rotation period of the key this construct makes (90 to 2560 days).
   *
   * @default Duration.days(365)
   */
  readonly keyRotationPeriod?: Duration;

  /**
   * Waiting period before the key this construct makes is deleted after deletion is scheduled
   * (7 to 30 days).
   *
   * @default Duration.days(30)
   */
  readonly keyPendingWindow?: Duration;

  /**
   * Whether S3 Bucket Keys are used for SSE-KMS, cutting KMS requests by up to 99%.
   * Not available with DSSE-KMS.
   *
   * @default true (false for DSSE_KMS)
   */
  readonly bucketKeyEnabled?: boolean;

  /**
   * Physical name of the bucket.
   *
   * @default - `<stack>-<id>-<hash of the construct path>-<account>-<region>`, fixed at synth so
   * that the key policy can name the bucket
   */
  readonly bucketName?: string;

  /**
   * What happens to the bucket (and the resources this construct makes) when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Lowest TLS version accepted by the bucket policy: 1.2 or 1.3.
   *
   * @default 1.2
   */
  readonly minimumTlsVersion?: number;

  /**
   * How long noncurrent object versions are kept (1 to 36500 days).
   *
   * @default Duration.days(90)
   */
  readonly noncurrentVersionExpiration?: Duration;

  /**
   * How long an incomplete multipart upload is kept before it is aborted (1 to 365 days).
   *
   * @default Duration.days(7)
   */
  readonly abortIncompleteMultipartUploadAfter?: Duration;

  /**
   * Further lifecycle rules, added after the noncurrent-version and multipart rules.
   *
   * @default - none
   */
  readonly lifecycleRules?: s3.LifecycleRule[];

  /**
   * CORS rules of the bucket (as `s3.BucketProps.cors`).
   *
   * @default - no CORS configuration
   */
  readonly cors?: s3.CorsRule[];

  /**
   * CloudWatch request metrics configurations (as `s3.BucketProps.metrics`).
   *
   * @default - no request metrics
   */
  readonly metrics?: s3.BucketMetrics[];

  /**
   * S3 Intelligent-Tiering archive configurations (as `s3.BucketProps.intelligentTieringConfigurations`).
   *
   * @default - none
   */
  readonly intelligentTieringConfigurations?: s3.IntelligentTieringConfiguration[];

  /**
   * Further S3 Inventory configurations, added to the encryption inventory (as `s3.BucketProps.inventories`).
   *
   * @default - the encryption inventory only
   */
  readonly inventories?: s3.Inventory[];

  /**
   * Whether S3 Transfer Acceleration is on (as `s3.BucketProps.transferAcceleration`).
   *
   * @default false
   */
  readonly transferAcceleration?: boolean;

  /**
   * Whether the stack deletes every object when the bucket is removed (as
   * `s3.BucketProps.autoDeleteObjects`). Needs `removalPolicy: RemovalPolicy.DESTROY`; with Object
   * Lock on, locked objects cannot be deleted and the stack deletion fails (a warning says so).
   *
   * @default false
   */
  readonly autoDeleteObjects?: boolean;

  /**
   * Bucket that receives the server access logs.
   *
   * @default - a log bucket made by this construct, encrypted with its own key
   */
  readonly accessLogsBucket?: s3.IBucket;

  /**
   * Key prefix of the server access logs in the log bucket.
   *
   * @default 'access-logs/<bucket construct path>/'
   */
  readonly accessLogsPrefix?: string;

  /**
   * How long the log bucket made by this construct keeps logs and inventory reports
   * (1 to 36500 days).
   *
   * @default Duration.days(365)
   */
  readonly accessLogsRetention?: Duration;

  /**
   * Whether S3 Object Lock is enabled. It cannot be turned off once the bucket exists, and with
   * no default retention it protects only the objects a writer locks explicitly.
   *
   * @default true
   */
  readonly objectLockEnabled?: boolean;

  /**
   * Default Object Lock retention for new objects.
   *
   * @default - no default retention
   */
  readonly objectLockDefaultRetention?: s3.ObjectLockRetention;

  /**
   * Whether an S3 Inventory reports each object's encryption status and bucket-key status into
   * the log bucket.
   *
   * @default true
   */
  readonly encryptionInventory?: boolean;

  /**
   * How often the encryption inventory is produced.
   *
   * @default s3.InventoryFrequency.WEEKLY
   */
  readonly encryptionInventoryFrequency?: s3.InventoryFrequency;

  /**
   * Whether CloudWatch alarms watch the account's KMS request rate (AWS/Usage metrics) against
   * its Service Quotas limit, since SSE-KMS requests are throttled there.
   *
   * @default true
   */
  readonly kmsQuotaAlarms?: boolean;

  /**
   * Percentage of the KMS request-rate quota at which the alarm fires (1 to 100).
   *
   * @default 80
   */
  readonly kmsQuotaAlarmThreshold?: number;

  /**
   * SNS topic that receives the alarms.
   *
   * @default - a topic made by this construct, encrypted with the log key and TLS-only
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Whether S3 sends events for this bucket to Amazon EventBridge.
   *
   * @default true
   */
  readonly eventBridgeEnabled?: boolean;

  /**
   * An audit trail that records this bucket's data events.
   *
   * @default - the bucket joins no trail; call `trail.addBucket(bucket)` to join one later
   */
  readonly auditTrail?: EncryptionAuditTrail;

  /**
   * ARN of a trail outside this app (an organization trail) that records the S3 data events of
   * this bucket and of its access-log bucket. It is written on both buckets, and
   * `S3EncryptionChecks`' `S3BucketDataEventsAudited` accepts it, naming the trail. The trail's
   * owner must keep the buckets in its event selectors: nothing here can check that.
   *
   * @default - none; `auditTrail` makes a trail of this app record them
   */
  readonly dataEventsRecordedBy?: string;

  /**
   * Replication to a bucket in another Region.
   *
   * @default - no replication
   */
  readonly replication?: BucketReplication;
}

/**
 * The S3 actions of EncryptedBucket's grants, named one by one (Service Authorization Reference,
 * "Actions defined by Amazon S3"): reads of objects, their versions, attributes and tags; writes with
 * multipart uploads, tags, and the Object Lock retention and legal hold this bucket supports; deletes.
 */
const GRANT_ACTIONS = {
  readBucket: ['s3:ListBucket', 's3:ListBucketVersions', 's3:GetBucketLocation'],
  readObjects: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAttributes', 's3:GetObjectVersionAttributes', 's3:GetObjectTagging', 's3:GetObjectVersionTagging'],
  putBucket: ['s3:ListBucketMultipartUploads'],
  putObjects: [
    's3:PutObject', 's3:PutObjectTagging', 's3:PutObjectVersionTagging', 's3:PutObjectRetention', 's3:PutObjectLegalHold',
    's3:AbortMultipartUpload', 's3:ListMultipartUploadParts',
  ],
  deleteObjects: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging'],
};
/** What S3 calls on the key to write: GenerateDataKey, and Decrypt for multipart uploads (mpuoverview.html). */
const GRANT_KEY_WRITE = ['kms:GenerateDataKey*', 'kms:Decrypt'];

const DAY_RANGE = { noncurrent: [1, 36500], multipart: [1, 365], retention: [1, 36500] } as const;

/**
 * An S3 bucket encrypted at rest correctly by default: a customer-managed key with a least-privilege
 * key policy, SSE-KMS default encryption with S3 Bucket Keys, a bucket policy that denies non-TLS
 * requests and PUTs with another algorithm or another key, SSE-C blocked, Block Public Access,
 * ACLs disabled, versioning with lifecycle, Object Lock, server access logs, an encryption
 * inventory and KMS quota alarms.
 *
 * @example
 * const bucket = new EncryptedBucket(this, 'Data');
 * bucket.grantRead(myRole); // KMS side scoped to S3 and this bucket
 */
export class EncryptedBucket extends s3.Bucket {
  /** How objects are encrypted. */
  public readonly objectEncryption: ObjectEncryption;
  /** The key of the bucket's default encryption. */
  public readonly bucketKey: kms.IKey;
  /** The bucket that receives server access logs and the encryption inventory. */
  public readonly accessLogsBucket: s3.IBucket;
  /** The topic that receives this bucket's alarms, if any alarm was made. */
  public readonly alarmTopic?: sns.ITopic;
  /** The role S3 assumes to replicate, when replication is configured. */
  public readonly replicationRole?: iam.IRole;
  /**
   * The bucket ARN built from its name at synth: key policies use it (a reference would make a
   * cycle), and other stacks and Regions can use it without a cross-stack reference.
   */
  public readonly stableBucketArn: string;
  /** The KMS request-rate alarm, when enabled. */
  public readonly kmsQuotaAlarm?: cloudwatch.Alarm;
  private readonly ownsKey: boolean;
  private readonly pendingKeyStatements: iam.PolicyStatement[] = [];
  private replicationSources = 0;
  private keyPin?: ExemptableDeny;
  private algorithmPin?: ExemptableDeny;
  private sseS3Prefixes = 0;

  constructor(scope: Construct, id: string, props: EncryptedBucketProps = {}) {
    // Props given here win; then the EncryptionDefaults nearest above, value by value.
    props = withDefaults(scope, props);
    const mode = props.objectEncryption ?? ObjectEncryption.SSE_KMS;
    if (!Object.values(ObjectEncryption).includes(mode)) {
      invalidProp(scope, 'objectEncryption', mode, `must be one of ${Object.values(ObjectEncryption).join(', ')}`);
    }
    validateBeforeCreate(scope, id, props, mode);
    const bucketName = props.bucketName ?? generatedBucketName(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    super(scope, id, {
      bucketName,
      removalPolicy,
      versioned: true,
      enforceSSL: true,
      minimumTLSVersion: props.minimumTlsVersion ?? 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      objectLockEnabled: props.objectLockEnabled ?? true,
      objectLockDefaultRetention: props.objectLockDefaultRetention,
      blockedEncryptionTypes: mode === ObjectEncryption.SSE_C ? [s3.BlockedEncryptionType.NONE] : [s3.BlockedEncryptionType.SSE_C],
      // Ordinary bucket options that do not touch encryption, passed through as s3.Bucket takes them.
      cors: props.cors,
      metrics: props.metrics,
      intelligentTieringConfigurations: props.intelligentTieringConfigurations,
      transferAcceleration: props.transferAcceleration,
      autoDeleteObjects: props.autoDeleteObjects,
      lifecycleRules: [
        {
          id: 'ExpireNoncurrentVersionsAndAbortIncompleteUploads',
          enabled: true,
          noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? Duration.days(90),
          abortIncompleteMultipartUploadAfter: props.abortIncompleteMultipartUploadAfter ?? Duration.days(7),
        },
        ...(props.lifecycleRules ?? []),
      ],
    });

    governedBy(this, 'bucket');
    this.objectEncryption = mode;
    // Key policies name the bucket by its name, not by a reference, to avoid a dependency cycle.
    this.stableBucketArn = `arn:${Aws.PARTITION}:s3:::${bucketName}`;
    const cfn = this.node.defaultChild as s3.CfnBucket;

    // The key: made here unless given.
    this.ownsKey = !props.encryptionKey;
    const key = props.encryptionKey ?? createManagedKey(this, 'Key', {
      description: `Default encryption key of the S3 bucket ${this.node.path}`,
      rotationPeriod: props.keyRotationPeriod,
      pendingWindow: props.keyPendingWindow,
      removalPolicy,
    });
    this.bucketKey = key;
    // Bucket consumers (grants, replication, other L2s) see the key as the bucket's key.
    (this as { encryptionKey?: kms.IKey }).encryptionKey = key;

    const dsse = mode === ObjectEncryption.DSSE_KMS;
    const bucketKeyEnabled = props.bucketKeyEnabled ?? !dsse;
    if (!dsse && props.bucketKeyEnabled === false) {
      warnWeakened(this, 'bucketKeyEnabled', 'every object read and write calls KMS, which costs more and meets the KMS request quota sooner.', []);
    }
    cfn.bucketEncryption = {
      serverSideEncryptionConfiguration: [{
        serverSideEncryptionByDefault: {
          sseAlgorithm: dsse ? 'aws:kms:dsse' : 'aws:kms',
          kmsMasterKeyId: key.keyArn,
        },
        bucketKeyEnabled,
        blockedEncryptionTypes: { encryptionType: [mode === ObjectEncryption.SSE_C ? 'NONE' : 'SSE-C'] },
      }],
    };
    // Before the new template is written: compare with the one the last synth left in the assembly directory.
    this.node.addValidation({ validate: () => { noticeEncryptionChange(this, cfn); return []; } });

    // Key policy: usage only through S3 for this bucket.
    this.addKeyStatement(s3UsageStatement(this.keySid('UseThroughS3ForThisBucket'), [this.stableBucketArn], Stack.of(this).region, Stack.of(this).account));

    // Bucket policy: the encryption denials.
    for (const statement of encryptionDenyStatements(this.bucketArn, key.keyArn, mode)) {
      if (statement instanceof ExemptableDeny && statement.sid === KEY_PIN_SID) this.keyPin = statement;
      if (statement instanceof ExemptableDeny && statement.sid === ALGORITHM_SID) this.algorithmPin = statement;
      this.addToResourcePolicy(statement);
    }

    // Server access logs, inventory, alarm topic: one log bucket, topic and alarm per stack.
    const shared = StackShared.of(this);
    const retention = props.accessLogsRetention ?? Duration.days(365);
    const ownLogs = props.accessLogsBucket ? undefined
      : hasDedicatedAccessLogs(scope) ? new AccessLogBucket(this, 'AccessLogs', { removalPolicy, retention })
        : shared.accessLogBucket(retention, removalPolicy);
    const logBucket: s3.IBucket = props.accessLogsBucket ?? ownLogs!;
    this.accessLogsBucket = logBucket;
    const logPrefix = props.accessLogsPrefix ?? `access-logs/${Stack.of(this).stackName}/${this.node.addr}/`;
    cfn.loggingConfiguration = {
      destinationBucketName: logBucket.bucketName,
      logFilePrefix: logPrefix,
      targetObjectKeyFormat: { partitionedPrefix: { partitionDateSource: 'EventTime' } },
    };
    if (ownLogs) ownLogs.allowServerAccessLogs(this.bucketArn, logPrefix);
    // A log bucket you pass may live in another stack (a central one): its policy names this bucket
    // by its fixed name, not by a reference, or the two stacks would depend on each other.
    else logBucket.addToResourcePolicy(logDeliveryStatement(`S3ServerAccessLogsFrom${this.node.addr}`, logBucket.arnForObjects(`${logPrefix}*`), this.stableBucketArn));

    if (props.encryptionInventory ?? true) {
      const inventoryPrefix = `inventory/${Stack.of(this).stackName}/${this.node.addr}`;
      const encryptionInventory = {
        id: 'EncryptionStatus',
        enabled: true,
        includedObjectVersions: 'Current',
        scheduleFrequency: props.encryptionInventoryFrequency ?? s3.InventoryFrequency.WEEKLY,
        optionalFields: ['EncryptionStatus', 'BucketKeyStatus', 'Size', 'LastModifiedDate', 'ETag', 'ObjectLockMode', 'ReplicationStatus'],
        destination: {
          bucketArn: logBucket.bucketArn,
          format: 'CSV',
          prefix: inventoryPrefix,
          bucketAccountId: Aws.ACCOUNT_ID,
        },
      };
      // The inventories passed in come first, then the encryption inventory: a plain list, which
      // ReencryptionJob reads to find the encryption inventory.
      cfn.inventoryConfigurations = [...this.passedInventories(props.inventories ?? []), encryptionInventory];
      if (ownLogs) {
        ownLogs.allowInventory(this.bucketArn, inventoryPrefix);
      } else {
        logBucket.addToResourcePolicy(new iam.PolicyStatement({
          sid: `S3InventoryFrom${this.node.addr}`,
          principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
          actions: ['s3:PutObject'],
          resources: [logBucket.arnForObjects(`${inventoryPrefix}/*`)],
          conditions: {
            ArnLike: { 'aws:SourceArn': this.stableBucketArn },
            StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID, 's3:x-amz-acl': 'bucket-owner-full-control' },
          },
        }));
      }
    } else {
      if (props.inventories?.length) cfn.inventoryConfigurations = this.passedInventories(props.inventories);
      warnWeakened(this, 'encryptionInventory', 'objects left unencrypted or under another key before a change go unreported.', []);
    }

    if (props.eventBridgeEnabled ?? true) {
      cfn.notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
    } else {
      warnWeakened(this, 'eventBridgeEnabled', 'no S3 event notifications are configured.', ['CT.S3.PR.4']);
    }
    if (props.autoDeleteObjects && (props.objectLockEnabled ?? true)) {
      warnWeakened(this, 'autoDeleteObjects', 'objects under an Object Lock retention or legal hold cannot be deleted, so deleting the stack fails while any is locked; set objectLockEnabled: false for a bucket you want deleted with its stack.', []);
    }
    if (props.objectLockEnabled === false) {
      warnWeakened(this, 'objectLockEnabled', 'objects cannot be protected from deletion by Object Lock.', ['NIST.800.53.R5-S3BucketDefaultLockEnabled', 'CT.S3.PR.9']);
    }

    if (props.kmsQuotaAlarms ?? true) {
      let topic = props.alarmTopic;
      if (!topic) {
        topic = shared.alarmTopic();
      } else {
        // A topic you pass: its policy and, when it is encrypted with a key of this app, its key get
        // the same allows; what cannot be changed from here is printed at synth.
        allowTopicPublishers(this, topic, topic.masterKey, { cloudWatch: true });
      }
      this.alarmTopic = topic;
      this.kmsQuotaAlarm = shared.kmsQuotaAlarm(props.kmsQuotaAlarmThreshold ?? 80, topic);
    } else {
      warnWeakened(this, 'kmsQuotaAlarms', 'nothing warns before SSE-KMS requests are throttled by the KMS request quota.', []);
    }

    if (props.replication) {
      this.replicationRole = this.configureReplication(props.replication, logBucket instanceof AccessLogBucket ? logBucket : undefined);
    }

    props.auditTrail?.addBucket(this);
    if (props.dataEventsRecordedBy !== undefined) {
      for (const b of [cfn, ownLogs?.node.defaultChild as s3.CfnBucket | undefined]) {
        b?.addMetadata(DATA_EVENTS_RECORDED_BY, props.dataEventsRecordedBy);
      }
    }

    // Bucket keys only matter for SSE-KMS; SSE-C objects never call KMS.
    if (!this.ownsKey) {
      this.node.addValidation({ validate: () => this.importedKeyAdvice(key) });
    }
  }

  /**
   * The inventories passed as props, as s3.Bucket renders them (its defaults: CSV, weekly, all
   * versions, enabled), each with the statement that lets S3 Inventory write into its destination.
   */
  private passedInventories(inventories: s3.Inventory[]): s3.CfnBucket.InventoryConfigurationProperty[] {
    return inventories.map((inv, i) => {
      const dest = inv.destination.bucket;
      const prefix = inv.destination.prefix;
      dest.addToResourcePolicy(new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [dest.bucketArn, dest.arnForObjects(`${prefix ?? ''}*`)],
        conditions: {
          ArnLike: { 'aws:SourceArn': this.stableBucketArn },
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID, 's3:x-amz-acl': 'bucket-owner-full-control' },
        },
      }));
      return {
        id: inv.inventoryId ?? `${this.node.id}Inventory${i}`,
        enabled: inv.enabled ?? true,
        includedObjectVersions: inv.includeObjectVersions ?? s3.InventoryObjectVersion.ALL,
        scheduleFrequency: inv.frequency ?? s3.InventoryFrequency.WEEKLY,
        optionalFields: inv.optionalFields,
        prefix: inv.objectsPrefix,
        destination: {
          bucketArn: dest.bucketArn, bucketAccountId: inv.destination.bucketOwner, prefix, format: inv.format ?? s3.InventoryFormat.CSV,
        },
      };
    });
  }

  /**
   * Lets the grantee read objects (`s3:GetObject`, versions, attributes and tags) and list the
   * bucket, and decrypt through S3 for this bucket only. Each action is named: aws-cdk-lib's
   * grants name wildcards (`s3:GetObject*`, `s3:GetBucket*`, `s3:List*`) that also match ACL,
   * retention and bucket-configuration reads.
   */
  public grantRead(identity: iam.IGrantable, objectsKeyPattern: any = '*'): iam.Grant {
    return this.grantNamed(identity, objectsKeyPattern, GRANT_ACTIONS.readBucket, GRANT_ACTIONS.readObjects, ['kms:Decrypt']);
  }

  /**
   * Lets the grantee write objects (single and multipart uploads, tags, Object Lock retention and
   * legal holds) and delete them, with `kms:GenerateDataKey*` and `kms:Decrypt` (multipart) through
   * S3 for this bucket only. `allowedActionPatterns`, when given, replaces the S3 actions.
   */
  public grantWrite(identity: iam.IGrantable, objectsKeyPattern: any = '*', allowedActionPatterns?: string[]): iam.Grant {
    const objectActions = allowedActionPatterns && allowedActionPatterns.length > 0
      ? allowedActionPatterns : [...GRANT_ACTIONS.putObjects, ...GRANT_ACTIONS.deleteObjects];
    return this.grantNamed(identity, objectsKeyPattern, GRANT_ACTIONS.putBucket, objectActions, GRANT_KEY_WRITE);
  }

  /** Lets the grantee put objects (no deletes), with the KMS actions of `grantWrite`. */
  public grantPut(identity: iam.IGrantable, objectsKeyPattern: any = '*'): iam.Grant {
    return this.grantNamed(identity, objectsKeyPattern, GRANT_ACTIONS.putBucket, GRANT_ACTIONS.putObjects, GRANT_KEY_WRITE);
  }

  /** Lets the grantee delete objects and their versions and tags. */
  public grantDelete(identity: iam.IGrantable, objectsKeyPattern: any = '*'): iam.Grant {
    return this.grantNamed(identity, objectsKeyPattern, [], GRANT_ACTIONS.deleteObjects, []);
  }

  /** `grantRead` and `grantWrite` together. */
  public grantReadWrite(identity: iam.IGrantable, objectsKeyPattern: any = '*'): iam.Grant {
    return this.grantNamed(identity, objectsKeyPattern,
      [...GRANT_ACTIONS.readBucket, ...GRANT_ACTIONS.putBucket],
      [...GRANT_ACTIONS.readObjects, ...GRANT_ACTIONS.putObjects, ...GRANT_ACTIONS.deleteObjects],
      GRANT_KEY_WRITE);
  }

  /**
   * The S3 actions on the bucket and on its objects (each on its own ARN), on the grantee's policy,
   * or also on the bucket policy for a principal of another account; the KMS side by `grantOnKey`.
   */
  private grantNamed(
    grantee: iam.IGrantable, objectsKeyPattern: any, bucketActions: string[], objectActions: string[], keyActions: string[],
  ): iam.Grant {
    const objects = this.arnForObjects(objectsKeyPattern);
    let grant = iam.Grant.addToPrincipalOrResource({ grantee, actions: objectActions, resourceArns: [objects], resource: this });
    if (bucketActions.length > 0) {
      grant = grant.combine(iam.Grant.addToPrincipalOrResource({ grantee, actions: bucketActions, resourceArns: [this.bucketArn], resource: this }));
    }
    if (keyActions.length > 0) {
      const onKey = this.grantOnKey(grantee, ...keyActions).grant;
      if (onKey) grant = grant.combine(onKey);
    }
    return grant;
  }

  /**
   * KMS side of every grant: only the given actions, only through S3, only for this bucket.
   */
  public grantOnKey(grantee: iam.IGrantable, ...actions: string[]): iam.GrantOnKeyResult {
    // S3 calls kms:GenerateDataKey to write and kms:Decrypt to read and for multipart uploads
    // (UsingKMSEncryption.html, mpuoverview.html); aws-cdk-lib's grants also ask for kms:Encrypt,
    // kms:ReEncrypt* and kms:DescribeKey, which S3 never calls for SSE-KMS (and DescribeKey carries
    // no encryption context, so it could never match the scoping).
    const kmsActions = actions.filter((a) => a === 'kms:Decrypt' || a.startsWith('kms:GenerateDataKey'));
    const conditions = s3GrantConditions([this.stableBucketArn], Stack.of(this).region);
    const onPrincipal = iam.Grant.addToPrincipal({ grantee, actions: kmsActions, resourceArns: [this.bucketKey.keyArn], conditions });
    const account = grantee.grantPrincipal.principalAccount;
    if (account !== undefined && Token.compareStrings(account, Stack.of(this).account) === TokenComparison.SAME) {
      return { grant: onPrincipal };
    }
    // Another account (or one not known at synth): the key policy must name the principal too, with
    // the same conditions (aws-cdk-lib's resource-side grant statement would drop them).
    const statement = new iam.PolicyStatement({ actions: kmsActions, resources: ['*'], principals: [grantee.grantPrincipal], conditions });
    if (!(this.bucketKey instanceof kms.Key)) {
      this.pendingKeyStatements.push(statement);
      return { grant: onPrincipal };
    }
    const onKey = iam.Grant.addStatementToResourcePolicy({ grantee, actions: kmsActions, resourceArns: ['*'], resource: this.bucketKey, statement });
    return { grant: onPrincipal.combine(onKey) };
  }

  /**
   * Lets the replication role of a bucket in another Region write replicas into this bucket
   * with this bucket's key. Called for you when the source names this bucket as its destination.
   */
  public allowReplicationFrom(sourceBucketArn: string, replicationRoleArn: string): void {
    const role = new iam.ArnPrincipal(replicationRoleArn);
    // One source after another may replicate here: statement ids must stay unique.
    const n = ++this.replicationSources;
    this.addToResourcePolicy(new iam.PolicyStatement({
      sid: `ReplicasFromSource${n}`,
      principals: [role],
      // The replication guide's destination permissions; ObjectOwnerOverrideToBucketOwner is only
      // for an owner override, which BucketOwnerEnforced makes moot.
      actions: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'],
      resources: [this.arnForObjects('*')],
    }));
    this.addKeyStatement(new iam.PolicyStatement({
      sid: `ReplicationRole${n}EncryptsReplicasOf${Names.uniqueId(this).slice(-8)}`,
      principals: [role],
      // replication-config-for-kms-objects.html: with an S3 Bucket Key on the destination, the
      // replica key's policy must also allow kms:Decrypt for the replicating principal.
      actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      conditions: s3UsageConditions([this.stableBucketArn]),
    }));
    // Where the replicas come from, in the cloud assembly's metadata of this bucket.
    if (!Token.isUnresolved(sourceBucketArn)) {
      this.node.addMetadata('cdk-s3-encryption:replication-source', sourceBucketArn);
    }
  }

  /**
   * Leaves the writes under a prefix to another construct's key rules: the bucket policy's denial
   * of PUTs naming another KMS key no longer covers `<prefix>*`. Whoever calls this must deny the
   * keys it does not want there (a TenantKeyring pins each tenant's key under its prefix). PUTs
   * naming another algorithm, an SSE-C key, or `aws:kms` without a key id stay denied everywhere.
   *
   * @param prefix object-key prefix, e.g. `tenants/`
   */
  public allowOtherKmsKeysUnder(prefix: string): void {
    if (!this.keyPin) {
      invalidProp(this, 'objectEncryption', this.objectEncryption, 'pins no KMS key (SSE_C), so there is nothing to exempt a prefix from');
    }
    if (!Token.isUnresolved(prefix) && (prefix.length === 0 || prefix.startsWith('/') || prefix.includes('*'))) {
      invalidProp(this, 'prefix', prefix, 'must be a non-empty object-key prefix without "*" that does not start with "/"');
    }
    this.keyPin.exemptObjects(`${this.bucketArn}/${prefix}*`);
  }

  /**
   * Accepts PUTs naming SSE-S3 (`AES256`) under a prefix, for an AWS service that may write there
   * with SSE-S3 (CloudTrail digest files: encrypting-cloudtrail-log-files-with-aws-kms.html). Every
   * other algorithm, SSE-C, and `aws:kms` without a key id stay denied there; a PUT naming no
   * algorithm still gets the bucket default.
   *
   * @param prefix object-key prefix, e.g. `AWSLogs/123456789012/CloudTrail-Digest/`
   */
  public allowSseS3Under(prefix: string): void {
    if (!this.algorithmPin) {
      invalidProp(this, 'objectEncryption', this.objectEncryption, 'pins no KMS algorithm (SSE_C), so there is nothing to exempt a prefix from');
    }
    if (!Token.isUnresolved(prefix) && (prefix.length === 0 || prefix.startsWith('/') || prefix.includes('*'))) {
      invalidProp(this, 'prefix', prefix, 'must be a non-empty object-key prefix without "*" that does not start with "/"');
    }
    const objects = `${this.bucketArn}/${prefix}*`;
    this.algorithmPin.exemptObjects(objects);
    const algorithm = this.objectEncryption === ObjectEncryption.DSSE_KMS ? 'aws:kms:dsse' : 'aws:kms';
    this.addToResourcePolicy(algorithmOrSseS3Deny(`${ALGORITHM_SID}OrSseS3Under${++this.sseS3Prefixes}`, objects, algorithm));
  }

  /** A key-policy statement id, unique per bucket when the key is shared with other buckets. */
  private keySid(base: string): string {
    return this.ownsKey ? base : `${base}${Names.uniqueId(this).slice(-8)}`;
  }

  private addKeyStatement(statement: iam.PolicyStatement): void {
    if (this.ownsKey || this.bucketKey instanceof kms.Key) {
      this.bucketKey.addToResourcePolicy(statement);
    } else {
      this.pendingKeyStatements.push(statement);
    }
  }

  private importedKeyAdvice(key: kms.IKey): string[] {
    if (this.pendingKeyStatements.length > 0) {
      const text = renderStatements(this, this.pendingKeyStatements);
      // A warning, not an error: the key policy lives outside this app and may already allow it.
      warnWeakened(this, 'encryptionKey',
        `the imported key ${Token.isUnresolved(key.keyArn) ? '' : key.keyArn + ' '}cannot be changed from this app; add these statements to its key policy so that S3 can use it for this bucket and nothing else: ${text}`,
        []);
      this.pendingKeyStatements.length = 0;
    }
    return [];
  }

  private configureReplication(replication: BucketReplication, logBucket?: AccessLogBucket): iam.IRole {
    const stack = Stack.of(this);
    const region = replication.destinationRegion ?? regionOfArn(replication.destinationKeyArn);
    if (!region) {
      invalidProp(this, 'replication.destinationRegion', replication.destinationRegion,
        'cannot be read from replication.destinationKeyArn (a token); set replication.destinationRegion');
    }
    if (!Token.isUnresolved(region) && !Token.isUnresolved(stack.region) && region === stack.region) {
      invalidProp(this, 'replication.destinationRegion', region, `must differ from the bucket's own Region (${stack.region}): replication here is for a copy in another Region`);
    }
    const role = replicate(this, this.stableBucketArn, (st) => this.addKeyStatement(st), {
      bucket: replication.destinationBucket,
      keyArn: replication.destinationKeyArn,
      storageClass: replication.storageClass,
      replicationTimeControl: replication.replicationTimeControl,
    });
    if (replication.accessLogsDestinationBucket) {
      if (!logBucket) {
        invalidProp(this, 'replication.accessLogsDestinationBucket', replication.accessLogsDestinationBucket.node.path,
          'applies only to the log bucket this construct makes; replicate the accessLogsBucket you pass where it is defined');
      }
      // The log bucket is SSE-S3 (a log destination may not use SSE-KMS): no source key to allow.
      // It is the stack's, shared: replicated once, to one destination.
      const already = logBucket.replicatedTo;
      if (!already) {
        logBucket.replicatedTo = replication.accessLogsDestinationBucket;
        replicate(logBucket, logBucket.policyArn, undefined, {
          bucket: replication.accessLogsDestinationBucket,
          keyArn: replication.destinationKeyArn,
        });
      } else if (already !== replication.accessLogsDestinationBucket) {
        invalidProp(this, 'replication.accessLogsDestinationBucket', replication.accessLogsDestinationBucket.node.path,
          `differs from ${already.node.path}, where another bucket of this stack already replicates the stack's shared log bucket ${logBucket.node.path}; use the same destination, or pass accessLogsBucket`);
      }
    }
    return role;
  }

}

/**
 * The props with the values of the EncryptionDefaults above scope filled in where the caller gave
 * none. A default never overrides an explicit prop, nor one that contradicts it: no key settings for
 * a key you pass, no central log bucket when you set the retention of the stack's, no alarm topic
 * without alarms, one trail only. A trail's own bucket takes no trail or log-bucket default.
 */
function withDefaults(scope: Construct, props: EncryptedBucketProps): EncryptedBucketProps {
  const { values: d } = EncryptionDefaults.resolve(scope);
  const trailBucket = hasDedicatedAccessLogs(scope);
  const region = regionOf(scope);
  const recordedElsewhere = props.auditTrail !== undefined || props.dataEventsRecordedBy !== undefined || trailBucket;
  return {
    ...props,
    keyRotationPeriod: props.keyRotationPeriod ?? (props.encryptionKey ? undefined : d.keyRotationPeriod),
    keyPendingWindow: props.keyPendingWindow ?? (props.encryptionKey ? undefined : d.keyPendingWindow),
    minimumTlsVersion: props.minimumTlsVersion ?? d.minimumTlsVersion,
    accessLogsBucket: props.accessLogsBucket ?? (props.accessLogsRetention || trailBucket ? undefined : d.accessLogsBucket),
    alarmTopic: props.alarmTopic ?? (props.kmsQuotaAlarms === false ? undefined : d.alarmTopic),
    auditTrail: props.auditTrail ?? (recordedElsewhere ? undefined : d.auditTrail),
    dataEventsRecordedBy: props.dataEventsRecordedBy ?? (recordedElsewhere ? undefined : d.dataEventsRecordedBy),
    replication: props.replication ?? (region ? d.replicationByRegion?.[region] : undefined),
  };
}

function validateBeforeCreate(scope: Construct, id: string, props: EncryptedBucketProps, mode: ObjectEncryption): void {
  const at = { node: { path: scope.node.path ? `${scope.node.path}/${id}` : id } } as Construct;
  const tls = props.minimumTlsVersion;
  if (tls !== undefined && !Token.isUnresolved(tls) && tls !== 1.2 && tls !== 1.3) {
    invalidProp(at, 'minimumTlsVersion', tls, 'must be 1.2 or 1.3 (S3 rejects lower versions for compliance packs)');
  }
  if (props.keyRotationPeriod) checkIntRange(at, 'keyRotationPeriod (days)', props.keyRotationPeriod.toDays(), 90, 2560);
  if (props.keyPendingWindow) checkIntRange(at, 'keyPendingWindow (days)', props.keyPendingWindow.toDays(), 7, 30);
  if (props.noncurrentVersionExpiration) checkIntRange(at, 'noncurrentVersionExpiration (days)', props.noncurrentVersionExpiration.toDays(), ...DAY_RANGE.noncurrent);
  if (props.abortIncompleteMultipartUploadAfter) checkIntRange(at, 'abortIncompleteMultipartUploadAfter (days)', props.abortIncompleteMultipartUploadAfter.toDays(), ...DAY_RANGE.multipart);
  if (props.accessLogsRetention) checkIntRange(at, 'accessLogsRetention (days)', props.accessLogsRetention.toDays(), ...DAY_RANGE.retention);
  checkIntRange(at, 'kmsQuotaAlarmThreshold', props.kmsQuotaAlarmThreshold, 1, 100);
  if (props.accessLogsBucket && props.accessLogsRetention) {
    invalidProp(at, 'accessLogsRetention', props.accessLogsRetention.toDays(), 'applies only to the log bucket this construct makes; set lifecycle rules on the accessLogsBucket you pass');
  }
  if (props.dataEventsRecordedBy !== undefined) {
    if (props.auditTrail) {
      invalidProp(at, 'dataEventsRecordedBy', props.dataEventsRecordedBy, `names another trail while auditTrail (${props.auditTrail.node.path}) records the bucket already; keep one of the two`);
    }
    if (!Token.isUnresolved(props.dataEventsRecordedBy) && !TRAIL_ARN.test(props.dataEventsRecordedBy)) {
      invalidProp(at, 'dataEventsRecordedBy', props.dataEventsRecordedBy, 'must be a CloudTrail trail ARN, arn:aws:cloudtrail:<region>:<account>:trail/<name>');
    }
  }
  if (props.autoDeleteObjects && (props.removalPolicy ?? RemovalPolicy.RETAIN) !== RemovalPolicy.DESTROY) {
    invalidProp(at, 'autoDeleteObjects', true, `needs removalPolicy: RemovalPolicy.DESTROY (it is ${props.removalPolicy ?? 'RETAIN, the default'}): objects cannot be deleted from a bucket the stack keeps`);
  }
  for (const inv of props.inventories ?? []) {
    if (inv.inventoryId === 'EncryptionStatus') invalidProp(at, 'inventories[].inventoryId', inv.inventoryId, 'is the id of the encryption inventory this construct adds; choose another id');
  }
  if (props.alarmTopic && props.kmsQuotaAlarms === false) {
    invalidProp(at, 'alarmTopic', props.alarmTopic.node.path, 'is unused when kmsQuotaAlarms is false; remove one of the two');
  }
  if (props.accessLogsPrefix !== undefined && !Token.isUnresolved(props.accessLogsPrefix)) {
    if (props.accessLogsPrefix.length === 0 || props.accessLogsPrefix.length > 512 || props.accessLogsPrefix.startsWith('/')) {
      invalidProp(at, 'accessLogsPrefix', props.accessLogsPrefix, 'must be 1 to 512 characters and not start with "/"');
    }
  }
  if (props.objectLockDefaultRetention && props.objectLockEnabled === false) {
    invalidProp(at, 'objectLockDefaultRetention', props.objectLockDefaultRetention.mode, 'needs objectLockEnabled (true or unset)');
  }
  if (props.bucketKeyEnabled === true && mode === ObjectEncryption.DSSE_KMS) {
    invalidProp(at, 'bucketKeyEnabled', true, 'S3 Bucket Keys are not supported with ObjectEncryption.DSSE_KMS; leave it unset or false');
  }
  if (props.encryptionKey && (props.keyPendingWindow || props.keyRotationPeriod)) {
    invalidProp(at, props.keyPendingWindow ? 'keyPendingWindow' : 'keyRotationPeriod',
      (props.keyPendingWindow ?? props.keyRotationPeriod)!.toDays(),
      'applies only to the key this construct makes; configure the key you pass as encryptionKey instead');
  }
  const rep = props.replication;
  if (rep) {
    if (!Token.isUnresolved(rep.destinationKeyArn) && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/.+$/.test(rep.destinationKeyArn)) {
      invalidProp(at, 'replication.destinationKeyArn', rep.destinationKeyArn, 'must be a KMS key ARN or alias ARN (arn:aws:kms:<region>:<account>:key/<id> or :alias/<name>)');
    }
  }
}

function regionOfArn(arn: string): string | undefined {
  if (Token.isUnresolved(arn)) return undefined;
  return Arn.split(arn, ArnFormat.SLASH_RESOURCE_NAME).region;
}
