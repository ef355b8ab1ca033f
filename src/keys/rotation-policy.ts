import { Annotations, Aspects, Aws, CfnResource, Duration, IAspect, Names, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, IConstruct } from 'constructs';
import { createManagedKey } from './key-policy';
import { allowTopicPublishers } from './topic-policy';
import { checkIntRange, invalidProp } from '../internal/validation';

/**
 * On-demand rotations KMS allows per key over its lifetime: "You can perform on-demand key rotation
 * a maximum of 25 times per KMS key" (AWS KMS Developer Guide, "Perform on-demand key rotation",
 * https://docs.aws.amazon.com/kms/latest/developerguide/rotating-keys-on-demand.html).
 */
const KMS_ON_DEMAND_ROTATION_LIMIT = 25;

/** The range KMS accepts for RotationPeriodInDays. */
const ROTATION_DAYS = [90, 2560] as const;
/** The range KMS accepts for PendingWindowInDays. */
const PENDING_DAYS = [7, 30] as const;

/**
 * What a RotationPolicy does with a key that does not meet it.
 */
export enum RotationPolicyMode {
  /** Turns rotation on and sets the rotation period and pending window on every key. */
  ENFORCE = 'ENFORCE',
  /** Changes nothing; every key that does not meet the policy is a synth error. */
  REPORT = 'REPORT',
}

/**
 * A key that does not meet the policy, accepted on purpose, with the reason recorded at synth.
 */
export interface RotationAcknowledgement {
  /**
   * Construct path of the key (the L2 key or its `AWS::KMS::Key` resource), e.g. `MyStack/SigningKey`.
   */
  readonly keyPath: string;

  /**
   * Why the key does not rotate under this policy (at least 10 characters); printed as a warning.
   */
  readonly reason: string;
}

/**
 * Scheduled on-demand rotation (KMS RotateKeyOnDemand) of every key the policy makes rotate.
 */
export interface OnDemandRotationOptions {
  /**
   * Time between two on-demand rotations, in whole days.
   */
  readonly interval: Duration;

  /**
   * When the first on-demand rotation may happen.
   */
  readonly startDate: Date;

  /**
   * How many on-demand rotations the schedule may start; the schedule ends after the last one.
   */
  readonly rotations: number;

  /**
   * On-demand rotations the keys have already used (each key counts against the KMS limit of 25).
   *
   * @default 0
   */
  readonly rotationsAlreadyUsed?: number;
}

/**
 * Properties of a RotationPolicy.
 */
export interface RotationPolicyProps {
  /**
   * Whether the policy fixes keys or only reports them as synth errors.
   *
   * @default RotationPolicyMode.ENFORCE
   */
  readonly mode?: RotationPolicyMode;

  /**
   * Automatic rotation period of every key (90 to 2560 days).
   *
   * @default Duration.days(365)
   */
  readonly rotationPeriod?: Duration;

  /**
   * Waiting period before a key is deleted after deletion is scheduled (7 to 30 days).
   *
   * @default Duration.days(30)
   */
  readonly pendingWindow?: Duration;

  /**
   * Keys that are allowed not to meet the policy, each with its reason.
   *
   * @default - none; more can be added with `acknowledge()`
   */
  readonly acknowledgements?: RotationAcknowledgement[];

  /**
   * Scheduled on-demand rotation through EventBridge Scheduler, which calls KMS directly.
   *
   * @default - no on-demand rotation
   */
  readonly onDemandRotation?: OnDemandRotationOptions;

  /**
   * Whether EventBridge rules report rotation being turned off, keys being disabled, scheduled for
   * deletion or given a new key policy, and every rotation, to an SNS topic.
   *
   * @default true
   */
  readonly monitoring?: boolean;

  /**
   * The SNS topic that receives the monitoring events.
   *
   * @default - a topic made by this construct, encrypted with its own customer-managed key and TLS-only
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * The stack that holds the monitoring rules and topic.
   *
   * @default - the stack this policy is in; when the policy is given an App or a Stage, a stack
   * named after the policy that it makes
   */
  readonly monitoringStack?: Stack;
}

type KeyFields = {
  keySpec?: unknown;
  keyUsage?: unknown;
  origin?: unknown;
  enableKeyRotation?: unknown;
  rotationPeriodInDays?: unknown;
  pendingWindowInDays?: unknown;
};

/** Which policy claimed which key, so two policies that disagree on one key are caught. */
const CLAIMS = new WeakMap<IConstruct, RotationPolicy>();

/**
 * Rotation for every `AWS::KMS::Key` in a scope, whatever construct made it: automatic rotation
 * with one period and pending window, errors with the fix for keys that cannot rotate, optional
 * scheduled on-demand rotation, and EventBridge monitoring of rotation being turned off.
 *
 * @example
 * const policy = new RotationPolicy(app, 'Rotation', { monitoringStack: securityStack });
 * policy.acknowledge(signingKey, 'RSA signing key, replaced by a new key and alias every year');
 */
export class RotationPolicy extends Construct implements IAspect {
  /** On-demand rotations KMS allows per key (AWS KMS Developer Guide, "Perform on-demand key rotation"). */
  public static readonly KMS_ON_DEMAND_ROTATION_LIMIT = KMS_ON_DEMAND_ROTATION_LIMIT;

  /** Whether keys are fixed or only reported. */
  public readonly mode: RotationPolicyMode;
  /** The rotation period, in days, every key gets. */
  public readonly rotationPeriodInDays: number;
  /** The pending window, in days, every key gets. */
  public readonly pendingWindowInDays: number;
  /** The topic that receives the monitoring events, when monitoring is on. */
  public readonly alarmTopic?: sns.ITopic;
  /** The EventBridge rules of the monitoring, when it is on. */
  public readonly monitoringRules: events.IRule[] = [];
  /** The on-demand rotation schedules, one per key, filled in at synth. */
  public readonly onDemandSchedules: scheduler.CfnSchedule[] = [];

  private readonly scope: IConstruct;
  private readonly visited = new Set<IConstruct>();
  private readonly acks = new Map<string, { reason: string; used: boolean }>();
  private readonly onDemand?: { days: number; start: Date; end: Date };
  private readonly schedulerParts = new Map<Stack, { holder: Construct; role: iam.Role; statement: iam.PolicyStatement }>();
  private monitoringEnv?: string;

  constructor(scope: Construct, id: string, props: RotationPolicyProps = {}) {
    super(scope, id);
    this.scope = scope;
    this.mode = props.mode ?? RotationPolicyMode.ENFORCE;
    if (!Object.values(RotationPolicyMode).includes(this.mode)) {
      invalidProp(this, 'mode', this.mode, `must be one of ${Object.values(RotationPolicyMode).join(', ')}`);
    }
    this.rotationPeriodInDays = wholeDays(this, 'rotationPeriod (days)', props.rotationPeriod, 365, ...ROTATION_DAYS);
    this.pendingWindowInDays = wholeDays(this, 'pendingWindow (days)', props.pendingWindow, 30, ...PENDING_DAYS);
    for (const ack of props.acknowledgements ?? []) this.acknowledgePath(ack.keyPath, ack.reason);
    this.onDemand = props.onDemandRotation && this.validateOnDemand(props.onDemandRotation);

    const monitoring = props.monitoring ?? true;
    if (!monitoring && props.alarmTopic) {
      invalidProp(this, 'alarmTopic', props.alarmTopic.node.path, 'is unused when monitoring is false; remove one of the two');
    }
    if (!monitoring && props.monitoringStack) {
      invalidProp(this, 'monitoringStack', props.monitoringStack.node.path, 'is unused when monitoring is false; remove one of the two');
    }
    if (monitoring) {
      this.alarmTopic = this.createMonitoring(props);
    }

    Aspects.of(scope).add(this);
    this.node.addValidation({ validate: () => this.unusedAcknowledgements() });
  }

  /**
   * Accepts that a key does not meet the policy; its error becomes a warning that records the reason.
   */
  public acknowledge(key: IConstruct, reason: string): void {
    this.acknowledgePath(key.node.path, reason);
  }

  /** Applies the policy to one construct; called by the Aspects framework. */
  public visit(node: IConstruct): void {
    if (!(node instanceof CfnResource) || node.cfnResourceType !== 'AWS::KMS::Key') return;
    // A second synth of the same app must not add the same annotations and schedules again.
    if (this.visited.has(node)) return;
    this.visited.add(node);
    const claimedBy = CLAIMS.get(node);
    if (claimedBy && claimedBy !== this) {
      if (claimedBy.describe() !== this.describe()) {
        Annotations.of(node).addError(
          `${node.node.path}: two RotationPolicies apply to this key and disagree (${claimedBy.node.path}: ${claimedBy.describe()}; ${this.node.path}: ${this.describe()}). ` +
          'Fix: give the policies scopes that do not overlap, or the same settings.');
      }
      return;
    }
    CLAIMS.set(node, this);
    const keyStack = Stack.of(node);
    if (this.monitoringEnv && !Token.isUnresolved(keyStack.account) && !Token.isUnresolved(keyStack.region) && `${keyStack.account}/${keyStack.region}` !== this.monitoringEnv) {
      Annotations.of(node).addError(
        `${node.node.path}: its environment ${keyStack.account}/${keyStack.region} is not that of the rotation monitoring of ${this.node.path} (${this.monitoringEnv}), whose EventBridge rules see only their own account and Region. ` +
        'Fix: one RotationPolicy per environment, each with a monitoringStack in that environment, or monitoring: false.');
    }

    const fields = readKeyFields(node);
    const blocker = whyItCannotRotate(fields);
    if (blocker === 'unknown') {
      Annotations.of(node).addWarningV2('cdk-s3-encryption:rotation-unknown',
        `${node.node.path}: KeySpec or Origin is only known at deploy time, so ${this.node.path} cannot tell whether this key can rotate; it is left as it is.`);
      return;
    }
    if (blocker) {
      this.reportOrAcknowledge(node, `cannot rotate: ${blocker.why}. Fix: ${blocker.fix}`);
      return;
    }

    const gaps = this.gaps(fields);
    if (gaps.length > 0) {
      if (this.mode === RotationPolicyMode.REPORT) {
        this.reportOrAcknowledge(node,
          `does not meet the rotation policy: ${gaps.join('; ')}. Fix: set enableKeyRotation: true, rotationPeriod: Duration.days(${this.rotationPeriodInDays}) ` +
          `and pendingWindow: Duration.days(${this.pendingWindowInDays}) on the key (AWS::KMS::Key EnableKeyRotation, RotationPeriodInDays, PendingWindowInDays), or use RotationPolicyMode.ENFORCE`);
        return;
      }
      setKeyFields(node, { EnableKeyRotation: true, RotationPeriodInDays: this.rotationPeriodInDays, PendingWindowInDays: this.pendingWindowInDays });
      Annotations.of(node).addInfo(`${node.node.path}: rotation set by ${this.node.path} (${gaps.join('; ')}).`);
    }
    if (this.onDemand) this.scheduleOnDemandRotation(node);
  }

  /** The settings in words, for messages and for comparing two policies. */
  public describe(): string {
    return `${this.mode}, rotation every ${this.rotationPeriodInDays} days, pending window ${this.pendingWindowInDays} days`;
  }

  private gaps(fields: KeyFields): string[] {
    const gaps: string[] = [];
    if (fields.enableKeyRotation !== true) gaps.push(`EnableKeyRotation was ${show(fields.enableKeyRotation)}`);
    // KMS rotates every 365 days when RotationPeriodInDays is left out.
    const period = fields.rotationPeriodInDays ?? 365;
    if (period !== this.rotationPeriodInDays) gaps.push(`RotationPeriodInDays was ${show(period)}, the policy says ${this.rotationPeriodInDays}`);
    const pending = fields.pendingWindowInDays ?? 30;
    if (pending !== this.pendingWindowInDays) gaps.push(`PendingWindowInDays was ${show(pending)}, the policy says ${this.pendingWindowInDays}`);
    return gaps;
  }

  private reportOrAcknowledge(node: CfnResource, problem: string): void {
    const ack = this.acks.get(node.node.path) ?? this.acks.get(node.node.scope?.node.path ?? '');
    if (ack) {
      ack.used = true;
      Annotations.of(node).addWarningV2('cdk-s3-encryption:rotation-acknowledged',
        `${node.node.path} ${problem.split('. Fix:')[0]}. Acknowledged in ${this.node.path}: ${ack.reason}`);
      return;
    }
    Annotations.of(node).addError(
      `${node.node.path} ${problem}. To accept it, acknowledge the key with a reason: ` +
      `${this.node.id}.acknowledge(key, '<why>') or acknowledgements: [{ keyPath: '${node.node.scope?.node.path ?? node.node.path}', reason: '<why>' }].`);
  }

  private acknowledgePath(keyPath: string, reason: string): void {
    if (typeof keyPath !== 'string' || keyPath.trim().length === 0) {
      invalidProp(this, 'acknowledgements[].keyPath', keyPath, 'must be the construct path of a key, e.g. MyStack/MyKey');
    }
    if (typeof reason !== 'string' || reason.trim().length < 10) {
      invalidProp(this, `acknowledgement reason for ${keyPath}`, reason, 'must say why, in at least 10 characters');
    }
    const path = keyPath.replace(/^\/+/, '');
    if (this.acks.has(path)) {
      invalidProp(this, 'acknowledgements[].keyPath', keyPath, 'is acknowledged twice; keep one reason per key');
    }
    this.acks.set(path, { reason: reason.trim(), used: false });
  }

  private unusedAcknowledgements(): string[] {
    return [...this.acks.entries()].filter(([, a]) => !a.used).map(([path]) =>
      `${this.node.path}: invalid acknowledgement for '${path}': no key there needs one (no such key in ${this.scope.node.path || 'the app'}, or the key meets the policy); remove it`);
  }

  private validateOnDemand(o: OnDemandRotationOptions): { days: number; start: Date; end: Date } {
    const days = o.interval.toDays({ integral: false });
    checkIntRange(this, 'onDemandRotation.interval (days)', days, 1, 2560);
    const used = o.rotationsAlreadyUsed ?? 0;
    checkIntRange(this, 'onDemandRotation.rotationsAlreadyUsed', used, 0, KMS_ON_DEMAND_ROTATION_LIMIT);
    const left = KMS_ON_DEMAND_ROTATION_LIMIT - used;
    if (left === 0) {
      invalidProp(this, 'onDemandRotation.rotationsAlreadyUsed', used, `leaves no on-demand rotation: KMS allows ${KMS_ON_DEMAND_ROTATION_LIMIT} per key; remove onDemandRotation`);
    }
    checkIntRange(this, `onDemandRotation.rotations (KMS allows ${KMS_ON_DEMAND_ROTATION_LIMIT} on-demand rotations per key, ${used} used)`, o.rotations, 1, left);
    if (!(o.startDate instanceof Date) || isNaN(o.startDate.getTime())) {
      invalidProp(this, 'onDemandRotation.startDate', String(o.startDate), 'must be a valid date');
    }
    // The schedule fires at most once per interval from its start, so this end caps it at `rotations`.
    const end = new Date(o.startDate.getTime() + o.rotations * days * 86_400_000 - 60_000);
    if (end.getTime() <= Date.now()) {
      invalidProp(this, 'onDemandRotation.startDate', o.startDate.toISOString(), `makes the schedule end in the past (${end.toISOString()}); EventBridge Scheduler rejects it`);
    }
    return { days, start: o.startDate, end };
  }

  private scheduleOnDemandRotation(key: CfnResource): void {
    const o = this.onDemand!;
    const stack = Stack.of(key);
    let parts = this.schedulerParts.get(stack);
    if (!parts) {
      // Schedules live in the key's stack, so no cross-stack reference is needed for the key ARN.
      const holder = this.node.scopes.find((s) => Stack.isStack(s)) === stack ? this : new Construct(stack, `OnDemandRotation${Names.uniqueId(this).slice(-8)}`);
      const role = new iam.Role(holder, 'SchedulerRole', {
        description: `EventBridge Scheduler calls KMS RotateKeyOnDemand for ${this.node.path}`,
        assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com').withConditions({ StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } }),
      });
      const statement = new iam.PolicyStatement({ sid: 'RotateTheseKeysOnDemand', actions: ['kms:RotateKeyOnDemand'], resources: [] });
      // A customer-managed policy, not an inline one: the HIPAA, NIST and PCI packs reject inline policies.
      new iam.ManagedPolicy(holder, 'SchedulerPolicy', { description: 'KMS on-demand rotation of the keys of a RotationPolicy', statements: [statement], roles: [role] });
      parts = { holder, role, statement };
      this.schedulerParts.set(stack, parts);
    }
    const keyArn = key.getAtt('Arn').toString();
    parts.statement.addResources(keyArn);
    const schedule = new scheduler.CfnSchedule(parts.holder, `Rotate${Names.uniqueId(key)}`.slice(0, 250), {
      description: `On-demand rotation of ${key.node.path}: at most ${this.onDemandCount()} rotations of the ${KMS_ON_DEMAND_ROTATION_LIMIT} KMS allows per key`,
      scheduleExpression: `rate(${o.days} ${o.days === 1 ? 'day' : 'days'})`,
      scheduleExpressionTimezone: 'UTC',
      startDate: o.start.toISOString(),
      endDate: o.end.toISOString(),
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        // The Scheduler universal target calls the KMS API itself: no Lambda function in between.
        arn: `arn:${Aws.PARTITION}:scheduler:::aws-sdk:kms:rotateKeyOnDemand`,
        roleArn: parts.role.roleArn,
        input: Stack.of(parts.holder).toJsonString({ KeyId: keyArn }),
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
      },
    });
    this.onDemandSchedules.push(schedule);
  }

  private onDemandCount(): number {
    const o = this.onDemand!;
    return Math.round((o.end.getTime() + 60_000 - o.start.getTime()) / (o.days * 86_400_000));
  }

  /**
   * The environment of the stacks already under scope, for a monitoring stack of its own. EventBridge
   * rules see the events of their own account and Region only, so monitoring made for an app or a
   * stage must be in the environment of its keys: one environment is taken, several are refused.
   */
  private monitoringEnvironment(): { account: string; region: string } | undefined {
    const envs = new Map<string, { account: string; region: string }>();
    for (const c of this.scope.node.findAll()) {
      if (!Stack.isStack(c) || c.nested || c.node.scopes.includes(this)) continue;
      if (Token.isUnresolved(c.account) || Token.isUnresolved(c.region)) continue;
      envs.set(`${c.account}/${c.region}`, { account: c.account, region: c.region });
    }
    if (envs.size > 1) {
      invalidProp(this, 'monitoringStack', undefined,
        `is needed: the stacks under ${this.scope.node.path || 'the app'} are in ${envs.size} environments (${[...envs.keys()].join(', ')}), and EventBridge rules see the events of their own account and Region only. ` +
        'Fix: one RotationPolicy per environment, each with a monitoringStack in that environment, or monitoring: false');
    }
    return [...envs.values()][0];
  }

  private createMonitoring(props: RotationPolicyProps): sns.ITopic {
    const enclosing = this.node.scopes.find((s): s is Stack => Stack.isStack(s));
    const stack = props.monitoringStack ?? enclosing ?? new Stack(this, 'Monitoring', {
      description: `Monitoring of KMS key rotation for ${this.node.path}`,
      env: this.monitoringEnvironment(),
    });
    this.monitoringEnv = Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region) ? undefined : `${stack.account}/${stack.region}`;
    const scope = stack === this.node.scopes.find((s) => Stack.isStack(s)) ? this : new Construct(stack, `${this.node.id}Monitoring`);
    let topic = props.alarmTopic;
    let topicKey = topic?.masterKey;
    if (!topic) {
      topicKey = createManagedKey(scope, 'TopicKey', {
        description: `Key of the rotation monitoring topic of ${this.node.path}`,
        rotationPeriod: Duration.days(this.rotationPeriodInDays),
        pendingWindow: Duration.days(this.pendingWindowInDays),
      });
      topic = new sns.Topic(scope, 'Topic', {
        displayName: `KMS key rotation events of ${this.node.path}`,
        masterKey: topicKey,
        enforceSSL: true,
      });
    }
    // A topic policy (enforceSSL makes one) replaces SNS's default policy, so the rules need an allow
    // there; and on the topic's key, without source conditions, which KMS does not get from
    // EventBridge for encrypted topics (SNS Developer Guide, sns-key-management.html).
    const rules: [string, string, events.EventPattern][] = [
      ['KeyRotationAtRisk', 'A KMS key stopped rotating or was disabled, scheduled for deletion or given a new key policy', {
        source: ['aws.kms'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['kms.amazonaws.com'], eventName: ['DisableKeyRotation', 'DisableKey', 'ScheduleKeyDeletion', 'PutKeyPolicy'] },
      }],
      ['KeyMaterialRotated', 'KMS rotated the key material of a key automatically', {
        source: ['aws.kms'],
        detailType: ['KMS CMK Rotation'],
      }],
      ['KeyRotationRequested', 'A KMS key was rotated on demand, or its rotation settings changed', {
        source: ['aws.kms'],
        detailType: ['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail'],
        detail: { eventSource: ['kms.amazonaws.com'], eventName: ['RotateKeyOnDemand', 'RotateKey', 'EnableKeyRotation'] },
      }],
    ];
    // A bare target: the L2 SNS target would add its own topic-policy allow for EventBridge, with no
    // source condition; the one above is for this account's rules.
    const target: events.IRuleTarget = { bind: () => ({ arn: topic!.topicArn }) };
    for (const [id, description, eventPattern] of rules) {
      const rule = new events.Rule(scope, id, { description: `${description} (${this.node.path})`, eventPattern, targets: [target] });
      this.monitoringRules.push(rule);
    }
    allowTopicPublishers(this, topic, topicKey, { eventBridge: true, eventBridgeRuleArns: this.monitoringRules.map((r) => r.ruleArn) });
    return topic;
  }
}

function wholeDays(scope: IConstruct, prop: string, value: Duration | undefined, fallback: number, min: number, max: number): number {
  if (!value) return fallback;
  const days = value.toDays({ integral: false });
  checkIntRange(scope, prop, days, min, max);
  return days;
}

/** Reads the key fields from an L1 CfnKey or any CfnResource of type AWS::KMS::Key, overrides included. */
function readKeyFields(node: CfnResource): KeyFields {
  const stack = Stack.of(node);
  const overrides = (node as any).rawOverrides?.Properties ?? {};
  const props = node instanceof kms.CfnKey ? {
    KeySpec: node.keySpec,
    KeyUsage: node.keyUsage,
    Origin: node.origin,
    EnableKeyRotation: node.enableKeyRotation,
    RotationPeriodInDays: node.rotationPeriodInDays,
    PendingWindowInDays: node.pendingWindowInDays,
  } : ((node as any)._cfnProperties ?? {});
  const get = (name: string) => {
    const v = name in overrides ? overrides[name] : props[name];
    return Token.isUnresolved(v) ? stack.resolve(v) : v;
  };
  return {
    keySpec: get('KeySpec'),
    keyUsage: get('KeyUsage'),
    origin: get('Origin'),
    enableKeyRotation: get('EnableKeyRotation'),
    rotationPeriodInDays: get('RotationPeriodInDays'),
    pendingWindowInDays: get('PendingWindowInDays'),
  };
}

/**
 * Sets key fields on the L1 properties, which synth-time checkers read, and as overrides where
 * an override already exists, since an override wins over the property.
 */
function setKeyFields(node: CfnResource, values: Record<string, unknown>): void {
  const overrides = (node as any).rawOverrides?.Properties ?? {};
  for (const [name, value] of Object.entries(values)) {
    if (node instanceof kms.CfnKey) {
      (node as any)[name.charAt(0).toLowerCase() + name.slice(1)] = value;
      if (name in overrides) node.addPropertyOverride(name, value);
    } else {
      node.addPropertyOverride(name, value);
    }
  }
}

/** Why KMS cannot rotate this key automatically, with the fix; undefined when it can. */
function whyItCannotRotate(f: KeyFields): { why: string; fix: string } | 'unknown' | undefined {
  const resolvedOrUndefined = (v: unknown) => v === undefined || typeof v === 'string';
  if (!resolvedOrUndefined(f.keySpec) || !resolvedOrUndefined(f.origin)) return 'unknown';
  const spec = (f.keySpec as string | undefined) ?? 'SYMMETRIC_DEFAULT';
  const origin = (f.origin as string | undefined) ?? 'AWS_KMS';
  if (spec.startsWith('HMAC_')) {
    return {
      why: `it is an HMAC key (KeySpec ${spec}), and KMS rotates only symmetric encryption keys`,
      fix: 'create a new HMAC key on your own schedule, move the alias your code uses to it (kms.Alias), keep the old key until every MAC made with it has expired, and acknowledge this key',
    };
  }
  if (spec !== 'SYMMETRIC_DEFAULT') {
    return {
      why: `it is an asymmetric key (KeySpec ${spec}), and KMS rotates only symmetric encryption keys`,
      fix: 'create a new key pair on your own schedule, move the alias your code uses to it (kms.Alias), publish the new public key, keep the old key while its signatures or ciphertexts are in use, and acknowledge this key',
    };
  }
  if (origin === 'EXTERNAL') {
    return {
      why: 'its key material is imported (Origin EXTERNAL), and KMS does not rotate imported key material automatically',
      fix: 'use Origin AWS_KMS, or import new key material yourself (ImportKeyMaterial, then RotateKeyOnDemand) on a schedule, and acknowledge this key',
    };
  }
  if (origin === 'EXTERNAL_KEY_STORE' || origin === 'AWS_CLOUDHSM') {
    return {
      why: `its key material is in a custom key store (Origin ${origin}), which KMS does not rotate`,
      fix: 'rotate the key in the key store by making a new KMS key there and moving the alias your code uses to it, and acknowledge this key',
    };
  }
  return undefined;
}

function show(v: unknown): string {
  return v === undefined ? 'unset' : JSON.stringify(v);
}
