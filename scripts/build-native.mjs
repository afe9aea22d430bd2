// Builds the native kernels (native/: a Node-API addon in C++, AVX-512 and AVX2 copies chosen at run time)
// with node-gyp against this Node's own headers (--nodedir: nothing is downloaded), into native/build/.
// A build that cannot happen or fails is not an error: the engine keeps its WebAssembly kernels. This
// script then prints one line saying so, and records why in native/build/unavailable.txt, which the
// engine reports when the native path is asked for (src/engine/native.ts). The compiler's full output
// goes to native/build/build.log. Runs as part of `npm run build` (so `npm install`); make rebuilds only
// what changed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILD = path.join(ROOT, 'native', 'build');
const REASON = path.join(BUILD, 'unavailable.txt');
const LOG = path.join(BUILD, 'build.log');
const ADDON = path.join(BUILD, 'Release', 'psrlm_native.node');
const require = createRequire(import.meta.url);

function unavailable(reason) {
  mkdirSync(BUILD, { recursive: true });
  rmSync(ADDON, { force: true });
  writeFileSync(REASON, reason + '\n');
  console.error(`native kernels not built: ${reason}; the engine uses its WebAssembly kernels`);
  process.exit(0);
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  unavailable(`they are built for x86-64 Linux only (this is ${process.platform}-${process.arch})`);
}
const nodedir = path.resolve(path.dirname(process.execPath), '..');
if (!existsSync(path.join(nodedir, 'include', 'node', 'node_api.h'))) {
  const inc = path.join(nodedir, 'include', 'node');
  unavailable(`Node's headers are not in ${inc} (install your distribution's Node development package)`);
}
let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  unavailable('node-gyp is missing (it is a dev dependency: run npm install)');
}

mkdirSync(BUILD, { recursive: true });
const verb = existsSync(path.join(BUILD, 'Makefile')) ? 'build' : 'rebuild';
const args = [gyp, verb, '--directory', path.join(ROOT, 'native'), `--nodedir=${nodedir}`, '--jobs=2'];
const r = spawnSync(process.execPath, args, {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'pipe'],
});
writeFileSync(LOG, (r.stdout ?? '') + (r.stderr ?? '') + (r.error ? String(r.error) : ''));
if (r.status !== 0) {
  const lines = ((r.stderr ?? '') + (r.stdout ?? '')).split('\n');
  const err = lines.find((l) => /error|not found|No such/i.test(l)) ?? `node-gyp exited with ${r.status}`;
  unavailable(`the build failed (${err.trim().slice(0, 160)}); see native/build/build.log`);
}
try {
  require(ADDON).info();
} catch (e) {
  unavailable(`the addon does not run here: ${e instanceof Error ? e.message : String(e)}`);
}
rmSync(REASON, { force: true });
