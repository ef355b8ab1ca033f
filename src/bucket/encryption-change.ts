import * as fs from 'node:fs';
import * as path from 'node:path';
import { Annotations, Stack, Stage } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/** The default encryption of a bucket, as a template states it. */
interface DefaultEncryption {
  readonly mode: string;
  readonly key: string;
  readonly bucketKey: boolean;
}

/** Where a key is referenced: its ARN, or the logical ID of a key of the stack. */
function describeKey(value: unknown): string {
  if (typeof value === 'string') return value;
  const getAtt = (value as { 'Fn::GetAtt'?: unknown[] } | undefined)?.['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return `the key ${String(getAtt[0])} of this stack`;
  const ref = (value as { Ref?: unknown } | undefined)?.Ref;
  if (typeof ref === 'string') return `the key ${ref}`;
  return JSON.stringify(value ?? null);
}

const ALGORITHMS: Record<string, string> = { 'AES256': 'SSE-S3', 'aws:kms': 'SSE-KMS', 'aws:kms:dsse': 'DSSE-KMS' };

/** Reads both the template (PascalCase) and the L1 (camelCase) spelling of BucketEncryption. */
function summarize(encryption: any): DefaultEncryption | undefined {
  const rule = (encryption?.ServerSideEncryptionConfiguration ?? encryption?.serverSideEncryptionConfiguration)?.[0];
  if (!rule) return undefined;
  const byDefault = rule.ServerSideEncryptionByDefault ?? rule.serverSideEncryptionByDefault ?? {};
  const algorithm = byDefault.SSEAlgorithm ?? byDefault.sseAlgorithm;
  const blocked: unknown = (rule.BlockedEncryptionTypes ?? rule.blockedEncryptionTypes)?.EncryptionType
    ?? (rule.BlockedEncryptionTypes ?? rule.blockedEncryptionTypes)?.encryptionType;
  // An EncryptedBucket in SSE-C mode blocks no type; every other mode blocks SSE-C.
  const ssec = Array.isArray(blocked) && blocked.includes('NONE');
  const mode = ssec ? 'SSE-C' : ALGORITHMS[algorithm] ?? String(algorithm);
  // SSE-S3 names no KMS key: S3 holds the key.
  const keyId = byDefault.KMSMasterKeyID ?? byDefault.kmsMasterKeyId;
  const key = mode === 'SSE-S3' && keyId === undefined ? "S3's own key" : describeKey(keyId);
  return { mode, key, bucketKey: (rule.BucketKeyEnabled ?? rule.bucketKeyEnabled) === true };
}

function render(e: DefaultEncryption): string {
  return `${e.mode} under ${e.key}${e.mode === 'SSE-KMS' ? `, S3 Bucket Keys ${e.bucketKey ? 'on' : 'off'}` : ''}`;
}

/**
 * Tells the user at synth when a bucket's default encryption differs from the one in the template
 * the last synth wrote to the same cloud assembly directory (`cdk.out`): a new key, a new mode or S3
 * Bucket Keys turned on or off. S3 applies a default encryption to new objects only (S3 User Guide,
 * update-sse-encryption.html: "This default encryption setting applies to all new objects in your
 * Amazon S3 buckets"; S3 API Reference, ServerSideEncryptionRule, BucketKeyEnabled: "Existing
 * objects are not affected"), so existing objects keep the old one until they are re-encrypted.
 */
export function noticeEncryptionChange(bucket: Construct, cfn: s3.CfnBucket): void {
  const stack = Stack.of(bucket);
  const outdir = Stage.of(stack)?.outdir;
  if (!outdir) return;
  const file = path.join(outdir, stack.templateFile);
  let previous: DefaultEncryption | undefined;
  try {
    const template = JSON.parse(fs.readFileSync(file, 'utf8'));
    previous = summarize(template?.Resources?.[stack.getLogicalId(cfn)]?.Properties?.BucketEncryption);
  } catch {
    // No earlier synth in this directory, or a template being rewritten: nothing to compare with.
    return;
  }
  const current = summarize(stack.resolve(cfn.bucketEncryption));
  if (!previous || !current || render(previous) === render(current)) return;
  Annotations.of(bucket).addInfo(
    `The default encryption changed since the last synth in ${outdir}: ${render(previous)} -> ${render(current)}. `
    + 'S3 applies it to new writes only; existing objects keep the encryption they were written with. Re-encrypt them with a '
    + 'ReencryptionJob (in place with S3 UpdateObjectEncryption from SSE-S3 or SSE-KMS to SSE-KMS, by copy otherwise), or '
    + 'rekeyPrefix from cdk-s3-encryption/client for SSE-C objects; see docs/reencryption.md.',
  );
}
