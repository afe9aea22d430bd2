// The source tree is in the formatter's style: Prettier (pinned in package.json, settings in .prettierrc.json,
// exclusions in .prettierignore) reports no file to reformat, and no line of the TypeScript and JavaScript
// sources is longer than the print width. Prettier leaves long strings and comments as they are, so the
// width is checked here as well. `npm run format` rewrites the tree; long strings are split by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './reference/env.js';

const WIDTH = (JSON.parse(readFileSync(path.join(ROOT, '.prettierrc.json'), 'utf8')) as { printWidth: number })
  .printWidth;
const PRETTIER = path.join(ROOT, 'node_modules', 'prettier', 'bin', 'prettier.cjs');

/** The tracked sources the formatter owns: what `git ls-files` lists, less what .prettierignore excludes. */
function sources(): string[] {
  const ls = spawnSync('git', ['ls-files', '*.ts', '*.mjs', '*.js'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(ls.status, 0, `git ls-files failed: ${ls.stderr}`);
  const files = ls.stdout.split('\n').filter(Boolean);
  const check = spawnSync(process.execPath, [PRETTIER, '--file-info', 'package.json'], { cwd: ROOT });
  assert.equal(check.status, 0, 'prettier is not installed: run npm ci');
  const ignored = readFileSync(path.join(ROOT, '.prettierignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && l.startsWith('/') && l.endsWith('/'))
    .map((l) => l.slice(1));
  return files.filter((f) => !ignored.some((dir) => f.startsWith(dir)));
}

test('prettier --check passes on the sources', () => {
  const files = sources();
  assert.ok(files.length > 100, `expected the project's sources, found ${files.length} files`);
  const r = spawnSync(process.execPath, [PRETTIER, '--check', ...files], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `files not in Prettier's style (fix with: npm run format):\n${r.stdout}${r.stderr}`);
});

test(`no source line is longer than the print width`, () => {
  const long: string[] = [];
  for (const f of sources()) {
    readFileSync(path.join(ROOT, f), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (line.length > WIDTH) long.push(`${f}:${i + 1} (${line.length} characters)`);
      });
  }
  assert.deepEqual(long, [], `lines over ${WIDTH} characters: split the string or rewrap the comment`);
});

test('prettier --check fails on an unformatted input (the check above can fail)', () => {
  const r = spawnSync(process.execPath, [PRETTIER, '--check', '--stdin-filepath', 'x.ts'], {
    cwd: ROOT,
    input: 'const a = {b:1}\n',
    encoding: 'utf8',
  });
  assert.notEqual(r.status, 0, 'prettier --check accepted an unformatted input');
});
