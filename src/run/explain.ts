// `psrlm explain`: one question's step tree from a run's search records (iter-t/samples.jsonl), as a
// person reads it: for every round the step and attempt, each distinct candidate with its copies, its
// wins and who it beat in which order, what the search did (appended best / rolled back / accepted an
// identical step), and — marked as measurement, never used by the search — the verifier's verdict.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { readJsonl } from '../data/schema.js';
import type { RoundRecord, SearchRecord } from '../search/search.js';
import { canonicalStep } from '../judge/tournament.js';

/** Every iteration directory's records for question `index` (train-split index), in iteration order. */
export function findRecords(runDir: string, index: number): Array<{ iteration: number; record: SearchRecord }> {
  if (!existsSync(runDir)) throw new Error(`explain: no run directory at ${runDir}`);
  const iters = readdirSync(runDir)
    .map((d) => /^iter-(\d+)$/.exec(d))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  const out: Array<{ iteration: number; record: SearchRecord }> = [];
  for (const it of iters) {
    const f = path.join(runDir, `iter-${it}`, 'samples.jsonl');
    if (!existsSync(f)) continue;
    for (const r of readJsonl<SearchRecord>(f)) if (r.index === index) out.push({ iteration: it, record: r });
  }
  return out;
}

const mark = (ok: boolean | undefined) => (ok === undefined ? ' ' : ok ? '✓' : '✗');

function roundLines(r: RoundRecord): string[] {
  const lines: string[] = [];
  const action = r.action === 'accept' ? `appended candidate ${r.best}` : r.action.replace(/_/g, ' ');
  const tied =
    r.tied && r.action !== 'accept' && r.action !== 'accept_identical' ? ' — all distinct candidates tied' : '';
  lines.push(`  step ${r.step} (attempt ${r.attempt}): ${action}${tied}`);
  const reps = r.rep.map((x, i) => (x === i ? i : -1)).filter((i) => i >= 0);
  for (const i of reps) {
    const copies = r.rep.filter((x) => x === i).length;
    const beat = r.judgments
      .filter(([a, b, v]) => (v === 'A' && a === i) || (v === 'B' && b === i))
      .map(([a, b]) => (a === i ? `${b} (as A)` : `${a} (as B)`));
    const tag = i === r.best ? ' best' : i === r.worst ? ' worst' : '';
    lines.push(
      `    [${i}]${copies > 1 ? ` ×${copies}` : ''} ${mark(r.measure?.candidates_ok[i])} ` +
        `${canonicalStep(r.candidates[i]!)}  — wins ${r.wins[i]}` +
        `${beat.length ? `, beat ${beat.join(', ')}` : ''}${tag}`,
    );
  }
  const fails = r.judgments.filter(([, , v]) => v === null).length;
  if (fails) lines.push(`    (${fails} unparsable verdicts)`);
  return lines;
}

export function explainRecord(iteration: number, rec: SearchRecord): string {
  const lines = [
    `iteration ${iteration}, question ${rec.index}: ${rec.problem}`,
    `  outcome ${rec.outcome}; ${rec.steps.length} accepted steps; ${rec.pairs.length} pairs; ` +
      `${rec.rollbacks} rollbacks; ${rec.judge_prompts} judge prompts (${rec.judge_prompts_saved} saved by merging)`,
  ];
  for (const r of rec.rounds) lines.push(...roundLines(r));
  lines.push('  accepted solution:', ...rec.steps.map((s, i) => `    Step ${i + 1}: ${s}`));
  lines.push('  (✓/✗: the world verifier, measured after the fact; the search never sees it)');
  return lines.join('\n');
}
