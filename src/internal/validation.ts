import { Annotations, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Throws an error that names the construct path, the prop, the value and what is allowed.
 */
export function invalidProp(scope: IConstruct, prop: string, value: unknown, allowed: string): never {
  throw new Error(`${scope.node.path}: invalid ${prop} ${describe(value)}: ${allowed}`);
}

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
