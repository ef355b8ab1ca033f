/**
 * The bucket-policy builders, statement by statement, decided by the IAM engine: each denial refuses
 * exactly the writes it names (and says so by its Sid), and lets every other write through.
 * S3 condition keys: Service Authorization Reference, "Actions, resources, and condition keys for
 * Amazon S3" (s3:x-amz-server-side-encryption, ...-aws-kms-key-id, ...-customer-algorithm).
 */
import {
  algorithmOrSseS3Deny, ALGORITHM_SID, encryptionDenyStatements, ExemptableDeny, KEY_PIN_SID, logDeliveryStatement, sseS3OnlyDenyStatements,
} from '../../src/bucket/bucket-policy';
import { ACCOUNT, OTHER_ACCOUNT } from '../support/access-model';
import { ADMIN, BUCKET_ARN, onBucket, PolicyUnderTest } from '../support/policy-under-test';

const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/bucket-key`;
const OTHER_KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/other-key`;

interface Headers { sse?: string; keyId?: string; sseC?: string }

function put(p: PolicyUnderTest, objectKey: string, h: Headers = {}) {
  const context: Record<string, string> = {};
  if (h.sse) context['s3:x-amz-server-side-encryption'] = h.sse;
  if (h.keyId) context['s3:x-amz-server-side-encryption-aws-kms-key-id'] = h.keyId;
  if (h.sseC) context['s3:x-amz-server-side-encryption-customer-algorithm'] = h.sseC;
  const r = p.model.evaluate({ principal: ADMIN, action: 's3:PutObject', resource: `${BUCKET_ARN}/${objectKey}`, context });
  // The root's own identity policy allows too; what matters here is the bucket policy's statements.
  return { decision: r.decision, deciding: r.deciding.filter((sid) => !sid.startsWith('identity')) };
}

const ALLOWED = { decision: 'Allowed', deciding: ['AccountMayDoAnything'] };
const deniedBy = (...sids: string[]) => ({ decision: 'ExplicitlyDenied', deciding: sids });

describe('encryptionDenyStatements, SSE-KMS: the bucket key or the default, nothing else', () => {
  const p = onBucket((arn) => encryptionDenyStatements(arn, KEY, 'SSE_KMS'));
  test.each<[string, Headers, object]>([
    ['no header (the bucket default applies)', {}, ALLOWED],
    ['aws:kms and the bucket key', { sse: 'aws:kms', keyId: KEY }, ALLOWED],
    ['AES256 (SSE-S3)', { sse: 'AES256' }, deniedBy(ALGORITHM_SID)],
    ['aws:kms:dsse and the bucket key', { sse: 'aws:kms:dsse', keyId: KEY }, deniedBy(ALGORITHM_SID)],
    ['aws:kms and another key', { sse: 'aws:kms', keyId: OTHER_KEY }, deniedBy(KEY_PIN_SID)],
    ['aws:kms without a key id (S3 would use aws/s3)', { sse: 'aws:kms' }, deniedBy('DenyPutObjectWithKmsAlgorithmButNoKeyId')],
    ['an SSE-C key', { sseC: 'AES256' }, deniedBy('DenyPutObjectWithSseCustomerKey')],
  ])('%s', (_name, headers, expected) => {
    expect(put(p, 'a/b.txt', headers)).toEqual(expected);
  });

  test('the Sids other statements refer to', () => {
    expect([ALGORITHM_SID, KEY_PIN_SID]).toEqual(['DenyPutObjectWithAnotherEncryptionAlgorithm', 'DenyPutObjectWithAnotherKmsKey']);
  });
});

describe('encryptionDenyStatements, DSSE-KMS: the dual-layer algorithm only', () => {
  const p = onBucket((arn) => encryptionDenyStatements(arn, KEY, 'DSSE_KMS'));
  test.each<[string, Headers, object]>([
    ['aws:kms:dsse and the bucket key', { sse: 'aws:kms:dsse', keyId: KEY }, ALLOWED],
    ['aws:kms (one layer) and the bucket key', { sse: 'aws:kms', keyId: KEY }, deniedBy(ALGORITHM_SID)],
    ['aws:kms:dsse without a key id', { sse: 'aws:kms:dsse' }, deniedBy('DenyPutObjectWithKmsAlgorithmButNoKeyId')],
  ])('%s', (_name, headers, expected) => {
    expect(put(p, 'x', headers)).toEqual(expected);
  });
});

describe('encryptionDenyStatements, SSE-C: a customer key on every write, no server-side header', () => {
  const p = onBucket((arn) => encryptionDenyStatements(arn, KEY, 'SSE_C'));
  test.each<[string, Headers, object]>([
    ['an SSE-C key', { sseC: 'AES256' }, ALLOWED],
    ['no header', {}, deniedBy('DenyPutObjectWithoutSseCustomerKey')],
    ['aws:kms and the bucket key', { sse: 'aws:kms', keyId: KEY }, deniedBy('DenyPutObjectWithoutSseCustomerKey', 'DenyPutObjectWithServerManagedEncryptionHeader')],
    ['an SSE-C key and an SSE-S3 header', { sseC: 'AES256', sse: 'AES256' }, deniedBy('DenyPutObjectWithServerManagedEncryptionHeader')],
  ])('%s', (_name, headers, expected) => {
    expect(put(p, 'x', headers)).toEqual(expected);
  });

  test('two statements, none of the SSE-KMS denials', () => {
    expect(encryptionDenyStatements(BUCKET_ARN, KEY, 'SSE_C').map((s) => s.sid)).toEqual(['DenyPutObjectWithoutSseCustomerKey', 'DenyPutObjectWithServerManagedEncryptionHeader']);
  });
});

describe('sseS3OnlyDenyStatements: a log destination takes SSE-S3 or no header', () => {
  const p = onBucket((arn) => sseS3OnlyDenyStatements(`${arn}/*`));
  test.each<[string, Headers, object]>([
    ['no header', {}, ALLOWED],
    ['AES256', { sse: 'AES256' }, ALLOWED],
    ['aws:kms and a key', { sse: 'aws:kms', keyId: KEY }, deniedBy(ALGORITHM_SID)],
    ['an SSE-C key', { sseC: 'AES256' }, deniedBy('DenyPutObjectWithSseCustomerKey')],
  ])('%s', (_name, headers, expected) => {
    expect(put(p, 'logs/x', headers)).toEqual(expected);
  });
});

describe('ExemptableDeny: prefixes left to other statements', () => {
  const pin = () => new ExemptableDeny(KEY_PIN_SID, BUCKET_ARN, { StringNotEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': KEY } });

  test('without an exemption it covers every object', () => {
    const json = pin().toStatementJson();
    expect(json.Resource).toBe(`${BUCKET_ARN}/*`);
    expect(json).not.toHaveProperty('NotResource');
  });

  test('one prefix, even exempted twice, is a single NotResource', () => {
    const st = pin();
    st.exemptObjects(`${BUCKET_ARN}/tenants/*`);
    st.exemptObjects(`${BUCKET_ARN}/tenants/*`);
    const json = st.toStatementJson();
    expect(json.NotResource).toBe(`${BUCKET_ARN}/tenants/*`);
    expect(json).not.toHaveProperty('Resource');
  });

  test('two prefixes are both left out', () => {
    const st = pin();
    st.exemptObjects(`${BUCKET_ARN}/a/*`);
    st.exemptObjects(`${BUCKET_ARN}/b/*`);
    expect(st.toStatementJson().NotResource).toEqual([`${BUCKET_ARN}/a/*`, `${BUCKET_ARN}/b/*`]);
  });

  describe('with algorithmOrSseS3Deny under the exempted prefix', () => {
    const p = onBucket((arn) => {
      const [algorithm, keyPin] = encryptionDenyStatements(arn, KEY, 'SSE_KMS') as ExemptableDeny[];
      algorithm.exemptObjects(`${arn}/digests/*`);
      keyPin.exemptObjects(`${arn}/digests/*`);
      return [algorithm, keyPin, algorithmOrSseS3Deny('DigestsTakeKmsOrSseS3', `${arn}/digests/*`, 'aws:kms')];
    });
    test.each<[string, string, Headers, object]>([
      ['SSE-S3 under the prefix', 'digests/d.json.gz', { sse: 'AES256' }, ALLOWED],
      ['another key under the prefix', 'digests/d.json.gz', { sse: 'aws:kms', keyId: OTHER_KEY }, ALLOWED],
      ['no header under the prefix', 'digests/d.json.gz', {}, ALLOWED],
      ['DSSE-KMS under the prefix', 'digests/d.json.gz', { sse: 'aws:kms:dsse', keyId: KEY }, deniedBy('DigestsTakeKmsOrSseS3')],
      ['SSE-S3 elsewhere', 'logs/l.json.gz', { sse: 'AES256' }, deniedBy(ALGORITHM_SID)],
      ['another key elsewhere', 'logs/l.json.gz', { sse: 'aws:kms', keyId: OTHER_KEY }, deniedBy(KEY_PIN_SID)],
    ])('%s', (_name, objectKey, headers, expected) => {
      expect(put(p, objectKey, headers)).toEqual(expected);
    });
  });
});

describe('logDeliveryStatement: S3 server access logs of one source bucket, this account', () => {
  // S3 User Guide, enable-server-access-logging.html: grant logging.s3.amazonaws.com s3:PutObject,
  // with aws:SourceArn (the source bucket) and aws:SourceAccount.
  const SOURCE = 'arn:aws:s3:::source-bucket';
  const p = onBucket((arn) => [logDeliveryStatement('ServerAccessLogsOfSource', `${arn}/source/*`, SOURCE)]);
  const deliver = (objectKey: string, sourceArn: string, sourceAccount: string, principal = 'logging.s3.amazonaws.com', action = 's3:PutObject') =>
    p.model.evaluate({ principal, action, resource: `${BUCKET_ARN}/${objectKey}`, context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': sourceAccount } });

  test('the source bucket\'s logs under its prefix', () => {
    expect(deliver('source/2026-11-30-log', SOURCE, ACCOUNT)).toEqual({ decision: 'Allowed', deciding: ['ServerAccessLogsOfSource'] });
  });
  test.each<[string, () => ReturnType<typeof deliver>]>([
    ['another source bucket', () => deliver('source/x', 'arn:aws:s3:::other-bucket', ACCOUNT)],
    ['the source bucket named by another account', () => deliver('source/x', SOURCE, OTHER_ACCOUNT)],
    ['outside the prefix', () => deliver('other/x', SOURCE, ACCOUNT)],
    ['another service', () => deliver('source/x', SOURCE, ACCOUNT, 'cloudtrail.amazonaws.com')],
    ['a read', () => deliver('source/x', SOURCE, ACCOUNT, 'logging.s3.amazonaws.com', 's3:GetObject')],
  ])('refused: %s', (_name, run) => {
    expect(run().decision).toBe('ImplicitlyDenied');
  });
});

test('every denial binds every principal, so the account cannot write around it', () => {
  for (const st of [...encryptionDenyStatements(BUCKET_ARN, KEY, 'SSE_KMS'), ...sseS3OnlyDenyStatements(`${BUCKET_ARN}/*`)]) {
    expect(st.toStatementJson()).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' } });
  }
});

test('the denials on an algorithm or a key cover UpdateObjectEncryption; those on headers it cannot carry stay on PutObject', () => {
  // Service Authorization Reference: s3:UpdateObjectEncryption has the condition keys
  // s3:x-amz-server-side-encryption and s3:x-amz-server-side-encryption-aws-kms-key-id, not the SSE-C one.
  const actions = (statements: { toStatementJson(): any }[]) =>
    Object.fromEntries(statements.map((s) => [s.toStatementJson().Sid, s.toStatementJson().Action]));
  const both = ['s3:PutObject', 's3:UpdateObjectEncryption'];
  expect(actions(encryptionDenyStatements(BUCKET_ARN, KEY, 'SSE_KMS'))).toEqual({
    DenyPutObjectWithAnotherEncryptionAlgorithm: both,
    DenyPutObjectWithAnotherKmsKey: both,
    DenyPutObjectWithKmsAlgorithmButNoKeyId: 's3:PutObject',
    DenyPutObjectWithSseCustomerKey: 's3:PutObject',
  });
  expect(actions(encryptionDenyStatements(BUCKET_ARN, KEY, 'SSE_C'))).toEqual({
    DenyPutObjectWithoutSseCustomerKey: 's3:PutObject',
    DenyPutObjectWithServerManagedEncryptionHeader: both,
  });
  expect(actions(sseS3OnlyDenyStatements(`${BUCKET_ARN}/*`))).toEqual({ DenyPutObjectWithAnotherEncryptionAlgorithm: both, DenyPutObjectWithSseCustomerKey: 's3:PutObject' });
});
