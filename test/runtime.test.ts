/**
 * The suite runs on what the test command says it runs on: the Node.js major given by the task
 * (EXPECTED_NODE_MAJOR: 24 for the whole suite, 22 for the unit run) and the aws-cdk-lib release
 * (the peer floor from node_modules, or the newest from .tools/cdk-latest with EXPECTED_CDK=latest).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf-8'));

test('aws-cdk-lib is the release this run is for', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require('aws-cdk-lib/package.json').version;
  if (process.env.EXPECTED_CDK === 'latest') {
    const pinned = JSON.parse(fs.readFileSync(path.join(root, 'scripts/setup/cdk-latest/package.json'), 'utf-8')).dependencies['aws-cdk-lib'];
    expect(loaded).toBe(pinned);
    expect(loaded).not.toBe(pkg.devDependencies['aws-cdk-lib']);
  } else {
    // The peer floor: the lowest release users may install is the one tested.
    expect(loaded).toBe(pkg.devDependencies['aws-cdk-lib']);
    expect(pkg.peerDependencies['aws-cdk-lib']).toBe(`^${loaded}`);
  }
});

test('Node.js is the major this run is for, and one that package.json supports', () => {
  const major = Number(process.versions.node.split('.')[0]);
  const expected = process.env.EXPECTED_NODE_MAJOR;
  if (expected !== undefined) expect(major).toBe(Number(expected));
  // The inner loop may run on the machine's own Node.js; the test command never does.
  expect(pkg.engines.node).toBe('>= 22.0.0');
  expect(expected === undefined || major >= 22).toBe(true);
});
