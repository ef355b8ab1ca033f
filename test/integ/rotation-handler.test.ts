import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { createSecret, finishSecret, handler, rotate, RotationEvent, setSecret, testSecret } from '../../src/keys/sse-c-rotation.lambda';
import { MotoServer, startMotoServer } from '../support/moto-server';

let moto: MotoServer;
let client: SecretsManagerClient;

const INITIAL = JSON.stringify({ algorithm: 'AES256', encoding: 'hex', key: 'ab'.repeat(32) });

beforeAll(async () => {
  moto = await startMotoServer();
  client = new SecretsManagerClient({ endpoint: moto.endpoint, region: moto.region, credentials: moto.credentials });
}, 90_000);

afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

async function newSecret(name: string, secretString = INITIAL): Promise<string> {
  const out = await client.send(new CreateSecretCommand({ Name: name, SecretString: secretString }));
  return out.ARN!;
}

async function stagesOf(secretId: string): Promise<Record<string, string[]>> {
  const meta = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
  return meta.VersionIdsToStages ?? {};
}

function versionWith(stages: Record<string, string[]>, stage: string): string | undefined {
  return Object.keys(stages).find((v) => stages[v].includes(stage));
}

async function keyOf(secretId: string, opts: { VersionStage?: string; VersionId?: string }): Promise<string> {
  const out = await client.send(new GetSecretValueCommand({ SecretId: secretId, ...opts }));
  return JSON.parse(out.SecretString!).key;
}

/**
 * Secrets Manager records the token before it calls createSecret; moto can do that only through
 * RotateSecret with a Lambda it runs itself, so createSecret is called directly and the three later
 * steps go through rotate(), which checks the token's stage as in production.
 */
function event(secretId: string, token: string, step: RotationEvent['Step']): RotationEvent {
  return { SecretId: secretId, ClientRequestToken: token, Step: step };
}

describe('SSE-C rotation handler against a local Secrets Manager API', () => {
  test('the four steps rotate in a new 256-bit key, keep the old one readable as AWSPREVIOUS, and are idempotent', async () => {
    const arn = await newSecret('sse-c-four-steps');
    const oldVersion = versionWith(await stagesOf(arn), 'AWSCURRENT')!;
    const token = '11111111-2222-4333-8444-555555555555';

    await createSecret(client, event(arn, token, 'createSecret'));
    let stages = await stagesOf(arn);
    expect(stages[token]).toEqual(['AWSPENDING']);
    expect(stages[oldVersion]).toContain('AWSCURRENT');
    const pendingKey = await keyOf(arn, { VersionId: token, VersionStage: 'AWSPENDING' });
    expect(pendingKey).toMatch(/^[0-9a-f]{64}$/);
    expect(pendingKey).not.toBe('ab'.repeat(32));

    // A retried createSecret must not replace the pending key.
    await rotate(client, event(arn, token, 'createSecret'));
    expect(await keyOf(arn, { VersionId: token, VersionStage: 'AWSPENDING' })).toBe(pendingKey);

    await setSecret(client, event(arn, token, 'setSecret'));
    await testSecret(client, event(arn, token, 'testSecret'));
    await finishSecret(client, event(arn, token, 'finishSecret'));

    stages = await stagesOf(arn);
    expect(stages[token]).toEqual(['AWSCURRENT']);
    expect(stages[oldVersion]).toEqual(['AWSPREVIOUS']);
    expect(await keyOf(arn, { VersionStage: 'AWSCURRENT' })).toBe(pendingKey);
    // The previous key stays readable, so objects written with it can be re-keyed.
    expect(await keyOf(arn, { VersionStage: 'AWSPREVIOUS' })).toBe('ab'.repeat(32));
    expect(await keyOf(arn, { VersionId: oldVersion })).toBe('ab'.repeat(32));

    // A retried finishSecret after completion changes nothing.
    await rotate(client, event(arn, token, 'finishSecret'));
    expect(await stagesOf(arn)).toEqual(stages);
  });

  test('a second rotation moves AWSPREVIOUS to the version that was current', async () => {
    const arn = await newSecret('sse-c-two-rotations');
    const first = versionWith(await stagesOf(arn), 'AWSCURRENT')!;
    const keys: string[] = ['ab'.repeat(32)];
    for (const token of ['aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000002']) {
      await createSecret(client, event(arn, token, 'createSecret'));
      for (const step of ['setSecret', 'testSecret', 'finishSecret'] as const) {
        await rotate(client, event(arn, token, step));
      }
      keys.push(await keyOf(arn, { VersionStage: 'AWSCURRENT' }));
    }
    const stages = await stagesOf(arn);
    expect(stages['aaaaaaaa-0000-4000-8000-000000000002']).toEqual(['AWSCURRENT']);
    expect(stages['aaaaaaaa-0000-4000-8000-000000000001']).toEqual(['AWSPREVIOUS']);
    expect(stages[first] ?? []).not.toContain('AWSPREVIOUS');
    expect(new Set(keys).size).toBe(3);
    expect(await keyOf(arn, { VersionStage: 'AWSPREVIOUS' })).toBe(keys[1]);
  });

  test('the Lambda entry point reads AWS_ENDPOINT_URL and runs the later steps', async () => {
    const arn = await newSecret('sse-c-entry-point');
    const token = 'bbbbbbbb-0000-4000-8000-000000000001';
    await createSecret(client, event(arn, token, 'createSecret'));
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: moto.region,
      AWS_ACCESS_KEY_ID: moto.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey,
    });
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    let calls: unknown[][] = [];
    try {
      for (const step of ['setSecret', 'testSecret', 'finishSecret'] as const) await handler(event(arn, token, step));
      calls = [...log.mock.calls];
    } finally {
      process.env = saved;
      log.mockRestore();
    }
    expect((await stagesOf(arn))[token]).toEqual(['AWSCURRENT']);
    expect(calls).toHaveLength(3);
    expect(JSON.stringify(calls)).not.toMatch(/[0-9a-f]{64}/);
  });

  test('refuses a current version that is not an SSE-C key, without printing it', async () => {
    const arn = await newSecret('sse-c-bad-current', JSON.stringify({ key: 'not-a-key-0123' }));
    const p = createSecret(client, event(arn, 'cccccccc-0000-4000-8000-000000000001', 'createSecret'));
    await expect(p).rejects.toThrow(/the AWSCURRENT version is not \{"algorithm":"AES256"/);
    const message = await createSecret(client, event(arn, 'cccccccc-0000-4000-8000-000000000001', 'createSecret')).catch((e: Error) => e.message);
    expect(message).not.toContain('not-a-key-0123');
  });

  test('refuses a token that is neither pending nor current, and an unknown step', async () => {
    const arn = await newSecret('sse-c-bad-token');
    await expect(rotate(client, event(arn, 'dddddddd-0000-4000-8000-000000000001', 'testSecret'))).rejects.toThrow(/has no stage to rotate/);
    const current = versionWith(await stagesOf(arn), 'AWSCURRENT')!;
    // The current version is done already: a late step for it changes nothing.
    await rotate(client, event(arn, current, 'createSecret'));
    expect(Object.keys(await stagesOf(arn))).toEqual([current]);
    await expect(rotate(client, event(arn, 'x', 'nope' as any))).rejects.toThrow(/unknown rotation step "nope"/);
  });
});
