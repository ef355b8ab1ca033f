import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { EncryptedBucket, EncryptionAuditTrail, ObjectEncryption, S3EncryptionChecks, S3EncryptionChecksProps } from '../../src';

const ENV = { account: '111111111111', region: 'us-east-1' };

function stackOf(): { app: App; stack: Stack } {
  const app = new App();
  return { app, stack: new Stack(app, 'S', { env: ENV }) };
}

/** The construct paths each rule flags, by rule name without the pack prefix. */
function flagged(scope: Stack, props?: S3EncryptionChecksProps): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const v of new S3EncryptionChecks(undefined, props).validateScope(scope).violations) {
    out[v.ruleName.replace(/^S3Encryption-/, '')] = v.violatingResources.map((r: any) => r.constructPath);
  }
  return out;
}

const flags = (scope: Stack, rule: string, at: string, props?: S3EncryptionChecksProps) => (flagged(scope, props)[rule] ?? []).includes(at);

describe('S3BucketEncryptedWithCustomerManagedKey', () => {
  test('an EncryptedBucket passes', () => {
    const { stack } = stackOf();
    new EncryptedBucket(stack, 'B');
    expect(flags(stack, 'S3BucketEncryptedWithCustomerManagedKey', 'S/B/Resource')).toBe(false);
  });
  test('SSE-S3 and the aws/s3 key fail', () => {
    const { stack } = stackOf();
    new s3.Bucket(stack, 'SseS3', { encryption: s3.BucketEncryption.S3_MANAGED });
    new s3.Bucket(stack, 'AwsManaged', { encryption: s3.BucketEncryption.KMS_MANAGED });
    expect(flags(stack, 'S3BucketEncryptedWithCustomerManagedKey', 'S/SseS3/Resource')).toBe(true);
    expect(flags(stack, 'S3BucketEncryptedWithCustomerManagedKey', 'S/AwsManaged/Resource')).toBe(true);
  });
});

describe('S3BucketKeysEnabled', () => {
  test('passes with Bucket Keys, fails without', () => {
    const { stack } = stackOf();
    new EncryptedBucket(stack, 'On');
    new s3.Bucket(stack, 'Off', { encryptionKey: new kms.Key(stack, 'K'), bucketKeyEnabled: false });
    expect(flags(stack, 'S3BucketKeysEnabled', 'S/On/Resource')).toBe(false);
    expect(flags(stack, 'S3BucketKeysEnabled', 'S/Off/Resource')).toBe(true);
  });
});

describe('S3BucketPolicyDeniesOtherKmsKeys', () => {
  test('passes for an EncryptedBucket, fails for a KMS bucket without the denial', () => {
    const { stack } = stackOf();
    new EncryptedBucket(stack, 'Good');
    new s3.Bucket(stack, 'Bad', { encryptionKey: new kms.Key(stack, 'K'), enforceSSL: true });
    expect(flags(stack, 'S3BucketPolicyDeniesOtherKmsKeys', 'S/Good/Resource')).toBe(false);
    expect(flags(stack, 'S3BucketPolicyDeniesOtherKmsKeys', 'S/Bad/Resource')).toBe(true);
  });
});

describe('S3SseCBlockedUnlessChosen', () => {
  test('passes when blocked or when SSE-C is the chosen mode, fails otherwise', () => {
    const { stack } = stackOf();
    new EncryptedBucket(stack, 'Blocked');
    new EncryptedBucket(stack, 'Chosen', { objectEncryption: ObjectEncryption.SSE_C });
    new s3.Bucket(stack, 'Open', { encryptionKey: new kms.Key(stack, 'K') });
    expect(flags(stack, 'S3SseCBlockedUnlessChosen', 'S/Blocked/Resource')).toBe(false);
    expect(flags(stack, 'S3SseCBlockedUnlessChosen', 'S/Chosen/Resource')).toBe(false);
    expect(flags(stack, 'S3SseCBlockedUnlessChosen', 'S/Open/Resource')).toBe(true);
  });
});

describe('S3TlsEnforcedAtLeast12', () => {
  test('needs both the TLS denial and the 1.2 minimum', () => {
    const { stack } = stackOf();
    new s3.Bucket(stack, 'SslOnly', { enforceSSL: true });
    new s3.Bucket(stack, 'Tls12', { enforceSSL: true, minimumTLSVersion: 1.2 });
    new EncryptedBucket(stack, 'Enc');
    expect(flags(stack, 'S3TlsEnforcedAtLeast12', 'S/SslOnly/Resource')).toBe(true);
    expect(flags(stack, 'S3TlsEnforcedAtLeast12', 'S/Tls12/Resource')).toBe(false);
    expect(flags(stack, 'S3TlsEnforcedAtLeast12', 'S/Enc/Resource')).toBe(false);
  });
});

describe('KMSRotationWithinPeriod', () => {
  test('fails without rotation or above the maximum, passes within it; asymmetric keys do not apply', () => {
    const { stack } = stackOf();
    new kms.Key(stack, 'Off');
    new kms.Key(stack, 'Long', { enableKeyRotation: true, rotationPeriod: Duration.days(400) });
    new kms.Key(stack, 'Ok', { enableKeyRotation: true, rotationPeriod: Duration.days(180) });
    new kms.Key(stack, 'Rsa', { keySpec: kms.KeySpec.RSA_3072, keyUsage: kms.KeyUsage.SIGN_VERIFY });
    expect(flags(stack, 'KMSRotationWithinPeriod', 'S/Off/Resource')).toBe(true);
    expect(flags(stack, 'KMSRotationWithinPeriod', 'S/Long/Resource')).toBe(true);
    expect(flags(stack, 'KMSRotationWithinPeriod', 'S/Long/Resource', { maxRotationPeriodDays: 400 })).toBe(false);
    expect(flags(stack, 'KMSRotationWithinPeriod', 'S/Ok/Resource')).toBe(false);
    expect(flags(stack, 'KMSRotationWithinPeriod', 'S/Rsa/Resource')).toBe(false);
  });
});

describe('KMSPendingWindowAtLeast', () => {
  test('a 7-day window fails the default minimum of 30 and passes a minimum of 7', () => {
    const { stack } = stackOf();
    new kms.Key(stack, 'Short', { pendingWindow: Duration.days(7) });
    new kms.Key(stack, 'Default');
    expect(flags(stack, 'KMSPendingWindowAtLeast', 'S/Short/Resource')).toBe(true);
    expect(flags(stack, 'KMSPendingWindowAtLeast', 'S/Short/Resource', { minPendingWindowDays: 7 })).toBe(false);
    expect(flags(stack, 'KMSPendingWindowAtLeast', 'S/Default/Resource')).toBe(false);
  });
});

function keyWith(stack: Stack, id: string, statement: iam.PolicyStatement): kms.Key {
  return new kms.Key(stack, id, { policy: new iam.PolicyDocument({ statements: [statement] }) });
}

describe('KMSKeyPolicyNoUnconditionedPublicUse', () => {
  test('an unconditioned * principal fails, a conditioned one passes', () => {
    const { stack } = stackOf();
    keyWith(stack, 'Open', new iam.PolicyStatement({ principals: [new iam.AnyPrincipal()], actions: ['kms:Decrypt'], resources: ['*'] }));
    keyWith(stack, 'Scoped', new iam.PolicyStatement({ principals: [new iam.AnyPrincipal()], actions: ['kms:Decrypt'], resources: ['*'], conditions: { StringEquals: { 'kms:CallerAccount': '111111111111', 'kms:ViaService': 's3.us-east-1.amazonaws.com' } } }));
    expect(flags(stack, 'KMSKeyPolicyNoUnconditionedPublicUse', 'S/Open/Resource')).toBe(true);
    expect(flags(stack, 'KMSKeyPolicyNoUnconditionedPublicUse', 'S/Scoped/Resource')).toBe(false);
  });
});

describe('KMSKeyPolicyNoFullAccessForNonRoot', () => {
  test('kms:* for a role fails, for the account root does not', () => {
    const { stack } = stackOf();
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() });
    keyWith(stack, 'RoleStar', new iam.PolicyStatement({ principals: [role], actions: ['kms:*'], resources: ['*'] }));
    keyWith(stack, 'RootStar', new iam.PolicyStatement({ principals: [new iam.AccountRootPrincipal()], actions: ['kms:*'], resources: ['*'] }));
    expect(flags(stack, 'KMSKeyPolicyNoFullAccessForNonRoot', 'S/RoleStar/Resource')).toBe(true);
    expect(flags(stack, 'KMSKeyPolicyNoFullAccessForNonRoot', 'S/RootStar/Resource')).toBe(false);
  });
});

describe('KMSKeyUsageConditioned', () => {
  test("aws-cdk-lib's default key policy fails; the keys this library makes pass", () => {
    const { stack } = stackOf();
    new kms.Key(stack, 'Default');
    new EncryptedBucket(stack, 'B');
    expect(flags(stack, 'KMSKeyUsageConditioned', 'S/Default/Resource')).toBe(true);
    expect(flags(stack, 'KMSKeyUsageConditioned', 'S/B/Key/Resource')).toBe(false);
    expect(flags(stack, 'KMSKeyUsageConditioned', 'S/B/AccessLogs/Key/Resource')).toBe(false);
  });
});

describe('S3BucketDataEventsAudited', () => {
  test('a joined bucket and its log bucket pass, a bucket outside every trail fails, the trail bucket is exempt', () => {
    const { stack } = stackOf();
    const trail = new EncryptionAuditTrail(stack, 'Audit');
    new EncryptedBucket(stack, 'In', { auditTrail: trail });
    new EncryptedBucket(stack, 'Out');
    const f = flagged(stack).S3BucketDataEventsAudited ?? [];
    expect(f).toContain('S/Out/Resource');
    expect(f).not.toContain('S/In/Resource');
    expect(f).not.toContain('S/In/AccessLogs/Resource');
    expect(f).not.toContain('S/Audit/Bucket/Resource');
    expect(f).not.toContain('S/Audit/Bucket/AccessLogs/Resource');
  });
  test('a plain trail whose bucket has no access logs, elsewhere in the app, does not break the rule', () => {
    const { app, stack } = stackOf();
    const trail = new EncryptionAuditTrail(stack, 'Audit');
    new EncryptedBucket(stack, 'In', { auditTrail: trail });
    const other = new Stack(app, 'Other', { env: ENV });
    new cloudtrail.Trail(other, 'Plain');
    expect(flagged(stack).S3BucketDataEventsAudited ?? []).toEqual([]);
  });
  test('a trail in another stack that names the bucket by its fixed name covers it', () => {
    const app = new App();
    const data = new Stack(app, 'Data', { env: ENV });
    const bucket = new EncryptedBucket(data, 'B');
    const audit = new Stack(app, 'Audit', { env: ENV });
    new EncryptionAuditTrail(audit, 'Trail').addBucket(s3.Bucket.fromBucketArn(audit, 'Ref', bucket.stableBucketArn));
    expect(flagged(data).S3BucketDataEventsAudited ?? []).not.toContain('Data/B/Resource');
  });
});

describe('CloudTrailEncryptedAndValidated', () => {
  test('an EncryptionAuditTrail passes; a trail without a key fails', () => {
    const { stack } = stackOf();
    new EncryptionAuditTrail(stack, 'Good');
    new cloudtrail.Trail(stack, 'Bare', { enableFileValidation: false });
    expect(flags(stack, 'CloudTrailEncryptedAndValidated', 'S/Good/Trail/Resource')).toBe(false);
    expect(flags(stack, 'CloudTrailEncryptedAndValidated', 'S/Bare/Resource')).toBe(true);
  });
});

describe('S3ReplicationDestinationEncryptedInItsRegion', () => {
  function replicated(keyArn: string) {
    const app = new App();
    const dest = new Stack(app, 'D', { env: { ...ENV, region: 'us-west-2' } });
    const replica = new EncryptedBucket(dest, 'Replica');
    const src = new Stack(app, 'S', { env: ENV });
    new EncryptedBucket(src, 'B', { replication: { destinationBucket: replica, destinationKeyArn: keyArn, destinationRegion: 'us-west-2' } });
    return src;
  }
  test('a key of the destination Region passes, a key of another Region fails', () => {
    expect(flags(replicated('arn:aws:kms:us-west-2:111111111111:alias/r'), 'S3ReplicationDestinationEncryptedInItsRegion', 'S/B/Resource')).toBe(false);
    expect(flags(replicated('arn:aws:kms:eu-west-1:111111111111:alias/r'), 'S3ReplicationDestinationEncryptedInItsRegion', 'S/B/Resource')).toBe(true);
  });
  test('replication without a replica key fails', () => {
    const { stack } = stackOf();
    const b = new s3.Bucket(stack, 'Plain', { versioned: true });
    (b.node.defaultChild as s3.CfnBucket).replicationConfiguration = {
      role: 'arn:aws:iam::111111111111:role/r',
      rules: [{ status: 'Enabled', destination: { bucket: 'arn:aws:s3:::elsewhere' } }],
    };
    expect(flags(stack, 'S3ReplicationDestinationEncryptedInItsRegion', 'S/Plain/Resource')).toBe(true);
  });
});

describe('the pack', () => {
  test('has one id per rule, in RULES.md', () => {
    const names = new S3EncryptionChecks().ruleNames;
    expect(names).toHaveLength(13);
    const rulesMd = fs.readFileSync(path.join(__dirname, '..', '..', 'RULES.md'), 'utf8');
    for (const n of names) expect(rulesMd).toContain(n);
  });
  test('rejects settings out of range', () => {
    expect(() => new S3EncryptionChecks(undefined, { maxRotationPeriodDays: 30 })).toThrow(/invalid maxRotationPeriodDays 30: must be a whole number from 90 to 2560/);
    expect(() => new S3EncryptionChecks(undefined, { minPendingWindowDays: 31 })).toThrow(/invalid minPendingWindowDays 31: must be a whole number from 7 to 30/);
  });
  test('a plain aws-cdk-lib bucket and key fail the rules they should', () => {
    const { stack } = stackOf();
    new s3.Bucket(stack, 'B', { encryptionKey: new kms.Key(stack, 'K') });
    expect(Object.keys(flagged(stack)).sort()).toEqual([
      'KMSKeyUsageConditioned', 'KMSRotationWithinPeriod', 'S3BucketDataEventsAudited', 'S3BucketKeysEnabled',
      'S3BucketPolicyDeniesOtherKmsKeys', 'S3SseCBlockedUnlessChosen', 'S3TlsEnforcedAtLeast12',
    ]);
  });
  test('as a Validations plugin, synth reports a plain bucket and passes an audited EncryptedBucket', () => {
    // CDK prints the report, writes it beside the assembly and sets the exit code; keep jest's own.
    const report = (app: App): any => {
      const before = process.exitCode;
      const errorLog = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        const dir = app.synth().directory;
        return { failed: process.exitCode === 1, json: JSON.parse(fs.readFileSync(path.join(dir, 'policy-validation-report.json'), 'utf8')) };
      } finally {
        process.exitCode = before;
        errorLog.mockRestore();
      }
    };
    const bad = stackOf();
    new s3.Bucket(bad.stack, 'Plain');
    Validations.of(bad.app).addPlugins(new S3EncryptionChecks(bad.app));
    const b = report(bad.app);
    expect(b.failed).toBe(true);
    expect(JSON.stringify(b.json)).toContain('S3Encryption-S3BucketEncryptedWithCustomerManagedKey');

    const good = stackOf();
    new EncryptedBucket(good.stack, 'B', { auditTrail: new EncryptionAuditTrail(good.stack, 'Audit') });
    Validations.of(good.app).addPlugins(new S3EncryptionChecks(good.app));
    const g = report(good.app);
    expect(g.failed).toBe(false);
    expect(JSON.stringify(g.json)).not.toContain('S3Encryption-');
  });
});
