/**
 * Finding the resources of the app that a property names: by reference (`Ref`, `Fn::GetAtt`, an
 * export of another stack) or by a literal name or ARN.
 */
import { CfnOutput, CfnResource, Reference, Stack, Token, Tokenization } from 'aws-cdk-lib';
import { CfnAlias, CfnKey } from 'aws-cdk-lib/aws-kms';
import { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { CfnTopic } from 'aws-cdk-lib/aws-sns';
import { flatText } from './iam';
import { everything, field, resolve } from './util';

/** A literal string names the resource `candidate` (by name or ARN). */
export type LiteralMatcher = (literal: string, candidate: CfnResource) => boolean;

function byLogicalId(stack: Stack, id: string): CfnResource[] {
  return stack.node.findAll().filter((c): c is CfnResource => c instanceof CfnResource && Stack.of(c) === stack && stack.resolve(c.logicalId) === id);
}

/** What a lookup of resolved values needs: where it starts, the candidates, how literals match. */
interface Lookup {
  readonly from: CfnResource;
  readonly candidates: CfnResource[];
  readonly literal?: LiteralMatcher;
}

function fromResolved(q: Lookup, value: any, stack: Stack, depth: number): CfnResource[] {
  if (depth > 4 || value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.flatMap((v) => fromResolved(q, v, stack, depth));
  const literal = q.literal;
  if (typeof value === 'string') return literal ? q.candidates.filter((c) => literal(value, c)) : [];
  if (typeof value !== 'object') return [];
  if (typeof value.Ref === 'string') return byLogicalId(stack, value.Ref);
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return byLogicalId(stack, getAtt[0]);
  const imported = value['Fn::ImportValue'];
  if (imported !== undefined) {
    const name = JSON.stringify(imported);
    const exports = everything(q.from).filter((c): c is CfnOutput => c instanceof CfnOutput && c.exportName !== undefined
      && JSON.stringify(Stack.of(c).resolve(c.exportName)) === name);
    return exports.flatMap((o) => fromResolved(q, Stack.of(o).resolve(o.value), Stack.of(o), depth + 1));
  }
  if (value['Fn::Join'] !== undefined && literal) {
    const text = flatText(value);
    return q.candidates.filter((c) => literal(text, c));
  }
  return [];
}

/**
 * The resources of the app, among `candidates`, that a property value of `from` names. A token
 * that is a reference leads to its target directly (also across stacks); otherwise the resolved
 * value is read: `Ref`/`Fn::GetAtt` within `from`'s stack, `Fn::ImportValue` through the export
 * of the producing stack, and literals through `literal`.
 */
export function namedResources<T extends CfnResource>(from: CfnResource, value: unknown, candidates: T[], literal?: LiteralMatcher): T[] {
  if (value === undefined || value === null) return [];
  // A token list (an encoded list token in an array) resolves whole, never item by item.
  if (Array.isArray(value) && !Token.isUnresolved(value)) {
    const each = new Set(value.flatMap((v) => namedResources(from, v, candidates, literal)));
    return candidates.filter((c) => each.has(c));
  }
  if (typeof value === 'string' && Token.isUnresolved(value)) {
    const token = Tokenization.reverse(value, { failConcat: false });
    if (token && Reference.isReference(token) && token.target instanceof CfnResource) {
      const target = token.target;
      return candidates.filter((c) => c === target);
    }
  }
  const found = fromResolved({ from, candidates, literal }, resolve(from, value), Stack.of(from), 0);
  return candidates.filter((c) => found.includes(c));
}

/** Every resource of one type in the app that holds `node`. */
export function allOf<T>(node: CfnResource, type: abstract new (...args: any[]) => T): T[] {
  return everything(node).filter((c): c is any => c instanceof type) as T[];
}

/** A bucket named by its literal name or ARN (`arn:<partition>:s3:::name`). */
export const bucketLiteral: LiteralMatcher = (s, c) => {
  if (!(c instanceof CfnBucket)) return false;
  const name = Stack.of(c).resolve(c.bucketName);
  if (typeof name !== 'string') return false;
  return s === name || s.endsWith(`:s3:::${name}`);
};

/** A topic named by its ARN (`arn:...:sns:<region>:<account>:name`). */
export const topicLiteral: LiteralMatcher = (s, c) => {
  if (!(c instanceof CfnTopic)) return false;
  const name = Stack.of(c).resolve(c.topicName);
  return typeof name === 'string' && s.includes(':sns:') && s.endsWith(`:${name}`);
};

/** A key named through one of its aliases (`alias/name` or the alias ARN). */
export function keyLiteral(all: CfnResource[]): LiteralMatcher {
  return (s, c) => {
    if (!(c instanceof CfnKey)) return false;
    const alias = s.replace(/^arn:[^:]+:kms:[^:]*:[^:]*:/, '');
    if (!alias.startsWith('alias/')) return false;
    return all.some((a) => a instanceof CfnAlias && Stack.of(a).resolve(a.aliasName) === alias
      && namedResources(a, a.targetKeyId, [c]).length > 0);
  };
}

/** The bucket a bucket's server access logs go to: the bucket itself when the destination is left out. */
export function logDestinationsOf(bucket: CfnBucket, buckets: CfnBucket[]): CfnBucket[] {
  const lc: any = bucket.loggingConfiguration;
  if (lc === undefined) return [];
  const raw = field(lc, 'DestinationBucketName') ?? field(resolve(bucket, lc), 'DestinationBucketName');
  if (raw === undefined) return resolve(bucket, lc) ? [bucket] : [];
  return namedResources(bucket, raw, buckets, bucketLiteral);
}

/**
 * The buckets of the app whose server access logs are delivered to `bucket`; `bucket` itself is
 * one when it logs into itself.
 */
export function logSourcesOf(bucket: CfnBucket): CfnBucket[] {
  const buckets = allOf(bucket, CfnBucket);
  return buckets.filter((b) => logDestinationsOf(b, buckets).includes(bucket));
}
