/**
 * Rotation handler for an SSE-C key kept in Secrets Manager (see SseCustomerKeySecret).
 *
 * Secrets Manager calls it four times per rotation: createSecret, setSecret, testSecret,
 * finishSecret. The old version keeps the AWSPREVIOUS label, so objects written under it can still
 * be read and re-keyed with CopyObject.
 */
import { randomBytes } from 'node:crypto';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';

/** The event Secrets Manager sends to a rotation function. */
export interface RotationEvent {
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
  readonly RotationToken?: string;
}

/** The JSON stored in each secret version. */
export interface SseCustomerKeyMaterial {
  readonly algorithm: 'AES256';
  readonly encoding: 'hex';
  /** 256 random bits, hex-encoded (64 characters). */
  readonly key: string;
}

const KEY_BYTES = 32;
const HEX_KEY = /^[0-9a-f]{64}$/;

/** Builds a new key version: 256 bits from the Lambda's CSPRNG, never from a password generator. */
export function newKeyMaterial(): SseCustomerKeyMaterial {
  return { algorithm: 'AES256', encoding: 'hex', key: randomBytes(KEY_BYTES).toString('hex') };
}

/** Parses and checks one secret version; throws a message that never contains the key. */
export function parseKeyMaterial(secretString: string | undefined, what: string): SseCustomerKeyMaterial {
  let parsed: any;
  try {
    parsed = JSON.parse(secretString ?? '');
  } catch {
    throw new Error(`${what} is not JSON`);
  }
  if (parsed?.algorithm !== 'AES256' || parsed?.encoding !== 'hex' || typeof parsed?.key !== 'string' || !HEX_KEY.test(parsed.key)) {
    throw new Error(`${what} is not {"algorithm":"AES256","encoding":"hex","key":<64 lowercase hex characters>}`);
  }
  return parsed as SseCustomerKeyMaterial;
}

/** Checks that rotation is on and that the token is a version that is being rotated in. */
async function checkVersion(client: SecretsManagerClient, event: RotationEvent): Promise<'done' | 'rotate'> {
  const meta = await client.send(new DescribeSecretCommand({ SecretId: event.SecretId }));
  if (meta.RotationEnabled === false) {
    throw new Error(`rotation is not enabled on secret ${event.SecretId}`);
  }
  const stages = meta.VersionIdsToStages?.[event.ClientRequestToken];
  if (!stages) {
    throw new Error(`version ${event.ClientRequestToken} of secret ${event.SecretId} has no stage to rotate`);
  }
  if (stages.includes('AWSCURRENT')) return 'done';
  if (!stages.includes('AWSPENDING')) {
    throw new Error(`version ${event.ClientRequestToken} of secret ${event.SecretId} is not AWSPENDING`);
  }
  return 'rotate';
}

/** Step 1: stores a fresh key as AWSPENDING under the request token, once. */
export async function createSecret(client: SecretsManagerClient, event: RotationEvent): Promise<void> {
  // The current version must exist and be valid before anything replaces it.
  const current = await client.send(new GetSecretValueCommand({ SecretId: event.SecretId, VersionStage: 'AWSCURRENT' }));
  parseKeyMaterial(current.SecretString, 'the AWSCURRENT version');
  try {
    await client.send(new GetSecretValueCommand({ SecretId: event.SecretId, VersionId: event.ClientRequestToken, VersionStage: 'AWSPENDING' }));
    return; // a retried step: the pending key already exists and must not change
  } catch (e) {
    if (!(e instanceof ResourceNotFoundException) && (e as Error).name !== 'ResourceNotFoundException') throw e;
  }
  await client.send(new PutSecretValueCommand({
    SecretId: event.SecretId,
    ClientRequestToken: event.ClientRequestToken,
    SecretString: JSON.stringify(newKeyMaterial()),
    VersionStages: ['AWSPENDING'],
  }));
}

/** Step 2: an SSE-C key is registered nowhere; S3 receives it with each request. */
export async function setSecret(_client: SecretsManagerClient, _event: RotationEvent): Promise<void> {
  return;
}

/** Step 3: the pending key is well formed and differs from the current one. */
export async function testSecret(client: SecretsManagerClient, event: RotationEvent): Promise<void> {
  const pending = await client.send(new GetSecretValueCommand({ SecretId: event.SecretId, VersionId: event.ClientRequestToken, VersionStage: 'AWSPENDING' }));
  const current = await client.send(new GetSecretValueCommand({ SecretId: event.SecretId, VersionStage: 'AWSCURRENT' }));
  const p = parseKeyMaterial(pending.SecretString, 'the AWSPENDING version');
  const c = parseKeyMaterial(current.SecretString, 'the AWSCURRENT version');
  if (p.key === c.key) throw new Error('the AWSPENDING key equals the AWSCURRENT key');
}

/** Step 4: the pending version becomes AWSCURRENT; the old one keeps AWSPREVIOUS and stays readable. */
export async function finishSecret(client: SecretsManagerClient, event: RotationEvent): Promise<void> {
  const meta = await client.send(new DescribeSecretCommand({ SecretId: event.SecretId }));
  const stages = meta.VersionIdsToStages ?? {};
  const currentVersion = Object.keys(stages).find((v) => stages[v].includes('AWSCURRENT'));
  if (currentVersion !== event.ClientRequestToken) {
    await client.send(new UpdateSecretVersionStageCommand({
      SecretId: event.SecretId,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: event.ClientRequestToken,
      RemoveFromVersionId: currentVersion,
    }));
  }
  if (stages[event.ClientRequestToken]?.includes('AWSPENDING')) {
    await client.send(new UpdateSecretVersionStageCommand({
      SecretId: event.SecretId,
      VersionStage: 'AWSPENDING',
      RemoveFromVersionId: event.ClientRequestToken,
    }));
  }
}

const STEPS = { createSecret, setSecret, testSecret, finishSecret };

/** Runs one rotation step with the given client. */
export async function rotate(client: SecretsManagerClient, event: RotationEvent): Promise<void> {
  const step = STEPS[event.Step];
  if (!step) throw new Error(`unknown rotation step ${JSON.stringify(event.Step)}`);
  if (await checkVersion(client, event) === 'done') return;
  await step(client, event);
}

let defaultClient: SecretsManagerClient | undefined;

/** The Lambda entry point; the client honours AWS_ENDPOINT_URL, so it also runs against a local API. */
export async function handler(event: RotationEvent): Promise<void> {
  defaultClient ??= new SecretsManagerClient({});
  await rotate(defaultClient, event);
  console.log(JSON.stringify({ secret: event.SecretId, version: event.ClientRequestToken, step: event.Step, result: 'ok' }));
}
