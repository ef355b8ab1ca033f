import { buildCreateJobInputs, ReencryptionJobParameters, startReencryptionJob } from '../../src/client/reencryption';

const BUCKET_ARN = 'arn:aws:s3:::data-bucket';
const LOG_ARN = 'arn:aws:s3:::log-bucket';
const NEW_KEY = 'arn:aws:kms:us-east-1:111111111111:key/11111111-2222-3333-4444-555555555555';
const OLD_KEY_1 = 'arn:aws:kms:us-east-1:111111111111:key/aaaaaaaa-0000-0000-0000-000000000001';
const OLD_KEY_2 = 'arn:aws:kms:us-east-1:111111111111:key/aaaaaaaa-0000-0000-0000-000000000002';

const PARAMS: ReencryptionJobParameters = {
  accountId: '111111111111',
  region: 'us-east-1',
  roleArn: 'arn:aws:iam::111111111111:role/reencrypt',
  bucketArn: BUCKET_ARN,
  bucketName: 'data-bucket',
  keyPrefix: '',
  targetEncryption: 'SSE_KMS',
  targetKeyArn: NEW_KEY,
  bucketKeyEnabled: true,
  source: 'SSE_S3',
  sourceKeyArns: [],
  reportBucketArn: LOG_ARN,
  reportPrefix: 'reencryption/App/abc/reports',
  reportAllTasks: false,
  manifestBucketArn: LOG_ARN,
  manifestPrefix: 'reencryption/App/abc/manifests',
  inventoryManifestPrefix: 'inventory/App/def/data-bucket/EncryptionStatus/',
  priority: 10,
};

describe('buildCreateJobInputs', () => {
  test('SSE-S3 to SSE-KMS: the exact CreateJob request', () => {
    const inputs = buildCreateJobInputs(PARAMS);
    expect(inputs).toHaveLength(1);
    expect(inputs[0]).toEqual({
      AccountId: '111111111111',
      ConfirmationRequired: false,
      Operation: {
        S3PutObjectCopy: {
          TargetResource: BUCKET_ARN,
          MetadataDirective: 'COPY',
          StorageClass: 'STANDARD',
          SSEAwsKmsKeyId: NEW_KEY,
          BucketKeyEnabled: true,
          NewObjectMetadata: { SSEAlgorithm: 'KMS' },
        },
      },
      ManifestGenerator: {
        S3JobManifestGenerator: {
          ExpectedBucketOwner: '111111111111',
          SourceBucket: BUCKET_ARN,
          EnableManifestOutput: true,
          ManifestOutputLocation: {
            ExpectedManifestBucketOwner: '111111111111',
            Bucket: LOG_ARN,
            ManifestPrefix: 'reencryption/App/abc/manifests',
            ManifestFormat: 'S3InventoryReport_CSV_20211130',
          },
          Filter: {
            ObjectSizeLessThanBytes: 5 * 1024 ** 3 + 1,
            MatchAnyStorageClass: ['STANDARD'],
            MatchAnyObjectEncryption: [{ SSES3: {} }],
          },
        },
      },
      Report: {
        Enabled: true,
        Bucket: LOG_ARN,
        Prefix: 'reencryption/App/abc/reports',
        Format: 'Report_CSV_20180820',
        ReportScope: 'FailedTasksOnly',
      },
      ClientRequestToken: expect.stringMatching(/^reencrypt-[0-9a-f]{40}$/),
      Description: 'Re-encrypt SSE_S3 objects of data-bucket to SSE_KMS (11111111-2222-3333-4444-555555555555)',
      Priority: 10,
      RoleArn: 'arn:aws:iam::111111111111:role/reencrypt',
    });
  });

  test('one CMK to another: one job per old key, each filtered on its key, with prefix, class and date', () => {
    const inputs = buildCreateJobInputs(
      { ...PARAMS, source: 'SSE_KMS', sourceKeyArns: [OLD_KEY_1, OLD_KEY_2], keyPrefix: 'tenant-a/', reportAllTasks: true },
      { storageClass: 'INTELLIGENT_TIERING', createdBefore: new Date('2026-01-01T00:00:00Z'), confirmationRequired: true },
    );
    expect(inputs.map((i) => (i.ManifestGenerator!.S3JobManifestGenerator.Filter))).toEqual([1, 2].map((n) => ({
      ObjectSizeLessThanBytes: 5368709121,
      MatchAnyStorageClass: ['INTELLIGENT_TIERING'],
      MatchAnyObjectEncryption: [{ SSEKMS: { KmsKeyArn: n === 1 ? OLD_KEY_1 : OLD_KEY_2 } }],
      KeyNameConstraint: { MatchAnyPrefix: ['tenant-a/'] },
      CreatedBefore: new Date('2026-01-01T00:00:00Z'),
    })));
    expect(inputs.every((i) => i.Operation.S3PutObjectCopy.StorageClass === 'INTELLIGENT_TIERING' && i.ConfirmationRequired)).toBe(true);
    expect(inputs[0].Report.ReportScope).toBe('AllTasks');
    expect(inputs[0].ClientRequestToken).not.toBe(inputs[1].ClientRequestToken);
  });

  test('SSE-KMS to DSSE-KMS: the copy names no encryption so the bucket default applies', () => {
    const [input] = buildCreateJobInputs({ ...PARAMS, source: 'SSE_KMS', sourceKeyArns: [NEW_KEY], targetEncryption: 'DSSE_KMS', bucketKeyEnabled: false });
    expect(input.Operation.S3PutObjectCopy).toEqual({ TargetResource: BUCKET_ARN, MetadataDirective: 'COPY', StorageClass: 'STANDARD' });
    expect(input.ManifestGenerator!.S3JobManifestGenerator.Filter).toMatchObject({ MatchAnyObjectEncryption: [{ SSEKMS: { KmsKeyArn: NEW_KEY } }] });
  });

  test('unencrypted objects are filtered with NOTSSE', () => {
    const [input] = buildCreateJobInputs({ ...PARAMS, source: 'NOT_ENCRYPTED' });
    expect(input.ManifestGenerator!.S3JobManifestGenerator.Filter).toMatchObject({ MatchAnyObjectEncryption: [{ NOTSSE: {} }] });
  });

  test('the request token is stable for the same inputs, so a retried start is idempotent', () => {
    expect(buildCreateJobInputs(PARAMS)[0].ClientRequestToken).toBe(buildCreateJobInputs({ ...PARAMS })[0].ClientRequestToken);
    expect(buildCreateJobInputs(PARAMS)[0].ClientRequestToken).not.toBe(buildCreateJobInputs({ ...PARAMS, keyPrefix: 'x/' })[0].ClientRequestToken);
  });

  test('an unknown source is refused with the allowed values', () => {
    expect(() => buildCreateJobInputs({ ...PARAMS, source: 'SSE_C' as any })).toThrow(/Unknown re-encryption source 'SSE_C': expected NOT_ENCRYPTED, SSE_S3, SSE_KMS or DSSE_KMS/);
  });
});

describe('startReencryptionJob', () => {
  class FakeCreateJobCommand {
    constructor(public readonly input: any) {}
  }

  test('sends one CreateJob per source key and returns the job ids', async () => {
    const sent: any[] = [];
    const client = { send: async (command: any) => { sent.push(command); return { JobId: `job-${sent.length}` }; } };
    const params: ReencryptionJobParameters = { ...PARAMS, source: 'SSE_KMS', sourceKeyArns: [OLD_KEY_1, OLD_KEY_2] };
    const jobs = await startReencryptionJob(client, params, { createJobCommand: FakeCreateJobCommand });
    expect(jobs.map((j) => j.jobId)).toEqual(['job-1', 'job-2']);
    expect(sent.every((c) => c instanceof FakeCreateJobCommand)).toBe(true);
    const filters = sent.map((c) => c.input.ManifestGenerator.S3JobManifestGenerator.Filter);
    expect(filters.map((f) => f.MatchAnyObjectEncryption[0].SSEKMS.KmsKeyArn)).toEqual([OLD_KEY_1, OLD_KEY_2]);
  });

  test('a response without a job id is an error', async () => {
    const client = { send: async () => ({}) };
    await expect(startReencryptionJob(client, PARAMS, { createJobCommand: FakeCreateJobCommand })).rejects.toThrow(/CreateJob returned no JobId/);
  });

  test('without the S3 Control SDK and no command class, the error says what to install', async () => {
    const client = { send: async () => ({ JobId: 'x' }) };
    await expect(startReencryptionJob(client, PARAMS)).rejects.toThrow(/npm install @aws-sdk\/client-s3-control/);
  });
});
