/**
 * Loads a synthesized cloud assembly (every stack, Stage assemblies and nested stacks included),
 * resolves its intrinsics for a fixed account, Region and partition, and answers "would AWS allow
 * this request?" by evaluating the identity policies of the principal together with the resource
 * policy of the target (bucket, key, topic) in an independent IAM engine.
 *
 * The engine fills in no context key itself: the request helpers here supply what the AWS service
 * really sends (TLS, the principal's account and tags, `kms:CallerAccount`); everything
 * request-specific (`kms:ViaService`, the encryption context, `aws:SourceArn`, SSE headers) is
 * given by the caller, each case citing the AWS page it follows.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, NestedStack, Stack, Stage } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Decision, evaluate } from './iam-engine';

export const ACCOUNT = '111111111111';
export const OTHER_ACCOUNT = '999999999999';
export const REGION = 'us-east-1';
export const PARTITION = 'aws';
export const ROOT = `arn:${PARTITION}:iam::${ACCOUNT}:root`;

interface LoadedStack {
  readonly name: string;
  readonly region: string;
  readonly account: string;
  readonly template: any;
  readonly parameters: Record<string, unknown>;
  /** Physical values of the resources, resolved lazily. */
  readonly resolved: Map<string, { ref: unknown; attrs: Record<string, unknown>; modelled: boolean }>;
}

export interface Resource {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly properties: any;
  readonly metadata: any;
  readonly ref: any;
  readonly arn: string;
  readonly region: string;
  readonly account: string;
}

export interface AccessRequest {
  /** An IAM ARN (role, user, root) or a service principal such as `logging.s3.amazonaws.com`. */
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  /** Context keys of the request; `undefined` removes a key the model would supply. */
  readonly context?: Record<string, string | string[] | undefined>;
  /** Identity policies for a principal outside the app (an external role). */
  readonly identityPolicies?: any[];
}

export interface AccessResult {
  readonly decision: Decision;
  readonly deciding: string[];
}

const SERVICE_PRINCIPAL = /^[a-z0-9.-]+\.amazonaws\.com$/;

/** The synthesized policies of an app, ready to be evaluated. */
export class AccessModel {
  /** Synthesizes an app (or stage) and loads every stack of its assembly. */
  public static of(app: App | Stage): AccessModel {
    // Nested stack templates are found through the constructs, so that the model does not depend
    // on asset metadata being enabled.
    const nested = new Map<string, string>();
    for (const c of app.node.findAll()) {
      if (NestedStack.isNestedStack(c)) {
        const resource = c.nestedStackResource;
        if (resource) nested.set(`${Stack.of(resource).stackName}/${Stack.of(resource).resolve(resource.logicalId)}`, c.templateFile);
      }
    }
    return new AccessModel(app.synth(), nested);
  }

  private readonly stacks: LoadedStack[] = [];
  private readonly exports = new Map<string, unknown>();
  private readonly resources: Resource[] = [];

  constructor(assembly: cxapi.CloudAssembly, private readonly nestedTemplates = new Map<string, string>()) {
    for (const artifact of assembly.stacksRecursively) {
      this.load(artifact.stackName, artifact.template, artifact.assembly.directory, artifact.environment, {});
    }
    // Exports first, so that Fn::ImportValue resolves in any order.
    for (const stack of this.stacks) {
      for (const output of Object.values<any>(stack.template.Outputs ?? {})) {
        if (!output.Export) continue;
        this.exports.set(String(this.resolve(stack, output.Export.Name)), output.Value === undefined ? undefined : this.resolve(stack, output.Value));
      }
    }
    for (const stack of this.stacks) {
      for (const [logicalId, r] of Object.entries<any>(stack.template.Resources ?? {})) {
        const { ref, attrs } = this.physical(stack, logicalId);
        this.resources.push({
          stack: stack.name,
          logicalId,
          type: r.Type,
          properties: this.resolve(stack, r.Properties ?? {}),
          metadata: r.Metadata ?? {},
          ref,
          arn: String(attrs.Arn ?? ref),
          region: stack.region,
          account: stack.account,
        });
      }
    }
  }

  /** Every resource of a type, optionally those whose logical id or construct path contains `match`. */
  public all(type: string, match?: string | RegExp): Resource[] {
    return this.resources.filter((r) => r.type === type && (match === undefined || matches(r, match)));
  }

  /** The one resource of a type that matches; fails when none or several do. */
  public one(type: string, match?: string | RegExp): Resource {
    const found = this.all(type, match);
    if (found.length !== 1) {
      throw new Error(`expected one ${type} matching ${match}, found ${found.length}: ${found.map((r) => `${r.stack}/${r.logicalId}`).join(', ')}`);
    }
    return found[0];
  }

  public bucket(match?: string | RegExp): { name: string; arn: string; region: string; resource: Resource } {
    const r = this.one('AWS::S3::Bucket', match);
    return { name: String(r.ref), arn: r.arn, region: r.region, resource: r };
  }

  /** The key ARN behind a key ARN or an alias ARN of the app (S3 resolves aliases the same way). */
  public keyBehind(arn: string): string {
    const [, , , region, , resource] = arn.split(':');
    if (!resource?.startsWith('alias/')) return arn;
    const alias = this.resources.find((r) => r.type === 'AWS::KMS::Alias' && r.properties.AliasName === resource && r.region === region);
    if (!alias) throw new Error(`no alias ${arn} in the app`);
    const target = String(alias.properties.TargetKeyId);
    const key = this.resources.find((r) => r.type === 'AWS::KMS::Key' && r.region === region && (r.ref === target || r.arn === target));
    if (!key) throw new Error(`alias ${arn} targets ${target}, not a key of the app`);
    return key.arn;
  }

  public keyArn(match?: string | RegExp): string {
    return this.one('AWS::KMS::Key', match).arn;
  }

  public roleArn(match?: string | RegExp): string {
    return this.one('AWS::IAM::Role', match).arn;
  }

  public topicArn(match?: string | RegExp): string {
    return String(this.one('AWS::SNS::Topic', match).ref);
  }

  /** The ARN of the key that encrypts a topic of the app (its KmsMasterKeyId, an alias resolved). */
  public topicKeyArn(match?: string | RegExp): string {
    const topic = this.one('AWS::SNS::Topic', match);
    const id = topic.properties.KmsMasterKeyId;
    if (typeof id !== 'string' || !id.startsWith('arn:')) throw new Error(`topic ${topic.stack}/${topic.logicalId} is not encrypted with a key ARN of the app: ${JSON.stringify(id)}`);
    return this.keyBehind(id);
  }

  /** Evaluates a request with the identity policies of its principal and the policy of its target. */
  public evaluate(request: AccessRequest): AccessResult {
    const principal = request.principal;
    const service = SERVICE_PRINCIPAL.test(principal);
    const principalAccount = service ? undefined : principal.split(':')[4];
    const target = this.targetOf(request.resource);
    const context: Record<string, string | string[] | undefined> = {
      'aws:SecureTransport': 'true',
      ...(request.action.startsWith('s3:') ? { 's3:TlsVersion': '1.3' } : {}),
      ...(service ? { 'aws:PrincipalIsAWSService': 'true', 'aws:PrincipalServiceName': principal } : {
        'aws:PrincipalIsAWSService': 'false',
        'aws:PrincipalAccount': principalAccount,
        'aws:PrincipalArn': principal,
        ...this.principalTags(principal),
      }),
      ...(request.action.startsWith('kms:') && principalAccount ? { 'kms:CallerAccount': principalAccount } : {}),
      ...request.context,
    };
    const clean: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(context)) if (v !== undefined) clean[k] = v;
    const identity = service ? [] : request.identityPolicies ?? this.identityPolicies(principal);
    const result = evaluate({
      principal,
      action: request.action,
      resource: request.resource,
      resourceAccount: target.account,
      context: clean,
      identityPolicies: identity.map((document, i) => ({ name: `identity${i}`, document })),
      resourcePolicy: target.policy ? { name: target.name, document: target.policy } : undefined,
    });
    return result;
  }

  /**
   * A service assuming a role of the app: the role's trust policy is the resource policy (role
   * trust is evaluated like any resource policy, with no identity policy for a service).
   */
  public assumeRole(servicePrincipal: string, roleArn: string, context: Record<string, string>): AccessResult {
    const role = this.resources.find((r) => r.type === 'AWS::IAM::Role' && r.arn === roleArn);
    if (!role) throw new Error(`no role ${roleArn} in the app`);
    return evaluate({
      principal: servicePrincipal,
      action: 'sts:AssumeRole',
      resource: roleArn,
      resourceAccount: role.account,
      context: { 'aws:SecureTransport': 'true', ...context },
      identityPolicies: [],
      resourcePolicy: { name: `trust policy of ${roleArn}`, document: role.properties.AssumeRolePolicyDocument },
    });
  }

  /** The identity policies attached to a role or user of the app (the account root may do anything). */
  public identityPolicies(principalArn: string): any[] {
    if (/^arn:[^:]+:iam::\d{12}:root$/.test(principalArn)) {
      return [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }];
    }
    const principal = this.resources.find((r) => (r.type === 'AWS::IAM::Role' || r.type === 'AWS::IAM::User') && r.arn === principalArn);
    if (!principal) return [];
    const docs: any[] = [];
    for (const p of principal.properties.Policies ?? []) docs.push(p.PolicyDocument);
    const key = principal.type === 'AWS::IAM::Role' ? 'Roles' : 'Users';
    for (const p of this.resources.filter((r) => r.type === 'AWS::IAM::Policy' || r.type === 'AWS::IAM::ManagedPolicy')) {
      const attached = (p.properties[key] ?? []).map(String);
      const byArn = p.type === 'AWS::IAM::ManagedPolicy' && (principal.properties.ManagedPolicyArns ?? []).map(String).includes(String(p.ref));
      if (attached.includes(String(principal.ref)) || byArn) docs.push(p.properties.PolicyDocument);
    }
    return docs;
  }

  private principalTags(principalArn: string): Record<string, string> {
    const principal = this.resources.find((r) => (r.type === 'AWS::IAM::Role' || r.type === 'AWS::IAM::User') && r.arn === principalArn);
    const tags: Record<string, string> = {};
    for (const t of principal?.properties.Tags ?? []) tags[`aws:PrincipalTag/${t.Key}`] = String(t.Value);
    return tags;
  }

  /** The resource policy that governs an ARN: the bucket's, the key's or the topic's. */
  private targetOf(arn: string): { account: string; name: string; policy?: any } {
    const parts = arn.split(':');
    const service = parts[2];
    if (service === 's3') {
      const bucketName = parts.slice(5).join(':').split('/')[0];
      const bucket = this.resources.find((r) => r.type === 'AWS::S3::Bucket' && r.ref === bucketName);
      const policy = bucket && this.resources.find((r) => r.type === 'AWS::S3::BucketPolicy' && r.properties.Bucket === bucketName);
      return { account: bucket ? bucket.account : OTHER_ACCOUNT, name: `bucket policy of ${bucketName}`, policy: policy?.properties.PolicyDocument };
    }
    if (service === 'kms') {
      const key = this.resources.find((r) => r.type === 'AWS::KMS::Key' && r.arn === arn);
      return { account: parts[4], name: `key policy of ${arn}`, policy: key?.properties.KeyPolicy ?? { Version: '2012-10-17', Statement: [] } };
    }
    if (service === 'sns') {
      const policy = this.resources.find((r) => r.type === 'AWS::SNS::TopicPolicy' && (r.properties.Topics ?? []).map(String).includes(arn));
      // Without a topic policy resource, SNS's default policy lets the owning account's principals in.
      return { account: parts[4], name: `topic policy of ${arn}`, policy: policy?.properties.PolicyDocument ?? defaultTopicPolicy(arn, parts[4]) };
    }
    if (service === 'secretsmanager') {
      const policy = this.resources.find((r) => r.type === 'AWS::SecretsManager::ResourcePolicy' && String(r.properties.SecretId) === arn);
      return { account: parts[4], name: `resource policy of ${arn}`, policy: policy?.properties.ResourcePolicy };
    }
    return { account: parts[4] || ACCOUNT, name: arn };
  }

  private load(name: string, template: any, directory: string, env: cxapi.Environment, parameters: Record<string, unknown>): void {
    const region = env.region === cxapi.UNKNOWN_REGION ? REGION : env.region;
    const account = env.account === cxapi.UNKNOWN_ACCOUNT ? ACCOUNT : env.account;
    const stack: LoadedStack = { name, region, account, template, parameters, resolved: new Map() };
    this.stacks.push(stack);
    for (const [logicalId, r] of Object.entries<any>(template.Resources ?? {})) {
      if (r.Type !== 'AWS::CloudFormation::Stack') continue;
      const file = r.Metadata?.['aws:asset:path'] ?? this.nestedTemplates.get(`${name}/${logicalId}`);
      if (!file) throw new Error(`${name}/${logicalId}: nested stack template not found (no asset metadata and not built from a NestedStack of this app)`);
      const nested = JSON.parse(fs.readFileSync(path.join(directory, file), 'utf-8'));
      const params: Record<string, unknown> = {};
      for (const [k, v] of Object.entries<any>(r.Properties?.Parameters ?? {})) params[k] = { __deferred: v, __stack: stack };
      this.load(`${name}/${logicalId}`, nested, directory, env, params);
    }
  }

  private stackNamed(name: string): LoadedStack {
    return this.stacks.find((s) => s.name === name)!;
  }

  private physical(stack: LoadedStack, logicalId: string): { ref: unknown; attrs: Record<string, any>; modelled: boolean } {
    const cached = stack.resolved.get(logicalId);
    if (cached) return cached;
    const r = stack.template.Resources?.[logicalId];
    if (!r) throw new Error(`${stack.name}: no resource ${logicalId}`);
    const entry = { ref: undefined as unknown, attrs: {} as Record<string, any>, modelled: true };
    stack.resolved.set(logicalId, entry);
    const props = r.Properties ?? {};
    const named = (prop: string, fallback: string) => (props[prop] !== undefined ? String(this.resolve(stack, props[prop])) : fallback);
    const { region, account } = stack;
    // Generated names carry the stack, as CloudFormation's do, so that two stacks never share one.
    const id = `${stack.name.toLowerCase().replace(/[^a-z0-9-]/g, '-')}-${logicalId.toLowerCase()}`;
    switch (r.Type) {
      case 'AWS::S3::Bucket': {
        const bucketName = named('BucketName', id);
        entry.ref = bucketName;
        entry.attrs = { Arn: `arn:${PARTITION}:s3:::${bucketName}`, DomainName: `${bucketName}.s3.amazonaws.com`, RegionalDomainName: `${bucketName}.s3.${region}.amazonaws.com` };
        break;
      }
      case 'AWS::KMS::Key':
        entry.ref = `key-${id}`;
        entry.attrs = { Arn: `arn:${PARTITION}:kms:${region}:${account}:key/key-${id}`, KeyId: `key-${id}` };
        break;
      case 'AWS::KMS::Alias':
        entry.ref = named('AliasName', `alias/${id}`);
        break;
      case 'AWS::IAM::Role':
      case 'AWS::IAM::User': {
        const kind = r.Type === 'AWS::IAM::Role' ? 'role' : 'user';
        const n = named(kind === 'role' ? 'RoleName' : 'UserName', id);
        entry.ref = n;
        entry.attrs = { Arn: `arn:${PARTITION}:iam::${account}:${kind}/${n}`, RoleId: `AROA${id}` };
        break;
      }
      case 'AWS::IAM::ManagedPolicy':
        entry.ref = `arn:${PARTITION}:iam::${account}:policy/${named('ManagedPolicyName', id)}`;
        break;
      case 'AWS::SNS::Topic': {
        const n = named('TopicName', id);
        entry.ref = `arn:${PARTITION}:sns:${region}:${account}:${n}`;
        entry.attrs = { TopicArn: entry.ref, TopicName: n };
        break;
      }
      case 'AWS::CloudTrail::Trail': {
        const n = named('TrailName', id);
        entry.ref = n;
        entry.attrs = { Arn: `arn:${PARTITION}:cloudtrail:${region}:${account}:trail/${n}` };
        break;
      }
      case 'AWS::Logs::LogGroup': {
        const n = named('LogGroupName', id);
        entry.ref = n;
        entry.attrs = { Arn: `arn:${PARTITION}:logs:${region}:${account}:log-group:${n}:*` };
        break;
      }
      case 'AWS::Lambda::Function': {
        const n = named('FunctionName', id);
        entry.ref = n;
        entry.attrs = { Arn: `arn:${PARTITION}:lambda:${region}:${account}:function:${n}` };
        break;
      }
      case 'AWS::SecretsManager::Secret':
        entry.ref = `arn:${PARTITION}:secretsmanager:${region}:${account}:secret:${named('Name', id)}-AbCdEf`;
        entry.attrs = { Id: entry.ref };
        break;
      case 'AWS::CloudWatch::Alarm': {
        const n = named('AlarmName', id);
        entry.ref = n;
        entry.attrs = { Arn: `arn:${PARTITION}:cloudwatch:${region}:${account}:alarm:${n}` };
        break;
      }
      case 'AWS::Events::Rule': {
        const n = named('Name', id);
        entry.ref = n;
        entry.attrs = { Arn: `arn:${PARTITION}:events:${region}:${account}:rule/${n}` };
        break;
      }
      case 'AWS::CloudFormation::Stack': {
        const nested = this.stackNamed(`${stack.name}/${logicalId}`);
        entry.ref = `arn:${PARTITION}:cloudformation:${region}:${account}:stack/${logicalId}/id`;
        entry.attrs = new Proxy({}, {
          get: (_t, attr: string) => {
            if (nested && attr.startsWith('Outputs.')) return this.resolve(nested, nested.template.Outputs?.[attr.slice(8)]?.Value);
            return undefined;
          },
        });
        break;
      }
      default: {
        entry.modelled = false;
        const service = r.Type.split('::')[1].toLowerCase();
        entry.ref = logicalId;
        entry.attrs = { Arn: `arn:${PARTITION}:${service}:${region}:${account}:${id}` };
      }
    }
    return entry;
  }

  private resolve(stack: LoadedStack, value: any): any {
    if (Array.isArray(value)) return value.map((v) => this.resolve(stack, v)).filter((v) => v !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const [fn] = keys;
      const arg = value[fn];
      switch (fn) {
        case 'Ref': return this.ref(stack, arg);
        case 'Fn::GetAtt': {
          const [logicalId, attr] = Array.isArray(arg) ? arg : String(arg).split(/\.(.+)/);
          const p = this.physical(stack, logicalId);
          const v = p.attrs[attr];
          if (v !== undefined) return v;
          // Attributes of resources that no policy here decides on (a security group's id, a load
          // balancer's DNS name) are opaque values; a modelled resource's missing attribute is an error.
          if (!p.modelled) return `${logicalId}.${attr}`;
          throw new Error(`${stack.name}: no attribute ${attr} of ${logicalId}`);
        }
        case 'Fn::Join': {
          const [sep, parts] = arg;
          return (this.resolve(stack, parts) as any[]).map(String).join(sep);
        }
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(arg) ? arg : [arg, {}];
          return String(text).replace(/\$\{([^}!][^}]*)\}/g, (_m, name: string) => {
            if (vars[name] !== undefined) return String(this.resolve(stack, vars[name]));
            if (name.includes('.')) return String(this.resolve(stack, { 'Fn::GetAtt': name.split(/\.(.+)/).slice(0, 2) }));
            return String(this.ref(stack, name));
          });
        }
        case 'Fn::Select': return (this.resolve(stack, arg[1]) as any[])[Number(this.resolve(stack, arg[0]))];
        case 'Fn::Split': return String(this.resolve(stack, arg[1])).split(arg[0]);
        case 'Fn::If': return this.condition(stack, arg[0]) ? this.resolve(stack, arg[1]) : this.resolve(stack, arg[2]);
        case 'Fn::ImportValue': {
          const name = String(this.resolve(stack, arg));
          if (!this.exports.has(name)) throw new Error(`${stack.name}: no export ${name}`);
          return this.exports.get(name);
        }
        case 'Fn::FindInMap': {
          const [map, k1, k2] = arg.map((a: any) => this.resolve(stack, a));
          return stack.template.Mappings?.[map]?.[k1]?.[k2];
        }
        case 'Fn::GetAZs': return [`${stack.region}a`, `${stack.region}b`];
        case 'Fn::Base64': return Buffer.from(String(this.resolve(stack, arg))).toString('base64');
        default:
      }
    }
    if (value.__deferred !== undefined) return this.resolve(value.__stack, value.__deferred);
    const out: any = {};
    for (const k of keys) {
      const v = this.resolve(stack, value[k]);
      if (v !== NO_VALUE) out[k] = v;
    }
    return out;
  }

  private ref(stack: LoadedStack, name: string): any {
    switch (name) {
      case 'AWS::AccountId': return stack.account;
      case 'AWS::Region': return stack.region;
      case 'AWS::Partition': return PARTITION;
      case 'AWS::URLSuffix': return 'amazonaws.com';
      case 'AWS::StackName': return stack.name.split('/').pop();
      case 'AWS::StackId': return `arn:${PARTITION}:cloudformation:${stack.region}:${stack.account}:stack/${stack.name}/id`;
      case 'AWS::NoValue': return NO_VALUE;
      case 'AWS::NotificationARNs': return [];
      default:
    }
    if (stack.template.Parameters?.[name] !== undefined) {
      const given = stack.parameters[name];
      if (given !== undefined) return this.resolve(stack, given);
      return stack.template.Parameters[name].Default;
    }
    return this.physical(stack, name).ref;
  }

  private condition(stack: LoadedStack, name: string): boolean {
    return this.evalCondition(stack, stack.template.Conditions?.[name]);
  }

  private evalCondition(stack: LoadedStack, c: any): boolean {
    const [fn] = Object.keys(c);
    const arg = c[fn];
    switch (fn) {
      case 'Fn::Equals': return JSON.stringify(this.resolve(stack, arg[0])) === JSON.stringify(this.resolve(stack, arg[1]));
      case 'Fn::Not': return !this.evalCondition(stack, arg[0]);
      case 'Fn::And': return arg.every((a: any) => this.evalCondition(stack, a));
      case 'Fn::Or': return arg.some((a: any) => this.evalCondition(stack, a));
      case 'Condition': return this.condition(stack, arg);
      default: throw new Error(`${stack.name}: unsupported condition ${fn}`);
    }
  }
}

const NO_VALUE = Symbol('AWS::NoValue');

function matches(r: Resource, match: string | RegExp): boolean {
  const subject = `${r.stack}/${r.logicalId} ${r.metadata['aws:cdk:path'] ?? ''} ${typeof r.ref === 'string' ? r.ref : ''}`;
  return typeof match === 'string' ? subject.includes(match) : match.test(subject);
}

/** SNS's default topic policy: the owning account's principals may publish and manage the topic. */
function defaultTopicPolicy(topicArn: string, account: string): any {
  return {
    Version: '2012-10-17',
    Statement: [{
      Sid: 'SnsDefaultPolicy',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: ['sns:Publish', 'sns:Subscribe', 'sns:GetTopicAttributes', 'sns:SetTopicAttributes'],
      Resource: topicArn,
      Condition: { StringEquals: { 'AWS:SourceOwner': account } },
    }],
  };
}
