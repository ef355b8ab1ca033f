import { CfnResource, Stack, Stage } from 'aws-cdk-lib';
import { CfnBucket, CfnBucketPolicy } from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { coversAction, flatText } from './iam';

/** Resolves a value of a CfnResource into plain JSON (tokens become CloudFormation intrinsics). */
export function resolve(node: CfnResource, value: unknown): any {
  return Stack.of(node).resolve(value);
}

/** Statements of a policy document, always as an array. */
export function statementsOf(doc: any): any[] {
  if (!doc) return [];
  const st = doc.Statement ?? doc.statement ?? [];
  return Array.isArray(st) ? st : [st];
}

export function asArray<T>(v: T | T[] | undefined): T[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

/** Every construct of the app (or of the outermost stage) that holds `node`. */
export function everything(node: IConstruct): IConstruct[] {
  const root = Stage.of(node) ?? node.node.root;
  return root.node.findAll();
}

/** The bucket policies (in the bucket's stack) that apply to `bucket`. */
export function policiesOfBucket(bucket: CfnBucket): any[] {
  const stack = Stack.of(bucket);
  const docs: any[] = [];
  for (const c of stack.node.findAll()) {
    if (!(c instanceof CfnBucketPolicy)) continue;
    const target = JSON.stringify(stack.resolve(c.bucket));
    if (target.includes(`"${stack.resolve(bucket.logicalId)}"`) || (bucket.bucketName && target === JSON.stringify(stack.resolve(bucket.bucketName)))) {
      docs.push(stack.resolve(c.policyDocument));
    }
  }
  return docs;
}

/** The deny statements of the bucket's policies that cover s3:PutObject (`s3:Put*`, `s3:*`, `NotAction` too). */
export function putObjectDenials(bucket: CfnBucket): any[] {
  return policiesOfBucket(bucket).flatMap(statementsOf).filter((s) => s.Effect === 'Deny' && coversAction(s, 's3:PutObject'));
}

/** The server-side encryption rules of a bucket. */
export function encryptionRules(bucket: CfnBucket): any[] {
  const enc = resolve(bucket, bucket.bucketEncryption);
  return asArray(field(enc, 'ServerSideEncryptionConfiguration'));
}

/** Whether the bucket is meant for SSE-C: its policy denies a PUT without an SSE-C key. */
export function requiresSseC(bucket: CfnBucket): boolean {
  return putObjectDenials(bucket).some((s) => s.Condition?.Null?.['s3:x-amz-server-side-encryption-customer-algorithm'] === 'true');
}

/**
 * A resolved `Principal.AWS` entry is the root of the account of `node`'s stack: its account id,
 * or `arn:<partition>:iam::<account>:root`, where the account is the stack's (a literal when the
 * stack has an environment) or the `AWS::AccountId` pseudo parameter. Another account's root is
 * not: it holds whatever this policy gives it, for every principal of that account.
 */
export function isOwnAccountRoot(node: CfnResource, principal: unknown): boolean {
  const stack = Stack.of(node);
  const accounts = new Set(['${AWS::AccountId}', flatText(stack.resolve(stack.account))]);
  const text = flatText(principal);
  if (accounts.has(text)) return true;
  const m = /^arn:(aws[a-z-]*|\$\{AWS::Partition\}):iam::(.+):root$/.exec(text);
  return m !== null && accounts.has(m[2]);
}

/**
 * A field of a resolved L1 property, whatever its casing: L1 structs resolve with camelCase keys
 * (`sseAlgorithm`), raw overrides and policy documents with CloudFormation's (`SSEAlgorithm`).
 */
export function field(obj: any, name: string): any {
  if (!obj || typeof obj !== 'object') return undefined;
  const want = name.toLowerCase();
  const key = Object.keys(obj).find((k) => k.toLowerCase() === want);
  return key === undefined ? undefined : obj[key];
}
