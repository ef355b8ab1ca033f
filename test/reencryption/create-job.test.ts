import { createHash } from 'node:crypto';
import * as s3control from '@aws-sdk/client-s3-control';
import { buildCreateJobInputs, ReencryptionCreateJobInput, ReencryptionJobParameters, startReencryptionJob } from '../../src/client/reencryption';
import { shapeErrors } from '../support/sdk-shape';

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

/** The generated-manifest request every job makes, with its filter. */
const generatorWith = (filter: Record<string, unknown>) => ({
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
    Filter: filter,
  },
});
const REPORT = { Enabled: true, Bucket: LOG_ARN, Prefix: 'reencryption/App/abc/reports', Format: 'Report_CSV_20180820', ReportScope: 'FailedTasksOnly' };

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
      ManifestGenerator: generatorWith({
        ObjectSizeLessThanBytes: 5 * 1024 ** 3 + 1,
        MatchAnyStorageClass: ['STANDARD'],
        MatchAnyObjectEncryption: [{ SSES3: {} }],
      }),
      Report: REPORT,
      ClientRequestToken: expect.stringMatching(/^reencrypt-[0-9a-f]{40}$/),
      Description: 'Copy SSE_S3 objects of data-bucket to SSE_KMS (11111111-2222-3333-4444-555555555555)',
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
    expect(inputs.every((i) => i.Operation.S3PutObjectCopy!.StorageClass === 'INTELLIGENT_TIERING' && i.ConfirmationRequired)).toBe(true);
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

  test('parameters written before the operation was chosen mean COPY, with the same request token as then', () => {
    const [input] = buildCreateJobInputs(PARAMS);
    expect(Object.keys(input.Operation)).toEqual(['S3PutObjectCopy']);
    expect(input.ClientRequestToken).toBe(buildCreateJobInputs({ ...PARAMS, operation: 'COPY' })[0].ClientRequestToken);
    // The hash of the fields as they were joined before the choice existed.
    const before = [BUCKET_ARN, '', 'SSE_S3', '', 'SSE_KMS', NEW_KEY, 'STANDARD', ''].join('|');
    expect(input.ClientRequestToken).toBe(`reencrypt-${createHash('sha256').update(before).digest('hex').slice(0, 40)}`);
  });

  test('an unknown source is refused with the allowed values', () => {
    expect(() => buildCreateJobInputs({ ...PARAMS, source: 'SSE_C' as any })).toThrow(/Unknown re-encryption source 'SSE_C': expected NOT_ENCRYPTED, SSE_S3, SSE_KMS or DSSE_KMS/);
  });
});

const UPDATE: ReencryptionJobParameters = { ...PARAMS, operation: 'UPDATE_OBJECT_ENCRYPTION' };

describe('buildCreateJobInputs: UpdateObjectEncryption in place', () => {
  test('SSE-S3 to SSE-KMS: the exact CreateJob request', () => {
    const [input] = buildCreateJobInputs(UPDATE);
    expect(input).toEqual({
      AccountId: '111111111111',
      ConfirmationRequired: false,
      // S3 User Guide, batch-ops-update-encryption.html, and the S3 Control API reference
      // (S3UpdateObjectEncryptionOperation, S3UpdateObjectEncryptionSSEKMS).
      Operation: { S3UpdateObjectEncryption: { ObjectEncryption: { SSEKMS: { KMSKeyArn: NEW_KEY, BucketKeyEnabled: true } } } },
      // No size limit and every storage class: nothing is copied or restored.
      ManifestGenerator: generatorWith({ MatchAnyObjectEncryption: [{ SSES3: {} }] }),
      Report: REPORT,
      ClientRequestToken: expect.stringMatching(/^reencrypt-[0-9a-f]{40}$/),
      Description: 'Update encryption of SSE_S3 objects of data-bucket to SSE_KMS (11111111-2222-3333-4444-555555555555)',
      Priority: 10,
      RoleArn: 'arn:aws:iam::111111111111:role/reencrypt',
    });
    expect(input.ClientRequestToken).not.toBe(buildCreateJobInputs(PARAMS)[0].ClientRequestToken);
  });

  test('key A to key B: one job per old key, filtered on it; a named storage class is honoured', () => {
    const inputs = buildCreateJobInputs({ ...UPDATE, source: 'SSE_KMS', sourceKeyArns: [OLD_KEY_1, OLD_KEY_2], bucketKeyEnabled: false }, { storageClass: 'DEEP_ARCHIVE' });
    expect(inputs.map((i) => i.ManifestGenerator!.S3JobManifestGenerator.Filter)).toEqual([OLD_KEY_1, OLD_KEY_2].map((k) => ({
      MatchAnyStorageClass: ['DEEP_ARCHIVE'],
      MatchAnyObjectEncryption: [{ SSEKMS: { KmsKeyArn: k } }],
    })));
    const operation = { S3UpdateObjectEncryption: { ObjectEncryption: { SSEKMS: { KMSKeyArn: NEW_KEY, BucketKeyEnabled: false } } } };
    expect(inputs.map((i) => i.Operation)).toEqual([operation, operation]);
  });

  test('S3 Bucket Keys applied: the same key, only the objects without a Bucket Key', () => {
    const [input] = buildCreateJobInputs({ ...UPDATE, source: 'SSE_KMS', sourceKeyArns: [NEW_KEY] });
    expect(input.ManifestGenerator!.S3JobManifestGenerator.Filter)
      .toEqual({ MatchAnyObjectEncryption: [{ SSEKMS: { KmsKeyArn: NEW_KEY, BucketKeyEnabled: false } }] });
  });

  test('DSSE-KMS is no target of the operation: an error, not a request S3 refuses', () => {
    expect(() => buildCreateJobInputs({ ...UPDATE, targetEncryption: 'DSSE_KMS', bucketKeyEnabled: false }))
      .toThrow('UpdateObjectEncryption changes objects to SSE-KMS only, not DSSE_KMS: use operation COPY for a DSSE-KMS bucket.');
  });
});

describe('every CreateJob request conforms to the S3 Control model of @aws-sdk/client-s3-control', () => {
  const cases: [string, ReencryptionJobParameters, Parameters<typeof buildCreateJobInputs>[1]][] = [
    ['Copy, SSE-S3 to SSE-KMS', PARAMS, {}],
    ['Copy, two old keys, prefix, class, date, every task reported', { ...PARAMS, source: 'SSE_KMS', sourceKeyArns: [OLD_KEY_1, OLD_KEY_2], keyPrefix: 't/', reportAllTasks: true },
      { storageClass: 'INTELLIGENT_TIERING', createdBefore: new Date('2026-01-01T00:00:00Z'), confirmationRequired: true }],
    ['Copy to DSSE-KMS', { ...PARAMS, source: 'SSE_KMS', sourceKeyArns: [NEW_KEY], targetEncryption: 'DSSE_KMS', bucketKeyEnabled: false }, {}],
    ['Copy of unencrypted objects', { ...PARAMS, source: 'NOT_ENCRYPTED' }, {}],
    ['Copy of DSSE-KMS objects', { ...PARAMS, source: 'DSSE_KMS', sourceKeyArns: [OLD_KEY_1] }, {}],
    ['Update, SSE-S3 to SSE-KMS', UPDATE, {}],
    ['Update, key A to key B under a prefix, archived class', { ...UPDATE, source: 'SSE_KMS', sourceKeyArns: [OLD_KEY_1], keyPrefix: 'tenant-a/' }, { storageClass: 'DEEP_ARCHIVE' }],
    ['Update, S3 Bucket Keys applied', { ...UPDATE, source: 'SSE_KMS', sourceKeyArns: [NEW_KEY] }, {}],
  ];
  const enums: [string, (i: ReencryptionCreateJobInput) => unknown, Record<string, string>][] = [
    ['ManifestFormat', (i) => (i.ManifestGenerator!.S3JobManifestGenerator.ManifestOutputLocation as any).ManifestFormat, s3control.GeneratedManifestFormat],
    ['Report.Format', (i) => i.Report.Format, s3control.JobReportFormat],
    ['Report.ReportScope', (i) => i.Report.ReportScope, s3control.JobReportScope],
  ];

  test.each(cases)('%s', (_name, params, options) => {
    for (const input of buildCreateJobInputs(params, options)) {
      expect(shapeErrors(s3control.CreateJobRequest$, input)).toEqual([]);
      for (const [, get, values] of enums) expect(Object.values(values)).toContain(get(input));
      const filter = input.ManifestGenerator!.S3JobManifestGenerator.Filter as any;
      for (const c of filter.MatchAnyStorageClass ?? []) expect(Object.values(s3control.S3StorageClass)).toContain(c);
      const copy = input.Operation.S3PutObjectCopy as any;
      if (copy) {
        expect(Object.values(s3control.S3MetadataDirective)).toContain(copy.MetadataDirective);
        if (copy.NewObjectMetadata) expect(Object.values(s3control.S3SSEAlgorithm)).toContain(copy.NewObjectMetadata.SSEAlgorithm);
      }
      // S3UpdateObjectEncryptionSSEKMS.KMSKeyArn: "Pattern: arn:aws[a-zA-Z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+".
      const update = input.Operation.S3UpdateObjectEncryption as any;
      if (update) expect(update.ObjectEncryption.SSEKMS.KMSKeyArn).toMatch(/^arn:aws[a-zA-Z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[a-zA-Z0-9-]+$/);
    }
  });

  test('the check can fail: a misspelt member, a missing required one and a second union member are each reported', () => {
    const [input] = buildCreateJobInputs(UPDATE);
    const broken = JSON.parse(JSON.stringify(input));
    broken.Operation.S3UpdateObjectEncryption.ObjectEncryption.SSEKMS = { KmsKeyArn: NEW_KEY };
    delete broken.RoleArn;
    broken.ManifestGenerator.S3JobManifestGenerator.Filter.MatchAnyObjectEncryption = [{ SSES3: {}, NOTSSE: {} }];
    expect(shapeErrors(s3control.CreateJobRequest$, broken)).toEqual([
      expect.stringMatching(/^\$\.Operation\.S3UpdateObjectEncryption\.ObjectEncryption\.SSEKMS\.KmsKeyArn: not a member of S3UpdateObjectEncryptionSSEKMS/),
      '$.Operation.S3UpdateObjectEncryption.ObjectEncryption.SSEKMS.KMSKeyArn: required by S3UpdateObjectEncryptionSSEKMS',
      '$.ManifestGenerator.S3JobManifestGenerator.Filter.MatchAnyObjectEncryption[0]: the union ObjectEncryptionFilter takes exactly one member, got 2 (SSES3, NOTSSE)',
      '$.RoleArn: required by CreateJobRequest',
    ]);
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

  test('an in-place job is started with the S3UpdateObjectEncryption operation', async () => {
    const sent: any[] = [];
    const client = { send: async (command: any) => { sent.push(command); return { JobId: 'job-1' }; } };
    await startReencryptionJob(client, UPDATE, { createJobCommand: s3control.CreateJobCommand });
    expect(sent[0]).toBeInstanceOf(s3control.CreateJobCommand);
    const operation = { S3UpdateObjectEncryption: { ObjectEncryption: { SSEKMS: { KMSKeyArn: NEW_KEY, BucketKeyEnabled: true } } } };
    expect(sent[0].input.Operation).toEqual(operation);
  });
  // Loading @aws-sdk/client-s3-control by itself, or naming it when it is missing, is proved on the
  // installed package (test/integ/package.test.ts): jest cannot run the import() it uses.
});
