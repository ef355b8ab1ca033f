/**
 * BucketEncryptionPolicy on buckets this library did not make: L2 buckets, buckets that aws-cdk-lib
 * L2s make for themselves, and L1 CfnBuckets. What it writes is decided by the IAM engine over the
 * synthesized policies (the writes AWS must accept, the ones the denials must refuse), and log
 * destinations stay on SSE-S3 because AWS refuses SSE-KMS there.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { BucketEncryptionPolicy, BucketEncryptionPolicyMode, EncryptedBucket } from '../../src';
import { AccessModel, ACCOUNT, REGION } from '../support/access-model';
import { kmsContext, s3Write } from '../support/s3-flows';

const ENV = { account: ACCOUNT, region: REGION };
const byId = (stack: Stack, prefix: string) =>
  Object.entries<any>(Template.fromStack(stack).toJSON().Resources).find(([id]) => id.startsWith(prefix))![1];

describe('ENFORCE on an L2 bucket of other code: the access matrix', () => {
  const app = new App();
  const stack = new Stack(app, 'T', { env: ENV });
  new BucketEncryptionPolicy(app, 'Buckets');
  const plain = new s3.Bucket(stack, 'Plain');
  const writer = new iam.Role(stack, 'Writer', { assumedBy: new iam.AccountRootPrincipal() });
  plain.grantReadWrite(writer);
  writer.addToPolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: ['*'] }));
  const m = AccessModel.of(app);
  const bucket = m.bucket(/^T\/Plain[0-9A-F]{8} /);
  const w = m.roleArn(/^T\/Writer/);
  const key = m.keyArn(/^T\/S3EncryptionSharedForeignBucketsKey/);

  test('SSE-KMS with the stack key, S3 Bucket Keys on, SSE-C blocked', () => {
    const p = byId(stack, 'Plain').Properties.BucketEncryption.ServerSideEncryptionConfiguration[0];
    expect(p.ServerSideEncryptionByDefault.SSEAlgorithm).toBe('aws:kms');
    expect(p.BucketKeyEnabled).toBe(true);
    expect(p.BlockedEncryptionTypes).toEqual({ EncryptionType: ['SSE-C'] });
  });

  test.each([
    ['ALLOWED', 'PutObject with the default (S3 Bucket Key)', () => s3Write(m, w, bucket, 'a.txt')],
    ['ALLOWED', 'PutObject naming aws:kms and the key', () => s3Write(m, w, bucket, 'a.txt', { sse: 'aws:kms', keyId: key })],
    ['ALLOWED', 'multipart UploadPart', () => s3Write(m, w, bucket, 'a.txt', { operation: 'UploadPart', uploadKeyArn: key })],
    ['DENIED', 'PutObject without TLS', () => s3Write(m, w, bucket, 'a.txt', { context: { 'aws:SecureTransport': 'false' } })],
    ['DENIED', 'PutObject over TLS 1.1', () => s3Write(m, w, bucket, 'a.txt', { context: { 's3:TlsVersion': '1.1' } })],
    ['DENIED', 'PutObject naming AES256', () => s3Write(m, w, bucket, 'a.txt', { sse: 'AES256' })],
    ['DENIED', 'PutObject naming another key', () => s3Write(m, w, bucket, 'a.txt', { sse: 'aws:kms', keyId: `arn:aws:kms:${REGION}:${ACCOUNT}:key/other` })],
    ['DENIED', 'PutObject naming aws:kms without a key id (aws/s3)', () => s3Write(m, w, bucket, 'a.txt', { sse: 'aws:kms' })],
    ['DENIED', 'PutObject with SSE-C headers', () => s3Write(m, w, bucket, 'a.txt', { sseCustomerAlgorithm: 'AES256' })],
  ])('%s: %s', (expected, _name, run) => {
    expect(run().allowed ? 'ALLOWED' : 'DENIED').toBe(expected);
  });

  test('DENIED: the stack key used outside S3, or by another account', () => {
    expect(m.evaluate({ principal: w, action: 'kms:Decrypt', resource: key, context: { 'kms:CallerAccount': ACCOUNT } }).decision).not.toBe('Allowed');
    const other = 'arn:aws:iam::999999999999:role/Other';
    expect(m.evaluate({
      principal: other,
      action: 'kms:GenerateDataKey',
      resource: key,
      context: kmsContext(other, bucket.arn),
      identityPolicies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] }],
    }).decision).not.toBe('Allowed');
  });
});

describe('buckets that aws-cdk-lib L2s make for themselves', () => {
  test('a Trail\'s bucket: SSE-KMS, and the key lets CloudTrail deliver through S3 (ALLOWED) but not for another account (DENIED)', () => {
    const app = new App();
    const stack = new Stack(app, 'T', { env: ENV });
    new BucketEncryptionPolicy(app, 'Buckets');
    new cloudtrail.Trail(stack, 'Trail');
    const m = AccessModel.of(app);
    const bucket = m.bucket(/^T\/TrailS3/);
    const key = m.keyArn(/^T\/S3EncryptionSharedForeignBucketsKey/);
    const object = `${bucket.arn}/AWSLogs/${ACCOUNT}/CloudTrail/us-east-1/x.json.gz`;
    const trailArn = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/x`;
    const put = m.evaluate({
      principal: 'cloudtrail.amazonaws.com',
      action: 's3:PutObject',
      resource: object,
      context: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': trailArn, 'aws:SourceAccount': ACCOUNT },
    });
    expect(put.decision).toBe('Allowed');
    const ctx = { 'kms:ViaService': `s3.${REGION}.amazonaws.com`, 'kms:EncryptionContext:aws:s3:arn': bucket.arn, 'aws:SourceAccount': ACCOUNT };
    expect(m.evaluate({ principal: 'cloudtrail.amazonaws.com', action: 'kms:GenerateDataKey', resource: key, context: ctx }).decision).toBe('Allowed');
    expect(m.evaluate({ principal: 'cloudtrail.amazonaws.com', action: 'kms:GenerateDataKey', resource: key, context: { ...ctx, 'aws:SourceAccount': '999999999999' } }).decision).not.toBe('Allowed');
  });

  test('a server-access-log destination stays on SSE-S3 (AWS refuses SSE-KMS there), with the TLS and algorithm denials', () => {
    // Delivery by bucket policy, as aws-cdk-lib writes it with this flag (new projects set it).
    const app = new App({ context: { '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true } });
    const stack = new Stack(app, 'T', { env: ENV });
    new BucketEncryptionPolicy(app, 'Buckets');
    const logs = new s3.Bucket(stack, 'Logs');
    new s3.Bucket(stack, 'Source', { serverAccessLogsBucket: logs });
    const p = byId(stack, 'Logs').Properties.BucketEncryption.ServerSideEncryptionConfiguration[0];
    expect(p.ServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: 'AES256' });
    expect(byId(stack, 'Source').Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('aws:kms');
    const m = AccessModel.of(app);
    const dest = m.bucket(/^T\/Logs[0-9A-F]{8} /);
    const source = m.bucket(/^T\/Source[0-9A-F]{8} /);
    const delivery = m.evaluate({ principal: 'logging.s3.amazonaws.com', action: 's3:PutObject', resource: `${dest.arn}/x`, context: { 'aws:SourceArn': source.arn, 'aws:SourceAccount': ACCOUNT } });
    expect(delivery.decision).toBe('Allowed');
    const w = 'arn:aws:iam::111111111111:role/Writer';
    const put = (sse: string) => m.evaluate({
      principal: w,
      action: 's3:PutObject',
      resource: `${dest.arn}/x`,
      context: { 's3:x-amz-server-side-encryption': sse },
      identityPolicies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: '*' }] }],
    }).decision;
    expect({ aes256: put('AES256'), kms: put('aws:kms') }).toEqual({ aes256: 'Allowed', kms: 'ExplicitlyDenied' });
    const info = Annotations.fromStack(stack).findInfo('/T/Logs/Resource', Match.stringLikeRegexp('SSE-S3, because it receives S3 server access logs'));
    expect(info).toHaveLength(1);
  });

  // Elastic Load Balancing User Guide, enable-access-logging.html: "The only server-side encryption
  // option that's supported is Amazon S3-managed keys (SSE-S3)". aws-cdk-lib's logAccessLogs writes
  // the bucket policy: the Region's ELB account root in older Regions, the log-delivery service
  // principal in newer ones. Both must keep the bucket on SSE-S3, and delivery must stay allowed.
  test.each([
    ['us-east-1', 'arn:aws:iam::127311923021:root'],
    ['ap-south-2', 'logdelivery.elasticloadbalancing.amazonaws.com'],
  ])('an ALB\'s access-log bucket in %s stays on SSE-S3 and the load balancer still delivers', (region, deliverer) => {
    const app = new App();
    const stack = new Stack(app, 'T', { env: { account: ACCOUNT, region } });
    new BucketEncryptionPolicy(app, 'Buckets');
    const logs = new s3.Bucket(stack, 'AlbLogs');
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc: new ec2.Vpc(stack, 'Vpc', { natGateways: 0 }) });
    alb.logAccessLogs(logs, 'alb');
    expect(byId(stack, 'AlbLogs').Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: 'AES256' });
    expect(Annotations.fromStack(stack).findInfo('/T/AlbLogs/Resource', Match.stringLikeRegexp('SSE-S3, because it receives load-balancer access logs'))).toHaveLength(1);
    const m = AccessModel.of(app);
    const dest = m.bucket(/^T\/AlbLogs[0-9A-F]{8} /);
    const service = !deliverer.startsWith('arn:');
    const deliver = (key: string) => m.evaluate({
      principal: deliverer,
      action: 's3:PutObject',
      resource: `${dest.arn}/${key}`,
      context: service ? { 'aws:SourceAccount': ACCOUNT } : {},
      identityPolicies: service ? undefined : [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: '*' }] }],
    }).decision;
    expect({
      ownPrefix: deliver(`alb/AWSLogs/${ACCOUNT}/elasticloadbalancing/${region}/2026/11/30/log.gz`),
      withSseKms: m.evaluate({
        principal: 'arn:aws:iam::111111111111:role/Writer',
        action: 's3:PutObject',
        resource: `${dest.arn}/alb/x`,
        context: { 's3:x-amz-server-side-encryption': 'aws:kms' },
        identityPolicies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: '*' }] }],
      }).decision,
    }).toEqual({ ownPrefix: 'Allowed', withSseKms: 'ExplicitlyDenied' });
  });

  test('a hand-written ALB log policy (the Region\'s ELB account only, as the ELB guide shows for older Regions) keeps SSE-S3 too', () => {
    const app = new App();
    const stack = new Stack(app, 'T', { env: ENV });
    new BucketEncryptionPolicy(app, 'Buckets');
    const logs = new s3.Bucket(stack, 'AlbLogs');
    logs.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ArnPrincipal('arn:aws:iam::127311923021:root')],
      actions: ['s3:PutObject'],
      resources: [logs.arnForObjects(`AWSLogs/${ACCOUNT}/*`)],
    }));
    // Any other bucket with an account-root grant is not mistaken for one.
    const shared = new s3.Bucket(stack, 'Shared');
    shared.addToResourcePolicy(new iam.PolicyStatement({ principals: [new iam.AccountPrincipal('222222222222')], actions: ['s3:GetObject'], resources: [shared.arnForObjects('*')] }));
    expect(byId(stack, 'AlbLogs').Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: 'AES256' });
    expect(byId(stack, 'Shared').Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('aws:kms');
  });
});

describe('what it leaves alone, and REPORT', () => {
  test('EncryptedBuckets and their log buckets are untouched (same template with and without the policy)', () => {
    const build = (withPolicy: boolean) => {
      const app = new App();
      const stack = new Stack(app, 'T', { env: ENV });
      if (withPolicy) new BucketEncryptionPolicy(app, 'Buckets');
      new EncryptedBucket(stack, 'Data');
      return Template.fromStack(stack).toJSON();
    };
    expect(build(true)).toEqual(build(false));
  });

  test('an L1 CfnBucket gets the encryption and a bucket policy of its own', () => {
    const app = new App();
    const stack = new Stack(app, 'T', { env: ENV });
    new BucketEncryptionPolicy(app, 'Buckets', { encryptionKey: new kms.Key(stack, 'PlatformKey', { enableKeyRotation: true }) });
    new s3.CfnBucket(stack, 'Raw');
    const t = Template.fromStack(stack).toJSON();
    expect(t.Resources.Raw.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.KMSMasterKeyID['Fn::GetAtt'][0]).toMatch(/^PlatformKey/);
    const policy: any = Object.values<any>(t.Resources).find((r) => r.Type === 'AWS::S3::BucketPolicy');
    expect(policy.Properties.Bucket).toEqual({ Ref: 'Raw' });
    expect(policy.Properties.PolicyDocument.Statement.map((s: any) => s.Sid)).toEqual(expect.arrayContaining(['DenyRequestsWithoutTls', 'DenyOlderTls', 'DenyPutObjectWithAnotherKmsKey']));
    const keyPolicy = Object.entries<any>(t.Resources).find(([id]) => id.startsWith('PlatformKey'))![1].Properties.KeyPolicy.Statement;
    expect(keyPolicy.map((s: any) => s.Sid)).toContain('UseThroughS3ByBucketsOfThisAccount');
  });

  test('REPORT: nothing changes; each bucket is a synth error with its gaps and its fix; an acknowledged one a warning', () => {
    const app = new App();
    const stack = new Stack(app, 'T', { env: ENV });
    const policy = new BucketEncryptionPolicy(app, 'Buckets', { mode: BucketEncryptionPolicyMode.REPORT });
    new s3.Bucket(stack, 'Plain');
    const assets = new s3.Bucket(stack, 'Assets');
    policy.acknowledge(assets, 'public website assets, nothing secret at rest');
    const errors = Annotations.fromStack(stack).findError('*', Match.anyValue()).map((e) => String(e.entry.data));
    expect(errors).toEqual([expect.stringMatching(/^T\/Plain\/Resource does not meet Buckets: default encryption is not set \(S3 applies SSE-S3\), not SSE-KMS; SSE-C not blocked; no bucket-policy denial of requests without TLS; no bucket-policy denial of TLS below 1.2\. Fix: use EncryptedBucket, or set encryption: s3\.BucketEncryption\.KMS/)]);
    const warnings = Annotations.fromStack(stack).findWarning('/T/Assets/Resource', Match.stringLikeRegexp('Acknowledged: public website assets'));
    expect(warnings).toHaveLength(1);
    expect(byId(stack, 'Plain').Properties?.BucketEncryption).toBeUndefined();
  });

  test.each([
    [{ minimumTlsVersion: 1.1 }, /Buckets.*minimumTlsVersion.*1\.1.*must be 1\.2 or 1\.3/],
    [{ acknowledgements: [{ bucketPath: 'T/X', reason: 'short' }] }, /Buckets.*acknowledgement reason for T\/X.*short.*at least 10 characters/],
  ])('bad input refused: %j', (props, error) => {
    expect(() => new BucketEncryptionPolicy(new App(), 'Buckets', props as any)).toThrow(error);
  });

  test('an acknowledgement that matches no bucket fails synth', () => {
    const app = new App();
    new Stack(app, 'T', { env: ENV });
    new BucketEncryptionPolicy(app, 'Buckets', { acknowledgements: [{ bucketPath: 'T/Gone', reason: 'this bucket was removed long ago' }] });
    expect(() => app.synth()).toThrow(/Buckets: the acknowledgement of T\/Gone matches no bucket this policy governs/);
  });
});
