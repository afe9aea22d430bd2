// vLLM command-line flags that exist only from some version on, and the installed vLLM's version, so that a
// run whose engine.command uses a flag its vLLM lacks fails at start (src/run/check.ts) rather than after the
// first iteration's set-up, with vLLM's argparse error buried in server-M1.log.
//
// The table lists only flags whose first version was read off vLLM's own source: the source distributions of
// each release on PyPI (vllm-X.tar.gz), searched for the flag's add_argument in vllm/engine/arg_utils.py and
// for the `vllm` console script in setup.py. A flag not in the table is not checked.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

export interface FlagRule {
  /** The spellings on the command line (argparse aliases). */
  flags: readonly string[];
  /** The first vLLM release that accepts it. */
  since: string;
  /** Where that was read. */
  source: string;
}

export const VLLM_FLAGS: readonly FlagRule[] = [
  {
    // absent from 0.8.2's vllm/engine/arg_utils.py, added there (with -dp) in 0.8.3
    flags: ['--data-parallel-size', '-dp'],
    since: '0.8.3',
    source: 'vllm 0.8.2 and 0.8.3 sdists on PyPI, vllm/engine/arg_utils.py',
  },
  {
    // absent from 0.3.3, present in 0.4.1; 0.4.0 was published as wheels only and was not inspected
    flags: ['--enable-prefix-caching'],
    since: '0.4.1',
    source: 'vllm 0.3.3 and 0.4.1 sdists on PyPI, vllm/engine/arg_utils.py',
  },
];

/** The `vllm` command itself (`vllm serve ...`, `vllm --version`): the console script vllm.scripts:main. */
export const VLLM_CLI: FlagRule = {
  flags: ['serve'],
  since: '0.5.2',
  source: 'vllm 0.5.1 and 0.5.2 sdists on PyPI, setup.py console_scripts',
};

/** PEP 440's order for the versions vLLM publishes: 0.8.3.dev5 < 0.8.3 < 0.8.3.post1 < 0.8.4. */
export function compareVersions(a: string, b: string): number {
  const key = (v: string): number[] => {
    const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(rc|\.dev|\.post)(\d*))?/.exec(v.trim());
    if (!m) throw new Error(`'${v}' is not a version (expected e.g. 0.8.3)`);
    const stage = m[4] === '.dev' ? -2 : m[4] === 'rc' ? -1 : m[4] === '.post' ? 1 : 0;
    return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0), stage, Number(m[5] || 0)];
  };
  const x = key(a),
    y = key(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return 0;
}

/** How the engine command runs vLLM: the `vllm` script, `python -m vllm...`, or not vLLM at all (null). */
export function vllmLaunch(command: readonly string[]): { kind: 'cli' | 'python'; program: string } | null {
  const [program, ...args] = command;
  if (!program) return null;
  const base = path.basename(program);
  if (base === 'vllm') return { kind: 'cli', program };
  const m = args.indexOf('-m');
  const module = m >= 0 ? (args[m + 1] ?? '') : '';
  if (/^python[\d.]*$/.test(base) && /^vllm(\.|$)/.test(module)) return { kind: 'python', program };
  return null;
}

/** The flags of `command` that `version` lacks, each with its rule. */
export function flagsTooNew(command: readonly string[], version: string): Array<{ flag: string; rule: FlagRule }> {
  const used = (spelling: string) => command.some((a) => a === spelling || a.startsWith(`${spelling}=`));
  const out: Array<{ flag: string; rule: FlagRule }> = [];
  const launch = vllmLaunch(command);
  if (launch?.kind === 'cli' && compareVersions(version, VLLM_CLI.since) < 0) {
    out.push({ flag: 'vllm serve', rule: VLLM_CLI });
  }
  for (const rule of VLLM_FLAGS) {
    const flag = rule.flags.find(used);
    if (flag && compareVersions(version, rule.since) < 0) out.push({ flag, rule });
  }
  return out;
}

/** The `--flag N` / `--flag=N` value of a command, or null. */
export function flagValue(command: readonly string[], flag: string): string | null {
  for (let i = 0; i < command.length; i++) {
    const a = command[i]!;
    if (a === flag) return command[i + 1] ?? null;
    if (a.startsWith(`${flag}=`)) return a.slice(flag.length + 1);
  }
  return null;
}

/**
 * The vLLM version the engine command would run: `vllm --version`, or the command's python importing vllm.
 * Throws with the reason when it cannot be read (vLLM not installed where this runs, a broken install).
 */
export function installedVllmVersion(command: readonly string[], env: Record<string, string>): string {
  const launch = vllmLaunch(command);
  if (!launch) throw new Error('the engine command does not run vLLM');
  const args = launch.kind === 'cli' ? ['--version'] : ['-c', 'import vllm; print(vllm.__version__)'];
  // importing vllm imports torch: seconds, sometimes a minute on a cold file system
  const r = spawnSync(launch.program, args, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 180_000 });
  if (r.error) throw new Error(`cannot run ${launch.program} ${args.join(' ')}: ${r.error.message}`);
  // the version is the last line printed (vLLM may log to stdout before it)
  const last = `${r.stdout ?? ''}`.trim().split('\n').pop() ?? '';
  const v = /^v?(\d+\.\d+\S*)$/.exec(last.trim());
  if (r.status !== 0 || !v) {
    const tail = `${r.stderr ?? ''}`.trim().split('\n').slice(-3).join(' / ');
    throw new Error(`${launch.program} ${args.join(' ')} exited with status ${r.status} and no version (${tail})`);
  }
  return v[1]!;
}
