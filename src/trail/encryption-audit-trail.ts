import { Aws, Duration, Lazy, Names, RemovalPolicy, Token } from 'aws-cdk-lib';
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
import { createManagedKey, serviceUsageStatement } from '../keys/key-policy';

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
   *
   * @default - none
   */
  readonly buckets?: s3.IBucket[];

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
    this.key.addToResourcePolicy(serviceUsageStatement('CloudTrailEncryptsLogFiles', 'cloudtrail.amazonaws.com', ['kms:GenerateDataKey*'], [trailArn], {
      StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': `arn:${Aws.PARTITION}:cloudtrail:*:${Aws.ACCOUNT_ID}:trail/*` },
    }));
    this.key.addToResourcePolicy(serviceUsageStatement('CloudTrailDescribesKey', 'cloudtrail.amazonaws.com', ['kms:DescribeKey'], [trailArn]));
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
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: {
        ArnEquals: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${logGroupName}` },
      },
    }));

    if (props.alarmTopic) {
      this.alarmTopic = props.alarmTopic;
    } else {
      this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
        displayName: `Encryption change alarms of ${this.trailName}`,
        masterKey: this.key,
        enforceSSL: true,
      });
      this.key.addToResourcePolicy(serviceUsageStatement('CloudWatchAlarmsPublishToTheAlarmTopic', 'cloudwatch.amazonaws.com', ['kms:Decrypt', 'kms:GenerateDataKey*']));
    }

    this.bucket = new EncryptedBucket(this, 'Bucket', {
      encryptionKey: this.key,
      removalPolicy,
      alarmTopic: this.alarmTopic,
      replication: props.replication,
    });

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
    cfnTrail.advancedEventSelectors = Lazy.any({
      produce: () => [
        { name: 'Management events', fieldSelectors: [{ field: 'eventCategory', equalTo: ['Management'] }] },
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
    this.trail.node.addValidation({
      validate: () => this.dataEventPrefixes.length > 500
        ? [`${this.node.path}: ${this.dataEventPrefixes.length} buckets joined; an advanced event selector takes at most 500 values. Use a second EncryptionAuditTrail.`]
        : [],
    });

    for (const change of ENCRYPTION_CHANGE_ALARMS) {
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
   * Records the S3 data events (object reads and writes) of a bucket in this trail.
   */
  public addBucket(bucket: s3.IBucket): void {
    const key = bucket.node.path;
    if (this.joined.has(key)) return;
    this.joined.add(key);
    this.dataEventPrefixes.push(`${bucket.bucketArn}/`);
    // Reads of a bucket's access logs are as sensitive as reads of its data.
    if (bucket instanceof EncryptedBucket && bucket !== this.bucket) {
      this.addBucket(bucket.accessLogsBucket);
    }
  }

  /** The number of buckets whose data events this trail records. */
  public get bucketCount(): number {
    return this.dataEventPrefixes.length;
  }
}
