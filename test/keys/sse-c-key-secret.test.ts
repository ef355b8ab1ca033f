import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { RotationPolicy, SseCustomerKeySecret, SseCustomerKeySecretProps } from '../../src';
import { allFindings, Finding } from '../support/compliance';

const ENV = { account: '111111111111', region: 'us-east-1' };

function make(props?: SseCustomerKeySecretProps, extra?: (s: Stack) => SseCustomerKeySecretProps) {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: ENV });
  const construct = new SseCustomerKeySecret(stack, 'SseC', { ...props, ...extra?.(stack) });
  return { stack, construct, template: Template.fromStack(stack) };
}

function only(template: Template, type: string): any {
  const all = Object.values(template.findResources(type));
  expect(all).toHaveLength(1);
  return (all[0] as any).Properties;
}

function summary(findings: Finding[]): string[] {
  return findings.map((f) => `${f.rule} ${f.resource.replace(/^Test\//, '')}`).sort();
}

describe('SseCustomerKeySecret defaults', () => {
  const { stack, construct, template } = make();

  test('the first version is 64 hex characters from Secrets Manager: 256 random bits', () => {
    const g = only(template, 'AWS::SecretsManager::Secret').GenerateSecretString;
    expect(g).toMatchObject({ PasswordLength: 64, ExcludeUppercase: true, ExcludePunctuation: true, IncludeSpace: false, ExcludeCharacters: 'ghijklmnopqrstuvwxyz', RequireEachIncludedType: false, GenerateStringKey: 'key' });
    expect(JSON.parse(g.SecretStringTemplate)).toEqual({ algorithm: 'AES256', encoding: 'hex' });
  });

  test('the secret is encrypted with its own customer-managed key, usable only through Secrets Manager and its logs', () => {
    const secret = only(template, 'AWS::SecretsManager::Secret');
    expect(secret.KmsKeyId['Fn::GetAtt'][0]).toMatch(/^SseCKey/);
    const key = only(template, 'AWS::KMS::Key');
    expect(key).toMatchObject({ EnableKeyRotation: true, PendingWindowInDays: 30 });
    const st = key.KeyPolicy.Statement;
    const sm = st.find((s: any) => s.Sid?.startsWith('SecretsManagerUseFor'));
    expect(sm.Condition.StringEquals['kms:ViaService']).toBe('secretsmanager.us-east-1.amazonaws.com');
    const logsSt = st.find((s: any) => s.Sid?.startsWith('LogsOf'));
    expect(JSON.stringify(logsSt.Condition.ArnEquals['kms:EncryptionContext:aws:logs:arn'])).toContain(':log-group:/cdk-s3-encryption/sse-c-rotation/Test/');
    // Nothing CloudWatch Logs does not send: no aws:SourceAccount, and no DescribeKey (it carries no encryption context).
    expect(Object.keys(logsSt.Condition)).toEqual(['ArnEquals']);
    expect(logsSt.Action).not.toContain('kms:DescribeKey');
    expect(JSON.stringify(st)).not.toContain('"kms:*"');
  });

  test('rotates every 90 days with the bundled handler, not immediately on deploy', () => {
    const r = only(template, 'AWS::SecretsManager::RotationSchedule');
    expect(r.RotationRules).toEqual({ ScheduleExpression: 'rate(90 days)' });
    expect(r.RotateImmediatelyOnUpdate).toBe(false);
    expect(r.RotationLambdaARN['Fn::GetAtt'][0]).toMatch(/^SseCRotationFunction/);
    const fn = only(template, 'AWS::Lambda::Function');
    expect(fn).toMatchObject({ Handler: 'index.handler', Runtime: 'nodejs24.x', ReservedConcurrentExecutions: 1, Timeout: 30 });
    expect(fn.Code.S3Key).toMatch(/\.zip$/);
    expect(construct.rotationIntervalInDays).toBe(90);
  });

  test('only Secrets Manager, for this secret and account, may invoke the handler', () => {
    const p = only(template, 'AWS::Lambda::Permission');
    expect(p).toMatchObject({ Principal: 'secretsmanager.amazonaws.com', SourceAccount: { Ref: 'AWS::AccountId' }, SourceArn: { Ref: expect.stringMatching(/^SseCSecret/) } });
  });

  test('the handler role has a customer-managed policy with exact resources and no AWS-managed policy', () => {
    template.resourceCountIs('AWS::IAM::Policy', 0);
    const role = only(template, 'AWS::IAM::Role');
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies).toBeUndefined();
    const managed = only(template, 'AWS::IAM::ManagedPolicy');
    expect(managed.Roles).toEqual([{ Ref: expect.stringMatching(/^SseCRotationRole/) }]);
    const st = managed.PolicyDocument.Statement;
    expect(st.find((s: any) => s.Sid === 'RotateThisSecret')).toMatchObject({
      Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
      Resource: { Ref: expect.stringMatching(/^SseCSecret/) },
    });
    expect(st.find((s: any) => s.Sid === 'UseTheSecretKeyThroughSecretsManager').Resource['Fn::GetAtt'][0]).toMatch(/^SseCKey/);
    expect(JSON.stringify(st)).not.toContain('GetRandomPassword');
  });

  test('logs go to an encrypted log group with a year of retention', () => {
    const lg = only(template, 'AWS::Logs::LogGroup');
    expect(lg.RetentionInDays).toBe(365);
    expect(lg.KmsKeyId['Fn::GetAtt'][0]).toMatch(/^SseCKey/);
    expect(only(template, 'AWS::Lambda::Function').LoggingConfig.LogGroup.Ref).toMatch(/^SseCRotationLogs/);
  });

  test('without a VPC it warns which rules that trips', () => {
    const w = Annotations.fromStack(stack).findWarning('/Test/SseC', Match.stringLikeRegexp('^vpc: the rotation function runs outside a VPC.*HIPAA.Security-LambdaInsideVPC'));
    expect(w).toHaveLength(1);
  });

  test('grantRead gives GetSecretValue on the secret and Decrypt through Secrets Manager', () => {
    const s = new Stack(new App(), 'G', { env: ENV });
    const c = new SseCustomerKeySecret(s, 'SseC', { vpc: new ec2.Vpc(s, 'Vpc', { maxAzs: 1, natGateways: 0 }) });
    const role = new iam.Role(s, 'App', { assumedBy: new iam.AccountRootPrincipal() });
    c.grantRead(role);
    const json = JSON.stringify(Template.fromStack(s).findResources('AWS::IAM::Policy'));
    expect(json).toContain('secretsmanager:GetSecretValue');
    expect(json).toContain('kms:Decrypt');
    expect(json).toContain('secretsmanager.us-east-1.amazonaws.com');
  });

  test('matches the snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });
});

describe('options', () => {
  test('rotation interval, removal policy, name, and concurrency', () => {
    const { template } = make({ rotationInterval: Duration.days(1), removalPolicy: RemovalPolicy.DESTROY, secretName: 'app/sse-c', reservedConcurrentExecutions: 2 });
    expect(only(template, 'AWS::SecretsManager::RotationSchedule').RotationRules.ScheduleExpression).toBe('rate(1 day)');
    template.hasResource('AWS::SecretsManager::Secret', { Properties: Match.objectLike({ Name: 'app/sse-c' }), DeletionPolicy: 'Delete' });
    expect(only(template, 'AWS::Lambda::Function').ReservedConcurrentExecutions).toBe(2);
  });

  test('in a VPC, the function gets its subnets and only the network-interface permissions it needs', () => {
    const { template } = make(undefined, (s) => ({ vpc: new ec2.Vpc(s, 'Vpc', { maxAzs: 2, natGateways: 0 }), vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }));
    expect(only(template, 'AWS::Lambda::Function').VpcConfig.SubnetIds).toHaveLength(2);
    const st = only(template, 'AWS::IAM::ManagedPolicy').PolicyDocument.Statement.find((s: any) => s.Sid === 'NetworkInterfacesInTheVpc');
    expect(st.Action).toContain('ec2:CreateNetworkInterface');
    expect(JSON.stringify(template.toJSON())).not.toContain('AWSLambdaVPCAccessExecutionRole');
  });

  test('under a RotationPolicy, its key follows the policy', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    new SseCustomerKeySecret(stack, 'SseC');
    new RotationPolicy(stack, 'Rotation', { rotationPeriod: Duration.days(120), monitoring: false });
    const keys = Object.values(Template.fromStack(stack).findResources('AWS::KMS::Key')) as any[];
    expect(keys[0].Properties).toMatchObject({ EnableKeyRotation: true, RotationPeriodInDays: 120 });
  });
});

describe('bad input fails at synth with the path, the prop, the value and the range', () => {
  const cases: [string, (s: Stack) => SseCustomerKeySecretProps, RegExp][] = [
    ['rotation 0 days', () => ({ rotationInterval: Duration.days(0) }), /Test\/SseC: invalid rotationInterval \(days\) 0: must be a whole number from 1 to 1000/],
    ['rotation 1001 days', () => ({ rotationInterval: Duration.days(1001) }), /rotationInterval \(days\) 1001/],
    ['rotation 36 hours', () => ({ rotationInterval: Duration.hours(36) }), /rotationInterval \(days\) 1.5/],
    ['concurrency 0', () => ({ reservedConcurrentExecutions: 0 }), /invalid reservedConcurrentExecutions 0: must be a whole number from 1 to 10/],
    ['concurrency 11', () => ({ reservedConcurrentExecutions: 11 }), /reservedConcurrentExecutions 11/],
    ['subnets without a VPC', () => ({ vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }), /invalid vpcSubnets 'Isolated': needs vpc/],
    ['bad secret name', () => ({ secretName: 'has space' }), /invalid secretName 'has space': must be 1 to 512 characters/],
    ['empty secret name', () => ({ secretName: '' }), /invalid secretName ''/],
  ];
  test.each(cases)('%s', (_n, props, message) => {
    const stack = new Stack(new App(), 'Test', { env: ENV });
    expect(() => new SseCustomerKeySecret(stack, 'SseC', props(stack))).toThrow(message);
  });
});

describe('compliance: exactly these findings remain, each for a stated reason', () => {
  test('defaults', () => {
    const { stack } = make();
    expect(summary(allFindings(stack))).toEqual([
      // Lambda names its log streams at run time: the log-stream part of the ARN must be a wildcard.
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:us-east-1:111111111111:log-group:/cdk-s3-encryption/sse-c-rotation/Test/' +
        `${stack.node.findChild('SseC').node.addr}:log-stream:*] SseC/RotationPolicy/Resource`,
      // Secrets Manager invokes rotation synchronously and records failures itself; a DLQ would never receive anything.
      'HIPAA.Security-LambdaDLQ SseC/RotationFunction/Resource',
      // No vpc given: the user's decision, warned at synth.
      'HIPAA.Security-LambdaInsideVPC SseC/RotationFunction/Resource',
      'NIST.800.53.R5-LambdaDLQ SseC/RotationFunction/Resource',
      'NIST.800.53.R5-LambdaInsideVPC SseC/RotationFunction/Resource',
      'PCI.DSS.321-LambdaInsideVPC SseC/RotationFunction/Resource',
      expect.stringMatching(/^lambda_inside_vpc_check Test\.template\.json:SseCRotationFunction/),
    ].sort());
  });

  test('with a VPC, the VPC findings are gone', () => {
    const { stack } = make(undefined, (s) => ({ vpc: new ec2.Vpc(s, 'Vpc', { maxAzs: 2, natGateways: 0, flowLogs: {} }), vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }));
    const findings = summary(allFindings(stack)).filter((f) => f.includes('SseC'));
    expect(findings.filter((f) => /InsideVPC|lambda_inside_vpc/.test(f))).toEqual([]);
    expect(findings).toEqual(expect.arrayContaining([expect.stringMatching(/^AwsSolutions-IAM5\[Resource::\*\] SseC\/RotationPolicy/)]));
  });
});
