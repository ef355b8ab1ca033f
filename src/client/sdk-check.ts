/**
 * The client runs on the AWS SDK for JavaScript v3 that the application installs (two packages,
 * not bundled: the application's own SDK clients, credentials and middleware are used). Loaded
 * first by the entry point, so that a missing package is named with the command that installs it,
 * rather than as a bare "Cannot find module" from somewhere inside the client.
 */
export const REQUIRED_SDK_PACKAGES = ['@aws-sdk/client-s3', '@aws-sdk/client-kms'];

/** The required packages that `resolve` cannot find. */
export function missingSdkPackages(resolve: (name: string) => string = require.resolve): string[] {
  return REQUIRED_SDK_PACKAGES.filter((name) => {
    try {
      resolve(name);
      return false;
    } catch {
      return true;
    }
  });
}

/** The error for missing packages, or undefined when all are installed. */
export function missingSdkError(missing: string[]): Error | undefined {
  if (missing.length === 0) return undefined;
  return new Error(
    `cdk-s3-encryption/client needs the AWS SDK for JavaScript v3, and ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not installed. `
    + `Install ${missing.length === 1 ? 'it' : 'them'} beside cdk-s3-encryption: npm install ${REQUIRED_SDK_PACKAGES.join(' ')}`,
  );
}

const error = missingSdkError(missingSdkPackages());
if (error) throw error;
