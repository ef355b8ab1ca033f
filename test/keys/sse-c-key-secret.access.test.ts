/**
 * Access matrix of SseCustomerKeySecret: the rotation handler's Secrets Manager and KMS calls,
 * Secrets Manager invoking the handler, CloudWatch Logs encrypting its log group, a reader granted
 * with grantRead, and the attacks, each decided by the IAM engine over the synthesized policies.
 *
 * Context keys are the ones each service sends, from its guide:
 * - Secrets Manager User Guide, security-encryption.html: Secrets Manager calls kms:GenerateDataKey
 *   (new versions) and kms:Decrypt (reads) as the caller, with kms:ViaService
 *   secretsmanager.<region>.amazonaws.com and the encryption context SecretARN / SecretVersionId.
 * - Secrets Manager User Guide, rotate-secrets_lambda-functions.html: Secrets Manager invokes the
 *   rotation function as secretsmanager.amazonaws.com with aws:SourceArn = the secret.
 * - CloudWatch Logs User Guide, encrypt-log-data-kms.html: the encryption context is
 *   `aws:logs:arn` = the log group ARN.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SseCustomerKeySecret } from '../../src';
import { AccessModel, ACCOUNT, OTHER_ACCOUNT, REGION, ROOT } from '../support/access-model';
import { Decision, evaluate } from '../support/iam-engine';

const app = new App({ context: { 'aws:cdk:enable-path-metadata': true } });
const stack = new Stack(app, 'Test', { env: { account: ACCOUNT, region: REGION } });
const sseC = new SseCustomerKeySecret(stack, 'SseC');
const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
sseC.grantRead(reader);
new iam.Role(stack, 'Bystander', { assumedBy: new iam.AccountRootPrincipal() });
const model = AccessModel.of(app);

const SECRET = String(model.one('AWS::SecretsManager::Secret').ref);
const OTHER_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:other-AbCdEf`;
const KEY = model.keyArn('Test/SseC/Key/Resource');
const HANDLER = model.roleArn('Test/SseC/RotationRole/Resource');
const READER = model.roleArn('Test/Reader/Resource');
const BYSTANDER = model.roleArn('Test/Bystander/Resource');
const OUTSIDER = `arn:aws:iam::${OTHER_ACCOUNT}:role/outsider`;
const LOG_GROUP = String(model.one('AWS::Logs::LogGroup').arn).replace(/:\*$/, '');
const LOG_STREAM = `${LOG_GROUP}:log-stream:2026/11/30/[$LATEST]abc`;
const fn = model.one('AWS::Lambda::Function', 'Test/SseC/RotationFunction/Resource');
const permission = model.one('AWS::Lambda::Permission');
const allowAll = [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }];

const viaSecretsManager = (secret = SECRET) => ({
  'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com`,
  'kms:EncryptionContext:SecretARN': secret,
  'kms:EncryptionContext:SecretVersionId': 'EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE',
  'kms:EncryptionContextKeys': ['SecretARN', 'SecretVersionId'],
});
const logsContext = (group: string) => ({ 'kms:EncryptionContext:aws:logs:arn': group, 'kms:EncryptionContextKeys': ['aws:logs:arn'] });

type Row = [string, string, string, string, Record<string, any>, Decision];

describe('SseCustomerKeySecret access matrix', () => {
  const rows: Row[] = [
    // The rotation handler, every call of its four steps.
    ...['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage']
      .map((action): Row => [`the rotation handler calls ${action} on its secret`, HANDLER, action, SECRET, {}, 'Allowed']),
    ['Secrets Manager decrypts a version for the rotation handler', HANDLER, 'kms:Decrypt', KEY, viaSecretsManager(), 'Allowed'],
    ['Secrets Manager generates the data key of a new version for the rotation handler', HANDLER, 'kms:GenerateDataKey', KEY, viaSecretsManager(), 'Allowed'],
    ['the rotation handler creates its log stream', HANDLER, 'logs:CreateLogStream', LOG_STREAM, {}, 'Allowed'],
    ['the rotation handler writes its logs', HANDLER, 'logs:PutLogEvents', LOG_STREAM, {}, 'Allowed'],
    ['CloudWatch Logs encrypts the handler log group', `logs.${REGION}.amazonaws.com`, 'kms:GenerateDataKey', KEY, logsContext(LOG_GROUP), 'Allowed'],
    ['CloudWatch Logs decrypts the handler log group', `logs.${REGION}.amazonaws.com`, 'kms:Decrypt', KEY, logsContext(LOG_GROUP), 'Allowed'],
    // A reader granted with grantRead.
    ['a granted reader gets the key', READER, 'secretsmanager:GetSecretValue', SECRET, {}, 'Allowed'],
    ['Secrets Manager decrypts the key for a granted reader', READER, 'kms:Decrypt', KEY, viaSecretsManager(), 'Allowed'],
    // Attacks.
    ['the rotation handler deletes its secret', HANDLER, 'secretsmanager:DeleteSecret', SECRET, {}, 'ImplicitlyDenied'],
    ['the rotation handler changes the secret policy', HANDLER, 'secretsmanager:PutResourcePolicy', SECRET, {}, 'ImplicitlyDenied'],
    ['the rotation handler reads another secret', HANDLER, 'secretsmanager:GetSecretValue', OTHER_SECRET, {}, 'ImplicitlyDenied'],
    ['the rotation handler decrypts with the key directly', HANDLER, 'kms:Decrypt', KEY, {}, 'ImplicitlyDenied'],
    ['the rotation handler decrypts with the key through S3', HANDLER, 'kms:Decrypt', KEY, { 'kms:ViaService': `s3.${REGION}.amazonaws.com` }, 'ImplicitlyDenied'],
    ['the rotation handler encrypts with the key', HANDLER, 'kms:Encrypt', KEY, viaSecretsManager(), 'ImplicitlyDenied'],
    ['a granted reader writes a new version', READER, 'secretsmanager:PutSecretValue', SECRET, {}, 'ImplicitlyDenied'],
    ['a granted reader decrypts with the key directly', READER, 'kms:Decrypt', KEY, {}, 'ImplicitlyDenied'],
    ['a role of the account without a grant gets the key', BYSTANDER, 'secretsmanager:GetSecretValue', SECRET, {}, 'ImplicitlyDenied'],
    ['a role of the account without a grant decrypts through Secrets Manager', BYSTANDER, 'kms:Decrypt', KEY, viaSecretsManager(), 'ImplicitlyDenied'],
    ['a role of another account gets the key', OUTSIDER, 'secretsmanager:GetSecretValue', SECRET, {}, 'ImplicitlyDenied'],
    ['a role of another account decrypts through Secrets Manager', OUTSIDER, 'kms:Decrypt', KEY, viaSecretsManager(), 'ImplicitlyDenied'],
    ['CloudWatch Logs uses the key for another log group', `logs.${REGION}.amazonaws.com`, 'kms:Decrypt', KEY, logsContext(`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:other`), 'ImplicitlyDenied'],
    // The account keeps control of the key: no lockout.
    ...['kms:PutKeyPolicy', 'kms:GetKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion', 'kms:DisableKey', 'kms:EnableKeyRotation', 'kms:DescribeKey']
      .map((action): Row => [`the account root may ${action} on the secret key`, ROOT, action, KEY, {}, 'Allowed']),
  ];

  test.each(rows)('%s', (_name, principal, action, resource, context, expected) => {
    const identityPolicies = principal === OUTSIDER ? allowAll : undefined;
    const result = model.evaluate({ principal, action, resource, context, identityPolicies });
    expect({ decision: result.decision, deciding: result.deciding }).toEqual(expect.objectContaining({ decision: expected }));
  });

  /** The function's resource policy, as Lambda writes it from the AWS::Lambda::Permission. */
  const functionPolicy = {
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Allow',
      Principal: { Service: permission.properties.Principal },
      Action: permission.properties.Action,
      Resource: fn.arn,
      Condition: { StringEquals: { 'AWS:SourceAccount': permission.properties.SourceAccount }, ArnLike: { 'AWS:SourceArn': permission.properties.SourceArn } },
    }],
  };
  test.each([
    ['Secrets Manager invokes the handler to rotate this secret', SECRET, ACCOUNT, 'Allowed'],
    ['Secrets Manager invokes the handler for another secret', OTHER_SECRET, ACCOUNT, 'ImplicitlyDenied'],
    ['Secrets Manager of another account invokes the handler', `arn:aws:secretsmanager:${REGION}:${OTHER_ACCOUNT}:secret:x-AbCdEf`, OTHER_ACCOUNT, 'ImplicitlyDenied'],
  ])('%s', (_name, sourceArn, sourceAccount, expected) => {
    expect(permission.properties.FunctionName).toBe(fn.arn);
    const result = evaluate({
      principal: 'secretsmanager.amazonaws.com',
      action: 'lambda:InvokeFunction',
      resource: fn.arn,
      resourceAccount: ACCOUNT,
      context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': sourceAccount, 'aws:SecureTransport': 'true' },
      identityPolicies: [],
      resourcePolicy: { name: 'function policy', document: functionPolicy },
    });
    expect(result.decision).toBe(expected);
  });

  test('no key statement grants kms:DescribeKey under an encryption-context condition (DescribeKey carries none, so it never matches)', () => {
    const statements = model.one('AWS::KMS::Key', 'Test/SseC/Key/Resource').properties.KeyPolicy.Statement as any[];
    const dead = statements.filter((st) => [].concat(st.Action).includes('kms:DescribeKey' as never) && JSON.stringify(st.Condition ?? {}).includes('kms:EncryptionContext'));
    expect(dead.map((st) => st.Sid)).toEqual([]);
  });
});
