// The README's set-up commands on a fresh clone, in their order: a `git clone` of this repository's HEAD
// (committed work only, as anyone else would get it) into a temporary folder, `npm ci` there (npm's cache
// makes it quick), `npx psrlm --help`, `npm test` restricted to one small test file through PSRLM_TESTS
// (the whole suite cannot run inside itself; the subset still builds dist/ from scratch and provides
// Chromium), and `npx psrlm --help` again. The first npx links the project's bin into npx's cache (and
// npm runs `prepare` for it); the second reuses that link, so it runs only if the rebuild in `npm test`
// left the CLI's entry executable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../reference/env.js';

const SUBSET = 'setup/chromium';

/** The environment of a fresh shell: none of the variables that npm and node's test runner set for this
 *  process (NODE_TEST_CONTEXT would make the inner test runner report in its binary child format), and no
 *  node_modules/.bin of this checkout on PATH. */
function freshEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) && !['INIT_CWD', 'NODE_TEST_CONTEXT', 'PSRLM_TESTS'].includes(k)) env[k] = v;
  }
  const dirs = (process.env.PATH ?? '').split(path.delimiter);
  env.PATH = dirs.filter((d) => !d.includes('node_modules')).join(path.delimiter);
  return env;
}

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  console.log(`# ${cmd} ${args.join(' ')}: exit ${r.status} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  if (r.error) assert.fail(`could not run ${cmd}: ${r.error.message}`);
  return r;
}

const tail = (r: SpawnSyncReturns<string>) => `${r.stdout}\n${r.stderr}`.slice(-4000);

test('a fresh clone: npm ci, npx psrlm --help, npm test (a subset), npx psrlm --help', { timeout: 600_000 }, () => {
  const git = spawnSync('git', ['--version'], { encoding: 'utf8' });
  assert.ok(
    !git.error && git.status === 0,
    'git is needed to clone the repository for this test: install git (e.g. apt-get install git)',
  );
  const head = spawnSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
  assert.equal(
    head.status,
    0,
    `${ROOT} is not a git checkout with a commit, so there is nothing to clone: ` + head.stderr,
  );
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-clone-'));
  const repo = path.join(dir, 'psrlm');
  const env = freshEnv();
  // npx links the project into a cache of its own; keep that in the temporary folder, not the user's.
  const npxEnv = { ...env, npm_config_cache: path.join(dir, 'npx-cache') };
  try {
    let r = sh('git', ['clone', '--quiet', '--no-checkout', ROOT, repo], dir, env);
    assert.equal(r.status, 0, tail(r));
    r = sh('git', ['checkout', '--quiet', head.stdout.trim()], repo, env);
    assert.equal(r.status, 0, tail(r));

    r = sh('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], repo, env);
    assert.equal(r.status, 0, `npm ci failed:\n${tail(r)}`);

    r = sh('npx', ['psrlm', '--help'], repo, npxEnv);
    assert.equal(r.status, 0, `npx psrlm --help failed after npm ci:\n${tail(r)}`);
    assert.match(r.stdout, /^usage: psrlm <command>/);

    r = sh('npm', ['test'], repo, { ...env, PSRLM_TESTS: SUBSET });
    assert.equal(r.status, 0, `npm test failed:\n${tail(r)}`);
    assert.match(r.stderr, new RegExp(`running 1 test file\\(s\\): ${SUBSET}`), 'the subset was selected');
    assert.match(r.stdout, /^# pass [1-9]/m);
    assert.match(r.stdout, /^# fail 0$/m);

    const entry = path.join(repo, 'dist', 'src', 'cli', 'main.js');
    assert.ok((statSync(entry).mode & 0o111) !== 0, `${entry} lost its executable bit in the rebuild`);
    r = sh('npx', ['psrlm', '--help'], repo, npxEnv);
    assert.equal(r.status, 0, `npx psrlm --help failed after npm test:\n${tail(r)}`);
    assert.match(r.stdout, /^usage: psrlm <command>/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
