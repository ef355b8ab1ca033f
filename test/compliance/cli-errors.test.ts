import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FIXTURES, run, scratch } from './fixtures/run';
import { MAX_TEMPLATE_BYTES } from '../../src/compliance/cli/reader';

const dir = scratch('cli-errors-');
const FAST = ['--packs', 'S3Encryption', '--no-control-tower'];
const GOOD = JSON.stringify({ Resources: { B: { Type: 'AWS::S3::Bucket' } } });
fs.writeFileSync(path.join(dir, 'good.json'), GOOD);

/** Exit 2, exactly one line on stderr matching `line`, nothing on stdout. */
function expectOneLineError(args: string[], line: RegExp) {
  const r = run(dir, args);
  expect(r.code).toBe(2);
  expect(r.errLines).toHaveLength(1);
  expect(r.errLines[0]).toMatch(line);
  expect(r.out).toBe('');
  return r;
}

test.each([
  ['malformed.yaml', /^cdk-s3-encryption: .*fixtures\/malformed\.yaml: malformed YAML: .+ at line \d+, column \d+$/],
  ['undefined-condition.json', /^cdk-s3-encryption: .*fixtures\/undefined-condition\.json: resource Logs references the Condition IsProduction, which Conditions does not define$/],
  ['sam-function.yaml', /^cdk-s3-encryption: .*fixtures\/sam-function\.yaml: uses the transform AWS::Serverless-2016-10-31, which this command does not expand: .*get-template --template-stage Processed/],
  ['language-extensions.json', /^cdk-s3-encryption: .*fixtures\/language-extensions\.json: uses the transform AWS::LanguageExtensions, which this command does not expand/],
  ['serverless-without-transform.json', /^cdk-s3-encryption: .*fixtures\/serverless-without-transform\.json: resource Table is AWS::Serverless::SimpleTable, which needs the transform AWS::Serverless-2016-10-31/],
])('%s: refused with one line naming the file, exit 2', (file, line) => {
  expectOneLineError(['check', path.join(FIXTURES, file), ...FAST], line);
});

test('a YAML template without transform or errors is checked (the other side of the refusals)', () => {
  const r = run(dir, ['check', path.join(FIXTURES, 'bucket-kms-trail.yaml'), ...FAST]);
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/S3Encryption-S3BucketEncryptedWithCustomerManagedKey\s+bucket-kms-trail\.yaml:PlainBucket/);
  expect(r.out).not.toMatch(/S3BucketEncryptedWithCustomerManagedKey\s+bucket-kms-trail\.yaml:DataBucket/);
});

test('a defined condition used by Fn::If, a resource and { Condition } passes the condition check', () => {
  fs.writeFileSync(path.join(dir, 'cond.json'), JSON.stringify({
    Conditions: { A: { 'Fn::Equals': ['1', '1'] }, B: { 'Fn::Not': [{ Condition: 'A' }] } },
    Resources: { L: { Type: 'AWS::S3::Bucket', Condition: 'B', Properties: { BucketName: { 'Fn::If': ['A', 'x', { Ref: 'AWS::NoValue' }] } } } },
  }));
  expect(run(dir, ['check', 'cond.json', ...FAST]).code).toBe(1);
  fs.writeFileSync(path.join(dir, 'cond-bad.json'), JSON.stringify({ Resources: { L: { Type: 'AWS::S3::Bucket', Condition: 'Nope' } } }));
  expectOneLineError(['check', 'cond-bad.json', ...FAST], /cond-bad\.json: resource L references the Condition Nope, which Conditions does not define$/);
});

test.each([
  [['--max-rotation-days', '0'], /--max-rotation-days must be a whole number from 90 to 2560, got '0'/],
  [['--max-rotation-days', '2561'], /--max-rotation-days must be a whole number from 90 to 2560, got '2561'/],
  [['--min-pending-days', '6'], /--min-pending-days must be a whole number from 7 to 30, got '6'/],
  [['--fail-on', 'note'], /--fail-on must be error or warning, got 'note'/],
])('a bad option value states the allowed range and exits 2: %j', (args, message) => {
  const r = run(dir, ['check', 'good.json', ...args]);
  expect(r.code).toBe(2);
  expect(r.errLines[0]).toMatch(message);
});

test('option values at the ends of their ranges are accepted', () => {
  expect(run(dir, ['check', 'good.json', ...FAST, '--max-rotation-days', '90', '--min-pending-days', '30']).code).toBe(1);
  expect(run(dir, ['check', 'good.json', ...FAST, '--max-rotation-days', '2560', '--min-pending-days', '7']).code).toBe(1);
});

test('a file over the size limit is refused without being read', () => {
  const big = path.join(dir, 'big.json');
  fs.writeFileSync(big, '');
  fs.truncateSync(big, MAX_TEMPLATE_BYTES + 1);
  expectOneLineError(['check', 'big.json', ...FAST], new RegExp(`^cdk-s3-encryption: big\\.json: is ${MAX_TEMPLATE_BYTES + 1} bytes, larger than the ${MAX_TEMPLATE_BYTES} bytes this command reads`));
  fs.truncateSync(big, 0);
});

test('a FIFO is refused without blocking', () => {
  execFileSync('mkfifo', [path.join(dir, 'pipe.template.json')]);
  expectOneLineError(['check', 'pipe.template.json', ...FAST], /^cdk-s3-encryption: pipe\.template\.json: is not a regular file \(a FIFO\)$/);
  // In a folder of templates too.
  fs.mkdirSync(path.join(dir, 'withpipe'));
  execFileSync('mkfifo', [path.join(dir, 'withpipe', 'x.template.json')]);
  expectOneLineError(['check', 'withpipe', ...FAST], /^cdk-s3-encryption: withpipe\/x\.template\.json: is not a regular file \(a FIFO\)$/);
});

test('a symlink is not followed and its target content is never printed', () => {
  const secret = path.join(dir, 'secret.txt');
  fs.writeFileSync(secret, 'TOP-SECRET-TOKEN-123');
  fs.symlinkSync(secret, path.join(dir, 'link.json'));
  const r = expectOneLineError(['check', 'link.json', ...FAST], /^cdk-s3-encryption: link\.json: is a symbolic link; links are not followed/);
  expect(r.err).not.toContain('TOP-SECRET');
  // A link to a valid template is refused as well, and a link inside a folder of templates.
  fs.symlinkSync(path.join(dir, 'good.json'), path.join(dir, 'goodlink.json'));
  expectOneLineError(['check', 'goodlink.json', ...FAST], /goodlink\.json: is a symbolic link/);
  fs.mkdirSync(path.join(dir, 'withlink'));
  fs.symlinkSync(secret, path.join(dir, 'withlink', 'a.template.json'));
  const f = expectOneLineError(['check', 'withlink', ...FAST], /^cdk-s3-encryption: withlink\/a\.template\.json: is a symbolic link/);
  expect(f.err).not.toContain('TOP-SECRET');
});

test('an unreadable folder exits 2 naming it', () => {
  const locked = path.join(dir, 'locked');
  fs.mkdirSync(locked);
  fs.writeFileSync(path.join(locked, 'a.template.json'), GOOD);
  fs.chmodSync(locked, 0o000);
  try {
    if (process.getuid?.() !== 0) {
      expectOneLineError(['check', 'locked', ...FAST], /^cdk-s3-encryption: locked: cannot read the folder: permission denied$/);
      return;
    }
    // root reads any folder: run the command as an unprivileged user in a child process.
    fs.chmodSync(dir, 0o755);
    const script = `require(${JSON.stringify(path.resolve(__dirname, '../../src/compliance/cli'))}).main(process.argv.slice(1))`;
    let stderr = '';
    let status = 0;
    try {
      execFileSync(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), '-e', `process.exitCode = ${script}`, 'check', 'locked', ...FAST], {
        cwd: dir,
        uid: 65534,
        gid: 65534,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, TS_NODE_PROJECT: path.resolve(__dirname, '../tsconfig.json') },
      });
    } catch (e: any) {
      stderr = e.stderr;
      status = e.status;
    }
    expect({ status, stderr }).toMatchObject({ status: 2 });
    expect(stderr.trim()).toBe('cdk-s3-encryption: locked: cannot read the folder: permission denied');
  } finally {
    fs.chmodSync(locked, 0o755);
  }
});

test('a folder with neither manifest nor templates exits 2 naming it', () => {
  fs.mkdirSync(path.join(dir, 'empty'));
  expectOneLineError(['check', 'empty', ...FAST], /^cdk-s3-encryption: empty: holds no manifest\.json and no \*\.template\.json/);
});

test('every input error is reported, one line each, before anything is checked', () => {
  const r = run(dir, ['check', 'missing-a.json', path.join(FIXTURES, 'malformed.yaml'), 'good.json', ...FAST]);
  expect(r.code).toBe(2);
  expect(r.errLines).toEqual([
    'cdk-s3-encryption: missing-a.json: no such file or directory',
    expect.stringMatching(/malformed\.yaml: malformed YAML: /),
  ]);
  expect(r.out).toBe('');
});

test.each([[['--help']], [['check', '--help']], [['-h']]])('%j prints the usage on stdout and exits 0', (args) => {
  const r = run(dir, args);
  expect(r.code).toBe(0);
  expect(r.out).toContain('usage: cdk-s3-encryption check');
  expect(r.out).toContain('exit status: 0 no failing finding, 1 failing findings, 2 ');
  expect(r.err).toBe('');
});

test.each([[['--version']], [['check', '--version']]])('%j prints the package version and exits 0', (args) => {
  const r = run(dir, args);
  expect(r.code).toBe(0);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  expect(r.out).toBe(require('../../package.json').version);
});
