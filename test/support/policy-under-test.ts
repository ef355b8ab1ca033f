/**
 * One policy, as a builder writes it, placed on a bucket, key or topic of a tiny app so that the
 * access model decides requests against exactly those statements (and an allow for the account,
 * so that only the statements under test can refuse). Synthesis of a handful of L1 resources is
 * fast: the builders' tests can ask many questions of each.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AccessModel, ACCOUNT, REGION, ROOT } from './access-model';

export const BUCKET = 'policy-under-test';
export const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;
/** A principal of the account whose own identity policy allows everything. */
export const ADMIN = ROOT;

export interface PolicyUnderTest {
  readonly model: AccessModel;
  readonly stack: Stack;
  /** The ARN of the bucket, key or topic that carries the policy. */
  readonly arn: string;
}

function stackOf(): Stack {
  return new Stack(new App(), 'P', { env: { account: ACCOUNT, region: REGION } });
}

/** A bucket whose policy allows the account everything, plus `statements`. */
export function onBucket(build: (bucketArn: string) => iam.PolicyStatement[]): PolicyUnderTest {
  const stack = stackOf();
  new s3.CfnBucket(stack, 'Bucket', { bucketName: BUCKET });
  new s3.CfnBucketPolicy(stack, 'Policy', {
    bucket: BUCKET,
    policyDocument: new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({ sid: 'AccountMayDoAnything', principals: [new iam.AccountRootPrincipal()], actions: ['s3:*'], resources: [BUCKET_ARN, `${BUCKET_ARN}/*`] }),
        ...build(BUCKET_ARN),
      ],
    }),
  });
  return { model: AccessModel.of(stack.node.root as App), stack, arn: BUCKET_ARN };
}

/** A key whose policy holds `statements` only (no implicit account access). */
export function onKey(statements: iam.PolicyStatement[]): PolicyUnderTest {
  const stack = stackOf();
  new kms.CfnKey(stack, 'Key', { keyPolicy: new iam.PolicyDocument({ statements }) });
  const model = AccessModel.of(stack.node.root as App);
  return { model, stack, arn: model.keyArn(/Key/) };
}

/** A topic whose policy holds `statements` only. */
export function onTopic(build: (topicArn: string) => iam.PolicyStatement[]): PolicyUnderTest {
  const stack = stackOf();
  const topic = new sns.CfnTopic(stack, 'Topic', { topicName: 'policy-under-test' });
  new sns.CfnTopicPolicy(stack, 'Policy', { topics: [topic.ref], policyDocument: new iam.PolicyDocument({ statements: build(topic.ref) }) });
  const model = AccessModel.of(stack.node.root as App);
  return { model, stack, arn: model.topicArn(/Topic/) };
}

/** An identity policy that allows everything: for principals outside the app. */
export const ALLOW_ALL = [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }];
