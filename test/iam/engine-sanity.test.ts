/**
 * The IAM engine behind the access matrices, checked on hand-built cases whose AWS answer is
 * documented, so that a failing matrix row is the library's fault and not the engine's.
 */
import { evaluate } from '../support/iam-engine';

const ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/app`;
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/k`;
const allowAll = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

function kmsCall(keyPolicyStatements: any[], context: Record<string, string | string[]> = {}, identity: any[] = [allowAll], principal = ROLE) {
  return evaluate({
    principal,
    action: 'kms:Decrypt',
    resource: KEY,
    resourceAccount: ACCOUNT,
    context,
    identityPolicies: identity.map((document, i) => ({ name: `id${i}`, document })),
    resourcePolicy: { name: 'key', document: { Version: '2012-10-17', Statement: keyPolicyStatements } },
  });
}

const rootUsage = { Sid: 'Root', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:Decrypt', Resource: '*' };

describe('engine sanity (KMS Developer Guide, key-policy-overview.html and key-policy-default.html)', () => {
  test('an IAM policy alone does not grant use of a key whose policy does not let the account in', () => {
    const r = kmsCall([{ Sid: 'Other', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999999999999:root' }, Action: 'kms:Decrypt', Resource: '*' }]);
    expect(r.decision).toBe('ImplicitlyDenied');
  });
  test('the account root in the key policy delegates to IAM: the role with an IAM allow may use the key', () => {
    expect(kmsCall([rootUsage]).decision).toBe('Allowed');
  });
  test('the account root in the key policy does not help a role whose IAM policies do not allow the action', () => {
    expect(kmsCall([rootUsage], {}, []).decision).toBe('ImplicitlyDenied');
  });
  test('kms:EncryptionContext:<key> conditions are evaluated (the validated entry point drops them)', () => {
    const scoped = { ...rootUsage, Condition: { StringLike: { 'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::b/*' } } };
    expect(kmsCall([scoped], { 'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::b/o' }).decision).toBe('Allowed');
    expect(kmsCall([scoped], { 'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::c/o' }).decision).toBe('ImplicitlyDenied');
    expect(kmsCall([scoped], {}).decision).toBe('ImplicitlyDenied');
  });
  test('an explicit deny wins over any allow and is named', () => {
    const r = kmsCall([rootUsage, { Sid: 'NoTls', Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }], { 'aws:SecureTransport': 'false' });
    expect(r).toEqual({ decision: 'ExplicitlyDenied', deciding: ['NoTls'] });
  });
  test('Null: "true" matches only an absent key; StringNotEquals matches an absent key too (IAM User Guide, reference_policies_elements_condition_operators.html)', () => {
    const onAbsent = { Sid: 'Absent', Effect: 'Deny', Principal: '*', Action: 'kms:Decrypt', Resource: '*', Condition: { Null: { 'kms:ViaService': 'true' } } };
    expect(kmsCall([rootUsage, onAbsent]).decision).toBe('ExplicitlyDenied');
    expect(kmsCall([rootUsage, onAbsent], { 'kms:ViaService': 's3.us-east-1.amazonaws.com' }).decision).toBe('Allowed');
    const notEquals = { Sid: 'NotEq', Effect: 'Deny', Principal: '*', Action: 'kms:Decrypt', Resource: '*', Condition: { StringNotEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } } };
    expect(kmsCall([rootUsage, notEquals]).decision).toBe('ExplicitlyDenied');
  });
  test('a service principal is allowed by a resource policy alone, and only the service named', () => {
    const r = (principal: string) => evaluate({
      principal,
      action: 's3:PutObject',
      resource: 'arn:aws:s3:::logs/x',
      resourceAccount: ACCOUNT,
      context: { 'aws:SourceAccount': ACCOUNT },
      identityPolicies: [],
      resourcePolicy: { name: 'b', document: { Version: '2012-10-17', Statement: [{ Sid: 'Logs', Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::logs/*', Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } } }] } },
    }).decision;
    expect(r('logging.s3.amazonaws.com')).toBe('Allowed');
    expect(r('cloudtrail.amazonaws.com')).toBe('ImplicitlyDenied');
  });
  test('policy variables such as ${aws:PrincipalTag/tenant} resolve from the request context', () => {
    const r = (tag: string) => evaluate({
      principal: ROLE,
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::b/tenants/a/x',
      resourceAccount: ACCOUNT,
      context: { 'aws:PrincipalTag/tenant': tag },
      identityPolicies: [{ name: 'id', document: allowAll }],
      resourcePolicy: { name: 'b', document: { Version: '2012-10-17', Statement: [{ Sid: 'Own', Effect: 'Deny', Principal: '*', Action: 's3:GetObject', NotResource: 'arn:aws:s3:::b/tenants/${aws:PrincipalTag/tenant}/*' }] } },
    }).decision;
    expect(r('a')).toBe('Allowed');
    expect(r('b')).toBe('ExplicitlyDenied');
  });
  test('a principal of another account needs both its own IAM allow and the resource policy', () => {
    const other = 'arn:aws:iam::999999999999:role/x';
    const named = { Sid: 'Other', Effect: 'Allow', Principal: { AWS: other }, Action: 'kms:Decrypt', Resource: '*' };
    expect(kmsCall([rootUsage], {}, [allowAll], other).decision).toBe('ImplicitlyDenied');
    expect(kmsCall([named], {}, [allowAll], other).decision).toBe('Allowed');
    expect(kmsCall([named], {}, [], other).decision).toBe('ImplicitlyDenied');
  });
});

describe('a policy AWS would refuse at deploy is an error, not a decision (IAM CreatePolicy and S3 PutBucketPolicy: MalformedPolicyDocument)', () => {
  const bucketRead = (statement: any) => evaluate({
    principal: ROLE,
    action: 's3:GetObject',
    resource: 'arn:aws:s3:::b/o',
    resourceAccount: ACCOUNT,
    context: {},
    identityPolicies: [{ name: 'role-policy', document: { Version: '2012-10-17', Statement: [statement] } }],
  });
  test('a well-formed identity policy decides', () => {
    expect(bucketRead({ Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::b/*' }).decision).toBe('Allowed');
  });
  test.each([
    ['an empty Resource (the evaluator alone reads it as matching every resource)', { Effect: 'Allow', Action: ['s3:GetObject'], Resource: '' }, /role-policy .*resource "" is neither "\*" nor an ARN/],
    ['a Resource that is not an ARN', { Effect: 'Allow', Action: 's3:GetObject', Resource: 'b/*' }, /resource "b\/\*" is neither/],
    ['no action', { Effect: 'Allow', Action: [], Resource: '*' }, /Statement\[0\]: no action/],
    ['no Resource (the evaluator alone reads it as matching every resource)', { Effect: 'Allow', Action: 's3:GetObject' }, /Statement\[0\]: no resource/],
    ['an empty action name', { Effect: 'Allow', Action: [''], Resource: '*' }, /action ""/],
  ])('refused: %s', (_name, statement, message) => {
    expect(() => bucketRead(statement)).toThrow(message);
  });
  test('a resource policy without a principal is refused too', () => {
    expect(() => evaluate({
      principal: ROLE,
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::b/o',
      resourceAccount: ACCOUNT,
      context: {},
      identityPolicies: [],
      resourcePolicy: { name: 'bucket-policy', document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }] } },
    })).toThrow(/AWS would refuse the resource policy bucket-policy/);
  });
  test('a resource policy statement without a Resource is refused; a trust policy, which names none, is not', () => {
    const request = (action: string, statement: any) => evaluate({
      principal: ROLE,
      action,
      resource: action === 'sts:AssumeRole' ? `arn:aws:iam::${ACCOUNT}:role/r` : 'arn:aws:s3:::b/o',
      resourceAccount: ACCOUNT,
      context: {},
      identityPolicies: [],
      resourcePolicy: { name: 'policy', document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: ROLE }, ...statement }] } },
    });
    expect(() => request('s3:GetObject', { Action: 's3:GetObject' })).toThrow(/AWS would refuse the resource policy policy.*Statement\[0\]: no resource/);
    expect(request('sts:AssumeRole', { Action: 'sts:AssumeRole' }).decision).toBe('Allowed');
  });
});
