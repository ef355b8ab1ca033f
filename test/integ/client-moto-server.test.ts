/**
 * The shared moto server helper: it starts on a free local port, answers AWS API calls, stops for
 * good, and says how to install moto when it is missing.
 */
import * as http from 'node:http';
import { freePort, startMotoServer } from '../support/moto-server';

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { timeout: 5000 }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
  });
}

test('starts on 127.0.0.1, answers, and is gone after stop()', async () => {
  const moto = await startMotoServer();
  try {
    expect(moto.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(alive(moto.pid)).toBe(true);
    expect(await get(`${moto.endpoint}/moto-api/data.json`)).toBe(200);
  } finally {
    await moto.stop();
  }
  expect(alive(moto.pid)).toBe(false);
  await expect(get(`${moto.endpoint}/moto-api/data.json`)).rejects.toThrow();
  await moto.stop(); // a second stop is harmless
});

test('fails loudly with the setup command when moto is missing', async () => {
  await expect(startMotoServer({ binary: '/nonexistent/.tools/moto/bin/moto_server' })).rejects.toThrow(/npx projen setup-tools/);
});

test('freePort returns unprivileged ports', async () => {
  const a = await freePort();
  const b = await freePort();
  expect(a).toBeGreaterThan(1024);
  expect(b).toBeGreaterThan(1024);
});
