import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { EncryptedBucket, EncryptionAuditTrail, TenantAccess, TenantKeyring, TenantTier } from '../../src';
import { S3EncryptionChecks } from '../../src/compliance/s3-encryption-checks';
import { controlTowerFindings, nagFindings, templatePathsOf } from '../support/compliance';

const ACCOUNT = '111111111111';

/**
 * The example keyring stack of docs/tenant-keyring.md: an audited, replicated EncryptedBucket
 * (what the HIPAA, NIST and PCI packs and S3EncryptionChecks ask of any bucket), dedicated and
 * pooled tenants, a retired tenant, and tenant principals admitted by their tag.
 */
function exampleApp(withGrants: boolean): { app: App; stack: Stack; keyring: TenantKeyring } {
  const app = new App();
  const replicaStack = new Stack(app, 'SaasReplica', { env: { account: ACCOUNT, region: 'eu-central-1' } });
  const replica = new EncryptedBucket(replicaStack, 'Replica');
  new kms.Alias(replicaStack, 'ReplicaAlias', { aliasName: 'alias/saas/replica', targetKey: replica.bucketKey });
  const stack = new Stack(app, 'SaasData', { env: { account: ACCOUNT, region: 'eu-west-1' } });
  const toReplica = { destinationKeyArn: `arn:aws:kms:eu-central-1:${ACCOUNT}:alias/saas/replica`, accessLogsDestinationBucket: replica };
  const trail = new EncryptionAuditTrail(stack, 'Audit', { replication: { ...toReplica, destinationBucket: replica } });
  const bucket = new EncryptedBucket(stack, 'TenantData', {
    auditTrail: trail,
    replication: { ...toReplica, destinationBucket: replica },
  });
  const keyring = new TenantKeyring(stack, 'Tenants', { bucket });
  for (const id of ['acme', 'globex', 'initech']) keyring.addTenant(id);
  for (const id of ['small-1', 'small-2']) keyring.addTenant(id, { tier: TenantTier.POOLED });
  keyring.retireTenant('initech');
  if (withGrants) {
    keyring.grantTenant('acme', new iam.Role(stack, 'AcmeApp', { assumedBy: new iam.AccountRootPrincipal() }), TenantAccess.READ_WRITE);
    keyring.grantTenant('small-1', new iam.Role(stack, 'Small1App', { assumedBy: new iam.AccountRootPrincipal() }), TenantAccess.READ);
  }
  return { app, stack, keyring };
}

describe('compliance of the example keyring stack', () => {
  const { app, stack } = exampleApp(false);
  const assembly = app.synth();

  test('zero findings in the four cdk-nag packs, nested stacks included', () => {
    expect(stack.node.findAll().some((c) => c.node.path.includes('/Shard'))).toBe(true);
    expect(nagFindings(stack)).toEqual([]);
  });

  test('zero Control Tower findings on the parent and every nested template', () => {
    const paths = templatePathsOf(assembly.directory).filter((p) => !p.includes('SaasReplica'));
    expect(paths.filter((p) => p.endsWith('.nested.template.json')).length).toBeGreaterThanOrEqual(2);
    expect(controlTowerFindings(paths)).toEqual([]);
  });
});

describe('compliance with grantTenant', () => {
  const { stack } = exampleApp(true);

  test('the only findings are AwsSolutions-IAM5 on each granted tenant\'s own prefix', () => {
    const rules = nagFindings(stack).map((f) => `${f.rule} ${f.resource}`).sort();
    expect(rules).toEqual([
      expect.stringMatching(/^AwsSolutions-IAM5\[Resource::arn:aws:s3:::saasdata-tenantdata-[0-9a-f]{8}-111111111111-eu-west-1\/tenants\/acme\/\*\] SaasData\/AcmeApp\/TenantGrant-/),
      expect.stringMatching(/^AwsSolutions-IAM5\[Resource::arn:aws:s3:::saasdata-tenantdata-[0-9a-f]{8}-111111111111-eu-west-1\/tenants\/small-1\/\*\] SaasData\/Small1App\/TenantGrant-/),
    ]);
  });
});

describe('this library\'s own S3EncryptionChecks pack', () => {
  const { stack } = exampleApp(false);

  test('reports nothing on the example keyring stack', () => {
    const report = new S3EncryptionChecks().validateScope(stack);
    const findings = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${(r as any).constructPath ?? r.resourceLogicalId}`));
    expect(findings).toEqual([]);
  });
});
