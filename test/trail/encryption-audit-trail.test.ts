import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EncryptedBucket, EncryptionAuditTrail, EncryptionAuditTrailProps, EncryptionDefaults, ENCRYPTION_CHANGE_ALARMS, ManagementEvents } from '../../src';

const ENV = { account: '111111111111', region: 'us-east-1' };

function make(props?: EncryptionAuditTrailProps, withBuckets = 0) {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: ENV });
  const trail = new EncryptionAuditTrail(stack, 'Audit', props);
  const buckets = Array.from({ length: withBuckets }, (_, i) => new EncryptedBucket(stack, `Data${i}`, { auditTrail: trail }));
  return { stack, trail, buckets, template: Template.fromStack(stack) };
}

function trailKeyPolicy(template: Template): any[] {
  const key: any = Object.values(template.findResources('AWS::KMS::Key')).find((k: any) => String(k.Properties.Description).startsWith('Key of the CloudTrail trail'));
  return key.Properties.KeyPolicy.Statement;
}

describe('EncryptionAuditTrail', () => {
  const { template, trail } = make(undefined, 2);

  test('is multi-Region, validates log files and encrypts them with its own key', () => {
    template.hasResourceProperties('AWS::CloudTrail::Trail', {
      IsMultiRegionTrail: true,
      EnableLogFileValidation: true,
      IncludeGlobalServiceEvents: true,
      KMSKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AuditKey'), 'Arn'] },
    });
  });

  test('the key policy lets CloudTrail encrypt only for this trail, and the account decrypt trail files', () => {
    const st = trailKeyPolicy(template);
    const ct = st.find((s) => s.Sid === 'CloudTrailEncryptsLogFiles');
    expect(ct.Principal.Service).toBe('cloudtrail.amazonaws.com');
    expect([].concat(ct.Action)).toEqual(['kms:GenerateDataKey*']);
    expect(JSON.stringify(ct.Condition.StringEquals['aws:SourceArn'])).toContain(`:trail/${trail.trailName}`);
    expect(ct.Condition.StringEquals['aws:SourceAccount']).toBeUndefined();
    expect(JSON.stringify(ct.Condition.StringLike['kms:EncryptionContext:aws:cloudtrail:arn'])).toContain(':trail/*');
    const read = st.find((s) => s.Sid === 'AccountPrincipalsDecryptTrailLogFiles');
    expect([].concat(read.Action)).toEqual(['kms:Decrypt', 'kms:ReEncryptFrom']);
    expect(st.some((s) => [].concat(s.Action).includes('kms:*' as never))).toBe(false);
  });

  test('the key policy lets CloudWatch Logs use the key only for the trail log group', () => {
    const st = trailKeyPolicy(template).find((s) => s.Sid === 'CloudWatchLogsEncryptsTheTrailLogGroup');
    expect(JSON.stringify(st.Condition.ArnEquals['kms:EncryptionContext:aws:logs:arn'])).toContain(`log-group:/cdk-s3-encryption/trail/${trail.trailName}`);
  });

  test('no key statement grants kms:DescribeKey under an encryption-context condition (DescribeKey carries none)', () => {
    const dead = trailKeyPolicy(template).filter((st) => [].concat(st.Action).includes('kms:DescribeKey' as never)
      && JSON.stringify(st.Condition ?? {}).includes('kms:EncryptionContext'));
    expect(dead).toEqual([]);
  });

  test('CloudTrail describes the key for this trail only, by aws:SourceArn', () => {
    const st = trailKeyPolicy(template).find((s) => s.Sid === 'CloudTrailDescribesKey');
    expect([].concat(st.Action)).toEqual(['kms:DescribeKey']);
    expect(Object.keys(st.Condition)).toEqual(['StringEquals']);
    expect(JSON.stringify(st.Condition.StringEquals['aws:SourceArn'])).toContain(`:trail/${trail.trailName}`);
  });

  test('the trail bucket denies CloudTrail deliveries for any other trail', () => {
    const policy: any = Object.values(template.findResources('AWS::S3::BucketPolicy')).find((p: any) =>
      p.Properties.PolicyDocument.Statement.some((s: any) => s.Sid === 'DenyCloudTrailDeliveryForOtherTrails'));
    const st = policy.Properties.PolicyDocument.Statement.find((s: any) => s.Sid === 'DenyCloudTrailDeliveryForOtherTrails');
    expect(st).toMatchObject({ Effect: 'Deny', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: ['s3:GetBucketAcl', 's3:PutObject'] });
    expect(JSON.stringify(st.Condition.StringNotEquals['aws:SourceArn'])).toContain(`:trail/${trail.trailName}`);
  });

  test('the alarm topic lets CloudWatch alarms of this account publish, and the key lets them encrypt', () => {
    const topicPolicy: any = Object.values(template.findResources('AWS::SNS::TopicPolicy'))
      .find((p: any) => JSON.stringify(p.Properties.Topics).includes('AuditAlarmTopic'));
    expect(topicPolicy.Properties.PolicyDocument.Statement.map((s: any) => s.Sid)).toContain('CloudWatchAlarmsOfThisAccountPublish');
    expect(trailKeyPolicy(template).find((s) => s.Sid === 'CloudWatchAlarmsPublishToTheAlarmTopic').Condition.ArnLike['aws:SourceArn']).toBeDefined();
  });

  test('sends the trail to an encrypted log group kept a year, through a role with a managed policy', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365, KmsKeyId: Match.anyValue() });
    const t: any = Object.values(template.findResources('AWS::CloudTrail::Trail'))[0];
    expect(t.Properties.CloudWatchLogsLogGroupArn['Fn::GetAtt'][0]).toMatch(/^AuditLogGroup/);
    expect(t.Properties.CloudWatchLogsRoleArn['Fn::GetAtt'][0]).toMatch(/^AuditLogsRole/);
    expect(t.DependsOn.some((d: string) => d.startsWith('AuditLogsPolicy'))).toBe(true);
    const rolePolicies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) => JSON.stringify(p).includes('AuditLogsRole'));
    expect(rolePolicies).toHaveLength(0);
  });

  test('records the S3 data events of every joined bucket and its log bucket in one advanced selector', () => {
    const t: any = Object.values(template.findResources('AWS::CloudTrail::Trail'))[0];
    const selectors = t.Properties.AdvancedEventSelectors;
    expect(selectors).toHaveLength(2);
    expect(selectors[0].FieldSelectors).toEqual([{ Field: 'eventCategory', Equals: ['Management'] }]);
    const arns = selectors[1].FieldSelectors.find((f: any) => f.Field === 'resources.ARN').StartsWith;
    // Two data buckets and the stack's log bucket they share, counted once.
    expect(arns).toHaveLength(3);
    expect(JSON.stringify(arns)).toContain('S3EncryptionSharedAccessLogs');
    expect(JSON.stringify(arns)).not.toContain('AuditBucketAccessLogs');
    expect(trail.bucketCount).toBe(3);
  });

  test('alarms on every key and encryption-setting change, into the encrypted topic', () => {
    const filters = Object.values(template.findResources('AWS::Logs::MetricFilter')).map((f: any) => f.Properties.FilterPattern);
    for (const event of ['DisableKey', 'ScheduleKeyDeletion', 'PutKeyPolicy', 'DisableKeyRotation', 'PutBucketEncryption', 'DeleteBucketEncryption', 'PutBucketPolicy', 'DeleteBucketPolicy']) {
      expect(filters.some((p: string) => p.includes(`($.eventName = ${event})`))).toBe(true);
    }
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a: any) => String(a.Properties.AlarmDescription).includes('check who did it'));
    expect(alarms).toHaveLength(ENCRYPTION_CHANGE_ALARMS.length);
    for (const a of alarms as any[]) expect(a.Properties.AlarmActions[0].Ref).toMatch(/^AuditAlarmTopic/);
  });

  test('the trail bucket is an EncryptedBucket under the trail key', () => {
    expect(trail.bucket).toBeInstanceOf(EncryptedBucket);
    expect(trail.bucket.bucketKey).toBe(trail.key);
  });

  test('matches the snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});

describe('at most 500 values in all advanced event selectors (CloudTrail quotas)', () => {
  function withBuckets(n: number) {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    const trail = new EncryptionAuditTrail(stack, 'Audit');
    for (let i = 0; i < n; i++) trail.addBucket(s3.Bucket.fromBucketName(stack, `Joined${i}`, `joined-bucket-${i}`));
    return { app, trail };
  }

  test('the trail spends 3 values of its own, so it records at most 497 buckets', () => {
    expect(EncryptionAuditTrail.MAX_BUCKETS).toBe(497);
    const t: any = Template.fromStack(Stack.of(withBuckets(1).trail)).findResources('AWS::CloudTrail::Trail');
    const values = (Object.values(t)[0] as any).Properties.AdvancedEventSelectors
      .flatMap((sel: any) => sel.FieldSelectors.flatMap((f: any) => Object.entries(f).filter(([k]) => k !== 'Field').flatMap(([, v]) => v as string[])));
    expect(values).toHaveLength(1 + 3);
  });

  test.each([495, 496, 497])('%d buckets synthesize (with the trail\'s own 3, at most 500 values)', (n) => {
    expect(() => withBuckets(n).app.synth()).not.toThrow();
  });

  test.each([498, 499, 500])('%d buckets fail at synth with the path, the count, the limit and the fix', (n) => {
    expect(() => withBuckets(n).app.synth()).toThrow(new RegExp(
      `Test/Audit: the advanced event selectors hold ${n + 3} values \\(${n} bucket ARNs and 3 others\\); CloudTrail allows at most 500 .*` +
      `InvalidEventSelectorsException.*at most 497 buckets.*Fix: move at least ${n - 497} of the buckets to a second EncryptionAuditTrail`));
  });
});

describe('recursive logging', () => {
  test('the trail\'s own bucket cannot join it', () => {
    const { trail } = make();
    expect(() => trail.addBucket(trail.bucket)).toThrow(/Test\/Audit: invalid bucket 'Test\/Audit\/Bucket': is where this trail writes .*recursive logging/);
  });

  test('the access-log bucket of the trail bucket cannot join it', () => {
    const { trail } = make();
    expect(() => trail.addBucket(trail.bucket.accessLogsBucket)).toThrow(/invalid bucket 'Test\/Audit\/Bucket\/AccessLogs'.*recursive logging/);
  });

  test('a bucket that logs into the trail bucket\'s log bucket joins without its log bucket, with a warning', () => {
    const { stack, trail } = make();
    new EncryptedBucket(stack, 'Shared', { auditTrail: trail, accessLogsBucket: trail.bucket.accessLogsBucket });
    expect(trail.bucketCount).toBe(1);
    expect(Annotations.fromStack(stack).findWarning('/Test/Audit', Match.stringLikeRegexp('access logs of Test/Shared .*not recorded here'))).toHaveLength(1);
  });
});

test('a bucket that joins twice is recorded once', () => {
  const { trail, buckets } = make(undefined, 1);
  trail.addBucket(buckets[0]);
  expect(trail.bucketCount).toBe(2); // the bucket and its log bucket, once each
});

test('a trail with no bucket records management events only', () => {
  const { template } = make();
  const t: any = Object.values(template.findResources('AWS::CloudTrail::Trail'))[0];
  expect(t.Properties.AdvancedEventSelectors).toHaveLength(1);
});

test('a single-Region trail prints a warning that says what is lost; the default trail prints none', () => {
  const { stack } = make({ isMultiRegionTrail: false });
  const warnings = Annotations.fromStack(stack).findWarning('/Test/Audit', Match.stringLikeRegexp('^isMultiRegionTrail:'));
  expect(warnings.map((w) => String(w.entry.data))).toEqual([expect.stringContaining('events in other Regions, including key changes there, are not recorded.')]);
  expect(Annotations.fromStack(make().stack).findWarning('*', Match.anyValue())).toEqual([]);
});

test('props given to the trail win over EncryptionDefaults, value by value', () => {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: ENV });
  const defaultsTopic = new sns.Topic(stack, 'DefaultsTopic');
  const ownTopic = new sns.Topic(stack, 'OwnTopic');
  new EncryptionDefaults(stack, 'Defaults', { keyRotationPeriod: Duration.days(180), alarmTopic: defaultsTopic });
  const trail = new EncryptionAuditTrail(stack, 'Audit', { keyRotationPeriod: Duration.days(90), alarmTopic: ownTopic });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::KMS::Key', { Description: Match.stringLikeRegexp('^Key of the CloudTrail trail'), RotationPeriodInDays: 90 });
  const actions = Object.values<any>(template.findResources('AWS::CloudWatch::Alarm')).flatMap((a) => a.Properties.AlarmActions ?? []);
  expect(actions.length).toBeGreaterThan(0);
  expect(actions.every((a) => a.Ref === stack.getLogicalId(ownTopic.node.defaultChild as any))).toBe(true);
  expect(trail.trailName).toBeDefined();
});

test('removalPolicy: RETAIN unless told, and what it is told otherwise', () => {
  const policies = (t: Template) => Object.values<any>(t.findResources('AWS::CloudTrail::Trail')).map((r) => r.DeletionPolicy);
  expect(Object.values<any>(make().template.findResources('AWS::KMS::Key')).every((k) => k.DeletionPolicy === 'Retain')).toBe(true);
  const destroyed = make({ removalPolicy: RemovalPolicy.DESTROY }).template;
  expect(Object.values<any>(destroyed.findResources('AWS::KMS::Key')).every((k) => k.DeletionPolicy === 'Delete')).toBe(true);
  expect(policies(destroyed)).toBeDefined();
});

test('names CloudTrail takes are taken, at both ends of the length range', () => {
  for (const trailName of ['a.c', 'A_9', `a${'-'.repeat(126)}z`, 'org.audit-trail_01']) expect(make({ trailName }).trail.trailName).toBe(trailName);
});

describe('bad input', () => {
  test.each([
    [{ trailName: 'ab' }, /Test\/Audit: invalid trailName 'ab': must be 3 to 128 characters/],
    [{ trailName: 'bad name!' }, /invalid trailName 'bad name!'/],
    // CloudTrail CreateTrail: letters, digits, periods, underscores and dashes, starting and ending with a letter or digit.
    [{ trailName: '-abc' }, /invalid trailName '-abc'/],
    [{ trailName: 'abc-' }, /invalid trailName 'abc-'/],
    [{ trailName: 'a/c' }, /invalid trailName 'a\/c'/],
    [{ trailName: `a${'b'.repeat(128)}` }, /invalid trailName 'ab{128}'/],
    [{ keyRotationPeriod: Duration.days(30) }, /Test\/Audit: invalid keyRotationPeriod \(days\) '?30'?: must be a whole number from 90 to 2560/],
    [{ logRetention: logs.RetentionDays.SIX_MONTHS }, /invalid logRetention 180: must be at least 365 days/],
  ] as [EncryptionAuditTrailProps, RegExp][])('%j', (props, message) => {
    expect(() => make(props)).toThrow(message);
  });
});

describe('managementEvents: an account whose organization trail already records management events', () => {
  const selectorsOf = (template: Template) => (Object.values(template.findResources('AWS::CloudTrail::Trail'))[0] as any).Properties.AdvancedEventSelectors;
  const alarmsOf = (template: Template) => Object.keys(template.findResources('AWS::CloudWatch::Alarm')).filter((id) => id.startsWith('Audit'));

  test('ALL (the default): one selector for every management event, the change alarms', () => {
    const { template, trail } = make(undefined, 1);
    expect(trail.managementEvents).toBe(ManagementEvents.ALL);
    expect(selectorsOf(template)[0].FieldSelectors).toEqual([{ Field: 'eventCategory', Equals: ['Management'] }]);
    expect(alarmsOf(template)).toHaveLength(ENCRYPTION_CHANGE_ALARMS.length);
    expect(trail.maxBuckets).toBe(EncryptionAuditTrail.MAX_BUCKETS);
  });

  test('ALL_EXCEPT_KMS_READS: every write, every read but those of KMS; the KMS change alarms still see their (write) events', () => {
    const { template, trail } = make({ managementEvents: ManagementEvents.ALL_EXCEPT_KMS_READS }, 1);
    const selectors = selectorsOf(template);
    expect(selectors.slice(0, 2).map((s: any) => s.FieldSelectors)).toEqual([
      [{ Field: 'eventCategory', Equals: ['Management'] }, { Field: 'readOnly', Equals: ['false'] }],
      [{ Field: 'eventCategory', Equals: ['Management'] }, { Field: 'readOnly', Equals: ['true'] }, { Field: 'eventSource', NotEquals: ['kms.amazonaws.com'] }],
    ]);
    expect(selectors[2].FieldSelectors[0]).toEqual({ Field: 'eventCategory', Equals: ['Data'] });
    expect(alarmsOf(template)).toHaveLength(ENCRYPTION_CHANGE_ALARMS.length);
    // Every KMS event an alarm watches is a write: recorded by the first selector.
    const kmsEvents = ENCRYPTION_CHANGE_ALARMS.filter((a) => a.source === 'kms.amazonaws.com').flatMap((a) => a.events);
    expect(kmsEvents.sort()).toEqual(['DisableKey', 'DisableKeyRotation', 'PutKeyPolicy', 'ScheduleKeyDeletion']);
    // Two management selectors spend 5 values: 4 fewer buckets than with one.
    expect(trail.maxBuckets).toBe(EncryptionAuditTrail.MAX_BUCKETS - 4);
  });

  test('NONE: data events only, no change alarm, and a warning that says so', () => {
    const { template, trail, stack } = make({ managementEvents: ManagementEvents.NONE }, 1);
    const selectors = selectorsOf(template);
    expect(selectors).toHaveLength(1);
    expect(selectors[0].FieldSelectors[0]).toEqual({ Field: 'eventCategory', Equals: ['Data'] });
    expect(alarmsOf(template)).toEqual([]);
    expect(trail.alarms).toEqual([]);
    expect(trail.maxBuckets).toBe(498);
    const warnings = Annotations.fromStack(stack).findWarning('/Test/Audit', Match.stringLikeRegexp('managementEvents'));
    expect(warnings.map((w) => w.entry.data)).toEqual([expect.stringMatching(/no alarm on key or encryption-setting changes/)]);
  });

  test('NONE with no bucket records nothing: refused at synth', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    new EncryptionAuditTrail(stack, 'Audit', { managementEvents: ManagementEvents.NONE });
    expect(() => app.synth()).toThrow(/Test\/Audit: managementEvents is ManagementEvents.NONE and no bucket joined the trail, so it records nothing/);
  });
});
