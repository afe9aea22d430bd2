// The folders of src/ import one way, from the command line down to the utilities, never back up and never
// in a circle. LAYERS below is the one declaration of that order (README.md "Layout" shows it): a folder may
// import folders of lower layers only, and folders of one layer do not import each other. The test reads
// every import of src/**/*.ts (static, `import type`, `export ... from` and `import()`) with the TypeScript
// scanner, builds the graph of folders, and fails on a cycle, on an import against the order, and on a
// folder that is in no layer. The checks are run on made-up graphs too, so they are known to fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The layers of src/, lowest first. */
export const LAYERS: readonly (readonly string[])[] = [
  ['util'], // atomic writes, progress bars, resumable JSONL files
  ['engine', 'world'], // the embedded model; the synthetic math world
  ['serve', 'eval'], // the server, remote engines and engine specs; answer grading and benchmarks
  ['data'], // templates and the data built from the world
  ['judge'], // pairwise self-judging
  ['search'], // step-wise search and its preference pairs
  ['measure'], // solve, judge, next-step and test-time-scaling reports on the world
  ['train'], // SFT, step-wise DPO and the trainer's config
  ['run'], // resumable runs of the method, reports
  ['cli'], // the psrlm command line
];

/** folder -> folder it imports -> where ("file: specifier"). Imports within a folder are left out. */
export type FolderGraph = Map<string, Map<string, string[]>>;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC = path.join(ROOT, 'src');

/** The module specifiers a TypeScript source imports, in order (comments and strings are not read). */
export function importsOf(source: string): string[] {
  return ts.preProcessFile(source, true, false).importedFiles.map((f) => f.fileName);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The folder graph of src/ and the folders found there. */
export function srcGraph(): { folders: string[]; graph: FolderGraph } {
  const graph: FolderGraph = new Map();
  const folders = readdirSync(SRC, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  for (const file of sourceFiles(SRC)) {
    const rel = path.relative(SRC, file);
    const from = rel.split(path.sep)[0]!;
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue; // a package
      const target = path.relative(SRC, path.resolve(path.dirname(file), spec));
      const to = target.split(path.sep)[0]!;
      if (to === '..' || to === from) continue;
      if (!graph.has(from)) graph.set(from, new Map());
      const edges = graph.get(from)!;
      edges.set(to, [...(edges.get(to) ?? []), `src/${rel.split(path.sep).join('/')}: '${spec}'`]);
    }
  }
  return { folders, graph };
}

/** Folder sets that import each other in a circle (strongly connected components of more than one folder). */
export function folderCycles(graph: FolderGraph): string[][] {
  const nodes = new Set([...graph.keys(), ...[...graph.values()].flatMap((m) => [...m.keys()])]);
  const index = new Map<string, number>(),
    low = new Map<string, number>();
  const stack: string[] = [],
    onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of [...nodes].sort()) if (!index.has(v)) visit(v);
  return out;
}

/** Every import that does not run down `layers`, and every folder that is in no layer or in two. */
export function layerViolations(
  graph: FolderGraph,
  folders: readonly string[],
  layers: readonly (readonly string[])[],
): string[] {
  const level = new Map<string, number>();
  const out: string[] = [];
  layers.forEach((names, i) =>
    names.forEach((f) => {
      if (level.has(f)) out.push(`${f} is declared in two layers`);
      level.set(f, i);
    }),
  );
  for (const f of new Set([...folders, ...graph.keys()])) {
    if (level.has(f)) continue;
    out.push(`src/${f} is in no layer: add it to LAYERS in test/layers.test.ts and to README.md "Layout"`);
  }
  for (const [from, edges] of graph) {
    for (const [to, where] of edges) {
      const a = level.get(from),
        b = level.get(to);
      if (a === undefined || b === undefined || b < a) continue;
      const how = b === a ? 'its own layer' : 'a higher layer';
      out.push(`${from} imports ${to} (${how}), against the layer order: ${where.join('; ')}`);
    }
  }
  return out;
}

const graphOf = (edges: Record<string, string[]>): FolderGraph =>
  new Map(Object.entries(edges).map(([from, tos]) => [from, new Map(tos.map((to) => [to, [`${from}.ts`]]))]));

test('the import reader finds static, type-only, re-exported and dynamic imports, not comments or strings', () => {
  const src = [
    "import { a } from './a.js';",
    "import type { B } from '../b/b.js';",
    "export { c } from './c.js';",
    "export * from '../d/d.js';",
    "import 'node:fs';",
    "// import { no } from '../commented.js';",
    'const s = "import x from \'../in-a-string.js\'";',
    "async function f() { const { e } = await import('../e/e.js'); return e; }",
  ].join('\n');
  assert.deepEqual(importsOf(src), ['./a.js', '../b/b.js', './c.js', '../d/d.js', 'node:fs', '../e/e.js']);
});

test('the checks fail on a made-up cycle, an upward import, an import within a layer and an undeclared folder', () => {
  const cyclic = graphOf({ a: ['b'], b: ['c'], c: ['a'], d: ['a'] });
  assert.deepEqual(folderCycles(cyclic), [['a', 'b', 'c']]);
  assert.deepEqual(folderCycles(graphOf({ a: ['b'], b: [], c: ['a', 'b'] })), []);
  const v = layerViolations(cyclic, ['a', 'b', 'c', 'd'], [['a'], ['b'], ['c', 'd']]);
  assert.equal(v.length, 2, v.join('\n'));
  assert.match(v[0]!, /^a imports b \(a higher layer\)/);
  assert.match(v[1]!, /^b imports c \(a higher layer\)/);
  assert.match(layerViolations(graphOf({ c: ['d'] }), ['c', 'd'], [['c', 'd']])[0]!, /^c imports d \(its own layer\)/);
  assert.match(layerViolations(graphOf({ a: [] }), ['a', 'e'], [['a']])[0]!, /^src\/e is in no layer/);
  assert.deepEqual(layerViolations(graphOf({ b: ['a'], c: ['a', 'b'] }), ['a', 'b', 'c'], [['a'], ['b'], ['c']]), []);
});

test('src/ folders import one way: no cycle between folders, every import down the declared layers', () => {
  const { folders, graph } = srcGraph();
  assert.ok(folders.length >= 10 && graph.size >= 8, `read only ${folders.length} folders, ${graph.size} importing`);
  const cycles = folderCycles(graph);
  const circles = cycles.map((c) => c.join(' <-> ')).join(', ');
  assert.deepEqual(cycles, [], `folders importing each other in a circle: ${circles}`);
  const v = layerViolations(graph, folders, LAYERS);
  assert.deepEqual(v, [], v.join('\n'));
});
