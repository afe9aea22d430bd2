// Merged against unmerged scoring of a step's candidates (paper §3.3, eq. 2), measured on the rounds a run's
// search recorded. The search merges identical candidates before judging (src/judge/tournament.ts): a step
// sampled three times is judged once and counts once as every other candidate's opponent. Eq. 2 read
// literally sums a candidate's wins over all w − 1 others, so a step sampled m times would (a) count m times
// as an opponent and (b) meet its own copies, where a judge comparing a step with itself has nothing to prefer:
// both orders give one win each, in expectation, so (b) adds m − 1 to each copy.
//
// For every judged round of `iter-*/samples.jsonl` this recomputes the scores as eq. 2 would from the same
// verdicts (no judge call is repeated; verdicts between identical copies are taken at that expectation) and
// compares the two rules' decisions: all tied (roll back) or not; the set of best steps and of worst steps;
// and, where the world's verifier recorded whether each candidate is right (`measure`, measurement only), the
// expected share of right chosen steps and of pairs with a right chosen and a wrong rejected step (equal
// maxima and minima are broken by a uniform draw in both rules, as the search breaks them).
//
//   node dist/bench/merge-weighting.js <run dir> [--json]
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RoundRecord, SearchRecord } from '../src/search/search.js';

interface Decision {
  tied: boolean;
  best: number[];
  worst: number[];
}

/** The search's rule: wins over distinct steps (representatives), as recorded. */
function merged(r: RoundRecord): Decision {
  const uniq = r.rep.map((x, i) => (x === i ? i : -1)).filter((i) => i >= 0);
  const ws = uniq.map((i) => r.wins[i]!);
  const hi = Math.max(...ws),
    lo = Math.min(...ws);
  return { tied: hi === lo, best: uniq.filter((i) => r.wins[i] === hi), worst: uniq.filter((i) => r.wins[i] === lo) };
}

/** Eq. 2 over all w candidates from the same verdicts: a representative's wins over another count once per
 *  copy of the other; a copy meets its own m − 1 copies at one win each (the expectation of both orders). */
function unmerged(r: RoundRecord): Decision {
  const w = r.candidates.length;
  const mult = new Array<number>(w).fill(0);
  for (const x of r.rep) mult[x]!++;
  const winsOver = new Map<string, number>(); // `${winner},${loser}` between representatives
  for (const [a, b, v] of r.judgments) {
    if (v === null) continue;
    const [win, lose] = v === 'A' ? [a, b] : [b, a];
    winsOver.set(`${win},${lose}`, (winsOver.get(`${win},${lose}`) ?? 0) + 1);
  }
  const score = r.rep.map((ri) => {
    let s = mult[ri]! - 1;
    for (let u = 0; u < w; u++) if (mult[u]! > 0 && u !== ri) s += mult[u]! * (winsOver.get(`${ri},${u}`) ?? 0);
    return s;
  });
  const hi = Math.max(...score),
    lo = Math.min(...score);
  // the chosen step is a candidate; copies are the same step, so sets are kept as representatives
  const reps = (val: number) => [...new Set(r.rep.filter((_, i) => score[i] === val))];
  return { tied: hi === lo, best: reps(hi), worst: reps(lo) };
}

interface Counts {
  iteration: number;
  judged_rounds: number;
  /** Judged rounds where some step was sampled more than once. */
  with_duplicates: number;
  tie_decision_differs: number;
  best_differs: number;
  worst_differs: number;
  /** Rounds decided by both rules whose candidates the verifier measured; the expectations below sum over them. */
  measured_rounds: number;
  chosen_right: { merged: number; unmerged: number };
  pair_right: { merged: number; unmerged: number };
}

const same = (a: number[], b: number[]) => a.length === b.length && a.every((x) => b.includes(x));
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

function main(): void {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith('--'));
  const json = args.includes('--json');
  if (!dir || !existsSync(dir)) {
    console.error(
      'usage: node dist/bench/merge-weighting.js <run dir> [--json]   (a psrlm run with iter-*/samples.jsonl)',
    );
    process.exit(2);
  }
  const rows: Counts[] = [];
  for (let t = 1; existsSync(path.join(dir, `iter-${t}`, 'samples.jsonl')); t++) {
    const c: Counts = {
      iteration: t,
      judged_rounds: 0,
      with_duplicates: 0,
      tie_decision_differs: 0,
      best_differs: 0,
      worst_differs: 0,
      measured_rounds: 0,
      chosen_right: { merged: 0, unmerged: 0 },
      pair_right: { merged: 0, unmerged: 0 },
    };
    const lines = readFileSync(path.join(dir, `iter-${t}`, 'samples.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean);
    for (const line of lines) {
      const rec = JSON.parse(line) as SearchRecord;
      for (const r of rec.rounds) {
        if (!r.judgments?.length) continue; // all candidates identical, or no judging
        c.judged_rounds++;
        if (new Set(r.rep).size < r.rep.length) c.with_duplicates++;
        const m = merged(r),
          u = unmerged(r);
        if (m.tied !== u.tied) c.tie_decision_differs++;
        if (!m.tied && !u.tied) {
          if (!same(m.best, u.best)) c.best_differs++;
          if (!same(m.worst, u.worst)) c.worst_differs++;
        }
        const ok = r.measure?.candidates_ok;
        if (ok && !m.tied && !u.tied) {
          c.measured_rounds++;
          const right = (d: Decision) => mean(d.best.map((i) => (ok[i] ? 1 : 0)));
          const pair = (d: Decision) => mean(d.best.flatMap((b) => d.worst.map((w) => (ok[b] && !ok[w] ? 1 : 0))));
          c.chosen_right.merged += right(m);
          c.chosen_right.unmerged += right(u);
          c.pair_right.merged += pair(m);
          c.pair_right.unmerged += pair(u);
        }
      }
    }
    rows.push(c);
  }
  if (!rows.length) {
    console.error(`${dir}: no iter-*/samples.jsonl (is it a PSRLM run directory?)`);
    process.exit(2);
  }
  if (json) {
    console.log(JSON.stringify(rows));
    return;
  }
  const f = (x: number, n: number) => (n ? `${((100 * x) / n).toFixed(1)}%` : '–');
  console.log(
    '| iteration | judged rounds | with duplicates | tie decision differs | best differs | worst differs | ' +
      'chosen right, merged / eq. 2 | pair right, merged / eq. 2 |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const c of rows) {
    const n = c.measured_rounds;
    console.log(
      `| ${c.iteration} | ${c.judged_rounds} | ${c.with_duplicates} | ${c.tie_decision_differs} | ${c.best_differs} ` +
        `| ${c.worst_differs} | ${f(c.chosen_right.merged, n)} / ${f(c.chosen_right.unmerged, n)} ` +
        `| ${f(c.pair_right.merged, n)} / ${f(c.pair_right.unmerged, n)} |`,
    );
  }
}

main();
