/**
 * The example app: every way this library is meant to be used, as deployable stacks.
 *
 *   npx ts-node --project test/tsconfig.json examples/app.ts     # synthesizes into examples/cdk.out
 */
import { App, Stack, StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { EncryptedBucket, EncryptionAuditTrail, ObjectEncryption, TenantKeyring, TenantTier } from '../src';
import { PlatformTeamStack } from './platform/team-stack';

const ACCOUNT = process.env.CDK_DEFAULT_ACCOUNT ?? '123456789012';
const PRIMARY = 'us-east-1';
const REPLICA = 'us-west-2';
const REPLICA_KEY_ALIAS = 'alias/cdk-s3-encryption-example/replica';

/** `new EncryptedBucket(this, 'Data')` and nothing else. */
export class DefaultBucketStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    new EncryptedBucket(this, 'Data');
  }
}

/** A bucket whose object reads and writes are recorded by an encryption audit trail. */
export class AuditedBucketStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const trail = new EncryptionAuditTrail(this, 'Audit');
    new EncryptedBucket(this, 'Data', { auditTrail: trail });
  }
}

/** A bucket where every PUT must carry a customer-provided key (SSE-C). */
export class SseCBucketStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    new EncryptedBucket(this, 'Data', { objectEncryption: ObjectEncryption.SSE_C });
  }
}

/** The destination Region: replicas of data, logs and trail files, each under a key of its own Region. */
export class ReplicaDestinationStack extends Stack {
  public readonly replica: EncryptedBucket;
  public readonly replicaLogs: EncryptedBucket;
  public readonly replicaKeyArn: string;

  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, props);
    this.replica = new EncryptedBucket(this, 'Replica');
    this.replicaLogs = new EncryptedBucket(this, 'ReplicaLogs', { encryptionKey: this.replica.bucketKey });
    new kms.Alias(this, 'ReplicaKeyAlias', { aliasName: REPLICA_KEY_ALIAS, targetKey: this.replica.bucketKey });
    // An alias ARN is known at synth, so the source Region can name the key without a reference.
    this.replicaKeyArn = `arn:aws:kms:${this.region}:${this.account}:${REPLICA_KEY_ALIAS}`;
  }
}

/**
 * A bucket audited by its own trail, with the bucket, its logs and the trail files replicated to
 * the destination Region: every bucket of the stack then has a replica.
 */
function auditedReplicatedBucket(stack: Stack, id: string, destination: ReplicaDestinationStack, replicationTimeControl: boolean): EncryptedBucket {
  const toReplica = {
    destinationKeyArn: destination.replicaKeyArn,
    accessLogsDestinationBucket: destination.replicaLogs,
  };
  const trail = new EncryptionAuditTrail(stack, 'Audit', {
    replication: { ...toReplica, destinationBucket: destination.replicaLogs },
  });
  return new EncryptedBucket(stack, id, {
    auditTrail: trail,
    replication: { ...toReplica, destinationBucket: destination.replica, replicationTimeControl: replicationTimeControl || undefined },
  });
}

/** The fully configured stack: audited, replicated (data, logs and trail), zero findings. */
export class ReplicatedBucketStack extends Stack {
  constructor(scope: Construct, id: string, destination: ReplicaDestinationStack, props: StackProps) {
    super(scope, id, props);
    auditedReplicatedBucket(this, 'Data', destination, true);
  }
}

/** A multi-tenant bucket: dedicated keys for two tenants, a pooled key for a small one, audited and replicated. */
export class TenantKeyringStack extends Stack {
  constructor(scope: Construct, id: string, destination: ReplicaDestinationStack, props: StackProps) {
    super(scope, id, props);
    const bucket = auditedReplicatedBucket(this, 'TenantData', destination, false);
    const keyring = new TenantKeyring(this, 'Tenants', { bucket });
    keyring.addTenant('acme');
    keyring.addTenant('globex');
    keyring.addTenant('small-co', { tier: TenantTier.POOLED });
  }
}

/** Builds every example stack into `app`. */
export function buildExampleApp(app: App): Stack[] {
  const primary = { account: ACCOUNT, region: PRIMARY };
  const destination = new ReplicaDestinationStack(app, 'ReplicaDestination', { env: { account: ACCOUNT, region: REPLICA } });
  return [
    new DefaultBucketStack(app, 'DefaultBucket', { env: primary }),
    new AuditedBucketStack(app, 'AuditedBucket', { env: primary }),
    new SseCBucketStack(app, 'SseCBucket', { env: primary }),
    destination,
    new ReplicatedBucketStack(app, 'ReplicatedBucket', destination, { env: primary }),
    new TenantKeyringStack(app, 'TenantKeyring', destination, { env: primary }),
    new PlatformTeamStack(app, 'PlatformTeam', { env: primary }),
  ];
}

if (require.main === module) {
  const app = new App({ outdir: process.env.CDK_OUTDIR ?? 'examples/cdk.out' });
  buildExampleApp(app);
  app.synth();
}
