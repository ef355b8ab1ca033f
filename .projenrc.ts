import { awscdk, javascript } from 'projen';
import { UpdateSnapshot } from 'projen/lib/javascript';

// aws-cdk-lib 2.257.0 is the first release that cdk-nag 3 accepts (Validations.of) and it has
// s3.BlockedEncryptionType; 2.254.0-2.256.0 are skipped on purpose (their npm ci is broken).
const CDK_VERSION = '2.257.0';

const project = new awscdk.AwsCdkConstructLibrary({
  author: 'cdk-s3-encryption contributors',
  authorAddress: 'maintainers@cdk-s3-encryption.dev',
  cdkVersion: CDK_VERSION,
  constructsVersion: '10.5.1',
  defaultReleaseBranch: 'main',
  jsiiVersion: '~6.0.0',
  name: 'cdk-s3-encryption',
  description:
    'Encryption at rest for Amazon S3, correct by default: encrypted buckets, KMS key policies, rotation, tenant keyrings, audit trails, cdk-nag checks and a client-side encryption client.',
  keywords: ['cdk', 'aws-cdk', 's3', 'kms', 'encryption', 'cdk-nag', 'compliance', 'sse-kms', 'sse-c', 'client-side-encryption'],
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  repositoryUrl: 'https://github.com/cdk-s3-encryption/cdk-s3-encryption.git',
  license: 'Apache-2.0',

  // No generated CI workflows: CI is .ci/run, which calls the README's test command.
  github: false,
  release: false,
  depsUpgrade: false,
  pullRequestTemplate: false,

  publishToPypi: { distName: 'cdk-s3-encryption', module: 'cdk_s3_encryption' },
  publishToMaven: {
    javaPackage: 'dev.cdks3encryption',
    mavenGroupId: 'dev.cdks3encryption',
    mavenArtifactId: 'cdk-s3-encryption',
  },
  publishToNuget: { dotNetNamespace: 'CdkS3Encryption', packageId: 'CdkS3Encryption' },
  publishToGo: { moduleName: 'github.com/cdk-s3-encryption/cdk-s3-encryption-go' },

  peerDeps: ['cdk-nag@^3.0.2'],
  devDeps: [
    'cdk-nag@3.0.2',
    '@cdklabs/cdk-validator-cfnguard@0.0.62',
    '@aws-sdk/client-s3@^3',
    '@aws-sdk/client-kms@^3',
    '@aws-sdk/client-secrets-manager@^3',
    '@aws-sdk/client-cloudformation@^3',
    '@aws-crypto/client-node@^5',
    '@types/aws-lambda@^8',
    'esbuild@^0.25',
    'aws-cdk@2.1148.1',
    // The IAM engine of the access matrices (test only: evaluates the synthesized policies).
    '@cloud-copilot/iam-simulate@0.1.173',
  ],

  // The bundled handlers run on the newest Node.js Lambda runtime (AwsSolutions-L1).
  lambdaOptions: { runtime: awscdk.LambdaRuntime.NODEJS_24_X },

  bin: { 'cdk-s3-encryption': 'lib/compliance/cli.js' },

  jestOptions: {
    // Snapshots change only in a deliberate commit: jest runs with --ci and never writes them.
    updateSnapshot: UpdateSnapshot.NEVER,
    passWithNoTests: false,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testTimeout: 120_000,
      snapshotSerializers: ['<rootDir>/test/support/snapshot-serializer.ts'],
      coveragePathIgnorePatterns: ['/node_modules/', '/test/'],
    },
  },
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'examples', 'bench', 'scripts'],
  },
  gitignore: ['/.tools/', '/cdk.out/', '/examples/cdk.out/', '/compliance-report/', '*.class'],
});

for (const p of ['/examples/', '/bench/', '/scripts/', '/.ci/', '/.tools/', '/compliance-report/']) {
  project.addPackageIgnore(p);
}

// The runtime client and the Lambda handlers import the AWS SDK v3 that their users (or the Lambda
// runtime) provide, so it stays a devDependency; byte-level crypto code needs bitwise operators.
project.eslint?.addOverride({
  files: ['src/client/**/*.ts', 'src/**/*.lambda.ts'],
  rules: { 'import/no-extraneous-dependencies': ['error', { devDependencies: true, optionalDependencies: false, peerDependencies: true }] },
});
project.eslint?.addOverride({
  files: ['src/client/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
  rules: { 'no-bitwise': 'off' },
});

// The runtime client is a Node subpath export, outside the jsii type system.
project.package.addField('exports', {
  '.': { types: './lib/index.d.ts', default: './lib/index.js' },
  './client': { types: './lib/client/index.d.ts', default: './lib/client/index.js' },
  './.jsii': './.jsii',
  './package.json': './package.json',
});

// Tools outside npm (Python checkers and servers, Java and Go peers) go into .tools/, made by
// scripts/setup-tools.sh: idempotent, so every test run calls it.
const setupTools = project.addTask('setup-tools', {
  description: 'Install the non-npm test tools into .tools/ (Python venv, Java and Go peers)',
  exec: 'bash scripts/setup-tools.sh',
});

// The inner loop: unit tests only, no local servers, no tool install.
project.addTask('test:unit', {
  description: 'Run the unit tests (no local servers)',
  exec: 'jest --ci --passWithNoTests=false --testPathIgnorePatterns=/test/integ/',
  receiveArgs: true,
});

// `projen test` is the whole suite: tools, unit and integration tests, lint.
project.testTask.prependSpawn(setupTools);

// The build packages JavaScript, in and out of CI alike; the Python, Java and Go packages are built
// and proven by test/integ/jsii-languages.test.ts (`package-all` stays for machines with every SDK).
project.packageTask.reset();
project.packageTask.spawn(project.tasks.tryFind('package:js')!);

project.addTask('compliance', {
  description: 'Synthesize the examples/ app with every compliance check and print the summary',
  steps: [
    { spawn: 'setup-tools' },
    { exec: 'ts-node --project test/tsconfig.json examples/compliance.ts', receiveArgs: true },
  ],
});

project.synth();
