/**
 * Access matrix of EncryptedBucket options beyond the example app, decided by the IAM engine over
 * the synthesized policies (the example app's matrix covers the defaults: test/examples).
 */
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EncryptedBucket, EncryptedBucketProps, ObjectEncryption } from '../../src';
import { AccessModel, ACCOUNT, REGION } from '../support/access-model';
import { evaluate } from '../support/iam-engine';
import { kmsContext, s3Read, s3UpdateObjectEncryption, s3Write } from '../support/s3-flows';

const TRUSTING_KEY_POLICY = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }] };

function model(props: (stack: Stack) => EncryptedBucketProps) {
  const app = new App();
  const stack = new Stack(app, 'T', { env: { account: ACCOUNT, region: REGION } });
  const bucket = new EncryptedBucket(stack, 'Data', props(stack));
  const writer = new iam.Role(stack, 'Writer', { assumedBy: new iam.AccountRootPrincipal() });
  bucket.grantReadWrite(writer);
  const m = AccessModel.of(app);
  return { m, bucket: m.bucket(/^T\/Data[0-9A-F]{8} /), writer: m.roleArn(/^T\/Writer/), keyArn: m.keyArn(/^T\/(Data|Own)Key/) };
}

describe('S3 Bucket Keys off: S3 sends the object ARN as the encryption context (bucket-key.html)', () => {
  const { m, bucket, writer, keyArn } = model(() => ({ bucketKeyEnabled: false }));
  test.each([
    ['ALLOWED', 'PutObject with the default', () => s3Write(m, writer, bucket, 'a/b.txt')],
    ['ALLOWED', 'multipart UploadPart', () => s3Write(m, writer, bucket, 'a/b.txt', { operation: 'UploadPart', uploadKeyArn: keyArn })],
    ['ALLOWED', 'GetObject', () => s3Read(m, writer, bucket, 'a/b.txt')],
    ['DENIED', 'PutObject naming aws:kms without a key id', () => s3Write(m, writer, bucket, 'a/b.txt', { sse: 'aws:kms' })],
  ])('%s: %s', (expected, _name, run) => {
    expect(run().allowed ? 'ALLOWED' : 'DENIED').toBe(expected);
  });
});

describe('DSSE-KMS: no S3 Bucket Key, the dsse algorithm and the bucket key only', () => {
  const { m, bucket, writer, keyArn } = model(() => ({ objectEncryption: ObjectEncryption.DSSE_KMS }));
  test.each([
    ['ALLOWED', 'PutObject with the default', () => s3Write(m, writer, bucket, 'x')],
    ['ALLOWED', 'PutObject naming aws:kms:dsse and the key', () => s3Write(m, writer, bucket, 'x', { sse: 'aws:kms:dsse', keyId: keyArn })],
    ['DENIED', 'PutObject naming aws:kms (single layer)', () => s3Write(m, writer, bucket, 'x', { sse: 'aws:kms', keyId: keyArn })],
    ['DENIED', 'PutObject naming aws:kms:dsse without a key id (aws/s3)', () => s3Write(m, writer, bucket, 'x', { sse: 'aws:kms:dsse' })],
  ])('%s: %s', (expected, _name, run) => {
    expect(run().allowed ? 'ALLOWED' : 'DENIED').toBe(expected);
  });
});

describe('own key and own log bucket: the stack\'s alarm topic, on a key of its own, accepts CloudWatch (defect 7)', () => {
  const { m } = model((stack) => ({
    encryptionKey: new kms.Key(stack, 'OwnKey', { enableKeyRotation: true }),
    accessLogsBucket: new s3.Bucket(stack, 'OwnLogs', { enforceSSL: true }),
  }));
  const alarm = { 'aws:SourceArn': `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:quota`, 'aws:SourceAccount': ACCOUNT };
  test.each([
    ['sns:Publish', () => m.topicArn(/^T\/S3EncryptionSharedAlarmTopic/)],
    ['kms:GenerateDataKey', () => m.topicKeyArn(/^T\/S3EncryptionSharedAlarmTopic/)],
    ['kms:Decrypt', () => m.topicKeyArn(/^T\/S3EncryptionSharedAlarmTopic/)],
  ])('ALLOWED: cloudwatch.amazonaws.com %s', (action, resource) => {
    expect(m.evaluate({ principal: 'cloudwatch.amazonaws.com', action, resource: resource(), context: alarm }).decision).toBe('Allowed');
  });
});

describe('the key-pin exemption for a prefix (allowOtherKmsKeysUnder) leaves every other denial in place', () => {
  const app = new App();
  const stack = new Stack(app, 'T', { env: { account: ACCOUNT, region: REGION } });
  const b = new EncryptedBucket(stack, 'Data');
  b.allowOtherKmsKeysUnder('tenants/');
  const writer = new iam.Role(stack, 'Writer', { assumedBy: new iam.AccountRootPrincipal() });
  b.grantReadWrite(writer);
  const m = AccessModel.of(app);
  const bucket = m.bucket(/^T\/Data[0-9A-F]{8} /);
  const w = m.roleArn(/^T\/Writer/);
  const other = `arn:aws:kms:${REGION}:${ACCOUNT}:key/other`;
  const admin = `arn:aws:iam::${ACCOUNT}:role/Admin`;
  const allowAll = [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:*', 'kms:*'], Resource: '*' }] }];
  test.each([
    ['ALLOWED', 'S3 request naming another key under the exempt prefix', () => s3Write(m, w, bucket, 'tenants/a/x', { sse: 'aws:kms', keyId: other }).s3.decision === 'Allowed'],
    ['DENIED', 'another key outside the prefix', () => s3Write(m, w, bucket, 'reports/x', { sse: 'aws:kms', keyId: other }).allowed],
    ['DENIED', 'aws:kms without a key id under the prefix', () => s3Write(m, w, bucket, 'tenants/a/x', { sse: 'aws:kms' }).allowed],
    ['DENIED', 'SSE-C under the prefix', () => s3Write(m, w, bucket, 'tenants/a/x', { sseCustomerAlgorithm: 'AES256' }).allowed],
    // An administrator of the account (s3:* and kms:*) moving an existing object with S3's
    // UpdateObjectEncryption: the key pin binds it outside the prefix, as it binds PutObject.
    ['DENIED', 'an administrator moves an object outside the prefix to another key (UpdateObjectEncryption)',
      () => s3UpdateObjectEncryption(m, admin, bucket, 'reports/x', { keyArn: other, identityPolicies: allowAll }).s3.decision === 'Allowed'],
    ['ALLOWED', 'an administrator moves an object outside the prefix to the bucket key (UpdateObjectEncryption)',
      () => s3UpdateObjectEncryption(m, admin, bucket, 'reports/x', { keyArn: m.keyArn(/^T\/DataKey/), identityPolicies: allowAll }).allowed],
    ['ALLOWED', 'an administrator moves an object under the exempt prefix to another key (UpdateObjectEncryption)',
      () => s3UpdateObjectEncryption(m, admin, bucket, 'tenants/a/x', { keyArn: other, identityPolicies: allowAll }).s3.decision === 'Allowed'],
  ])('%s: %s', (expected, _name, run) => {
    expect(run() ? 'ALLOWED' : 'DENIED').toBe(expected);
  });
  test('an invalid prefix fails with the construct path, the prop and the value', () => {
    expect(() => b.allowOtherKmsKeysUnder('/x*')).toThrow(/T\/Data: invalid prefix '\/x\*'/);
  });
});

describe('grants: each L2 grant allows its flow and no more (KMS side scoped to S3 and this bucket)', () => {
  const app = new App();
  const stack = new Stack(app, 'T', { env: { account: ACCOUNT, region: REGION } });
  const b = new EncryptedBucket(stack, 'Data');
  const roles = Object.fromEntries(['Putter', 'Writer', 'Reader'].map((n) => [n, new iam.Role(stack, n, { assumedBy: new iam.AccountRootPrincipal() })]));
  b.grantPut(roles.Putter);
  b.grantWrite(roles.Writer);
  b.grantRead(roles.Reader);
  // A principal of another account granted read: the bucket policy and the key policy name it.
  const partner = 'arn:aws:iam::222222222222:role/partner';
  b.grantRead(new iam.ArnPrincipal(partner));
  const m = AccessModel.of(app);
  const bucket = m.bucket(/^T\/Data[0-9A-F]{8} /);
  const keyArn = m.keyArn(/^T\/DataKey/);
  const role = (n: string) => m.roleArn(new RegExp(`^T/${n}`));
  const partnerAllows = [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }];
  test.each([
    ['ALLOWED', 'grantPut: PutObject', () => s3Write(m, role('Putter'), bucket, 'x').allowed],
    ['ALLOWED', 'grantPut: multipart UploadPart (Decrypt on the key)', () => s3Write(m, role('Putter'), bucket, 'x', { operation: 'UploadPart', uploadKeyArn: keyArn }).allowed],
    ['DENIED', 'grantPut: GetObject', () => s3Read(m, role('Putter'), bucket, 'x').allowed],
    ['ALLOWED', 'grantWrite: PutObject and CompleteMultipartUpload', () => s3Write(m, role('Writer'), bucket, 'x').allowed && s3Write(m, role('Writer'), bucket, 'x', { operation: 'CompleteMultipartUpload', uploadKeyArn: keyArn }).allowed],
    ['DENIED', 'grantWrite: kms:Encrypt or kms:ReEncryptFrom through S3 (S3 never calls them for SSE-KMS)', () => ['kms:Encrypt', 'kms:ReEncryptFrom'].some((action) => m.evaluate({
      principal: role('Writer'),
      action,
      resource: keyArn,
      context: { 'kms:ViaService': `s3.${REGION}.amazonaws.com`, 'kms:EncryptionContext:aws:s3:arn': bucket.arn },
    }).decision === 'Allowed')],
    ['ALLOWED', 'grantRead: GetObject', () => s3Read(m, role('Reader'), bucket, 'x').allowed],
    ['DENIED', 'grantRead: PutObject', () => s3Write(m, role('Reader'), bucket, 'x').allowed],
    ['ALLOWED', 'a granted principal of another account reads (its own IAM allows; bucket and key policies name it)', () => s3Read(m, partner, bucket, 'x', { identityPolicies: partnerAllows }).allowed],
    ['DENIED', 'that principal writes (only read was granted)', () => s3Write(m, partner, bucket, 'x', { identityPolicies: partnerAllows }).allowed],
    ['DENIED', 'another role of that account reads (not granted)', () => s3Read(m, 'arn:aws:iam::222222222222:role/other', bucket, 'x', { identityPolicies: partnerAllows }).allowed],
    // The key-policy statement for the partner carries the grant's own scoping: S3, this bucket.
    ['DENIED', 'that principal uses the key through S3 for another bucket', () => m.evaluate({
      principal: partner,
      action: 'kms:Decrypt',
      resource: keyArn,
      identityPolicies: partnerAllows,
      context: kmsContext(partner, 'arn:aws:s3:::another-bucket', REGION),
    }).decision === 'Allowed'],
    ['DENIED', 'that principal calls KMS directly', () => m.evaluate({
      principal: partner,
      action: 'kms:Decrypt',
      resource: keyArn,
      identityPolicies: partnerAllows,
      context: { 'kms:EncryptionContext:aws:s3:arn': bucket.arn },
    }).decision === 'Allowed'],
    // The grant alone, under a key policy that trusts the account for any use (aws-cdk-lib's
    // default): the reader's IAM statement itself must keep the key to S3 and this bucket.
    ['DENIED', 'the reader\'s grant alone lets it use the key through S3 for another bucket', () => evaluate({
      principal: role('Reader'),
      action: 'kms:Decrypt',
      resource: keyArn,
      resourceAccount: ACCOUNT,
      context: kmsContext(role('Reader'), 'arn:aws:s3:::another-bucket', REGION),
      identityPolicies: m.identityPolicies(role('Reader')).map((document, i) => ({ name: `identity${i}`, document })),
      resourcePolicy: { name: 'trusting key policy', document: TRUSTING_KEY_POLICY },
    }).decision === 'Allowed'],
    ['ALLOWED', 'the reader\'s grant alone lets it use the key through S3 for this bucket', () => evaluate({
      principal: role('Reader'),
      action: 'kms:Decrypt',
      resource: keyArn,
      resourceAccount: ACCOUNT,
      context: kmsContext(role('Reader'), bucket.arn, REGION),
      identityPolicies: m.identityPolicies(role('Reader')).map((document, i) => ({ name: `identity${i}`, document })),
      resourcePolicy: { name: 'trusting key policy', document: TRUSTING_KEY_POLICY },
    }).decision === 'Allowed'],
  ])('%s: %s', (expected, _name, run) => {
    expect(run() ? 'ALLOWED' : 'DENIED').toBe(expected);
  });
});

describe('grants name their S3 actions: the flows they are for pass, the neighbours a wildcard would open stay shut', () => {
  const app = new App();
  const stack = new Stack(app, 'T', { env: { account: ACCOUNT, region: REGION } });
  const b = new EncryptedBucket(stack, 'Data');
  const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
  const writer = new iam.Role(stack, 'Writer', { assumedBy: new iam.AccountRootPrincipal() });
  b.grantRead(reader);
  b.grantReadWrite(writer);
  const m = AccessModel.of(app);
  const bucket = m.bucket(/^T\/Data[0-9A-F]{8} /);
  const r = m.roleArn(/^T\/Reader/);
  const w = m.roleArn(/^T\/Writer/);
  const on = (principal: string, action: string, resource: string) => m.evaluate({ principal, action, resource }).decision === 'Allowed';
  const obj = `${bucket.arn}/reports/x.csv`;
  test.each([
    ['ALLOWED', 'the reader lists the bucket (ListObjectsV2 is s3:ListBucket)', () => on(r, 's3:ListBucket', bucket.arn)],
    ['ALLOWED', 'the reader reads a version and its tags', () => on(r, 's3:GetObjectVersion', obj) && on(r, 's3:GetObjectTagging', obj)],
    ['ALLOWED', 'the reader reads an object, with kms:Decrypt through S3', () => s3Read(m, r, bucket, 'reports/x.csv').allowed],
    ['ALLOWED', 'the writer sets an Object Lock retention date (a PUT with x-amz-object-lock-* headers needs it)', () => on(w, 's3:PutObjectRetention', obj)],
    ['ALLOWED', 'the writer aborts and lists a multipart upload', () => on(w, 's3:AbortMultipartUpload', obj) && on(w, 's3:ListBucketMultipartUploads', bucket.arn)],
    // s3:GetObject* would have matched these: ACLs and retention settings are not object data.
    ['DENIED', 'the reader reads an object ACL', () => on(r, 's3:GetObjectAcl', obj)],
    ['DENIED', 'the reader reads the retention settings', () => on(r, 's3:GetObjectRetention', obj)],
    // s3:GetBucket* and s3:List* would have matched these bucket reads.
    ['DENIED', 'the reader reads the bucket policy', () => on(r, 's3:GetBucketPolicy', bucket.arn)],
    ['DENIED', 'the reader writes', () => on(r, 's3:PutObject', obj)],
    ['DENIED', 'the writer bypasses governance retention', () => on(w, 's3:BypassGovernanceRetention', obj)],
    ['DENIED', 'the writer changes an object ACL', () => on(w, 's3:PutObjectAcl', obj)],
  ])('%s: %s', (expected, _name, run) => {
    expect(run() ? 'ALLOWED' : 'DENIED').toBe(expected);
  });
});

describe('allowSseS3Under: SSE-S3 PUTs accepted under the prefix only; every other denial stays (encrypting-cloudtrail-log-files-with-aws-kms.html: digest files may be SSE-S3)', () => {
  const other = `arn:aws:kms:${REGION}:${ACCOUNT}:key/another`;
  describe.each([
    ['SSE-KMS', ObjectEncryption.SSE_KMS, 'aws:kms', 'aws:kms:dsse'],
    ['DSSE-KMS', ObjectEncryption.DSSE_KMS, 'aws:kms:dsse', 'aws:kms'],
  ])('%s bucket', (_name, objectEncryption, own, foreign) => {
    const app = new App();
    const stack = new Stack(app, 'T', { env: { account: ACCOUNT, region: REGION } });
    const b = new EncryptedBucket(stack, 'Data', { objectEncryption });
    b.allowSseS3Under('digest/');
    const writer = new iam.Role(stack, 'Writer', { assumedBy: new iam.AccountRootPrincipal() });
    b.grantReadWrite(writer);
    const m = AccessModel.of(app);
    const bucket = m.bucket(/^T\/Data[0-9A-F]{8} /);
    const w = m.roleArn(/^T\/Writer/);
    const keyArn = m.keyArn(/^T\/DataKey/);
    test.each([
      ['ALLOWED', 'PUT naming AES256 under the prefix', () => s3Write(m, w, bucket, 'digest/x.json.gz', { sse: 'AES256' })],
      ['ALLOWED', 'PUT naming the bucket\'s algorithm and key under the prefix', () => s3Write(m, w, bucket, 'digest/x', { sse: own, keyId: keyArn })],
      ['ALLOWED', 'PUT with the default under the prefix', () => s3Write(m, w, bucket, 'digest/x')],
      ['DENIED', 'PUT naming AES256 outside the prefix', () => s3Write(m, w, bucket, 'data/x', { sse: 'AES256' })],
      ['DENIED', 'PUT naming AES256 at a key that only starts like the prefix', () => s3Write(m, w, bucket, 'digestx', { sse: 'AES256' })],
      ['DENIED', 'PUT naming the other KMS algorithm under the prefix', () => s3Write(m, w, bucket, 'digest/x', { sse: foreign, keyId: keyArn })],
      ['DENIED', 'PUT naming another KMS key under the prefix', () => s3Write(m, w, bucket, 'digest/x', { sse: own, keyId: other })],
      ['DENIED', 'PUT naming an SSE-C key under the prefix', () => s3Write(m, w, bucket, 'digest/x', { sseCustomerAlgorithm: 'AES256' })],
    ])('%s: %s', (expected, _case, run) => {
      expect(run().allowed ? 'ALLOWED' : 'DENIED').toBe(expected);
    });
  });
});

describe('a passed alarm topic gets the same allows as the stack\'s own: CloudWatch may publish to it', () => {
  const { m } = model((stack) => ({ alarmTopic: new sns.Topic(stack, 'Alarms') }));
  const alarm = { 'aws:SourceArn': `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:quota`, 'aws:SourceAccount': ACCOUNT };
  test('cloudwatch.amazonaws.com sns:Publish to the passed topic', () => {
    expect(m.evaluate({ principal: 'cloudwatch.amazonaws.com', action: 'sns:Publish', resource: m.topicArn(/^T\/Alarms/), context: alarm }).decision).toBe('Allowed');
  });
});

describe('a passed inventory with no prefix: S3 Inventory may write its reports anywhere in the destination, with the owner ACL only', () => {
  const app = new App();
  const stack = new Stack(app, 'T', { env: { account: ACCOUNT, region: REGION } });
  const reports = new s3.Bucket(stack, 'Reports', { enforceSSL: true });
  new EncryptedBucket(stack, 'Data', { inventories: [{ destination: { bucket: reports } }] });
  const m = AccessModel.of(app);
  const source = m.bucket(/^T\/Data[0-9A-F]{8} /);
  const dest = m.bucket(/^T\/Reports/);
  const put = (context: Record<string, string>) => m.evaluate({
    principal: 's3.amazonaws.com',
    action: 's3:PutObject',
    resource: `${dest.arn}/T/Data/Inventory0/data/r.csv.gz`,
    context: { 'aws:SourceArn': source.arn, 'aws:SourceAccount': ACCOUNT, ...context },
  }).decision;
  test.each([
    ['Allowed', 'with bucket-owner-full-control', { 's3:x-amz-acl': 'bucket-owner-full-control' }],
    ['ImplicitlyDenied', 'without the ACL', {}],
    ['ImplicitlyDenied', 'for another account', { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceAccount': '999999999999' }],
  ])('%s: the report %s', (expected, _name, context) => {
    expect(put(context as Record<string, string>)).toBe(expected);
  });
});

describe('grantOnKey: only the KMS calls S3 makes, through S3 for this bucket; a principal of another account is named in the key policy too', () => {
  const OTHER = '222222222222';
  const app = new App();
  const stack = new Stack(app, 'T', { env: { account: ACCOUNT, region: REGION } });
  const b = new EncryptedBucket(stack, 'Data');
  const local = new iam.Role(stack, 'Local', { assumedBy: new iam.AccountRootPrincipal() });
  b.grantOnKey(local, 'kms:Decrypt', 'kms:Encrypt', 'kms:DescribeKey', 'kms:ReEncryptFrom');
  b.grantRead(new iam.AccountPrincipal(OTHER));
  const m = AccessModel.of(app);
  const bucket = m.bucket(/^T\/Data[0-9A-F]{8} /);
  const keyArn = m.keyArn(/^T\/DataKey/);
  const role = m.roleArn(/^T\/Local/);
  const external = `arn:aws:iam::${OTHER}:role/reader`;
  const externalPolicy = [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn }] }];
  const call = (principal: string, action: string, context: Record<string, string | string[] | undefined>, identityPolicies?: any[]) =>
    m.evaluate({ principal, action, resource: keyArn, context, identityPolicies }).decision;
  test.each([
    ['Allowed', 'kms:Decrypt'],
    ['ImplicitlyDenied', 'kms:Encrypt'],
    ['ImplicitlyDenied', 'kms:DescribeKey'],
    ['ImplicitlyDenied', 'kms:ReEncryptFrom'],
  ])('%s: the local role\'s %s through S3 for the bucket (S3 never calls the others for SSE-KMS)', (expected, action) => {
    expect(call(role, action, kmsContext(role, bucket.arn))).toBe(expected);
  });
  test('the other account decrypts through S3 for this bucket only, and only with its own IAM allow', () => {
    expect(call(external, 'kms:Decrypt', kmsContext(external, bucket.arn), externalPolicy)).toBe('Allowed');
    expect(call(external, 'kms:Decrypt', kmsContext(external, 'arn:aws:s3:::another-bucket'), externalPolicy)).not.toBe('Allowed');
    expect(call(external, 'kms:Decrypt', { ...kmsContext(external, bucket.arn), 'kms:ViaService': undefined }, externalPolicy)).not.toBe('Allowed');
    expect(call(external, 'kms:Decrypt', kmsContext(external, bucket.arn), [])).not.toBe('Allowed');
  });
  test('the key policy names the other account, and no local role', () => {
    const policy = JSON.stringify(m.all('AWS::KMS::Key').find((k) => k.arn === keyArn)!.properties.KeyPolicy);
    expect(policy).toContain(`arn:aws:iam::${OTHER}:root`);
    expect(policy).not.toContain(role);
  });
});

describe('two buckets of one stack share its log bucket: each delivers its logs and encryption inventory under its prefix', () => {
  // enable-server-access-logging.html and configure-inventory.html: logging.s3.amazonaws.com and
  // s3.amazonaws.com write with aws:SourceArn = the source bucket. The second bucket's prefixes and
  // ARN are added to the log bucket's statements made for the first (one statement per service for
  // the stack's buckets, so either source may write under either prefix; nothing outside them).
  const app = new App();
  const stack = new Stack(app, 'T', { env: { account: ACCOUNT, region: REGION } });
  const buckets = [new EncryptedBucket(stack, 'First'), new EncryptedBucket(stack, 'Second')];
  const m = AccessModel.of(app);
  const logs = m.bucket(/^T\/S3EncryptionSharedAccessLogs/);
  const sources = [m.bucket(/^T\/First[0-9A-F]{8} /), m.bucket(/^T\/Second[0-9A-F]{8} /)];
  const cfn = (i: number) => buckets[i].node.defaultChild as s3.CfnBucket;
  const logPrefix = (i: number) => (cfn(i).loggingConfiguration as any).logFilePrefix as string;
  const inventoryPrefix = (i: number) => (cfn(i).inventoryConfigurations as any[]).find((c) => c.id === 'EncryptionStatus').destination.prefix as string;
  const deliver = (principal: string, key: string, source: number, extra: Record<string, string> = {}) => m.evaluate({
    principal,
    action: 's3:PutObject',
    resource: `${logs.arn}/${key}`,
    context: { 'aws:SourceArn': sources[source].arn, 'aws:SourceAccount': ACCOUNT, ...extra },
  }).decision;
  const acl = { 's3:x-amz-acl': 'bucket-owner-full-control' };
  test.each([0, 1])('bucket %i: its access logs and its encryption inventory are delivered, nothing outside the prefixes', (i) => {
    expect(logPrefix(0)).not.toBe(logPrefix(1));
    expect(deliver('logging.s3.amazonaws.com', `${logPrefix(i)}2026-12-01-00-00-00-ABC`, i)).toBe('Allowed');
    expect(deliver('s3.amazonaws.com', `${inventoryPrefix(i)}/data/r.csv.gz`, i, acl)).toBe('Allowed');
    expect(deliver('logging.s3.amazonaws.com', 'elsewhere/2026-12-01-00-00-00-ABC', i)).toBe('ImplicitlyDenied');
    expect(deliver('s3.amazonaws.com', 'elsewhere/data/r.csv.gz', i, acl)).toBe('ImplicitlyDenied');
    expect(deliver('s3.amazonaws.com', `${inventoryPrefix(i)}/data/r.csv.gz`, i)).toBe('ImplicitlyDenied');
  });
});
