/**
 * What the buckets of a stack share (src/bucket/stack-shared.ts): one log bucket, one alarm topic
 * and one KMS quota alarm per stack, whatever the number of buckets; and the cost table the README
 * shows, counted from the templates.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { COST_TABLE_SIZES, countDefaults, renderCostTable } from '../../examples/cost';
import { EncryptedBucket, EncryptionAuditTrail } from '../../src';

const ENV = { account: '111111111111', region: 'us-east-1' };
const stackOf = () => new Stack(new App(), 'S', { env: ENV });
const resources = (stack: Stack, type: string) =>
  Object.entries<any>(Template.fromStack(stack).toJSON().Resources).filter(([, r]) => r.Type === type);

describe('N default buckets in a stack make N bucket keys and a constant', () => {
  test.each(COST_TABLE_SIZES.map((n) => [n]))('%i buckets: N + 1 keys (the alarm topic key), one log bucket, one topic, one alarm', (n) => {
    const c = countDefaults(n);
    expect({ kmsKeys: c.kmsKeys, logBuckets: c.logBuckets, topics: c.topics, alarms: c.alarms, inventories: c.inventories })
      .toEqual({ kmsKeys: n + 1, logBuckets: 1, topics: 1, alarms: 1, inventories: n });
    // Three resources per bucket (bucket, its policy, its key) and six shared: 164 buckets fit in a stack's 500.
    expect(c.resources).toBe(3 * n + 6);
  });

  test('the README cost table is what the templates count', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    expect(readme).toContain(renderCostTable());
  });
});

describe('the shared log bucket', () => {
  test('every bucket logs under its own prefix; one delivery and one inventory statement name every source bucket', () => {
    const stack = stackOf();
    const a = new EncryptedBucket(stack, 'A');
    const b = new EncryptedBucket(stack, 'B');
    expect(a.accessLogsBucket).toBe(b.accessLogsBucket);
    const t = Template.fromStack(stack).toJSON();
    const [logId] = resources(stack, 'AWS::S3::Bucket').find(([id]) => id.startsWith('S3EncryptionSharedAccessLogs'))!;
    const prefixes = resources(stack, 'AWS::S3::Bucket').filter(([id]) => id !== logId).map(([, r]) => r.Properties.LoggingConfiguration);
    expect(prefixes.map((p) => p.DestinationBucketName)).toEqual([{ Ref: logId }, { Ref: logId }]);
    expect(new Set(prefixes.map((p) => p.LogFilePrefix)).size).toBe(2);
    const policy: any = Object.values<any>(t.Resources).find((r) => r.Type === 'AWS::S3::BucketPolicy' && r.Properties.Bucket.Ref === logId);
    const statements = policy.Properties.PolicyDocument.Statement;
    const delivery = statements.filter((s: any) => s.Principal?.Service === 'logging.s3.amazonaws.com');
    expect(delivery).toHaveLength(1);
    expect(delivery[0].Condition.ArnLike['aws:SourceArn']).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^A/), 'Arn'] }, { 'Fn::GetAtt': [expect.stringMatching(/^B/), 'Arn'] }]);
    expect(delivery[0].Resource).toHaveLength(2);
    const inventory = statements.filter((s: any) => s.Principal?.Service === 's3.amazonaws.com');
    expect(inventory).toHaveLength(1);
    expect(inventory[0].Condition.ArnLike['aws:SourceArn']).toHaveLength(2);
  });

  test('kept as long as its most demanding bucket asks, and retained while one bucket is', () => {
    const stack = stackOf();
    new EncryptedBucket(stack, 'Short', { accessLogsRetention: Duration.days(30), removalPolicy: RemovalPolicy.DESTROY });
    new EncryptedBucket(stack, 'Long', { accessLogsRetention: Duration.days(400), removalPolicy: RemovalPolicy.RETAIN });
    new EncryptedBucket(stack, 'Middle', { accessLogsRetention: Duration.days(90), removalPolicy: RemovalPolicy.DESTROY });
    const [, log] = resources(stack, 'AWS::S3::Bucket').find(([id]) => id.startsWith('S3EncryptionSharedAccessLogs'))!;
    expect(log.Properties.LifecycleConfiguration.Rules[0].ExpirationInDays).toBe(400);
    expect(log.DeletionPolicy).toBe('Retain');
  });

  test('removed with the stack when every bucket is', () => {
    const stack = stackOf();
    new EncryptedBucket(stack, 'A', { removalPolicy: RemovalPolicy.DESTROY });
    new EncryptedBucket(stack, 'B', { removalPolicy: RemovalPolicy.DESTROY });
    const [, log] = resources(stack, 'AWS::S3::Bucket').find(([id]) => id.startsWith('S3EncryptionSharedAccessLogs'))!;
    expect(log.DeletionPolicy).toBe('Delete');
  });

  test('a bucket given its own log bucket leaves the shared one out', () => {
    const stack = stackOf();
    const own = new s3.Bucket(stack, 'Own');
    new EncryptedBucket(stack, 'A', { accessLogsBucket: own });
    expect(resources(stack, 'AWS::S3::Bucket').map(([id]) => id).filter((id) => id.startsWith('S3EncryptionShared'))).toEqual([]);
  });

  test("a trail's own bucket logs into a log bucket of its own, so the trail never records its own deliveries", () => {
    const stack = stackOf();
    const trail = new EncryptionAuditTrail(stack, 'Audit');
    const data = new EncryptedBucket(stack, 'Data', { auditTrail: trail });
    expect(trail.bucket.accessLogsBucket).not.toBe(data.accessLogsBucket);
    expect(trail.bucket.accessLogsBucket.node.path).toBe('S/Audit/Bucket/AccessLogs');
    expect(data.accessLogsBucket.node.path).toBe('S/S3EncryptionShared/AccessLogs');
  });

  test('replicated once: a second bucket replicating it elsewhere is refused with both destinations named', () => {
    const app = new App();
    const dest = new Stack(app, 'D', { env: { ...ENV, region: 'eu-west-1' } });
    const replica = new EncryptedBucket(dest, 'Replica');
    const replicaLogs = new EncryptedBucket(dest, 'ReplicaLogs');
    const otherLogs = new EncryptedBucket(dest, 'OtherLogs');
    const src = new Stack(app, 'S', { env: ENV });
    const replication = { destinationBucket: replica, destinationKeyArn: 'arn:aws:kms:eu-west-1:111111111111:alias/replica', accessLogsDestinationBucket: replicaLogs };
    new EncryptedBucket(src, 'A', { replication });
    new EncryptedBucket(src, 'B', { replication });
    expect(() => new EncryptedBucket(src, 'C', { replication: { ...replication, accessLogsDestinationBucket: otherLogs } }))
      .toThrow(/S\/C.*replication\.accessLogsDestinationBucket.*D\/OtherLogs.*differs from D\/ReplicaLogs.*S\/S3EncryptionShared\/AccessLogs/);
    const logReplication = resources(src, 'AWS::S3::Bucket').filter(([id, r]) => id.startsWith('S3EncryptionSharedAccessLogs') && r.Properties.ReplicationConfiguration);
    expect(logReplication).toHaveLength(1);
  });
});

describe('the shared alarm topic and KMS quota alarm', () => {
  test('one alarm per threshold; a topic a bucket passes is added to the alarm of its threshold', () => {
    const stack = stackOf();
    const own = new sns.Topic(stack, 'Own');
    new EncryptedBucket(stack, 'A');
    new EncryptedBucket(stack, 'B', { alarmTopic: own });
    new EncryptedBucket(stack, 'C', { kmsQuotaAlarmThreshold: 50 });
    new EncryptedBucket(stack, 'D', { kmsQuotaAlarmThreshold: 50 });
    const alarms = resources(stack, 'AWS::CloudWatch::Alarm');
    expect(alarms.map(([, a]) => a.Properties.Threshold).sort()).toEqual([50, 80]);
    const at80 = alarms.find(([, a]) => a.Properties.Threshold === 80)![1];
    expect(at80.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^S3EncryptionSharedAlarmTopic/) }, { Ref: expect.stringMatching(/^Own/) }]);
    expect(resources(stack, 'AWS::SNS::Topic')).toHaveLength(2);
  });

  test('the topic has a key of its own, which CloudWatch alarms of this account may use; no bucket key names CloudWatch', () => {
    const stack = stackOf();
    const a = new EncryptedBucket(stack, 'A');
    const [, topic] = resources(stack, 'AWS::SNS::Topic')[0];
    const [topicKeyId, topicKey] = resources(stack, 'AWS::KMS::Key').find(([id]) => id.startsWith('S3EncryptionSharedAlarmTopicKey'))!;
    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [topicKeyId, 'Arn'] });
    const sids = (k: any) => k.Properties.KeyPolicy.Statement.map((s: any) => s.Sid);
    expect(sids(topicKey)).toContain('CloudWatchAlarmsPublishToTheAlarmTopic');
    const [, bucketKey] = resources(stack, 'AWS::KMS::Key').find(([id]) => id.startsWith('AKey'))!;
    expect(sids(bucketKey)).not.toContain('CloudWatchAlarmsPublishToTheAlarmTopic');
    expect(a.alarmTopic).toBeDefined();
  });
});
