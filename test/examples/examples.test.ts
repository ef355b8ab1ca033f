import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildExampleApp } from '../../examples/app';

// One snapshot per example stack: a change to any synthesized example is a reviewed commit.
const app = new App();
const stacks = buildExampleApp(app);

test.each(stacks.map((s) => [s.stackName, s] as const))('example stack %s matches its snapshot', (_name, stack) => {
  expect(Template.fromStack(stack).toJSON()).toMatchSnapshot();
});

test('the replicated stack deploys after its destination', () => {
  const source = stacks.find((s) => s.stackName === 'ReplicatedBucket')!;
  expect(source.dependencies.map((d) => d.stackName)).toContain('ReplicaDestination');
});
