/**
 * EncryptionDefaults: set once at app, stage or stack scope; explicit props win, then the nearest
 * defaults value by value, then the library's. Each row of the README's precedence table is a test.
 */
import { App, Duration, Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EncryptedBucket, EncryptionAuditTrail, EncryptionDefaults, TenantKeyring } from '../../src';
import { AccessModel, ACCOUNT } from '../support/access-model';

const ENV = { account: '111111111111', region: 'us-east-1' };
const ORG_TRAIL = 'arn:aws:cloudtrail:us-east-1:111111111111:trail/organization';
const resources = (stack: Stack, type: string) =>
  Object.entries<any>(Template.fromStack(stack).toJSON().Resources).filter(([, r]) => r.Type === type);
const bucketKey = (stack: Stack, id: string) => resources(stack, 'AWS::KMS::Key').find(([k]) => k.startsWith(`${id}Key`))![1].Properties;
const tlsOf = (stack: Stack, id: string) => {
  const policy = resources(stack, 'AWS::S3::BucketPolicy').find(([, p]) => JSON.stringify(p.Properties.Bucket).includes(id))![1];
  return policy.Properties.PolicyDocument.Statement.find((s: any) => s.Condition?.NumericLessThan)?.Condition.NumericLessThan['s3:TlsVersion'];
};

describe('precedence: explicit prop, then the nearest EncryptionDefaults value by value, then the library default', () => {
  const app = new App();
  new EncryptionDefaults(app, 'Org', { keyRotationPeriod: Duration.days(180), minimumTlsVersion: 1.3, keyPendingWindow: Duration.days(20) });
  const stage = new Stage(app, 'Prod');
  new EncryptionDefaults(stage, 'ProdDefaults', { keyRotationPeriod: Duration.days(90) });
  const stack = new Stack(stage, 'Data', { env: ENV });
  new EncryptionDefaults(stack, 'StackDefaults', { keyPendingWindow: Duration.days(7) });
  new EncryptedBucket(stack, 'Defaulted');
  new EncryptedBucket(stack, 'Explicit', { keyRotationPeriod: Duration.days(365), minimumTlsVersion: 1.2, keyPendingWindow: Duration.days(30) });
  const other = new Stack(app, 'Other', { env: ENV });
  new EncryptedBucket(other, 'AppOnly');
  const bare = new Stack(new App(), 'Bare', { env: ENV });
  new EncryptedBucket(bare, 'Library');

  test.each([
    // [what, stack, bucket, rotation days, pending days, TLS]
    ['stack pending window, stage rotation, app TLS', stack, 'Defaulted', 90, 7, 1.3],
    ['explicit props win over every default', stack, 'Explicit', 365, 30, 1.2],
    ['a stack outside the stage: the app defaults only', other, 'AppOnly', 180, 20, 1.3],
    ['no EncryptionDefaults: the library defaults', bare, 'Library', 365, 30, 1.2],
  ])('%s', (_what, s, id, rotation, pending, tls) => {
    const key = bucketKey(s as Stack, id as string);
    const actual = { rotation: key.RotationPeriodInDays, pending: key.PendingWindowInDays, tls: tlsOf(s as Stack, id as string) };
    expect(actual).toEqual({ rotation, pending, tls });
  });

  test('EncryptionDefaults.resolve names where each value came from', () => {
    const r = EncryptionDefaults.resolve(stack);
    expect(Object.fromEntries(Object.entries(r.from).map(([k, d]) => [k, d.node.path]))).toEqual({
      keyPendingWindow: 'Prod/Data/StackDefaults', keyRotationPeriod: 'Prod/ProdDefaults', minimumTlsVersion: 'Org',
    });
  });
});

describe('what a platform sets for the buckets beneath', () => {
  test('a central log bucket and alarm topic replace the stack ones; an organization trail is written on the bucket', () => {
    const app = new App();
    const platform = new Stack(app, 'Platform', { env: ENV });
    const logs = new s3.Bucket(platform, 'CentralLogs', { enforceSSL: true });
    const topic = new sns.Topic(platform, 'CentralAlarms', { masterKey: new kms.Key(platform, 'TopicKey', { enableKeyRotation: true }) });
    new EncryptionDefaults(app, 'Org', { accessLogsBucket: logs, alarmTopic: topic, dataEventsRecordedBy: ORG_TRAIL });
    const stack = new Stack(app, 'Team', { env: ENV });
    const b = new EncryptedBucket(stack, 'B');
    expect(b.accessLogsBucket).toBe(logs);
    expect(b.alarmTopic).toBe(topic);
    expect(resources(stack, 'AWS::S3::Bucket').map(([id]) => id)).toEqual([expect.stringMatching(/^B/)]);
    expect(resources(stack, 'AWS::SNS::Topic')).toEqual([]);
    expect(resources(stack, 'AWS::S3::Bucket')[0][1].Metadata['cdk-s3-encryption:dataEventsRecordedBy']).toBe(ORG_TRAIL);
  });

  test('a default never overrides a contradicting explicit choice: own key, own log retention, no alarms, its own trail', () => {
    const app = new App();
    const stack = new Stack(app, 'S', { env: ENV });
    const logs = new s3.Bucket(stack, 'CentralLogs');
    new EncryptionDefaults(app, 'Org', { keyRotationPeriod: Duration.days(180), accessLogsBucket: logs, alarmTopic: new sns.Topic(stack, 'T'), dataEventsRecordedBy: ORG_TRAIL });
    const trail = new EncryptionAuditTrail(stack, 'Audit');
    expect(() => new EncryptedBucket(stack, 'OwnKey', { encryptionKey: new kms.Key(stack, 'K', { enableKeyRotation: true }) })).not.toThrow();
    const ownRetention = new EncryptedBucket(stack, 'OwnRetention', { accessLogsRetention: Duration.days(30) });
    expect(ownRetention.accessLogsBucket).not.toBe(logs);
    const noAlarms = new EncryptedBucket(stack, 'NoAlarms', { kmsQuotaAlarms: false });
    expect(noAlarms.alarmTopic).toBeUndefined();
    const own = new EncryptedBucket(stack, 'OwnTrail', { auditTrail: trail });
    expect((own.node.defaultChild as s3.CfnBucket).getMetadata('cdk-s3-encryption:dataEventsRecordedBy')).toBeUndefined();
    // The trail's own bucket takes neither the central log bucket nor a trail default.
    expect(trail.bucket.accessLogsBucket.node.path).toBe('S/Audit/Bucket/AccessLogs');
    expect((trail.bucket.node.defaultChild as s3.CfnBucket).getMetadata('cdk-s3-encryption:dataEventsRecordedBy')).toBeUndefined();
  });

  test('a bucket naming the trail that records it (dataEventsRecordedBy) is not added to the default audit trail as well', () => {
    const app = new App();
    // The trail lives outside the defaults' scope (they would apply to its own bucket otherwise).
    const audit = new Stack(app, 'Audit', { env: ENV });
    const stack = new Stack(app, 'S', { env: ENV });
    new EncryptionDefaults(stack, 'Org', { auditTrail: new EncryptionAuditTrail(audit, 'Trail') });
    const other = 'arn:aws:cloudtrail:us-east-1:111111111111:trail/team';
    const b = new EncryptedBucket(stack, 'RecordedElsewhere', { dataEventsRecordedBy: other });
    expect((b.node.defaultChild as s3.CfnBucket).getMetadata('cdk-s3-encryption:dataEventsRecordedBy')).toBe(other);
  });

  test('replication by Region: a bucket in a listed Region replicates as its entry says; others do not', () => {
    const app = new App();
    // The replica is governed by the defaults too, so it comes after them and joins with addReplication.
    const org = new EncryptionDefaults(app, 'Org');
    const dest = new Stack(app, 'Dest', { env: { ...ENV, region: 'eu-west-1' } });
    const replica = new EncryptedBucket(dest, 'Replica');
    org.addReplication('us-east-1', { destinationBucket: replica, destinationKeyArn: 'arn:aws:kms:eu-west-1:111111111111:alias/replica' });
    const src = new Stack(app, 'Src', { env: ENV });
    new EncryptedBucket(src, 'Data');
    const west = new Stack(app, 'West', { env: { ...ENV, region: 'eu-west-1' } });
    new EncryptedBucket(west, 'Local');
    const [, data] = resources(src, 'AWS::S3::Bucket').find(([id]) => id.startsWith('Data'))!;
    expect(JSON.stringify(data.Properties.ReplicationConfiguration.Rules[0].Destination.Bucket)).toContain(':s3:::dest-replica-');
    expect(resources(west, 'AWS::S3::Bucket').find(([id]) => id.startsWith('Local'))![1].Properties.ReplicationConfiguration).toBeUndefined();
  });

  test('TenantKeyring takes the alias prefix and key settings; EncryptionAuditTrail its key rotation', () => {
    const app = new App();
    new EncryptionDefaults(app, 'Org', { tenantAliasPrefix: 'acme-platform', keyRotationPeriod: Duration.days(200) });
    const stack = new Stack(app, 'S', { env: ENV });
    const keyring = new TenantKeyring(stack, 'Tenants', { bucket: new EncryptedBucket(stack, 'Data') });
    expect(keyring.addTenant('t1').aliasName).toBe('alias/acme-platform/t1');
    const trail = new EncryptionAuditTrail(stack, 'Audit');
    const key: any = resources(stack, 'AWS::KMS::Key').find(([, k]) => String(k.Properties.Description).startsWith('Key of the CloudTrail trail'))![1];
    expect(key.Properties.RotationPeriodInDays).toBe(200);
    expect(trail).toBeDefined();
  });
});

describe('nothing is missed silently', () => {
  test('addReplication after a bucket of that Region exists: refused, naming it', () => {
    const app = new App();
    const org = new EncryptionDefaults(app, 'Org');
    const src = new Stack(app, 'Src', { env: ENV });
    new EncryptedBucket(src, 'Early');
    const dest = new Stack(app, 'Dest', { env: { ...ENV, region: 'eu-west-1' } });
    const replica = new EncryptedBucket(dest, 'Replica');
    expect(() => org.addReplication('us-east-1', { destinationBucket: replica, destinationKeyArn: 'arn:aws:kms:eu-west-1:111111111111:alias/replica' }))
      .toThrow(/Org.*replicationByRegion\['us-east-1'\].*comes after buckets of that Region that it would govern \(Src\/Early\)/);
  });

  test('a bucket made before the EncryptionDefaults above it fails synth, naming both', () => {
    const app = new App();
    const stack = new Stack(app, 'S', { env: ENV });
    new EncryptedBucket(stack, 'Early');
    new EncryptionDefaults(app, 'Org', { minimumTlsVersion: 1.3 });
    expect(() => app.synth()).toThrow(/Org: S\/Early was made before these EncryptionDefaults, so they do not apply to it; create the EncryptionDefaults first/);
  });

  test.each([
    [{ keyRotationPeriod: Duration.days(30) }, /Org.*keyRotationPeriod \(days\).*30.*90.*2560/],
    [{ keyPendingWindow: Duration.days(3) }, /Org.*keyPendingWindow \(days\).*3.*7.*30/],
    [{ minimumTlsVersion: 1.1 }, /Org.*minimumTlsVersion.*1\.1.*must be 1\.2 or 1\.3/],
    [{ replicationByRegion: { 'not a region': { destinationBucket: undefined as any, destinationKeyArn: 'x' } } }, /Org.*replicationByRegion\['not a region'\].*must be keyed by a Region name/],
  ])('bad value refused with the path, the prop and the range: %j', (props, error) => {
    expect(() => new EncryptionDefaults(new App(), 'Org', props)).toThrow(error);
  });
});

describe('TenantKeyring alias names are unique per account and Region', () => {
  test('two keyrings making the same tenant alias in one environment: refused at synth, naming both and the fix', () => {
    const app = new App();
    const stack = new Stack(app, 'S', { env: ENV });
    const a = new TenantKeyring(stack, 'A', { bucket: new EncryptedBucket(stack, 'DataA') });
    const b = new TenantKeyring(stack, 'B', { bucket: new EncryptedBucket(stack, 'DataB') });
    a.addTenant('acme');
    expect(() => b.addTenant('acme')).toThrow(/S\/B.*aliasPrefix.*makes alias\/tenants\/acme for tenant 'acme', which S\/A already makes in 111111111111\/us-east-1.*give one of the keyrings another aliasPrefix/);
  });

  test('another prefix, or another Region, is fine', () => {
    const app = new App();
    const east = new Stack(app, 'East', { env: ENV });
    const west = new Stack(app, 'West', { env: { ...ENV, region: 'us-west-2' } });
    new TenantKeyring(east, 'A', { bucket: new EncryptedBucket(east, 'Data') }).addTenant('acme');
    expect(() => new TenantKeyring(east, 'B', { bucket: new EncryptedBucket(east, 'Data2'), aliasPrefix: 'team-b' }).addTenant('acme')).not.toThrow();
    expect(() => new TenantKeyring(west, 'A', { bucket: new EncryptedBucket(west, 'Data') }).addTenant('acme')).not.toThrow();
  });
});

describe('a central log bucket in another stack: the access matrix of what its policy lets S3 deliver', () => {
  // enable-server-access-logging.html and configure-inventory.html: logging.s3.amazonaws.com and
  // s3.amazonaws.com write with aws:SourceArn = the source bucket and aws:SourceAccount.
  const app = new App();
  const platform = new Stack(app, 'Platform', { env: ENV });
  const central = new s3.Bucket(platform, 'CentralLogs', { enforceSSL: true });
  new EncryptionDefaults(app, 'Org', { accessLogsBucket: central });
  const team = new Stack(app, 'Team', { env: ENV });
  const b = new EncryptedBucket(team, 'B', { inventories: [{ inventoryId: 'Extra', destination: { bucket: central, prefix: 'extra' } }] });
  const m = AccessModel.of(app);
  const logs = m.bucket(/^Platform\/CentralLogs/);
  const source = m.bucket(/^Team\/B[0-9A-F]{8} /);
  const prefix = (b.node.defaultChild as s3.CfnBucket).loggingConfiguration as any;
  const encryptionInventory = ((b.node.defaultChild as s3.CfnBucket).inventoryConfigurations as any[]).find((i) => i.id === 'EncryptionStatus').destination.prefix;
  const deliver = (principal: string, key: string, sourceArn: string, extra: Record<string, string> = {}) =>
    m.evaluate({ principal, action: 's3:PutObject', resource: `${logs.arn}/${key}`, context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': ACCOUNT, ...extra } }).decision;
  const ownerFullControl = { 's3:x-amz-acl': 'bucket-owner-full-control' };

  test.each([
    ['ALLOWED', 'server access logs of the team bucket under its prefix', () => deliver('logging.s3.amazonaws.com', `${prefix.logFilePrefix}x`, source.arn)],
    ['DENIED', 'server access logs claiming another source bucket', () => deliver('logging.s3.amazonaws.com', `${prefix.logFilePrefix}x`, 'arn:aws:s3:::someone-else')],
    ['ALLOWED', 'the passed inventory of the team bucket', () => deliver('s3.amazonaws.com', 'extra/report.csv', source.arn, { 's3:x-amz-acl': 'bucket-owner-full-control' })],
    ['DENIED', 'an inventory claiming another source bucket', () => deliver('s3.amazonaws.com', 'extra/report.csv', 'arn:aws:s3:::someone-else', { 's3:x-amz-acl': 'bucket-owner-full-control' })],
    ['DENIED', 'server access logs of the team bucket outside its prefix', () => deliver('logging.s3.amazonaws.com', 'elsewhere/x', source.arn)],
    ['DENIED', 'server access logs for another account', () => deliver('logging.s3.amazonaws.com', `${prefix.logFilePrefix}x`, source.arn, { 'aws:SourceAccount': '999999999999' })],
    ['DENIED', 'server access logs by a principal other than S3 logging', () => deliver('s3.amazonaws.com', `${prefix.logFilePrefix}x`, source.arn)],
    ['ALLOWED', 'the encryption inventory of the team bucket under its prefix', () => deliver('s3.amazonaws.com', `${encryptionInventory}/data/r.csv.gz`, source.arn, ownerFullControl)],
    ['DENIED', 'the encryption inventory without bucket-owner-full-control', () => deliver('s3.amazonaws.com', `${encryptionInventory}/data/r.csv.gz`, source.arn)],
    ['DENIED', 'the encryption inventory claiming another source bucket', () => deliver('s3.amazonaws.com', `${encryptionInventory}/data/r.csv.gz`, 'arn:aws:s3:::someone-else', ownerFullControl)],
    ['DENIED', 'the encryption inventory for another account', () => deliver('s3.amazonaws.com', `${encryptionInventory}/data/r.csv.gz`, source.arn, { ...ownerFullControl, 'aws:SourceAccount': '999999999999' })],
    ['DENIED', 'the encryption inventory outside its prefix', () => deliver('s3.amazonaws.com', 'inventory/other/r.csv', source.arn, ownerFullControl)],
  ])('%s: %s', (expected, _name, run) => {
    expect(run() === 'Allowed' ? 'ALLOWED' : 'DENIED').toBe(expected);
  });
});
