import { awscdk, javascript, JsonFile } from 'projen';
import { UpdateSnapshot } from 'projen/lib/javascript';

// The peer floor. aws-cdk-lib 2.257.0 is the first release that cdk-nag 3 accepts, and it has
// s3.BlockedEncryptionType; 2.258.0 is the first that gives validation plugins the construct tree
// (IPolicyValidationContext.appConstruct), without which cdk-nag 3's packs added with
// Validations.of(app).addPlugins(...) report a failure and no findings ("NagPack requires a
// construct tree"). test/compliance/validations-plugin.test.ts proves it works at this floor.
const CDK_VERSION = '2.258.0';

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
  // Node.js 22 and 24, the maintained LTS lines, are what the suite runs on (scripts/setup/05-node.sh).
  minNodeVersion: '22.0.0',
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
    '@aws-sdk/client-s3-control@^3',
    '@aws-crypto/client-node@^5',
    '@types/aws-lambda@^8',
    'esbuild@^0.25',
    'aws-cdk@2.1148.1',
    // The IAM engine of the access matrices (test only: evaluates the synthesized policies).
    '@cloud-copilot/iam-simulate@0.1.173',
    // Mutation testing (`projen mutation`); 9.x is the last major that runs on Node.js 20.
    '@stryker-mutator/core@^9.6.1',
    '@stryker-mutator/jest-runner@^9.6.1',
    '@stryker-mutator/typescript-checker@^9.6.1',
    // Validates the SARIF that `cdk-s3-encryption check` writes against the SARIF 2.1.0 schema
    // (JSON Schema 2020-12; the schema file comes from scripts/setup/65-sarif-schema.sh).
    'ajv@^8.18.0',
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
      // Its package.json has the name of the installed copy in .tools/cdk-latest: one of them only.
      modulePathIgnorePatterns: ['<rootDir>/scripts/setup/cdk-latest/'],
    },
  },
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'examples', 'bench', 'scripts'],
  },
  gitignore: ['/.tools/', '/cdk.out/', '/examples/cdk.out/', '/compliance-report/', '*.class', '/reports/', '/.stryker-tmp/'],
});

for (const p of ['/rosetta/', '/lib/**/*.lambda.js', '/lib/**/*.lambda.d.ts', '/examples/', '/bench/', '/scripts/', '/.ci/', '/.tools/', '/compliance-report/', '/reports/', '/.stryker-tmp/', '/stryker/']) {
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

// TypeScript's `moduleResolution: node` (node10) ignores `exports`: typesVersions maps the subpath.
project.package.addField('typesVersions', { '*': { client: ['lib/client/index.d.ts'] } });

// Tools outside npm (Node.js 22 and 24, the newest aws-cdk-lib, Python checkers and servers, Java
// and Go peers) go into .tools/, made by scripts/setup-tools.sh: idempotent, so every test run calls
// it. With step names, only those steps run (the compliance job needs the checkers only).
const setupTools = project.addTask('setup-tools', {
  description: 'Install the non-npm test tools into .tools/ (Node.js 22 and 24, newest aws-cdk-lib, Python venvs, Java and Go peers)',
  exec: 'bash scripts/setup-tools.sh',
  receiveArgs: true,
});

// The inner loop: unit tests only, no local servers, no tool install.
project.addTask('test:unit', {
  description: 'Run the unit tests (no local servers)',
  exec: 'jest --ci --passWithNoTests=false --testPathIgnorePatterns=/test/integ/',
  receiveArgs: true,
});

// `projen test` is the whole suite: tools, then every test on Node.js 24 against the peer floor of
// aws-cdk-lib, then the unit tests and the example app's compliance on Node.js 22 against the
// newest aws-cdk-lib (.tools/cdk-latest), then lint. Deprecated aws-cdk-lib APIs fail both runs (JSII_DEPRECATED=fail).
project.testTask.reset();
project.testTask.spawn(setupTools);
project.testTask.exec('PATH="$PWD/.tools/node24/bin:$PATH" EXPECTED_NODE_MAJOR=24 JSII_DEPRECATED=fail jest --ci --passWithNoTests=false', { receiveArgs: true });
const testLatest = project.addTask('test:cdk-latest', {
  description: 'Unit tests and the example app\'s compliance on Node.js 22 against the newest aws-cdk-lib (setup-tools installs it into .tools/cdk-latest)',
  exec: 'PATH="$PWD/.tools/node22/bin:$PATH" EXPECTED_NODE_MAJOR=22 EXPECTED_CDK=latest JSII_DEPRECATED=fail jest --ci -c test/jest.cdk-latest.config.js',
  receiveArgs: true,
});
project.testTask.spawn(testLatest);
project.testTask.spawn(project.tasks.tryFind('eslint')!);
// ts-jest compiles each test file on its own without reporting type errors: the tests, the
// examples, the benchmarks and the scripts are type-checked as a whole here.
const typecheck = project.addTask('typecheck:dev', {
  description: 'Type-check the tests, examples, benchmarks and scripts',
});
for (const dir of ['test', 'examples', 'bench', 'scripts']) typecheck.exec(`tsc --noEmit -p ${dir}/tsconfig.json`);
project.testTask.spawn(typecheck);

// The build packages JavaScript, in and out of CI alike; the Python, Java and Go packages are built
// and proven by test/integ/jsii-languages.test.ts (`package-all` stays for machines with every SDK).
project.packageTask.reset();
project.packageTask.spawn(project.tasks.tryFind('package:js')!);

// Every TypeScript snippet of the README and of the API documentation (@example) compiles and is
// translated for Python, Java, C# and Go, with the fixtures in rosetta/ (the context a snippet
// leaves out: imports, and the variables it names). Node-only snippets (the client) are ```js.
const rosetta = project.addTask('rosetta:extract', {
  description: 'Compile and translate the README and API snippets with jsii-rosetta (strict: any error fails)',
  exec: 'jsii-rosetta extract --strict --compile --output dist/rosetta/tablet.json .jsii',
});
project.postCompileTask.spawn(rosetta);

project.addTask('compliance', {
  description: 'Synthesize the examples/ app with every compliance check and print the summary',
  steps: [
    // Only the Python checkers: the servers, the Java and Go peers are for the test suite.
    { exec: 'bash scripts/setup-tools.sh 10-checkers' },
    { exec: 'ts-node --project test/tsconfig.json examples/compliance.ts', receiveArgs: true },
  ],
});

// Mutation testing (StrykerJS) of the policy builders and of the client's object format and crypto.
// Long, so not part of `test` or `build`: `npx projen mutation` runs every batch, then prints the
// score per file from the JSON reports in reports/mutation/ (HTML next to them).
// Most construct code runs while a test file loads (stacks built at module level), so Stryker sees
// those mutants as "static" and runs every test of its run for each of them: each batch therefore
// runs the unit-test directories that test its files, not the whole suite (a lower bound on the
// score). Unit tests only (test/integ/ starts servers); jest keeps its --ci semantics (snapshots are
// compared, never written). Incremental: a rerun tests only the mutants whose code or tests changed
// (`npx projen mutation:<batch> --force` for a full run).
const MUTATION_BATCHES: Record<string, { mutate: string[]; tests: string[] }> = {
  client: { mutate: ['src/client/format.ts', 'src/client/crypto.ts'], tests: ['test/client/**/*.test.ts'] },
  trail: {
    mutate: ['src/trail/**/*.ts', 'src/keys/topic-policy.ts'],
    tests: ['test/trail/**/*.test.ts', 'test/keys/rotation-policy*.test.ts', 'test/keys/topic-policy.test.ts'],
  },
  // The bucket construct and its log bucket and replication; its policy builders (bucket-policy.ts,
  // key-policy.ts) are the policies batch's. The example app's access matrix stays in: it is what
  // decides the replication flows (a run without it left replication.ts at 51.6%).
  bucket: {
    mutate: ['src/bucket/**/*.ts', '!src/bucket/bucket-policy.ts'],
    tests: ['test/bucket/**/*.test.ts', 'test/platform/**/*.test.ts', 'test/examples/access-matrix.test.ts'],
  },
  tenants: { mutate: ['src/tenants/tenant-policy.ts'], tests: ['test/tenants/tenant-keyring*.test.ts'] },
  // The pure policy builders against their own statement-by-statement tests and the access matrices
  // that evaluate what they write: a batch that finishes in well under an hour (the bucket batch
  // runs every bucket test for each mutant).
  policies: {
    mutate: ['src/bucket/bucket-policy.ts', 'src/keys/key-policy.ts', 'src/keys/topic-policy.ts'],
    tests: [
      'test/bucket/bucket-policy.test.ts', 'test/keys/key-policy.test.ts', 'test/keys/topic-policy.test.ts',
      'test/bucket/encrypted-bucket.access.test.ts', 'test/platform/bucket-encryption-policy.test.ts',
    ],
  },
};
const mutation = project.addTask('mutation', {
  description: 'Mutation testing (StrykerJS) of the policy builders and the client format and crypto; reports in reports/mutation/',
});
for (const [batch, { mutate, tests }] of Object.entries(MUTATION_BATCHES)) {
  const config = `stryker/${batch}.json`;
  new JsonFile(project, config, {
    marker: false,
    obj: {
      _comment: '~~ Generated by projen. To modify, edit .projenrc.ts and run "npx projen".',
      $schema: '../node_modules/@stryker-mutator/core/schema/stryker-schema.json',
      packageManager: 'npm',
      testRunner: 'jest',
      jest: {
        projectType: 'custom',
        configFile: 'package.json',
        enableFindRelatedTests: false,
        config: {
          ci: true,
          testMatch: tests.map((t) => `<rootDir>/${t}`),
          testPathIgnorePatterns: ['/node_modules/', '/test/integ/'],
        },
      },
      checkers: ['typescript'],
      tsconfigFile: 'tsconfig.json',
      typescriptChecker: { prioritizePerformanceOverAccuracy: true },
      coverageAnalysis: 'perTest',
      concurrency: 1,
      // Two cores shared with other work: a slow run must not pass for a hang (a timeout counts as killed).
      timeoutFactor: 3,
      timeoutMS: 20_000,
      mutate: [...mutate, '!src/**/*.lambda.ts'],
      // The sandbox is a copy of the project: leave out the tools and build outputs it does not need.
      ignorePatterns: ['/.tools', '/lib', '/dist', '/coverage', '/cdk.out', '/examples/cdk.out', '/compliance-report', '/test-reports', '/reports'],
      reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
      htmlReporter: { fileName: `reports/mutation/${batch}.html` },
      jsonReporter: { fileName: `reports/mutation/${batch}.json` },
      incremental: true,
      incrementalFile: `reports/mutation/${batch}.incremental.json`,
      tempDirName: '.stryker-tmp',
      cleanTempDir: true,
    },
  });
  mutation.spawn(project.addTask(`mutation:${batch}`, {
    description: `Mutation testing of ${mutate.join(', ')} against ${tests.join(', ')}`,
    exec: `stryker run ${config}`,
    receiveArgs: true,
  }));
}
mutation.spawn(project.addTask('mutation:summary', {
  description: 'Mutation score per file and overall, from the JSON reports in reports/mutation/',
  exec: 'ts-node --project test/tsconfig.json scripts/mutation-summary.ts',
  receiveArgs: true,
}));

project.synth();
