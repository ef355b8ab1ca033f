// The unit suite against the newest aws-cdk-lib, which scripts/setup/20-cdk-latest.sh installs into
// .tools/cdk-latest (the repository's own node_modules keep the peer floor). Every import of
// aws-cdk-lib and constructs, from the library, the tests and cdk-nag alike, resolves there.
const path = require('node:path');
const base = require('../package.json').jest;
const latest = path.join(__dirname, '..', '.tools', 'cdk-latest', 'node_modules');
module.exports = {
  ...base,
  rootDir: path.join(__dirname, '..'),
  collectCoverage: false,
  reporters: ['default'],
  testPathIgnorePatterns: [...base.testPathIgnorePatterns, '/test/integ/'],
  moduleNameMapper: {
    '^aws-cdk-lib$': path.join(latest, 'aws-cdk-lib'),
    '^aws-cdk-lib/(.*)$': path.join(latest, 'aws-cdk-lib', '$1'),
    '^constructs$': path.join(latest, 'constructs'),
  },
};
