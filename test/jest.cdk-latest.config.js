// The unit suite and the example app's compliance run against the newest aws-cdk-lib, which
// scripts/setup/20-cdk-latest.sh installs into .tools/cdk-latest (the repository's own
// node_modules keep the peer floor). Every import of
// aws-cdk-lib and constructs, from the library, the tests and cdk-nag alike, resolves there.
const path = require('node:path');
const base = require('../package.json').jest;
const latest = path.join(__dirname, '..', '.tools', 'cdk-latest', 'node_modules');
module.exports = {
  ...base,
  rootDir: path.join(__dirname, '..'),
  collectCoverage: false,
  reporters: ['default'],
  // Unit tests, and the example app through every checker (the main job's assertions); the other
  // integration tests start servers and build other languages, once is enough.
  testPathIgnorePatterns: [...base.testPathIgnorePatterns, '/test/integ/(?!examples-compliance\\.test\\.ts)'],
  moduleNameMapper: {
    '^aws-cdk-lib$': path.join(latest, 'aws-cdk-lib'),
    '^aws-cdk-lib/(.*)$': path.join(latest, 'aws-cdk-lib', '$1'),
    '^constructs$': path.join(latest, 'constructs'),
  },
};
