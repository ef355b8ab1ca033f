import { App, Duration, Errors, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EncryptedBucket, EncryptedBucketProps, EncryptionAuditTrail, ObjectEncryption } from '../../src';

const ENV = { account: '111111111111', region: 'us-east-1' };

function make(props?: EncryptedBucketProps): { stack: Stack; bucket: EncryptedBucket; template: Template } {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: ENV });
  const bucket = new EncryptedBucket(stack, 'Data', props);
  return { stack, bucket, template: Template.fromStack(stack) };
}

function dataBucket(template: Template): any {
  const buckets = template.findResources('AWS::S3::Bucket', { Properties: { BucketName: Match.stringLikeRegexp('^test-data-') } });
  expect(Object.keys(buckets)).toHaveLength(1);
  return Object.values(buckets)[0];
}

function dataBucketPolicyStatements(template: Template): any[] {
  const bucketId = Object.keys(template.findResources('AWS::S3::Bucket', { Properties: { BucketName: Match.stringLikeRegexp('^test-data-') } }))[0];
  const policies = Object.values(template.findResources('AWS::S3::BucketPolicy')).filter((p: any) => p.Properties.Bucket.Ref === bucketId);
  expect(policies).toHaveLength(1);
  return (policies[0] as any).Properties.PolicyDocument.Statement;
}

function keyPolicy(template: Template, descriptionPrefix: string): any[] {
  const keys = Object.values(template.findResources('AWS::KMS::Key')).filter((k: any) => String(k.Properties.Description).startsWith(descriptionPrefix));
  expect(keys).toHaveLength(1);
  return (keys[0] as any).Properties.KeyPolicy.Statement;
}

function actionsOf(statement: any): string[] {
  return [].concat(statement.Action);
}

describe('EncryptedBucket defaults', () => {
  const { template } = make();

  test('makes a customer-managed key with rotation, a 30-day pending window and RETAIN', () => {
    template.hasResource('AWS::KMS::Key', {
      Properties: Match.objectLike({ Description: 'Default encryption key of the S3 bucket Test/Data', EnableKeyRotation: true, RotationPeriodInDays: 365, PendingWindowInDays: 30 }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('key policy gives the account administration but no data-plane action and no kms:*', () => {
    const statements = keyPolicy(template, 'Default encryption key');
    const admin = statements.find((s) => s.Sid === 'KeyAdministrationByTheAccount');
    expect(actionsOf(admin)).toEqual(expect.arrayContaining(['kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:EnableKeyRotation']));
    for (const forbidden of ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:*']) {
      expect(actionsOf(admin)).not.toContain(forbidden);
    }
    for (const s of statements) expect(actionsOf(s)).not.toContain('kms:*');
  });

  test('key usage only through S3, from this account, for this bucket', () => {
    const usage = keyPolicy(template, 'Default encryption key').find((s) => s.Sid === 'UseThroughS3ForThisBucket');
    expect(usage.Condition.StringEquals['kms:ViaService']).toBe('s3.us-east-1.amazonaws.com');
    expect(usage.Condition.StringEquals['kms:CallerAccount']).toBe('111111111111');
    const arns = JSON.stringify(usage.Condition.StringLike['kms:EncryptionContext:aws:s3:arn']);
    expect(arns).toMatch(/:s3:::test-data-[0-9a-f]{8}-111111111111-us-east-1"/);
    expect(arns).toMatch(/:s3:::test-data-[0-9a-f]{8}-111111111111-us-east-1\/\*"/);
  });

  test('key policy denies CreateGrant unless it is for an AWS resource (CT.KMS.PR.3)', () => {
    const deny = keyPolicy(template, 'Default encryption key').find((s) => s.Sid === 'DenyCreateGrantUnlessForAnAwsResource');
    expect(deny.Effect).toBe('Deny');
    expect(deny.Condition.BoolIfExists).toEqual({ 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' });
  });

  test('default encryption is SSE-KMS with the key and S3 Bucket Keys', () => {
    const enc = dataBucket(template).Properties.BucketEncryption.ServerSideEncryptionConfiguration[0];
    expect(enc.ServerSideEncryptionByDefault.SSEAlgorithm).toBe('aws:kms');
    expect(enc.ServerSideEncryptionByDefault.KMSMasterKeyID['Fn::GetAtt'][1]).toBe('Arn');
    expect(enc.BucketKeyEnabled).toBe(true);
  });

  test('SSE-C is blocked at the bucket', () => {
    expect(JSON.stringify(dataBucket(template).Properties)).toContain('"BlockedEncryptionTypes":{"EncryptionType":["SSE-C"]}');
  });

  test('denies requests without TLS and below TLS 1.2', () => {
    const st = dataBucketPolicyStatements(template);
    expect(st.some((s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false')).toBe(true);
    expect(st.some((s) => s.Effect === 'Deny' && s.Condition?.NumericLessThan?.['s3:TlsVersion'] === 1.2)).toBe(true);
  });

  test('denies PutObject and UpdateObjectEncryption with another encryption algorithm, but not a PUT that names none', () => {
    const s = dataBucketPolicyStatements(template).find((x) => x.Sid === 'DenyPutObjectWithAnotherEncryptionAlgorithm');
    expect(s.Effect).toBe('Deny');
    expect(s.Action).toEqual(['s3:PutObject', 's3:UpdateObjectEncryption']);
    expect(s.Condition).toEqual({ StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' }, Null: { 's3:x-amz-server-side-encryption': 'false' } });
  });

  test('denies PutObject that names another KMS key, in its own statement', () => {
    const s = dataBucketPolicyStatements(template).find((x) => x.Sid === 'DenyPutObjectWithAnotherKmsKey');
    expect(s.Action).toEqual(['s3:PutObject', 's3:UpdateObjectEncryption']);
    expect(Object.keys(s.Condition.StringNotEquals)).toEqual(['s3:x-amz-server-side-encryption-aws-kms-key-id']);
    expect(s.Condition.StringNotEquals['s3:x-amz-server-side-encryption-aws-kms-key-id']['Fn::GetAtt'][1]).toBe('Arn');
    expect(s.Condition.StringNotEquals['s3:x-amz-server-side-encryption']).toBeUndefined();
  });

  test('denies PutObject with SSE-C headers', () => {
    const s = dataBucketPolicyStatements(template).find((x) => x.Sid === 'DenyPutObjectWithSseCustomerKey');
    expect(s.Condition).toEqual({ Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'false' } });
  });

  test('blocks public access, enforces bucket-owner object ownership, versions, locks and expires noncurrent versions', () => {
    const p = dataBucket(template).Properties;
    expect(p.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
    });
    expect(p.OwnershipControls.Rules[0].ObjectOwnership).toBe('BucketOwnerEnforced');
    expect(p.VersioningConfiguration.Status).toBe('Enabled');
    expect(p.ObjectLockEnabled).toBe(true);
    expect(p.LifecycleConfiguration.Rules[0]).toMatchObject({ Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 90 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } });
    expect(p.NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled).toBe(true);
  });

  test('logs server access into a log bucket S3 accepts as a destination: SSE-S3, no Object Lock, no self-logging, deletes denied', () => {
    // S3 User Guide, enable-server-access-logging.html: SSE-S3 only ("SSE-KMS is not supported"), no
    // Object Lock, and a destination that logs itself makes "an infinite loop of logs".
    const p = dataBucket(template).Properties;
    expect(p.LoggingConfiguration.DestinationBucketName.Ref).toMatch(/^S3EncryptionSharedAccessLogs/);
    const logBucket = template.toJSON().Resources[p.LoggingConfiguration.DestinationBucketName.Ref];
    expect(logBucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: 'AES256' });
    expect(logBucket.Properties.ObjectLockEnabled).toBeUndefined();
    expect(logBucket.Properties.LoggingConfiguration).toBeUndefined();
    expect(logBucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    const logPolicy: any = Object.values(template.findResources('AWS::S3::BucketPolicy'))
      .find((x: any) => x.Properties.Bucket.Ref === p.LoggingConfiguration.DestinationBucketName.Ref);
    const statements = logPolicy.Properties.PolicyDocument.Statement;
    const delivery = statements.filter((s: any) => s.Principal?.Service === 'logging.s3.amazonaws.com');
    expect(delivery.length).toBe(1);
    expect(delivery[0].Condition.StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
    expect(statements.find((s: any) => s.Sid === 'DenyDeletingLogsAndTheirVersions')).toMatchObject({ Effect: 'Deny', Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'] });
    // One key per bucket and the stack's alarm-topic key: no log key.
    expect(Object.keys(template.findResources('AWS::KMS::Key')).sort()).toEqual([expect.stringMatching(/^DataKey/), expect.stringMatching(/^S3EncryptionSharedAlarmTopicKey/)]);
    // What this costs in the standard packs is acknowledged with the AWS page as the reason.
    expect(JSON.stringify(logBucket.Metadata.guard.SuppressedRules)).toContain('s3_bucket_object_lock_enabled_check');
  });

  test('inventories encryption status and bucket-key status into the log bucket', () => {
    const inv = dataBucket(template).Properties.InventoryConfigurations[0];
    expect(inv.OptionalFields).toEqual(expect.arrayContaining(['EncryptionStatus', 'BucketKeyStatus']));
    expect(inv.Destination.Format).toBe('CSV');
    expect(inv.Enabled).toBe(true);
  });

  test('alarms on the KMS request rate against the account quota, into an encrypted TLS-only topic', () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    const alarm: any = Object.values(alarms)[0];
    const expr = alarm.Properties.Metrics.find((m: any) => m.Expression).Expression;
    expect(expr).toContain('SERVICE_QUOTA(m0)');
    const metric = alarm.Properties.Metrics.find((m: any) => m.MetricStat).MetricStat.Metric;
    expect(metric.Namespace).toBe('AWS/Usage');
    expect(metric.Dimensions).toEqual(expect.arrayContaining([{ Name: 'Service', Value: 'KMS' }]));
    expect(alarm.Properties.Threshold).toBe(80);
    expect(alarm.Properties.AlarmActions[0].Ref).toMatch(/AlarmTopic/);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('no IAM policy anywhere grants kms:* or s3:*', () => {
    const json = JSON.stringify(template.toJSON());
    expect(json).not.toContain('"kms:*"');
    expect(json).not.toMatch(/"Effect":"Allow"[^}]*"s3:\*"/);
  });

  test('matches the snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});

describe('ObjectEncryption modes', () => {
  test('DSSE_KMS uses aws:kms:dsse without S3 Bucket Keys and denies other algorithms', () => {
    const { template } = make({ objectEncryption: ObjectEncryption.DSSE_KMS });
    const enc = dataBucket(template).Properties.BucketEncryption.ServerSideEncryptionConfiguration[0];
    expect(enc.ServerSideEncryptionByDefault.SSEAlgorithm).toBe('aws:kms:dsse');
    expect(enc.BucketKeyEnabled).toBe(false);
    const s = dataBucketPolicyStatements(template).find((x) => x.Sid === 'DenyPutObjectWithAnotherEncryptionAlgorithm');
    expect(s.Condition.StringNotEquals['s3:x-amz-server-side-encryption']).toBe('aws:kms:dsse');
  });

  test('SSE_C denies a PUT without an SSE-C key and unblocks SSE-C', () => {
    const { template } = make({ objectEncryption: ObjectEncryption.SSE_C });
    const st = dataBucketPolicyStatements(template);
    expect(st.find((x) => x.Sid === 'DenyPutObjectWithoutSseCustomerKey').Condition).toEqual({ Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'true' } });
    expect(st.find((x) => x.Sid === 'DenyPutObjectWithSseCustomerKey')).toBeUndefined();
    expect(JSON.stringify(dataBucket(template).Properties)).toContain('"BlockedEncryptionTypes":{"EncryptionType":["NONE"]}');
  });

  test('CLIENT_SIDE keeps SSE-KMS on as a second layer', () => {
    const { bucket, template } = make({ objectEncryption: ObjectEncryption.CLIENT_SIDE });
    expect(bucket.objectEncryption).toBe(ObjectEncryption.CLIENT_SIDE);
    expect(dataBucket(template).Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('aws:kms');
    expect(dataBucketPolicyStatements(template).find((x) => x.Sid === 'DenyPutObjectWithSseCustomerKey')).toBeDefined();
  });
});

describe('a given key', () => {
  test('a key of this app is used as is and gets the S3 usage statement', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    const key = new kms.Key(stack, 'MyKey', { enableKeyRotation: true });
    const bucket = new EncryptedBucket(stack, 'Data', { encryptionKey: key });
    expect(bucket.bucketKey).toBe(key);
    const t = Template.fromStack(stack);
    expect(Object.keys(t.findResources('AWS::KMS::Key')).filter((id) => id.startsWith('DataKey'))).toHaveLength(0);
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: Match.stringLikeRegexp('^UseThroughS3ForThisBucket') })]) },
    });
  });

  test('an imported key gets a synth warning with the exact statements to add', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    const key = kms.Key.fromKeyArn(stack, 'Imported', 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    new EncryptedBucket(stack, 'Data', { encryptionKey: key });
    const warnings = Annotations.fromStack(stack).findWarning('/Test/Data', Match.stringLikeRegexp('encryptionKey: the imported key arn:aws:kms:us-east-1:111111111111:key/1234abcd'));
    expect(warnings).toHaveLength(1);
    const text = String(warnings[0].entry.data);
    expect(text).toContain('kms:ViaService');
    expect(text).toContain('kms:EncryptionContext:aws:s3:arn');
  });
});

describe('grants', () => {
  test('grantRead gives kms:Decrypt scoped to S3 and this bucket, not the broad default', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    const bucket = new EncryptedBucket(stack, 'Data');
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    bucket.grantRead(role);
    const t = Template.fromStack(stack);
    const policy: any = Object.values(t.findResources('AWS::IAM::Policy')).find((p: any) => p.Properties.Roles[0].Ref.startsWith('Reader'));
    const kmsStatements = policy.Properties.PolicyDocument.Statement.filter((s: any) => actionsOf(s).some((a) => a.startsWith('kms:')));
    expect(kmsStatements).toHaveLength(1);
    expect(actionsOf(kmsStatements[0])).toEqual(['kms:Decrypt']);
    expect(kmsStatements[0].Condition.StringEquals).toEqual({ 'kms:ViaService': 's3.us-east-1.amazonaws.com' });
    expect(kmsStatements[0].Resource['Fn::GetAtt'][0]).toMatch(/^DataKey/);
    expect(kmsStatements[0].Condition.StringLike['kms:EncryptionContext:aws:s3:arn']).toBeDefined();
  });

  test.each([
    ['grantRead', (b: EncryptedBucket, r: iam.IGrantable) => b.grantRead(r)],
    ['grantWrite', (b: EncryptedBucket, r: iam.IGrantable) => b.grantWrite(r)],
    ['grantReadWrite', (b: EncryptedBucket, r: iam.IGrantable) => b.grantReadWrite(r)],
    ['grantPut', (b: EncryptedBucket, r: iam.IGrantable) => b.grantPut(r)],
    ['grantDelete', (b: EncryptedBucket, r: iam.IGrantable) => b.grantDelete(r)],
  ])('%s names each S3 action (no wildcard for AwsSolutions-IAM5 to flag), bucket actions on the bucket, object actions on the objects', (_name, grant) => {
    const stack = new Stack(new App(), 'Test', { env: ENV });
    const bucket = new EncryptedBucket(stack, 'Data');
    const role = new iam.Role(stack, 'Grantee', { assumedBy: new iam.AccountRootPrincipal() });
    grant(bucket, role);
    const policy: any = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).find((p: any) => p.Properties.Roles[0].Ref.startsWith('Grantee'));
    const s3Statements = policy.Properties.PolicyDocument.Statement.filter((st: any) => actionsOf(st).some((a) => a.startsWith('s3:')));
    expect(s3Statements.length).toBeGreaterThan(0);
    for (const st of s3Statements) {
      expect(actionsOf(st).filter((a) => a.includes('*'))).toEqual([]);
      const onBucket = !JSON.stringify(st.Resource).includes('/*');
      // ListBucket* and GetBucketLocation are bucket actions; everything else is on objects.
      expect(actionsOf(st).every((a) => /^s3:(ListBucket|GetBucketLocation)/.test(a))).toBe(onBucket);
    }
  });

  test.each([
    ['given', ['s3:PutObject'], ['s3:PutObject']],
    ['empty (the default actions)', [], ['s3:PutObject', 's3:DeleteObject']],
  ])('grantWrite with allowedActionPatterns %s: the object actions it grants', (_name, patterns, expected) => {
    const stack = new Stack(new App(), 'Test', { env: ENV });
    const role = new iam.Role(stack, 'Grantee', { assumedBy: new iam.AccountRootPrincipal() });
    new EncryptedBucket(stack, 'Data').grantWrite(role, '*', patterns);
    const policy: any = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).find((p: any) => p.Properties.Roles[0].Ref.startsWith('Grantee'));
    const objectActions = policy.Properties.PolicyDocument.Statement
      .filter((st: any) => JSON.stringify(st.Resource).includes('/*'))
      .flatMap((st: any) => actionsOf(st));
    for (const a of expected) expect(objectActions).toContain(a);
    if (patterns.length) expect(objectActions).toEqual(patterns);
  });

  test('grantWrite gives only what S3 calls (GenerateDataKey, Decrypt for multipart), with the same scoping', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    const bucket = new EncryptedBucket(stack, 'Data');
    const role = new iam.Role(stack, 'Writer', { assumedBy: new iam.AccountRootPrincipal() });
    bucket.grantWrite(role);
    const t = Template.fromStack(stack);
    const policy: any = Object.values(t.findResources('AWS::IAM::Policy')).find((p: any) => p.Properties.Roles[0].Ref.startsWith('Writer'));
    const kmsStatement = policy.Properties.PolicyDocument.Statement.find((s: any) => actionsOf(s).some((a) => a.startsWith('kms:')));
    expect(actionsOf(kmsStatement).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    expect(kmsStatement.Condition.StringEquals['kms:ViaService']).toBe('s3.us-east-1.amazonaws.com');
  });
});

test('a grant to a principal of another account puts the scoped KMS statement in the key policy, without kms:CallerAccount', () => {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: ENV });
  const bucket = new EncryptedBucket(stack, 'Data');
  bucket.grantRead(new iam.ArnPrincipal('arn:aws:iam::222222222222:role/reader'));
  const t = Template.fromStack(stack);
  const st = keyPolicy(t, 'Default encryption key').find((s) => JSON.stringify(s.Principal).includes('222222222222'));
  expect(actionsOf(st)).toEqual(['kms:Decrypt']);
  expect(st.Condition.StringEquals).toEqual({ 'kms:ViaService': 's3.us-east-1.amazonaws.com' });
  expect(st.Condition.StringLike['kms:EncryptionContext:aws:s3:arn']).toBeDefined();
  const policy = dataBucketPolicyStatements(t).find((s) => JSON.stringify(s.Principal).includes('222222222222'));
  expect(policy.Effect).toBe('Allow');
  expect(actionsOf(policy)).toEqual(['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAttributes', 's3:GetObjectVersionAttributes', 's3:GetObjectTagging', 's3:GetObjectVersionTagging']);
});

describe('replication', () => {
  function replicated() {
    const app = new App();
    const dest = new Stack(app, 'Dest', { env: { account: '111111111111', region: 'us-west-2' } });
    const replica = new EncryptedBucket(dest, 'Replica');
    const src = new Stack(app, 'Test', { env: ENV });
    new EncryptedBucket(src, 'Data', {
      replication: { destinationBucket: replica, destinationKeyArn: 'arn:aws:kms:us-west-2:111111111111:alias/replica' },
    });
    return { src: Template.fromStack(src), dest: Template.fromStack(dest), srcStack: src, destStack: dest };
  }

  test('replicates SSE-KMS objects with the destination key, through a role with no inline policy', () => {
    const { src, dest, srcStack, destStack } = replicated();
    const rc = dataBucket(src).Properties.ReplicationConfiguration;
    expect(rc.Rules[0].Destination.EncryptionConfiguration.ReplicaKmsKeyID).toBe('arn:aws:kms:us-west-2:111111111111:alias/replica');
    expect(rc.Rules[0].SourceSelectionCriteria.SseKmsEncryptedObjects.Status).toBe('Enabled');
    expect(JSON.stringify(rc.Rules[0].Destination.Bucket)).toContain('s3:::dest-replica-');
    expect(Object.keys(dest.findResources('AWS::IAM::Policy'))).toHaveLength(0);
    dest.resourceCountIs('AWS::IAM::ManagedPolicy', 1);
    expect(srcStack.dependencies).toContain(destStack);
  });

  test('the destination bucket policy lets the role write replicas', () => {
    const { dest } = replicated();
    dest.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'ReplicasFromSource1', Action: Match.arrayWith(['s3:ReplicateObject']) })]) },
    });
  });
});

describe('weakened protections print a warning naming the rule they trip', () => {
  test.each([
    [{ objectLockEnabled: false }, 'objectLockEnabled: objects cannot be protected from deletion by Object Lock. This trips: NIST.800.53.R5-S3BucketDefaultLockEnabled, CT.S3.PR.9.'],
    [{ eventBridgeEnabled: false }, 'eventBridgeEnabled: no S3 event notifications are configured. This trips: CT.S3.PR.4.'],
    [{ bucketKeyEnabled: false }, 'bucketKeyEnabled: every object read and write calls KMS, which costs more and meets the KMS request quota sooner.'],
    [{ kmsQuotaAlarms: false }, 'kmsQuotaAlarms: nothing warns before SSE-KMS requests are throttled by the KMS request quota.'],
    [{ encryptionInventory: false }, 'encryptionInventory: objects left unencrypted or under another key before a change go unreported.'],
    [{ autoDeleteObjects: true, removalPolicy: RemovalPolicy.DESTROY }, 'autoDeleteObjects: objects under an Object Lock retention or legal hold cannot be deleted, so deleting the stack fails '
      + 'while any is locked; set objectLockEnabled: false for a bucket you want deleted with its stack.'],
  ] as [EncryptedBucketProps, string][])('%j', (props, text) => {
    const { stack } = make(props);
    const prop = text.split(':')[0];
    const warnings = Annotations.fromStack(stack).findWarning('/Test/Data', Match.anyValue()).map((w) => String(w.entry.data));
    expect(warnings.filter((w) => w.startsWith(`${prop}: `))).toEqual([`${text} [ack: cdk-s3-encryption:weakened:${prop}]`]);
  });
});

describe('bad input fails at synth with the path, the prop, the value and the range', () => {
  test('as aws-cdk-lib\'s own L2s fail: a ValidationError attached to the construct', () => {
    const stack = new Stack(new App(), 'Test', { env: ENV });
    let thrown: any;
    try {
      new EncryptedBucket(stack, 'Data', { keyRotationPeriod: Duration.days(89) });
    } catch (e) {
      thrown = e;
    }
    expect(Errors.isValidationError(thrown)).toBe(true);
    expect(thrown.constructPath).toBe('Test/Data');
    expect(thrown.message).toBe('Test/Data: invalid keyRotationPeriod (days) 89: must be a whole number from 90 to 2560');
  });
  const topicOf = (s: Stack) => new sns.Topic(s, 'T');
  const key = (s: Stack) => new kms.Key(s, 'K');
  const days = (prop: string, value: number, min: number, max: number) => `Test/Data: invalid ${prop} (days) ${value}: must be a whole number from ${min} to ${max}`;
  const logPrefix = 'must be 1 to 512 characters and not start with "/"';
  const givenKey = 'applies only to the key this construct makes; configure the key you pass as encryptionKey instead';
  const foreignDestination = (s: Stack) => new s3.Bucket(s, 'D');
  // Each message in full: what is wrong and what is allowed are the point of the message.
  const cases: [string, (s: Stack) => EncryptedBucketProps, string][] = [
    ['TLS 1.1', () => ({ minimumTlsVersion: 1.1 }), 'Test/Data: invalid minimumTlsVersion 1.1: must be 1.2 or 1.3 (S3 rejects lower versions for compliance packs)'],
    ['TLS 2', () => ({ minimumTlsVersion: 2 }), 'Test/Data: invalid minimumTlsVersion 2: must be 1.2 or 1.3 (S3 rejects lower versions for compliance packs)'],
    ['rotation 89 days', () => ({ keyRotationPeriod: Duration.days(89) }), days('keyRotationPeriod', 89, 90, 2560)],
    ['rotation 2561 days', () => ({ keyRotationPeriod: Duration.days(2561) }), days('keyRotationPeriod', 2561, 90, 2560)],
    ['pending window 6 days', () => ({ keyPendingWindow: Duration.days(6) }), days('keyPendingWindow', 6, 7, 30)],
    ['pending window 31 days', () => ({ keyPendingWindow: Duration.days(31) }), days('keyPendingWindow', 31, 7, 30)],
    ['noncurrent 0 days', () => ({ noncurrentVersionExpiration: Duration.days(0) }), days('noncurrentVersionExpiration', 0, 1, 36500)],
    ['noncurrent 36501 days', () => ({ noncurrentVersionExpiration: Duration.days(36501) }), days('noncurrentVersionExpiration', 36501, 1, 36500)],
    ['multipart 0 days', () => ({ abortIncompleteMultipartUploadAfter: Duration.days(0) }), days('abortIncompleteMultipartUploadAfter', 0, 1, 365)],
    ['multipart 400 days', () => ({ abortIncompleteMultipartUploadAfter: Duration.days(400) }), days('abortIncompleteMultipartUploadAfter', 400, 1, 365)],
    ['log retention 0 days', () => ({ accessLogsRetention: Duration.days(0) }), days('accessLogsRetention', 0, 1, 36500)],
    ['log retention 36501 days', () => ({ accessLogsRetention: Duration.days(36501) }), days('accessLogsRetention', 36501, 1, 36500)],
    ['alarm threshold 0', () => ({ kmsQuotaAlarmThreshold: 0 }), 'Test/Data: invalid kmsQuotaAlarmThreshold 0: must be a whole number from 1 to 100'],
    ['alarm threshold 101', () => ({ kmsQuotaAlarmThreshold: 101 }), 'Test/Data: invalid kmsQuotaAlarmThreshold 101: must be a whole number from 1 to 100'],
    ['alarm threshold 50.5', () => ({ kmsQuotaAlarmThreshold: 50.5 }), 'Test/Data: invalid kmsQuotaAlarmThreshold 50.5: must be a whole number from 1 to 100'],
    ['bucket keys with DSSE', () => ({ objectEncryption: ObjectEncryption.DSSE_KMS, bucketKeyEnabled: true }),
      'Test/Data: invalid bucketKeyEnabled true: S3 Bucket Keys are not supported with ObjectEncryption.DSSE_KMS; leave it unset or false'],
    ['unknown mode', () => ({ objectEncryption: 'SSE_S3' as ObjectEncryption }), 'Test: invalid objectEncryption \'SSE_S3\': must be one of SSE_KMS, DSSE_KMS, SSE_C, CLIENT_SIDE'],
    ['rotation with a given key', (s) => ({ encryptionKey: key(s), keyRotationPeriod: Duration.days(180) }), `Test/Data: invalid keyRotationPeriod 180: ${givenKey}`],
    ['pending window with a given key', (s) => ({ encryptionKey: key(s), keyPendingWindow: Duration.days(7) }), `Test/Data: invalid keyPendingWindow 7: ${givenKey}`],
    ['retention with a given log bucket', (s) => ({ accessLogsBucket: new s3.Bucket(s, 'L'), accessLogsRetention: Duration.days(30) }),
      'Test/Data: invalid accessLogsRetention 30: applies only to the log bucket this construct makes; set lifecycle rules on the accessLogsBucket you pass'],
    ['alarm topic without alarms', (s) => ({ alarmTopic: topicOf(s), kmsQuotaAlarms: false }), 'Test/Data: invalid alarmTopic \'Test/T\': is unused when kmsQuotaAlarms is false; remove one of the two'],
    ['empty log prefix', () => ({ accessLogsPrefix: '' }), `Test/Data: invalid accessLogsPrefix '': ${logPrefix}`],
    ['log prefix starting with /', () => ({ accessLogsPrefix: '/logs/' }), `Test/Data: invalid accessLogsPrefix '/logs/': ${logPrefix}`],
    ['log prefix of 513 characters', () => ({ accessLogsPrefix: 'a'.repeat(513) }), `Test/Data: invalid accessLogsPrefix '${'a'.repeat(513)}': ${logPrefix}`],
    ['retention without object lock', () => ({ objectLockEnabled: false, objectLockDefaultRetention: s3.ObjectLockRetention.governance(Duration.days(1)) }),
      'Test/Data: invalid objectLockDefaultRetention \'GOVERNANCE\': needs objectLockEnabled (true or unset)'],
    ['autoDeleteObjects on a retained bucket', () => ({ autoDeleteObjects: true }),
      'Test/Data: invalid autoDeleteObjects true: needs removalPolicy: RemovalPolicy.DESTROY (it is RETAIN, the default): objects cannot be deleted from a bucket the stack keeps'],
    ['the encryption inventory\'s id', (s) => ({ inventories: [{ inventoryId: 'EncryptionStatus', destination: { bucket: new s3.Bucket(s, 'R') } }] }),
      'Test/Data: invalid inventories[].inventoryId \'EncryptionStatus\': is the id of the encryption inventory this construct adds; choose another id'],
    ['a trail ARN beside an audit trail', (s) => ({ auditTrail: new EncryptionAuditTrail(s, 'A'), dataEventsRecordedBy: 'arn:aws:cloudtrail:us-east-1:111111111111:trail/x' }),
      'Test/Data: invalid dataEventsRecordedBy \'arn:aws:cloudtrail:us-east-1:111111111111:trail/x\': names another trail while auditTrail (Test/A) records the bucket already; keep one of the two'],
    ['not a trail ARN', () => ({ dataEventsRecordedBy: 'trail/x' }),
      'Test/Data: invalid dataEventsRecordedBy \'trail/x\': must be a CloudTrail trail ARN, arn:aws:cloudtrail:<region>:<account>:trail/<name>'],
    ['a replica key that is not a KMS ARN', (s) => ({ replication: { destinationBucket: foreignDestination(s), destinationKeyArn: 'not-an-arn' } }),
      'Test/Data: invalid replication.destinationKeyArn \'not-an-arn\': must be a KMS key ARN or alias ARN (arn:aws:kms:<region>:<account>:key/<id> or :alias/<name>)'],
    ['a replica key in a token, no Region', (s) => ({ replication: { destinationBucket: foreignDestination(s), destinationKeyArn: Token.asString({ Ref: 'K' }) } }),
      'Test/Data: invalid replication.destinationRegion (undefined): cannot be read from replication.destinationKeyArn (a token); set replication.destinationRegion'],
    ['a replica in the same Region', (s) => ({ replication: { destinationBucket: foreignDestination(s), destinationKeyArn: 'arn:aws:kms:us-east-1:111111111111:key/x' } }),
      'Test/Data: invalid replication.destinationRegion \'us-east-1\': must differ from the bucket\'s own Region (us-east-1): replication here is for a copy in another Region'],
    ['log destination without a made log bucket', (s) => ({
      accessLogsBucket: new s3.Bucket(s, 'L2'),
      replication: { destinationBucket: foreignDestination(s), destinationKeyArn: 'arn:aws:kms:us-west-2:111111111111:key/x', accessLogsDestinationBucket: new s3.Bucket(s, 'D2') },
    }), 'Test/Data: invalid replication.accessLogsDestinationBucket \'Test/D2\': applies only to the log bucket this construct makes; replicate the accessLogsBucket you pass where it is defined'],
  ];
  test.each(cases)('%s', (_name, props, message) => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    let thrown: Error | undefined;
    try {
      new EncryptedBucket(stack, 'Data', props(stack));
    } catch (e) {
      thrown = e as Error;
    }
    expect(thrown?.message).toBe(message);
  });

  test.each([
    ['allowOtherKmsKeysUnder', 'pins no KMS key (SSE_C), so there is nothing to exempt a prefix from'],
    ['allowSseS3Under', 'pins no KMS algorithm (SSE_C), so there is nothing to exempt a prefix from'],
  ] as const)('%s on an SSE-C bucket, and with a prefix that is empty, absolute or has "*"', (method, sseC) => {
    const stack = new Stack(new App(), 'Test', { env: ENV });
    expect(() => new EncryptedBucket(stack, 'C', { objectEncryption: ObjectEncryption.SSE_C })[method]('a/')).toThrow(`Test/C: invalid objectEncryption 'SSE_C': ${sseC}`);
    const b = new EncryptedBucket(stack, 'K');
    for (const prefix of ['', '/a', 'a*', 'a/*/b']) {
      expect(() => b[method](prefix)).toThrow(`Test/K: invalid prefix '${prefix}': must be a non-empty object-key prefix without "*" that does not start with "/"`);
    }
    expect(() => b[method]('a/')).not.toThrow();
  });
});

describe('ordinary bucket options pass through; those that contradict the bucket are refused', () => {
  const ENV2 = { account: '111111111111', region: 'us-east-1' };
  test('cors, metrics, Intelligent-Tiering, transfer acceleration, and inventories merged with the encryption inventory', () => {
    const stack = new Stack(new App(), 'S', { env: ENV2 });
    const logs = new s3.Bucket(stack, 'Reports');
    new EncryptedBucket(stack, 'B', {
      cors: [{ allowedMethods: [s3.HttpMethods.GET], allowedOrigins: ['https://example.com'] }],
      metrics: [{ id: 'All' }],
      intelligentTieringConfigurations: [{ name: 'Archive', archiveAccessTierTime: Duration.days(90) }],
      transferAcceleration: true,
      inventories: [{ inventoryId: 'Weekly', destination: { bucket: logs }, frequency: s3.InventoryFrequency.WEEKLY }],
    });
    const p = Object.entries<any>(Template.fromStack(stack).toJSON().Resources).find(([id]) => id.startsWith('B'))![1].Properties;
    expect(p.CorsConfiguration.CorsRules).toEqual([{ AllowedMethods: ['GET'], AllowedOrigins: ['https://example.com'] }]);
    expect(p.MetricsConfigurations).toEqual([{ Id: 'All' }]);
    expect(p.IntelligentTieringConfigurations[0].Id).toBe('Archive');
    expect(p.AccelerateConfiguration).toEqual({ AccelerationStatus: 'Enabled' });
    expect(p.InventoryConfigurations.map((i: any) => i.Id)).toEqual(['Weekly', 'EncryptionStatus']);
    expect(p.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('aws:kms');
  });
});

describe('what a bucket does not say or refuse', () => {
  test('a default bucket prints no warning', () => {
    const { stack } = make();
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue()).map((w) => String(w.entry.data))).toEqual([]);
  });

  test.each([
    ['an access-log prefix ending in "/"', { accessLogsPrefix: 'logs/' }],
    ['an access-log prefix of 512 characters', { accessLogsPrefix: 'a'.repeat(512) }],
    ['a replica key in another partition', { replication: { destinationBucket: s3.Bucket.fromBucketName(new Stack(), 'X', 'replica-x'), destinationKeyArn: 'arn:aws-cn:kms:cn-north-1:111111111111:key/x' } }],
    ['a replica alias ARN', { replication: { destinationBucket: s3.Bucket.fromBucketName(new Stack(), 'X', 'replica-x'), destinationKeyArn: 'arn:aws:kms:us-west-2:111111111111:alias/replica' } }],
    ['a trail ARN in a token', { dataEventsRecordedBy: Token.asString({ Ref: 'TrailArn' }) }],
    ['an Object Lock default retention with Object Lock left on by default', { objectLockDefaultRetention: s3.ObjectLockRetention.governance(Duration.days(1)) }],
    ['S3 Bucket Keys asked for with SSE-KMS', { bucketKeyEnabled: true, objectEncryption: ObjectEncryption.SSE_KMS }],
  ] as [string, EncryptedBucketProps][])('accepts %s', (_name, props) => {
    expect(() => make(props)).not.toThrow();
  });

  test.each([
    ['an ARN with something before it', 'xarn:aws:kms:us-west-2:111111111111:key/x'],
    ['a KMS ARN of another resource type', 'arn:aws:kms:us-west-2:111111111111:grant/x'],
    ['a partition that is not aws', 'arn:azure:kms:us-west-2:111111111111:key/x'],
    ['an ARN with a second line after it', 'arn:aws:kms:us-west-2:111111111111:key/x\nmore'],
  ])('refuses a replica key that is %s', (_name, destinationKeyArn) => {
    const stack = new Stack(new App(), 'Test', { env: ENV });
    expect(() => new EncryptedBucket(stack, 'Data', { replication: { destinationBucket: s3.Bucket.fromBucketName(stack, 'X', 'replica-x'), destinationKeyArn } }))
      .toThrow(`Test/Data: invalid replication.destinationKeyArn '${destinationKeyArn}': must be a KMS key ARN or alias ARN`);
  });

  test('a passed inventory renders as s3.Bucket renders it: its id, enabled, all versions, weekly, CSV', () => {
    const stack = new Stack(new App(), 'S', { env: ENV });
    const reports = new s3.Bucket(stack, 'Reports');
    new EncryptedBucket(stack, 'B', { inventories: [{ destination: { bucket: reports } }] });
    const p = Object.entries<any>(Template.fromStack(stack).toJSON().Resources).find(([id]) => /^B[0-9A-F]{8}$/.test(id))![1].Properties;
    expect(p.InventoryConfigurations[0]).toEqual({
      Id: 'BInventory0',
      Enabled: true,
      IncludedObjectVersions: 'All',
      ScheduleFrequency: 'Weekly',
      Destination: { BucketArn: { 'Fn::GetAtt': [expect.stringMatching(/^Reports/), 'Arn'] }, Format: 'CSV' },
    });
  });

  test('an imported key: one warning with the statements its key policy needs, and synth goes on', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    new EncryptedBucket(stack, 'Data', { encryptionKey: kms.Key.fromKeyArn(stack, 'K', 'arn:aws:kms:us-east-1:111111111111:key/imported') });
    const warnings = Annotations.fromStack(stack).findWarning('/Test/Data', Match.anyValue()).map((w) => String(w.entry.data));
    expect(warnings).toEqual([expect.stringMatching(
      /^encryptionKey: the imported key arn:aws:kms:us-east-1:111111111111:key\/imported cannot be changed from this app; add these statements to its key policy so that S3 can use it for this bucket and nothing else: .*"UseThroughS3ForThisBucket.* \[ack: cdk-s3-encryption:weakened:encryptionKey\]$/s,
    )]);
    // It weakens nothing a checker looks at, so it names no rule it trips.
    expect(warnings[0]).not.toContain('This trips');
    // A warning, not a validation error: a second synth of the same app succeeds too.
    expect(() => app.synth({ force: true })).not.toThrow();
  });

  test('an imported key: a principal of another account granted on it is in the statements the warning lists', () => {
    const stack = new Stack(new App(), 'Test', { env: ENV });
    const b = new EncryptedBucket(stack, 'Data', { encryptionKey: kms.Key.fromKeyArn(stack, 'K', 'arn:aws:kms:us-east-1:111111111111:key/imported') });
    b.grantOnKey(new iam.AccountPrincipal('222222222222'), 'kms:Decrypt');
    const warnings = Annotations.fromStack(stack).findWarning('/Test/Data', Match.anyValue()).map((w) => String(w.entry.data));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('arn:aws:iam::222222222222:root');
  });

  test('grantOnKey to another account on the key it owns returns a grant that names the key policy too', () => {
    const stack = new Stack(new App(), 'Test', { env: ENV });
    const result = new EncryptedBucket(stack, 'Data').grantOnKey(new iam.AccountPrincipal('222222222222'), 'kms:Decrypt');
    expect(result.grant?.success).toBe(true);
    const statement = stack.resolve(result.grant?.resourceStatement?.toJSON());
    expect(statement.Action).toBe('kms:Decrypt');
    expect(JSON.stringify(statement.Principal)).toContain(':iam::222222222222:root');
  });
});
