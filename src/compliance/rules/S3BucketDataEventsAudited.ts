import { CfnResource, Stack } from 'aws-cdk-lib';
import { CfnTrail } from 'aws-cdk-lib/aws-cloudtrail';
import { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { NagRuleCompliance } from 'cdk-nag';
import { asArray, everything, field, resolve } from './util';

/** Metadata key under which EncryptedBucket's dataEventsRecordedBy names a trail outside the app. */
export const DATA_EVENTS_RECORDED_BY = 'cdk-s3-encryption:dataEventsRecordedBy';
/** A CloudTrail trail ARN (partition, Region, 12-digit account, trail name). */
export const TRAIL_ARN = /^arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:trail\/[A-Za-z0-9._-]{3,128}$/;

/**
 * Strings by which a resource of `where`'s stack may name the bucket: its name, and its logical id
 * only within its own stack (logical ids repeat across stacks).
 */
function handlesOf(bucket: CfnBucket, where: CfnResource): string[] {
  const stack = Stack.of(bucket);
  const handles = Stack.of(where) === stack ? [`"${stack.resolve(bucket.logicalId)}"`] : [];
  const name = stack.resolve(bucket.bucketName);
  if (typeof name === 'string') handles.push(name);
  else if (name !== undefined) handles.push(JSON.stringify(name));
  return handles;
}

function trailCovers(trail: CfnTrail, handles: string[]): boolean {
  const stack = Stack.of(trail);
  const basic = asArray(stack.resolve(trail.eventSelectors));
  for (const sel of basic) {
    for (const dr of asArray(field(sel, 'DataResources'))) {
      if (field(dr, 'Type') !== 'AWS::S3::Object') continue;
      const values = asArray(field(dr, 'Values')).map((v) => JSON.stringify(v));
      if (values.some((v) => /^"arn:[a-z-]+:s3(:::)?"$/.test(v) || handles.some((h) => v.includes(h.replace(/^"|"$/g, ''))))) return true;
    }
  }
  for (const sel of asArray(stack.resolve(trail.advancedEventSelectors))) {
    const fields = asArray(field(sel, 'FieldSelectors'));
    const isData = fields.some((f: any) => field(f, 'Field') === 'eventCategory' && asArray(field(f, 'Equals') ?? field(f, 'EqualTo')).includes('Data'));
    const isS3 = fields.some((f: any) => field(f, 'Field') === 'resources.type' && asArray(field(f, 'Equals') ?? field(f, 'EqualTo')).includes('AWS::S3::Object'));
    if (!isData || !isS3) continue;
    const arn = fields.find((f: any) => field(f, 'Field') === 'resources.ARN');
    if (!arn) return true;
    const text = JSON.stringify(arn);
    if (handles.some((h) => text.includes(h.replace(/^"|"$/g, '')))) return true;
  }
  return false;
}

/**
 * A trail of the app records the bucket's S3 data events. A trail's own destination bucket, and
 * the server-access-log bucket of that destination, are exempt: auditing them would log the
 * trail's own writes forever.
 */
export default Object.defineProperty((node: CfnResource): NagRuleCompliance => {
  if (!(node instanceof CfnBucket)) return NagRuleCompliance.NOT_APPLICABLE;
  // A trail outside the app (an organization trail) declared with EncryptedBucket's dataEventsRecordedBy.
  const declared = node.getMetadata(DATA_EVENTS_RECORDED_BY);
  if (typeof declared === 'string' && TRAIL_ARN.test(declared)) return NagRuleCompliance.COMPLIANT;
  const all = everything(node);
  const trails = all.filter((c): c is CfnTrail => c instanceof CfnTrail);
  // A missing value (undefined) names nothing.
  const names = (b: CfnBucket, where: CfnResource, v: unknown) =>
    v !== undefined && handlesOf(b, where).some((h) => JSON.stringify(v).includes(h.replace(/^"|"$/g, '')));
  for (const t of trails) {
    const dest = resolve(t, t.s3BucketName);
    if (names(node, t, dest)) return NagRuleCompliance.NOT_APPLICABLE;
    const destBucket = all.find((c): c is CfnBucket => c instanceof CfnBucket && names(c, t, dest));
    if (destBucket && names(node, destBucket, field(resolve(destBucket, destBucket.loggingConfiguration), 'DestinationBucketName'))) {
      return NagRuleCompliance.NOT_APPLICABLE;
    }
  }
  return trails.some((t) => trailCovers(t, handlesOf(node, t))) ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
}, 'name', { value: 'S3BucketDataEventsAudited' });
