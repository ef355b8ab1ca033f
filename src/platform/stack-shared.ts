import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, IConstruct } from 'constructs';
import { AccessLogBucket } from '../bucket/access-log-bucket';
import { createManagedKey, s3UsageStatement } from '../keys/key-policy';
import { allowTopicPublishers } from '../keys/topic-policy';

const ID = 'S3EncryptionShared';
const DEDICATED_LOGS = Symbol.for('cdk-s3-encryption.dedicatedAccessLogs');

/**
 * Marks a scope whose buckets log into a log bucket of their own, not the stack's: a trail's bucket,
 * since a trail records the data events of the log buckets of the buckets it audits, and recording
 * the deliveries of its own bucket's logs would record every delivery again (a loop).
 */
export function useDedicatedAccessLogs(scope: IConstruct): void {
  (scope as unknown as Record<symbol, boolean>)[DEDICATED_LOGS] = true;
}

/** Whether a bucket made directly in scope gets a log bucket of its own. */
export function hasDedicatedAccessLogs(scope: IConstruct): boolean {
  return (scope as unknown as Record<symbol, boolean>)[DEDICATED_LOGS] === true;
}

/**
 * What the buckets of one stack share, made on first use under the stack (one stack has one
 * environment, account and Region): the server-access-log bucket (S3 requires the destination in
 * the source bucket's account and Region; each bucket writes under its own prefix), the KMS
 * request-quota alarm (its AWS/Usage metric is account-wide per Region, so one alarm per threshold
 * says all there is to say) and the alarm topic with its key. N buckets then make N bucket keys and
 * this constant, not a log bucket, a topic and an alarm each.
 */
export class StackShared extends Construct {
  /** The shared constructs of the stack of scope, made on first use. */
  public static of(scope: IConstruct): StackShared {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild(ID) as StackShared | undefined) ?? new StackShared(stack, ID);
  }

  private logs?: AccessLogBucket;
  private topic?: sns.Topic;
  private foreignKey?: kms.Key;
  private readonly alarms = new Map<number, { alarm: cloudwatch.Alarm; topics: Set<sns.ITopic> }>();

  private constructor(scope: Stack, id: string) {
    super(scope, id);
  }

  /** The stack's log bucket, kept as long and as retained as its most demanding bucket asks. */
  public accessLogBucket(retention: Duration, removalPolicy: RemovalPolicy): AccessLogBucket {
    if (!this.logs) {
      this.logs = new AccessLogBucket(this, 'AccessLogs', { retention, removalPolicy });
    } else {
      this.logs.shareWith(retention, removalPolicy);
    }
    return this.logs;
  }

  /**
   * The stack's alarm topic: TLS only, encrypted with a key of its own (CloudWatch cannot publish
   * to a topic under the AWS managed key aws/sns), whose policy and the topic's let this account's
   * CloudWatch alarms publish.
   */
  public alarmTopic(): sns.Topic {
    if (!this.topic) {
      const key = createManagedKey(this, 'AlarmTopicKey', {
        description: `Key of the alarm topic of the encrypted S3 buckets of ${Stack.of(this).node.path}`,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      this.topic = new sns.Topic(this, 'AlarmTopic', {
        displayName: `Alarms of the encrypted S3 buckets of ${Stack.of(this).node.path}`,
        masterKey: key,
        enforceSSL: true,
      });
      // enforceSSL writes a topic policy, which replaces SNS's default one: CloudWatch needs an
      // allow there and on the key, or no alarm ever notifies anyone.
      allowTopicPublishers(this, this.topic, key, { cloudWatch: true });
    }
    return this.topic;
  }

  /**
   * The key that BucketEncryptionPolicy gives the buckets of other code in this stack. Their names
   * may be known only at deploy time, so, like the AWS managed key aws/s3, it is usable by this
   * account through S3 in this Region (kms:ViaService, kms:CallerAccount), for any of its buckets.
   */
  public foreignBucketKey(): kms.Key {
    if (!this.foreignKey) {
      this.foreignKey = createManagedKey(this, 'ForeignBucketsKey', {
        description: `Key of the S3 buckets of ${Stack.of(this).node.path} that BucketEncryptionPolicy encrypts`,
      });
      this.foreignKey.addToResourcePolicy(s3UsageStatement('UseThroughS3ByBucketsOfThisAccount', [`arn:${Aws.PARTITION}:s3:::*`], Stack.of(this).region, Stack.of(this).account));
    }
    return this.foreignKey;
  }

  /** The stack's KMS request-quota alarm at this threshold, notifying this topic too. */
  public kmsQuotaAlarm(thresholdPercent: number, topic: sns.ITopic): cloudwatch.Alarm {
    let entry = this.alarms.get(thresholdPercent);
    if (!entry) {
      const id = thresholdPercent === 80 ? 'KmsRequestQuotaAlarm' : `KmsRequestQuotaAlarm${thresholdPercent}`;
      entry = { alarm: createKmsQuotaAlarm(this, id, thresholdPercent), topics: new Set() };
      this.alarms.set(thresholdPercent, entry);
    }
    if (!entry.topics.has(topic)) {
      entry.topics.add(topic);
      entry.alarm.addAlarmAction(new cw_actions.SnsAction(topic));
    }
    return entry.alarm;
  }
}

/**
 * The account's KMS cryptographic request rate against its quota: AWS/Usage metrics are
 * account-wide per API, so this alarm watches the shared budget every bucket's requests draw on.
 */
function createKmsQuotaAlarm(scope: Construct, id: string, thresholdPercent: number): cloudwatch.Alarm {
  const apis = ['Decrypt', 'Encrypt', 'GenerateDataKey', 'ReEncrypt', 'GenerateDataKeyWithoutPlaintext'];
  const usingMetrics: Record<string, cloudwatch.IMetric> = {};
  apis.forEach((api, i) => {
    usingMetrics[`m${i}`] = new cloudwatch.Metric({
      namespace: 'AWS/Usage',
      metricName: 'CallCount',
      dimensionsMap: { Service: 'KMS', Type: 'API', Resource: api, Class: 'None' },
      statistic: 'Sum',
      period: Duration.minutes(1),
    });
  });
  const sum = Object.keys(usingMetrics).join('+');
  const percent = new cloudwatch.MathExpression({
    expression: `100*((${sum})/60)/SERVICE_QUOTA(m0)`,
    usingMetrics,
    label: 'KMS cryptographic requests, % of the account request-rate quota',
    period: Duration.minutes(1),
  });
  return new cloudwatch.Alarm(scope, id, {
    metric: percent,
    threshold: thresholdPercent,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: `KMS cryptographic request rate at or above ${thresholdPercent}% of the account quota; SSE-KMS requests to S3 will be throttled (HTTP 503 SlowDown) when it is reached. Enable S3 Bucket Keys, cache data keys client-side, or request a quota increase.`,
  });
}
