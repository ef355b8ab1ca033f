/**
 * The access matrix of the example app: for each example stack, the flows its README promises
 * (each must be ALLOWED) and the attacks it must stop (each must be DENIED), decided by an
 * independent IAM engine over the synthesized bucket, key, topic and identity policies together.
 * Shared by the main job (the compliance summary's `matrix` column) and the test suite.
 *
 * Every context key is what the AWS service sends; the page each rests on is named beside it.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { buildExampleApp } from './app';
import { EncryptedBucket, TenantAccess, TenantKeyring } from '../src';
import { PlatformTeamStack } from './platform/team-stack';
import { AccessModel } from '../test/support/access-model';
import { FlowResult, kmsContext, s3Read, s3UpdateObjectEncryption, s3Write } from '../test/support/s3-flows';

export type Expect = 'ALLOWED' | 'DENIED';

export interface MatrixCase {
  readonly stack: string;
  readonly name: string;
  readonly expect: Expect;
  readonly run: (m: AccessModel) => { allowed: boolean; deniedBy: string[] };
}

export interface MatrixResult {
  readonly stack: string;
  readonly name: string;
  readonly expect: Expect;
  readonly actual: Expect;
  readonly deniedBy: string[];
  /** For a DENIED case: the statement (or leg, for an implicit denial) that must decide it. */
  readonly decidedBy?: string;
  readonly ok: boolean;
}

/**
 * What must refuse each attack: a statement Sid, a condition key of an unnamed statement
 * (aws-cdk-lib's TLS denials have no Sid), or the leg that has no allow (`s3:` / `kms:`
 * ImplicitlyDenied; a single request says ImplicitlyDenied). A denial for another reason fails
 * the case, so a row cannot pass because some other statement happens to refuse it.
 */
export const DECIDED_BY: Record<string, string> = {
  'PutObject without TLS': 'aws:SecureTransport',
  'PutObject over TLS 1.1': 's3:TlsVersion',
  'PutObject naming SSE-S3 (AES256)': 'DenyPutObjectWithAnotherEncryptionAlgorithm',
  'PutObject naming another KMS key': 'DenyPutObjectWithAnotherKmsKey',
  'an administrator (s3:*, kms:*) moves an object to another KMS key with UpdateObjectEncryption': 'DenyPutObjectWithAnotherKmsKey',
  'PutObject naming aws:kms without a key id (would use aws/s3)': 'DenyPutObjectWithKmsAlgorithmButNoKeyId',
  'CreateMultipartUpload naming aws:kms without a key id': 'DenyPutObjectWithKmsAlgorithmButNoKeyId',
  'PutObject naming aws:kms:dsse without a key id': 'DenyPutObjectWithKmsAlgorithmButNoKeyId',
  'PutObject with SSE-C headers': 'DenyPutObjectWithSseCustomerKey',
  'writer calls KMS Decrypt directly, not through S3': 'ImplicitlyDenied',
  'writer uses the key through S3 for another bucket': 'ImplicitlyDenied',
  'a role of another account reads (not granted)': 's3:ImplicitlyDenied',
  'log delivery for a bucket of another account (confused deputy)': 'ImplicitlyDenied',
  'anyone deletes a log object version': 'DenyDeletingLogsAndTheirVersions',
  'CloudWatch publishes for an alarm of another account': 'ImplicitlyDenied',
  'PutObject without an SSE-C key': 'DenyPutObjectWithoutSseCustomerKey',
  'PutObject naming aws:kms': 'DenyPutObjectWithServerManagedEncryptionHeader',
  'PutObject with an SSE-C key without TLS': 'aws:SecureTransport',
  'replication role writes into another bucket of the destination Region': 'ImplicitlyDenied',
  'replication role changes versioning on the destination': 'ImplicitlyDenied',
  'replication role overrides the replica owner (BucketOwnerEnforced makes it moot)': 'ImplicitlyDenied',
  "acme writes globex's prefix with globex's key": 's3:ImplicitlyDenied',
  "acme writes its prefix with globex's key": 'kms:ImplicitlyDenied',
  'acme writes its prefix with no SSE header (would use the bucket key; refused by KMS)': 'kms:ImplicitlyDenied',
  "acme writes its prefix with the bucket's default key": 'DenyTenantPutWithTheBucketDefaultKey',
  "small-co uses the pooled key on acme's prefix": 'DenyTaggedTenantsObjectsOutsideTheirPrefix',
  "small-co writes with another tenant's context": 'kms:ImplicitlyDenied',
  "acme reads globex's object": 's3:ImplicitlyDenied',
  'team writer PutObject into its EncryptedBucket over TLS 1.2 (the platform asks for 1.3)': 's3:TlsVersion',
  'PutObject into the bucket of other code without TLS': 'DenyRequestsWithoutTls',
  'PutObject into the bucket of other code naming another KMS key': 'DenyPutObjectWithAnotherKmsKey',
  'PutObject into the bucket of other code naming SSE-S3 (AES256)': 'DenyPutObjectWithAnotherEncryptionAlgorithm',
};

/** The principals the matrix acts as: added to the example app, each granted what its name says. */
export function addMatrixPrincipals(stacks: Stack[]): void {
  for (const stack of stacks) {
    for (const bucket of stack.node.findAll().filter((c): c is EncryptedBucket => c instanceof EncryptedBucket)) {
      if (bucket.node.id !== 'Data') continue;
      const writer = new iam.Role(stack, 'MatrixWriter', { assumedBy: new iam.AccountRootPrincipal() });
      bucket.grantReadWrite(writer);
      const reader = new iam.Role(stack, 'MatrixReader', { assumedBy: new iam.AccountRootPrincipal() });
      bucket.grantRead(reader);
    }
    if (stack instanceof PlatformTeamStack) {
      const writer = new iam.Role(stack, 'MatrixWriter', { assumedBy: new iam.AccountRootPrincipal() });
      stack.orders.grantReadWrite(writer);
      stack.exports.grantReadWrite(writer);
      // The Aspect's key is not known to aws-cdk-lib's grant on the bucket: granted on the key itself.
      stack.exportsKey.grantEncryptDecrypt(writer);
    }
    for (const keyring of stack.node.findAll().filter((c): c is TenantKeyring => c instanceof TenantKeyring)) {
      keyring.grantTenant('acme', new iam.Role(stack, 'MatrixAcme', { assumedBy: new iam.AccountRootPrincipal() }), TenantAccess.READ_WRITE);
      keyring.grantTenant('small-co', new iam.Role(stack, 'MatrixSmallCo', { assumedBy: new iam.AccountRootPrincipal() }), TenantAccess.READ_WRITE);
    }
  }
}

/** The example keyring: dedicated tenants acme and globex, pooled tenant small-co (README, TenantKeyring). */
function tenantCases(stack: string): MatrixCase[] {
  const data = (m: AccessModel) => m.bucket(new RegExp(`^${stack}/TenantData[0-9A-F]{8} `));
  const acme = (m: AccessModel) => m.roleArn(new RegExp(`^${stack}/MatrixAcme`));
  const smallCo = (m: AccessModel) => m.roleArn(new RegExp(`^${stack}/MatrixSmallCo`));
  const alias = (m: AccessModel, name: string) => m.keyBehind(`arn:aws:kms:${data(m).region}:${data(m).resource.account}:alias/tenants/${name}`);
  const pooled = (m: AccessModel) => m.keyArn(/TenantsPooledKey/);
  type Options = (m: AccessModel) => Parameters<typeof s3Write>[4];
  const write = (name: string, expect: Expect, who: (m: AccessModel) => string, key: string, options: Options): MatrixCase => ({
    stack, name, expect, run: (m) => flow(s3Write(m, who(m), data(m), key, options(m))),
  });
  return [
    write('acme writes its prefix with its own key', 'ALLOWED', acme, 'tenants/acme/a.csv', (m) => ({ sse: 'aws:kms', keyId: alias(m, 'acme') })),
    write('acme CreateMultipartUpload with its key', 'ALLOWED', acme, 'tenants/acme/big.bin', (m) => ({ operation: 'CreateMultipartUpload', sse: 'aws:kms', keyId: alias(m, 'acme') })),
    write('acme UploadPart (no SSE header; authorized as s3:PutObject)', 'ALLOWED', acme, 'tenants/acme/big.bin', (m) => ({ operation: 'UploadPart', uploadKeyArn: alias(m, 'acme') })),
    write('acme CompleteMultipartUpload (no SSE header)', 'ALLOWED', acme, 'tenants/acme/big.bin', (m) => ({ operation: 'CompleteMultipartUpload', uploadKeyArn: alias(m, 'acme') })),
    { stack, name: 'acme reads its object', expect: 'ALLOWED', run: (m) => flow(s3Read(m, acme(m), data(m), 'tenants/acme/a.csv', { keyArn: alias(m, 'acme') })) },
    write('small-co (pooled) writes its prefix with the pooled key and its tenant context', 'ALLOWED', smallCo, 'tenants/small-co/a.csv',
      (m) => ({ sse: 'aws:kms', keyId: pooled(m), bucketKey: false, encryptionContext: { tenant: 'small-co' } })),
    write('acme writes globex\'s prefix with globex\'s key', 'DENIED', acme, 'tenants/globex/a.csv', (m) => ({ sse: 'aws:kms', keyId: alias(m, 'globex') })),
    write('acme writes its prefix with globex\'s key', 'DENIED', acme, 'tenants/acme/a.csv', (m) => ({ sse: 'aws:kms', keyId: alias(m, 'globex') })),
    write('acme writes its prefix with no SSE header (would use the bucket key; refused by KMS)', 'DENIED', acme, 'tenants/acme/a.csv', () => ({})),
    write('acme writes its prefix with the bucket\'s default key', 'DENIED', acme, 'tenants/acme/a.csv', (m) => ({ sse: 'aws:kms', keyId: m.keyArn(new RegExp(`^${stack}/TenantDataKey`)) })),
    write('small-co uses the pooled key on acme\'s prefix', 'DENIED', smallCo, 'tenants/acme/a.csv',
      (m) => ({ sse: 'aws:kms', keyId: pooled(m), bucketKey: false, encryptionContext: { tenant: 'small-co' } })),
    write('small-co writes with another tenant\'s context', 'DENIED', smallCo, 'tenants/small-co/a.csv',
      (m) => ({ sse: 'aws:kms', keyId: pooled(m), bucketKey: false, encryptionContext: { tenant: 'acme' } })),
    { stack, name: 'acme reads globex\'s object', expect: 'DENIED', run: (m) => flow(s3Read(m, acme(m), data(m), 'tenants/globex/a.csv', { keyArn: alias(m, 'globex') })) },
  ];
}

const single = (r: { decision: string; deciding: string[] }) => ({ allowed: r.decision === 'Allowed', deniedBy: r.decision === 'Allowed' ? [] : r.deciding.length ? r.deciding : [r.decision] });
const flow = (r: FlowResult) => ({ allowed: r.allowed, deniedBy: r.deniedBy });

/** The cases of a stack with an EncryptedBucket `Data` (KMS mode), its writer and reader roles. */
function kmsBucketCases(stack: string): MatrixCase[] {
  const data = (m: AccessModel) => m.bucket(new RegExp(`^${stack}/Data[0-9A-F]{8} `));
  const logs = (m: AccessModel) => m.bucket(new RegExp(`^${stack}/S3EncryptionSharedAccessLogs[0-9A-F]{8} `));
  const writer = (m: AccessModel) => m.roleArn(new RegExp(`^${stack}/MatrixWriter`));
  const reader = (m: AccessModel) => m.roleArn(new RegExp(`^${stack}/MatrixReader`));
  const key = (m: AccessModel) => m.keyArn(new RegExp(`^${stack}/DataKey`));
  const account = (m: AccessModel) => data(m).resource.account;
  type Options = Parameters<typeof s3Write>[4];
  const put = (name: string, expect: Expect, options: Options | ((m: AccessModel) => Options)): MatrixCase => ({
    stack, name, expect, run: (m) => flow(s3Write(m, writer(m), data(m), 'reports/2026/a.csv', typeof options === 'function' ? options(m) : options)),
  });
  const administrator = [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:*', 'kms:*'], Resource: '*' }] }];
  const move = (name: string, expect: Expect, keyArn: (m: AccessModel) => string): MatrixCase => ({
    stack,
    name,
    expect,
    run: (m) => flow(s3UpdateObjectEncryption(m, `arn:aws:iam::${account(m)}:role/Administrator`, data(m), 'reports/2019/a.csv',
      { keyArn: keyArn(m), bucketKey: true, identityPolicies: administrator })),
  });
  const cases: MatrixCase[] = [
    // UsingKMSEncryption.html: a PUT naming no encryption gets the default (the bucket key, with an S3 Bucket Key: context = bucket ARN).
    put('writer PutObject with no encryption headers (bucket default, S3 Bucket Key)', 'ALLOWED', {}),
    put('writer PutObject naming aws:kms and the bucket key', 'ALLOWED', (m) => ({ sse: 'aws:kms', keyId: key(m) })),
    put('writer PutObject naming aws:kms, the bucket key, S3 Bucket Key off (context = object ARN)', 'ALLOWED', (m) => ({ sse: 'aws:kms', keyId: key(m), bucketKey: false })),
    put('writer CopyObject into the bucket', 'ALLOWED', { operation: 'CopyObject' }),
    // mpuoverview.html: every multipart call is s3:PutObject; S3 needs kms:GenerateDataKey and kms:Decrypt.
    put('writer CreateMultipartUpload', 'ALLOWED', { operation: 'CreateMultipartUpload' }),
    put('writer UploadPart', 'ALLOWED', (m) => ({ operation: 'UploadPart', uploadKeyArn: key(m) })),
    put('writer UploadPartCopy', 'ALLOWED', (m) => ({ operation: 'UploadPartCopy', uploadKeyArn: key(m) })),
    put('writer CompleteMultipartUpload', 'ALLOWED', (m) => ({ operation: 'CompleteMultipartUpload', uploadKeyArn: key(m) })),
    { stack, name: 'reader GetObject', expect: 'ALLOWED', run: (m) => flow(s3Read(m, reader(m), data(m), 'reports/2026/a.csv')) },
    { stack, name: 'reader GetObject of an object written without an S3 Bucket Key (context = object ARN)', expect: 'ALLOWED', run: (m) => flow(s3Read(m, reader(m), data(m), 'reports/old.csv', { bucketKey: false })) },
    {
      // enable-server-access-logging.html: logging.s3.amazonaws.com, aws:SourceArn = source bucket, aws:SourceAccount.
      stack,
      name: 'S3 server access log delivery into the log bucket',
      expect: 'ALLOWED',
      run: (m) => single(m.evaluate({
        principal: 'logging.s3.amazonaws.com',
        action: 's3:PutObject',
        resource: `${logs(m).arn}/${logPrefix(m, data(m).name)}2026-11-30-00-00-00-ABC`,
        context: { 'aws:SourceArn': data(m).arn, 'aws:SourceAccount': account(m) },
      })),
    },
    {
      // configure-inventory.html: s3.amazonaws.com, aws:SourceArn = source bucket, aws:SourceAccount, x-amz-acl bucket-owner-full-control.
      stack,
      name: 'S3 Inventory report delivery into the log bucket',
      expect: 'ALLOWED',
      run: (m) => single(m.evaluate({
        principal: 's3.amazonaws.com',
        action: 's3:PutObject',
        resource: `${logs(m).arn}/${inventoryPrefix(m, data(m).name)}/data/report.csv.gz`,
        context: { 'aws:SourceArn': data(m).arn, 'aws:SourceAccount': account(m), 's3:x-amz-acl': 'bucket-owner-full-control' },
      })),
    },
    {
      // sns-key-management.html: CloudWatch publishes to an encrypted topic with kms:GenerateDataKey* and kms:Decrypt.
      stack,
      name: 'CloudWatch alarm publishes to the alarm topic (topic policy and key)',
      expect: 'ALLOWED',
      run: (m) => {
        const alarm = `arn:aws:cloudwatch:${data(m).region}:${account(m)}:alarm:kms-quota`;
        const ctx = { 'aws:SourceArn': alarm, 'aws:SourceAccount': account(m) };
        const legs = [
          m.evaluate({ principal: 'cloudwatch.amazonaws.com', action: 'sns:Publish', resource: m.topicArn(new RegExp(`^${stack}/S3EncryptionSharedAlarmTopic`)), context: ctx }),
          m.evaluate({ principal: 'cloudwatch.amazonaws.com', action: 'kms:GenerateDataKey', resource: m.topicKeyArn(new RegExp(`^${stack}/S3EncryptionSharedAlarmTopic`)), context: ctx }),
          m.evaluate({ principal: 'cloudwatch.amazonaws.com', action: 'kms:Decrypt', resource: m.topicKeyArn(new RegExp(`^${stack}/S3EncryptionSharedAlarmTopic`)), context: ctx }),
        ];
        const refused = legs.filter((l) => l.decision !== 'Allowed');
        return { allowed: refused.length === 0, deniedBy: refused.flatMap((l) => l.deciding.length ? l.deciding : [l.decision]) };
      },
    },
    {
      stack,
      name: 'the account root administers the bucket key (no lockout)',
      expect: 'ALLOWED',
      run: (m) => single(m.evaluate({ principal: `arn:aws:iam::${account(m)}:root`, action: 'kms:PutKeyPolicy', resource: key(m) })),
    },
    // Attacks.
    put('PutObject without TLS', 'DENIED', { context: { 'aws:SecureTransport': 'false' } }),
    put('PutObject over TLS 1.1', 'DENIED', { context: { 's3:TlsVersion': '1.1' } }),
    put('PutObject naming SSE-S3 (AES256)', 'DENIED', { sse: 'AES256' }),
    put('PutObject naming another KMS key', 'DENIED', (m) => ({ sse: 'aws:kms', keyId: `arn:aws:kms:${data(m).region}:${account(m)}:key/another` })),
    // update-sse-encryption.html: UpdateObjectEncryption moves an existing object to another key with no
    // write; the Service Authorization Reference gives s3:UpdateObjectEncryption the key-id condition key.
    move('an administrator (s3:*, kms:*) moves an SSE-S3 object to the bucket key with UpdateObjectEncryption', 'ALLOWED', key),
    move('an administrator (s3:*, kms:*) moves an object to another KMS key with UpdateObjectEncryption', 'DENIED',
      (m) => `arn:aws:kms:${data(m).region}:${account(m)}:key/another`),
    // PutObject API reference (SSEKMSKeyId): aws:kms without a key id means the AWS managed key aws/s3.
    put('PutObject naming aws:kms without a key id (would use aws/s3)', 'DENIED', { sse: 'aws:kms' }),
    put('CreateMultipartUpload naming aws:kms without a key id', 'DENIED', { operation: 'CreateMultipartUpload', sse: 'aws:kms' }),
    put('PutObject naming aws:kms:dsse without a key id', 'DENIED', { sse: 'aws:kms:dsse' }),
    put('PutObject with SSE-C headers', 'DENIED', { sseCustomerAlgorithm: 'AES256' }),
    {
      stack,
      name: 'writer calls KMS Decrypt directly, not through S3',
      expect: 'DENIED',
      run: (m) => single(m.evaluate({ principal: writer(m), action: 'kms:Decrypt', resource: key(m), context: { 'kms:EncryptionContext:aws:s3:arn': data(m).arn } })),
    },
    {
      stack,
      name: 'writer uses the key through S3 for another bucket',
      expect: 'DENIED',
      run: (m) => single(m.evaluate({ principal: writer(m), action: 'kms:Decrypt', resource: key(m), context: kmsContext(writer(m), 'arn:aws:s3:::another-bucket', data(m).region) })),
    },
    {
      stack,
      name: 'a role of another account reads (not granted)',
      expect: 'DENIED',
      run: (m) => flow(s3Read(m, 'arn:aws:iam::999999999999:role/outsider', data(m), 'reports/2026/a.csv', { identityPolicies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }] })),
    },
    {
      stack,
      name: 'log delivery for a bucket of another account (confused deputy)',
      expect: 'DENIED',
      run: (m) => single(m.evaluate({
        principal: 'logging.s3.amazonaws.com',
        action: 's3:PutObject',
        resource: `${logs(m).arn}/${logPrefix(m, data(m).name)}x`,
        context: { 'aws:SourceArn': 'arn:aws:s3:::someone-elses-bucket', 'aws:SourceAccount': '999999999999' },
      })),
    },
    {
      stack,
      name: 'anyone deletes a log object version',
      expect: 'DENIED',
      run: (m) => single(m.evaluate({ principal: `arn:aws:iam::${account(m)}:root`, action: 's3:DeleteObjectVersion', resource: `${logs(m).arn}/${logPrefix(m, data(m).name)}x` })),
    },
    {
      stack,
      name: 'CloudWatch publishes for an alarm of another account',
      expect: 'DENIED',
      run: (m) => single(m.evaluate({
        principal: 'cloudwatch.amazonaws.com',
        action: 'sns:Publish',
        resource: m.topicArn(new RegExp(`^${stack}/S3EncryptionSharedAlarmTopic`)),
        context: { 'aws:SourceArn': 'arn:aws:cloudwatch:us-east-1:999999999999:alarm:x', 'aws:SourceAccount': '999999999999' },
      })),
    },
  ];
  return cases;
}

/** The SSE-C bucket: every PUT must carry an SSE-C key; server-managed headers are refused. */
function sseCCases(stack: string): MatrixCase[] {
  const data = (m: AccessModel) => m.bucket(new RegExp(`^${stack}/Data[0-9A-F]{8} `));
  const writer = (m: AccessModel) => m.roleArn(new RegExp(`^${stack}/MatrixWriter`));
  const put = (name: string, expect: Expect, options: Parameters<typeof s3Write>[4]): MatrixCase => ({
    stack, name, expect, run: (m) => flow(s3Write(m, writer(m), data(m), 'a.bin', options)),
  });
  return [
    put('PutObject with an SSE-C key', 'ALLOWED', { sseCustomerAlgorithm: 'AES256' }),
    // SSE-C headers are sent on UploadPart and CompleteMultipartUpload too (ServerSideEncryptionCustomerKeys.html).
    put('UploadPart with the SSE-C key', 'ALLOWED', { operation: 'UploadPart', sseCustomerAlgorithm: 'AES256' }),
    put('PutObject without an SSE-C key', 'DENIED', {}),
    put('PutObject naming aws:kms', 'DENIED', { sse: 'aws:kms', sseCustomerAlgorithm: 'AES256' }),
    put('PutObject with an SSE-C key without TLS', 'DENIED', { sseCustomerAlgorithm: 'AES256', context: { 'aws:SecureTransport': 'false' } }),
  ];
}

/** Replication with S3 Bucket Keys on both sides (replication-config-for-kms-objects.html). */
function replicationCases(stack: string): MatrixCase[] {
  const source = (m: AccessModel) => m.bucket(new RegExp(`^${stack}/Data[0-9A-F]{8} `));
  const sourceKey = (m: AccessModel) => m.keyArn(new RegExp(`^${stack}/DataKey`));
  const replica = (m: AccessModel) => m.bucket(/^ReplicaDestination\/Replica[0-9A-F]{8} /);
  const replicaKey = (m: AccessModel) => m.keyArn(/^ReplicaDestination\/ReplicaKey/);
  const role = (m: AccessModel) => String(source(m).resource.properties.ReplicationConfiguration.Role);
  const legs = (m: AccessModel, requests: Parameters<AccessModel['evaluate']>[0][]) => {
    const refused = requests.map((r) => m.evaluate(r)).filter((r) => r.decision !== 'Allowed');
    return { allowed: refused.length === 0, deniedBy: refused.flatMap((r) => r.deciding.length ? r.deciding : [r.decision]) };
  };
  return [
    {
      stack,
      name: 'replication role reads a source version and decrypts it through S3 (S3 Bucket Key: context = source bucket)',
      expect: 'ALLOWED',
      run: (m) => legs(m, [
        { principal: role(m), action: 's3:GetObjectVersionForReplication', resource: `${source(m).arn}/a.csv` },
        { principal: role(m), action: 's3:GetReplicationConfiguration', resource: source(m).arn },
        { principal: role(m), action: 'kms:Decrypt', resource: sourceKey(m), context: kmsContext(role(m), source(m).arn, source(m).region) },
      ]),
    },
    {
      stack: 'ReplicaDestination',
      name: 'replication role writes the replica with the destination key (S3 Bucket Key on the destination: Encrypt, GenerateDataKey and Decrypt)',
      expect: 'ALLOWED',
      run: (m) => legs(m, [
        { principal: role(m), action: 's3:ReplicateObject', resource: `${replica(m).arn}/a.csv` },
        ...['kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt'].map((action) => ({ principal: role(m), action, resource: replicaKey(m), context: kmsContext(role(m), replica(m).arn, replica(m).region) })),
      ]),
    },
    {
      stack: 'ReplicaDestination',
      name: 'replication role writes into another bucket of the destination Region',
      expect: 'DENIED',
      run: (m) => legs(m, [{ principal: role(m), action: 's3:ReplicateObject', resource: 'arn:aws:s3:::another-bucket/a.csv' }]),
    },
    {
      stack: 'ReplicaDestination',
      name: 'replication role changes versioning on the destination',
      expect: 'DENIED',
      run: (m) => legs(m, [{ principal: role(m), action: 's3:PutBucketVersioning', resource: replica(m).arn }]),
    },
    {
      // The log bucket is SSE-S3 (a log destination cannot be SSE-KMS): its replication reads with no
      // KMS call and writes the replica under the destination Region's key.
      stack,
      name: 'log-bucket replication role reads a log version and writes its replica with the destination key',
      expect: 'ALLOWED',
      run: (m) => {
        const logs = m.bucket(new RegExp(`^${stack}/S3EncryptionSharedAccessLogs[0-9A-F]{8} `));
        const logRole = String(logs.resource.properties.ReplicationConfiguration.Role);
        const replicaLogs = m.bucket(/^ReplicaDestination\/ReplicaLogs[0-9A-F]{8} /);
        return legs(m, [
          { principal: logRole, action: 's3:GetObjectVersionForReplication', resource: `${logs.arn}/access-logs/x` },
          { principal: logRole, action: 's3:GetReplicationConfiguration', resource: logs.arn },
          { principal: logRole, action: 's3:ReplicateObject', resource: `${replicaLogs.arn}/access-logs/x` },
          ...['kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt'].map((action) => ({
            principal: logRole, action, resource: replicaKey(m), context: kmsContext(logRole, replicaLogs.arn, replicaLogs.region),
          })),
        ]);
      },
    },
    {
      stack: 'ReplicaDestination',
      name: 'the account root administers the replica key (no lockout)',
      expect: 'ALLOWED',
      run: (m) => legs(m, [{ principal: `arn:aws:iam::${replica(m).resource.account}:root`, action: 'kms:PutKeyPolicy', resource: replicaKey(m) }]),
    },
    {
      stack: 'ReplicaDestination',
      name: 'replication role overrides the replica owner (BucketOwnerEnforced makes it moot)',
      expect: 'DENIED',
      run: (m) => legs(m, [{ principal: role(m), action: 's3:ObjectOwnerOverrideToBucketOwner', resource: `${replica(m).arn}/a.csv` }]),
    },
  ];
}


/**
 * The platform team's stack (examples/platform/): its EncryptedBucket on the platform's defaults
 * (TLS 1.3 minimum), and a bucket of other code that the platform's BucketEncryptionPolicy encrypts.
 */
function platformCases(stack: string): MatrixCase[] {
  const orders = (m: AccessModel) => m.bucket(new RegExp(`^${stack}/Orders[0-9A-F]{8} `));
  const exportsBucket = (m: AccessModel) => m.bucket(new RegExp(`^${stack}/Exports[0-9A-F]{8} `));
  const logs = (m: AccessModel) => m.bucket(new RegExp(`^${stack}/S3EncryptionSharedAccessLogs[0-9A-F]{8} `));
  const writer = (m: AccessModel) => m.roleArn(new RegExp(`^${stack}/MatrixWriter`));
  const exportsKey = (m: AccessModel) => m.keyArn(new RegExp(`^${stack}/S3EncryptionSharedForeignBucketsKey`));
  type Options = Parameters<typeof s3Write>[4];
  type Bucket = (m: AccessModel) => ReturnType<typeof orders>;
  const put = (name: string, expect: Expect, bucket: Bucket, options: Options | ((m: AccessModel) => Options)): MatrixCase => ({
    stack, name, expect, run: (m) => flow(s3Write(m, writer(m), bucket(m), 'out/a.csv', typeof options === 'function' ? options(m) : options)),
  });
  return [
    put('team writer PutObject into its EncryptedBucket over TLS 1.3 (platform defaults)', 'ALLOWED', orders, { context: { 's3:TlsVersion': '1.3' } }),
    put('team writer PutObject into its EncryptedBucket over TLS 1.2 (the platform asks for 1.3)', 'DENIED', orders, { context: { 's3:TlsVersion': '1.2' } }),
    put('team writer PutObject into the bucket of other code (encrypted by the platform Aspect)', 'ALLOWED', exportsBucket, { context: { 's3:TlsVersion': '1.3' } }),
    put('team writer multipart UploadPart into the bucket of other code', 'ALLOWED', exportsBucket, (m) => ({ operation: 'UploadPart', uploadKeyArn: exportsKey(m), context: { 's3:TlsVersion': '1.3' } })),
    put('PutObject into the bucket of other code without TLS', 'DENIED', exportsBucket, { context: { 'aws:SecureTransport': 'false' } }),
    put('PutObject into the bucket of other code naming another KMS key', 'DENIED', exportsBucket,
      (m) => ({ sse: 'aws:kms', keyId: `arn:aws:kms:${exportsBucket(m).region}:${exportsBucket(m).resource.account}:key/other`, context: { 's3:TlsVersion': '1.3' } })),
    put('PutObject into the bucket of other code naming SSE-S3 (AES256)', 'DENIED', exportsBucket, { sse: 'AES256', context: { 's3:TlsVersion': '1.3' } }),
    {
      // enable-server-access-logging.html: the bucket of other code logs into the stack's shared log bucket.
      stack,
      name: 'S3 server access log delivery from the bucket of other code into the shared log bucket',
      expect: 'ALLOWED',
      run: (m) => single(m.evaluate({
        principal: 'logging.s3.amazonaws.com',
        action: 's3:PutObject',
        resource: `${logs(m).arn}/access-logs/exports/2026-11-30-00-00-00-ABC`,
        context: { 'aws:SourceArn': exportsBucket(m).arn, 'aws:SourceAccount': exportsBucket(m).resource.account },
      })),
    },
  ];
}

/** Every case of the example app, by stack. */
export function matrixCases(): MatrixCase[] {
  return [
    ...kmsBucketCases('DefaultBucket'),
    ...kmsBucketCases('AuditedBucket'),
    ...sseCCases('SseCBucket'),
    ...kmsBucketCases('ReplicatedBucket'),
    ...replicationCases('ReplicatedBucket'),
    ...tenantCases('TenantKeyring'),
    ...platformCases('PlatformTeam'),
  ];
}

/** Builds the example app with the matrix principals and loads it into the access model. */
export function exampleAccessModel(app: App = new App()): AccessModel {
  addMatrixPrincipals(buildExampleApp(app));
  return AccessModel.of(app);
}

/** Runs every case on a model of the example app. */
export function runMatrix(model: AccessModel): MatrixResult[] {
  return matrixCases().map((c) => {
    const r = c.run(model);
    const actual: Expect = r.allowed ? 'ALLOWED' : 'DENIED';
    const decidedBy = c.expect === 'DENIED' ? DECIDED_BY[c.name] : undefined;
    const rightReason = decidedBy === undefined || r.deniedBy.some((d) => d === decidedBy || d.includes(`[${decidedBy}`) || d.includes(`,${decidedBy}`));
    return { stack: c.stack, name: c.name, expect: c.expect, actual, deniedBy: r.deniedBy, decidedBy, ok: actual === c.expect && rightReason };
  });
}

function logPrefix(m: AccessModel, bucketName: string): string {
  const b = m.all('AWS::S3::Bucket').find((r) => r.ref === bucketName)!;
  return b.properties.LoggingConfiguration.LogFilePrefix;
}

function inventoryPrefix(m: AccessModel, bucketName: string): string {
  const b = m.all('AWS::S3::Bucket').find((r) => r.ref === bucketName)!;
  return b.properties.InventoryConfigurations[0].Destination.Prefix;
}
