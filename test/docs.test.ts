// The repository reads on its own: no file of its docs, code, tests, benchmarks, scripts, reference, trainer or
// configs points outside the repository (a sibling `shared` folder, an absolute home or work path) or carries
// development history (numbered stops, one-off scripts, issue numbers, the development brief, builds that
// came before). Every relative Markdown link in README.md and docs/ names an existing file, every mention of
// a `docs/*.md` page names one that exists, and every section a citation names (`docs/method.md §5`,
// `docs/grading.md §2.3`, `docs/log.md, 2026-12-06`) is a heading of that page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCANNED = [
  'README.md',
  'docs',
  'src',
  'test',
  'bench',
  'scripts',
  'reference',
  'trainer',
  'configs',
  'data/README.md',
];
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', '__pycache__', '.pytest_cache', '.mypy_cache']);
const SKIP_EXT = new Set(['.wasm', '.safetensors', '.bin', '.png', '.jpg', '.pt', '.pyc']);

/** What must not appear, and why. The sources are written so that this list does not match itself. */
const FORBIDDEN: [RegExp, string][] = [
  [/\.\.\/shared\b/, 'a path to a folder outside the repository'],
  [/(?<![\w.~-])\/(?:work|home|Users)\/[\w.-]/, 'an absolute path outside the repository'],
  [/\bstop[- ]\d+\b/i, 'a numbered development stop'],
  [/\bthrow-?away\b/i, 'a one-off script that nobody can re-run'],
  [/\bissues? +#?\d+/i, 'an issue number'],
  [/\bissue\s*[:("'“]*\s*\[/i, 'an issue reference'],
  [/\bissue['’]s\b|\bissue[:]/i, 'an issue reference'],
  [/\[\d+ of \d+\b/, 'an issue title ("[n of m]")'],
  [/\b(?:by design of|in|of|per) the brief\b|[(]brief[:]/i, 'a reference to the development brief'],
  [/\bearlier[ ]builds?\b/i, 'development history (builds before this one)'],
  [/\bpaper[-]notes\b|\bgrading[-]reference\b|(?<!docs\/)\bmeasurements[.]md\b/, 'a document outside the repository'],
];

function walk(rel: string, out: string[]): void {
  const abs = path.join(ROOT, rel);
  if (!existsSync(abs)) return;
  const st = statSync(abs);
  if (st.isFile()) {
    if (!SKIP_EXT.has(path.extname(rel))) out.push(rel);
    return;
  }
  if (!st.isDirectory()) return;
  for (const name of readdirSync(abs).sort()) {
    if (SKIP_DIRS.has(name) || name.startsWith('.venv') || name.endsWith('.egg-info')) continue;
    walk(path.join(rel, name), out);
  }
}

/** Each forbidden match in `text` as `line: reason: excerpt`. */
export function findForbidden(text: string): string[] {
  const hits: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const [re, why] of FORBIDDEN) {
      const m = re.exec(line);
      if (m) hits.push(`${i + 1}: ${why}: ${JSON.stringify(line.slice(Math.max(0, m.index - 30), m.index + 50))}`);
    }
  });
  return hits;
}

function textFiles(): { rel: string; text: string }[] {
  const files: string[] = [];
  for (const rel of SCANNED) walk(rel, files);
  const out: { rel: string; text: string }[] = [];
  for (const rel of files) {
    const buf = readFileSync(path.join(ROOT, rel));
    if (buf.includes(0)) continue; // binary
    out.push({ rel, text: buf.toString('utf8') });
  }
  return out;
}

test('the patterns catch what they are for, and leave ordinary text alone', () => {
  // built by concatenation so that this file does not contain the phrases it forbids
  const bad = [
    'see ..' + '/shared/notes.md',
    'read /wo' + 'rk/shared/notes.md',
    'in /ho' + 'me/user/x',
    'at st' + 'op 19',
    'the st' + 'op-18 demo',
    'a throw' + 'away script',
    'issu' + 'e 9',
    'issu' + 'e "[' + '1 of 5]"',
    'the issu' + "e's shape",
    '(issu' + 'e: "serve")',
    'by design of the bri' + 'ef',
    'the earlier bui' + 'lds',
    '(paper' + '-notes §5)',
    'grading' + '-reference §2',
    '(measure' + 'ments.md §3)',
  ];
  for (const s of bad) assert.notDeepEqual(findForbidden(s), [], `not caught: ${s}`);
  const good = [
    'the search stops at a final step',
    'stop strings `</s>`',
    'Step 20: \\boxed{5}',
    'Be brief.',
    'issued prompts',
    'r.error.issues.map((i) => i.message)',
    'https://example.com/work/x',
    'github.com/QwenLM/Qwen2.5-Math/issues/50',
    'dist/test/x.js',
    'problem 375',
    'a one-off script outside the repository',
    '~/work/x',
  ];
  for (const s of good) assert.deepEqual(findForbidden(s), [], `wrongly caught: ${s}`);
});

test('no file points outside the repository or carries development history', () => {
  const files = textFiles();
  assert.ok(files.length > 100, `only ${files.length} files found under ${ROOT}: is ROOT right?`);
  const problems: string[] = [];
  for (const { rel, text } of files) for (const hit of findForbidden(text)) problems.push(`${rel}:${hit}`);
  const fix = "fix these (say it in the repository's own words; cite docs/ instead of outside files)";
  assert.deepEqual(problems, [], `${fix}:\n${problems.join('\n')}`);
});

test('relative Markdown links in README.md and docs/ resolve to existing files', () => {
  const docs = readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md'));
  const pages = ['README.md', ...docs.map((f) => `docs/${f}`)];
  const broken: string[] = [];
  let links = 0;
  for (const page of pages) {
    const text = readFileSync(path.join(ROOT, page), 'utf8');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue; // a URL or an anchor
      links++;
      const file = path.resolve(path.join(ROOT, path.dirname(page)), decodeURIComponent(target.replace(/[#?].*$/, '')));
      if (!existsSync(file)) broken.push(`${page}: ](${target}) -> ${path.relative(ROOT, file)} does not exist`);
    }
  }
  assert.ok(links > 0, 'no relative links found: the link pattern is wrong');
  assert.deepEqual(broken, []);
});

test('every docs/*.md a file names exists, and every cited section is a heading there', () => {
  const headings = (page: string): string[] =>
    readFileSync(path.join(ROOT, page), 'utf8')
      .split('\n')
      .filter((l) => /^#{1,4} /.test(l))
      .map((l) => l.replace(/^#+ /, ''));
  const missing: string[] = [];
  let citations = 0;
  for (const { rel, text } of textFiles()) {
    for (const m of text.matchAll(/\bdocs\/([\w-]+\.md)(?:[,\s]+§\s?(\d+(?:\.\d+)?)|,\s+(\d{4}-\d{2}-\d{2}))?/g)) {
      const page = `docs/${m[1]}`;
      if (!existsSync(path.join(ROOT, page))) {
        missing.push(`${rel}: ${page} does not exist`);
        continue;
      }
      const [section, date] = [m[2], m[3]];
      if (!section && !date) continue;
      citations++;
      const hs = headings(page);
      // "§2" is a heading "2. …" (or "2 …"); "§2.3" a heading "2.3 …"; a date is a heading that starts with it
      const ok = section
        ? hs.some((h) => h.startsWith(`${section}. `) || h.startsWith(`${section} `))
        : hs.some((h) => h.startsWith(date!));
      if (!ok) missing.push(`${rel}: ${page} has no heading for ${section ? `§${section}` : date}`);
    }
  }
  assert.ok(citations > 20, `only ${citations} section citations found: the citation pattern is wrong`);
  assert.deepEqual(missing, []);
});
