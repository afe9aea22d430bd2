// Two finished runs on the synthetic world compared model by model, with paired bootstrap 95% intervals on the
// same problems (src/run/compare.ts): for each model name both runs have (M1, M2, …), B − A on test and on
// harder-test, and each run's own last model − M1. For loop options and variants measured against the
// default: `dpo.replay` against none, one SRLM scorer against another, two seeds of the same config.
//
//   node dist/bench/compare-runs.js <run A> <run B> [--json]
import { existsSync } from 'node:fs';
import path from 'node:path';
import { formatPaired, type PairedDiff } from '../src/measure/paired.js';
import { comparePaired, runEvals, SPLITS, type EvalResults } from '../src/run/compare.js';

type Row = { what: string; test: PairedDiff | null; harder: PairedDiff | null };

function main(): void {
  const args = process.argv.slice(2);
  const [a, b] = args.filter((x) => !x.startsWith('--'));
  if (!a || !b || ![a, b].every((d) => existsSync(path.join(d, 'baseline', 'eval.json')))) {
    console.error('usage: node dist/bench/compare-runs.js <run A> <run B> [--json]  (two run directories)');
    process.exit(2);
  }
  const ea = runEvals(a),
    eb = runEvals(b);
  const row = (x: EvalResults, y: EvalResults, what: string): Row => ({
    what,
    test: comparePaired(x, y, 'test', what),
    harder: comparePaired(x, y, 'harder', what),
  });
  const rows: Row[] = [];
  const byName = new Map(ea.map((m) => [m.model, m]));
  for (const m of eb) {
    const x = byName.get(m.model);
    if (x) rows.push(row(x, m, `B ${m.model} − A ${m.model}`));
  }
  for (const [name, ev] of [
    ['A', ea],
    ['B', eb],
  ] as const) {
    if (ev.length > 1) rows.push(row(ev[0]!, ev[ev.length - 1]!, `${name} ${ev[ev.length - 1]!.model} − ${name} M1`));
  }
  if (args.includes('--json')) {
    console.log(JSON.stringify({ a, b, rows }));
    return;
  }
  console.log(`A = ${a}\nB = ${b}\n`);
  console.log(`| comparison | ${SPLITS.join(' | ')} |\n|---|---|---|`);
  const cell = (d: PairedDiff | null) => (d ? `${formatPaired(d)} (n ${d.n}; +${d.b_only} −${d.a_only})` : '–');
  for (const r of rows) console.log(`| ${r.what} | ${cell(r.test)} | ${cell(r.harder)} |`);
}

main();
