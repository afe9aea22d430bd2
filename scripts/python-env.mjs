// Ensures the Python environment of the PyTorch reference (reference/README.md): a virtual environment at
// .venv/ (repo root) with reference/requirements.txt installed, so that tests comparing the engine with the
// reference (docs/engine.md) never skip for want of it. A stamp file in .venv records the sha256 of the
// requirements it was built from; a missing venv or a changed requirements.txt rebuilds it, loudly.
// A .pth file puts reference/ on the venv's path, so `python -m psrlm_ref.oracle` works from any directory.
//
//   import { pythonEnv } from './scripts/python-env.mjs'; const { python } = await pythonEnv();
//   node scripts/python-env.mjs            # prints the venv's python path
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const VENV = path.join(ROOT, '.venv');
const REQS = path.join(ROOT, 'reference', 'requirements.txt');
const STAMP = path.join(VENV, '.psrlm-requirements.sha256');
const LOCK = path.join(ROOT, '.venv.lock');
const PY = process.platform === 'win32'
  ? path.join(VENV, 'Scripts', 'python.exe')
  : path.join(VENV, 'bin', 'python');

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
async function withLock(fn) {
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let age = 0;
      try { age = Date.now() - statSync(LOCK).mtimeMs; } catch { continue; }
      if (age > 20 * 60_000) { rmSync(LOCK, { recursive: true, force: true }); continue; }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK} (remove it if no install runs)`);
      await sleep(500);
    }
  }
  try { return await fn(); } finally { rmSync(LOCK, { recursive: true, force: true }); }
}

function sitePackages() {
  const r = spawnSync(PY, ['-c', "import sysconfig; print(sysconfig.get_paths()['purelib'])"], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`cannot query ${PY} for its site-packages: ${r.stderr || r.error}`);
  return r.stdout.trim();
}

function ensurePth() {
  const pth = path.join(sitePackages(), 'psrlm_reference.pth');
  const want = path.join(ROOT, 'reference') + '\n';
  if (!existsSync(pth) || readFileSync(pth, 'utf8') !== want) writeFileSync(pth, want);
}

/** Built from the current requirements, and its python still runs (a venv breaks if its base python goes). */
const fresh = () =>
  existsSync(PY) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === hashReqs() &&
  spawnSync(PY, ['-c', 'pass']).status === 0;

function hashReqs() {
  if (!existsSync(REQS)) throw new Error(`${REQS} is missing`);
  return createHash('sha256').update(readFileSync(REQS)).digest('hex');
}

/** Ensures .venv exists with reference/requirements.txt installed; returns the path of its python. */
export async function pythonEnv() {
  if (!fresh()) {
    await withLock(async () => {
      if (fresh()) return; // another process built it while we waited
      const py3 = findPython3();
      console.error('creating the Python reference environment (.venv) from reference/requirements.txt …');
      if (existsSync(PY) && spawnSync(PY, ['-c', 'pass']).status !== 0) rmSync(VENV, { recursive: true, force: true });
      if (!existsSync(PY)) run(py3, ['-m', 'venv', VENV], 'creating .venv');
      rmSync(STAMP, { force: true });
      run(PY, ['-m', 'pip', 'install', '--disable-pip-version-check', '-r', REQS], 'installing reference/requirements.txt');
      writeFileSync(STAMP, hashReqs() + '\n');
      console.error('the Python reference environment is ready (.venv)');
    });
  }
  ensurePth();
  return { python: PY };
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  pythonEnv().then(({ python }) => console.log(python), (e) => {
    console.error(`python-env: ${e.message}`);
    process.exit(1);
  });
}
