// Tethers a served model's process group to the pipeline that started it: `node tether.js <pid> <cmd>
// [args...]` runs the command and, when process <pid> (the pipeline) is gone, stops the whole group.
//
// Why: the pipeline starts inference servers (vLLM and the engine processes it forks) in their own process
// group so that stopping one stops all of it. An exit handler covers a normal exit or a thrown error, but
// nothing runs on `kill -9` of the pipeline (a resumable run's expected interruption), and the server then
// lives on, holding the port and, on GPUs, the accelerator's memory, until someone finds it. Linux's
// parent-death signal is not reachable from Node, so this small watchdog (the group's leader, started by
// src/serve/launch.ts) checks once a second whether the pipeline still exists. It forwards SIGTERM/SIGINT
// to the server and exits with the server's status.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function main(): void {
  const [pidArg, cmd, ...args] = process.argv.slice(2);
  const parent = Number(pidArg);
  if (!Number.isInteger(parent) || parent <= 0 || !cmd) {
    process.stderr.write('usage: node tether.js <pipeline pid> <command> [args...]\n');
    process.exit(2);
  }
  const child = spawn(cmd, args, { stdio: 'inherit' });
  let stopping = false;
  const stopGroup = (why: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`psrlm tether: ${why}; stopping the server (SIGTERM, SIGKILL after 20 s)\n`);
    try {
      child.kill('SIGTERM');
    } catch {
      /* gone */
    }
    setTimeout(() => {
      // the server's own workers are in this group too: take them all down
      try {
        process.kill(-process.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      process.exit(137);
    }, 20_000).unref();
  };
  child.on('error', (e) => {
    process.stderr.write(`psrlm tether: cannot start '${cmd}': ${e.message}\n`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  for (const s of ['SIGTERM', 'SIGINT'] as const) process.on(s, () => stopGroup(`got ${s}`));
  setInterval(() => {
    if (!alive(parent)) stopGroup(`the pipeline (pid ${parent}) is gone`);
  }, 1000);
}

main();
