import { Aws, CfnOutput, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { buildCreateJobInputs, ReencryptionJobParameters } from './create-job';
import { EncryptedBucket, ObjectEncryption } from '../bucket/encrypted-bucket';
import { iamDescription } from '../internal/names';
import { checkIntRange, invalidProp, warnWeakened } from '../internal/validation';
import { renderStatements, s3UsageConditions } from '../keys/key-policy';

/**
 * How the objects to re-encrypt are encrypted today: the filter of the generated manifest, so
 * objects already under the bucket's current encryption are never copied.
 */
export enum ReencryptionSource {
  /** Objects with no server-side encryption (written before default encryption existed). */
  NOT_ENCRYPTED = 'NOT_ENCRYPTED',
  /** Objects encrypted with S3 managed keys (SSE-S3). */
  SSE_S3 = 'SSE_S3',
  /** Objects encrypted with SSE-KMS under one of `sourceKeys` (a key change, or a tenant moving tiers). */
  SSE_KMS = 'SSE_KMS',
  /** Objects encrypted with DSSE-KMS under one of `sourceKeys`. */
  DSSE_KMS = 'DSSE_KMS',
}

/**
 * Properties of a ReencryptionJob.
 */
export interface ReencryptionJobProps {
  /**
   * The bucket whose existing objects are re-encrypted, in place, to its current default encryption.
   */
  readonly bucket: EncryptedBucket;

  /**
   * How the objects to re-encrypt are encrypted today.
   */
  readonly source: ReencryptionSource;

  /**
   * The KMS keys the objects are encrypted with today; the job's role may decrypt with them, only
   * through S3 and only for this bucket. Required for SSE_KMS and DSSE_KMS sources.
   *
   * @default - none (SSE_S3 and NOT_ENCRYPTED sources need no key)
   */
  readonly sourceKeys?: kms.IKey[];

  /**
   * Only objects under this key prefix are re-encrypted (for example one tenant's prefix).
   *
   * @default - the whole bucket
   */
  readonly keyPrefix?: string;

  /**
   * The key the copies are encrypted with. It must be a key the bucket policy accepts for
   * `keyPrefix`, such as a tenant's key wired to its prefix.
   *
   * @default - the bucket's own key (`bucket.bucketKey`)
   */
  readonly targetKey?: kms.IKey;

  /**
   * Whether the completion report lists every task, not only the failed ones. A report of every
   * task of a million-object job is a few hundred MB of CSV.
   *
   * @default false
   */
  readonly reportAllTasks?: boolean;

  /**
   * Priority of the job among the account's Batch Operations jobs (0 to 2147483647, higher first).
   *
   * @default 10
   */
  readonly priority?: number;

  /**
   * How often the S3 Inventory that lists the objects with their encryption status runs, when the
   * bucket does not already have one.
   *
   * @default s3.InventoryFrequency.WEEKLY
   */
  readonly inventoryFrequency?: s3.InventoryFrequency;
}

const INVENTORY_ID = 'Reencryption';
const OBJECT_READ_ACTIONS = ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectTagging', 's3:GetObjectVersionTagging'];
const OBJECT_WRITE_ACTIONS = ['s3:PutObject', 's3:PutObjectTagging'];
const KMS_SOURCE_ACTIONS = ['kms:Decrypt'];
// S3 calls GenerateDataKey for the new object and Decrypt to reuse a cached S3 Bucket Key.
const KMS_TARGET_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey'];

/**
 * What an S3 Batch Operations job needs to re-encrypt the existing objects of an EncryptedBucket
 * after an encryption or key change, by copying each object onto itself with the bucket's current
 * encryption: the IAM role (trusted by `batchoperations.s3.amazonaws.com`, with only the S3 and
 * KMS permissions the copy needs), the bucket-policy and key-policy statements for it, the S3
 * Inventory with encryption status, locations for the generated manifest and the completion
 * report in the log bucket, and outputs from which `startReencryptionJob` (in
 * `cdk-s3-encryption/client`) or the printed `aws s3control create-job` command starts the job.
 *
 * Batch Operations jobs are not a CloudFormation resource, so the job itself is started after
 * deploy. SSE-C objects cannot be read by Batch Operations: re-key them with `rekeyPrefix` from
 * `cdk-s3-encryption/client`.
 *
 * @example
 * const job = new ReencryptionJob(this, 'FromSseS3', { bucket, source: ReencryptionSource.SSE_S3 });
 */
export class ReencryptionJob extends Construct {
  /** The role Batch Operations assumes to run the job. */
  public readonly role: iam.Role;
  /** The customer-managed policy of the role. */
  public readonly policy: iam.ManagedPolicy;
  /** The bucket that receives the generated manifests and the completion reports. */
  public readonly reportBucket: s3.IBucket;
  /** Key prefix of the completion reports in `reportBucket`. */
  public readonly reportPrefix: string;
  /** Key prefix of the generated manifests in `reportBucket`. */
  public readonly manifestPrefix: string;
  /** Key prefix under which S3 Inventory writes the `manifest.json` of each inventory report. */
  public readonly inventoryManifestPrefix: string;
  /** The key the copies are encrypted with. */
  public readonly targetKey: kms.IKey;
  /** Everything `startReencryptionJob` needs, as one JSON string (also the `JobParameters` output). */
  public readonly jobParameters: string;

  constructor(scope: Construct, id: string, props: ReencryptionJobProps) {
    super(scope, id);
    const { bucket } = props;
    const stack = Stack.of(this);
    this.validate(props);

    const sourceKeys = props.sourceKeys ?? [];
    const prefix = props.keyPrefix ?? '';
    this.targetKey = props.targetKey ?? bucket.bucketKey;
    this.reportBucket = bucket.accessLogsBucket;
    const base = `reencryption/${stack.stackName}/${this.node.addr}`;
    this.reportPrefix = `${base}/reports`;
    this.manifestPrefix = `${base}/manifests`;

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('batchoperations.s3.amazonaws.com'),
      // IAM takes Latin-1 role descriptions only; an object-key prefix may hold any character.
      description: iamDescription(`S3 Batch Operations re-encrypting ${prefix ? `s3://.../${prefix}` : 'the objects'} of ${bucket.node.path}`),
    });

    const inventory = this.encryptionInventory(bucket, props.inventoryFrequency);
    this.inventoryManifestPrefix = inventory.manifestPrefix;

    // Bucket-level actions name the bucket itself; object-level ones sit in bucket policies so the role holds no object wildcard.
    const statements: iam.PolicyStatement[] = [
      new iam.PolicyStatement({
        sid: 'ListAndGenerateManifestOfTheBucket',
        actions: ['s3:ListBucket', 's3:PutInventoryConfiguration'],
        resources: [bucket.bucketArn],
      }),
      new iam.PolicyStatement({
        sid: 'EncryptCopiesWithTheTargetKey',
        actions: KMS_TARGET_ACTIONS,
        resources: [this.targetKey.keyArn],
        conditions: s3UsageConditions([bucket.stableBucketArn], stack.region, stack.account),
      }),
    ];
    if (sourceKeys.length > 0) {
      statements.push(new iam.PolicyStatement({
        sid: 'DecryptObjectsWithTheSourceKeys',
        actions: KMS_SOURCE_ACTIONS,
        resources: sourceKeys.map((k) => k.keyArn),
        conditions: s3UsageConditions([bucket.stableBucketArn], stack.region, stack.account),
      }));
    }
    const logKey = this.reportBucket.encryptionKey;
    if (logKey) {
      statements.push(new iam.PolicyStatement({
        sid: 'ReadManifestsAndWriteReportsWithTheLogKey',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [logKey.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com`, 'kms:CallerAccount': stack.account },
        },
      }));
    }

    const objects = prefix ? bucket.arnForObjects(`${prefix}*`) : bucket.arnForObjects('*');
    bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: `ReencryptionJob${this.node.addr}CopiesObjectsOntoThemselves`,
      principals: [new iam.ArnPrincipal(this.role.roleArn)],
      actions: [...OBJECT_READ_ACTIONS, ...OBJECT_WRITE_ACTIONS],
      resources: [objects],
    }));

    const logStatements = [
      new iam.PolicyStatement({
        sid: `ReencryptionJob${this.node.addr}WritesManifestsAndReports`,
        principals: [new iam.ArnPrincipal(this.role.roleArn)],
        actions: ['s3:PutObject'],
        resources: [this.reportBucket.arnForObjects(`${base}/*`)],
      }),
      new iam.PolicyStatement({
        sid: `ReencryptionJob${this.node.addr}ReadsManifests`,
        principals: [new iam.ArnPrincipal(this.role.roleArn)],
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [this.reportBucket.arnForObjects(`${this.manifestPrefix}/*`), this.reportBucket.arnForObjects(`${inventory.manifestPrefix}*`)],
      }),
    ];
    for (const st of logStatements) {
      const added = this.reportBucket.addToResourcePolicy(st);
      if (!added.statementAdded) {
        // An imported log bucket has no policy here: the role itself must carry the statement.
        statements.push(new iam.PolicyStatement({ actions: st.actions, resources: st.resources }));
      }
    }

    // A customer-managed policy: no inline policy (IAMNoInlinePolicy), no AWS-managed policy (AwsSolutions-IAM4).
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: `S3 Batch Operations copy in place of ${bucket.node.path}, with KMS scoped to S3 and this bucket`,
      statements,
      roles: [this.role],
    });

    this.grantKeyPolicies(bucket, sourceKeys);

    const targetEncryption = bucket.objectEncryption === ObjectEncryption.DSSE_KMS ? 'DSSE_KMS' : 'SSE_KMS';
    const bucketCfn = bucket.node.defaultChild as s3.CfnBucket;
    const encryptionConfig = Stack.of(bucket).resolve(bucketCfn.bucketEncryption);
    const bucketKeyEnabled = targetEncryption === 'SSE_KMS'
      && encryptionConfig?.serverSideEncryptionConfiguration?.[0]?.bucketKeyEnabled !== false;
    const parameters: ReencryptionJobParameters = {
      accountId: stack.account,
      region: stack.region,
      roleArn: this.role.roleArn,
      bucketArn: bucket.bucketArn,
      bucketName: bucket.bucketName,
      keyPrefix: prefix,
      targetEncryption,
      targetKeyArn: this.targetKey.keyArn,
      bucketKeyEnabled,
      source: props.source as `${ReencryptionSource}` as ReencryptionJobParameters['source'],
      sourceKeyArns: sourceKeys.map((k) => k.keyArn),
      reportBucketArn: this.reportBucket.bucketArn,
      reportPrefix: this.reportPrefix,
      reportAllTasks: props.reportAllTasks ?? false,
      manifestBucketArn: this.reportBucket.bucketArn,
      manifestPrefix: this.manifestPrefix,
      inventoryManifestPrefix: inventory.manifestPrefix,
      priority: props.priority ?? 10,
    };
    this.jobParameters = stack.toJsonString(parameters);

    new CfnOutput(this, 'JobParameters', {
      description: 'Input of startReencryptionJob (cdk-s3-encryption/client): JSON.parse this value',
      value: this.jobParameters,
    });
    new CfnOutput(this, 'RoleArn', { description: 'Role of the S3 Batch Operations re-encryption job', value: this.role.roleArn });
    new CfnOutput(this, 'TargetKeyArn', { description: 'KMS key the copies are encrypted with', value: this.targetKey.keyArn });
    new CfnOutput(this, 'ReportLocation', {
      description: 'Where the completion reports are written',
      value: `s3://${this.reportBucket.bucketName}/${this.reportPrefix}/`,
    });
    new CfnOutput(this, 'InventoryManifestLocation', {
      description: 'Where S3 Inventory writes manifest.json (with each object\'s encryption status)',
      value: `s3://${this.reportBucket.bucketName}/${inventory.manifestPrefix}`,
    });
    // One command per source key: a generated manifest filters on a single key.
    buildCreateJobInputs(parameters, { clientRequestToken: 'TOKEN', description: `Re-encrypt ${props.source} objects of ${bucket.node.path} to ${targetEncryption}` }).forEach((input, i, all) => {
      const { AccountId: _account, ClientRequestToken: _token, ...cli } = input;
      new CfnOutput(this, all.length > 1 ? `CreateJobCommand${i + 1}` : 'CreateJobCommand', {
        description: 'Starts the Batch Operations job with the AWS CLI (STANDARD objects up to 5 GiB; see the docs for the others)',
        value: `aws s3control create-job --region ${stack.region} --account-id ${stack.account} --cli-input-json '${stack.toJsonString(cli)}'`,
      });
    });
  }

  private validate(props: ReencryptionJobProps): void {
    const { bucket, source } = props;
    if (!(bucket instanceof EncryptedBucket)) {
      invalidProp(this, 'bucket', (bucket as Construct | undefined)?.node?.path, 'must be an EncryptedBucket');
    }
    if (bucket.objectEncryption === ObjectEncryption.SSE_C) {
      invalidProp(this, 'bucket', bucket.node.path,
        'uses ObjectEncryption.SSE_C: Batch Operations cannot read or write SSE-C objects; re-key them with rekeyPrefix from cdk-s3-encryption/client');
    }
    if (!Object.values(ReencryptionSource).includes(source)) {
      invalidProp(this, 'source', source, `must be one of ${Object.values(ReencryptionSource).join(', ')}`);
    }
    const keys = props.sourceKeys ?? [];
    const kmsSource = source === ReencryptionSource.SSE_KMS || source === ReencryptionSource.DSSE_KMS;
    if (kmsSource && keys.length === 0) {
      invalidProp(this, 'sourceKeys', '[]', `must name at least one key when source is ${source}: the job must decrypt the objects it copies`);
    }
    if (!kmsSource && keys.length > 0) {
      invalidProp(this, 'sourceKeys', keys.map((k) => k.node.path), `must be empty when source is ${source}: those objects need no KMS key to read`);
    }
    const target = props.targetKey ?? bucket.bucketKey;
    const sameKey = keys.find((k) => k === target || (!Token.isUnresolved(k.keyArn) && k.keyArn === target.keyArn));
    const targetAlgorithmMatches = (source === ReencryptionSource.SSE_KMS && bucket.objectEncryption !== ObjectEncryption.DSSE_KMS)
      || (source === ReencryptionSource.DSSE_KMS && bucket.objectEncryption === ObjectEncryption.DSSE_KMS);
    if (sameKey && targetAlgorithmMatches) {
      invalidProp(this, 'sourceKeys', sameKey.node.path, 'must not contain the target key with the same algorithm: those objects are already compliant');
    }
    checkIntRange(this, 'priority', props.priority, 0, 2147483647);
    const prefix = props.keyPrefix;
    if (prefix !== undefined && !Token.isUnresolved(prefix) && (prefix.length === 0 || prefix.length > 1024 || prefix.startsWith('/') || prefix.includes('*'))) {
      invalidProp(this, 'keyPrefix', prefix, 'must be 1 to 1024 characters, not start with "/" and contain no "*"');
    }
    if (props.targetKey && props.targetKey !== bucket.bucketKey && !props.keyPrefix) {
      invalidProp(this, 'targetKey', props.targetKey.node.path, 'needs keyPrefix: the bucket policy denies every key but the bucket\'s own outside a prefix wired to another key');
    }
  }

  /**
   * The bucket's inventory with encryption status: reused when the bucket has one (EncryptedBucket
   * makes one by default), added otherwise.
   */
  private encryptionInventory(bucket: EncryptedBucket, frequency?: s3.InventoryFrequency): { manifestPrefix: string } {
    const cfn = bucket.node.defaultChild as s3.CfnBucket;
    const current = cfn.inventoryConfigurations;
    const list = Array.isArray(current) ? current as s3.CfnBucket.InventoryConfigurationProperty[] : [];
    if (current !== undefined && !Array.isArray(current)) {
      invalidProp(this, 'bucket', bucket.node.path, 'has inventory configurations this construct cannot read (a token); set them as a list');
    }
    const existing = list.find((c) => !Token.isUnresolved(c) && c.enabled !== false
      && Array.isArray(c.optionalFields) && c.optionalFields.includes('EncryptionStatus')
      && (c.destination as s3.CfnBucket.DestinationProperty | undefined)?.bucketArn === bucket.accessLogsBucket.bucketArn);
    if (existing) {
      const dest = existing.destination as s3.CfnBucket.DestinationProperty;
      return { manifestPrefix: `${dest.prefix ? `${dest.prefix}/` : ''}${bucket.bucketName}/${existing.id}/` };
    }
    if (!list.some((c) => c.id === INVENTORY_ID)) {
      const prefix = `reencryption/${Stack.of(this).stackName}/${this.node.addr}/inventory`;
      list.push({
        id: INVENTORY_ID,
        enabled: true,
        includedObjectVersions: 'Current',
        scheduleFrequency: frequency ?? s3.InventoryFrequency.WEEKLY,
        optionalFields: ['EncryptionStatus', 'BucketKeyStatus', 'Size', 'StorageClass', 'ETag', 'ObjectLockMode', 'ObjectLockRetainUntilDate'],
        destination: { bucketArn: bucket.accessLogsBucket.bucketArn, format: 'CSV', prefix, bucketAccountId: Aws.ACCOUNT_ID },
      });
      cfn.inventoryConfigurations = list;
      bucket.accessLogsBucket.addToResourcePolicy(new iam.PolicyStatement({
        sid: `S3InventoryForReencryption${this.node.addr}`,
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [bucket.accessLogsBucket.arnForObjects(`${prefix}/*`)],
        conditions: {
          ArnLike: { 'aws:SourceArn': bucket.bucketArn },
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID, 's3:x-amz-acl': 'bucket-owner-full-control' },
        },
      }));
      return { manifestPrefix: `${prefix}/${bucket.bucketName}/${INVENTORY_ID}/` };
    }
    return invalidProp(this, 'bucket', bucket.node.path, `already has an inventory configuration '${INVENTORY_ID}' without EncryptionStatus`);
  }

  /** Key-policy side of the KMS permissions, for keys of this app; printed for imported keys. */
  private grantKeyPolicies(bucket: EncryptedBucket, sourceKeys: kms.IKey[]): void {
    const scoped = s3UsageConditions([bucket.stableBucketArn], Stack.of(this).region, Stack.of(this).account);
    const principal = new iam.ArnPrincipal(this.role.roleArn);
    const pending: iam.PolicyStatement[] = [];
    const add = (key: kms.IKey, sid: string, actions: string[]) => {
      const statement = new iam.PolicyStatement({ sid, principals: [principal], actions, resources: ['*'], conditions: scoped });
      if (key instanceof kms.Key) key.addToResourcePolicy(statement);
      else pending.push(statement);
    };
    // The bucket's own key already lets the account use it through S3 for this bucket; the role's policy is enough.
    if (this.targetKey !== bucket.bucketKey) add(this.targetKey, `ReencryptionJob${this.node.addr}EncryptsCopies`, KMS_TARGET_ACTIONS);
    sourceKeys.forEach((key, i) => add(key, `ReencryptionJob${this.node.addr}DecryptsSource${i + 1}`, KMS_SOURCE_ACTIONS));
    if (pending.length > 0) {
      warnWeakened(this, 'sourceKeys',
        `imported keys cannot be changed from this app; add these statements to their key policies so the job can use them through S3 for this bucket only: ${renderStatements(this, pending)}`,
        []);
    }
  }
}
