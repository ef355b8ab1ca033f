/**
 * Loading `cdk-s3-encryption/client` without the AWS SDK names the missing packages and the install
 * command (the packed-tarball test in test/integ/package.test.ts loads it for real without them).
 */
import { missingSdkError, missingSdkPackages, REQUIRED_SDK_PACKAGES } from '../../src/client/sdk-check';

const resolverWithout = (...absent: string[]) => (name: string) => {
  if (absent.includes(name)) throw Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });
  return `/app/node_modules/${name}/index.js`;
};

test('the packages the client imports', () => {
  expect(REQUIRED_SDK_PACKAGES).toEqual(['@aws-sdk/client-s3', '@aws-sdk/client-kms']);
});

test('none missing: no error', () => {
  expect(missingSdkPackages(resolverWithout())).toEqual([]);
  expect(missingSdkError([])).toBeUndefined();
  // In this repository both are installed (devDependencies), so the real check passes.
  expect(missingSdkPackages()).toEqual([]);
});

test('one missing: named, with the command that installs both', () => {
  const missing = missingSdkPackages(resolverWithout('@aws-sdk/client-kms'));
  expect(missing).toEqual(['@aws-sdk/client-kms']);
  expect(missingSdkError(missing)?.message).toBe(
    'cdk-s3-encryption/client needs the AWS SDK for JavaScript v3, and @aws-sdk/client-kms is not installed. '
    + 'Install it beside cdk-s3-encryption: npm install @aws-sdk/client-s3 @aws-sdk/client-kms',
  );
});

test('both missing', () => {
  const missing = missingSdkPackages(resolverWithout('@aws-sdk/client-s3', '@aws-sdk/client-kms'));
  expect(missingSdkError(missing)?.message).toBe(
    'cdk-s3-encryption/client needs the AWS SDK for JavaScript v3, and @aws-sdk/client-s3 and @aws-sdk/client-kms are not installed. '
    + 'Install them beside cdk-s3-encryption: npm install @aws-sdk/client-s3 @aws-sdk/client-kms',
  );
});
