// `npm test` after `npm run build`: provides what the tests need that `npm install` cannot (Chromium for
// the report test, scripts/chromium.mjs; the Python environments are built by the tests that use them,
// scripts/python-env.mjs), then runs the compiled test files (dist/test/**/*.test.js) one at a time.
//
//   npm test                                every test file
//   npm test -- eval/grade run              a subset: test files or folders under test/, named without
//   PSRLM_TESTS=eval/grade,run npm test       ".test.ts" (test/eval/grade.test.ts is eval/grade)
//   npm test -- --test-name-pattern=DPO     arguments that start with "--" go to node's test runner
//
// Chromium is provided whatever the subset, so that any run of `npm test` checks the machine's set-up.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureChromium } from './chromium.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist', 'test');
const SUFFIX = '.test.js';

/** Test files under dist/test as names relative to it, without the suffix (e.g. "eval/grade"). */
function testNames(dir = DIST, prefix = '') {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...testNames(path.join(dir, e.name), `${prefix}${e.name}/`));
    else if (e.name.endsWith(SUFFIX)) out.push(prefix + e.name.slice(0, -SUFFIX.length));
  }
  return out.sort();
}

/** A filter as the user may write it ("test/eval/grade.test.ts", "eval/grade", "eval/") in canonical form. */
function canonical(filter) {
  return filter
    .replaceAll('\\', '/')
    .replace(/^(\.\/)?(dist\/)?test\//, '')
    .replace(/\.test\.[cm]?[jt]s$/, '')
    .replace(/\/+$/, '');
}

/** The selected test names: all of them, or those each filter names (a file, or every file in a folder). */
function selectTests(all, filters) {
  if (filters.length === 0) return all;
  const chosen = new Set();
  for (const raw of filters) {
    const f = canonical(raw);
    const hits = all.filter((n) => f === '' || n === f || n.startsWith(`${f}/`));
    if (hits.length === 0) {
      const folders = [...new Set(all.map((n) => n.split('/')[0]))].join(', ');
      throw new Error(
        `no test file or folder '${raw}' under test/ (folders: ${folders}; a file is named like ` +
          "'eval/grade' for test/eval/grade.test.ts)",
      );
    }
    for (const h of hits) chosen.add(h);
  }
  return all.filter((n) => chosen.has(n));
}

function main() {
  const args = process.argv.slice(2);
  const nodeArgs = args.filter((a) => a.startsWith('--'));
  const filters = [
    ...args.filter((a) => !a.startsWith('--')),
    ...(process.env.PSRLM_TESTS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run 'npm run build' first (npm test does)`);
  const names = selectTests(testNames(), filters);
  const chromium = ensureChromium();
  if (filters.length > 0) console.error(`running ${names.length} test file(s): ${names.join(' ')}`);
  const r = spawnSync(
    process.execPath,
    ['--test', '--test-concurrency=1', ...nodeArgs, ...names.map((n) => path.join(DIST, n + SUFFIX))],
    { cwd: ROOT, stdio: 'inherit', env: { ...process.env, PSRLM_CHROMIUM: chromium } },
  );
  if (r.error) throw r.error;
  return r.status ?? 1;
}

try {
  process.exitCode = main();
} catch (e) {
  console.error(`npm test: ${e.message}`);
  process.exitCode = 1;
}
