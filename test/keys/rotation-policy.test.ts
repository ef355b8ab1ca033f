import { App, CfnParameter, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { RotationPolicy, RotationPolicyMode, RotationPolicyProps } from '../../src';
import { denyCreateGrantStatement, keyAdminStatement } from '../../src/keys/key-policy';
import { allFindings } from '../support/compliance';

const ENV = { account: '111111111111', region: 'us-east-1' };
const START = new Date('2030-01-01T00:00:00Z');

/** Keys as other libraries make them: an L2 key with rotation off, a bare L1 key, an asymmetric and an HMAC key. */
function thirdPartyKeys(stack: Stack) {
  return {
    l2: new kms.Key(stack, 'ThirdParty', { enableKeyRotation: false, pendingWindow: Duration.days(7) }),
    l1: new kms.CfnKey(stack, 'RawKey', { description: 'made by an L1', keyPolicy: { Version: '2012-10-17', Statement: [keyAdminStatement().toStatementJson()] } }),
    asymmetric: new kms.Key(stack, 'SigningKey', { keySpec: kms.KeySpec.RSA_2048, keyUsage: kms.KeyUsage.SIGN_VERIFY }),
    hmac: new kms.Key(stack, 'MacKey', { keySpec: kms.KeySpec.HMAC_256, keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC }),
  };
}

function make(props: RotationPolicyProps = { rotationPeriod: Duration.days(180) }, extra?: (stack: Stack) => void) {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: ENV });
  const keys = thirdPartyKeys(stack);
  extra?.(stack);
  const policy = new RotationPolicy(stack, 'Rotation', props);
  return { app, stack, keys, policy };
}

function keyProps(template: Template, logicalIdPrefix: string): any {
  const entry = Object.entries(template.findResources('AWS::KMS::Key')).find(([id]) => id.startsWith(logicalIdPrefix));
  expect(entry).toBeDefined();
  return (entry![1] as any).Properties;
}

function errors(stack: Stack) {
  return Annotations.fromStack(stack).findError('*', Match.anyValue()).map((e) => ({ path: e.id, text: String(e.entry.data) }));
}

describe('RotationPolicy on keys made by other code', () => {
  const { stack, keys, policy } = make({ rotationPeriod: Duration.days(180) });
  policy.acknowledge(keys.hmac, 'MAC key for webhook signatures, replaced with a new key and alias yearly');
  const template = Template.fromStack(stack);

  test('an L2 key with rotation off ends up rotating with the period and the pending window', () => {
    expect(keyProps(template, 'ThirdParty')).toMatchObject({ EnableKeyRotation: true, RotationPeriodInDays: 180, PendingWindowInDays: 30 });
  });

  test('a bare CfnKey ends up rotating with the period', () => {
    expect(keyProps(template, 'RawKey')).toMatchObject({ EnableKeyRotation: true, RotationPeriodInDays: 180, PendingWindowInDays: 30 });
  });

  test('the L1 properties themselves change, so synth-time checkers see the rotation', () => {
    expect(keys.l1.enableKeyRotation).toBe(true);
    expect(keys.l1.rotationPeriodInDays).toBe(180);
  });

  test('an asymmetric key is a synth error naming the key, why and the fix', () => {
    const e = errors(stack).filter((x) => x.path === '/Test/SigningKey/Resource');
    expect(e).toHaveLength(1);
    expect(e[0].text).toMatch(/^Test\/SigningKey\/Resource cannot rotate: it is an asymmetric key \(KeySpec RSA_2048\), and KMS rotates only symmetric encryption keys\. Fix: create a new key pair/);
    expect(e[0].text).toContain("acknowledgements: [{ keyPath: 'Test/SigningKey', reason: '<why>' }]");
    expect(keyProps(template, 'SigningKey').EnableKeyRotation).toBeUndefined();
  });

  test('an acknowledged HMAC key is a warning that records the reason, not an error', () => {
    expect(errors(stack).filter((x) => x.path.startsWith('/Test/MacKey'))).toHaveLength(0);
    const w = Annotations.fromStack(stack).findWarning('/Test/MacKey/Resource', Match.stringLikeRegexp('HMAC key \\(KeySpec HMAC_256\\).*Acknowledged in Test/Rotation: MAC key for webhook signatures'));
    expect(w).toHaveLength(1);
  });

  test('records what it changed as info on each key', () => {
    const info = Annotations.fromStack(stack).findInfo('/Test/ThirdParty/Resource', Match.stringLikeRegexp('rotation set by Test/Rotation'));
    expect(String(info[0].entry.data)).toContain('EnableKeyRotation was false; RotationPeriodInDays was 365, the policy says 180; PendingWindowInDays was 7, the policy says 30');
  });

  test('only the asymmetric key errors', () => {
    expect(errors(stack).map((e) => e.path)).toEqual(['/Test/SigningKey/Resource']);
  });

  test('monitoring: rules on DisableKeyRotation, DisableKey, ScheduleKeyDeletion, PutKeyPolicy and the rotation events', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')).map((r: any) => r.Properties.EventPattern);
    expect(rules).toHaveLength(3);
    expect(rules[0].detail.eventName).toEqual(['DisableKeyRotation', 'DisableKey', 'ScheduleKeyDeletion', 'PutKeyPolicy']);
    expect(rules[0]['detail-type']).toEqual(['AWS API Call via CloudTrail']);
    expect(rules[1]['detail-type']).toEqual(['KMS CMK Rotation']);
    expect(rules[2].detail.eventName).toEqual(['RotateKeyOnDemand', 'RotateKey', 'EnableKeyRotation']);
  });

  test('monitoring topic: own CMK, TLS only, publish allowed to its three EventBridge rules only', () => {
    const topic: any = Object.values(template.findResources('AWS::SNS::Topic'))[0];
    expect(topic.Properties.KmsMasterKeyId['Fn::GetAtt'][0]).toMatch(/^RotationTopicKey/);
    const statements = (Object.values(template.findResources('AWS::SNS::TopicPolicy'))[0] as any).Properties.PolicyDocument.Statement;
    expect(statements.find((s: any) => s.Effect === 'Deny').Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
    const publish = statements.filter((s: any) => s.Principal?.Service === 'events.amazonaws.com');
    expect(publish).toHaveLength(1);
    expect(publish[0].Condition.ArnLike['aws:SourceArn'].map((a: any) => a['Fn::GetAtt'][0])).toEqual([
      expect.stringMatching(/^RotationKeyRotationAtRisk/), expect.stringMatching(/^RotationKeyMaterialRotated/), expect.stringMatching(/^RotationKeyRotationRequested/),
    ]);
    expect(JSON.stringify(keyProps(template, 'RotationTopicKey').KeyPolicy.Statement)).not.toContain('"kms:*"');
  });

  test('the topic key lets EventBridge in without source conditions, which KMS does not get from EventBridge', () => {
    const events = keyProps(template, 'RotationTopicKey').KeyPolicy.Statement.filter((s: any) => s.Principal?.Service === 'events.amazonaws.com');
    expect(events).toHaveLength(1);
    expect(events[0].Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    expect(events[0].Condition).toBeUndefined();
  });

  test('the topic key is under the policy too', () => {
    expect(keyProps(template, 'RotationTopicKey')).toMatchObject({ EnableKeyRotation: true, RotationPeriodInDays: 180 });
  });

  test('matches the snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});

describe('keys of every origin and maker', () => {
  test('imported key material and a custom key store are errors with their fix', () => {
    const { stack } = make(undefined, (s) => {
      new kms.CfnKey(s, 'Imported', { origin: 'EXTERNAL', keyPolicy: {} });
      const xks = new kms.CfnKey(s, 'InKeyStore', { keyPolicy: {} });
      xks.addPropertyOverride('Origin', 'EXTERNAL_KEY_STORE');
    });
    const e = errors(stack);
    expect(e.find((x) => x.path === '/Test/Imported')!.text).toMatch(/imported \(Origin EXTERNAL\).*Fix: use Origin AWS_KMS, or import new key material/);
    expect(e.find((x) => x.path === '/Test/InKeyStore')!.text).toMatch(/custom key store \(Origin EXTERNAL_KEY_STORE\).*Fix: rotate the key in the key store/);
  });

  test('a key made as a plain CfnResource and a key whose rotation was overridden off are fixed', () => {
    const { stack } = make(undefined, (s) => {
      new CfnResource(s, 'Generic', { type: 'AWS::KMS::Key', properties: { KeyPolicy: {}, EnableKeyRotation: false } });
      const k = new kms.Key(s, 'Overridden', { enableKeyRotation: true });
      (k.node.defaultChild as kms.CfnKey).addPropertyOverride('EnableKeyRotation', false);
    });
    const t = Template.fromStack(stack);
    expect(keyProps(t, 'Generic')).toMatchObject({ EnableKeyRotation: true, RotationPeriodInDays: 180, PendingWindowInDays: 30 });
    expect(keyProps(t, 'Overridden')).toMatchObject({ EnableKeyRotation: true, RotationPeriodInDays: 180 });
  });

  test('a KeySpec known only at deploy time is left alone with a warning', () => {
    const { stack } = make(undefined, (s) => {
      const p = new CfnParameter(s, 'Spec', { default: 'SYMMETRIC_DEFAULT' });
      new kms.CfnKey(s, 'ParamKey', { keySpec: p.valueAsString, keyPolicy: {} });
    });
    expect(Annotations.fromStack(stack).findWarning('/Test/ParamKey', Match.stringLikeRegexp('only known at deploy time'))).toHaveLength(1);
  });

  test('given the app, it applies to every stack and puts monitoring in a stack of its own', () => {
    const app = new App();
    const a = new Stack(app, 'A', { env: ENV });
    const b = new Stack(app, 'B', { env: ENV });
    new kms.Key(a, 'K', { enableKeyRotation: false });
    new kms.CfnKey(b, 'K', { keyPolicy: {} });
    const policy = new RotationPolicy(app, 'Rotation', { rotationPeriod: Duration.days(90) });
    expect(keyProps(Template.fromStack(a), 'K')).toMatchObject({ EnableKeyRotation: true, RotationPeriodInDays: 90 });
    expect(keyProps(Template.fromStack(b), 'K')).toMatchObject({ EnableKeyRotation: true, RotationPeriodInDays: 90 });
    const monitoring = policy.node.findChild('Monitoring') as Stack;
    const mt = Template.fromStack(monitoring);
    mt.resourceCountIs('AWS::Events::Rule', 3);
    mt.resourceCountIs('AWS::SNS::Topic', 1);
    expect(keyProps(mt, 'RotationMonitoringTopicKey')).toMatchObject({ RotationPeriodInDays: 90 });
  });

  test('a given topic receives the events and no topic is made', () => {
    const app2 = new App();
    const s2 = new Stack(app2, 'Test', { env: ENV });
    const topic = new sns.Topic(s2, 'Mine', { masterKey: new kms.Key(s2, 'TopicKey', { enableKeyRotation: true }), enforceSSL: true });
    new RotationPolicy(s2, 'Rotation', { alarmTopic: topic });
    const t = Template.fromStack(s2);
    t.resourceCountIs('AWS::SNS::Topic', 1);
    const rules = Object.values(t.findResources('AWS::Events::Rule')) as any[];
    expect(rules).toHaveLength(3);
    for (const r of rules) expect(r.Properties.Targets[0].Arn.Ref).toMatch(/^Mine/);
    const keyStatements = keyProps(t, 'TopicKey').KeyPolicy.Statement;
    expect(keyStatements.filter((s: any) => s.Principal?.Service === 'events.amazonaws.com')).toHaveLength(1);
  });

  test('an imported topic gets a warning with the statement to add', () => {
    const app = new App();
    const s = new Stack(app, 'Test', { env: ENV });
    new RotationPolicy(s, 'Rotation', { alarmTopic: sns.Topic.fromTopicArn(s, 'T', 'arn:aws:sns:us-east-1:111111111111:security') });
    const w = Annotations.fromStack(s).findWarning('/Test/Rotation', Match.stringLikeRegexp('alarmTopic: the topic Test/T is imported'));
    expect(String(w[0].entry.data)).toContain('aws:SourceArn');
  });

  test('monitoring can be turned off', () => {
    const { stack } = make({ monitoring: false });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Events::Rule', 0);
    t.resourceCountIs('AWS::SNS::Topic', 0);
  });
});

describe('REPORT mode', () => {
  const { stack } = make({ mode: RotationPolicyMode.REPORT, monitoring: false });
  const template = Template.fromStack(stack);

  test('changes no key', () => {
    expect(keyProps(template, 'ThirdParty').EnableKeyRotation).toBe(false);
    expect(keyProps(template, 'RawKey').EnableKeyRotation).toBeUndefined();
  });

  test('reports every key that does not meet the policy, with the fix', () => {
    const e = errors(stack);
    expect(e.map((x) => x.path).sort()).toEqual(['/Test/MacKey/Resource', '/Test/RawKey', '/Test/SigningKey/Resource', '/Test/ThirdParty/Resource']);
    const l2 = e.find((x) => x.path === '/Test/ThirdParty/Resource')!.text;
    expect(l2).toContain('does not meet the rotation policy: EnableKeyRotation was false; PendingWindowInDays was 7, the policy says 30');
    expect(l2).toContain('Fix: set enableKeyRotation: true, rotationPeriod: Duration.days(365) and pendingWindow: Duration.days(30)');
  });

  test('an acknowledgement turns a report into a warning', () => {
    const r = make({ mode: RotationPolicyMode.REPORT, monitoring: false, acknowledgements: [{ keyPath: 'Test/RawKey', reason: 'legacy key, retired in Q3 with its data' }] });
    expect(errors(r.stack).map((x) => x.path)).not.toContain('/Test/RawKey');
    expect(Annotations.fromStack(r.stack).findWarning('/Test/RawKey', Match.stringLikeRegexp('Acknowledged in Test/Rotation: legacy key, retired'))).toHaveLength(1);
  });
});

describe('on-demand rotation', () => {
  const onDemandRotation = { interval: Duration.days(90), startDate: START, rotations: 8, rotationsAlreadyUsed: 2 };
  const { stack } = make({ monitoring: false, onDemandRotation });
  const template = Template.fromStack(stack);
  const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule')) as any[];

  test('one schedule per rotating key, none for the keys that cannot rotate', () => {
    const targets = schedules.map((s) => s.Properties.Target.Input['Fn::Join'][1][1]['Fn::GetAtt'][0]).sort();
    expect(targets).toHaveLength(2);
    expect(targets[0]).toMatch(/^RawKey/);
    expect(targets[1]).toMatch(/^ThirdParty/);
  });

  test('EventBridge Scheduler calls KMS RotateKeyOnDemand directly, no Lambda', () => {
    expect(schedules[0].Properties.Target.Arn['Fn::Join'][1][2]).toBe(':scheduler:::aws-sdk:kms:rotateKeyOnDemand');
    template.resourceCountIs('AWS::Lambda::Function', 0);
  });

  test('the schedule ends before it can start more rotations than asked for', () => {
    const p = schedules[0].Properties;
    expect(p.ScheduleExpression).toBe('rate(90 days)');
    expect(p.StartDate).toBe('2030-01-01T00:00:00.000Z');
    const end = new Date(p.EndDate).getTime();
    const day = 86_400_000;
    expect(end).toBeLessThan(START.getTime() + 8 * 90 * day);
    expect(end).toBeGreaterThan(START.getTime() + 7 * 90 * day);
    expect(p.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
  });

  test('the scheduler role may rotate exactly these keys, through a customer-managed policy', () => {
    const policy: any = Object.values(template.findResources('AWS::IAM::ManagedPolicy'))[0];
    const st = policy.Properties.PolicyDocument.Statement;
    expect(st).toHaveLength(1);
    expect(st[0].Action).toBe('kms:RotateKeyOnDemand');
    expect(st[0].Resource.map((r: any) => r['Fn::GetAtt'][0]).sort()).toEqual([expect.stringMatching(/^RawKey/), expect.stringMatching(/^ThirdParty/)]);
    template.resourceCountIs('AWS::IAM::Policy', 0);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } })] },
    });
  });

  test('the KMS limit it validates against is the documented 25', () => {
    expect(RotationPolicy.KMS_ON_DEMAND_ROTATION_LIMIT).toBe(25);
  });
});

describe('synth fails on conflicts and stale acknowledgements', () => {
  test('two policies that disagree on one key', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    new kms.Key(stack, 'K');
    new RotationPolicy(stack, 'A', { monitoring: false, rotationPeriod: Duration.days(90) });
    new RotationPolicy(stack, 'B', { monitoring: false, rotationPeriod: Duration.days(365) });
    expect(errors(stack)[0].text).toMatch(/Test\/K\/Resource: two RotationPolicies apply to this key and disagree \(Test\/A: ENFORCE, rotation every 90 days.*Test\/B: ENFORCE, rotation every 365 days/);
  });

  test('an acknowledgement that matches no key that needs one', () => {
    const { app } = make({ monitoring: false, acknowledgements: [{ keyPath: 'Test/ThirdParty', reason: 'rotates already, so this is stale' }] });
    expect(() => app.synth()).toThrow(/Test\/Rotation: invalid acknowledgement for 'Test\/ThirdParty': no key there needs one/);
  });
});

describe('bad input fails at synth with the path, the prop, the value and the range', () => {
  const od = (o: Partial<{ interval: Duration; startDate: Date; rotations: number; rotationsAlreadyUsed: number }>) => ({
    onDemandRotation: { interval: Duration.days(30), startDate: START, rotations: 4, ...o },
  });
  const cases: [string, (s: Stack) => RotationPolicyProps, RegExp][] = [
    ['period 89 days', () => ({ rotationPeriod: Duration.days(89) }), /Test\/Rotation: invalid rotationPeriod \(days\) 89: must be a whole number from 90 to 2560/],
    ['period 2561 days', () => ({ rotationPeriod: Duration.days(2561) }), /rotationPeriod \(days\) 2561/],
    ['period 100.5 days', () => ({ rotationPeriod: Duration.hours(2412) }), /rotationPeriod \(days\) 100.5/],
    ['pending window 6 days', () => ({ pendingWindow: Duration.days(6) }), /invalid pendingWindow \(days\) 6: must be a whole number from 7 to 30/],
    ['pending window 31 days', () => ({ pendingWindow: Duration.days(31) }), /pendingWindow \(days\) 31/],
    ['unknown mode', () => ({ mode: 'FIX' as RotationPolicyMode }), /invalid mode 'FIX': must be one of ENFORCE, REPORT/],
    ['26 on-demand rotations', () => od({ rotations: 26 }), /invalid onDemandRotation.rotations \(KMS allows 25 on-demand rotations per key, 0 used\) 26: must be a whole number from 1 to 25/],
    ['rotations past the limit with some used', () => od({ rotations: 20, rotationsAlreadyUsed: 10 }),
      /rotations \(KMS allows 25 on-demand rotations per key, 10 used\) 20: must be a whole number from 1 to 15/],
    ['zero rotations', () => od({ rotations: 0 }), /onDemandRotation.rotations .* 0: must be a whole number from 1/],
    ['limit used up', () => od({ rotationsAlreadyUsed: 25 }), /invalid onDemandRotation.rotationsAlreadyUsed 25: leaves no on-demand rotation/],
    ['negative used', () => od({ rotationsAlreadyUsed: -1 }), /onDemandRotation.rotationsAlreadyUsed -1: must be a whole number from 0 to 25/],
    ['interval of 12 hours', () => od({ interval: Duration.hours(12) }), /onDemandRotation.interval \(days\) 0.5: must be a whole number from 1 to 2560/],
    ['schedule ending in the past', () => od({ startDate: new Date('2020-01-01T00:00:00Z') }), /invalid onDemandRotation.startDate '2020-01-01T00:00:00.000Z': makes the schedule end in the past/],
    ['invalid start date', () => od({ startDate: new Date('not a date') }), /invalid onDemandRotation.startDate 'Invalid Date': must be a valid date/],
    ['short reason', () => ({ acknowledgements: [{ keyPath: 'Test/SigningKey', reason: 'ok' }] }), /invalid acknowledgement reason for Test\/SigningKey 'ok': must say why, in at least 10 characters/],
    ['empty key path', () => ({ acknowledgements: [{ keyPath: ' ', reason: 'a long enough reason' }] }), /invalid acknowledgements\[\].keyPath ' ': must be the construct path of a key/],
    ['same key twice', () => ({ acknowledgements: [{ keyPath: 'Test/SigningKey', reason: 'a long enough reason' }, { keyPath: '/Test/SigningKey', reason: 'another long reason' }] }), /keyPath '\/Test\/SigningKey': is acknowledged twice/],
    ['topic without monitoring', (s) => ({ monitoring: false, alarmTopic: new sns.Topic(s, 'T') }), /invalid alarmTopic 'Test\/T': is unused when monitoring is false/],
    ['monitoring stack without monitoring', (s) => ({ monitoring: false, monitoringStack: s }), /invalid monitoringStack 'Test': is unused when monitoring is false/],
  ];
  test.each(cases)('%s', (_name, props, message) => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    expect(() => new RotationPolicy(stack, 'Rotation', props(stack))).toThrow(message);
  });
  test('covers at least 15 bad inputs', () => expect(cases.length).toBeGreaterThanOrEqual(15));
});

describe('compliance', () => {
  test('with keys whose policies meet CT.KMS.PR.3, every cdk-nag pack and Control Tower control passes', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    const policy = new iam.PolicyDocument({ statements: [keyAdminStatement(), denyCreateGrantStatement()] });
    new kms.Key(stack, 'ThirdParty', { enableKeyRotation: false, policy });
    new kms.CfnKey(stack, 'RawKey', { keyPolicy: policy });
    new RotationPolicy(stack, 'Rotation', { onDemandRotation: { interval: Duration.days(180), startDate: START, rotations: 10 } });
    Template.fromStack(stack);
    expect(allFindings(stack)).toEqual([]);
  });

  test('with the third-party keys, no rotation finding remains and nothing the policy made has a finding', () => {
    const { stack, policy } = make({ onDemandRotation: { interval: Duration.days(180), startDate: START, rotations: 10 } });
    policy.acknowledge(stack.node.findChild('SigningKey'), 'RSA signing key, replaced with a new key and alias yearly');
    policy.acknowledge(stack.node.findChild('MacKey'), 'MAC key for webhook signatures, replaced with a new key and alias yearly');
    Template.fromStack(stack);
    const findings = allFindings(stack);
    expect(findings.filter((f) => /Rotation|KMS5|CT\.KMS\.PR\.1/i.test(f.rule + f.message) && !/Test\.template\.json:Rotation|Test\/Rotation/.test(f.resource))).toEqual([]);
    expect(findings.filter((f) => /Rotation/.test(f.resource))).toEqual([]);
    // What remains is the third-party keys' own key policies, which this construct does not own.
    expect([...new Set(findings.map((f) => f.rule))]).toEqual(['kms_create_grant_aws_service_check']);
  });
});

describe('rotation monitoring sits in the environment of its keys (EventBridge rules see their own account and Region only)', () => {
  test('given the app with stacks in one environment: the monitoring stack takes that environment', () => {
    const app = new App();
    new kms.Key(new Stack(app, 'A', { env: ENV }), 'K', { enableKeyRotation: true });
    const policy = new RotationPolicy(app, 'Rotation');
    const monitoring = policy.node.findChild('Monitoring') as Stack;
    expect({ account: monitoring.account, region: monitoring.region }).toEqual(ENV);
  });

  test('given the app with stacks in two environments: refused, naming both and the fix', () => {
    const app = new App();
    new kms.Key(new Stack(app, 'East', { env: ENV }), 'K', { enableKeyRotation: true });
    new kms.Key(new Stack(app, 'West', { env: { ...ENV, region: 'us-west-2' } }), 'K', { enableKeyRotation: true });
    expect(() => new RotationPolicy(app, 'Rotation')).toThrow(
      /Rotation.*monitoringStack.*are in 2 environments \(111111111111\/us-east-1, 111111111111\/us-west-2\).*Fix: one RotationPolicy per environment, each with a monitoringStack in that environment, or monitoring: false/);
    expect(() => new RotationPolicy(new App(), 'Quiet', { monitoring: false })).not.toThrow();
  });

  test('a key in another environment than the monitoring stack is a synth error', () => {
    const app = new App();
    const security = new Stack(app, 'Security', { env: ENV });
    new RotationPolicy(app, 'Rotation', { monitoringStack: security });
    const west = new Stack(app, 'West', { env: { ...ENV, region: 'us-west-2' } });
    new kms.Key(west, 'K', { enableKeyRotation: true });
    const found = Annotations.fromStack(west).findError('*', Match.anyValue()).map((e) => String(e.entry.data));
    expect(found).toEqual([expect.stringMatching(/^West\/K\/Resource: its environment 111111111111\/us-west-2 is not that of the rotation monitoring of Rotation \(111111111111\/us-east-1\)/)]);
  });
});
