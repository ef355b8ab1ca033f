import { Aws, CfnOutput, Stack, Token, TokenComparison } from 'aws-cdk-lib';
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
 * How S3 Batch Operations re-encrypts each object.
 */
export enum ReencryptionOperation {
  /**
   * S3's UpdateObjectEncryption, in place: "without any data movement", keeping the storage class,
   * creation and last-modified dates, ETag and checksums, with no restore of archived objects and no
   * size limit (S3 User Guide, update-sse-encryption.html). Source objects under SSE-S3 or SSE-KMS
   * only; target SSE-KMS only, under a key of the bucket owner's account; objects under an Object
   * Lock retention or legal hold are refused.
   */
  UPDATE_OBJECT_ENCRYPTION = 'UPDATE_OBJECT_ENCRYPTION',
  /**
   * Batch Operations Copy of each object onto itself: a new version of every object (the old one is
   * kept, and paid for, until it expires), objects up to 5 GiB, archived objects restored first.
   * Works from any source to SSE-KMS or DSSE-KMS, and on locked objects (the copy is a new version).
   */
  COPY = 'COPY',
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
   * The key the objects are re-encrypted with. It must be a key the bucket policy accepts for
   * `keyPrefix`, such as a tenant's key wired to its prefix.
   *
   * @default - the bucket's own key (`bucket.bucketKey`)
   */
  readonly targetKey?: kms.IKey;

  /**
   * The operation of the job. Set `ReencryptionOperation.COPY` to copy even where S3 could update in
   * place (for example to get a new version of every object); naming UPDATE_OBJECT_ENCRYPTION where
   * S3 refuses it is an error that says why.
   *
   * @default - UPDATE_OBJECT_ENCRYPTION wherever S3 supports it (SSE-S3 or SSE-KMS objects to SSE-KMS
   * under a key of this account, on a bucket without a default Object Lock retention), COPY otherwise;
   * the choice and its reason are in `operation`, `operationReason` and the `Operation` output
   */
  readonly operation?: ReencryptionOperation;

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
/** The object actions and KMS actions of each operation. */
interface OperationPermissions {
  readonly objectActions: string[];
  readonly sourceKeyActions: string[];
  readonly targetKeyActions: string[];
}
const PERMISSIONS: Record<ReencryptionOperation, OperationPermissions> = {
  [ReencryptionOperation.COPY]: {
    objectActions: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectTagging', 's3:GetObjectVersionTagging', 's3:PutObject', 's3:PutObjectTagging'],
    sourceKeyActions: ['kms:Decrypt'],
    // S3 calls GenerateDataKey for the new object and Decrypt to reuse a cached S3 Bucket Key.
    targetKeyActions: ['kms:Decrypt', 'kms:GenerateDataKey'],
  },
  [ReencryptionOperation.UPDATE_OBJECT_ENCRYPTION]: {
    // S3 User Guide, batch-ops-iam-role-policies.html, "Update object encryption": the role needs
    // "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject" and "s3:UpdateObjectEncryption" on the
    // objects, and "kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:ReEncrypt*" on the key.
    // (The UpdateObjectEncryption API reference lists no s3:PutObject; the role page does, and a job
    // whose role lacks a permission fails each task, so the role page wins.)
    objectActions: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:UpdateObjectEncryption'],
    // The role page names one key. KMS API Reference, ReEncrypt: it needs "kms:ReEncryptFrom permission
    // on the source KMS key" and "kms:ReEncryptTo permission on the destination KMS key", so the old
    // key only decrypts and re-encrypts from, and encrypting is the new key's alone.
    sourceKeyActions: ['kms:Decrypt', 'kms:ReEncryptFrom'],
    targetKeyActions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncryptTo'],
  },
};

/**
 * What an S3 Batch Operations job needs to re-encrypt the existing objects of an EncryptedBucket
 * after an encryption or key change: in place with S3's UpdateObjectEncryption wherever S3 takes
 * it (SSE-S3 or SSE-KMS objects to SSE-KMS under a key of the bucket's account), by copying each
 * object onto itself otherwise (see `operation`). It makes the IAM role (trusted by
 * `batchoperations.s3.amazonaws.com`, with only the S3 and KMS permissions of the chosen
 * operation), the bucket-policy and key-policy statements for it, the S3
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
  /** The key the objects are re-encrypted with. */
  public readonly targetKey: kms.IKey;
  /** The operation of the job, chosen from the source and target or given in `operation`. */
  public readonly operation: ReencryptionOperation;
  /** Why the job uses `operation`. */
  public readonly operationReason: string;
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
    const chosen = this.chooseOperation(props);
    this.operation = chosen.operation;
    this.operationReason = chosen.reason;
    const permissions = PERMISSIONS[this.operation];
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
        sid: 'EncryptWithTheTargetKey',
        actions: permissions.targetKeyActions,
        resources: [this.targetKey.keyArn],
        conditions: s3UsageConditions([bucket.stableBucketArn], stack.region, stack.account),
      }),
    ];
    if (sourceKeys.length > 0) {
      statements.push(new iam.PolicyStatement({
        sid: 'DecryptObjectsWithTheSourceKeys',
        actions: permissions.sourceKeyActions,
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
      sid: `ReencryptionJob${this.node.addr}${this.operation === ReencryptionOperation.COPY ? 'CopiesObjectsOntoThemselves' : 'UpdatesObjectEncryption'}`,
      principals: [new iam.ArnPrincipal(this.role.roleArn)],
      actions: permissions.objectActions,
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
      description: `S3 Batch Operations ${this.operation === ReencryptionOperation.COPY ? 'copy in place' : 'UpdateObjectEncryption'} of ${bucket.node.path}, `
        + 'with KMS scoped to S3 and this bucket',
      statements,
      roles: [this.role],
    });

    this.grantKeyPolicies(bucket, sourceKeys, permissions);

    const targetEncryption = bucket.objectEncryption === ObjectEncryption.DSSE_KMS ? 'DSSE_KMS' : 'SSE_KMS';
    const bucketKeyEnabled = targetEncryption === 'SSE_KMS' && bucketKeysOn(bucket);
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
      operation: this.operation,
      operationReason: this.operationReason,
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
    new CfnOutput(this, 'Operation', {
      description: 'The S3 Batch Operations operation of the job, and why',
      value: `${this.operation}: ${this.operationReason}`,
    });
    new CfnOutput(this, 'RoleArn', { description: 'Role of the S3 Batch Operations re-encryption job', value: this.role.roleArn });
    new CfnOutput(this, 'TargetKeyArn', { description: 'KMS key the objects are re-encrypted with', value: this.targetKey.keyArn });
    new CfnOutput(this, 'ReportLocation', {
      description: 'Where the completion reports are written',
      value: `s3://${this.reportBucket.bucketName}/${this.reportPrefix}/`,
    });
    new CfnOutput(this, 'InventoryManifestLocation', {
      description: 'Where S3 Inventory writes manifest.json (with each object\'s encryption status)',
      value: `s3://${this.reportBucket.bucketName}/${inventory.manifestPrefix}`,
    });
    // One command per source key: a generated manifest filters on a single key.
    const verb = this.operation === ReencryptionOperation.COPY ? 'Copy' : 'Update encryption of';
    buildCreateJobInputs(parameters, { clientRequestToken: 'TOKEN', description: `${verb} ${props.source} objects of ${bucket.node.path} to ${targetEncryption}` }).forEach((input, i, all) => {
      const { AccountId: _account, ClientRequestToken: _token, ...cli } = input;
      new CfnOutput(this, all.length > 1 ? `CreateJobCommand${i + 1}` : 'CreateJobCommand', {
        description: this.operation === ReencryptionOperation.COPY
          ? 'Starts the Batch Operations Copy job with the AWS CLI (STANDARD objects up to 5 GiB; see the docs for the others)'
          : 'Starts the Batch Operations UpdateObjectEncryption job with the AWS CLI (objects of every size and storage class)',
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
    // The same key and algorithm is a job only when it applies S3 Bucket Keys to objects without one.
    if (sameKey && targetAlgorithmMatches && !(source === ReencryptionSource.SSE_KMS && bucketKeysOn(bucket))) {
      invalidProp(this, 'sourceKeys', sameKey.node.path,
        'must not contain the target key with the same algorithm when the bucket has no S3 Bucket Key: those objects are already compliant');
    }
    if (props.operation !== undefined && !Object.values(ReencryptionOperation).includes(props.operation)) {
      invalidProp(this, 'operation', props.operation, `must be one of ${Object.values(ReencryptionOperation).join(', ')}`);
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
   * UpdateObjectEncryption wherever S3 takes it, from the S3 User Guide (update-sse-encryption.html):
   * "Source objects that are unencrypted, or encrypted with either dual-layer server-side encryption
   * with KMS keys (DSSE-KMS) or server-side encryption with customer-provided keys (SSE-C) aren't
   * supported"; the operation "doesn't support updating the encryption type to DSSE-KMS or SSE-C";
   * requests are "restricted to KMS keys that are owned by the bucket owner's AWS account"; and it
   * "fails on any object that has an S3 Object Lock retention mode or legal hold applied to it".
   */
  private chooseOperation(props: ReencryptionJobProps): { operation: ReencryptionOperation; reason: string } {
    const { bucket, source } = props;
    const stack = Stack.of(this);
    const keyAccount = this.targetKey.env.account;
    const refusal = source === ReencryptionSource.NOT_ENCRYPTED
      ? 'S3 UpdateObjectEncryption does not take unencrypted objects'
      : source === ReencryptionSource.DSSE_KMS
        ? 'S3 UpdateObjectEncryption does not take DSSE-KMS objects'
        : bucket.objectEncryption === ObjectEncryption.DSSE_KMS
          ? 'S3 UpdateObjectEncryption cannot change objects to DSSE-KMS'
          : Token.compareStrings(keyAccount, stack.account) === TokenComparison.DIFFERENT
            ? `S3 UpdateObjectEncryption takes KMS keys of the bucket owner's account only, and the target key is in ${keyAccount}`
            : defaultRetention(bucket)
              ? 'S3 UpdateObjectEncryption refuses objects under an Object Lock retention, and the bucket\'s default retention gives every object one'
              : undefined;
    if (props.operation === ReencryptionOperation.UPDATE_OBJECT_ENCRYPTION && refusal) {
      invalidProp(this, 'operation', props.operation, `cannot be used here: ${refusal}; use ReencryptionOperation.COPY or leave operation unset`);
    }
    if (props.operation === ReencryptionOperation.COPY) {
      return { operation: ReencryptionOperation.COPY, reason: 'operation: COPY was set (each object is copied onto itself as a new version)' };
    }
    if (refusal) return { operation: ReencryptionOperation.COPY, reason: `${refusal}, so each object is copied onto itself as a new version` };
    const what = source === ReencryptionSource.SSE_S3 ? 'SSE-S3 to SSE-KMS' : 'one KMS key to another, or S3 Bucket Keys applied';
    return {
      operation: ReencryptionOperation.UPDATE_OBJECT_ENCRYPTION,
      reason: `S3 changes ${what} in place, with no data movement: no new version, no size limit, no restore of archived objects, metadata kept`,
    };
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
  private grantKeyPolicies(bucket: EncryptedBucket, sourceKeys: kms.IKey[], permissions: OperationPermissions): void {
    const scoped = s3UsageConditions([bucket.stableBucketArn], Stack.of(this).region, Stack.of(this).account);
    const principal = new iam.ArnPrincipal(this.role.roleArn);
    const pending: iam.PolicyStatement[] = [];
    const add = (key: kms.IKey, sid: string, actions: string[]) => {
      const statement = new iam.PolicyStatement({ sid, principals: [principal], actions, resources: ['*'], conditions: scoped });
      if (key instanceof kms.Key) key.addToResourcePolicy(statement);
      else pending.push(statement);
    };
    // The bucket's own key already lets the account use it through S3 for this bucket; the role's policy is enough.
    if (this.targetKey !== bucket.bucketKey) add(this.targetKey, `ReencryptionJob${this.node.addr}EncryptsWithTarget`, permissions.targetKeyActions);
    sourceKeys.forEach((key, i) => add(key, `ReencryptionJob${this.node.addr}DecryptsSource${i + 1}`, permissions.sourceKeyActions));
    if (pending.length > 0) {
      warnWeakened(this, 'sourceKeys',
        `imported keys cannot be changed from this app; add these statements to their key policies so the job can use them through S3 for this bucket only: ${renderStatements(this, pending)}`,
        []);
    }
  }
}

/** Whether the bucket's default encryption uses S3 Bucket Keys (EncryptedBucket turns them on for SSE-KMS unless told not to). */
function bucketKeysOn(bucket: EncryptedBucket): boolean {
  const cfn = bucket.node.defaultChild as s3.CfnBucket;
  const config = Stack.of(bucket).resolve(cfn.bucketEncryption);
  return config?.serverSideEncryptionConfiguration?.[0]?.bucketKeyEnabled === true;
}

/** Whether the bucket gives every new object an Object Lock retention. */
function defaultRetention(bucket: EncryptedBucket): boolean {
  const cfn = bucket.node.defaultChild as s3.CfnBucket;
  const lock = Stack.of(bucket).resolve(cfn.objectLockConfiguration);
  return lock?.rule?.defaultRetention !== undefined;
}
