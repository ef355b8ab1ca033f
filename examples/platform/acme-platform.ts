/**
 * What a platform team publishes as its organization's internal construct package, built on this
 * library: the secure defaults every team stack gets, the encryption of buckets that other code
 * makes, and the organization trail that already records their data events.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { BucketEncryptionPolicy, BucketEncryptionPolicyMode, EncryptionDefaults } from '../../src';

/** The organization trail (in the management account) that records every account's S3 data events. */
export const ACME_ORGANIZATION_TRAIL = 'arn:aws:cloudtrail:us-east-1:111122223333:trail/acme-organization';

/**
 * Acme's defaults, applied to a team stack before anything else is made in it: keys rotated every
 * 180 days, TLS 1.3, tenant aliases under `alias/acme/`, data events recorded by the organization
 * trail, and every bucket of other code encrypted (ENFORCE).
 */
export function applyAcmeDefaults(stack: Stack): { defaults: EncryptionDefaults; buckets: BucketEncryptionPolicy } {
  const defaults = new EncryptionDefaults(stack, 'AcmeDefaults', {
    keyRotationPeriod: Duration.days(180),
    minimumTlsVersion: 1.3,
    tenantAliasPrefix: 'acme',
    dataEventsRecordedBy: ACME_ORGANIZATION_TRAIL,
  });
  const buckets = new BucketEncryptionPolicy(stack, 'AcmeBucketEncryption', { mode: BucketEncryptionPolicyMode.ENFORCE, minimumTlsVersion: 1.3 });
  return { defaults, buckets };
}
