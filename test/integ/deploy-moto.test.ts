/**
 * `cdk bootstrap` and `cdk deploy` of the example stacks of examples/app.ts against moto server on 127.0.0.1,
 * then reading back, through the AWS SDK, what moto models of the deployed state.
 *
 * moto 5.2.5 does not model every resource type or property that the example stacks use; MOTO_SKIPS pins
 * the resource types it leaves out, so that the list in docs/deploy-and-languages.md stays true
 * when moto is upgraded.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  CloudFormationClient, DescribeStacksCommand, ListStackResourcesCommand, StackResourceSummary,
} from '@aws-sdk/client-cloudformation';
import { GetKeyRotationStatusCommand, KMSClient, ListAliasesCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { GetBucketEncryptionCommand, GetBucketPolicyCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { App } from 'aws-cdk-lib';
import { buildExampleApp } from '../../examples/app';
import { localAwsEnv, runCdk } from '../support/cdk-cli';
import { MotoServer, startMotoServer } from '../support/moto-server';

const ACCOUNT = '123456789012';
/**
 * The example stacks deployed and checked. TenantKeyring is left out: moto 5.2.5 fails on an AWS::KMS::Key with Tags
 * made by CloudFormation (KeyError 'TagKey'), which breaks its nested shard stacks (docs/deploy-and-languages.md).
 */
const DEPLOYED_STACKS = ['DefaultBucket', 'AuditedBucket', 'SseCBucket', 'ReplicaDestination', 'ReplicatedBucket', 'PlatformTeam'];
// moto reads a TemplateURL as path-style only when the URL contains "localhost" or an amazonaws.com host;
// the CLI builds it from AWS_ENDPOINT_URL (127.0.0.1), so the qualifier puts "localhost" in the bucket name.
const QUALIFIER = 'localhost';

/** Resource types of the example stacks that moto 5.2.5's CloudFormation does not create (it logs "No Moto CloudFormation support"). */
const MOTO_SKIPS = [
  'AWS::CloudTrail::Trail',
  'AWS::CloudWatch::Alarm',
  'AWS::Logs::MetricFilter',
  'AWS::S3::BucketPolicy',
  'AWS::SNS::TopicPolicy',
];

interface CfnResource { Type: string; Properties?: Record<string, any> }
interface Deployed {
  readonly region: string;
  readonly template: { Resources: Record<string, CfnResource> };
  readonly resources: Map<string, StackResourceSummary>;
}

let moto: MotoServer;
let assemblyDir: string;
const stackRegions = new Map<string, string>();
const deployed = new Map<string, Deployed>();
const timings: string[] = [];

function clients(region: string) {
  const config = { endpoint: moto.endpoint, region, credentials: moto.credentials, maxAttempts: 2 };
  return {
    cfn: new CloudFormationClient(config),
    kms: new KMSClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
  };
}

function resourcesOfType(stack: Deployed, type: string): Array<[string, CfnResource]> {
  return Object.entries(stack.template.Resources).filter(([, r]) => r.Type === type);
}

function physicalId(stack: Deployed, logicalId: string): string {
  const id = stack.resources.get(logicalId)?.PhysicalResourceId;
  if (!id) throw new Error(`${logicalId} has no physical resource in moto`);
  return id;
}

/** KeyId -> key ARN for every key moto holds in the Region (DescribeKey fails on keys made by moto's CloudFormation). */
async function keyArns(region: string): Promise<Map<string, string>> {
  const out = await clients(region).kms.send(new ListKeysCommand({ Limit: 1000 }));
  return new Map((out.Keys ?? []).map((k) => [k.KeyId!, k.KeyArn!]));
}

beforeAll(async () => {
  moto = await startMotoServer();
  assemblyDir = mkdtempSync(path.join(tmpdir(), 'cdk-s3-encryption-deploy-'));

  const t = Date.now();
  const app = new App({ outdir: assemblyDir, context: { '@aws-cdk/core:bootstrapQualifier': QUALIFIER } });
  buildExampleApp(app);
  app.synth();
  timings.push(`synth ${Date.now() - t} ms`);

  // Each deployed stack's Region, as the assembly says (environment aws://<account>/<region>).
  const manifest = JSON.parse(readFileSync(path.join(assemblyDir, 'manifest.json'), 'utf8'));
  for (const name of DEPLOYED_STACKS) {
    const artifact = manifest.artifacts[name];
    if (artifact?.type !== 'aws:cloudformation:stack') throw new Error(`examples/app.ts has no stack ${name}`);
    stackRegions.set(name, artifact.environment.split('/').pop());
  }

  const env = localAwsEnv(moto.endpoint);
  const environments = [...new Set(stackRegions.values())].map((r) => `aws://${ACCOUNT}/${r}`);
  const boot = await runCdk(['bootstrap', ...environments, '--qualifier', QUALIFIER, '--app', assemblyDir], { env, timeoutMs: 240_000 });
  if (boot.exitCode !== 0) throw new Error(`cdk bootstrap failed (exit ${boot.exitCode}):\n${boot.output}\n--- moto:\n${moto.logs()}`);
  timings.push(`bootstrap ${boot.durationMs} ms`);

  const deploy = await runCdk(
    ['deploy', ...DEPLOYED_STACKS, '--app', assemblyDir, '--require-approval', 'never', '--concurrency', '1', '--progress', 'events'],
    { env, timeoutMs: 300_000 },
  );
  if (deploy.exitCode !== 0) throw new Error(`cdk deploy failed (exit ${deploy.exitCode}):\n${deploy.output}\n--- moto:\n${moto.logs()}`);
  timings.push(`deploy ${deploy.durationMs} ms`);

  for (const [stackName, region] of stackRegions) {
    const template = JSON.parse(readFileSync(path.join(assemblyDir, `${stackName}.template.json`), 'utf8'));
    const listed = await clients(region).cfn.send(new ListStackResourcesCommand({ StackName: stackName }));
    const resources = new Map((listed.StackResourceSummaries ?? []).filter((r) => r.LogicalResourceId).map((r) => [r.LogicalResourceId!, r]));
    deployed.set(stackName, { region, template, resources });
  }
  // The figures go to the log so that a slow CI run shows which step grew.
  console.log(`deploy-moto timings: ${timings.join(', ')}`);
}, 600_000);

afterAll(async () => {
  await moto?.stop();
  if (assemblyDir) rmSync(assemblyDir, { recursive: true, force: true });
});

describe('cdk bootstrap and cdk deploy of examples/app.ts on moto', () => {
  test('bootstrap created the staging bucket, the ECR repository, the roles and the version parameter in both Regions', async () => {
    for (const region of new Set(stackRegions.values())) {
      const { cfn } = clients(region);
      const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'CDKToolkit' }))).Stacks?.[0];
      expect(stack?.StackStatus).toBe('CREATE_COMPLETE');
      const listed = await cfn.send(new ListStackResourcesCommand({ StackName: 'CDKToolkit' }));
      const byId = new Map((listed.StackResourceSummaries ?? []).map((r) => [r.LogicalResourceId, r.PhysicalResourceId]));
      expect(byId.get('StagingBucket')).toBe(`cdk-${QUALIFIER}-assets-${ACCOUNT}-${region}`);
      expect(byId.get('ContainerAssetsRepository')).toBe(`cdk-${QUALIFIER}-container-assets-${ACCOUNT}-${region}`);
      expect(byId.get('DeploymentActionRole')).toBe(`cdk-${QUALIFIER}-deploy-role-${ACCOUNT}-${region}`);
      expect(byId.get('CloudFormationExecutionRole')).toBe(`cdk-${QUALIFIER}-cfn-exec-role-${ACCOUNT}-${region}`);
      expect(byId.get('CdkBootstrapVersion')).toBe(`/cdk-bootstrap/${QUALIFIER}/version`);
    }
  });

  test('every example stack is CREATE_COMPLETE with every resource moto models, and only MOTO_SKIPS left out', async () => {
    const skipped = new Set<string>();
    for (const [stackName, stack] of deployed) {
      const described = await clients(stack.region).cfn.send(new DescribeStacksCommand({ StackName: stackName }));
      expect(described.Stacks?.[0]?.StackStatus).toBe('CREATE_COMPLETE');
      for (const [logicalId, resource] of Object.entries(stack.template.Resources)) {
        const got = stack.resources.get(logicalId);
        if (MOTO_SKIPS.includes(resource.Type)) {
          expect(got).toBeUndefined();
          skipped.add(resource.Type);
        } else {
          expect({ logicalId, status: got?.ResourceStatus, type: got?.ResourceType }).toEqual({ logicalId, status: 'CREATE_COMPLETE', type: resource.Type });
          expect(got?.PhysicalResourceId).toBeTruthy();
        }
      }
    }
    // Every skip listed is used by the examples, so the list names no type that the examples do not have.
    expect([...skipped].sort()).toEqual(MOTO_SKIPS);
  });

  test('each bucket has the name fixed at synth and default encryption with the KMS key the template wires to it; log buckets SSE-S3', async () => {
    let buckets = 0;
    let logBuckets = 0;
    for (const [stackName, stack] of deployed) {
      const arns = await keyArns(stack.region);
      for (const [logicalId, bucket] of resourcesOfType(stack, 'AWS::S3::Bucket')) {
        const name = physicalId(stack, logicalId);
        // Every bucket of this library has its name fixed at synth; the platform example's bucket of
        // other code (plain s3.Bucket) is named by CloudFormation.
        const otherCode = stackName === 'PlatformTeam' && logicalId.startsWith('Exports');
        expect(name).toBe(otherCode ? name : bucket.Properties!.BucketName);
        expect(otherCode || typeof bucket.Properties!.BucketName === 'string').toBe(true);
        const byDefault = bucket.Properties!.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault;
        if (byDefault.SSEAlgorithm === 'AES256') {
          // A server-access-log destination: SSE-S3 is the only default encryption S3 accepts there
          // (S3 User Guide, enable-server-access-logging.html).
          expect(logicalId).toMatch(/AccessLogs/);
          const enc = await clients(stack.region).s3.send(new GetBucketEncryptionCommand({ Bucket: name }));
          expect(enc.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
          logBuckets++;
          continue;
        }
        const [keyLogicalId, attribute] = byDefault.KMSMasterKeyID['Fn::GetAtt'];
        expect(attribute).toBe('Arn');
        const keyArn = arns.get(physicalId(stack, keyLogicalId));
        expect(keyArn).toBe(`arn:aws:kms:${stack.region}:${ACCOUNT}:key/${physicalId(stack, keyLogicalId)}`);

        const enc = await clients(stack.region).s3.send(new GetBucketEncryptionCommand({ Bucket: name }));
        const rule = enc.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
        expect({ stackName, logicalId, algorithm: rule?.SSEAlgorithm, key: rule?.KMSMasterKeyID })
          .toEqual({ stackName, logicalId, algorithm: 'aws:kms', key: keyArn });
        buckets++;
      }
    }
    expect(buckets).toBeGreaterThanOrEqual(deployed.size);
    expect(logBuckets).toBeGreaterThanOrEqual(deployed.size);
  });

  test('every deployed KMS key has automatic rotation on', async () => {
    let keys = 0;
    for (const stack of deployed.values()) {
      for (const [logicalId, key] of resourcesOfType(stack, 'AWS::KMS::Key')) {
        expect(key.Properties!.EnableKeyRotation).toBe(true);
        const status = await clients(stack.region).kms.send(new GetKeyRotationStatusCommand({ KeyId: physicalId(stack, logicalId) }));
        expect({ logicalId, rotation: status.KeyRotationEnabled }).toEqual({ logicalId, rotation: true });
        keys++;
      }
    }
    expect(keys).toBeGreaterThanOrEqual(deployed.size);
  });

  test('the replica key alias exists in us-west-2 and targets the replica bucket key', async () => {
    const stack = deployed.get('ReplicaDestination')!;
    const [[aliasLogicalId, alias]] = resourcesOfType(stack, 'AWS::KMS::Alias');
    expect(physicalId(stack, aliasLogicalId)).toBeTruthy();
    const [keyLogicalId] = alias.Properties!.TargetKeyId['Fn::GetAtt'];
    const listed = await clients('us-west-2').kms.send(new ListAliasesCommand({}));
    const found = listed.Aliases?.find((a) => a.AliasName === 'alias/cdk-s3-encryption-example/replica');
    expect(found?.AliasArn).toBe(`arn:aws:kms:us-west-2:${ACCOUNT}:alias/cdk-s3-encryption-example/replica`);
    expect(found?.TargetKeyId).toBe(physicalId(stack, keyLogicalId));
    // The source Region names the replica key by this alias ARN, known at synth.
    const source = JSON.stringify(deployed.get('ReplicatedBucket')!.template);
    expect(source).toContain(found!.AliasArn!);
  });

  test('an object PUT with no encryption headers is stored SSE-KMS under the bucket key deployed by the stack', async () => {
    const stack = deployed.get('DefaultBucket')!;
    const { s3 } = clients(stack.region);
    const bucket = physicalId(stack, 'Data666C94C7');
    const keyArn = (await keyArns(stack.region)).get(physicalId(stack, 'DataKey5F086070'));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain.txt', Body: 'no encryption headers' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'plain.txt' }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.SSEKMSKeyId).toBe(keyArn);
  });

  test('the platform example: a bucket of other code, encrypted by BucketEncryptionPolicy, stores a PUT with no encryption headers under the stack key', async () => {
    const stack = deployed.get('PlatformTeam')!;
    const { s3 } = clients(stack.region);
    const [[exportsId]] = resourcesOfType(stack, 'AWS::S3::Bucket').filter(([id]) => id.startsWith('Exports'));
    const [[keyId]] = resourcesOfType(stack, 'AWS::KMS::Key').filter(([id]) => id.startsWith('S3EncryptionSharedForeignBucketsKey'));
    const bucket = physicalId(stack, exportsId);
    const keyArn = (await keyArns(stack.region)).get(physicalId(stack, keyId));
    expect(keyArn).toBeDefined();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'export.csv', Body: 'a,b' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'export.csv' }));
    expect({ sse: head.ServerSideEncryption, key: head.SSEKMSKeyId }).toEqual({ sse: 'aws:kms', key: keyArn });
  });

  test('moto leaves out the bucket policy (AWS::S3::BucketPolicy is in MOTO_SKIPS): GetBucketPolicy says NoSuchBucketPolicy', async () => {
    const stack = deployed.get('DefaultBucket')!;
    const bucket = physicalId(stack, 'Data666C94C7');
    await expect(clients(stack.region).s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).rejects.toMatchObject({ name: 'NoSuchBucketPolicy' });
    // The synthesized policy exists and targets this bucket; only moto does not apply it.
    const [[, policy]] = resourcesOfType(stack, 'AWS::S3::BucketPolicy').filter(([, p]) => p.Properties!.Bucket.Ref === 'Data666C94C7');
    expect(policy.Properties!.PolicyDocument.Statement.length).toBeGreaterThan(0);
  });
});
