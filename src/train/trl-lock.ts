// One trainer per output: a lock file in the TRL bridge's work directory naming the pipeline that runs the
// trainer (pid, process start time, host) and the launcher's process group.
//
// Why: a pipeline killed mid-training (`kill -9`, a lost node session) leaves `accelerate launch` and its
// ranks behind; each rank stops on its own once it sees the pipeline gone (trainer/psrlm_trl/tether.py), but
// a resumed run must not start a second trainer into the same directory before that, nor ever beside a
// pipeline that is still alive. So, on start: a lock whose pipeline is alive (another run on this output)
// is refused with what to do; a lock whose pipeline is gone has its launcher's group stopped (SIGTERM, then
// SIGKILL) and is replaced.
import { readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { writeJSONAtomic } from '../util/atomic.js';

export interface TrainerLock {
  pipeline: number;
  /** The pipeline's start time (/proc/PID/stat field 22), so a reused pid is not mistaken for it. */
  start: string;
  host: string;
  /** The launcher's pid, which leads its process group (0 until it is started). */
  launcher: number;
}

/** A process's start time in clock ticks since boot, '' where /proc is missing, undefined when it is gone. */
export function processStart(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    try {
      process.kill(pid, 0);
      return '';
    } catch (k) {
      return (k as NodeJS.ErrnoException).code === 'EPERM' ? '' : undefined;
    }
  }
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) ", which may hold spaces
  return f[0] === 'Z' || f[0] === 'X' ? undefined : f[19];
}

function alive(pid: number, start: string): boolean {
  if (!(pid > 0)) return false;
  const now = processStart(pid);
  return now !== undefined && (!start || !now || now === start);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The tether the bridge's ranks watch: this pipeline. */
export function pipelineTether(): { pid: number; start: string; host: string } {
  return { pid: process.pid, start: processStart(process.pid) ?? '', host: hostname() };
}

/**
 * Takes the lock in `work` for this pipeline, stopping a stale trainer found there; throws when another
 * live pipeline holds it. Returns `launched(pid)` to record the launcher and `release()`.
 */
export async function lockTrainer(
  work: string,
  log: (s: string) => void = () => {},
): Promise<{ launched: (pid: number) => void; release: () => void }> {
  const file = path.join(work, 'trainer.lock');
  let old: TrainerLock | undefined;
  try {
    old = JSON.parse(readFileSync(file, 'utf8')) as TrainerLock;
  } catch {
    /* none, or unreadable: nothing to stop */
  }
  if (old && old.host === hostname()) {
    if (old.pipeline !== process.pid && alive(old.pipeline, old.start)) {
      throw new Error(
        `${work} is being trained by another pipeline (pid ${old.pipeline}, ${file}); stop that run ` +
          'or give this one another --out',
      );
    }
    if (old.launcher > 0 && processStart(old.launcher) !== undefined) {
      log(`stopping a stale trainer (launcher pid ${old.launcher}) left by a pipeline that is gone (${file})`);
      try {
        process.kill(-old.launcher, 'SIGTERM');
      } catch {
        /* gone */
      }
      for (let i = 0; i < 100 && processStart(old.launcher) !== undefined; i++) await sleep(200);
      try {
        process.kill(-old.launcher, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  } else if (old) {
    log(`!!! ${file} names a trainer on host ${old.host}; this pipeline cannot see it and starts anyway`);
  }
  const me = pipelineTether();
  const lock: TrainerLock = { pipeline: me.pid, start: me.start, host: me.host, launcher: 0 };
  writeJSONAtomic(file, lock);
  return {
    launched: (pid) => writeJSONAtomic(file, { ...lock, launcher: pid }),
    release: () => rmSync(file, { force: true }),
  };
}
