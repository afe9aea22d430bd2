// Ensures the project's Python environments, so that tests needing them never skip for want of one:
//   reference  .venv/     reference/requirements.txt        the PyTorch reference (reference/README.md)
//   rl         .venv-rl/  trainer/requirements-cpu.lock     the TRL bridge (trainer/) and vLLM on CPU
// A stamp file in the venv records the sha256 of the requirements it was built from; a missing venv or
// changed requirements rebuild it, loudly. A .pth file puts the env's source folder on the venv's path, so
// `python -m psrlm_ref.oracle` / `python -m psrlm_trl.train` work from any directory. The rl lock pins every
// package and is installed with --no-deps (nothing is resolved, so nothing can pull another torch build or
// CUDA wheels); afterwards the torch build is checked (2.13.0, CPU, no nvidia-* packages).
//
//   import { pythonEnv } from './scripts/python-env.mjs'; const { python } = await pythonEnv('rl');
//   node scripts/python-env.mjs [reference|rl]   # prints the venv's python path
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const ENVS = {
  reference: {
    venv: '.venv',
    reqs: 'reference/requirements.txt',
    src: 'reference',
    pth: 'psrlm_reference.pth',
    noDeps: false,
    checkTorch: false,
  },
  rl: {
    venv: '.venv-rl',
    reqs: 'trainer/requirements-cpu.lock',
    src: 'trainer',
    pth: 'psrlm_trainer.pth',
    noDeps: true,
    checkTorch: true,
  },
};

function envPaths(name) {
  const e = ENVS[name];
  if (!e) throw new Error(`unknown Python environment '${name}' (have: ${Object.keys(ENVS).join(', ')})`);
  const VENV = path.join(ROOT, e.venv);
  return {
    ...e,
    name,
    VENV,
    REQS: path.join(ROOT, e.reqs),
    STAMP: path.join(VENV, '.psrlm-requirements.sha256'),
    LOCK: path.join(ROOT, `${e.venv}.lock`),
    PY: process.platform === 'win32' ? path.join(VENV, 'Scripts', 'python.exe') : path.join(VENV, 'bin', 'python'),
  };
}

const INSTALL_HINT =
  'The PyTorch reference needs Python 3 (>= 3.10) with venv and pip. Install it, e.g. ' +
  "'apt-get install python3 python3-venv' (Debian/Ubuntu), 'brew install python' (macOS) or from " +
  'https://www.python.org/downloads/, then run again.';

function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', process.stderr, process.stderr] });
  if (r.error) throw new Error(`${what}: could not run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${what}: '${cmd} ${args.join(' ')}' exited with status ${r.status}`);
}

function findPython3() {
  for (const cmd of process.platform === 'win32' ? ['python3', 'python', 'py'] : ['python3']) {
    const r = spawnSync(cmd, ['-c', 'import sys, venv; print(sys.version_info[0])'], { encoding: 'utf8' });
    if (!r.error && r.status === 0 && r.stdout.trim() === '3') return cmd;
  }
  throw new Error(`python3 (with the venv module) was not found. ${INSTALL_HINT}`);
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

/** One builder at a time (e.g. two test processes): an exclusive lock directory, broken when stale. */
async function withLock(LOCK, fn) {
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let age = 0;
      try {
        age = Date.now() - statSync(LOCK).mtimeMs;
      } catch {
        continue;
      }
      if (age > 20 * 60_000) {
        rmSync(LOCK, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK} (remove it if no install runs)`);
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function sitePackages(PY) {
  const r = spawnSync(PY, ['-c', "import sysconfig; print(sysconfig.get_paths()['purelib'])"], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`cannot query ${PY} for its site-packages: ${r.stderr || r.error}`);
  return r.stdout.trim();
}

function ensurePth(e) {
  const pth = path.join(sitePackages(e.PY), e.pth);
  const want = path.join(ROOT, e.src) + '\n';
  if (!existsSync(pth) || readFileSync(pth, 'utf8') !== want) writeFileSync(pth, want);
}

/** Built from the current requirements, and its python still runs (a venv breaks if its base python goes). */
const fresh = (e) =>
  existsSync(e.PY) &&
  existsSync(e.STAMP) &&
  readFileSync(e.STAMP, 'utf8').trim() === hashReqs(e.REQS) &&
  spawnSync(e.PY, ['-c', 'pass']).status === 0;

function hashReqs(REQS) {
  if (!existsSync(REQS)) throw new Error(`${REQS} is missing`);
  return createHash('sha256').update(readFileSync(REQS)).digest('hex');
}

// The installed torch must be the pinned CPU build, with no CUDA wheels beside it (a lock that drifted,
// or a machine without the CPU wheel where pip fell back to PyPI's CUDA build of the same version).
const TORCH_CHECK =
  `
import importlib.metadata as md, sys
import torch
bad = sorted(d.metadata['Name'] for d in md.distributions() if (d.metadata['Name'] or ` +
  `'').lower().startswith(('nvidia-', 'torchvision', 'torchaudio', 'torchcodec', 'triton')))
problems = []
if not torch.__version__.startswith('2.13.0'): problems.append('torch is %s, not 2.13.0' % torch.__version__)
if torch.version.cuda is not None: problems.append('torch is a CUDA build (cuda %s), not the CPU wheel' % ` +
  `torch.version.cuda)
if bad: problems.append('unwanted packages installed: ' + ', '.join(bad))
print('; '.join(problems))
sys.exit(1 if problems else 0)
`;

function checkTorch(e) {
  const r = spawnSync(e.PY, ['-c', TORCH_CHECK], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(
      `${e.venv}: ${(r.stdout || r.stderr).trim()}. The environment needs torch 2.13.0's CPU wheel ` +
        '(torch-2.13.0+cpu, from https://download.pytorch.org/whl/cpu): pass it to pip with ' +
        'PIP_FIND_LINKS=<folder holding the wheel> ' +
        `or PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu, remove ${e.venv}/ and run again.`,
    );
  }
}

/** Ensures the named environment exists with its requirements installed; returns the path of its python
 *  (and, when it had to be built, the install's wall seconds). */
export async function pythonEnv(name = 'reference') {
  const e = envPaths(name);
  let built;
  if (!fresh(e)) {
    await withLock(e.LOCK, async () => {
      if (fresh(e)) return; // another process built it while we waited
      const py3 = findPython3();
      const t0 = Date.now();
      console.error(`creating the Python ${name} environment (${e.venv}) from ${e.reqs} …`);
      if (existsSync(e.PY) && spawnSync(e.PY, ['-c', 'pass']).status !== 0)
        rmSync(e.VENV, { recursive: true, force: true });
      if (!existsSync(e.PY)) run(py3, ['-m', 'venv', e.VENV], `creating ${e.venv}`);
      rmSync(e.STAMP, { force: true });
      run(
        e.PY,
        ['-m', 'pip', 'install', '--disable-pip-version-check', ...(e.noDeps ? ['--no-deps'] : []), '-r', e.REQS],
        `installing ${e.reqs}`,
      );
      if (e.checkTorch) checkTorch(e);
      writeFileSync(e.STAMP, hashReqs(e.REQS) + '\n');
      built = (Date.now() - t0) / 1000;
      console.error(`the Python ${name} environment is ready (${e.venv}, built in ${built.toFixed(0)} s)`);
    });
  }
  ensurePth(e);
  return { python: e.PY, built_s: built };
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  pythonEnv(process.argv[2] ?? 'reference').then(
    ({ python }) => console.log(python),
    (e) => {
      console.error(`python-env: ${e.message}`);
      process.exit(1);
    },
  );
}
