// Why the SRLM baseline's self-scores go unparsed: for every scored solution of an SRLM run
// (iter-*/samples.jsonl), its number of steps, the share of its scorings with no `Score: k` (null), and how
// many tokens the model's context leaves for the scoring explanation after the scoring prompt (the prompt
// holds the whole solution). The world's scorer explains with one check line per step before the score
// (src/data/score.ts), so a long solution can need more room than the context has left; the generation then
// stops at the context's end, before `Score:`. Reads the run's files and tokenizes; generates nothing.
//
//   node dist/bench/srlm-score-room.js <srlm run dir> [--model DIR]   (default: the run's starting model)
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadTemplate } from '../src/data/templates.js';
import { renderScorePrompt } from '../src/data/score.js';
import { EmbeddedEngine } from '../src/engine/embedded.js';

interface Scored {
  text: string;
  scores: Array<number | null>;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith('--'));
  const mi = args.indexOf('--model');
  if (!dir || !existsSync(path.join(dir, 'manifest.json'))) {
    console.error('usage: node dist/bench/srlm-score-room.js <srlm run dir> [--model DIR]');
    process.exit(2);
  }
  const man = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
    config: { method: string; model: string; template: string };
  };
  if (man.config.method !== 'srlm') {
    console.error(`${dir} is a ${man.config.method} run; this reads an SRLM run's self-scores`);
    process.exit(2);
  }
  const e = EmbeddedEngine.load(mi >= 0 ? args[mi + 1]! : man.config.model, { threads: 1 });
  const t = loadTemplate(man.config.template);
  const rows = new Map<number, { solutions: number; scorings: number; nulls: number; room: number }>();
  try {
    for (let it = 1; existsSync(path.join(dir, `iter-${it}`, 'samples.jsonl')); it++) {
      const lines = readFileSync(path.join(dir, `iter-${it}`, 'samples.jsonl'), 'utf8').split('\n');
      for (const line of lines.filter(Boolean)) {
        const q = JSON.parse(line) as { problem: string; solutions: Scored[] };
        for (const s of q.solutions) {
          const steps = (s.text.match(/^Step \d+:/gm) ?? []).length;
          const r = rows.get(steps) ?? { solutions: 0, scorings: 0, nulls: 0, room: 0 };
          r.solutions++;
          r.room += e.config.n_ctx - e.tokenize(renderScorePrompt(t, q.problem, s.text)).length;
          r.scorings += s.scores.length;
          r.nulls += s.scores.filter((x) => x === null).length;
          rows.set(steps, r);
        }
      }
    }
  } finally {
    await e.close();
  }
  console.log(`context ${e.config.n_ctx} tokens`);
  console.log('| steps | solutions | scorings unparsed | mean tokens left for the explanation |');
  console.log('|---|---|---|---|');
  for (const [k, r] of [...rows].sort((a, b) => a[0] - b[0])) {
    const share = ((100 * r.nulls) / Math.max(1, r.scorings)).toFixed(0);
    console.log(
      `| ${k} | ${r.solutions} | ${r.nulls} / ${r.scorings} (${share}%) | ${(r.room / r.solutions).toFixed(0)} |`,
    );
  }
}

await main();
