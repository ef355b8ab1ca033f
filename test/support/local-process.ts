/**
 * A local server process for the integration tests (moto, MinIO): started on 127.0.0.1, its output
 * kept (bounded) for failure messages, polled until ready within a deadline, stopped with SIGTERM
 * then SIGKILL, and killed when the test process exits, so that no stray server survives a crashed
 * or interrupted run.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';

export interface LocalProcess {
  readonly pid: number;
  /** Whether the process has exited. */
  readonly exited: boolean;
  /** Everything the process printed so far (the last 64 KiB). */
  logs(): string;
  /** Stops the process (SIGTERM, SIGKILL after 5 s) and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Starts `command` with its output captured. */
export function startProcess(command: string, args: string[], options: { cwd?: string; env: NodeJS.ProcessEnv }): LocalProcess {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const child of live) {
        try { child.kill('SIGKILL'); } catch { /* already gone */ }
      }
    });
  }
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  // Bounded, so that a chatty server cannot grow the test's memory without limit.
  const append = (b: Buffer | string) => { output = (output + b.toString()).slice(-64 * 1024); };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => { exited = true; live.delete(child); resolve(); });
    child.once('error', (err) => { append(String(err)); exited = true; live.delete(child); resolve(); });
  });
  return {
    pid: child.pid ?? -1,
    get exited() { return exited; },
    logs: () => output,
    stop: async () => {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 5_000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}

/**
 * Polls `ready` every 200 ms until it answers true. Throws with the process's output when the
 * process exits first or the deadline passes (the process is then stopped).
 */
export async function waitUntilReady(proc: LocalProcess, what: string, startTimeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (proc.exited) throw new Error(`${what} exited before it was ready:\n${proc.logs()}`);
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  await proc.stop();
  throw new Error(`${what} was not ready within ${startTimeoutMs} ms:\n${proc.logs()}`);
}

/** Asks the OS for a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not allocate a free port'))));
    });
  });
}

/** Tries `attempt` up to `times` times (a port can be taken between probing and binding). */
export async function withRetries<T>(times: number, what: string, attempt: () => Promise<T>): Promise<T> {
  let lastError: Error | undefined;
  for (let i = 0; i < times; i++) {
    try {
      return await attempt();
    } catch (e) {
      lastError = e as Error;
    }
  }
  throw lastError ?? new Error(`${what} did not start`);
}
