// What the real-model tests share: a stage timer, JSON readers, a child process awaited without blocking the
// event loop, and a `psrlm run` killed (with its whole process group) once its trainer starts step-wise DPO.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export const readJSON = <T = Record<string, unknown>>(f: string) => JSON.parse(readFileSync(f, 'utf8')) as T;

/** A timer that records each named stage's wall seconds (one decimal) into `stage`. */
export function stageTimer(stage: Record<string, unknown>) {
  return async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      stage[name] = Math.round((performance.now() - t0) / 100) / 10;
    }
  };
}

/** A child process run to its end without blocking the event loop. */
export function runAsync(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    c.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * `psrlm run <config> --out <out>`, killed with SIGKILL (the whole process group, trainer included) as soon as
 * iteration 1's trainer subprocess has started DPO (its config is written). True when it was killed so.
 */
export function runUntilDpo(config: string, out: string): Promise<boolean> {
  const child = spawn(process.execPath, [CLI, 'run', config, '--out', out, '--quiet'], {
    stdio: 'ignore',
    detached: true,
  });
  let killed = false;
  const poll = setInterval(() => {
    if (!killed && existsSync(path.join(out, 'iter-1', 'trl', 'dpo.config.json'))) {
      killed = true;
      process.kill(-child.pid!, 'SIGKILL');
    }
  }, 50);
  return new Promise((resolve) =>
    child.on('exit', (_c, signal) => {
      clearInterval(poll);
      resolve(signal === 'SIGKILL');
    }),
  );
}
