import { Aws, Duration, Lazy, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { BucketReplication, EncryptedBucket } from '../bucket/encrypted-bucket';
import { checkIntRange, invalidProp, warnWeakened } from '../internal/validation';
import { createManagedKey } from '../keys/key-policy';
import { allowTopicPublishers } from '../keys/topic-policy';
import { governedBy } from '../platform/encryption-defaults';
import { useDedicatedAccessLogs } from '../platform/stack-shared';

/**
 * CloudTrail quotas (WhatIsCloudTrail-Limits.html): "If a trail uses advanced event selectors, a
 * maximum of 500 total values for all conditions in all advanced event selectors is allowed";
 * PutEventSelectors fails with InvalidEventSelectorsException past it.
 */
const MAX_SELECTOR_VALUES = 500;
/** Values the trail spends before any bucket: eventCategory of each selector and resources.type. */
const FIXED_SELECTOR_VALUES = 3;

/**
 * Which management events an EncryptionAuditTrail records besides the S3 data events of its
 * buckets. CloudTrail delivers the first copy of management events in a Region free and charges for
 * every further trail that records them (CloudTrail pricing), so an account whose organization trail
 * already records them can leave them out here.
 */
export enum ManagementEvents {
  /** Every read and write management event. */
  ALL = 'ALL',
  /**
   * Every management event except the read-only ones of AWS KMS: each Decrypt, Encrypt and
   * GenerateDataKey that S3 makes for SSE-KMS is one (KMS logs them with `readOnly: true`,
   * logging-using-cloudtrail.html). KMS's write events (DisableKey, ScheduleKeyDeletion,
   * PutKeyPolicy, DisableKeyRotation) stay recorded, so the alarms on encryption changes still work.
   */
  ALL_EXCEPT_KMS_READS = 'ALL_EXCEPT_KMS_READS',
  /**
   * None: the trail records the S3 data events of its buckets only. The alarms on encryption
   * changes read management events from the trail's log group, so they are not made; the
   * organization trail that records the management events must carry such alarms.
   */
  NONE = 'NONE',
}

/**
 * Properties of an EncryptionAuditTrail.
 */
export interface EncryptionAuditTrailProps {
  /**
   * Name of the trail (3 to 128 characters: letters, digits, `.`, `_`, `-`).
   *
   * @default - a name derived from the construct path
   */
  readonly trailName?: string;

  /**
   * Whether the trail records events from every Region.
   *
   * @default true
   */
  readonly isMultiRegionTrail?: boolean;

  /**
   * How long the CloudWatch Logs copy of the trail is kept. Compliance packs want a year or more.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Buckets whose S3 data events the trail records from the start; more join with `addBucket`.
   * A trail records at most `EncryptionAuditTrail.MAX_BUCKETS` (497) buckets, counting each
   * access-log bucket once (the `EncryptedBucket`s of a stack share one).
   *
   * @default - none
   */
  readonly buckets?: s3.IBucket[];

  /**
   * Which management events the trail records besides the S3 data events.
   *
   * @default ManagementEvents.ALL
   */
  readonly managementEvents?: ManagementEvents;

  /**
   * SNS topic for the alarms on key and encryption-setting changes.
   *
   * @default - a topic made by this construct, encrypted with the trail key and TLS-only
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Replication of the trail's log files (and of its bucket's access logs) to another Region.
   *
   * @default - no replication
   */
  readonly replication?: BucketReplication;

  /**
   * Rotation period of the trail key (90 to 2560 days).
   *
   * @default Duration.days(365)
   */
  readonly keyRotationPeriod?: Duration;

  /**
   * What happens to the trail's key, bucket and log group when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** One alarm on a family of API calls that weaken encryption. */
interface ChangeAlarm {
  readonly id: string;
  readonly description: string;
  readonly source: string;
  readonly events: string[];
}

/** The API calls that weaken encryption at rest, grouped by what they change. */
export const ENCRYPTION_CHANGE_ALARMS: ChangeAlarm[] = [
  { id: 'KeyDisabledOrDeletionScheduled', description: 'a KMS key was disabled or scheduled for deletion', source: 'kms.amazonaws.com', events: ['DisableKey', 'ScheduleKeyDeletion'] },
  { id: 'KeyPolicyChanged', description: 'a KMS key policy was replaced', source: 'kms.amazonaws.com', events: ['PutKeyPolicy'] },
  { id: 'KeyRotationDisabled', description: 'automatic rotation of a KMS key was turned off', source: 'kms.amazonaws.com', events: ['DisableKeyRotation'] },
  { id: 'BucketEncryptionChanged', description: 'the default encryption of an S3 bucket was changed or removed', source: 's3.amazonaws.com', events: ['PutBucketEncryption', 'DeleteBucketEncryption'] },
  { id: 'BucketPolicyChanged', description: 'the policy of an S3 bucket was changed or removed', source: 's3.amazonaws.com', events: ['PutBucketPolicy', 'DeleteBucketPolicy'] },
];

/**
 * A CloudTrail trail for the audit of encryption at rest: multi-Region, log file validation,
 * logs encrypted with its own customer-managed key (key policy written for CloudTrail and
 * CloudWatch Logs), a CloudWatch Logs copy in an encrypted log group, S3 data events for the
 * buckets that join it, and alarms on key and encryption-setting changes.
 *
 * @example
 * const trail = new EncryptionAuditTrail(this, 'Audit');
 * new EncryptedBucket(this, 'Data', { auditTrail: trail });
 */
export class EncryptionAuditTrail extends Construct {
  /**
   * The most buckets one trail records: CloudTrail allows 500 values in all advanced event
   * selectors of a trail, and the trail spends 3 on its own selectors (eventCategory twice and
   * resources.type). An `EncryptedBucket` with its own access-log bucket counts as two.
   */
  public static readonly MAX_BUCKETS = MAX_SELECTOR_VALUES - FIXED_SELECTOR_VALUES;

  /** Which management events the trail records. */
  public readonly managementEvents: ManagementEvents;

  /** The trail. */
  public readonly trail: cloudtrail.Trail;
  /** The key that encrypts the trail's log files, its log group and its alarm topic. */
  public readonly key: kms.Key;
  /** The bucket that receives the log files. */
  public readonly bucket: EncryptedBucket;
  /** The CloudWatch Logs copy of the trail. */
  public readonly logGroup: logs.LogGroup;
  /** The topic that receives the alarms. */
  public readonly alarmTopic: sns.ITopic;
  /** The alarms, by change family. */
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** Name of the trail. */
  public readonly trailName: string;
  private readonly dataEventPrefixes: string[] = [];
  private readonly joined = new Set<string>();

  constructor(scope: Construct, id: string, props: EncryptionAuditTrailProps = {}) {
    super(scope, id);
    // Props given here win; then the EncryptionDefaults nearest above, value by value.
    const d = governedBy(this, 'trail').values;
    props = {
      ...props,
      keyRotationPeriod: props.keyRotationPeriod ?? d.keyRotationPeriod,
      alarmTopic: props.alarmTopic ?? d.alarmTopic,
    };
    if (props.trailName !== undefined && !Token.isUnresolved(props.trailName) && !/^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$/.test(props.trailName)) {
      invalidProp(this, 'trailName', props.trailName, 'must be 3 to 128 characters of letters, digits, ".", "_" or "-", starting and ending with a letter or digit');
    }
    if (props.keyRotationPeriod) checkIntRange(this, 'keyRotationPeriod (days)', props.keyRotationPeriod.toDays(), 90, 2560);
    const retention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    if (retention !== logs.RetentionDays.INFINITE && retention < 365) {
      invalidProp(this, 'logRetention', retention, 'must be at least 365 days (RetentionDays.ONE_YEAR) or INFINITE, as the compliance packs require');
    }
    if (props.isMultiRegionTrail === false) {
      warnWeakened(this, 'isMultiRegionTrail', 'events in other Regions, including key changes there, are not recorded.', ['AwsSolutions / NIST multi-Region trail checks']);
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.trailName = props.trailName ?? Names.uniqueResourceName(this, { maxLength: 128, separator: '-' });
    const trailArn = `arn:${Aws.PARTITION}:cloudtrail:${Aws.REGION}:${Aws.ACCOUNT_ID}:trail/${this.trailName}`;
    const logGroupName = `/cdk-s3-encryption/trail/${this.trailName}`;

    this.key = createManagedKey(this, 'Key', {
      description: `Key of the CloudTrail trail ${this.trailName}: log files, log group and alarm topic`,
      rotationPeriod: props.keyRotationPeriod,
      removalPolicy,
    });
    this.allowCloudTrailOnKey(trailArn);
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AccountPrincipalsDecryptTrailLogFiles',
      principals: [new iam.AccountRootPrincipal()],
      actions: ['kms:Decrypt', 'kms:ReEncryptFrom'],
      resources: ['*'],
      conditions: {
        StringEquals: { 'kms:CallerAccount': Aws.ACCOUNT_ID },
        StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': `arn:${Aws.PARTITION}:cloudtrail:*:${Aws.ACCOUNT_ID}:trail/*` },
      },
    }));
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchLogsEncryptsTheTrailLogGroup',
      principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      // No kms:DescribeKey: it carries no encryption context, so under this condition it never matched.
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext'],
      resources: ['*'],
      conditions: {
        ArnEquals: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${logGroupName}` },
      },
    }));

    if (props.alarmTopic) {
      this.alarmTopic = props.alarmTopic;
      // A topic policy replaces SNS's default one: the alarms need their own allow, and on the
      // topic's key when it is encrypted (SNS Developer Guide, sns-key-management.html).
      allowTopicPublishers(this, props.alarmTopic, props.alarmTopic.masterKey, { cloudWatch: true });
    } else {
      const topic = new sns.Topic(this, 'AlarmTopic', {
        // SNS display names take at most 100 characters; trail names up to 128.
        displayName: Token.isUnresolved(this.trailName) ? 'Encryption change alarms' : `Encryption change alarms of ${this.trailName}`.slice(0, 100),
        masterKey: this.key,
        enforceSSL: true,
      });
      // enforceSSL writes a topic policy, which replaces SNS's default one: without this allow no
      // alarm could publish.
      allowTopicPublishers(this, topic, this.key, { cloudWatch: true });
      this.alarmTopic = topic;
    }

    // The trail records the data events of the log buckets of the buckets it audits: its own bucket
    // logs elsewhere than the stack's shared log bucket, or every delivery would be recorded again.
    useDedicatedAccessLogs(this);
    this.bucket = new EncryptedBucket(this, 'Bucket', {
      encryptionKey: this.key,
      removalPolicy,
      alarmTopic: this.alarmTopic,
      replication: props.replication,
    });
    this.allowCloudTrailOnBucket(trailArn);
    // Digest files may arrive as SSE-S3 (see allowCloudTrailOnBucket): accepted under their prefix only.
    this.bucket.allowSseS3Under(`AWSLogs/${Stack.of(this).account}/CloudTrail-Digest/`);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName,
      encryptionKey: this.key,
      retention,
      removalPolicy,
    });

    this.trail = new cloudtrail.Trail(this, 'Trail', {
      trailName: this.trailName,
      bucket: this.bucket,
      encryptionKey: this.key,
      sendToCloudWatchLogs: false,
      isMultiRegionTrail: props.isMultiRegionTrail ?? true,
      includeGlobalServiceEvents: true,
      enableFileValidation: true,
    });
    const cfnTrail = this.trail.node.defaultChild as cloudtrail.CfnTrail;
    // CloudWatch Logs delivery wired here, with a customer-managed policy instead of an inline one.
    const logsRole = new iam.Role(this, 'LogsRole', {
      description: `CloudTrail delivery of ${this.trailName} to CloudWatch Logs`,
      assumedBy: new iam.ServicePrincipal('cloudtrail.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceArn': trailArn } },
      }),
    });
    const logsPolicy = new iam.ManagedPolicy(this, 'LogsPolicy', {
      description: `Lets CloudTrail write ${this.trailName} into its log group`,
      roles: [logsRole],
      statements: [new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      })],
    });
    cfnTrail.cloudWatchLogsLogGroupArn = this.logGroup.logGroupArn;
    cfnTrail.cloudWatchLogsRoleArn = logsRole.roleArn;
    cfnTrail.node.addDependency(logsPolicy);
    // Advanced selectors: management events, plus S3 data events of every joined bucket in one selector.
    this.managementEvents = props.managementEvents ?? ManagementEvents.ALL;
    const management = managementSelectors(this.managementEvents);
    if (this.managementEvents === ManagementEvents.NONE && (props.buckets ?? []).length === 0) {
      // A trail with neither would record nothing until a bucket joins: said at synth if none does.
      this.node.addValidation({
        validate: () => this.dataEventPrefixes.length > 0 ? [] : [`${this.node.path}: managementEvents is ManagementEvents.NONE and no bucket joined the trail, so it records nothing; add a bucket (auditTrail on an EncryptedBucket, or addBucket) or record management events`],
      });
    }
    cfnTrail.advancedEventSelectors = Lazy.any({
      produce: () => [
        ...management,
        ...(this.dataEventPrefixes.length === 0 ? [] : [{
          name: 'S3 data events of encrypted buckets',
          fieldSelectors: [
            { field: 'eventCategory', equalTo: ['Data'] },
            { field: 'resources.type', equalTo: ['AWS::S3::Object'] },
            { field: 'resources.ARN', startsWith: [...this.dataEventPrefixes] },
          ],
        }]),
      ],
    });
    this.trail.node.addValidation({ validate: () => this.validateSelectorValues() });

    if (this.managementEvents === ManagementEvents.NONE) {
      warnWeakened(this, 'managementEvents', 'the trail records no management events, so it has no alarm on key or encryption-setting changes; the trail that records them (an organization trail) must carry such alarms.', []);
    }
    for (const change of this.managementEvents === ManagementEvents.NONE ? [] : ENCRYPTION_CHANGE_ALARMS) {
      const names = change.events.map((e) => `($.eventName = ${e})`).join(' || ');
      const metricFilter = new logs.MetricFilter(this, `${change.id}Filter`, {
        logGroup: this.logGroup,
        filterPattern: logs.FilterPattern.literal(`{ ($.eventSource = ${change.source}) && (${names}) }`),
        metricNamespace: 'CdkS3Encryption/AuditTrail',
        metricName: `${change.id}-${this.trailName}`,
        metricValue: '1',
        defaultValue: 0,
      });
      const alarm = new cloudwatch.Alarm(this, `${change.id}Alarm`, {
        metric: metricFilter.metric({ statistic: 'Sum', period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `${change.description} (${change.events.join(', ')}); check who did it in the trail ${this.trailName}.`,
      });
      alarm.addAlarmAction(new cw_actions.SnsAction(this.alarmTopic));
      this.alarms.push(alarm);
    }

    for (const b of props.buckets ?? []) this.addBucket(b);
  }

  /**
   * Records the S3 data events (object reads and writes) of a bucket in this trail, and those of
   * its access-log bucket when it is an `EncryptedBucket`. Each bucket is one of the
   * `EncryptionAuditTrail.MAX_BUCKETS` this trail can record.
   */
  public addBucket(bucket: s3.IBucket): void {
    if (bucket === this.bucket || bucket === this.bucket.accessLogsBucket) {
      invalidProp(this, 'bucket', bucket.node.path,
        'is where this trail writes (or where that bucket logs its access): recording its data events would record every delivery of the trail again (recursive logging); record it in another trail');
    }
    this.join(bucket);
    // Reads of a bucket's access logs are as sensitive as reads of its data.
    if (bucket instanceof EncryptedBucket) {
      if (bucket.accessLogsBucket === this.bucket.accessLogsBucket) {
        warnWeakened(this, 'buckets', `the access logs of ${bucket.node.path} go to the bucket that also logs this trail's deliveries, so they are not recorded here (recursive logging); record that bucket in another trail.`, []);
      } else {
        this.join(bucket.accessLogsBucket);
      }
    }
  }

  /** The number of buckets whose data events this trail records. */
  /** How many buckets this trail can record, with the management-event selectors it has. */
  public get maxBuckets(): number {
    return MAX_SELECTOR_VALUES - countSelectorValues(managementSelectors(this.managementEvents)) - DATA_SELECTOR_FIXED_VALUES;
  }

  public get bucketCount(): number {
    return this.dataEventPrefixes.length;
  }

  private join(bucket: s3.IBucket): void {
    const key = bucket.node.path;
    if (this.joined.has(key)) return;
    this.joined.add(key);
    this.dataEventPrefixes.push(`${bucket.bucketArn}/`);
  }

  /**
   * The key-policy statements CloudTrail needs, as the CloudTrail User Guide writes them
   * (create-kms-key-policy-for-cloudtrail.html): GenerateDataKey* with the trail's encryption
   * context, and DescribeKey, each for this trail only by aws:SourceArn ("The value of
   * aws:SourceArn is always the trail ARN"). DescribeKey carries no encryption context, so it is
   * scoped by the source alone.
   */
  private allowCloudTrailOnKey(trailArn: string): void {
    const cloudTrail = new iam.ServicePrincipal('cloudtrail.amazonaws.com');
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudTrailEncryptsLogFiles',
      principals: [cloudTrail],
      actions: ['kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: {
        StringEquals: { 'aws:SourceArn': trailArn },
        StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': `arn:${Aws.PARTITION}:cloudtrail:*:${Aws.ACCOUNT_ID}:trail/*` },
      },
    }));
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudTrailDescribesKey',
      principals: [cloudTrail],
      actions: ['kms:DescribeKey'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceArn': trailArn } },
    }));
  }

  /**
   * aws-cdk-lib's Trail lets cloudtrail.amazonaws.com check the ACL and write under
   * `AWSLogs/<account>/` for any trail; the CloudTrail User Guide
   * (create-s3-bucket-policy-for-cloudtrail.html) scopes both to the trail by aws:SourceArn, so
   * deliveries for any other trail, another account's included, are denied here.
   *
   * Digest files: the CloudTrail User Guide disagrees with itself.
   * encrypting-cloudtrail-log-files-with-aws-kms.html: "Enabling server-side encryption encrypts
   * the log files but not the digest files with SSE-KMS. Digest files are encrypted with Amazon
   * S3-managed encryption keys (SSE-S3)." The newer create-kms-key-policy-for-cloudtrail.html: "The
   * policy must allow CloudTrail to use the key to encrypt your log files, digest files, and event
   * data stores", and default-kms-key-policy.html: "Allows CloudTrail to encrypt log files and
   * digest files under the KMS key". Neither page is retired, so both must pass, under
   * `AWSLogs/<account>/CloudTrail-Digest/` only: SSE-KMS with this trail's key passes like a log
   * file (same headers, same key statement); SSE-S3 (`AES256`) is accepted there through
   * EncryptedBucket.allowSseS3Under, and nowhere else.
   */
  private allowCloudTrailOnBucket(trailArn: string): void {
    this.bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyCloudTrailDeliveryForOtherTrails',
      effect: iam.Effect.DENY,
      principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
      actions: ['s3:GetBucketAcl', 's3:PutObject'],
      resources: [this.bucket.bucketArn, this.bucket.arnForObjects('*')],
      conditions: { StringNotEquals: { 'aws:SourceArn': trailArn } },
    }));
  }

  /** Every value of every condition of every advanced event selector, as CloudTrail counts them. */
  private validateSelectorValues(): string[] {
    const selectors = Stack.of(this).resolve((this.trail.node.defaultChild as cloudtrail.CfnTrail).advancedEventSelectors) ?? [];
    const count = countSelectorValues(selectors);
    if (count <= MAX_SELECTOR_VALUES) return [];
    return [
      `${this.node.path}: the advanced event selectors hold ${count} values (${this.bucketCount} bucket ARNs and ${count - this.bucketCount} others); ` +
      `CloudTrail allows at most ${MAX_SELECTOR_VALUES} in all conditions of all selectors of a trail and would fail the deploy with InvalidEventSelectorsException. ` +
      `This trail records at most ${this.maxBuckets} buckets, each access-log bucket counting as one. ` +
      `Fix: move at least ${this.bucketCount - this.maxBuckets} of the buckets to a second EncryptionAuditTrail, or let buckets share an access-log bucket.`,
    ];
  }
}

/** Values of the data-event selector besides the bucket ARNs: eventCategory and resources.type. */
const DATA_SELECTOR_FIXED_VALUES = 2;

/**
 * The advanced event selectors for management events. Management events may be selected by
 * eventCategory, eventSource and readOnly (AdvancedEventSelector, CloudTrail API Reference);
 * NotEquals on eventSource accepts kms.amazonaws.com (logging-management-events-with-cloudtrail.html).
 * An event is recorded when it matches any selector.
 */
function managementSelectors(events: ManagementEvents): Array<{ name: string; fieldSelectors: Array<Record<string, unknown>> }> {
  switch (events) {
    case ManagementEvents.NONE:
      return [];
    case ManagementEvents.ALL_EXCEPT_KMS_READS:
      return [
        { name: 'Management events that change something', fieldSelectors: [{ field: 'eventCategory', equalTo: ['Management'] }, { field: 'readOnly', equalTo: ['false'] }] },
        {
          name: 'Read-only management events except those of AWS KMS',
          fieldSelectors: [{ field: 'eventCategory', equalTo: ['Management'] }, { field: 'readOnly', equalTo: ['true'] }, { field: 'eventSource', notEquals: ['kms.amazonaws.com'] }],
        },
      ];
    default:
      return [{ name: 'Management events', fieldSelectors: [{ field: 'eventCategory', equalTo: ['Management'] }] }];
  }
}

/** Sums the values of every field condition (Equals, StartsWith, NotEquals, ...) of every selector. */
function countSelectorValues(selectors: any[]): number {
  let count = 0;
  for (const selector of selectors) {
    for (const field of selector.fieldSelectors ?? selector.FieldSelectors ?? []) {
      for (const [name, values] of Object.entries(field)) {
        if (name.toLowerCase() !== 'field' && Array.isArray(values)) count += values.length;
      }
    }
  }
  return count;
}
