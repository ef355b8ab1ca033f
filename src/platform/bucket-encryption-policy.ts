import { Annotations, Aspects, Aws, IAspect, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, IConstruct } from 'constructs';
import { EncryptionDefaults } from './encryption-defaults';
import { StackShared } from './stack-shared';
import { encryptionDenyStatements, sseS3OnlyDenyStatements } from '../bucket/bucket-policy';
import { DATA_EVENTS_RECORDED_BY } from '../compliance/rules/S3BucketDataEventsAudited';
import { invalidProp } from '../internal/validation';
import { renderStatements, s3UsageStatement } from '../keys/key-policy';

/** The AWS pages the treatment of delivery destinations rests on. */
const DELIVERY_PAGES = {
  serverAccessLogs: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html',
  loadBalancerLogs: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html',
};

/**
 * Service principals whose deliveries into a bucket need it on SSE-S3: S3 server access logging
 * ("SSE-KMS is not supported" on the destination) and Elastic Load Balancing access logs ("The only
 * server-side encryption option that's supported is Amazon S3-managed keys (SSE-S3)").
 */
const SSE_S3_ONLY_DELIVERERS = ['logging.s3.amazonaws.com', 'delivery.logs.amazonaws.com', 'logdelivery.elasticloadbalancing.amazonaws.com', 'elasticloadbalancing.amazonaws.com'];

/**
 * What a BucketEncryptionPolicy does with a bucket that does not meet it.
 */
export enum BucketEncryptionPolicyMode {
  /** Sets the encryption and adds the bucket-policy denials on every bucket in scope. */
  ENFORCE = 'ENFORCE',
  /** Changes nothing; every bucket that does not meet the policy is a synth error with its fix. */
  REPORT = 'REPORT',
}

/**
 * A bucket that does not meet the policy, accepted on purpose, with the reason recorded at synth.
 */
export interface BucketEncryptionAcknowledgement {
  /** Construct path of the bucket (the L2 bucket or its `AWS::S3::Bucket` resource). */
  readonly bucketPath: string;

  /** Why the bucket is left as it is (at least 10 characters); printed as a warning. */
  readonly reason: string;
}

/**
 * Properties of a BucketEncryptionPolicy.
 */
export interface BucketEncryptionPolicyProps {
  /**
   * Whether the policy fixes buckets or only reports them as synth errors.
   *
   * @default BucketEncryptionPolicyMode.ENFORCE
   */
  readonly mode?: BucketEncryptionPolicyMode;

  /**
   * The key of the buckets it fixes. Its key policy must let S3 use it for them; a key of this app
   * gets the statement, for another the statement to add is printed at synth.
   *
   * @default - one key per stack, made on first use, usable only through S3 by this account
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Lowest TLS version the buckets accept (1.2 or 1.3).
   *
   * @default 1.2
   */
  readonly minimumTlsVersion?: number;

  /**
   * Buckets left as they are, each with the reason.
   *
   * @default - none
   */
  readonly acknowledgements?: BucketEncryptionAcknowledgement[];
}

/**
 * Encryption at rest for every `AWS::S3::Bucket` in its scope that this library did not make: buckets
 * of other construct libraries, of aws-cdk-lib L2s that make their own (a Trail's, a pipeline's
 * artifact bucket, ...) and L1 `CfnBucket`s.
 *
 * ENFORCE sets SSE-KMS with the given key (or the stack's), S3 Bucket Keys on and SSE-C blocked, and
 * adds the bucket-policy denials of an EncryptedBucket: no TLS, TLS below the minimum, another
 * algorithm, another key, `aws:kms` without a key id. A bucket that receives S3 server access logs or
 * load-balancer access logs gets SSE-S3 instead, because AWS refuses SSE-KMS there (the pages are in
 * the message); it still gets the TLS and algorithm denials. REPORT changes nothing and fails synth
 * with the fix for each bucket. A bucket acknowledged with a reason is left as it is, with a warning.
 *
 * @example
 * const policy = new BucketEncryptionPolicy(app, 'Buckets', { mode: BucketEncryptionPolicyMode.ENFORCE });
 * policy.acknowledge(publicAssets, 'public website assets, no data at rest to protect');
 */
export class BucketEncryptionPolicy extends Construct implements IAspect {
  /** Whether buckets are fixed or only reported. */
  public readonly mode: BucketEncryptionPolicyMode;
  /** The lowest TLS version the buckets accept. */
  public readonly minimumTlsVersion: number;

  private readonly key?: kms.IKey;
  private readonly acks = new Map<string, { reason: string; used: boolean }>();
  private readonly visited = new Set<IConstruct>();
  private readonly serviceStatements = new Set<string>();

  constructor(scope: Construct, id: string, props: BucketEncryptionPolicyProps = {}) {
    super(scope, id);
    this.mode = props.mode ?? BucketEncryptionPolicyMode.ENFORCE;
    if (!Object.values(BucketEncryptionPolicyMode).includes(this.mode)) {
      invalidProp(this, 'mode', this.mode, `must be one of ${Object.values(BucketEncryptionPolicyMode).join(', ')}`);
    }
    this.minimumTlsVersion = props.minimumTlsVersion ?? 1.2;
    if (!Token.isUnresolved(this.minimumTlsVersion) && this.minimumTlsVersion !== 1.2 && this.minimumTlsVersion !== 1.3) {
      invalidProp(this, 'minimumTlsVersion', this.minimumTlsVersion, 'must be 1.2 or 1.3');
    }
    if (props.encryptionKey && this.mode === BucketEncryptionPolicyMode.REPORT) {
      invalidProp(this, 'encryptionKey', props.encryptionKey.node.path, 'is unused in REPORT mode, which changes nothing; remove it or use ENFORCE');
    }
    this.key = props.encryptionKey;
    for (const ack of props.acknowledgements ?? []) this.acknowledgePath(ack.bucketPath, ack.reason);
    Aspects.of(scope).add(this);
    this.node.addValidation({
      validate: () => [...this.acks].filter(([, a]) => !a.used).map(([path]) => `${this.node.path}: the acknowledgement of ${path} matches no bucket this policy governs; remove it`),
    });
  }

  /**
   * The key ENFORCE gives the buckets of other code made in scope's stack: the one given, or the
   * stack's. Grant writers of those buckets on it (their aws-cdk-lib grants do not know it).
   */
  public encryptionKeyFor(scope: IConstruct): kms.IKey {
    if (this.mode === BucketEncryptionPolicyMode.REPORT) {
      invalidProp(this, 'mode', this.mode, 'makes no key: REPORT changes nothing, so there is no key to grant');
    }
    return this.key ?? StackShared.of(scope).foreignBucketKey();
  }

  /** Leaves a bucket as it is; its error (REPORT) or its change (ENFORCE) becomes a warning with the reason. */
  public acknowledge(bucket: IConstruct, reason: string): void {
    this.acknowledgePath(bucket.node.path, reason);
  }

  /** Applies the policy to one construct; called by the Aspects framework. */
  public visit(node: IConstruct): void {
    if (!(node instanceof s3.CfnBucket) || this.visited.has(node)) return;
    this.visited.add(node);
    if (madeByThisLibrary(node)) return;
    const ack = this.acks.get(node.node.path) ?? this.acks.get(node.node.scope?.node.path ?? '');
    const delivery = deliveryDestination(node);
    const gaps = this.gaps(node, delivery);
    // The organization trail that the EncryptionDefaults above name records this bucket's data events too.
    const recordedBy = EncryptionDefaults.resolve(node).values.dataEventsRecordedBy;
    const enforcing = this.mode === BucketEncryptionPolicyMode.ENFORCE && !ack;
    if (enforcing && recordedBy !== undefined && node.getMetadata(DATA_EVENTS_RECORDED_BY) === undefined) {
      node.addMetadata(DATA_EVENTS_RECORDED_BY, recordedBy);
    }
    if (gaps.length === 0) return;
    if (ack) {
      ack.used = true;
      Annotations.of(node).addWarningV2('cdk-s3-encryption:bucket-policy-acknowledged', `${node.node.path} does not meet ${this.node.path} (${gaps.join('; ')}). Acknowledged: ${ack.reason}`);
      return;
    }
    if (this.mode === BucketEncryptionPolicyMode.REPORT) {
      Annotations.of(node).addError(`${node.node.path} does not meet ${this.node.path}: ${gaps.join('; ')}. Fix: ${this.fix(delivery)}; `
        + `or acknowledge it with a reason: ${this.node.id}.acknowledge(bucket, '<why>').`);
      return;
    }
    this.enforce(node, delivery);
    Annotations.of(node).addInfo(`${node.node.path}: encryption set by ${this.node.path} (${gaps.join('; ')})`
      + (delivery ? `; SSE-S3, because it receives ${delivery.what} and ${delivery.page} says SSE-KMS is not supported there.` : '.'));
  }

  private gaps(bucket: s3.CfnBucket, delivery?: Delivery): string[] {
    const stack = Stack.of(bucket);
    const rule = asArray(field(stack.resolve(bucket.bucketEncryption), 'ServerSideEncryptionConfiguration'))[0];
    const byDefault = field(rule, 'ServerSideEncryptionByDefault');
    const algorithm = field(byDefault, 'SSEAlgorithm');
    const gaps: string[] = [];
    if (delivery) {
      if (algorithm !== 'AES256') gaps.push(`default encryption is ${algorithm ?? 'not set (S3 applies SSE-S3)'}, a ${delivery.what} destination needs AES256 (SSE-S3)`);
    } else {
      if (algorithm !== 'aws:kms' && algorithm !== 'aws:kms:dsse') gaps.push(`default encryption is ${algorithm ?? 'not set (S3 applies SSE-S3)'}, not SSE-KMS`);
      else if (field(byDefault, 'KMSMasterKeyID') === undefined) gaps.push('SSE-KMS with no key id, so the AWS managed key aws/s3');
      if (algorithm === 'aws:kms' && field(rule, 'BucketKeyEnabled') !== true) gaps.push('S3 Bucket Keys off');
    }
    const blocked = asArray(field(field(rule, 'BlockedEncryptionTypes'), 'EncryptionType'));
    if (!blocked.includes('SSE-C')) gaps.push('SSE-C not blocked');
    if (!denies(bucket, 'aws:SecureTransport')) gaps.push('no bucket-policy denial of requests without TLS');
    if (!denies(bucket, 's3:TlsVersion')) gaps.push(`no bucket-policy denial of TLS below ${this.minimumTlsVersion}`);
    return gaps;
  }

  private fix(delivery?: Delivery): string {
    const tls = `a bucket policy denying aws:SecureTransport false and s3:TlsVersion below ${this.minimumTlsVersion}`;
    return delivery
      ? `set encryption: s3.BucketEncryption.S3_MANAGED, blockedEncryptionTypes: [s3.BlockedEncryptionType.SSE_C] and ${tls} (enforceSSL: true, minimumTLSVersion: ${this.minimumTlsVersion})`
      : `use EncryptedBucket, or set encryption: s3.BucketEncryption.KMS with a customer managed key, bucketKeyEnabled: true, blockedEncryptionTypes: [s3.BlockedEncryptionType.SSE_C] and ${tls} (enforceSSL: true, minimumTLSVersion: ${this.minimumTlsVersion})`;
  }

  private enforce(bucket: s3.CfnBucket, delivery?: Delivery): void {
    const bucketArn = bucket.attrArn;
    const statements = tlsDenyStatements(bucketArn, this.minimumTlsVersion);
    if (delivery) {
      bucket.bucketEncryption = {
        serverSideEncryptionConfiguration: [{ serverSideEncryptionByDefault: { sseAlgorithm: 'AES256' }, blockedEncryptionTypes: { encryptionType: ['SSE-C'] } }],
      };
      statements.push(...sseS3OnlyDenyStatements(`${bucketArn}/*`));
    } else {
      const key = this.key ?? StackShared.of(bucket).foreignBucketKey();
      bucket.bucketEncryption = {
        serverSideEncryptionConfiguration: [{
          serverSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: key.keyArn },
          bucketKeyEnabled: true,
          blockedEncryptionTypes: { encryptionType: ['SSE-C'] },
        }],
      };
      statements.push(...encryptionDenyStatements(bucketArn, key.keyArn, 'SSE_KMS'));
      if (this.key) this.allowOnKey(bucket, this.key);
      // A service that delivers into the bucket (a Trail's bucket: cloudtrail.amazonaws.com) now writes
      // SSE-KMS objects, and S3 asks KMS for a data key on its behalf: the key must allow it.
      for (const service of deliveringServices(bucket)) this.allowServiceOnKey(bucket, this.key ?? key, service);
    }
    addToBucketPolicy(bucket, statements);
  }

  /** A given key must let S3 use it for this account's buckets; one of the app gets the statement. */
  private allowOnKey(bucket: s3.CfnBucket, key: kms.IKey): void {
    const statement = s3UsageStatement('UseThroughS3ByBucketsOfThisAccount', [`arn:${Aws.PARTITION}:s3:::*`], Stack.of(bucket).region, Stack.of(bucket).account);
    if (!key.addToResourcePolicy(statement).statementAdded) {
      Annotations.of(bucket).addWarningV2('cdk-s3-encryption:bucket-policy-key',
        `${bucket.node.path}: the key ${key.node.path} is imported, so its policy cannot be changed here; let S3 use it with this statement: ${renderStatements(bucket, [statement])}`);
    }
  }

  private allowServiceOnKey(bucket: s3.CfnBucket, key: kms.IKey, service: string): void {
    const sid = `${service.split('.')[0].replace(/[^A-Za-z0-9]/g, '')}DeliversThroughS3`;
    if (this.serviceStatements.has(`${key.node.path} ${sid}`)) return;
    this.serviceStatements.add(`${key.node.path} ${sid}`);
    const stack = Stack.of(bucket);
    const statement = new iam.PolicyStatement({
      sid,
      principals: [new iam.ServicePrincipal(service)],
      actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      resources: ['*'],
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account, 'kms:ViaService': `s3.${stack.region}.amazonaws.com` },
      },
    });
    if (!key.addToResourcePolicy(statement).statementAdded) {
      Annotations.of(bucket).addWarningV2('cdk-s3-encryption:bucket-policy-key',
        `${bucket.node.path}: ${service} delivers into this bucket, and the key ${key.node.path} is imported, so its policy cannot be changed here; add: ${renderStatements(bucket, [statement])}`);
    }
  }

  private acknowledgePath(bucketPath: string, reason: string): void {
    if (typeof bucketPath !== 'string' || bucketPath.trim().length === 0) {
      invalidProp(this, 'acknowledgements[].bucketPath', bucketPath, 'must be the construct path of a bucket, e.g. MyStack/Assets');
    }
    if (typeof reason !== 'string' || reason.trim().length < 10) {
      invalidProp(this, `acknowledgement reason for ${bucketPath}`, reason, 'must say why, in at least 10 characters');
    }
    const path = bucketPath.replace(/^\/+/, '');
    if (this.acks.has(path)) invalidProp(this, 'acknowledgements[].bucketPath', bucketPath, 'is acknowledged twice; keep one reason per bucket');
    this.acks.set(path, { reason: reason.trim(), used: false });
  }
}

interface Delivery {
  readonly what: string;
  readonly page: string;
}

/** Buckets this library makes carry their own encryption: EncryptedBucket and its log buckets. */
function madeByThisLibrary(bucket: s3.CfnBucket): boolean {
  const owner = bucket.node.scope;
  // Loaded lazily: bucket/ imports platform/, so a top-level import would be circular.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { EncryptedBucket } = require('../bucket/encrypted-bucket');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { AccessLogBucket } = require('../bucket/access-log-bucket');
  return owner instanceof EncryptedBucket || owner instanceof AccessLogBucket;
}

/**
 * Whether AWS delivers into this bucket something that requires SSE-S3: it is another bucket's
 * server-access-log destination, or its policy lets a log-delivery service principal write.
 */
function deliveryDestination(bucket: s3.CfnBucket): Delivery | undefined {
  const stack = Stack.of(bucket);
  const ref = JSON.stringify(stack.resolve(bucket.ref));
  const name = stack.resolve(bucket.bucketName);
  for (const c of stack.node.findAll()) {
    if (c instanceof s3.CfnBucket && c !== bucket) {
      const target = JSON.stringify(stack.resolve(field(stack.resolve(c.loggingConfiguration), 'DestinationBucketName')) ?? null);
      if (target === ref || (typeof name === 'string' && target === JSON.stringify(name))) {
        return { what: 'S3 server access logs', page: DELIVERY_PAGES.serverAccessLogs };
      }
    }
    if (c instanceof s3.CfnBucketPolicy && JSON.stringify(stack.resolve(c.bucket)) === ref) {
      const text = JSON.stringify(stack.resolve(c.policyDocument));
      if (text.includes('"logging.s3.amazonaws.com"')) return { what: 'S3 server access logs', page: DELIVERY_PAGES.serverAccessLogs };
      if (SSE_S3_ONLY_DELIVERERS.slice(1).some((p) => text.includes(`"${p}"`)) || /:iam::\d{12}:root"/.test(text) && /elasticloadbalancing|AWSLogs/.test(text)) {
        return { what: 'load-balancer access logs', page: DELIVERY_PAGES.loadBalancerLogs };
      }
    }
  }
  return undefined;
}

/** Service principals that a policy of the bucket allows to put objects. */
function deliveringServices(bucket: s3.CfnBucket): string[] {
  const stack = Stack.of(bucket);
  const ref = JSON.stringify(stack.resolve(bucket.ref));
  const services = new Set<string>();
  for (const c of stack.node.findAll()) {
    if (!(c instanceof s3.CfnBucketPolicy) || JSON.stringify(stack.resolve(c.bucket)) !== ref) continue;
    for (const st of asArray(field(stack.resolve(c.policyDocument), 'Statement'))) {
      if (field(st, 'Effect') !== 'Allow') continue;
      const actions = asArray(field(st, 'Action'));
      if (!actions.some((a: string) => a === 's3:PutObject' || a === 's3:*' || a === '*')) continue;
      for (const p of asArray(field(field(st, 'Principal'), 'Service'))) if (typeof p === 'string') services.add(p);
    }
  }
  return [...services].sort();
}

/** Whether a bucket policy of the bucket has a Deny on the condition key. */
function denies(bucket: s3.CfnBucket, conditionKey: string): boolean {
  const stack = Stack.of(bucket);
  const ref = JSON.stringify(stack.resolve(bucket.ref));
  return stack.node.findAll().some((c) => {
    if (!(c instanceof s3.CfnBucketPolicy) || JSON.stringify(stack.resolve(c.bucket)) !== ref) return false;
    const doc = stack.resolve(c.policyDocument);
    return asArray(field(doc, 'Statement')).some((s: any) => field(s, 'Effect') === 'Deny' && JSON.stringify(field(s, 'Condition') ?? {}).includes(`"${conditionKey}"`));
  });
}

/** The TLS denials of an EncryptedBucket, for the bucket and its objects. */
function tlsDenyStatements(bucketArn: string, minimumTls: number): iam.PolicyStatement[] {
  const resources = [bucketArn, `${bucketArn}/*`];
  return [
    new iam.PolicyStatement({ sid: 'DenyRequestsWithoutTls', effect: iam.Effect.DENY, principals: [new iam.AnyPrincipal()], actions: ['s3:*'], resources, conditions: { Bool: { 'aws:SecureTransport': 'false' } } }),
    new iam.PolicyStatement({ sid: 'DenyOlderTls', effect: iam.Effect.DENY, principals: [new iam.AnyPrincipal()], actions: ['s3:*'], resources, conditions: { NumericLessThan: { 's3:TlsVersion': minimumTls } } }),
  ];
}

/**
 * Adds statements to the bucket's policy: through the L2 bucket when there is one, into an existing
 * AWS::S3::BucketPolicy of the bucket, or in a new one.
 */
function addToBucketPolicy(bucket: s3.CfnBucket, statements: iam.PolicyStatement[]): void {
  const owner = bucket.node.scope;
  if (owner instanceof s3.Bucket) {
    for (const s of statements) owner.addToResourcePolicy(s);
    return;
  }
  const stack = Stack.of(bucket);
  const ref = JSON.stringify(stack.resolve(bucket.ref));
  const existing = stack.node.findAll()
    .find((c): c is s3.CfnBucketPolicy => c instanceof s3.CfnBucketPolicy && JSON.stringify(stack.resolve(c.bucket)) === ref);
  if (existing) {
    const doc = existing.policyDocument;
    if (doc instanceof iam.PolicyDocument) {
      doc.addStatements(...statements);
    } else {
      const json = stack.resolve(doc) ?? {};
      existing.policyDocument = { ...json, Statement: [...asArray(json.Statement), ...statements.map((s) => stack.resolve(s.toStatementJson()))] };
    }
    return;
  }
  new s3.CfnBucketPolicy(bucket.node.scope ?? stack, `${bucket.node.id}EncryptionPolicy`, { bucket: bucket.ref, policyDocument: new iam.PolicyDocument({ statements }) });
}

function asArray(v: unknown): any[] {
  return v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
}

/** A property by its CloudFormation or its L1 name. */
function field(o: any, name: string): any {
  if (!o || typeof o !== 'object') return undefined;
  if (name in o) return o[name];
  const camel = name[0].toLowerCase() + name.slice(1);
  if (camel in o) return o[camel];
  const alt = Object.keys(o).find((k) => k.toLowerCase() === name.toLowerCase());
  return alt ? o[alt] : undefined;
}
