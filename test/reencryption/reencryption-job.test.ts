import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { EncryptedBucket, EncryptedBucketProps, ObjectEncryption, ReencryptionJob, ReencryptionJobProps, ReencryptionOperation, ReencryptionSource } from '../../src';
import { buildCreateJobInputs, ReencryptionJobParameters } from '../../src/reencryption/create-job';
import { allFindings } from '../support/compliance';

const ENV = { account: '111111111111', region: 'us-east-1' };
const OLD_KEY_ARN = 'arn:aws:kms:us-east-1:111111111111:key/0b7f3c1e-1111-4e5e-9d1a-000000000001';

interface Made {
  stack: Stack;
  bucket: EncryptedBucket;
  job: ReencryptionJob;
  template: Template;
}

function make(jobProps: Partial<ReencryptionJobProps> = {}, bucketProps: EncryptedBucketProps = {}): Made {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: ENV });
  const bucket = new EncryptedBucket(stack, 'Data', bucketProps);
  const job = new ReencryptionJob(stack, 'Reencrypt', { bucket, source: ReencryptionSource.SSE_S3, ...jobProps });
  return { stack, bucket, job, template: Template.fromStack(stack) };
}

function roleStatements(template: Template): any[] {
  const policies = Object.values(template.findResources('AWS::IAM::ManagedPolicy')) as any[];
  expect(policies).toHaveLength(1);
  return policies[0].Properties.PolicyDocument.Statement;
}

function bucketPolicyStatements(template: Template, bucketPattern: RegExp): any[] {
  const ids = Object.entries(template.findResources('AWS::S3::Bucket'))
    .filter(([, b]: [string, any]) => bucketPattern.test(String(b.Properties.BucketName))).map(([id]) => id);
  expect(ids).toHaveLength(1);
  const policies = Object.values(template.findResources('AWS::S3::BucketPolicy')).filter((p: any) => p.Properties.Bucket.Ref === ids[0]) as any[];
  expect(policies).toHaveLength(1);
  return policies[0].Properties.PolicyDocument.Statement;
}

function outputsOf(template: Template): Record<string, any> {
  return template.toJSON().Outputs;
}

/** What CloudFormation would print for a value: references become recognizable fake ARNs and names. */
function deployed(value: any): any {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map(deployed);
  if (value['Fn::Join']) return value['Fn::Join'][1].map(deployed).join(value['Fn::Join'][0]);
  if (value['Fn::GetAtt']) return `arn:aws:fake:::${value['Fn::GetAtt'][0]}`;
  if (value.Ref) return `name-of-${value.Ref}`.toLowerCase();
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}

function jobParametersOf(stack: Stack, job: ReencryptionJob): ReencryptionJobParameters {
  return JSON.parse(deployed(stack.resolve(job.jobParameters)));
}

/** Findings of the same stack without the job: the job must add none. */
function baselineFindings(bucketProps: EncryptedBucketProps = {}) {
  const stack = new Stack(new App(), 'Test', { env: ENV });
  new EncryptedBucket(stack, 'Data', bucketProps);
  return allFindings(stack);
}

function actionsOf(s: any): string[] {
  return [].concat(s.Action);
}

describe('ReencryptionJob role (SSE-S3 to SSE-KMS, Copy forced)', () => {
  const { stack, job, template } = make({ operation: ReencryptionOperation.COPY });

  test('the role is assumable only by S3 Batch Operations', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'batchoperations.s3.amazonaws.com' } }],
      },
    });
  });

  test('the role has one customer-managed policy and no inline policy', () => {
    expect(template.findResources('AWS::IAM::Policy')).toEqual({});
    const policy = Object.values(template.findResources('AWS::IAM::ManagedPolicy'))[0] as any;
    expect(policy.Properties.Roles).toEqual([{ Ref: stack.getLogicalId(job.role.node.defaultChild as any) }]);
  });

  test('no statement of the role has a wildcard action or a wildcard resource', () => {
    for (const s of roleStatements(template)) {
      for (const a of actionsOf(s)) expect(a).not.toContain('*');
      for (const r of [].concat(s.Resource)) expect(JSON.stringify(r)).not.toContain('*');
    }
  });

  test('bucket-level actions only: list and generate the manifest, on the bucket ARN', () => {
    const s = roleStatements(template).find((x) => x.Sid === 'ListAndGenerateManifestOfTheBucket');
    expect(actionsOf(s).sort()).toEqual(['s3:ListBucket', 's3:PutInventoryConfiguration']);
    expect(s.Resource['Fn::GetAtt'][1]).toBe('Arn');
    expect(s.Resource['Fn::GetAtt'][0]).toMatch(/^Data/);
  });

  test('the target key: GenerateDataKey and Decrypt only through S3 for this bucket; no source key for SSE-S3', () => {
    const statements = roleStatements(template);
    const target = statements.find((x) => x.Sid === 'EncryptWithTheTargetKey');
    expect(actionsOf(target).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(target.Resource['Fn::GetAtt'][0]).toMatch(/^DataKey/);
    expect(target.Condition.StringEquals).toEqual({ 'kms:ViaService': 's3.us-east-1.amazonaws.com', 'kms:CallerAccount': '111111111111' });
    expect(JSON.stringify(target.Condition.StringLike['kms:EncryptionContext:aws:s3:arn'])).toMatch(/test-data-[0-9a-f]{8}-111111111111-us-east-1\/\*/);
    expect(statements.find((x) => x.Sid === 'DecryptObjectsWithTheSourceKeys')).toBeUndefined();
    expect(statements.flatMap(actionsOf)).not.toContain('kms:Encrypt');
  });

  test('object-level actions sit in the bucket policy, for the role only, on the bucket\'s objects', () => {
    const s = bucketPolicyStatements(template, /^test-data-/).find((x) => /CopiesObjectsOntoThemselves$/.test(x.Sid));
    expect(s.Effect).toBe('Allow');
    expect(s.Principal.AWS['Fn::GetAtt'][0]).toMatch(/^ReencryptRole/);
    expect(actionsOf(s).sort()).toEqual(['s3:GetObject', 's3:GetObjectTagging', 's3:GetObjectVersion', 's3:GetObjectVersionTagging', 's3:PutObject', 's3:PutObjectTagging']);
    expect(JSON.stringify(s.Resource)).toMatch(/"\/\*"\]\]\}$/);
  });

  test('the log bucket lets the role write manifests and reports under its own prefix and read manifests', () => {
    const statements = bucketPolicyStatements(template, /^test-accesslogs-/);
    const write = statements.find((x) => /WritesManifestsAndReports$/.test(x.Sid));
    expect(actionsOf(write)).toEqual(['s3:PutObject']);
    expect(JSON.stringify(write.Resource)).toContain(`/reencryption/Test/${job.node.addr}/*`);
    const read = statements.find((x) => /ReadsManifests$/.test(x.Sid));
    expect(actionsOf(read).sort()).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
  });

  test('the copy does not trip the bucket policy: it names exactly the bucket key and aws:kms', () => {
    const [input] = buildCreateJobInputs(jobParametersOf(stack, job));
    const copy = input.Operation.S3PutObjectCopy!;
    expect(copy.NewObjectMetadata).toEqual({ SSEAlgorithm: 'KMS' });
    const deny = bucketPolicyStatements(template, /^test-data-/).find((x) => x.Sid === 'DenyPutObjectWithAnotherKmsKey');
    expect(copy.SSEAwsKmsKeyId).toBe(deployed(deny.Condition.StringNotEquals['s3:x-amz-server-side-encryption-aws-kms-key-id']));
    expect(copy.SSEAwsKmsKeyId).toMatch(/DataKey/);
    const algorithm = bucketPolicyStatements(template, /^test-data-/).find((x) => x.Sid === 'DenyPutObjectWithAnotherEncryptionAlgorithm');
    expect(algorithm.Condition.StringNotEquals['s3:x-amz-server-side-encryption']).toBe('aws:kms');
  });

  test('reuses the bucket\'s encryption inventory instead of adding a second one', () => {
    const bucket = Object.values(template.findResources('AWS::S3::Bucket', { Properties: { BucketName: Match.stringLikeRegexp('^test-data-') } }))[0] as any;
    expect(bucket.Properties.InventoryConfigurations).toHaveLength(1);
    expect(bucket.Properties.InventoryConfigurations[0].OptionalFields).toContain('EncryptionStatus');
    expect(jobParametersOf(stack, job).inventoryManifestPrefix).toMatch(/^inventory\/Test\/[0-9a-f]+\/name-of-data[0-9a-f]+\/EncryptionStatus\/$/);
  });

  test('outputs: the job parameters, the role, the key, the report and inventory locations and the CLI command', () => {
    const outputs = outputsOf(template);
    expect(Object.keys(outputs).map((k) => k.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'ReencryptCreateJobCommand', 'ReencryptInventoryManifestLocation', 'ReencryptJobParameters', 'ReencryptOperation', 'ReencryptReportLocation', 'ReencryptRoleArn',
      'ReencryptTargetKeyArn',
    ]);
    expect(Object.entries(outputs).find(([k]) => k.startsWith('ReencryptOperation'))![1].Value)
      .toBe('COPY: operation: COPY was set (each object is copied onto itself as a new version)');
    const command = JSON.stringify(Object.entries(outputs).find(([k]) => k.startsWith('ReencryptCreateJobCommand'))![1].Value);
    expect(command).toContain('aws s3control create-job --region us-east-1 --account-id 111111111111 --cli-input-json');
    expect(command).toContain('S3PutObjectCopy');
    expect(command).toContain('SSES3');
  });

  test('job parameters', () => {
    const p = jobParametersOf(stack, job);
    expect(p).toMatchObject({
      accountId: '111111111111',
      region: 'us-east-1',
      keyPrefix: '',
      targetEncryption: 'SSE_KMS',
      bucketKeyEnabled: true,
      operation: 'COPY',
      source: 'SSE_S3',
      sourceKeyArns: [],
      reportAllTasks: false,
      priority: 10,
      reportPrefix: `reencryption/Test/${job.node.addr}/reports`,
      manifestPrefix: `reencryption/Test/${job.node.addr}/manifests`,
    });
  });

  test('the job adds no finding: four cdk-nag packs and the Control Tower controls', () => {
    const findings = allFindings(stack);
    expect(findings.filter((f) => /Reencrypt/.test(f.resource))).toEqual([]);
    expect(findings).toEqual(baselineFindings());
  });

  test('matches the snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});

describe('ReencryptionJob from one CMK to another', () => {
  function withKeys() {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    const oldKey = new kms.Key(stack, 'OldKey', { enableKeyRotation: true });
    const imported = kms.Key.fromKeyArn(stack, 'Imported', OLD_KEY_ARN);
    const bucket = new EncryptedBucket(stack, 'Data');
    const job = new ReencryptionJob(stack, 'Reencrypt', { bucket, source: ReencryptionSource.SSE_KMS, sourceKeys: [oldKey, imported], keyPrefix: 'tenant-a/' });
    return { stack, job, oldKey, template: Template.fromStack(stack) };
  }
  const { stack, job, template } = withKeys();

  test('the role description is one IAM accepts (Latin-1 only, IAM API Reference, CreateRole), whatever the prefix', () => {
    const IAM_DESCRIPTION = /^[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]{0,1000}$/;
    const description = (t: Template) => Object.values<any>(t.findResources('AWS::IAM::Role')).find((r) => /Batch Operations/.test(r.Properties.Description)).Properties.Description;
    expect(description(template)).toBe('S3 Batch Operations re-encrypting s3://.../tenant-a/ of Test/Data');
    const s2 = new Stack(new App(), 'Test', { env: ENV });
    new ReencryptionJob(s2, 'Reencrypt', { bucket: new EncryptedBucket(s2, 'Data'), source: ReencryptionSource.SSE_S3, keyPrefix: 'テナント/δ/' });
    const d = description(Template.fromStack(s2));
    expect(d).toMatch(IAM_DESCRIPTION);
    expect(d).toBe('S3 Batch Operations re-encrypting s3://.../????/?/ of Test/Data');
  });

  test('the role may only Decrypt and ReEncryptFrom with the source keys, through S3, for this bucket', () => {
    expect(job.operation).toBe(ReencryptionOperation.UPDATE_OBJECT_ENCRYPTION);
    const s = roleStatements(template).find((x) => x.Sid === 'DecryptObjectsWithTheSourceKeys');
    expect(actionsOf(s)).toEqual(['kms:Decrypt', 'kms:ReEncryptFrom']);
    expect(s.Resource).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^OldKey/), 'Arn'] }, OLD_KEY_ARN]);
    expect(s.Condition.StringEquals['kms:ViaService']).toBe('s3.us-east-1.amazonaws.com');
  });

  test('the source key of this app gets a key-policy statement for the role; the imported one is printed', () => {
    const keys = template.findResources('AWS::KMS::Key');
    const old = Object.entries(keys).find(([id]) => id.startsWith('OldKey'))![1] as any;
    const st = old.Properties.KeyPolicy.Statement.find((x: any) => /DecryptsSource1$/.test(x.Sid));
    expect(st.Action).toEqual(['kms:Decrypt', 'kms:ReEncryptFrom']);
    expect(st.Principal.AWS['Fn::GetAtt'][0]).toMatch(/^ReencryptRole/);
    expect(st.Condition.StringEquals['kms:ViaService']).toBe('s3.us-east-1.amazonaws.com');
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('DecryptsSource2'));
    expect(warnings).toHaveLength(1);
  });

  test('object permissions are limited to the prefix', () => {
    const s = bucketPolicyStatements(template, /^test-data-/).find((x) => /UpdatesObjectEncryption$/.test(x.Sid));
    expect(JSON.stringify(s.Resource)).toContain('/tenant-a/*');
  });

  test('one job per source key, each filtering on that key and the prefix', () => {
    const inputs = buildCreateJobInputs(jobParametersOf(stack, job));
    expect(inputs).toHaveLength(2);
    const filters = inputs.map((i) => (i.ManifestGenerator!.S3JobManifestGenerator.Filter as any));
    expect(filters[1].MatchAnyObjectEncryption).toEqual([{ SSEKMS: { KmsKeyArn: OLD_KEY_ARN } }]);
    expect(inputs.map((i) => Object.keys(i.Operation))).toEqual([['S3UpdateObjectEncryption'], ['S3UpdateObjectEncryption']]);
    expect(filters[0].KeyNameConstraint).toEqual({ MatchAnyPrefix: ['tenant-a/'] });
    expect(Object.keys(outputsOf(template)).filter((k) => k.startsWith('ReencryptCreateJobCommand'))).toHaveLength(2);
  });

  test('the job adds no finding', () => {
    expect(allFindings(stack).filter((f) => /Reencrypt/.test(f.resource))).toEqual([]);
  });
});

describe('ReencryptionJob to DSSE-KMS', () => {
  test('an SSE_KMS source without source keys is refused at synth', () => {
    expect(() => make({ source: ReencryptionSource.SSE_KMS })).toThrow(/Test\/Reencrypt: invalid sourceKeys '\[\]': must name at least one key when source is SSE_KMS/);
  });

  test('with the old key: the copy names no encryption, so the bucket default (DSSE-KMS) applies and no denial matches', () => {
    const app = new App();
    const s = new Stack(app, 'Test', { env: ENV });
    const bucket = new EncryptedBucket(s, 'Data', { objectEncryption: ObjectEncryption.DSSE_KMS });
    const j = new ReencryptionJob(s, 'Reencrypt', { bucket, source: ReencryptionSource.SSE_KMS, sourceKeys: [bucket.bucketKey] });
    const p = jobParametersOf(s, j);
    expect(p).toMatchObject({ targetEncryption: 'DSSE_KMS', bucketKeyEnabled: false, operation: 'COPY' });
    expect(j.operationReason).toBe('S3 UpdateObjectEncryption cannot change objects to DSSE-KMS, so each object is copied onto itself as a new version');
    const [input] = buildCreateJobInputs(p);
    expect(input.Operation.S3PutObjectCopy).toEqual({ TargetResource: p.bucketArn, MetadataDirective: 'COPY', StorageClass: 'STANDARD' });
    const filter = input.ManifestGenerator!.S3JobManifestGenerator.Filter as any;
    expect(filter.MatchAnyObjectEncryption).toEqual([{ SSEKMS: { KmsKeyArn: p.targetKeyArn } }]);
    expect(allFindings(s)).toEqual(baselineFindings({ objectEncryption: ObjectEncryption.DSSE_KMS }));
  });
});

describe('ReencryptionJob in place (UpdateObjectEncryption)', () => {
  const { stack, job, template } = make();

  test('SSE-S3 to SSE-KMS is updated in place by default, and the outputs say so and why', () => {
    expect(job.operation).toBe(ReencryptionOperation.UPDATE_OBJECT_ENCRYPTION);
    const outputs = outputsOf(template);
    expect(Object.entries(outputs).find(([k]) => k.startsWith('ReencryptOperation'))![1].Value).toBe('UPDATE_OBJECT_ENCRYPTION: S3 changes SSE-S3 to SSE-KMS in place, '
      + 'with no data movement: no new version, no size limit, no restore of archived objects, metadata kept');
    const command = JSON.stringify(Object.entries(outputs).find(([k]) => k.startsWith('ReencryptCreateJobCommand'))![1].Value);
    expect(command).toContain('S3UpdateObjectEncryption');
    expect(command).not.toContain('S3PutObjectCopy');
  });

  test('the bucket policy gives the role exactly the object actions of the S3 User Guide\'s role policy for the operation', () => {
    const s = bucketPolicyStatements(template, /^test-data-/).find((x) => /UpdatesObjectEncryption$/.test(x.Sid));
    expect(s.Effect).toBe('Allow');
    expect(s.Principal.AWS['Fn::GetAtt'][0]).toMatch(/^ReencryptRole/);
    expect(actionsOf(s).sort()).toEqual(['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:UpdateObjectEncryption']);
    expect(bucketPolicyStatements(template, /^test-data-/).find((x) => /CopiesObjectsOntoThemselves$/.test(x.Sid))).toBeUndefined();
  });

  test('the target key: Decrypt, Encrypt, GenerateDataKey and ReEncryptTo, only through S3 for this bucket', () => {
    const target = roleStatements(template).find((x) => x.Sid === 'EncryptWithTheTargetKey');
    expect(actionsOf(target).sort()).toEqual(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncryptTo']);
    expect(target.Condition.StringEquals).toEqual({ 'kms:ViaService': 's3.us-east-1.amazonaws.com', 'kms:CallerAccount': '111111111111' });
    expect(roleStatements(template).flatMap(actionsOf)).not.toContain('kms:ReEncryptFrom');
  });

  test('the operation names exactly the key the bucket policy pins, with S3 Bucket Keys, and filters on no size or class', () => {
    const [input] = buildCreateJobInputs(jobParametersOf(stack, job));
    const update = input.Operation.S3UpdateObjectEncryption as any;
    const deny = bucketPolicyStatements(template, /^test-data-/).find((x) => x.Sid === 'DenyPutObjectWithAnotherKmsKey');
    expect(update).toEqual({ ObjectEncryption: { SSEKMS: { KMSKeyArn: deployed(deny.Condition.StringNotEquals['s3:x-amz-server-side-encryption-aws-kms-key-id']), BucketKeyEnabled: true } } });
    expect(input.ManifestGenerator!.S3JobManifestGenerator.Filter).toEqual({ MatchAnyObjectEncryption: [{ SSES3: {} }] });
  });

  test('the job adds no finding: four cdk-nag packs and the Control Tower controls', () => {
    expect(allFindings(stack)).toEqual(baselineFindings());
  });

  const OTHER_ACCOUNT_KEY = 'arn:aws:kms:us-east-1:222222222222:key/0b7f3c1e-2222-4e5e-9d1a-000000000002';
  const retention = { objectLockDefaultRetention: s3.ObjectLockRetention.governance(Duration.days(30)) };
  // [case, source, bucket props, job props, operation, reason]
  type JobProps = (s: Stack, b: EncryptedBucket) => Partial<ReencryptionJobProps>;
  const cases: [string, ReencryptionSource, EncryptedBucketProps, JobProps, ReencryptionOperation, RegExp][] = [
    ['SSE-S3 to SSE-KMS', ReencryptionSource.SSE_S3, {}, () => ({}), ReencryptionOperation.UPDATE_OBJECT_ENCRYPTION, /SSE-S3 to SSE-KMS in place/],
    ['key A to key B', ReencryptionSource.SSE_KMS, {}, (s) => ({ sourceKeys: [kms.Key.fromKeyArn(s, 'Old', OLD_KEY_ARN)] }),
      ReencryptionOperation.UPDATE_OBJECT_ENCRYPTION, /one KMS key to another, or S3 Bucket Keys applied/],
    ['S3 Bucket Keys applied (the same key)', ReencryptionSource.SSE_KMS, {}, (_s, b) => ({ sourceKeys: [b.bucketKey] }),
      ReencryptionOperation.UPDATE_OBJECT_ENCRYPTION, /in place/],
    ['unencrypted objects', ReencryptionSource.NOT_ENCRYPTED, {}, () => ({}), ReencryptionOperation.COPY, /^S3 UpdateObjectEncryption does not take unencrypted objects, so each/],
    ['DSSE-KMS objects to SSE-KMS', ReencryptionSource.DSSE_KMS, {}, (s) => ({ sourceKeys: [kms.Key.fromKeyArn(s, 'Old', OLD_KEY_ARN)] }),
      ReencryptionOperation.COPY, /does not take DSSE-KMS objects/],
    ['SSE-S3 to DSSE-KMS', ReencryptionSource.SSE_S3, { objectEncryption: ObjectEncryption.DSSE_KMS }, () => ({}), ReencryptionOperation.COPY, /cannot change objects to DSSE-KMS/],
    ['a target key of another account', ReencryptionSource.SSE_S3, {},
      (s) => ({ keyPrefix: 'shared/', targetKey: kms.Key.fromKeyArn(s, 'Theirs', OTHER_ACCOUNT_KEY) }), ReencryptionOperation.COPY,
      /takes KMS keys of the bucket owner's account only, and the target key is in 222222222222/],
    ['a bucket with a default Object Lock retention', ReencryptionSource.SSE_S3, retention, () => ({}), ReencryptionOperation.COPY,
      /refuses objects under an Object Lock retention, and the bucket's default retention gives every object one/],
    ['Copy forced', ReencryptionSource.SSE_S3, {}, () => ({ operation: ReencryptionOperation.COPY }), ReencryptionOperation.COPY, /operation: COPY was set/],
  ];
  test.each(cases)('%s', (_name, source, bucketProps, jobProps, operation, reason) => {
    const s = new Stack(new App(), 'Test', { env: ENV });
    const bucket = new EncryptedBucket(s, 'Data', bucketProps);
    const j = new ReencryptionJob(s, 'Reencrypt', { bucket, source, ...jobProps(s, bucket) });
    expect([j.operation, j.operationReason]).toEqual([operation, expect.stringMatching(reason)]);
    const inputs = buildCreateJobInputs(jobParametersOf(s, j));
    const expected = operation === ReencryptionOperation.COPY ? 'S3PutObjectCopy' : 'S3UpdateObjectEncryption';
    expect(inputs.map((i) => Object.keys(i.Operation))).toEqual(inputs.map(() => [expected]));
  });

  test('applying S3 Bucket Keys with the same key takes only the objects without one', () => {
    const s = new Stack(new App(), 'Test', { env: ENV });
    const bucket = new EncryptedBucket(s, 'Data');
    const j = new ReencryptionJob(s, 'Reencrypt', { bucket, source: ReencryptionSource.SSE_KMS, sourceKeys: [bucket.bucketKey] });
    const p = jobParametersOf(s, j);
    expect((buildCreateJobInputs(p)[0].ManifestGenerator!.S3JobManifestGenerator.Filter as any).MatchAnyObjectEncryption)
      .toEqual([{ SSEKMS: { KmsKeyArn: p.targetKeyArn, BucketKeyEnabled: false } }]);
  });

  test('the same key without S3 Bucket Keys is refused: those objects are already compliant', () => {
    const s = new Stack(new App(), 'Test', { env: ENV });
    const bucket = new EncryptedBucket(s, 'Data', { bucketKeyEnabled: false });
    expect(() => new ReencryptionJob(s, 'Reencrypt', { bucket, source: ReencryptionSource.SSE_KMS, sourceKeys: [bucket.bucketKey] }))
      .toThrow(/Test\/Reencrypt: invalid sourceKeys 'Test\/Data\/Key': must not contain the target key with the same algorithm when the bucket has no S3 Bucket Key/);
  });

  test('naming UPDATE_OBJECT_ENCRYPTION where S3 refuses it is an error that says why', () => {
    expect(() => make({ source: ReencryptionSource.NOT_ENCRYPTED, operation: ReencryptionOperation.UPDATE_OBJECT_ENCRYPTION }))
      .toThrow(/Test\/Reencrypt: invalid operation 'UPDATE_OBJECT_ENCRYPTION': cannot be used here: S3 UpdateObjectEncryption does not take unencrypted objects; use ReencryptionOperation.COPY/);
    expect(() => make({ operation: 'MOVE' as any })).toThrow(/invalid operation 'MOVE': must be one of UPDATE_OBJECT_ENCRYPTION, COPY/);
  });
});
