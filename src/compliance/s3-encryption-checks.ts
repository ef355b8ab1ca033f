import { CfnResource, IPolicyValidationContext, PolicyValidationPluginReport } from 'aws-cdk-lib';
import { NagMessageLevel, NagPack, NagPackProps, NagRuleResult } from 'cdk-nag';
import { IConstruct } from 'constructs';
import AlarmTopicAllowsPublishers from './rules/AlarmTopicAllowsPublishers';
import CloudTrailEncryptedAndValidated from './rules/CloudTrailEncryptedAndValidated';
import KMSKeyPolicyNoFullAccessForNonRoot from './rules/KMSKeyPolicyNoFullAccessForNonRoot';
import KMSKeyPolicyNoUnconditionedPublicUse from './rules/KMSKeyPolicyNoUnconditionedPublicUse';
import KMSKeyUsageConditioned from './rules/KMSKeyUsageConditioned';
import { kmsPendingWindowAtLeast } from './rules/KMSPendingWindowAtLeast';
import { kmsRotationWithinPeriod } from './rules/KMSRotationWithinPeriod';
import S3AccessLogDestinationAccepted from './rules/S3AccessLogDestinationAccepted';
import S3BucketDataEventsAudited from './rules/S3BucketDataEventsAudited';
import S3BucketEncryptedWithCustomerManagedKey from './rules/S3BucketEncryptedWithCustomerManagedKey';
import S3BucketKeysEnabled from './rules/S3BucketKeysEnabled';
import S3BucketPolicyDeniesAlgorithmWithoutKey from './rules/S3BucketPolicyDeniesAlgorithmWithoutKey';
import S3BucketPolicyDeniesOtherKmsKeys from './rules/S3BucketPolicyDeniesOtherKmsKeys';
import S3KeyDenialsAllowMultipart from './rules/S3KeyDenialsAllowMultipart';
import S3ReplicationDestinationEncryptedInItsRegion from './rules/S3ReplicationDestinationEncryptedInItsRegion';
import S3SseCBlockedUnlessChosen from './rules/S3SseCBlockedUnlessChosen';
import S3TlsEnforcedAtLeast12 from './rules/S3TlsEnforcedAtLeast12';
import { invalidInput } from '../internal/validation';

/**
 * Properties of the S3EncryptionChecks pack.
 */
export interface S3EncryptionChecksProps extends NagPackProps {
  /**
   * Longest automatic rotation period allowed for a symmetric KMS key, in days (90 to 2560).
   *
   * @default 365
   */
  readonly maxRotationPeriodDays?: number;

  /**
   * Shortest waiting period allowed before a key is deleted, in days (7 to 30).
   *
   * @default 30
   */
  readonly minPendingWindowDays?: number;
}

interface RuleRow {
  readonly info: string;
  readonly explanation: string;
  readonly rule: (node: CfnResource) => NagRuleResult;
}

/**
 * A cdk-nag pack with the checks of encryption at rest for S3 that the standard packs do not make:
 * customer-managed keys, S3 Bucket Keys, wrong-key and SSE-C denials, TLS 1.2, rotation period,
 * pending window, least-privilege key policies, audit coverage, encrypted replication, and what AWS
 * itself requires for a bucket policy, a log destination and an alarm topic to work.
 *
 * @example
 * Validations.of(app).addPlugins(new S3EncryptionChecks(app));
 */
export class S3EncryptionChecks extends NagPack {
  /** The pack name, the prefix of every rule id. */
  public readonly name: string;
  private readonly rows: RuleRow[];
  private readonly tree?: IConstruct;

  constructor(scope?: IConstruct, props: S3EncryptionChecksProps = {}) {
    super(scope, props);
    this.tree = scope;
    this.name = 'S3Encryption';
    this.packName = 'S3Encryption';
    const maxRotation = props.maxRotationPeriodDays ?? 365;
    const minPending = props.minPendingWindowDays ?? 30;
    if (!Number.isInteger(maxRotation) || maxRotation < 90 || maxRotation > 2560) {
      invalidInput(`S3EncryptionChecks: invalid maxRotationPeriodDays ${maxRotation}: must be a whole number from 90 to 2560`);
    }
    if (!Number.isInteger(minPending) || minPending < 7 || minPending > 30) {
      invalidInput(`S3EncryptionChecks: invalid minPendingWindowDays ${minPending}: must be a whole number from 7 to 30`);
    }
    this.rows = [
      {
        info: 'The S3 bucket is not encrypted by default with SSE-KMS or DSSE-KMS under a customer-managed key.',
        explanation: 'SSE-S3 and the AWS-managed aws/s3 key cannot be restricted by a key policy, shared across accounts or disabled to shred data. Fix: set default encryption to aws:kms with a key you own (EncryptedBucket does). Server-access-log destinations are exempt: AWS accepts only SSE-S3 there.',
        rule: S3BucketEncryptedWithCustomerManagedKey,
      },
      {
        info: 'The S3 bucket receives server access logs, but S3 cannot deliver them: it has Object Lock, default encryption other than SSE-S3, or it logs into itself.',
        explanation: 'AWS refuses such a destination (S3 User Guide, enable-server-access-logging.html: Object Lock buckets "can\'t be used as destination buckets", "SSE-KMS is not supported", a self-logging destination is "an infinite loop of logs"), so no access log is ever written. Fix: a log bucket without Object Lock, with SSE-S3 (AES256) default encryption, that does not log into itself; keep its integrity with its bucket policy, versioning and lifecycle.',
        rule: S3AccessLogDestinationAccepted,
      },
      {
        info: 'The S3 bucket uses SSE-KMS without S3 Bucket Keys.',
        explanation: 'Without Bucket Keys every object read and write calls KMS: more cost, more latency, and throttling at the account KMS quota. Fix: set BucketKeyEnabled: true.',
        rule: S3BucketKeysEnabled,
      },
      {
        info: 'The S3 bucket policy does not deny PUTs that name another KMS key.',
        explanation: 'A writer can otherwise choose any key it can use, and the data leaves the bucket key\'s control. Fix: deny s3:PutObject when s3:x-amz-server-side-encryption-aws-kms-key-id is present and differs from the bucket key ARN.',
        rule: S3BucketPolicyDeniesOtherKmsKeys,
      },
      {
        info: 'The S3 bucket policy denies PUTs that name another KMS key but not PUTs that name aws:kms or aws:kms:dsse without a key id.',
        explanation: 'S3 encrypts such a PUT with the AWS managed key aws/s3 (PutObject API reference, SSEKMSKeyId), outside the bucket key\'s control. Fix: deny s3:PutObject with Null s3:x-amz-server-side-encryption false and Null s3:x-amz-server-side-encryption-aws-kms-key-id true, in one statement, on every resource the key denial covers.',
        rule: S3BucketPolicyDeniesAlgorithmWithoutKey,
      },
      {
        info: 'A bucket-policy denial on s3:PutObject fires when an SSE algorithm or KMS key-id header is absent, so multipart uploads fail.',
        explanation: 'UploadPart, UploadPartCopy and CompleteMultipartUpload are authorized as s3:PutObject and carry no x-amz-server-side-encryption or key-id header, and s3:ObjectCreationOperation is true for CompleteMultipartUpload as for PutObject (S3 User Guide, conditional-writes-enforce.html), so no condition exempts them; StringNotEquals, StringNotLike and ...IfExists are true when the header is absent. Fix: deny only what a header names (a Null false guard beside the comparison) and let default encryption decide header-less PUTs; a denial of absent SSE-C headers is fine.',
        rule: S3KeyDenialsAllowMultipart,
      },
      {
        info: 'The S3 bucket does not block SSE-C although it is not an SSE-C bucket.',
        explanation: 'SSE-C objects are encrypted with keys AWS never stores: nobody can read them without the writer\'s key, which can hold data hostage. Fix: set BlockedEncryptionTypes SSE-C in the encryption rule, or deny PUTs with SSE-C headers.',
        rule: S3SseCBlockedUnlessChosen,
      },
      {
        info: 'The S3 bucket policy does not deny requests without TLS or below TLS 1.2.',
        explanation: 'Data and SSE-C keys in transit must be protected by TLS 1.2 or later. Fix: deny aws:SecureTransport false and NumericLessThan s3:TlsVersion 1.2.',
        rule: S3TlsEnforcedAtLeast12,
      },
      {
        info: `The symmetric KMS key does not rotate automatically at least every ${maxRotation} days.`,
        explanation: 'Rotation limits the data encrypted under one key version. Fix: EnableKeyRotation true and RotationPeriodInDays within the maximum (RotationPolicy does it for every key of an app).',
        rule: kmsRotationWithinPeriod(maxRotation),
      },
      {
        info: `The KMS key waits fewer than ${minPending} days before deletion.`,
        explanation: 'A deleted key makes its data unreadable forever; the waiting period is the only way back. Fix: PendingWindowInDays at least the minimum.',
        rule: kmsPendingWindowAtLeast(minPending),
      },
      {
        info: 'The KMS key policy lets any principal (*, or NotPrincipal) use the key without a condition on who calls.',
        explanation: 'Anyone in any account could use the key; kms:ViaService alone does not help, since anyone can call through the service. Fix: name principals, or pin kms:CallerAccount, aws:PrincipalAccount, aws:PrincipalOrgID, aws:PrincipalArn, aws:SourceAccount or aws:SourceArn with StringEquals/StringLike/ArnLike.',
        rule: KMSKeyPolicyNoUnconditionedPublicUse,
      },
      {
        info: 'The KMS key policy gives kms:* (or a NotAction allow) to a principal other than this account\'s root.',
        explanation: 'kms:* includes deletion, policy changes and every data-plane action; another account\'s root hands them to every principal of that account. Fix: list the actions the principal needs.',
        rule: KMSKeyPolicyNoFullAccessForNonRoot,
      },
      {
        info: 'The KMS key policy allows encrypt/decrypt use without kms:ViaService or an encryption-context condition.',
        explanation: 'Unscoped usage lets any IAM-permitted caller decrypt any data under the key, through any service. Fix: add kms:ViaService (e.g. s3.<region>.amazonaws.com) or kms:EncryptionContext:* conditions with StringEquals/StringLike (negated, IfExists, Null or * conditions do not scope); for service principals aws:SourceArn or aws:SourceAccount.',
        rule: KMSKeyUsageConditioned,
      },
      {
        info: 'No CloudTrail trail in the app records the S3 bucket\'s data events.',
        explanation: 'Without data events, nobody can tell who read or wrote an object. Fix: join the bucket to an EncryptionAuditTrail (auditTrail prop or trail.addBucket).',
        rule: S3BucketDataEventsAudited,
      },
      {
        info: 'The CloudTrail trail does not encrypt its log files with KMS or does not validate them.',
        explanation: 'Trail files are evidence: encrypt them under a key you control and validate them to detect tampering. Fix: KMSKeyId and EnableLogFileValidation true.',
        rule: CloudTrailEncryptedAndValidated,
      },
      {
        info: 'The S3 bucket replicates without re-encrypting replicas under a KMS key of the destination Region.',
        explanation: 'Replicas must stay encrypted under a customer-managed key, and a KMS key cannot be used outside its Region. Fix: set ReplicaKmsKeyID to a key (or alias) ARN of the destination Region.',
        rule: S3ReplicationDestinationEncryptedInItsRegion,
      },
      {
        info: 'CloudWatch alarms or EventBridge rules publish to the SNS topic, but its topic policy or key policy does not let them.',
        explanation: 'A topic policy replaces SNS\'s default policy, and an encrypted topic needs its key, so every alarm or event would be dropped. Missing is one of: a topic-policy Allow of sns:Publish for cloudwatch.amazonaws.com (alarms) or events.amazonaws.com (rules); a key-policy Allow of kms:GenerateDataKey* and kms:Decrypt for that service (for EventBridge without aws:SourceAccount, aws:SourceArn or aws:SourceOrgID, which it does not support); a customer managed key instead of aws/sns. Fix: add what is missing (SNS Developer Guide, sns-key-management.html).',
        rule: AlarmTopicAllowsPublishers,
      },
    ];
  }

  /** The rule ids of this pack, in order. */
  public get ruleNames(): string[] {
    return this.rows.map((r) => `${this.packName}-${(r.rule as { name: string }).name}`);
  }

  /**
   * Entry point of `Validations.of(app).addPlugins(...)`. aws-cdk-lib versions that do not pass
   * the construct tree to plugins get the tree given to the constructor instead.
   */
  public validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const tree = (context as { appConstruct?: IConstruct }).appConstruct ?? this.tree;
    if (!tree) {
      invalidInput('S3EncryptionChecks: no construct tree to check; create the pack with the app: new S3EncryptionChecks(app)');
    }
    return this.validateScope(tree);
  }

  protected checkResource(node: CfnResource): void {
    for (const row of this.rows) {
      this.applyRule({ info: row.info, explanation: row.explanation, level: NagMessageLevel.ERROR, rule: row.rule, node });
    }
  }
}
