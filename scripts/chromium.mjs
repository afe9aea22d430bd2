// Ensures the headless Chromium that the report test drives (test/run/report.test.ts): Debian's `chromium`
// package, with a font (`fonts-dejavu-core`) so that text has real metrics for the label-overlap checks.
// `npm test` calls it before any test runs (scripts/test.mjs), as scripts/python-env.mjs provides the
// Python environments: npm cannot install a browser, and a test must not skip for want of one.
//   found      PSRLM_CHROMIUM if set (it must be an executable), else `chromium` on PATH
//   missing    installed with apt-get, loudly, when this user may (root, or sudo without a password);
//              otherwise an error that names the one command to run
//
//   import { ensureChromium } from './scripts/chromium.mjs'; const path = ensureChromium();
//   node scripts/chromium.mjs     # installs when needed, prints Chromium's path
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const PACKAGES = ['chromium', 'fonts-dejavu-core'];
const APT_INSTALL = ['install', '-y', '-qq', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=300'];
const HINT = `sudo apt-get install -y --no-install-recommends ${PACKAGES.join(' ')}`;

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first executable `name` on the PATH of `env`, or undefined. */
export function which(name, env = process.env) {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir && executable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/** Chromium's path, or undefined when it is not installed. A PSRLM_CHROMIUM that is not an executable is
 *  an error: the user asked for that browser, and silently taking another would hide the mistake. */
export function findChromium(env = process.env) {
  const chosen = env.PSRLM_CHROMIUM;
  if (chosen) {
    if (!executable(chosen)) {
      throw new Error(
        `PSRLM_CHROMIUM=${chosen} is not an executable file: point it at a Chromium binary, or ` +
          'unset it to use `chromium` from PATH',
      );
    }
    return chosen;
  }
  return which('chromium', env);
}

/** Debian packages of PACKAGES that dpkg does not list as installed (none where dpkg is absent). */
function missingPackages(env, chromium) {
  const dpkgQuery = which('dpkg-query', env);
  if (!dpkgQuery) return chromium ? [] : PACKAGES;
  return PACKAGES.filter((p) => {
    if (p === 'chromium') return !chromium; // any working Chromium will do, packaged or not
    const r = spawnSync(dpkgQuery, ['-W', '-f=${Status}', p], { env, encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

/** How this user may run apt-get as root: [] when root, ['sudo', '-n'] with passwordless sudo, else null. */
function rootPrefix(env, uid) {
  if (uid === 0) return [];
  const sudo = which('sudo', env);
  if (sudo && spawnSync(sudo, ['-n', 'true'], { env, stdio: 'ignore' }).status === 0) return [sudo, '-n'];
  return null;
}

function run(argv, env, what) {
  const r = spawnSync(argv[0], argv.slice(1), {
    env: { ...env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', process.stderr, process.stderr],
  });
  if (r.error) throw new Error(`${what}: could not run ${argv[0]}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(
      `${what}: '${argv.join(' ')}' exited with status ${r.status}. Install the packages ` + `yourself: ${HINT}`,
    );
  }
}

/**
 * Chromium's path, installing Chromium (and the font) first when they are missing and this user may.
 * `uid` and `log` are parameters so that tests can play an unprivileged user against a fake PATH.
 */
export function ensureChromium({ env = process.env, uid = process.getuid?.(), log = (s) => console.error(s) } = {}) {
  const chromium = findChromium(env);
  const missing = missingPackages(env, chromium);
  if (missing.length === 0) return chromium;
  const why =
    `the report test (test/run/report.test.ts) drives a headless Chromium, and ${missing.join(', ')} ` +
    `${missing.length > 1 ? 'are' : 'is'} not installed`;
  const aptGet = which('apt-get', env);
  if (!aptGet) {
    if (chromium) {
      log(`warning: ${missing.join(', ')} not installed and this system has no apt-get; going on with ${chromium}`);
      return chromium;
    }
    throw new Error(
      'the report test (test/run/report.test.ts) drives a headless Chromium, and none was found ' +
        '(PSRLM_CHROMIUM is unset and no `chromium` is on PATH). This system has no apt-get: install Chromium with ' +
        "its package manager (e.g. 'brew install --cask chromium', 'dnf install chromium') and put `chromium` on " +
        'PATH or set PSRLM_CHROMIUM to its binary, then run again.',
    );
  }
  const prefix = rootPrefix(env, uid);
  if (!prefix) throw new Error(`${why}, and this user is not root and has no password-free sudo. Run once: ${HINT}`);
  const t0 = Date.now();
  log(`=== installing ${missing.join(', ')} with apt-get${prefix.length ? ' through sudo' : ''}: ${why} ===`);
  run([...prefix, aptGet, 'update', '-qq'], env, 'apt-get update');
  run([...prefix, aptGet, ...APT_INSTALL, ...missing], env, `apt-get install ${missing.join(' ')}`);
  const installed = findChromium(env);
  if (!installed) {
    throw new Error(
      `apt-get installed ${missing.join(', ')} but no \`chromium\` is on PATH (${env.PATH}): set ` +
        'PSRLM_CHROMIUM to the Chromium binary',
    );
  }
  const took = ((Date.now() - t0) / 1000).toFixed(0);
  log(`=== installed ${missing.join(', ')} in ${took} s; Chromium is ${installed} ===`);
  return installed;
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  try {
    console.log(ensureChromium());
  } catch (e) {
    console.error(`chromium: ${e.message}`);
    process.exit(1);
  }
}
