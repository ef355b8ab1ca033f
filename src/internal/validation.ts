import { Annotations, Token, UnscopedValidationError, ValidationError } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Throws an error that names the construct path, the prop, the value and what is allowed, as
 * aws-cdk-lib's own L2s do: a `ValidationError` attached to the construct (`Errors.isValidationError`
 * is true; the CDK CLI shows the construct it relates to). The class is exported by aws-cdk-lib and
 * marked internal; the unit suite runs against the peer floor and the newest release, so a change
 * of its constructor fails there.
 */
export function invalidProp(scope: IConstruct, prop: string, value: unknown, allowed: string): never {
  throw new ValidationError(ERROR_NAME, `${scope.node.path}: invalid ${prop} ${describe(value)}: ${allowed}`, scope);
}

/** The same, for input that is not attached to a construct (a cdk-nag pack's options). */
export function invalidInput(message: string): never {
  throw new UnscopedValidationError(ERROR_NAME, message);
}

/** The error name: aws-cdk-lib wants a literal string (its own type brand), one per kind of error. */
const ERROR_NAME = 'CdkS3EncryptionInvalidInput' as ConstructorParameters<typeof ValidationError>[0];

/** Checks an integer range; tokens are left for deploy time. */
export function checkIntRange(scope: IConstruct, prop: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    invalidProp(scope, prop, value, `must be a whole number from ${min} to ${max}`);
  }
}

/**
 * Prints a synth warning for an option that weakens a protection, naming the rules it trips.
 */
export function warnWeakened(scope: IConstruct, prop: string, consequence: string, rules: string[]): void {
  Annotations.of(scope).addWarningV2(
    `cdk-s3-encryption:weakened:${prop}`,
    `${prop}: ${consequence}${rules.length ? ` This trips: ${rules.join(', ')}.` : ''}`,
  );
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === undefined) return '(undefined)';
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
