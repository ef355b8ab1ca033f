/**
 * The other jsii languages: a fresh `jsii` compile of the current src/, `jsii-pacmak` for Python, Java and Go,
 * and the Python twin of the example app (examples/python/app.py) synthesizing the same templates as
 * examples/app.ts. .NET is not built: there is no dotnet SDK on the project's machines.
 *
 * Everything is built in a temporary copy of the package (src/, assets/, package.json, tsconfig.json), so a
 * run never rewrites lib/ or .jsii under other test files that read them. Tools come from
 * scripts/setup/50-jsii-languages.sh (Python venv with aws-cdk-lib, cdk-nag 3 in .tools/m2).
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildExampleApp } from '../../examples/app';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(REPO_ROOT, 'node_modules', '.bin');
const PYTHON = path.join(REPO_ROOT, '.tools', 'python-example', 'bin', 'python');
const M2 = path.join(REPO_ROOT, '.tools', 'm2');
/** The stacks that examples/python/app.py and the Java and Go programs below mirror. */
const TWIN_STACKS = ['DefaultBucket', 'AuditedBucket'];

interface Run { readonly code: number | null; readonly output: string; readonly ms: number }

let stage: string;
let assembly: { types: Record<string, { kind: string; name: string; datatype?: boolean }> };
const timings: string[] = [];

function run(command: string, args: string[], options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(command, args, {
      cwd: options.cwd,
      env: { ...process.env, JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1', ...options.env },
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
      maxBuffer: 64 * 1024 * 1024,
    }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, output: `${stdout}\n${stderr}`.slice(-20_000), ms: Date.now() - started });
    });
  });
}

async function mustRun(label: string, command: string, args: string[], options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv }) {
  const result = await run(command, args, options);
  timings.push(`${label} ${(result.ms / 1000).toFixed(1)} s`);
  if (result.code !== 0) throw new Error(`${label} failed (exit ${result.code}):\n${result.output}`);
  return result;
}

let tsOut: string | undefined;
/** The TypeScript twin: examples/app.ts synthesized once, in this process. */
function typescriptAssembly(): string {
  if (!tsOut) {
    tsOut = path.join(stage, 'ts-cdk.out');
    const app = new App({ outdir: tsOut });
    buildExampleApp(app);
    app.synth();
  }
  return tsOut;
}

/** Asserts that each stack `other` synthesized equals its TypeScript twin (see docs/deploy-and-languages.md). */
function expectSameAsTypescript(other: string): void {
  const ts = typescriptAssembly();
  for (const stack of TWIN_STACKS) {
    // Every language runs the same aws-cdk-lib JavaScript in Node.js, so the templates must be equal as they are:
    // no asset hash or runtime mapping differs, and the snapshot serializer's normalization is not needed.
    const template = JSON.parse(readFileSync(path.join(other, `${stack}.template.json`), 'utf8'));
    expect(Object.keys(template.Resources).length).toBeGreaterThan(5);
    expect(template).toEqual(JSON.parse(readFileSync(path.join(ts, `${stack}.template.json`), 'utf8')));
    // Construct metadata equal too, once the creation stack traces (jsii kernel frames vs TypeScript frames) are removed.
    expect(metadataWithoutTraces(path.join(other, `${stack}.metadata.json`))).toEqual(metadataWithoutTraces(path.join(ts, `${stack}.metadata.json`)));
    // Same construct tree paths; the tree's fqns differ only because examples/app.ts runs src/ without jsii type info.
    expect(treePaths(path.join(other, 'tree.json'), stack)).toEqual(treePaths(path.join(ts, 'tree.json'), stack));
  }
}

function publicTypes(kinds: string[]): string[] {
  return Object.values(assembly.types).filter((t) => kinds.includes(t.kind)).map((t) => t.name).sort();
}

function pacmak(target: string, extra: string[] = [], env?: NodeJS.ProcessEnv, label = target) {
  const args = ['--target', target, '--outdir', path.join(stage, 'dist'), '--no-npmignore', ...extra];
  return mustRun(`jsii-pacmak ${label}`, path.join(BIN, 'jsii-pacmak'), args, { cwd: stage, timeoutMs: 600_000, env });
}

beforeAll(async () => {
  for (const tool of [PYTHON, path.join(M2, 'io', 'github', 'cdklabs', 'cdknag', 'maven-metadata-local.xml')]) {
    if (!existsSync(tool)) throw new Error(`${tool} is missing: run \`bash scripts/setup-tools.sh\` first`);
  }
  stage = mkdtempSync(path.join(tmpdir(), 'cdk-s3-encryption-jsii-'));
  for (const entry of ['src', 'assets', 'package.json', 'tsconfig.json', 'README.md', 'LICENSE', '.npmignore']) {
    // assets/ (the bundled Lambda handlers) exists once `projen bundle` has run; the package works without it here.
    if (existsSync(path.join(REPO_ROOT, entry))) cpSync(path.join(REPO_ROOT, entry), path.join(stage, entry), { recursive: true });
  }
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
  await mustRun('jsii', path.join(BIN, 'jsii'), ['--silence-warnings=reserved-word'], { cwd: stage, timeoutMs: 300_000 });
  assembly = JSON.parse(readFileSync(path.join(stage, '.jsii'), 'utf8'));
}, 320_000);

afterAll(() => {
  console.log(`jsii-languages timings: ${timings.join(', ')}`);
  if (stage) rmSync(stage, { recursive: true, force: true });
});

describe('jsii-pacmak builds the other languages from a fresh jsii compile of src/', () => {
  test('the assembly has the public constructs of the design', () => {
    const classes = publicTypes(['class']);
    for (const name of ['EncryptedBucket', 'EncryptionAuditTrail', 'RotationPolicy', 'S3EncryptionChecks', 'TenantKeyring']) {
      expect(classes).toContain(name);
    }
    expect(publicTypes(['enum'])).toContain('ObjectEncryption');
  });

  test('Python: a wheel with every public type, and examples/python/app.py synthesizes the same templates as examples/app.ts', async () => {
    await pacmak('python');
    const wheels = readdirSync(path.join(stage, 'dist', 'python')).filter((f) => f.endsWith('.whl'));
    expect(wheels).toHaveLength(1);
    const site = path.join(stage, 'python-site');
    // --target keeps the shared venv untouched; its pinned aws-cdk-lib, constructs and cdk-nag serve the wheel.
    await mustRun('pip install wheel', PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--target', site,
      path.join(stage, 'dist', 'python', wheels[0])], { cwd: stage, timeoutMs: 120_000 });
    const init = readFileSync(path.join(site, 'cdk_s3_encryption', '__init__.py'), 'utf8');
    for (const name of publicTypes(['class', 'enum', 'interface'])) {
      expect(init).toMatch(new RegExp(`^class ${name}\\b`, 'm'));
    }

    const pyOut = path.join(stage, 'python-cdk.out');
    await mustRun('python app.py', PYTHON, ['app.py'], {
      cwd: path.join(REPO_ROOT, 'examples', 'python'),
      timeoutMs: 300_000,
      env: { PYTHONPATH: site, CDK_OUTDIR: pyOut, PYTHONDONTWRITEBYTECODE: '1' },
    });
    expectSameAsTypescript(pyOut);
  }, 900_000);

  test('Java: a Maven artifact whose jar has a class for every public type, and a Java app on it synthesizes the TypeScript templates', async () => {
    await pacmak('java', [`--maven-local-repository=${M2}`]);
    // pacmak's `mvn deploy` also installs the 0.0.0 build into the shared .tools/m2; nothing may resolve that copy later.
    rmSync(path.join(M2, 'dev', 'cdks3encryption'), { recursive: true, force: true });
    const dir = path.join(stage, 'dist', 'java', 'dev', 'cdks3encryption', 'cdk-s3-encryption', '0.0.0');
    const jar = path.join(dir, 'cdk-s3-encryption-0.0.0.jar');
    expect(existsSync(path.join(dir, 'cdk-s3-encryption-0.0.0-sources.jar'))).toBe(true);
    const listing = (await mustRun('jar tf', 'jar', ['tf', jar], { cwd: stage, timeoutMs: 60_000 })).output.split('\n');
    for (const name of publicTypes(['class', 'enum', 'interface'])) {
      expect(listing).toContain(`dev/cdks3encryption/${name}.class`);
    }
    // The jsii runtime loads the npm tarball embedded in the jar.
    expect(listing.some((l) => /^dev\/cdks3encryption\/.*cdk-s3-encryption@0\.0\.0\.jsii\.tgz$/.test(l))).toBe(true);
    const pom = readFileSync(path.join(dir, 'cdk-s3-encryption-0.0.0.pom'), 'utf8');
    expect(pom).toContain('<artifactId>aws-cdk-lib</artifactId>');
    expect(pom).toContain('<artifactId>cdknag</artifactId>');

    // A Java CDK program on the jar synthesizes the same DefaultBucket and AuditedBucket stacks. Maven resolves only
    // the dependencies, pinned to the TypeScript side's versions (the pom's ranges would take the newest aws-cdk-lib);
    // the jar goes on the classpath directly, so no stale 0.0.0 build is ever cached in .tools/m2.
    const appDir = path.join(stage, 'java-app');
    mkdirSync(path.join(appDir, 'classes'), { recursive: true });
    writeFileSync(path.join(appDir, 'pom.xml'), JAVA_APP_POM);
    writeFileSync(path.join(appDir, 'ExampleApp.java'), JAVA_APP);
    await mustRun('mvn classpath (app)', 'mvn', ['-B', '-q', '-Dstyle.color=never', `-Dmaven.repo.local=${M2}`,
      'org.apache.maven.plugins:maven-dependency-plugin:3.6.1:build-classpath', '-Dmdep.outputFile=classpath.txt'], { cwd: appDir, timeoutMs: 600_000 });
    const classpath = [jar, readFileSync(path.join(appDir, 'classpath.txt'), 'utf8').trim()].join(path.delimiter);
    await mustRun('javac (app)', 'javac', ['-d', 'classes', '-cp', classpath, 'ExampleApp.java'], { cwd: appDir, timeoutMs: 120_000 });
    const javaOut = path.join(stage, 'java-cdk.out');
    await mustRun('java app synth', 'java', ['-cp', `classes${path.delimiter}${classpath}`, 'ExampleApp'], {
      cwd: appDir, timeoutMs: 300_000, env: { CDK_OUTDIR: javaOut },
    });
    expectSameAsTypescript(javaOut);
  }, 900_000);

  test('Go: a module that go build compiles, with a file for every public type, and a Go app on it synthesizes the TypeScript templates', async () => {
    // The Go module proxy that the project's machines reach does not serve the cdklabs Go modules (cdk-nag-go,
    // cloud-assembly-schema-go, the asset modules), so their bindings are generated from the npm packages in
    // node_modules; pacmak then points go.mod at them with replace directives.
    const deps = ['cdk-nag', '@aws-cdk/cloud-assembly-schema', '@aws-cdk/asset-awscli-v1', '@aws-cdk/asset-node-proxy-agent-v6'];
    await pacmak('go', ['--code-only', ...deps.map((d) => path.join(REPO_ROOT, 'node_modules', d))], undefined, 'go (dependency bindings)');
    // sum.golang.org has no entry for aws-cdk-go/awscdk/v2 v2.258.0 through this proxy; go.sum still pins what was fetched.
    await pacmak('go', [], { GONOSUMDB: 'github.com/aws/aws-cdk-go', GOFLAGS: '-buildvcs=false' });
    const dir = path.join(stage, 'dist', 'go', 'cdks3encryption');
    expect(readFileSync(path.join(dir, 'go.mod'), 'utf8')).toMatch(/^module github\.com\/cdk-s3-encryption\/cdk-s3-encryption-go\/cdks3encryption$/m);
    const files = readdirSync(dir);
    for (const name of publicTypes(['class', 'enum', 'interface'])) {
      expect(files).toContain(`${name}.go`);
    }
    expect(readdirSync(path.join(dir, 'jsii'))).toContain('cdk-s3-encryption-0.0.0.tgz');

    // A Go CDK program built against the module synthesizes the same DefaultBucket and AuditedBucket stacks.
    const appDir = path.join(stage, 'go-app');
    mkdirSync(appDir);
    const local = (module: string, dirName: string) => `replace ${module} => ${path.join(stage, 'dist', 'go', dirName)}`;
    writeFileSync(path.join(appDir, 'go.mod'), [
      'module example.com/cdks3encryptionapp', '', 'go 1.25', '',
      'require (',
      '\tgithub.com/aws/aws-cdk-go/awscdk/v2 v2.258.0',
      '\tgithub.com/aws/jsii-runtime-go v1.140.0',
      '\tgithub.com/cdk-s3-encryption/cdk-s3-encryption-go/cdks3encryption v0.0.0',
      ')', '',
      local('github.com/cdk-s3-encryption/cdk-s3-encryption-go/cdks3encryption', 'cdks3encryption'),
      local('github.com/cdklabs/cdk-nag-go/cdknag/v3', 'cdknag'),
      local('github.com/cdklabs/cloud-assembly-schema-go/awscdkcloudassemblyschema/v54', 'awscdkcloudassemblyschema'),
      local('github.com/cdklabs/awscdk-asset-awscli-go/awscliv1/v2', 'awscliv1'),
      local('github.com/cdklabs/awscdk-asset-node-proxy-agent-go/nodeproxyagentv6/v2', 'nodeproxyagentv6'),
      '',
    ].join('\n'));
    writeFileSync(path.join(appDir, 'main.go'), GO_APP);
    const goEnv = { GONOSUMDB: 'github.com/aws/aws-cdk-go', GOFLAGS: '-buildvcs=false' };
    await mustRun('go mod tidy (app)', 'go', ['mod', 'tidy'], { cwd: appDir, timeoutMs: 300_000, env: goEnv });
    await mustRun('go build (app)', 'go', ['build', '-o', 'app', '.'], { cwd: appDir, timeoutMs: 600_000, env: goEnv });
    const goOut = path.join(stage, 'go-cdk.out');
    await mustRun('go app synth', path.join(appDir, 'app'), [], { cwd: appDir, timeoutMs: 300_000, env: { CDK_OUTDIR: goOut } });
    expectSameAsTypescript(goOut);
  }, 900_000);
});

function metadataWithoutTraces(file: string): Record<string, unknown[]> {
  const metadata = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Array<{ type: string; trace?: string[] }>>;
  // Since aws-cdk-lib 2.258.0 other entries (acknowledgements) carry the stack trace of their call too.
  return Object.fromEntries(Object.entries(metadata).map(([p, entries]) => [p, entries
    .filter((e) => e.type !== 'aws:cdk:creationStack')
    .map(({ trace: _trace, ...rest }) => rest)]));
}

function treePaths(file: string, stack: string): string[] {
  const paths: string[] = [];
  const walk = (node: { path?: string; children?: Record<string, any> }) => {
    if (node.path && (node.path === stack || node.path.startsWith(`${stack}/`))) paths.push(node.path);
    Object.values(node.children ?? {}).forEach(walk);
  };
  walk(JSON.parse(readFileSync(file, 'utf8')).tree);
  return paths.sort();
}

/** The Go twin of examples/app.ts's DefaultBucket and AuditedBucket stacks (the usage shown in docs/deploy-and-languages.md). */
const GO_APP = `package main

import (
\t"os"

\t"github.com/aws/aws-cdk-go/awscdk/v2"
\t"github.com/aws/jsii-runtime-go"
\t"github.com/cdk-s3-encryption/cdk-s3-encryption-go/cdks3encryption"
)

func main() {
\tdefer jsii.Close()
\taccount := os.Getenv("CDK_DEFAULT_ACCOUNT")
\tif account == "" {
\t\taccount = "123456789012"
\t}
\tapp := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(os.Getenv("CDK_OUTDIR"))})
\tenv := &awscdk.Environment{Account: jsii.String(account), Region: jsii.String("us-east-1")}
\tplain := awscdk.NewStack(app, jsii.String("DefaultBucket"), &awscdk.StackProps{Env: env})
\tcdks3encryption.NewEncryptedBucket(plain, jsii.String("Data"), nil)
\taudited := awscdk.NewStack(app, jsii.String("AuditedBucket"), &awscdk.StackProps{Env: env})
\ttrail := cdks3encryption.NewEncryptionAuditTrail(audited, jsii.String("Audit"), nil)
\tcdks3encryption.NewEncryptedBucket(audited, jsii.String("Data"), &cdks3encryption.EncryptedBucketProps{AuditTrail: trail})
\tapp.Synth(nil)
}
`;

/** Dependencies of the Java twin, at the versions the TypeScript side pins (package.json). */
const JAVA_APP_POM = `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>example</groupId>
  <artifactId>cdk-s3-encryption-java-app</artifactId>
  <version>0.0.0</version>
  <dependencies>
    <dependency><groupId>software.amazon.awscdk</groupId><artifactId>aws-cdk-lib</artifactId><version>2.258.0</version></dependency>
    <dependency><groupId>software.constructs</groupId><artifactId>constructs</artifactId><version>10.5.1</version></dependency>
    <dependency><groupId>io.github.cdklabs</groupId><artifactId>cdknag</artifactId><version>3.0.2</version></dependency>
  </dependencies>
</project>
`;

/** The Java twin of examples/app.ts's DefaultBucket and AuditedBucket stacks (the usage shown in docs/deploy-and-languages.md). */
const JAVA_APP = `import dev.cdks3encryption.EncryptedBucket;
import dev.cdks3encryption.EncryptedBucketProps;
import dev.cdks3encryption.EncryptionAuditTrail;
import software.amazon.awscdk.App;
import software.amazon.awscdk.AppProps;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;

public final class ExampleApp {
  public static void main(final String[] args) {
    String account = System.getenv().getOrDefault("CDK_DEFAULT_ACCOUNT", "123456789012");
    App app = new App(AppProps.builder().outdir(System.getenv("CDK_OUTDIR")).build());
    StackProps props = StackProps.builder().env(Environment.builder().account(account).region("us-east-1").build()).build();
    Stack plain = new Stack(app, "DefaultBucket", props);
    new EncryptedBucket(plain, "Data");
    Stack audited = new Stack(app, "AuditedBucket", props);
    EncryptionAuditTrail trail = new EncryptionAuditTrail(audited, "Audit");
    new EncryptedBucket(audited, "Data", EncryptedBucketProps.builder().auditTrail(trail).build());
    app.synth();
  }
}
`;
