import { createHash } from 'node:crypto';
import { Aws, Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

const MAX_REGION = 14; // the longest Region names, e.g. ap-southeast-4
const MAX_PREFIX = 63 - (1 + 8 + 1 + 12 + 1 + MAX_REGION);

/**
 * A bucket name fixed at synth, unique per account and Region: a key policy can then name the
 * bucket's ARN without depending on the bucket (which depends on the key), so no cycle.
 */
export function generatedBucketName(scope: IConstruct, id: string): string {
  const stack = Stack.of(scope);
  const path = scope.node.path ? `${scope.node.path}/${id}` : id;
  const hash = createHash('sha256').update(path).digest('hex').slice(0, 8);
  const readable = `${Token.isUnresolved(stack.stackName) ? '' : stack.stackName}-${id}`
    .toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/-+/g, '-').replace(/^-+/, '');
  const prefix = readable.slice(0, MAX_PREFIX).replace(/-+$/, '') || 'bucket';
  const account = Token.isUnresolved(stack.account) ? Aws.ACCOUNT_ID : stack.account;
  const region = Token.isUnresolved(stack.region) ? Aws.REGION : stack.region;
  return `${prefix}-${hash}-${account}-${region}`;
}

/**
 * A text as an IAM role description takes it: IAM's pattern is
 * [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]* and at most 1000 characters (IAM API Reference,
 * CreateRole), so any other character (of an object-key prefix, say) becomes '?'.
 */
export function iamDescription(text: string): string {
  return text.replace(/[^\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]/g, '?').slice(0, 1000);
}
